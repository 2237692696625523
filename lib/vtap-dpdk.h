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
 * lib/vtap-exec.c hands each copy that a tap copy action makes in a DPDK
 * mode (zero, header or full: lib/vtap-odp.h) to vtap_dpdk_copy(), which
 * makes it from the packet's mbuf with the module's copy engine, in a
 * mempool of our own: a copy that cannot be allocated fails, and the
 * original goes on unchanged.  The pool is sized for copies in flight,
 * not for the ports: with zero and header copies, though, a copy shares
 * the original's receive mbuf until the monitor's port has sent it, so a
 * monitor that holds copies (a full TX queue) holds receive mbufs too. */

#include <stdbool.h>
#include <stdint.h>

struct dp_packet;
struct netdev;
struct ovs_action_vtap_copy;

/* Returns NULL if taps may be copied by the DPDK clone path in this
 * process, else why not ("this build has no DPDK", "DPDK is not
 * initialized", ...).  Main thread only: creates the copies' mempool the
 * first time it can. */
const char *vtap_dpdk_unavailable(void);

/* Returns true if Interface type 'type' (or 'netdev''s type) is a DPDK
 * port's: dpdk, dpdkvhostuser or dpdkvhostuserclient, to which copies of
 * the clone path may go.  The one list of them. */
bool vtap_dpdk_type_is_dpdk(const char *type);
bool vtap_dpdk_netdev_is_dpdk(const struct netdev *);

/* Returns true if DPDK port 'netdev' sends only single-segment mbufs: an
 * ethdev without RTE_ETH_TX_OFFLOAD_MULTI_SEGS (netdev-dpdk enables it on
 * every port that has it).  Copies to it must not be chains, which a simple
 * TX path sends as their first segment, leaking the rest; vhost-user ports
 * take chains. */
bool vtap_dpdk_netdev_single_seg(const struct netdev *);

/* Returns the copy of 'packet' that 'vc' (in a DPDK mode) asks for, 'len'
 * bytes long (lib/vtap-exec.c computed it from the cut, the tag and the
 * snap length), and stores the mode that made it in '*mode_used'; or NULL
 * if it could not be made.  'packet' is left unchanged.  Any thread. */
struct dp_packet *vtap_dpdk_copy(const struct ovs_action_vtap_copy *vc,
                                 const struct dp_packet *packet,
                                 uint32_t len, int *mode_used);

/* Sets '*in_use' and '*size' to the copies' mempool's mbufs in use and in
 * all.  Returns false if there is no pool (yet). */
bool vtap_dpdk_pool_usage(unsigned int *in_use, unsigned int *size);

#endif /* vtap-dpdk.h */
