/*
 * Copyright (c) 2026 The OVS-vTAP authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#include <config.h>

#include "ovs-vsctl-tap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db-ctl-base.h"
#include "openvswitch/dynamic-string.h"
#include "hmapx.h"
#include "openvswitch/shash.h"
#include "ovsdb-idl.h"
#include "sset.h"
#include "util.h"
#include "lib/vswitch-idl.h"
#include "vtap/capi/vtap.h"

/* Every command here reads the bridge, its ports and its taps. */
static void
pre_tap(struct ctl_context *ctx)
{
    ovsdb_idl_add_column(ctx->idl, &ovsrec_open_vswitch_col_bridges);
    ovsdb_idl_add_column(ctx->idl, &ovsrec_bridge_col_name);
    ovsdb_idl_add_column(ctx->idl, &ovsrec_bridge_col_ports);
    ovsdb_idl_add_column(ctx->idl, &ovsrec_bridge_col_taps);
    ovsdb_idl_add_column(ctx->idl, &ovsrec_port_col_name);
    for (size_t i = 0; i < ovsrec_table_tap.n_columns; i++) {
        ovsdb_idl_add_column(ctx->idl, &ovsrec_table_tap.columns[i]);
    }
}

/* What the Tap commands know of the database during one ovs-vsctl run.
 *
 * Commands add and remove taps with partial updates of Bridge.taps, which
 * cost O(1) however many taps a bridge has (a bridge may have 10,000), but
 * which the IDL does not show to later commands of the same run.  This
 * cache does: it is built from the IDL on first use and kept up to date by
 * the commands.  A new transaction (ovs-vsctl retries a whole run when the
 * database changed under it) starts a new cache. */
struct tap_bridge {
    const struct ovsrec_bridge *br;
    struct shash taps;          /* Tap name -> struct ovsrec_tap *. */
    struct shash ports;         /* Port name -> struct ovsrec_port *. */
    struct hmapx ids;           /* Used ids, as (void *) (uintptr_t) id. */
    int64_t free_id_hint;       /* No id below this one is free. */
};

static struct {
    const struct ovsdb_idl_txn *txn;
    unsigned int seqno;
    struct shash bridges;       /* Bridge name -> struct tap_bridge *. */
} tap_cache = { .bridges = SHASH_INITIALIZER(&tap_cache.bridges) };

static void
tap_cache_clear(void)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &tap_cache.bridges) {
        struct tap_bridge *tb = node->data;

        shash_destroy(&tb->taps);
        shash_destroy(&tb->ports);
        hmapx_destroy(&tb->ids);
        free(tb);
    }
    shash_clear(&tap_cache.bridges);
}

static struct tap_bridge *
tap_find_bridge(struct ctl_context *ctx, const char *name)
{
    const struct ovsrec_bridge *br;
    struct tap_bridge *tb;

    if (tap_cache.txn != ctx->txn
        || tap_cache.seqno != ovsdb_idl_get_seqno(ctx->idl)) {
        tap_cache_clear();
        tap_cache.txn = ctx->txn;
        tap_cache.seqno = ovsdb_idl_get_seqno(ctx->idl);
    }

    tb = shash_find_data(&tap_cache.bridges, name);
    if (tb) {
        return tb;
    }
    OVSREC_BRIDGE_FOR_EACH (br, ctx->idl) {
        if (!strcmp(br->name, name)) {
            tb = xmalloc(sizeof *tb);
            tb->br = br;
            shash_init(&tb->taps);
            shash_init(&tb->ports);
            hmapx_init(&tb->ids);
            tb->free_id_hint = 1;
            for (size_t i = 0; i < br->n_taps; i++) {
                const struct ovsrec_tap *tap = br->taps[i];

                shash_add_once(&tb->taps, tap->name, tap);
                if (tap->n_id) {
                    hmapx_add(&tb->ids, (void *) (uintptr_t) *tap->id);
                }
            }
            for (size_t i = 0; i < br->n_ports; i++) {
                shash_add_once(&tb->ports, br->ports[i]->name,
                               br->ports[i]);
            }
            shash_add(&tap_cache.bridges, name, tb);
            return tb;
        }
    }
    ctl_error(ctx, "no bridge named %s", name);
    return NULL;
}

static bool
tap_id_is_used(const struct tap_bridge *tb, int64_t id)
{
    return hmapx_contains(&tb->ids, (void *) (uintptr_t) id);
}

/* Returns the name of the tap of 'tb' with 'id' (for error messages). */
static const char *
tap_name_by_id(const struct tap_bridge *tb, int64_t id)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &tb->taps) {
        const struct ovsrec_tap *tap = node->data;

        if (tap->n_id && *tap->id == id) {
            return tap->name;
        }
    }
    return "?";
}

/* Returns the port of 'tb' named 'name', or NULL after reporting an error
 * that names 'column'. */
