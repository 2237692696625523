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

#ifndef VSWITCHD_VTAP_BRIDGE_PRIVATE_H
#define VSWITCHD_VTAP_BRIDGE_PRIVATE_H 1

/* What ovs-vswitchd's Tap rooms share: vtap-bridge.c maps Tap rows to the
 * vtap module's engine and the native policy to ofproto; vtap-stats.c
 * writes the rows' statistics and watches whether copies go through;
 * vtap-unixctl.c answers the "vtap/..." commands. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "uuid.h"
#include "vtap/capi/vtap.h"

struct ofproto;
struct ovsrec_bridge;
struct ovsrec_tap;

/* What vtap/show and the statistics need to know of one Tap row, kept by
 * value because IDL rows may go away between two reconfigurations. */
struct vtap_bridge_tap {
    struct hmap_node uuid_node; /* In vtap_bridge's 'taps_by_uuid'. */
    struct uuid uuid;           /* Tap row's UUID. */
    char *name;
    uint32_t id;                /* 0 if the row has none and got none. */
    uint64_t owner;             /* Unique to the row in this process. */
    char *error;                /* Why the row is not applied, or NULL. */
    const char *backend;        /* "native", "ebpf", "dpdk" or "none"
                                 * (vtap_backend_to_string()'s). */
    char *reason;               /* Why this backend, or NULL. */
    enum vtap_copy_path path;   /* How its copies are made. */
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
    size_t stats_cursor;        /* Tap row where the next statistics
                                 * refresh starts (vtap-stats.c). */
};

/* Every bridge that has had taps, by ofproto. */
extern struct hmap vtap_bridges;

/* The module's engine, shared by all bridges: it plans each bridge's taps
 * and owns the eBPF backend. */
extern struct vtap_engine *vtap_engine;

/* vtap-bridge.c. */

/* Returns what is known of the taps of 'ofproto', or NULL. */
struct vtap_bridge *vtap_bridge_find(const struct ofproto *);

/* Returns what 'vb' knows of the Tap row with 'uuid', or NULL. */
const struct vtap_bridge_tap *vtap_bridge_find_tap(const struct vtap_bridge *,
                                                   const struct uuid *);

/* Writes 't''s 'status' into its Tap 'row'. */
void vtap_bridge_write_status(const struct ovsrec_tap *row,
                              const struct vtap_bridge_tap *t);

/* Configures every bridge's taps again soon, for a change in what their
 * plan depends on besides the database (vtap/native-send,
 * vtap/copy-action). */
void vtap_bridge_replan(void);

/* Test hook: the next 'count' compilations of a bridge's taps fail. */
void vtap_bridge_fail_next_compiles(unsigned int count);

/* Returns freed memory to the system soon if a change of 'n_old' taps to
 * 'n_new' (or a refresh that wrote 'n_old' rows) was big. */
void vtap_bridge_schedule_trim(size_t n_old, size_t n_new);

/* vtap-stats.c. */

/* Statistics of a tap, whichever backend makes its copies: X(KEY, FIELD)
 * for every key that Tap.statistics may have. */
#define VTAP_STATS(X)                    \
    X("tx_packets", tx_packets)                 \
    X("tx_bytes", tx_bytes)                     \
    X("selected_packets", selected_packets)     \
    X("selected_bytes", selected_bytes)         \
    X("tx_errors", tx_errors)                   \
    X("sampled_out", sampled_out)               \
    X("tx_dropped", tx_dropped)

struct vtap_stats {
#define VTAP_STATS_FIELD(KEY, FIELD) int64_t FIELD;
    VTAP_STATS(VTAP_STATS_FIELD)
#undef VTAP_STATS_FIELD
};

enum { VTAP_STATS_N = 0
#define VTAP_STATS_COUNT(KEY, FIELD) + 1
    VTAP_STATS(VTAP_STATS_COUNT)
#undef VTAP_STATS_COUNT
};

/* Gathers the statistics of tap 't' of 'vb' into 'keys' and 'values' (room
 * for VTAP_STATS_N each).  Returns how many, 0 if there are none. */
size_t vtap_stats_of_tap(const struct vtap_bridge *vb,
                         const struct vtap_bridge_tap *t,
                         const char *keys[], int64_t values[]);

/* Writes the statistics of tap 't' of 'vb' into its Tap 'row' if they
 * changed.  Returns true if it wrote them. */
bool vtap_stats_write(const struct vtap_bridge *vb,
                      const struct vtap_bridge_tap *t,
                      const struct ovsrec_tap *row);

/* Writes the statistics of every applied Tap row of 'br_cfg', and the
 * status of those whose copies started or stopped failing. */
void vtap_stats_refresh(const struct ofproto *, const struct ovsrec_bridge *);

/* vtap-unixctl.c. */

/* Registers the "vtap/..." commands. */
void vtap_unixctl_register(void);

#endif /* vswitchd/vtap-bridge-private.h */
