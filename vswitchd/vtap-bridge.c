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

#include "vtap-bridge.h"

#include <stdlib.h>

#include "hash.h"
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ofproto/ofproto.h"
#include "ofproto/ofproto-dpif-vtap.h"
#include "smap.h"
#include "svec.h"
#include "unixctl.h"
#include "util.h"
#include "lib/vswitch-idl.h"
#include "vtap/capi/vtap.h"

VLOG_DEFINE_THIS_MODULE(vtap_bridge);

/* What vtap/show and the statistics need to know of one Tap row, kept by
 * value because IDL rows may go away between two reconfigurations. */
struct vtap_bridge_tap {
    struct uuid uuid;           /* Tap row's UUID. */
    char *name;
    uint32_t id;                /* 0 if the row has none and got none. */
    char *error;                /* Why the row is not applied, or NULL. */
    char *backend;              /* "native", "ebpf", "dpdk" or "none". */
    char *reason;               /* Why this backend, or NULL. */
    char *selection;            /* e.g. "ingress vm1; egress vm2". */
    char *output;               /* Output port's name, or NULL. */
};

/* The taps of one bridge. */
struct vtap_bridge {
    struct hmap_node node;      /* In 'vtap_bridges', by 'ofproto'. */
    const struct ofproto *ofproto;
    char *name;                 /* Bridge name. */
    char *fingerprint;          /* Of the policy last set, or NULL. */

    struct vtap_bridge_tap *taps; /* One per Tap row, in name order. */
    size_t n_taps;

};

static struct hmap vtap_bridges = HMAP_INITIALIZER(&vtap_bridges);

static void vtap_bridge_unixctl_show(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);

void
vtap_bridge_init(struct ovsdb_idl *idl)
{
    /* ovs-vswitchd writes these; a write must not trigger a
     * reconfiguration. */
    ovsdb_idl_omit_alert(idl, &ovsrec_tap_col_statistics);
    ovsdb_idl_omit_alert(idl, &ovsrec_tap_col_status);
    ovsdb_idl_omit(idl, &ovsrec_tap_col_external_ids);

    unixctl_command_register("vtap/show", "[bridge]", 0, 1,
                             vtap_bridge_unixctl_show, NULL);
}

void
vtap_bridge_print_version(void)
{
    printf("OVS-vTAP %s\n", vtap_version());
}

static struct vtap_bridge *
vtap_bridge_find(const struct ofproto *ofproto)
{
    struct vtap_bridge *vb;

    HMAP_FOR_EACH_WITH_HASH (vb, node, hash_pointer(ofproto, 0),
                             &vtap_bridges) {
        if (vb->ofproto == ofproto) {
            return vb;
        }
    }
    return NULL;
}

/* Returns what 'ofproto''s bridge knows of the Tap row with 'uuid'. */
static const struct vtap_bridge_tap *
vtap_bridge_find_tap(const struct ofproto *ofproto, const struct uuid *uuid)
{
    const struct vtap_bridge *vb = vtap_bridge_find(ofproto);

    for (size_t i = 0; vb && i < vb->n_taps; i++) {
        if (uuid_equals(&vb->taps[i].uuid, uuid)) {
            return &vb->taps[i];
        }
    }
    return NULL;
}

static void
vtap_bridge_clear_taps(struct vtap_bridge *vb)
{
    for (size_t i = 0; i < vb->n_taps; i++) {
        struct vtap_bridge_tap *t = &vb->taps[i];

        free(t->name);
        free(t->error);
        free(t->backend);
        free(t->reason);
        free(t->selection);
        free(t->output);
    }
    free(vb->taps);
    vb->taps = NULL;
    vb->n_taps = 0;
}

/* Appends to 'ports' the OpenFlow port number of every interface of 'port'
 * that is on 'ofproto'.  Returns an error if 'port' has none there, which
 * is also how a Port of another bridge is caught. */
static char *
vtap_bridge_port_numbers(const struct ofproto *ofproto, const char *column,
                         const struct ovsrec_port *port,
                         uint32_t **ports, size_t *n_ports,
                         size_t *allocated)
{
    size_t n_found = 0;

    for (size_t i = 0; i < port->n_interfaces; i++) {
        struct ofproto_port ofproto_port;

        if (!ofproto_port_query_by_name(ofproto, port->interfaces[i]->name,
                                        &ofproto_port)) {
            if (*n_ports >= *allocated) {
                *ports = x2nrealloc(*ports, allocated, sizeof **ports);
            }
            (*ports)[(*n_ports)++] = ofp_to_u16(ofproto_port.ofp_port);
            ofproto_port_destroy(&ofproto_port);
            n_found++;
        }
    }
    return (n_found
            ? NULL
            : xasprintf("%s: port %s is not on this bridge or has no "
                        "interface in the datapath", column, port->name));
}

