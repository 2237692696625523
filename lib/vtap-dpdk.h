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

#ifndef VTAP_DPDK_H
#define VTAP_DPDK_H 1

/* OVS-vTAP's DPDK clone path in the userspace datapath.
 *
 * dpif-netdev hands every OVS_ACTION_ATTR_VTAP_COPY action (lib/vtap-odp.h)
 * to vtap_dpdk_copy_batch(), which samples the packets, copies the chosen
 * ones from their mbufs with the module's copy engine (zero copy, header
 * copy or full copy, as translation allowed) and returns the copies for
 * dpif-netdev to meter and send to the monitor's DPDK port.  The copies
 * come from a mempool of our own, so that a tap can never take the mbufs
 * that a port needs to receive packets: a copy that cannot be allocated is
 * counted as failed, and the original goes on unchanged.
 *
 * Counters live per tap, under the tap's owner key (see vtap_tap_config),
 * while the native backend's configuration holds a reference. */

#include <stdbool.h>
#include <stdint.h>

struct dp_packet_batch;
struct netdev;
struct ovs_action_vtap_copy;

/* Returns NULL if taps may be copied by the DPDK clone path in this
 * process, else why not ("this build has no DPDK", "DPDK is not
 * initialized", ...).  Main thread only: creates the copies' mempool the
 * first time it can. */
const char *vtap_dpdk_unavailable(void);

/* Returns true if 'netdev' is a DPDK port (type dpdk, dpdkvhostuser or
 * dpdkvhostuserclient), to which copies of the clone path may go. */
bool vtap_dpdk_netdev_is_dpdk(const struct netdev *);

/* Makes the copies that 'vc' asks for of the packets in 'packets' (which
 * are left unchanged) and puts them in 'copies', initialized here.  Any
 * thread. */
void vtap_dpdk_copy_batch(const struct ovs_action_vtap_copy *vc,
                          const struct dp_packet_batch *packets,
                          struct dp_packet_batch *copies);

/* Counters of one tap's copies on the clone path. */
struct vtap_dpdk_stats {
    uint64_t packets;           /* Copies made and handed to the port... */
    uint64_t bytes;             /* ...and the bytes of their originals. */
    uint64_t sampled_out;       /* Packets that sampling left out. */
    uint64_t failed;            /* Copies that could not be allocated. */
    uint64_t zero_copies;       /* Of 'packets': made without copying... */
    uint64_t header_copies;     /* ...copying the headers only... */
    uint64_t full_copies;       /* ...copying everything. */
};

/* Main thread: takes and releases a reference to the counters of the tap
 * whose owner is 'owner', created at zero with the first reference. */
void vtap_dpdk_tap_ref(uint64_t owner);
void vtap_dpdk_tap_unref(uint64_t owner);

/* Stores the counters of tap 'owner' in '*stats'.  Returns false, with
 * '*stats' zeroed, if the tap has none. */
bool vtap_dpdk_get_stats(uint64_t owner, struct vtap_dpdk_stats *stats);

/* Sets '*in_use' and '*size' to the copies' mempool's mbufs in use and in
 * all.  Returns false if there is no pool (yet). */
bool vtap_dpdk_pool_usage(unsigned int *in_use, unsigned int *size);

#endif /* vtap-dpdk.h */
