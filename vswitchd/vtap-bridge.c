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
#include "vtap-bridge-private.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <net/if.h>
#include <stdlib.h>

#include "dirs.h"
#include "hash.h"
#include "hmapx.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ofproto/ofproto.h"
#include "ofproto/ofproto-dpif-vtap.h"
#include "openvswitch/poll-loop.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "userspace-tso.h"
#include "util.h"
#include "uuid.h"
#include "vtap-dpdk.h"
#include "vtap-send.h"
#include "lib/vswitch-idl.h"
#include "vtap/capi/vtap.h"

VLOG_DEFINE_THIS_MODULE(vtap_bridge);

struct hmap vtap_bridges = HMAP_INITIALIZER(&vtap_bridges);
static uint32_t vtap_bridge_next_serial = 1;
static uint64_t vtap_bridge_next_owner = 1;

struct vtap_engine *vtap_engine;

/* What the engine has to say, in this module's log. */
static void
vtap_bridge_engine_log(bool warning, const char *message)
{
    if (warning) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%s", message);
    } else {
        VLOG_INFO("%s", message);
    }
}

void
vtap_bridge_init(struct ovsdb_idl *idl)
{
    /* ovs-vswitchd writes these; a write must not trigger a
     * reconfiguration. */
    ovsdb_idl_omit_alert(idl, &ovsrec_tap_col_statistics);
    ovsdb_idl_omit_alert(idl, &ovsrec_tap_col_status);
    ovsdb_idl_omit(idl, &ovsrec_tap_col_external_ids);

    vtap_unixctl_register();

    /* It removes what an earlier ovs-vswitchd of this run directory left
     * in bpffs (a crash, a kill -9); the taps are offloaded afresh as they
     * are configured. */
    vtap_engine = vtap_engine_create(ovs_rundir(),
                                     getenv("OVS_VTAP_TC_ATTACH"),
                                     vtap_bridge_engine_log);
    if (!vtap_engine) {
        out_of_memory();
    }
}

void
vtap_bridge_print_version(void)
{
    printf("OVS-vTAP %s\n", vtap_version());
}

struct vtap_bridge *
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