/* Collects the port numbers of 'ports' into '*numbers', and their names, in
 * 'selection' with 'label'. */
static char *
vtap_bridge_port_list(const struct ofproto *ofproto, const char *column,
                      struct ovsrec_port **ports, size_t n_ports,
                      uint32_t **numbers, size_t *n_numbers,
                      const char *label, struct ds *selection)
{
    size_t allocated = 0;

    *numbers = NULL;
    *n_numbers = 0;
    if (!n_ports) {
        return NULL;
    }

    struct svec names = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    for (size_t i = 0; i < n_ports && !error; i++) {
        error = vtap_bridge_port_numbers(ofproto, column, ports[i],
                                         numbers, n_numbers, &allocated);
        svec_add(&names, ports[i]->name);
    }
    if (!error) {
        char *joined;

        svec_sort(&names);
        joined = svec_join(&names, ",", "");
        ds_put_format(selection, "%s%s %s", selection->length ? "; " : "",
                      label, joined);
        free(joined);
    }
    svec_destroy(&names);
    return error;
}

/* Returns the lowest id in '*hint'..UINT32_MAX not in 'used', and moves
 * '*hint' past it: ids are handed out in increasing order within one
 * reconfiguration, so each search starts where the last one ended. */
static uint32_t
vtap_bridge_lowest_free_id(const struct hmapx *used, uint32_t *hint)
{
    for (uint32_t id = *hint; ; id++) {
        if (!hmapx_contains(used, (void *) (uintptr_t) id)) {
            *hint = id + 1;
            return id;
        }
    }
}

static void
vtap_bridge_fingerprint_ports(struct ds *fp, const uint32_t *ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ds_put_format(fp, "%"PRIu32",", ports[i]);
    }
    ds_put_char(fp, '|');
}

/* Appends to 'fp' everything of 'cfg' that the compiled policy depends on,
 * so that a reconfiguration that changes no tap (a port added elsewhere,
 * say) can leave the datapath's flows alone. */
static void
vtap_bridge_fingerprint(struct ds *fp, const struct vtap_tap_config *cfg)
{
    ds_put_format(fp, "%s|%"PRIu32"|%d|%d|%s|", cfg->name, cfg->id,
                  cfg->enabled, cfg->select_all, cfg->match ? cfg->match : "");
    vtap_bridge_fingerprint_ports(fp, cfg->src_ports, cfg->n_src_ports);
    vtap_bridge_fingerprint_ports(fp, cfg->dst_ports, cfg->n_dst_ports);
    vtap_bridge_fingerprint_ports(fp, cfg->output_ports, cfg->n_output_ports);
    ds_put_format(fp, "%"PRIu16"|%"PRIu32"|%"PRIu32"|%"PRIu32"|%d\n",
                  cfg->output_vlan, cfg->snaplen, cfg->sampling,
                  cfg->max_rate, (int) cfg->offload);
}

/* Validates Tap row 'row' and adds it to 'policy'.  Returns NULL on success,
 * otherwise the reason the row is not applied.  Fills in 't' either way. */
static char *
vtap_bridge_add_row(const struct ofproto *ofproto,
                    const struct ovsrec_tap *row, uint32_t id,
                    struct vtap_policy *policy, struct vtap_bridge_tap *t,
                    struct ds *fingerprint)
{
    uint32_t *src = NULL, *dst = NULL, *out = NULL;
    size_t n_src = 0, n_dst = 0, n_out = 0, allocated = 0;
    struct ds selection = DS_EMPTY_INITIALIZER;
    enum vtap_offload offload = VTAP_OFFLOAD_AUTO;
    char *error;

    if (row->select_all) {
        ds_put_cstr(&selection, "all ports");
    }
    error = vtap_bridge_port_list(ofproto, "select_src_port",
                                  row->select_src_port,
                                  row->n_select_src_port, &src, &n_src,
                                  "ingress", &selection);
    if (!error) {
        error = vtap_bridge_port_list(ofproto, "select_dst_port",
                                      row->select_dst_port,
                                      row->n_select_dst_port, &dst, &n_dst,
                                      "egress", &selection);
    }
    t->selection = ds_steal_cstr(&selection);
    t->output = row->output_port ? xstrdup(row->output_port->name) : NULL;

