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
    bool offloaded;             /* Selection done by the eBPF backend. */
    bool sampled;               /* sampling > 1. */
    bool rate_limited;          /* max_rate set. */
};

/* The taps of one bridge. */
struct vtap_bridge {
    struct hmap_node node;      /* In 'vtap_bridges', by 'ofproto'. */
    const struct ofproto *ofproto;
    uint32_t serial;            /* Unique in this process: eBPF group. */
    char *name;                 /* Bridge name. */
    char *fingerprint;          /* Of the policy last set, or NULL. */

    struct vtap_bridge_tap *taps; /* One per Tap row, in name order. */
    size_t n_taps;

};

static struct hmap vtap_bridges = HMAP_INITIALIZER(&vtap_bridges);
static uint32_t vtap_bridge_next_serial = 1;

/* The eBPF backend, shared by all bridges: created when a first tap is
 * offloaded, destroyed (everything detached and unpinned) when the last one
 * goes. */
static struct vtap_ebpf *vtap_ebpf;
static char *vtap_ebpf_pin_dir_;

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

/* One Tap row, loaded: its configuration in the form the vtap module takes,
 * owning the arrays it points to. */
struct vtap_bridge_row {
    const struct ovsrec_tap *row;
    struct vtap_tap_config cfg;
    uint32_t *src, *dst, *out;
    bool valid;                 /* Passed validation. */
    bool offload;               /* Candidate for, then given to, eBPF. */
    struct vtap_ebpf_tap ebpf;  /* If 'offload'. */
    uint32_t *ebpf_src, *ebpf_dst;
};

static void
vtap_bridge_row_destroy(struct vtap_bridge_row *r)
{
    free(r->src);
    free(r->dst);
    free(r->out);
    free(r->ebpf_src);
    free(r->ebpf_dst);
}

/* Loads Tap row 'row' into 'r'.  Returns NULL on success, otherwise the
 * reason the row is not applied.  Fills in 't' either way. */
static char *
vtap_bridge_load_row(const struct ofproto *ofproto,
                     const struct ovsrec_tap *row, uint32_t id,
                     struct vtap_bridge_row *r, struct vtap_bridge_tap *t)
{
    size_t n_src = 0, n_dst = 0, n_out = 0, allocated = 0;
    struct ds selection = DS_EMPTY_INITIALIZER;
    enum vtap_offload offload = VTAP_OFFLOAD_AUTO;
    char *error;

    r->row = row;
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

/* Appends to '*ifindexes' the kernel device of every interface of 'port'.
 * Returns NULL if each has one that the TC program can hook, otherwise
 * why not. */
static char *
vtap_bridge_port_devices(const struct ovsrec_port *port,
                         uint32_t **ifindexes, size_t *n, size_t *allocated)
{
    for (size_t i = 0; i < port->n_interfaces; i++) {
        const struct ovsrec_interface *iface = port->interfaces[i];
        const char *type = iface->type[0] ? iface->type : "system";
        unsigned int ifindex;

        if (strcmp(type, "system") && strcmp(type, "tap")) {
            return xasprintf("port %s: interface %s is of type %s; the TC "
                             "program hooks only kernel network devices "
                             "(types system and tap)",
                             port->name, iface->name, type);
        }
        ifindex = if_nametoindex(iface->name);
        if (!ifindex) {
            return xasprintf("port %s: interface %s has no kernel network "
                             "device", port->name, iface->name);
        }
        if (*n >= *allocated) {
            *ifindexes = x2nrealloc(*ifindexes, allocated,
                                    sizeof **ifindexes);
        }
        (*ifindexes)[(*n)++] = ifindex;
    }
    return NULL;
}

/* Decides whether valid tap 'r' can be offloaded to the eBPF backend and,
 * if so, fills in 'r->ebpf'.  Returns NULL if it can, otherwise why not. */
static char *
vtap_bridge_ebpf_candidate(const struct ovsrec_bridge *br_cfg,
                           struct vtap_bridge_row *r, uint64_t owner)
{
    const struct ovsrec_tap *row = r->row;
    size_t n_src = 0, n_dst = 0, src_alloc = 0, dst_alloc = 0;
    uint32_t *out = NULL;
    size_t n_out = 0, out_alloc = 0;
    char *error = NULL;