const struct vtap_bridge_tap *
vtap_bridge_find_tap(const struct vtap_bridge *vb, const struct uuid *uuid)
{
    const struct vtap_bridge_tap *t;

    HMAP_FOR_EACH_WITH_HASH (t, uuid_node, uuid_hash(uuid),
                             &vb->taps_by_uuid) {
        if (uuid_equals(&t->uuid, uuid)) {
            return t;
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
        free(t->reason);
        free(t->selection);
        free(t->output);
        free(t->copy_error);
    }
    free(vb->taps);
    vb->taps = NULL;
    vb->n_taps = 0;
    hmap_destroy(&vb->taps_by_uuid);
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

/* One Tap row, loaded: its configuration in the form the vtap module takes,
 * owning the arrays it points to. */
struct vtap_bridge_row {
    const struct ovsrec_tap *row;
    const struct vtap_bridge_tap *old; /* What the last configuration had
                                        * applied of it, or NULL. */
    bool established;           /* Applied before with its name and id. */
    uint32_t established_id;    /* If 'established', that id. */
    struct vtap_tap_config cfg;
    uint32_t *src, *dst, *out;
    size_t policy_index;        /* In the policy, SIZE_MAX if not valid. */
};

static void
vtap_bridge_row_destroy(struct vtap_bridge_row *r)
{
    free(r->src);
    free(r->dst);
    free(r->out);
}

/* Loads Tap row 'r->row' into 'r'.  Returns NULL on success, otherwise the
 * reason the row is not applied.  Fills in 't' either way. */
static char *
vtap_bridge_load_row(const struct ofproto *ofproto, uint32_t id,
                     uint64_t owner, struct vtap_bridge_row *r,
                     struct vtap_bridge_tap *t)
{
    const struct ovsrec_tap *row = r->row;
    size_t n_src = 0, n_dst = 0, n_out = 0, allocated = 0;
    struct ds selection = DS_EMPTY_INITIALIZER;
    enum vtap_offload offload = VTAP_OFFLOAD_AUTO;
    char *error;

    if (row->select_all) {
        ds_put_cstr(&selection, "all ports");
    }
    error = vtap_bridge_port_list(ofproto, "select_src_port",
                                  row->select_src_port,
                                  row->n_select_src_port, &r->src, &n_src,
                                  "ingress", &selection);
    if (!error) {
        error = vtap_bridge_port_list(ofproto, "select_dst_port",
                                      row->select_dst_port,
                                      row->n_select_dst_port, &r->dst,
                                      &n_dst, "egress", &selection);
    }
    t->selection = ds_steal_cstr(&selection);
    t->output = row->output_port ? xstrdup(row->output_port->name) : NULL;

    if (!error && !row->output_port) {
        error = xstrdup("output_port: missing (a Tap needs an output port; "
                        "was its port deleted?)");
    }
    if (!error) {
        error = vtap_bridge_port_numbers(ofproto, "output_port",
                                         row->output_port, &r->out, &n_out,
                                         &allocated);
    }
    if (!error && row->offload
        && !vtap_offload_from_string(row->offload, &offload)) {
        error = xasprintf("offload: unknown mode \"%s\"", row->offload);
    }
    r->cfg = (struct vtap_tap_config) {
        .name = row->name,
        .id = id,
        .owner = owner,
        .enabled = row->n_enabled ? row->enabled[0] : true,
        .select_all = row->select_all,
        .src_ports = r->src,
        .n_src_ports = n_src,
        .dst_ports = r->dst,
        .n_dst_ports = n_dst,
        .match = row->match,
        .output_ports = r->out,
        .n_output_ports = n_out,
        .offload = offload,
    };
    /* The schema bounds each one to what its member holds. */
#define VTAP_BRIDGE_LOAD_SETTING(NAME) \
    r->cfg.NAME = row->n_##NAME ? *row->NAME : 0;
    VTAP_DELIVERY_SETTINGS(VTAP_BRIDGE_LOAD_SETTING)
#undef VTAP_BRIDGE_LOAD_SETTING
    t->sampled = r->cfg.sampling > 1;
    t->rate_limited = r->cfg.max_rate != 0;
    return error;
}

/* Returns what an interface of 'type' is to the offloads, on a bridge whose
 * datapath is of 'datapath_type'. */
static enum vtap_port_kind
vtap_bridge_port_kind(const char *datapath_type, const char *type)
{
    bool userspace = !strcmp(ofproto_normalize_type(datapath_type), "netdev");

    if (!type[0] || !strcmp(type, "system")) {
        return VTAP_PORT_KERNEL;
    } else if (!strcmp(type, "internal")) {
        /* On either datapath, what the host sends on an internal port is
         * what the switch receives from it. */
        return VTAP_PORT_KERNEL_TAP;
    } else if (!strcmp(type, "tap")) {
        /* The userspace datapath reads and writes the tap device itself; the
         * kernel datapath attaches it like any device, and whoever holds its
         * file descriptor (a VM) is on the other side. */
        return userspace ? VTAP_PORT_KERNEL_TAP : VTAP_PORT_KERNEL;
    } else if (vtap_dpdk_type_is_dpdk(type)) {
        return VTAP_PORT_DPDK;
    }
    return VTAP_PORT_OTHER;
}

/* Describes every interface of 'br_cfg' that is on 'ofproto', for the
 * offload planner.  The strings point into the IDL rows. */
static struct vtap_port_info *
vtap_bridge_plan_ports(const struct ofproto *ofproto,
                       const struct ovsrec_bridge *br_cfg, size_t *n_ports)
{
    struct vtap_port_info *ports = NULL;
    size_t n = 0, allocated = 0;

    for (size_t i = 0; i < br_cfg->n_ports; i++) {
        const struct ovsrec_port *port = br_cfg->ports[i];

        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            struct ofproto_port ofproto_port;

            if (ofproto_port_query_by_name(ofproto, iface->name,
                                           &ofproto_port)) {
                continue;
            }
            if (n >= allocated) {
                ports = x2nrealloc(ports, &allocated, sizeof *ports);
            }

            enum vtap_port_kind kind
                = vtap_bridge_port_kind(br_cfg->datapath_type, iface->type);
            ports[n++] = (struct vtap_port_info) {
                .port = ofp_to_u16(ofproto_port.ofp_port),
                .port_name = port->name,
                .name = iface->name,
                .type = iface->type,
                .kind = kind,
                .ifindex = (kind == VTAP_PORT_KERNEL
                            || kind == VTAP_PORT_KERNEL_TAP
                            ? if_nametoindex(iface->name) : 0),
            };
            ofproto_port_destroy(&ofproto_port);
        }
    }
    *n_ports = n;
    return ports;
}

/* Returns true if row 'r->row' was applied with its current name and id
 * before this reconfiguration, and then stores that id in '*id'. */
static bool
vtap_bridge_row_established(const struct vtap_bridge_row *r, uint32_t *id)
{
    const struct ovsrec_tap *row = r->row;
    unsigned int had;

    if (r->old) {
        if (r->old->error || strcmp(r->old->name, row->name)) {
            return false;
        }
        had = r->old->id;
    } else {
        /* A row this process has not applied yet: if it just started, the
         * status that the ovs-vswitchd before it wrote tells what the row
         * had, so that a restart does not hand an established tap's id to
         * a row that asks for it. */
        const char *s = smap_get(&row->status, "id");

        if (!s || smap_get(&row->status, "error")
            || !str_to_uint(s, 10, &had) || !had) {
            return false;
        }
    }
    if (row->n_id && *row->id != had) {
        return false;
    }
    *id = had;
    return true;
}

/* qsort() comparison of rows: the ones established with their name and id
 * first, so that a row that another client adds with a name or id already
 * in use gets the error, not the tap that had it; then by name, so that
 * which of two new rows wins does not depend on their UUIDs; then by
 * UUID. */
static int
vtap_bridge_row_cmp(const void *a_, const void *b_)
{
    const struct vtap_bridge_row *a = a_;
    const struct vtap_bridge_row *b = b_;
    int cmp = (b->established - a->established);

    if (!cmp) {
        cmp = strcmp(a->row->name, b->row->name);
    }
    return cmp ? cmp : uuid_compare_3way(&a->row->header_.uuid,
                                         &b->row->header_.uuid);
}

void
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
    } else {
        smap_add(&status, "path", vtap_copy_path_to_string(t->path));
        smap_add(&status, "counts",
                 t->counts_selected ? "selected" : "delivered");
    }
    if (t->copy_error) {
        smap_add(&status, "copy_error", t->copy_error);
    }
    ovsrec_tap_set_status(row, &status);
    smap_destroy(&status);
}

