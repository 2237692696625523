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

#ifndef VTAP_EXEC_H
#define VTAP_EXEC_H 1

/* OVS-vTAP: the userspace datapath's execution of a tap copy action
 * (lib/vtap-odp.h), and the counters of each tap's copies.
 *
 * One function makes every copy of the userspace datapath, whichever way
 * it is delivered, so that sampling, max_rate, the cut of a truncated
 * output, the snap length and the counters are the same on every path:
 *
 *   1. Every packet that reaches the action was selected by the tap: it
 *      counts in 'selected', with its length where the tap took it (after
 *      the cut of a pending truncation, what crossed the port).
 *   2. Sampling leaves some out ('sampled_out').
 *   3. max_rate holds some back ('tx_dropped'): a token bucket of the
 *      tap's, one second deep, shared by every thread.
 *   4. The rest are copied and handed to the monitor's port: those the
 *      port takes count in 'tx_packets' and 'tx_bytes', at their length as
 *      sent (cut, tag and snap length applied); those that fail (no port,
 *      the device refuses them, no mbuf for the copy, a TSO packet for a
 *      port without TSO) in 'tx_errors'.
 *
 * Counters live per tap, under the tap's owner key (see vtap_tap_config),
 * while the native backend's configuration holds a reference: a copy for
 * a tap that no longer has them (a cached flow not yet revalidated after
 * the tap was deleted) is not made. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

struct dp_packet_batch;
struct netdev;
struct nlattr;

/* What the datapath that executes a copy action provides (dpif-netdev's
 * dp_execute_cb()). */
struct vtap_exec_ops {
    /* Returns the netdev through which this thread sends to datapath port
     * 'port', or NULL if there is none. */
    struct netdev *(*port_netdev)(void *aux, odp_port_t port);

    /* Sends 'batch', which it takes, to datapath port 'port'.  Returns
     * false, having freed the packets, if there is no such port. */
    bool (*output)(void *aux, struct dp_packet_batch *batch, odp_port_t port);

    /* Executes the datapath 'actions' on 'batch', which it takes. */
    void (*execute)(void *aux, struct dp_packet_batch *batch,
                    const struct nlattr *actions, size_t actions_len);
};

/* Executes copy action 'a' for 'packets', which are left unchanged.  'now'
 * is the time in microseconds.  Any thread. */
void vtap_exec_copy(const struct nlattr *a,
                    const struct dp_packet_batch *packets, long long int now,
                    const struct vtap_exec_ops *, void *aux);

/* One tap's counters. */
struct vtap_exec_stats {
    uint64_t selected_packets;  /* Packets the tap selected... */
    uint64_t selected_bytes;    /* ...and their bytes, where it took them. */
    uint64_t sampled_out;       /* Left out by sampling. */
    uint64_t tx_dropped;        /* Held back by max_rate. */
    uint64_t tx_packets;        /* Copies the monitor's port took... */
    uint64_t tx_bytes;          /* ...and their bytes as sent. */
    uint64_t tx_errors;         /* Copies that failed. */
    uint64_t by_mode[5];        /* Of 'tx_packets', by enum vtap_odp_mode. */
};

/* Main thread: takes and releases a reference to the counters of the tap
 * whose owner is 'owner', created at zero with the first reference. */
void vtap_exec_tap_ref(uint64_t owner);
void vtap_exec_tap_unref(uint64_t owner);

/* Stores the counters of tap 'owner' in '*stats'.  Returns false, with
 * '*stats' zeroed, if the tap has none. */
bool vtap_exec_get_stats(uint64_t owner, struct vtap_exec_stats *stats);

#endif /* vtap-exec.h */