    if (!error && !row->output_port) {
        error = xstrdup("output_port: missing (a Tap needs an output port; "
                        "was its port deleted?)");
    }
    if (!error) {
        error = vtap_bridge_port_numbers(ofproto, "output_port",
                                         row->output_port, &out, &n_out,
                                         &allocated);
    }
    if (!error && row->offload
        && !vtap_offload_from_string(row->offload, &offload)) {
        error = xasprintf("offload: unknown mode \"%s\"", row->offload);
    }
    if (!error) {
        struct vtap_tap_config cfg = {
            .name = row->name,
            .id = id,
            /* A tap that insists on an offload this build lacks is kept,
             * so that its name and id stay taken, but makes no copies. */
            .enabled = ((row->n_enabled ? row->enabled[0] : true)
                        && offload != VTAP_OFFLOAD_EBPF
                        && offload != VTAP_OFFLOAD_DPDK),
            .select_all = row->select_all,
            .src_ports = src,
            .n_src_ports = n_src,
            .dst_ports = dst,
            .n_dst_ports = n_dst,
            .match = row->match,
            .output_ports = out,
            .n_output_ports = n_out,
            .output_vlan = row->n_output_vlan ? *row->output_vlan : 0,
            .snaplen = row->n_snaplen ? *row->snaplen : 0,
            .sampling = row->n_sampling ? *row->sampling : 0,
            .max_rate = row->n_max_rate ? *row->max_rate : 0,
            .offload = offload,
        };
        error = vtap_policy_add_tap(policy, &cfg);
        if (!error) {
            vtap_bridge_fingerprint(fingerprint, &cfg);
        }
    }

    /* Backends.  Copies are made natively by the OVS datapath; the eBPF
     * and DPDK offloads are not in this build yet, and a tap that insists
     * on one makes no copies rather than falling back silently. */
    if (error) {
        t->backend = xstrdup("none");
    } else if (offload == VTAP_OFFLOAD_EBPF || offload == VTAP_OFFLOAD_DPDK) {
        t->backend = xstrdup("none");
        t->reason = xasprintf("offload=%s is not available in this build; "
                              "the tap makes no copies",
                              vtap_offload_to_string(offload));
    } else {
        t->backend = xstrdup("native");
        if (offload == VTAP_OFFLOAD_AUTO) {
            t->reason = xstrdup("no offload available in this build");
        }
    }

    free(src);
    free(dst);
    free(out);
    return error;
}

/* qsort() comparison: Tap rows by name, then by UUID. */
static int
vtap_bridge_row_cmp(const void *a_, const void *b_)
{
    const struct ovsrec_tap *const *a = a_;
    const struct ovsrec_tap *const *b = b_;
    int cmp = strcmp((*a)->name, (*b)->name);

    return cmp ? cmp : uuid_compare_3way(&(*a)->header_.uuid,
                                         &(*b)->header_.uuid);
}

static void
vtap_bridge_write_status(const struct ovsrec_tap *row,
                         const struct vtap_bridge_tap *t)
{
    struct smap status = SMAP_INITIALIZER(&status);

    smap_add_format(&status, "id", "%"PRIu32, t->id);
    smap_add(&status, "backend", t->backend);
    if (t->reason) {
        smap_add(&status, "reason", t->reason);
    }
    if (t->error) {
        smap_add(&status, "error", t->error);
    }
    ovsrec_tap_set_status(row, &status);
    smap_destroy(&status);
}

