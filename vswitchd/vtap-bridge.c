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

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <net/if.h>
#include <stdlib.h>

#include "dirs.h"
#include "hash.h"
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ofproto/ofproto.h"
#include "ofproto/ofproto-dpif-vtap.h"
#include "openvswitch/poll-loop.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "uuid.h"
#include "vtap-dpdk.h"
#include "vtap-exec.h"
#include "vtap-odp.h"
#include "vtap-send.h"
#include "lib/vswitch-idl.h"
#include "vtap/capi/vtap.h"

VLOG_DEFINE_THIS_MODULE(vtap_bridge);

/* What vtap/show and the statistics need to know of one Tap row, kept by
 * value because IDL rows may go away between two reconfigurations. */
struct vtap_bridge_tap {
    struct hmap_node uuid_node; /* In vtap_bridge's 'taps_by_uuid'. */
    struct uuid uuid;           /* Tap row's UUID. */
    char *name;
    uint32_t id;                /* 0 if the row has none and got none. */
    uint64_t owner;             /* Unique to the row in this process. */
    char *error;                /* Why the row is not applied, or NULL. */
    char *backend;              /* "native", "ebpf", "dpdk" or "none". */
    char *reason;               /* Why this backend, or NULL. */
    char *selection;            /* e.g. "ingress vm1; egress vm2". */
    char *output;               /* Output port's name, or NULL. */
    bool offloaded;             /* Copies made by the eBPF backend. */
    bool sampled;               /* sampling > 1. */
    bool rate_limited;          /* max_rate set. */
    bool counts_selected;       /* The copies' path counts what the tap
                                 * selects, not what reaches the monitor
                                 * (a sample() of the kernel datapath). */

    /* Whether the copies reach the monitor's port, from the statistics of
     * the last refresh. */
    char *copy_error;           /* Why they fail, or NULL. */
    int64_t last_tx_packets;    /* At the last refresh, -1 before. */
    int64_t last_tx_errors;
};

/* The taps of one bridge. */
struct vtap_bridge {
    struct hmap_node node;      /* In 'vtap_bridges', by 'ofproto'. */
    const struct ofproto *ofproto;
    uint32_t serial;            /* Unique in this process: eBPF group. */
    char *name;                 /* Bridge name. */

    struct vtap_bridge_tap *taps; /* One per Tap row: established rows
                                   * first, each part in name order. */
    size_t n_taps;
    struct hmap taps_by_uuid;   /* Contains "struct vtap_bridge_tap"s. */
};

static struct hmap vtap_bridges = HMAP_INITIALIZER(&vtap_bridges);
static uint32_t vtap_bridge_next_serial = 1;
static uint64_t vtap_bridge_next_owner = 1;

/* The eBPF backend, shared by all bridges: created when a first tap is
 * offloaded, destroyed (everything detached and unpinned) when the last one
 * goes. */
static struct vtap_ebpf *vtap_ebpf;
static char *vtap_ebpf_pin_dir_;

static void vtap_bridge_unixctl_show(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);
static void vtap_bridge_unixctl_dpdk_pool(struct unixctl_conn *, int argc,
                                          const char *argv[], void *aux);
static void vtap_bridge_put_dpdk_pool(struct ds *, bool say_none);
static void vtap_bridge_unixctl_fail_compile(struct unixctl_conn *,
                                             int argc, const char *argv[],
                                             void *aux);
static void vtap_bridge_unixctl_native_send(struct unixctl_conn *,
                                            int argc, const char *argv[],
                                            void *aux);
static void vtap_bridge_unixctl_copy_action(struct unixctl_conn *,
                                            int argc, const char *argv[],
                                            void *aux);
static bool vtap_bridge_write_stats(const struct vtap_bridge *,
                                    const struct vtap_bridge_tap *,
                                    const struct ovsrec_tap *);

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
    unixctl_command_register("vtap/dpdk-pool", "", 0, 0,
                             vtap_bridge_unixctl_dpdk_pool, NULL);
    unixctl_command_register("vtap/test-fail-compile", "count", 1, 1,
                             vtap_bridge_unixctl_fail_compile, NULL);
    unixctl_command_register("vtap/native-send", "[on|off]", 0, 1,
                             vtap_bridge_unixctl_native_send, NULL);
    unixctl_command_register("vtap/copy-action", "[on|off]", 0, 1,
                                 vtap_bridge_unixctl_copy_action, NULL);

    /* What an earlier ovs-vswitchd of this run directory left in bpffs (a
     * crash, a kill -9) is removed; the taps are offloaded afresh as they
     * are configured. */
    vtap_ebpf_pin_dir_ = vtap_ebpf_pin_dir(ovs_rundir());
    char *error = vtap_ebpf_remove_stale(vtap_ebpf_pin_dir_);
    if (error) {
        VLOG_WARN("removing eBPF objects of an earlier run: %s", error);
        free(error);
    }
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