/* A reconfiguration whose taps could not be compiled (memory ran out) is
 * tried again after this long; meanwhile the taps in effect before it stay
 * in effect. */
#define VTAP_BRIDGE_RETRY_MS 1000
static long long int vtap_bridge_retry_at = LLONG_MAX;

void
vtap_bridge_replan(void)
{
    vtap_bridge_retry_at = time_msec();
    poll_immediate_wake();
}

/* Test hook: the next 'vtap_bridge_fail_compiles' compilations fail. */
static unsigned int vtap_bridge_fail_compiles;


void
vtap_bridge_fail_next_compiles(unsigned int count)
{
    vtap_bridge_fail_compiles = count;
}

/* Gives 'ofproto' 'classifier', the native policy that the engine
 * compiled, which it takes.  Returns false if there is none (it could not
 * be compiled). */
static bool
vtap_bridge_set_native(struct ofproto *ofproto,
                       struct vtap_classifier *classifier)
{
    if (vtap_bridge_fail_compiles) {
        vtap_bridge_fail_compiles--;
        vtap_classifier_destroy(classifier);
        classifier = NULL;
    }
    if (!classifier) {
        return false;
    }

    /* Setting a policy revalidates every datapath flow, so do it only when a
     * tap changed. */
    if (vtap_classifier_equal(ofproto_vtap_get(ofproto), classifier)) {
        vtap_classifier_destroy(classifier);
    } else if (!vtap_classifier_n_taps(classifier)) {
        vtap_classifier_destroy(classifier);
        ofproto_vtap_set(ofproto, NULL);
    } else {
        ofproto_vtap_set(ofproto, classifier);
    }
    return true;
}