void
vtap_bridge_configure(struct ofproto *ofproto,
                      const struct ovsrec_bridge *br_cfg)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);
    struct ds fingerprint = DS_EMPTY_INITIALIZER;
    struct vtap_policy *policy;
    uint32_t free_id_hint = 1;
    struct hmapx used_ids;

    if (!vb) {
        vb = xzalloc(sizeof *vb);
        vb->ofproto = ofproto;
        vb->name = xstrdup(br_cfg->name);
        hmap_insert(&vtap_bridges, &vb->node, hash_pointer(ofproto, 0));
    }

    vtap_bridge_clear_taps(vb);
    vb->taps = xcalloc(br_cfg->n_taps, sizeof *vb->taps);
    vb->n_taps = br_cfg->n_taps;

    /* Explicit ids first, so that an assigned id never takes one that a
     * later row asks for. */
    hmapx_init(&used_ids);
    for (size_t i = 0; i < br_cfg->n_taps; i++) {
        const struct ovsrec_tap *row = br_cfg->taps[i];

        if (row->n_id) {
            hmapx_add(&used_ids, (void *) (uintptr_t) *row->id);
        }
    }

    policy = vtap_policy_create();
    if (!policy) {
        VLOG_ERR("%s: out of memory loading taps", br_cfg->name);
        hmapx_destroy(&used_ids);
        return;
    }

    /* In name order, so that when two rows claim the same name or id, which
     * one wins does not depend on their UUIDs: the first by name does. */
    const struct ovsrec_tap **rows = xmemdup(br_cfg->taps,
                                             br_cfg->n_taps * sizeof *rows);
    qsort(rows, br_cfg->n_taps, sizeof *rows, vtap_bridge_row_cmp);
    for (size_t i = 0; i < br_cfg->n_taps; i++) {
        const struct ovsrec_tap *row = rows[i];
        struct vtap_bridge_tap *t = &vb->taps[i];
        uint32_t id;

        if (row->n_id) {
            id = *row->id;
        } else {
            /* The lowest free id.  ovs-vswitchd does not write configuration
             * columns (as with Interface ofport_request and ofport), so the
             * id it chose is reported in status:id. */
            id = vtap_bridge_lowest_free_id(&used_ids, &free_id_hint);
            hmapx_add(&used_ids, (void *) (uintptr_t) id);
        }

        t->uuid = row->header_.uuid;
        t->name = xstrdup(row->name);
        t->id = id;
        t->error = vtap_bridge_add_row(ofproto, row, id, policy, t,
                                       &fingerprint);
        if (t->error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "%s: tap %s not applied: %s",
                         br_cfg->name, row->name, t->error);
        }
        vtap_bridge_write_status(row, t);
    }
    hmapx_destroy(&used_ids);
    free(rows);

    /* The bridge's datapath backend owns the compiled policy from now on.
     * Setting it revalidates every datapath flow, so do it only when a tap
     * changed. */
    if (!vb->fingerprint || strcmp(vb->fingerprint, ds_cstr(&fingerprint))) {
        ofproto_vtap_set(ofproto, (vtap_policy_n_taps(policy)
                                   ? vtap_policy_compile(policy)
                                   : NULL));
        free(vb->fingerprint);
        vb->fingerprint = ds_steal_cstr(&fingerprint);
    }
    ds_destroy(&fingerprint);
    vtap_policy_destroy(policy);
}

/* Converts what the backend knows into Tap statistics: 'keys' and 'values'
 * get up to 4 entries.  Returns how many. */
static size_t
vtap_bridge_stats_columns(const struct ofproto_vtap_stats *stats,
                          const char *keys[4], int64_t values[4])
{
    size_t n = 0;

    if (stats->sampled) {
        /* The datapath does not count sampled copies, only what was
         * offered to sampling. */
        keys[n] = "selected_packets", values[n++] = stats->selected_packets;
        keys[n] = "selected_bytes", values[n++] = stats->selected_bytes;
    } else {
        keys[n] = "tx_packets";
        values[n++] = stats->selected_packets - MIN(stats->dropped_packets,
                                                    stats->selected_packets);
        keys[n] = "tx_bytes";
        values[n++] = stats->selected_bytes - MIN(stats->dropped_bytes,
                                                  stats->selected_bytes);
    }
    if (stats->rate_limited) {
        keys[n] = "tx_dropped", values[n++] = stats->dropped_packets;
    }
    return n;
}

void
vtap_bridge_refresh_stats(const struct ofproto *ofproto,
                          const struct ovsrec_bridge *br_cfg)
{
    for (size_t i = 0; i < br_cfg->n_taps; i++) {
        const struct ovsrec_tap *row = br_cfg->taps[i];
        const struct vtap_bridge_tap *t;
        struct ofproto_vtap_stats stats;

        /* Rows that were not applied get no statistics. */
        t = vtap_bridge_find_tap(ofproto, &row->header_.uuid);
        if (t && !t->error && ofproto_vtap_get_stats(ofproto, t->id, &stats)) {
            const char *keys[4];
            int64_t values[4];
            size_t n = vtap_bridge_stats_columns(&stats, keys, values);

            ovsrec_tap_set_statistics(row, keys, values, n);
        }
    }
}