/* Returns what 'vb' knows of the Tap row with 'uuid', or NULL. */
static const struct vtap_bridge_tap *
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
        free(t->backend);
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
        .output_vlan = row->n_output_vlan ? *row->output_vlan : 0,
        .snaplen = row->n_snaplen ? *row->snaplen : 0,
        .sampling = row->n_sampling ? *row->sampling : 0,
        .max_rate = row->n_max_rate ? *row->max_rate : 0,
        .offload = offload,
    };
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
    } else if (!strcmp(type, "dpdk") || !strcmp(type, "dpdkvhostuser")
               || !strcmp(type, "dpdkvhostuserclient")) {
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

/* Applies the taps that 'plan' offloads to the eBPF backend, as the
 * bridge's group, creating the backend first if need be, and tells 'plan'
 * which ones the backend refused.  With a null 'plan', removes the
 * bridge's group. */
static void
vtap_bridge_offload(const struct vtap_bridge *vb, struct vtap_plan *plan)
{
    const struct vtap_ebpf_tap *taps = NULL;
    const size_t *index = NULL;
    size_t n = plan ? vtap_plan_ebpf_taps(plan, &taps, &index) : 0;

    if (n && !vtap_ebpf) {
        const char *mode = getenv("OVS_VTAP_TC_ATTACH");
        char *error;

        vtap_ebpf = vtap_ebpf_create(vtap_ebpf_pin_dir_, mode, &error);
        if (!vtap_ebpf) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            char *reason = xasprintf("eBPF backend: %s", error);

            VLOG_WARN_RL(&rl, "%s", reason);
            for (size_t j = 0; j < n; j++) {
                vtap_plan_refuse(plan, index[j], reason);
            }
            free(reason);
            free(error);
            return;
        }
        VLOG_INFO("eBPF backend loaded, pinned in %s", vtap_ebpf_pin_dir_);
    }
    if (vtap_ebpf) {
        char **reasons = xcalloc(n + 1, sizeof *reasons);

        vtap_ebpf_set_group(vtap_ebpf, vb->serial, taps, n, reasons);
        for (size_t j = 0; j < n; j++) {
            if (reasons[j]) {
                vtap_plan_refuse(plan, index[j], reasons[j]);
                free(reasons[j]);
            }
        }
        free(reasons);
        if (!vtap_ebpf_n_taps(vtap_ebpf)) {
            vtap_ebpf_destroy(vtap_ebpf);
            vtap_ebpf = NULL;
            VLOG_INFO("eBPF backend unloaded: no tap is offloaded");
        }
    }
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
    } else {
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

/* Test hook: the next 'vtap_bridge_fail_compiles' compilations fail. */
static unsigned int vtap_bridge_fail_compiles;

/* Gives 'ofproto' the native policy of 'plan'.  Returns false if it could
 * not be compiled. */
static bool
vtap_bridge_set_native(struct ofproto *ofproto, const struct vtap_plan *plan)
{
    struct vtap_classifier *classifier;

    if (vtap_bridge_fail_compiles) {
        vtap_bridge_fail_compiles--;
        classifier = NULL;
    } else {
        classifier = vtap_plan_compile(plan);
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

static void
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
            vtap_bridge_write_stats(vb, r->old, r->row);
        }
    }

    /* 3. Plan which backend makes each tap's copies, and apply the plan. */
    size_t n_ports;
    struct vtap_port_info *ports = vtap_bridge_plan_ports(ofproto, br_cfg,
                                                          &n_ports);
    char *ebpf_unavailable = vtap_ebpf_unavailable();
    const char *dpdk_unavailable = vtap_dpdk_unavailable();
    if (!dpdk_unavailable && strcmp(br_cfg->datapath_type, "netdev")) {
        dpdk_unavailable = "the bridge's datapath_type is not netdev (the "
                           "DPDK clone path is the userspace datapath's)";
    }
    struct vtap_plan_env env = {
        .ports = ports,
        .n_ports = n_ports,
        .ebpf_unavailable = ebpf_unavailable,
        .dpdk_unavailable = dpdk_unavailable,
    };
    char *plan_error = NULL;
    struct vtap_plan *plan = (policy
                              ? vtap_plan_create(policy, &env, &plan_error)
                              : NULL);
    free(ebpf_unavailable);
    free(ports);

    bool applied = false;
    if (plan) {
        vtap_bridge_offload(vb, plan);
        applied = vtap_bridge_set_native(ofproto, plan);
    }
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
            t->backend = xstrdup("none");
        } else {
            const char *reason = vtap_plan_reason(plan, r->policy_index);
            enum vtap_backend backend = vtap_plan_backend(plan,
                                                          r->policy_index);

            t->backend = xstrdup(vtap_backend_to_string(backend));
            t->reason = nullable_xstrdup(reason);
            t->offloaded = backend == VTAP_BACKEND_EBPF;
            t->counts_selected = (!t->offloaded
                                  && !ofproto_vtap_counts_delivered(ofproto));
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

/* Statistics of a tap, whichever backend makes its copies: X(KEY, FIELD)
 * for every key that Tap.statistics may have. */
#define VTAP_BRIDGE_STATS(X)                    \
    X("tx_packets", tx_packets)                 \
    X("tx_bytes", tx_bytes)                     \
    X("selected_packets", selected_packets)     \
    X("selected_bytes", selected_bytes)         \
    X("tx_errors", tx_errors)                   \
    X("sampled_out", sampled_out)               \
    X("tx_dropped", tx_dropped)

struct vtap_bridge_stats {
#define VTAP_BRIDGE_STATS_FIELD(KEY, FIELD) int64_t FIELD;
    VTAP_BRIDGE_STATS(VTAP_BRIDGE_STATS_FIELD)
#undef VTAP_BRIDGE_STATS_FIELD
};

enum { VTAP_BRIDGE_N_STATS = 0
#define VTAP_BRIDGE_STATS_COUNT(KEY, FIELD) + 1
    VTAP_BRIDGE_STATS(VTAP_BRIDGE_STATS_COUNT)
#undef VTAP_BRIDGE_STATS_COUNT
};

/* Gathers the statistics of tap 't' of 'vb' into 'keys' and 'values' (room
 * for VTAP_BRIDGE_N_STATS each).  Returns how many, 0 if there are none.
 * A key appears only where the backend knows its value: a sample() of the
 * kernel datapath does not count which packets its sampling picked, so a
 * sampled native tap there reports what was offered to sampling instead of
 * tx_*. */
static size_t
vtap_bridge_tap_stats(const struct vtap_bridge *vb,
                      const struct vtap_bridge_tap *t,
                      const char *keys[], int64_t values[])
{
    struct vtap_bridge_stats st = { .tx_packets = -1, .tx_bytes = -1,
                                    .selected_packets = -1,
                                    .selected_bytes = -1, .tx_errors = -1,
                                    .sampled_out = -1, .tx_dropped = -1 };
    struct ofproto_vtap_stats native;
    bool have_native = ofproto_vtap_get_stats(vb->ofproto, t->id, &native);
    const struct vtap_exec_stats *exec = &native.exec;
    size_t n = 0;

    if (t->offloaded) {
        /* Copies from the kernel, plus those of tap(id=N) actions, which
         * the OVS datapath makes. */
        struct vtap_ebpf_stats kernel;
        if (!vtap_ebpf_get_stats(vtap_ebpf, t->owner, &kernel)) {
            return 0;
        }
        st.tx_packets = kernel.packets;
        st.tx_bytes = kernel.bytes;
        st.tx_errors = kernel.failed;
        if (have_native && native.delivered) {
            st.tx_packets += exec->tx_packets;
            st.tx_bytes += exec->tx_bytes;
            st.tx_errors += exec->tx_errors;
        } else if (have_native && !native.sampled) {
            st.tx_packets += native.selected_packets;
            st.tx_bytes += native.selected_bytes;
        }
        if (t->sampled) {
            st.sampled_out = kernel.sampled_out;
        }
        if (t->rate_limited) {
            st.tx_dropped = kernel.rate_limited;
        }
    } else if (have_native && native.delivered) {
        /* The userspace datapath's copy action counted each step. */
        st.tx_packets = exec->tx_packets;
        st.tx_bytes = exec->tx_bytes;
        st.tx_errors = exec->tx_errors;
        st.selected_packets = exec->selected_packets;
        st.selected_bytes = exec->selected_bytes;
        if (t->sampled) {
            st.sampled_out = exec->sampled_out;
        }
        if (t->rate_limited) {
            st.tx_dropped = exec->tx_dropped;
        }
    } else if (have_native) {
        /* A sample(): the flows' statistics say what the tap selected, the
         * meter what max_rate dropped. */
        if (native.sampled) {
            st.selected_packets = native.selected_packets;
            st.selected_bytes = native.selected_bytes;
        } else {
            st.tx_packets = native.selected_packets
                            - MIN(native.dropped_packets,
                                  native.selected_packets);
            st.tx_bytes = native.selected_bytes
                          - MIN(native.dropped_bytes, native.selected_bytes);
        }
        if (native.rate_limited) {
            st.tx_dropped = native.dropped_packets;
        }
    } else {
        return 0;
    }

#define VTAP_BRIDGE_STATS_PUT(KEY, FIELD)       \
    if (st.FIELD >= 0) {                        \
        keys[n] = KEY;                          \
        values[n++] = st.FIELD;                 \
    }
    VTAP_BRIDGE_STATS(VTAP_BRIDGE_STATS_PUT)
#undef VTAP_BRIDGE_STATS_PUT
    return n;
}

/* Returns true if 'row''s statistics are already the 'n' 'keys' and
 * 'values'.  Most taps of a bridge with thousands see no traffic between
 * two refreshes: comparing here, on the parsed row, costs a fraction of
 * building the datum that the IDL would compare and throw away, and the
 * main thread, which refreshes them, also forwards packets of non-PMD
 * ports. */
static bool
vtap_bridge_stats_equal(const struct ovsrec_tap *row, const char *keys[],
                        const int64_t values[], size_t n)
{
    if (row->n_statistics != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < row->n_statistics; j++) {
            if (!strcmp(row->key_statistics[j], keys[i])) {
                break;
            }
        }
        if (j == row->n_statistics || row->value_statistics[j] != values[i]) {
            return false;
        }
    }
    return true;
}