/* A change of thousands of taps comes in one OVSDB update, and its status
 * goes back in one transaction, as do the first statistics of those taps a
 * few seconds later: parsing and building them, the server's echo of the
 * writes, and the old configuration's structures, leave megabytes of freed
 * memory that glibc keeps in the middle of its heaps.  When the number of a
 * bridge's taps changes by at least VTAP_BRIDGE_TRIM_TAPS, or a refresh
 * writes the statistics of that many, that memory goes back to the system
 * a second later, once the transaction is done. */
#define VTAP_BRIDGE_TRIM_TAPS 1000
#define VTAP_BRIDGE_TRIM_DELAY_MS 1000
static long long int vtap_bridge_trim_at = LLONG_MAX;

void
vtap_bridge_schedule_trim(size_t n_old, size_t n_new)
{
    if ((n_old > n_new ? n_old - n_new : n_new - n_old)
        >= VTAP_BRIDGE_TRIM_TAPS) {
        vtap_bridge_trim_at = time_msec() + VTAP_BRIDGE_TRIM_DELAY_MS;
    }
}

static void
vtap_bridge_trim_run(void)
{
    if (time_msec() >= vtap_bridge_trim_at) {
        vtap_bridge_trim_at = LLONG_MAX;
#ifdef __GLIBC__
        malloc_trim(0);
        VLOG_DBG("returned freed memory to the system");
#endif
    }
}