void
vtap_bridge_destroy(const struct ofproto *ofproto)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);

    if (vb) {
        hmap_remove(&vtap_bridges, &vb->node);
        ofproto_vtap_remove(CONST_CAST(struct ofproto *, ofproto));
        vtap_bridge_clear_taps(vb);
        free(vb->fingerprint);
        free(vb->name);
        free(vb);
    }
}

static void
vtap_bridge_show_tap(struct ds *ds, const struct vtap_bridge *vb,
                     const struct vtap_bridge_tap *t)
{
    const struct vtap_classifier *classifier = ofproto_vtap_get(vb->ofproto);
    const struct vtap_tap_info *info = NULL;
    struct ofproto_vtap_stats stats;

    ds_put_format(ds, "  %s (id %"PRIu32"):", t->name, t->id);
    if (t->error) {
        ds_put_format(ds, " error: %s\n", t->error);
        return;
    }
    info = classifier ? vtap_classifier_find_id(classifier, t->id) : NULL;
    ds_put_format(ds, " backend %s%s\n", t->backend,
                  info && !info->enabled ? ", disabled" : "");
    if (t->reason) {
        ds_put_format(ds, "    reason: %s\n", t->reason);
    }
    ds_put_format(ds, "    select: %s\n",
                  t->selection[0] ? t->selection : "none (tap action only)");
    if (info) {
        ds_put_format(ds, "    match: %s\n",
                      info->match_string[0] ? info->match_string : "all");
        ds_put_format(ds, "    output: %s", t->output);
        if (info->output_vlan) {
            ds_put_format(ds, ", vlan %"PRIu16, info->output_vlan);
        }
        if (info->snaplen) {
            ds_put_format(ds, ", snaplen %"PRIu32, info->snaplen);
        }
        if (info->sampling > 1) {
            ds_put_format(ds, ", sampling 1/%"PRIu32, info->sampling);
        }
        if (info->max_rate) {
            ds_put_format(ds, ", max_rate %"PRIu32"/s", info->max_rate);
        }
        ds_put_format(ds, ", offload %s\n",
                      vtap_offload_to_string(info->offload));
    }
    if (ofproto_vtap_get_stats(vb->ofproto, t->id, &stats)) {
        const char *keys[4];
        int64_t values[4];
        size_t n = vtap_bridge_stats_columns(&stats, keys, values);

        ds_put_cstr(ds, "    stats:");
        for (size_t i = 0; i < n; i++) {
            ds_put_format(ds, " %s:%"PRId64, keys[i], values[i]);
        }
        ds_put_char(ds, '\n');
    }
}

static void
vtap_bridge_unixctl_show(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    const struct vtap_bridge **sorted;
    struct vtap_bridge *vb;
    size_t n = 0;
    bool found = false;

    /* Bridges in name order, for stable output. */
    sorted = xmalloc(hmap_count(&vtap_bridges) * sizeof *sorted + 1);
    HMAP_FOR_EACH (vb, node, &vtap_bridges) {
        size_t i = n++;

        while (i > 0 && strcmp(sorted[i - 1]->name, vb->name) > 0) {
            sorted[i] = sorted[i - 1];
            i--;
        }
        sorted[i] = vb;
    }

    for (size_t i = 0; i < n; i++) {
        const struct vtap_bridge *b = sorted[i];

        if (argc > 1 && strcmp(argv[1], b->name)) {
            continue;
        }
        found = true;
        uint64_t misses = ofproto_vtap_get_action_misses(b->ofproto);

        ds_put_format(&ds, "%s: %"PRIuSIZE" tap%s\n", b->name, b->n_taps,
                      b->n_taps == 1 ? "" : "s");
        if (misses) {
            ds_put_format(&ds, "  tap(id=N) actions that found no enabled "
                          "tap: %"PRIu64"\n", misses);
        }
        for (size_t j = 0; j < b->n_taps; j++) {
            vtap_bridge_show_tap(&ds, b, &b->taps[j]);
        }
    }
    free(sorted);

    if (argc > 1 && !found) {
        unixctl_command_reply_error(conn, "no such bridge");
    } else {
        unixctl_command_reply(conn, ds_cstr(&ds));
    }
    ds_destroy(&ds);
}