/* Updates 't''s copy_error from its counters 'keys' and 'values' ('n' of
 * them): copies that failed since the last refresh make it say how many,
 * and copies that all went through since then clear it.  Returns true if
 * it changed. */
static bool
vtap_bridge_check_copies(const struct vtap_bridge *vb,
                         struct vtap_bridge_tap *t, const char *keys[],
                         const int64_t values[], size_t n)
{
    int64_t tx_packets = -1, tx_errors = -1;

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "tx_packets")) {
            tx_packets = values[i];
        } else if (!strcmp(keys[i], "tx_errors")) {
            tx_errors = values[i];
        }
    }
    if (tx_packets < 0 || tx_errors < 0) {
        return false;
    }

    /* Counters restart from zero with a new row or backend. */
    int64_t sent = (t->last_tx_packets >= 0 && tx_packets >= t->last_tx_packets
                    ? tx_packets - t->last_tx_packets : tx_packets);
    int64_t failed = (t->last_tx_errors >= 0 && tx_errors >= t->last_tx_errors
                      ? tx_errors - t->last_tx_errors : tx_errors);
    t->last_tx_packets = tx_packets;
    t->last_tx_errors = tx_errors;

    char *error = NULL;
    if (failed) {
        error = (sent
                 ? xasprintf("%"PRId64" of %"PRId64" copies failed since the "
                             "last statistics update", failed, sent + failed)
                 : xasprintf("every copy fails: %"PRId64" since the last "
                             "statistics update (is %s up?)", failed,
                             t->output ? t->output : "the output port"));
    } else if (!sent) {
        /* Nothing to judge by: as it was. */
        return false;
    }
    if (!error != !t->copy_error
        || (error && strcmp(error, t->copy_error))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        if (error) {
            VLOG_WARN_RL(&rl, "%s: tap %s: %s", vb->name, t->name, error);
        } else {
            VLOG_INFO_RL(&rl, "%s: tap %s: copies go through again",
                         vb->name, t->name);
        }
        free(t->copy_error);
        t->copy_error = error;
        return true;
    }
    free(error);
    return false;
}