void
vtap_bridge_configure(struct ofproto *ofproto,
                      const struct ovsrec_bridge *br_cfg)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);
    size_t n = br_cfg->n_taps;

    if (!vb) {
        vb = xzalloc(sizeof *vb);
        vb->ofproto = ofproto;
        vb->serial = vtap_bridge_next_serial++;
        vb->name = xstrdup(br_cfg->name);
        hmap_init(&vb->taps_by_uuid);
        hmap_insert(&vtap_bridges, &vb->node, hash_pointer(ofproto, 0));
    }

    /* What the last configuration applied stays readable until the end. */
    struct vtap_bridge old = { .taps = vb->taps, .n_taps = vb->n_taps };
    hmap_init(&old.taps_by_uuid);
    hmap_swap(&old.taps_by_uuid, &vb->taps_by_uuid);
    vb->taps = xcalloc(n, sizeof *vb->taps);
    vb->n_taps = n;

    /* 1. Rows established with their name and id first.  A row keeps the
     *    id it had, whether it was given or assigned; then the ids that new
     *    rows ask for are taken; then new rows without one get the lowest
     *    free ones. */
    struct vtap_bridge_row *rows = xcalloc(n + 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        struct vtap_bridge_row *r = &rows[i];

        r->row = br_cfg->taps[i];
        r->old = vtap_bridge_find_tap(&old, &r->row->header_.uuid);
        r->established = vtap_bridge_row_established(r, &r->established_id);
        r->policy_index = SIZE_MAX;
    }
    qsort(rows, n, sizeof *rows, vtap_bridge_row_cmp);

    struct hmapx used_ids = HMAPX_INITIALIZER(&used_ids);
    for (size_t i = 0; i < n; i++) {
        struct vtap_bridge_row *r = &rows[i];

        if (r->row->n_id || r->established) {
            uint32_t id = r->row->n_id ? *r->row->id : r->established_id;
            hmapx_add(&used_ids, (void *) (uintptr_t) id);
        }
    }

    /* 2. Load and validate every row, in that order: a row that asks for a
     *    name or id in use by an earlier one gets the error. */
    struct vtap_policy *policy = vtap_policy_create();
    uint32_t free_id_hint = 1;
    for (size_t i = 0; i < n; i++) {
        struct vtap_bridge_row *r = &rows[i];
        struct vtap_bridge_tap *t = &vb->taps[i];
        uint32_t id;

        if (r->row->n_id) {
            id = *r->row->id;
        } else if (r->established) {
            id = r->established_id;
        } else {
            /* The lowest free id.  ovs-vswitchd does not write configuration
             * columns (as with Interface ofport_request and ofport), so the
             * id it chose is reported in status:id. */
            id = vtap_bridge_lowest_free_id(&used_ids, &free_id_hint);
            hmapx_add(&used_ids, (void *) (uintptr_t) id);
        }

        t->uuid = r->row->header_.uuid;
        t->name = xstrdup(r->row->name);
        t->id = id;
        /* Counters and rate-limit state belong to the row: they survive its
         * changes, and a new row starts afresh even with an old name and
         * id. */
        t->owner = r->old ? r->old->owner : vtap_bridge_next_owner++;
        if (r->old) {
            t->copy_error = nullable_xstrdup(r->old->copy_error);
            t->last_tx_packets = r->old->last_tx_packets;
            t->last_tx_errors = r->old->last_tx_errors;
        } else {
            t->last_tx_packets = t->last_tx_errors = -1;
        }
        hmap_insert(&vb->taps_by_uuid, &t->uuid_node, uuid_hash(&t->uuid));

        t->error = vtap_bridge_load_row(ofproto, id, t->owner, r, t);
        if (!t->error) {
            t->error = (policy
                        ? vtap_policy_add_tap(policy, &r->cfg)
                        : xstrdup("out of memory"));
        }
        if (t->error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "%s: tap %s not applied: %s",
                         br_cfg->name, r->row->name, t->error);
        } else {
            r->policy_index = vtap_policy_n_taps(policy) - 1;
        }
    }
    hmapx_destroy(&used_ids);

    /* A row that was applied and is not any more keeps, as its statistics,
     * what its tap counted until now, before its counters go with the
     * configuration: the copies its monitor got. */
    for (size_t i = 0; i < n; i++) {
        const struct vtap_bridge_row *r = &rows[i];

        if (vb->taps[i].error && r->old && !r->old->error) {
            vtap_stats_write(vb, r->old, r->row);
        }
    }

    /* 3. Plan which backend makes each tap's copies, and apply the plan. */
    size_t n_ports;
    struct vtap_port_info *ports = vtap_bridge_plan_ports(ofproto, br_cfg,
                                                          &n_ports);
    const char *dpdk_unavailable = vtap_dpdk_unavailable();
    if (!dpdk_unavailable && strcmp(br_cfg->datapath_type, "netdev")) {
        dpdk_unavailable = "the bridge's datapath_type is not netdev (the "
                           "DPDK clone path is the userspace datapath's)";
    }
    struct vtap_plan_env env = {
        .ports = ports,
        .n_ports = n_ports,
        .dpdk_unavailable = dpdk_unavailable,
        .copy_action = ofproto_vtap_has_copy_action(ofproto),
        .userspace_tso = userspace_tso_enabled(),
        .no_socket_send = !vtap_send_enabled(),
    };
    struct vtap_classifier *classifier = NULL;
    char *plan_error = NULL;
    struct vtap_plan *plan = (policy
                              ? vtap_engine_apply(vtap_engine, vb->serial,
                                                  policy, &env, &classifier,
                                                  &plan_error)
                              : NULL);
    free(ports);

    bool applied = plan && vtap_bridge_set_native(ofproto, classifier);
    if (!applied) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%s: taps not applied (%s), trying again in "
                     "%d ms", br_cfg->name,
                     plan_error ? plan_error : "out of memory",
                     VTAP_BRIDGE_RETRY_MS);
        vtap_bridge_retry_at = time_msec() + VTAP_BRIDGE_RETRY_MS;
    }

    /* 4. Every row's status. */
    for (size_t i = 0; i < n; i++) {
        struct vtap_bridge_row *r = &rows[i];
        struct vtap_bridge_tap *t = &vb->taps[i];

        if (!t->error && !applied) {
            t->error = xasprintf("not applied: %s; trying again (the taps "
                                 "in effect before stay in effect)",
                                 plan_error ? plan_error : "out of memory");
        }
        if (t->error) {
            t->backend = vtap_backend_to_string(VTAP_BACKEND_NONE);
        } else {
            const char *reason = vtap_plan_reason(plan, r->policy_index);
            enum vtap_backend backend = vtap_plan_backend(plan,
                                                          r->policy_index);

            t->backend = vtap_backend_to_string(backend);
            t->reason = nullable_xstrdup(reason);
            t->offloaded = backend == VTAP_BACKEND_EBPF;
            t->path = vtap_plan_path(plan, r->policy_index);
            t->counts_selected = t->path == VTAP_PATH_SAMPLE;
        }
        vtap_bridge_write_status(r->row, t);
        vtap_bridge_row_destroy(r);
    }
    free(rows);
    free(plan_error);
    vtap_plan_destroy(plan);
    vtap_policy_destroy(policy);
    size_t n_old = old.n_taps;
    vtap_bridge_clear_taps(&old);
    vtap_bridge_schedule_trim(n_old, n);
}

