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

/* The "vtap/..." unixctl commands of ovs-vswitchd. */

#include "vtap-bridge-private.h"

#include <stdlib.h>
#include <string.h>

#include "ofproto/ofproto-dpif-vtap.h"
#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"
#include "vtap-dpdk.h"
#include "vtap-odp.h"
#include "vtap-send.h"

static void vtap_unixctl_show(struct unixctl_conn *, int argc,
                              const char *argv[], void *aux);
static void vtap_unixctl_fail_compile(struct unixctl_conn *, int argc,
                                      const char *argv[], void *aux);
static void vtap_unixctl_native_send(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);
static void vtap_unixctl_copy_action(struct unixctl_conn *, int argc,
                                     const char *argv[], void *aux);

void
vtap_unixctl_register(void)
{
    unixctl_command_register("vtap/show", "[bridge]", 0, 1,
                             vtap_unixctl_show, NULL);
    unixctl_command_register("vtap/test-fail-compile", "count", 1, 1,
                             vtap_unixctl_fail_compile, NULL);
    unixctl_command_register("vtap/native-send", "[on|off]", 0, 1,
                             vtap_unixctl_native_send, NULL);
    unixctl_command_register("vtap/copy-action", "[on|off]", 0, 1,
                             vtap_unixctl_copy_action, NULL);
}

static void
vtap_unixctl_show_tap(struct ds *ds, const struct vtap_bridge *vb,
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
    const char *keys[VTAP_STATS_N];
    int64_t values[VTAP_STATS_N];
    size_t n = vtap_stats_of_tap(vb, t, keys, values);
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
vtap_unixctl_tap_cmp(const void *a_, const void *b_)
{
    const struct vtap_bridge_tap *const *a = a_;
    const struct vtap_bridge_tap *const *b = b_;
    int cmp = strcmp((*a)->name, (*b)->name);

    return cmp ? cmp : (*a)->id < (*b)->id ? -1 : (*a)->id > (*b)->id;
}

static void
vtap_unixctl_show(struct unixctl_conn *conn, int argc,
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
        qsort(taps, b->n_taps, sizeof *taps, vtap_unixctl_tap_cmp);
        for (size_t j = 0; j < b->n_taps; j++) {
            vtap_unixctl_show_tap(&ds, b, taps[j]);
        }
        free(taps);
    }
    free(sorted);

    /* The DPDK clone path's copies come from one pool for all bridges. */
    unsigned int in_use, pool_size;
    if (vtap_dpdk_pool_usage(&in_use, &pool_size)) {
        ds_put_format(&ds, "dpdk copy pool: %u of %u mbufs in use\n",
                      in_use, pool_size);
    }

    if (argc > 1 && !found) {
        unixctl_command_reply_error(conn, "no such bridge");
    } else {
        unixctl_command_reply(conn, ds_cstr(&ds));
    }
    ds_destroy(&ds);
}

/* "vtap/test-fail-compile COUNT": for tests, makes the next COUNT
 * compilations of a bridge's taps fail as if memory had run out. */
static void
vtap_unixctl_fail_compile(struct unixctl_conn *conn,
                                 int argc OVS_UNUSED, const char *argv[],
                                 void *aux OVS_UNUSED)
{
    unsigned int count;

    if (!str_to_uint(argv[1], 10, &count)) {
        unixctl_command_reply_error(conn, "count: not a number");
        return;
    }
    vtap_bridge_fail_next_compiles(count);
    unixctl_command_reply(conn, NULL);
}

/* Parses the "on" or "off" of a unixctl command that turns something on or
 * off in 'argv[1]' (if 'argc' > 1) into '*on'.  Returns false, having
 * replied with an error, if it is neither. */
static bool
vtap_unixctl_on_off(struct unixctl_conn *conn, int argc,
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
vtap_unixctl_native_send(struct unixctl_conn *conn, int argc,
                                const char *argv[], void *aux OVS_UNUSED)
{
    bool on = vtap_send_enabled();

    if (vtap_unixctl_on_off(conn, argc, argv, &on)) {
        if (argc > 1) {
            vtap_send_set_enabled(on);
            vtap_bridge_replan();
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
vtap_unixctl_copy_action(struct unixctl_conn *conn, int argc,
                                const char *argv[], void *aux OVS_UNUSED)
{
    bool on = ofproto_vtap_copy_action();

    if (vtap_unixctl_on_off(conn, argc, argv, &on)) {
        if (argc > 1) {
            ofproto_vtap_set_copy_action(on);
            vtap_bridge_replan();
        }
        unixctl_command_reply(conn, on ? "on" : "off");
    }
}
