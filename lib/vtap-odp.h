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

#ifndef VTAP_ODP_H
#define VTAP_ODP_H 1

/* OVS-vTAP's userspace datapath action: OVS_ACTION_ATTR_VTAP_COPY.
 *
 * Translation emits it for a tap whose copies the DPDK clone path makes
 * (lib/vtap-dpdk.c executes it), in place of the native backend's sample()
 * with nested actions: the copy is made from the packet's mbuf without the
 * two copies that a sample() and an output of a non-mbuf packet cost.  It
 * exists only in the userspace datapath, as lb_output() does.
 *
 * Its text form is
 *
 *     vtap_copy(owner=0x1,port=3,mode=header[,probability=N][,meter=N]
 *               [,snaplen=N][,vlan=N])
 *
 * Which data the copy may share with the packet ('mode') is decided once
 * the whole datapath action list is known, by the actions that follow the
 * copy: see vtap_odp_set_copy_modes(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"
#include "vtap/capi/vtap_dpdk.h"

struct ds;
struct nlattr;
struct ofpbuf;

struct ovs_action_vtap_copy {
    ovs_32aligned_u64 owner;    /* The tap's counters (lib/vtap-dpdk.c). */
    uint32_t port;              /* odp_port_t of the monitor's port. */
    uint32_t probability;       /* Of a copy, as OVS_SAMPLE_ATTR_PROBABILITY:
                                 * UINT32_MAX copies every packet. */
    uint32_t meter_id;          /* Datapath meter run on the copies only
                                 * (max_rate), or UINT32_MAX. */
    uint32_t snaplen;           /* Length of a copy at most (0: no limit). */
    uint16_t vlan_tci;          /* Tag for the copy (host order), 0: none. */
    uint8_t mode;               /* enum vtap_dpdk_copy_mode, or
                                 * VTAP_ODP_SEND_COPY. */
    uint8_t pad;
};

/* The mode of a copy sent at once from the packet's own buffer to a Linux
 * network device, by lib/vtap-send.c, rather than made from its mbuf by
 * lib/vtap-dpdk.c: the socket copy path.  Translation chooses it, and
 * vtap_odp_set_copy_modes() leaves it alone, since nothing that happens to
 * the packet later can reach a copy already sent. */
#define VTAP_ODP_SEND_COPY VTAP_DPDK_N_COPY_MODES
#define VTAP_ODP_N_MODES (VTAP_ODP_SEND_COPY + 1)

/* Returns "zero", "header", "full" or "send" ("?" for anything else). */
const char *vtap_odp_copy_mode_to_string(int mode);

/* Appends a copy action with 'mode' full to 'actions': the safe mode until
 * vtap_odp_set_copy_modes() knows better. */
void vtap_odp_put_copy(struct ofpbuf *actions, uint64_t owner,
                       odp_port_t port, uint32_t probability,
                       uint32_t meter_id, uint32_t snaplen,
                       uint16_t vlan_tci);

/* Appends a copy action of the socket copy path (VTAP_ODP_SEND_COPY) to
 * 'actions'.  It has no meter: a tap with max_rate takes the native path,
 * whose meter sees the copies. */
void vtap_odp_put_send(struct ofpbuf *actions, uint64_t owner,
                       odp_port_t port, uint32_t probability,
                       uint32_t snaplen, uint16_t vlan_tci);

/* Sets the mode of every copy action in the datapath actions 'actions',
 * nested ones included, by what the actions after it (and after the
 * actions that enclose it) may do to the packet's data while the copy
 * lives:
 *
 *   - nothing (outputs, meters, other copies): zero copy;
 *   - rewrite or move its headers (set, push or pop of a header, tunnel
 *     push): header copy;
 *   - what translation cannot see (recirculation, conntrack, tunnel pop,
 *     userspace): full copy. */
void vtap_odp_set_copy_modes(struct ofpbuf *actions);

/* Formats copy action 'a' in its text form into 'ds'. */
void vtap_odp_format_copy(struct ds *ds, const struct nlattr *a);

/* Parses the copy action in text form at the start of 's' and appends it
 * to 'actions'.  Returns the number of bytes parsed, or -EINVAL. */
int vtap_odp_parse_copy(const char *s, struct ofpbuf *actions);

#endif /* vtap-odp.h */