static struct ovsrec_port *
tap_find_port(struct ctl_context *ctx, const struct tap_bridge *tb,
              const char *column, const char *name)
{
    struct ovsrec_port *port = shash_find_data(&tb->ports, name);

    if (!port) {
        ctl_error(ctx, "add-tap: %s: no port named %s on bridge %s",
                  column, name, tb->br->name);
    }
    return port;
}

/* Parses 'value', a comma-separated list of port names (optionally within
 * [ ]), into ports of 'tb'.  Returns false after reporting an error. */
static bool
tap_parse_ports(struct ctl_context *ctx, const struct tap_bridge *tb,
                const char *column, const char *value,
                struct ovsrec_port ***ports, size_t *n_ports)
{
    char *copy = xstrdup(value);
    char *s = copy, *save_ptr = NULL;
    size_t len = strlen(s);
    bool ok = true;

    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s[len - 1] = '\0';
        s++;
    }
    for (char *name = strtok_r(s, ", ", &save_ptr); name;
         name = strtok_r(NULL, ", ", &save_ptr)) {
        struct ovsrec_port *port = tap_find_port(ctx, tb, column, name);

        if (!port) {
            ok = false;
            break;
        }
        *ports = xrealloc(*ports, (*n_ports + 1) * sizeof **ports);
        (*ports)[(*n_ports)++] = port;
    }
    if (ok && !*n_ports) {
        ctl_error(ctx, "add-tap: %s: needs at least one port name", column);
        ok = false;
    }
    free(copy);
    return ok;
}

static bool
tap_ports_contain(struct ovsrec_port **ports, size_t n,
                  const struct ovsrec_port *port)
{
    for (size_t i = 0; i < n; i++) {
        if (ports[i] == port) {
            return true;
        }
    }
    return false;
}

/* Splits "COLUMN[:KEY]=VALUE" into its column name (returned, malloc'd, or
 * NULL if there is none) and '*valuep' (pointing into 'setting', or NULL if
 * there is no '='). */
static char *
tap_setting_column(const char *setting, const char **valuep)
{
    size_t n = strcspn(setting, ":=");
    const char *equals = strchr(setting, '=');

    *valuep = equals ? equals + 1 : NULL;
    return n ? xmemdup0(setting, n) : NULL;
}

/* Strips one level of double quotes, so that match="\"tcp,tp_dst=80\"" in
 * ovs-vsctl's usual quoting works as well as the shell's match="...". */
static char *
tap_unquote(const char *value)
{
    size_t len = strlen(value);

    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        return xmemdup0(value + 1, len - 2);
    }
    return xstrdup(value);
}