    if (!r->cfg.enabled) {
        return xstrdup("the tap is disabled");
    }
    if (row->output_port->n_interfaces != 1) {
        return xasprintf("output_port %s has %"PRIuSIZE" interfaces; the TC "
                         "program sends copies to one device",
                         row->output_port->name,
                         row->output_port->n_interfaces);
    }
    if (row->select_all) {
        /* Every packet enters the bridge once: copy it there. */
        for (size_t i = 0; i < br_cfg->n_ports && !error; i++) {
            if (br_cfg->ports[i] != row->output_port) {
                error = vtap_bridge_port_devices(br_cfg->ports[i],
                                                 &r->ebpf_src, &n_src,
                                                 &src_alloc);
            }
        }
    } else {
        if (!row->n_select_src_port && !row->n_select_dst_port) {
            return xstrdup("selects no port (its copies come from "
                           "tap(id=N) actions, which OVS makes)");
        }
        if (row->n_select_src_port && row->n_select_dst_port
            && (row->n_select_src_port != 1 || row->n_select_dst_port != 1
                || row->select_src_port[0] != row->select_dst_port[0])) {
            return xstrdup("selects packets received on some ports and sent "
                           "on others: a packet crossing both would be "
                           "copied twice in the kernel (select one "
                           "direction, or both directions of one port)");
        }
        for (size_t i = 0; i < row->n_select_src_port && !error; i++) {
            error = vtap_bridge_port_devices(row->select_src_port[i],
                                             &r->ebpf_src, &n_src,
                                             &src_alloc);
        }
        for (size_t i = 0; i < row->n_select_dst_port && !error; i++) {
            error = vtap_bridge_port_devices(row->select_dst_port[i],
                                             &r->ebpf_dst, &n_dst,
                                             &dst_alloc);
        }
    }
    if (!error) {
        error = vtap_bridge_port_devices(row->output_port, &out, &n_out,
                                         &out_alloc);
    }
    if (!error) {
        char *match_error;

        r->ebpf = (struct vtap_ebpf_tap) {
            .owner = owner,
            .src_ifindexes = r->ebpf_src,
            .n_src_ifindexes = n_src,
            .dst_ifindexes = r->ebpf_dst,
            .n_dst_ifindexes = n_dst,
            .out_ifindex = out[0],
            .output_vlan = r->cfg.output_vlan,
            .snaplen = r->cfg.snaplen,
            .sampling = r->cfg.sampling,
            .max_rate = r->cfg.max_rate,
        };
        /* Already validated, so this cannot fail. */
        match_error = vtap_match_parse(row->match, &r->ebpf.match);
        ovs_assert(!match_error);
    }
    free(out);
    return error;
}

/* Offloads the eBPF candidates among 'rows' (those with 'offload' set):
 * replaces the bridge's group in the backend, creating the backend first
 * if need be.  Clears 'offload' and sets 'reasons[i]' for each candidate
 * the backend refused. */
static void
vtap_bridge_offload(const struct vtap_bridge *vb,
                    struct vtap_bridge_row *rows, size_t n_rows,
                    char **reasons)
{
    struct vtap_ebpf_tap *taps = xmalloc(n_rows * sizeof *taps + 1);
    size_t *index = xmalloc(n_rows * sizeof *index + 1);
    char **results = xmalloc(n_rows * sizeof *results + 1);
    size_t n = 0;

    for (size_t i = 0; i < n_rows; i++) {
        if (rows[i].offload) {
            index[n] = i;
            taps[n++] = rows[i].ebpf;
        }
    }

    if (n && !vtap_ebpf) {
        const char *mode = getenv("OVS_VTAP_TC_ATTACH");
        char *error;

        vtap_ebpf = vtap_ebpf_create(vtap_ebpf_pin_dir_, mode, &error);
        if (!vtap_ebpf) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

            VLOG_WARN_RL(&rl, "eBPF backend: %s", error);
            for (size_t j = 0; j < n; j++) {
                rows[index[j]].offload = false;
                reasons[index[j]] = xasprintf("eBPF backend: %s", error);
            }
            free(error);
            goto out;
        }
        VLOG_INFO("eBPF backend loaded, pinned in %s", vtap_ebpf_pin_dir_);
    }
    if (vtap_ebpf) {
        vtap_ebpf_set_group(vtap_ebpf, vb->serial, taps, n, results);
        for (size_t j = 0; j < n; j++) {
            if (results[j]) {
                rows[index[j]].offload = false;
                reasons[index[j]] = results[j];
            }
        }
        if (!vtap_ebpf_n_taps(vtap_ebpf)) {
            vtap_ebpf_destroy(vtap_ebpf);
            vtap_ebpf = NULL;
            VLOG_INFO("eBPF backend unloaded: no tap is offloaded");
        }
    }

out:
    free(taps);
    free(index);
    free(results);
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
    struct vtap_policy *policy, *check;
    uint32_t free_id_hint = 1;
    struct hmapx used_ids;
    size_t n = br_cfg->n_taps;