/* Writes the statistics of tap 't' of 'vb' into its Tap 'row' if they
 * changed.  Returns true if it wrote them. */
static bool
vtap_bridge_write_stats(const struct vtap_bridge *vb,
                        const struct vtap_bridge_tap *t,
                        const struct ovsrec_tap *row)
{
    const char *keys[VTAP_BRIDGE_N_STATS];
    int64_t values[VTAP_BRIDGE_N_STATS];
    size_t n = vtap_bridge_tap_stats(vb, t, keys, values);

    if (n && !vtap_bridge_stats_equal(row, keys, values, n)) {
        ovsrec_tap_set_statistics(row, keys, values, n);
        return true;
    }
    return false;
}

void
vtap_bridge_refresh_stats(const struct ofproto *ofproto,
                          const struct ovsrec_bridge *br_cfg)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);

    size_t n_written = 0;

    for (size_t i = 0; vb && i < br_cfg->n_taps; i++) {
        const struct ovsrec_tap *row = br_cfg->taps[i];
        struct vtap_bridge_tap *t;
        const char *keys[VTAP_BRIDGE_N_STATS];
        int64_t values[VTAP_BRIDGE_N_STATS];
        size_t n;

        /* Rows that were not applied get no statistics. */
        t = CONST_CAST(struct vtap_bridge_tap *,
                       vtap_bridge_find_tap(vb, &row->header_.uuid));
        if (t && !t->error) {
            n = vtap_bridge_tap_stats(vb, t, keys, values);
            if (n && !vtap_bridge_stats_equal(row, keys, values, n)) {
                ovsrec_tap_set_statistics(row, keys, values, n);
                n_written++;
            }
            if (vtap_bridge_check_copies(vb, t, keys, values, n)) {
                vtap_bridge_write_status(row, t);
            }
        }
    }
    vtap_bridge_schedule_trim(n_written, 0);
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
        vtap_bridge_offload(vb, NULL);
        vtap_bridge_clear_taps(vb);
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
    struct ofproto_vtap_stats native;
    if (ofproto_vtap_get_stats(vb->ofproto, t->id, &native)
        && native.delivered) {
        const uint64_t *by_mode = native.exec.by_mode;

        if (by_mode[VTAP_ODP_ZERO_COPY] || by_mode[VTAP_ODP_HEADER_COPY]
            || by_mode[VTAP_ODP_FULL_COPY] || !strcmp(t->backend, "dpdk")) {
            ds_put_format(ds, "    dpdk copies: zero %"PRIu64", header "
                          "%"PRIu64", full %"PRIu64"\n",
                          by_mode[VTAP_ODP_ZERO_COPY],
                          by_mode[VTAP_ODP_HEADER_COPY],
                          by_mode[VTAP_ODP_FULL_COPY]);
        }
        if (by_mode[VTAP_ODP_SEND] || by_mode[VTAP_ODP_CLONE]) {
            ds_put_format(ds, "    copies sent: %"PRIu64", cloned: %"PRIu64
                          "\n", by_mode[VTAP_ODP_SEND],
                          by_mode[VTAP_ODP_CLONE]);
        }
    }
    if (t->copy_error) {
        ds_put_format(ds, "    copy error: %s\n", t->copy_error);
    }
    const char *keys[VTAP_BRIDGE_N_STATS];
    int64_t values[VTAP_BRIDGE_N_STATS];
    size_t n = vtap_bridge_tap_stats(vb, t, keys, values);
    if (n) {
        ds_put_cstr(ds, "    stats:");
        for (size_t i = 0; i < n; i++) {
            ds_put_format(ds, " %s:%"PRId64, keys[i], values[i]);
        }
        ds_put_char(ds, '\n');
    }
}