static void
cmd_add_tap(struct ctl_context *ctx)
{
    bool may_exist = shash_find(&ctx->options, "--may-exist") != NULL;
    const char *tap_name = ctx->argv[2];
    struct ovsrec_port **src = NULL, **dst = NULL;
    size_t n_src = 0, n_dst = 0;
    struct tap_bridge *tb;
    struct ovsrec_port *output;
    struct ovsrec_tap *tap;
    struct sset generic = SSET_INITIALIZER(&generic);
    struct sset seen = SSET_INITIALIZER(&seen);
    char *match = NULL;

    tb = tap_find_bridge(ctx, ctx->argv[1]);
    if (!tb) {
        return;
    }
    if (!tap_name[0]) {
        ctl_error(ctx, "add-tap: tap name must not be empty");
        return;
    }
    if (shash_find(&tb->taps, tap_name)) {
        if (!may_exist) {
            ctl_error(ctx, "add-tap: bridge %s already has a tap named %s",
                      tb->br->name, tap_name);
        }
        return;
    }
    output = tap_find_port(ctx, tb, "output port", ctx->argv[3]);
    if (!output) {
        return;
    }

    /* First the settings that need more than ovsdb's own checks: port
     * names, the match, and columns that are not the caller's to set. */
    for (int i = 4; i < ctx->argc; i++) {
        const char *setting = ctx->argv[i];
        const char *value;
        char *column = tap_setting_column(setting, &value);
        bool ok = true;

        if (!column) {
            ctl_error(ctx, "add-tap: %s: expected COLUMN[:KEY]=VALUE",
                      setting);
            goto out;
        }
        if (!sset_add(&seen, column) && strcmp(column, "external_ids")) {
            ctl_error(ctx, "add-tap: %s: given twice", column);
            ok = false;
        } else if (!strcmp(column, "name")) {
            ctl_error(ctx, "add-tap: name: the tap's name is the TAP "
                      "argument");
            ok = false;
        } else if (!strcmp(column, "output_port")) {
            ctl_error(ctx, "add-tap: output_port: the output port is the "
                      "OUTPUT argument");
            ok = false;
        } else if (!strcmp(column, "statistics")
                   || !strcmp(column, "status")) {
            ctl_error(ctx, "add-tap: %s: is written by ovs-vswitchd, not "
                      "by users", column);
            ok = false;
        } else if (!value) {
            ctl_error(ctx, "add-tap: %s: expected %s=VALUE", setting,
                      column);
            ok = false;
        } else if (!strcmp(column, "select_src_port")) {
            ok = tap_parse_ports(ctx, tb, column, value, &src, &n_src);
        } else if (!strcmp(column, "select_dst_port")) {
            ok = tap_parse_ports(ctx, tb, column, value, &dst, &n_dst);
        } else if (!strcmp(column, "match")) {
            struct vtap_match parsed;
            char *error;

            match = tap_unquote(value);
            error = vtap_match_parse(match, &parsed);
            if (error) {
                ctl_error(ctx, "add-tap: match: %s", error);
                free(error);
                ok = false;
            }
        } else {
            sset_add(&generic, setting);
        }
        free(column);
        if (!ok) {
            goto out;
        }
    }

    if (tap_ports_contain(src, n_src, output)
        || tap_ports_contain(dst, n_dst, output)) {
        ctl_error(ctx, "add-tap: output port %s is also a selected port "
                  "(a tap's output port carries only its copies)",
                  output->name);
        goto out;
    }

    tap = ovsrec_tap_insert(ctx->txn);
    ovsrec_tap_set_name(tap, tap_name);
    ovsrec_tap_set_output_port(tap, output);
    ovsrec_tap_set_select_src_port(tap, src, n_src);
    ovsrec_tap_set_select_dst_port(tap, dst, n_dst);
    if (match) {
        ovsrec_tap_set_match(tap, match);
    }

    /* Then everything else through ovsdb's parser, which checks types,
     * ranges and enumerations against the schema. */
    const char *setting;
    SSET_FOR_EACH (setting, &generic) {
        char *error = ctl_set_column("Tap", &tap->header_, setting,
                                     ctx->symtab);
        if (error) {
            ctl_error(ctx, "add-tap: %s", error);
            free(error);
            goto out;
        }
    }

    /* The id: unique on the bridge, the lowest free one if not given. */
    if (tap->n_id) {
        if (tap_id_is_used(tb, *tap->id)) {
            ctl_error(ctx, "add-tap: id: %"PRId64" is already used by tap "
                      "%s on bridge %s", *tap->id,
                      tap_name_by_id(tb, *tap->id), tb->br->name);
            goto out;
        }
    } else {
        int64_t id = tb->free_id_hint;

        while (tap_id_is_used(tb, id)) {
            id++;
        }
        tb->free_id_hint = id + 1;
        ovsrec_tap_set_id(tap, &id, 1);
    }

    hmapx_add(&tb->ids, (void *) (uintptr_t) *tap->id);
    shash_add(&tb->taps, tap_name, tap);
    ovsrec_bridge_update_taps_addvalue(tb->br, tap);

out:
    sset_destroy(&generic);
    sset_destroy(&seen);
    free(match);
    free(src);
    free(dst);
}

static void
cmd_del_tap(struct ctl_context *ctx)
{
    bool if_exists = shash_find(&ctx->options, "--if-exists") != NULL;
    struct tap_bridge *tb = tap_find_bridge(ctx, ctx->argv[1]);
    const struct ovsrec_tap *tap;

    if (!tb) {
        return;
    }
    tap = shash_find_and_delete(&tb->taps, ctx->argv[2]);
    if (!tap) {
        if (!if_exists) {
            ctl_error(ctx, "del-tap: bridge %s has no tap named %s",
                      tb->br->name, ctx->argv[2]);
        }
        return;
    }
    if (tap->n_id) {
        hmapx_find_and_delete(&tb->ids, (void *) (uintptr_t) *tap->id);
        tb->free_id_hint = MIN(tb->free_id_hint, *tap->id);
    }
    /* Tap rows are not root rows: removing the reference deletes the row. */
    ovsrec_bridge_update_taps_delvalue(tb->br, tap);
}

static void
cmd_list_taps(struct ctl_context *ctx)
{
    struct tap_bridge *tb = tap_find_bridge(ctx, ctx->argv[1]);

    if (tb) {
        const struct shash_node **nodes = shash_sort(&tb->taps);

        for (size_t i = 0; i < shash_count(&tb->taps); i++) {
            ds_put_format(&ctx->output, "%s\n", nodes[i]->name);
        }
        free(nodes);
    }
}

static const struct ctl_command_syntax vsctl_tap_commands[] = {
    {"add-tap", 3, INT_MAX, "BRIDGE TAP OUTPUT [COLUMN[:KEY]=VALUE]...",
     pre_tap, cmd_add_tap, NULL, "--may-exist", RW},
    {"del-tap", 2, 2, "BRIDGE TAP", pre_tap, cmd_del_tap, NULL,
     "--if-exists", RW},
    {"list-taps", 1, 1, "BRIDGE", pre_tap, cmd_list_taps, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};

void
vsctl_tap_register_commands(void)
{
    ctl_register_commands(vsctl_tap_commands);
}