    if (!vb) {
        vb = xzalloc(sizeof *vb);
        vb->ofproto = ofproto;
        vb->serial = vtap_bridge_next_serial++;
        vb->name = xstrdup(br_cfg->name);
        hmap_insert(&vtap_bridges, &vb->node, hash_pointer(ofproto, 0));
    }

    vtap_bridge_clear_taps(vb);
    vb->taps = xcalloc(n, sizeof *vb->taps);
    vb->n_taps = n;

    /* Explicit ids first, so that an assigned id never takes one that a
     * later row asks for. */
    hmapx_init(&used_ids);
    for (size_t i = 0; i < n; i++) {
        const struct ovsrec_tap *row = br_cfg->taps[i];

        if (row->n_id) {
            hmapx_add(&used_ids, (void *) (uintptr_t) *row->id);
        }
    }

    policy = vtap_policy_create();
    check = vtap_policy_create();
    if (!policy || !check) {
        VLOG_ERR("%s: out of memory loading taps", br_cfg->name);
        vtap_policy_destroy(policy);
        vtap_policy_destroy(check);
        hmapx_destroy(&used_ids);
        return;
    }

    /* 1. Load and validate every row, in name order, so that when two rows
     *    claim the same name or id, which one wins does not depend on their
     *    UUIDs: the first by name does.  Valid rows that may be offloaded
     *    become eBPF candidates. */
    const struct ovsrec_tap **sorted = xmemdup(br_cfg->taps,
                                               n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, vtap_bridge_row_cmp);
    struct vtap_bridge_row *rows = xcalloc(n + 1, sizeof *rows);
    char **reasons = xcalloc(n + 1, sizeof *reasons);
    for (size_t i = 0; i < n; i++) {
        const struct ovsrec_tap *row = sorted[i];
        struct vtap_bridge_tap *t = &vb->taps[i];
        struct vtap_bridge_row *r = &rows[i];
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
        t->error = vtap_bridge_load_row(ofproto, row, id, r, t);
        if (!t->error) {
            t->error = vtap_policy_add_tap(check, &r->cfg);
        }
        if (t->error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "%s: tap %s not applied: %s",
                         br_cfg->name, row->name, t->error);
            continue;
        }
        r->valid = true;