void
vtap_bridge_refresh_stats(const struct ofproto *ofproto,
                          const struct ovsrec_bridge *br_cfg)
{
    vtap_stats_refresh(ofproto, br_cfg);
}

/* Open_vSwitch's cur_cfg, held back while a tap change is not yet in effect
 * in every cached datapath flow. */
static bool vtap_bridge_cur_cfg_held;
static int64_t vtap_bridge_held_cur_cfg;

void
vtap_bridge_set_cur_cfg(const struct ovsrec_open_vswitch *cfg)
{
    if (ofproto_vtap_synced()) {
        ovsrec_open_vswitch_set_cur_cfg(cfg, cfg->next_cfg);
        vtap_bridge_cur_cfg_held = false;
    } else {
        vtap_bridge_held_cur_cfg = cfg->next_cfg;
        vtap_bridge_cur_cfg_held = true;
    }
}

/* Configures again, in a transaction of its own, the taps of every bridge,
 * after a reconfiguration could not apply them. */
static void
vtap_bridge_retry(struct ovsdb_idl *idl)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    const struct ovsrec_bridge *br_cfg;

    vtap_bridge_retry_at = LLONG_MAX;
    OVSREC_BRIDGE_FOR_EACH (br_cfg, idl) {
        struct vtap_bridge *vb;

        HMAP_FOR_EACH (vb, node, &vtap_bridges) {
            if (!strcmp(vb->name, br_cfg->name)) {
                vtap_bridge_configure(CONST_CAST(struct ofproto *,
                                                 vb->ofproto), br_cfg);
                break;
            }
        }
    }
    ovsdb_idl_txn_commit(txn);
    ovsdb_idl_txn_destroy(txn);
}

void
vtap_bridge_run(struct ovsdb_idl *idl)
{
    if (time_msec() >= vtap_bridge_retry_at) {
        vtap_bridge_retry(idl);
    }
    vtap_bridge_trim_run();
    if (vtap_bridge_cur_cfg_held && ofproto_vtap_synced()) {
        const struct ovsrec_open_vswitch *cfg = ovsrec_open_vswitch_first(idl);

        if (cfg) {
            /* Like bridge_run()'s own transaction that sets cur_cfg, fire and
             * forget: a later reconfiguration writes it again. */
            struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);

            ovsrec_open_vswitch_set_cur_cfg(cfg, vtap_bridge_held_cur_cfg);
            ovsdb_idl_txn_commit(txn);
            ovsdb_idl_txn_destroy(txn);
        }
        vtap_bridge_cur_cfg_held = false;
    }
}

void
vtap_bridge_wait(void)
{
    if (vtap_bridge_retry_at != LLONG_MAX) {
        poll_timer_wait_until(vtap_bridge_retry_at);
    }
    if (vtap_bridge_trim_at != LLONG_MAX) {
        poll_timer_wait_until(vtap_bridge_trim_at);
    }
    if (vtap_bridge_cur_cfg_held) {
        ofproto_vtap_sync_wait();
    }
}

void
vtap_bridge_destroy(const struct ofproto *ofproto)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);

    if (vb) {
        hmap_remove(&vtap_bridges, &vb->node);
        ofproto_vtap_remove(CONST_CAST(struct ofproto *, ofproto));
        /* Detach the bridge's offloaded taps; with the last bridge's, the
         * backend unloads and unpins everything. */
        vtap_engine_remove_group(vtap_engine, vb->serial);
        vtap_bridge_clear_taps(vb);
        free(vb->name);
        free(vb);
    }
}