/* qsort() comparison of taps: by name, then by id. */
static int
vtap_bridge_tap_cmp(const void *a_, const void *b_)
{
    const struct vtap_bridge_tap *const *a = a_;
    const struct vtap_bridge_tap *const *b = b_;
    int cmp = strcmp((*a)->name, (*b)->name);

    return cmp ? cmp : (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
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
        const struct vtap_bridge_tap **taps = xmalloc(b->n_taps
                                                      * sizeof *taps + 1);
        for (size_t j = 0; j < b->n_taps; j++) {
            taps[j] = &b->taps[j];
        }
        qsort(taps, b->n_taps, sizeof *taps, vtap_bridge_tap_cmp);
        for (size_t j = 0; j < b->n_taps; j++) {
            vtap_bridge_show_tap(&ds, b, taps[j]);
        }
        free(taps);
    }
    free(sorted);

    /* The DPDK clone path's copies come from one pool for all bridges. */
    vtap_bridge_put_dpdk_pool(&ds, false);

    if (argc > 1 && !found) {
        unixctl_command_reply_error(conn, "no such bridge");
    } else {
        unixctl_command_reply(conn, ds_cstr(&ds));
    }
    ds_destroy(&ds);
}

/* The use of the DPDK copies' pool, as the last line of vtap/show prints
 * it; if there is no pool (no DPDK, or none of its copies yet), nothing,
 * or with 'say_none' a line that says so. */