        if (r->cfg.offload == VTAP_OFFLOAD_AUTO
            || r->cfg.offload == VTAP_OFFLOAD_EBPF) {
            reasons[i] = vtap_ebpf_unavailable();
            if (!reasons[i]) {
                reasons[i] = vtap_bridge_ebpf_candidate(
                    br_cfg, r, (uint64_t) vb->serial << 32 | id);
            }
            r->offload = !reasons[i];
        }
    }
    hmapx_destroy(&used_ids);
    free(sorted);
    vtap_policy_destroy(check);

    /* 2. Offload what the eBPF backend takes. */
    vtap_bridge_offload(vb, rows, n, reasons);

    /* 3. Everything else is native.  An offloaded tap stays in the native
     *    policy without its selection, so that tap(id=N) actions still find
     *    it and its output port stays reserved; a tap that insists on an
     *    offload it cannot have is kept disabled, so that its name and id
     *    stay taken, and makes no copies rather than falling back
     *    silently. */
    for (size_t i = 0; i < n; i++) {
        struct vtap_bridge_row *r = &rows[i];
        struct vtap_bridge_tap *t = &vb->taps[i];
        enum vtap_offload offload = r->cfg.offload;

        if (!r->valid) {
            t->backend = xstrdup("none");
        } else {
            struct vtap_tap_config cfg = r->cfg;

            if (r->offload) {
                t->backend = xstrdup("ebpf");
                t->offloaded = true;
                cfg.select_all = false;
                cfg.n_src_ports = cfg.n_dst_ports = 0;
            } else if (offload == VTAP_OFFLOAD_EBPF
                       || offload == VTAP_OFFLOAD_DPDK) {
                t->backend = xstrdup("none");
                t->reason = (offload == VTAP_OFFLOAD_DPDK
                             ? xstrdup("offload=dpdk is not available in "
                                       "this build; the tap makes no copies")
                             : xasprintf("cannot offload to eBPF: %s; the "
                                         "tap makes no copies", reasons[i]));
                cfg.enabled = false;
            } else {
                t->backend = xstrdup("native");
                if (offload == VTAP_OFFLOAD_AUTO && reasons[i]) {
                    t->reason = xasprintf("not offloaded: %s", reasons[i]);
                }
            }
            char *error = vtap_policy_add_tap(policy, &cfg);
            /* It passed the same checks in 'check'. */
            ovs_assert(!error);
            vtap_bridge_fingerprint(&fingerprint, &cfg);
        }
        vtap_bridge_write_status(r->row, t);
        free(reasons[i]);
        vtap_bridge_row_destroy(r);
    }
    free(rows);
    free(reasons);

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
 * A key appears only where the backend knows its value: the OVS datapath
 * does not count which packets its sample() action picked, so a sampled
 * native tap reports what was offered to sampling instead of tx_*. */
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
    size_t n = 0;

    if (t->offloaded) {
        /* Copies from the kernel, plus those of tap(id=N) actions, which
         * the OVS datapath makes. */
        struct vtap_ebpf_stats kernel;
        uint64_t owner = (uint64_t) vb->serial << 32 | t->id;

        if (!vtap_ebpf_get_stats(vtap_ebpf, owner, &kernel)) {
            return 0;
        }
        st.tx_packets = kernel.packets;
        st.tx_bytes = kernel.bytes;
        if (have_native && !native.sampled) {
            st.tx_packets += native.selected_packets;
            st.tx_bytes += native.selected_bytes;
        }
        st.tx_errors = kernel.failed;
        if (t->sampled) {
            st.sampled_out = kernel.sampled_out;
        }
        if (t->rate_limited) {
            st.tx_dropped = kernel.rate_limited;
        }
    } else if (have_native) {
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

void
vtap_bridge_refresh_stats(const struct ofproto *ofproto,
                          const struct ovsrec_bridge *br_cfg)
{
    const struct vtap_bridge *vb = vtap_bridge_find(ofproto);

    for (size_t i = 0; vb && i < br_cfg->n_taps; i++) {
        const struct ovsrec_tap *row = br_cfg->taps[i];
        const struct vtap_bridge_tap *t;
        const char *keys[VTAP_BRIDGE_N_STATS];
        int64_t values[VTAP_BRIDGE_N_STATS];
        size_t n;

        /* Rows that were not applied get no statistics. */
        t = vtap_bridge_find_tap(ofproto, &row->header_.uuid);
        if (t && !t->error) {
            n = vtap_bridge_tap_stats(vb, t, keys, values);
            if (n) {
                ovsrec_tap_set_statistics(row, keys, values, n);
            }
        }
    }
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

void
vtap_bridge_run(struct ovsdb_idl *idl)
{
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
        vtap_bridge_offload(vb, NULL, 0, NULL);
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