static void
vtap_bridge_put_dpdk_pool(struct ds *ds, bool say_none)
{
    unsigned int in_use, pool_size;

    if (vtap_dpdk_pool_usage(&in_use, &pool_size)) {
        ds_put_format(ds, "dpdk copy pool: %u of %u mbufs in use\n",
                      in_use, pool_size);
    } else if (say_none) {
        ds_put_cstr(ds, "dpdk copy pool: none\n");
    }
}

/* vtap/dpdk-pool: that line alone, for a monitoring agent that asks at
 * every scrape (vtap/show prints every tap first). */
static void
vtap_bridge_unixctl_dpdk_pool(struct unixctl_conn *conn,
                              int argc OVS_UNUSED,
                              const char *argv[] OVS_UNUSED,
                              void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    vtap_bridge_put_dpdk_pool(&ds, true);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* "vtap/test-fail-compile COUNT": for tests, makes the next COUNT
 * compilations of a bridge's taps fail as if memory had run out. */
static void
vtap_bridge_unixctl_fail_compile(struct unixctl_conn *conn,
                                 int argc OVS_UNUSED, const char *argv[],
                                 void *aux OVS_UNUSED)
{
    unsigned int count;

    if (!str_to_uint(argv[1], 10, &count)) {
        unixctl_command_reply_error(conn, "count: not a number");
        return;
    }
    vtap_bridge_fail_compiles = count;
    unixctl_command_reply(conn, NULL);
}

/* Parses the "on" or "off" of a unixctl command that turns something on or
 * off in 'argv[1]' (if 'argc' > 1) into '*on'.  Returns false, having
 * replied with an error, if it is neither. */
static bool
vtap_bridge_unixctl_on_off(struct unixctl_conn *conn, int argc,
                           const char *argv[], bool *on)
{
    if (argc > 1) {
        if (strcmp(argv[1], "on") && strcmp(argv[1], "off")) {
            unixctl_command_reply_error(conn, "expected \"on\" or \"off\"");
            return false;
        }
        *on = !strcmp(argv[1], "on");
    }
    return true;
}

/* "vtap/native-send [on|off]": turns the socket copy path (lib/vtap-send.h)
 * on or off for the copies of native taps, or says whether it is on.  Off,
 * they are clones that OVS's own output sends.  Cached datapath flows
 * follow at their next revalidation, which this requests. */
static void
vtap_bridge_unixctl_native_send(struct unixctl_conn *conn, int argc,
                                const char *argv[], void *aux OVS_UNUSED)
{
    bool on = vtap_send_enabled();

    if (vtap_bridge_unixctl_on_off(conn, argc, argv, &on)) {
        if (argc > 1) {
            vtap_send_set_enabled(on);
            ofproto_vtap_revalidate_all();
        }
        unixctl_command_reply(conn, on ? "on" : "off");
    }
}

/* "vtap/copy-action [on|off]": turns the userspace datapath's tap copy
 * action on or off, or says whether it is on.  Off, copies are made by a
 * sample() as in the kernel datapath, which counts what taps select: for
 * tests of that path.  Taps are configured again, for their status to say
 * what their counters count. */
static void
vtap_bridge_unixctl_copy_action(struct unixctl_conn *conn, int argc,
                                const char *argv[], void *aux OVS_UNUSED)
{
    bool on = ofproto_vtap_copy_action();

    if (vtap_bridge_unixctl_on_off(conn, argc, argv, &on)) {
        if (argc > 1) {
            ofproto_vtap_set_copy_action(on);
            ofproto_vtap_revalidate_all();
            vtap_bridge_retry_at = time_msec();
            poll_immediate_wake();
        }
        unixctl_command_reply(conn, on ? "on" : "off");
    }
}
