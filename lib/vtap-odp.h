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
 * In the userspace datapath, translation emits one such action for each
 * copy a tap makes of a packet (where the kernel datapath gets a sample()
 * with nested actions).  lib/vtap-exec.c executes it: it counts what the
 * tap selected, samples, enforces max_rate, makes the copy with the
 * delivery that suits the monitor's port, and counts what reached that
 * port.  It exists only in the userspace datapath, as lb_output() does.
 *
 * Its text form is
 *
 *     vtap_copy(owner=0x1,port=3,mode=header[,probability=N][,max_rate=N]
 *               [,snaplen=N][,vlan=N][,single_seg][,actions(...)])
 *
 * The deliveries ('mode'):
 *
 *   - zero, header, full: the DPDK clone path (lib/vtap-dpdk.c), to a DPDK
 *     port, from the packet's mbuf.  Which data the copy may share with the
 *     packet is decided once the whole datapath action list is known, by
 *     the actions that follow the copy: see vtap_odp_set_copy_modes().
 *
 *   - send: the socket copy path (lib/vtap-send.c), to a Linux network
 *     device, from the packet's own buffer.
 *
 *   - clone: a clone of the packet runs the nested actions that deliver
 *     it (a VLAN tag, the snap length, an output, a tunnel push), as OVS's
 *     own sample() would: to every other port. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

struct ds;
struct nlattr;
struct ofpbuf;

/* How a copy is delivered.  The first three are also the DPDK copy
 * engine's modes (vtap/capi/vtap_mbuf.h), from the cheapest to the
 * safest. */
enum vtap_odp_mode {
    VTAP_ODP_ZERO_COPY,         /* DPDK: shares all the data. */
    VTAP_ODP_HEADER_COPY,       /* DPDK: the headers copied, the rest
                                 * shared. */
    VTAP_ODP_FULL_COPY,         /* DPDK: all the data copied. */
    VTAP_ODP_SEND,              /* Sent at once by a packet socket. */
    VTAP_ODP_CLONE,             /* A clone runs the nested actions. */
};
#define VTAP_ODP_N_MODES (VTAP_ODP_CLONE + 1)

/* The action's fixed part.  In mode VTAP_ODP_CLONE, the nested actions
 * that deliver the copy follow it, as netlink attributes. */
struct ovs_action_vtap_copy {
    ovs_32aligned_u64 owner;    /* The tap (lib/vtap-exec.h). */
    uint32_t port;              /* odp_port_t of the monitor's port, or
                                 * ODPP_NONE if only the nested actions
                                 * know it (a tunnel) or there is none. */
    uint32_t probability;       /* Of a copy, as OVS_SAMPLE_ATTR_PROBABILITY:
                                 * UINT32_MAX copies every packet. */
    uint32_t max_rate;          /* Copies per second at most, 0: no
                                 * limit. */
    uint32_t snaplen;           /* Length of a copy at most (0: no limit). */
    uint16_t vlan_tci;          /* Tag for the copy (host order), 0: none. */
    uint8_t mode;               /* enum vtap_odp_mode. */
    uint8_t flags;              /* VTAP_ODP_F_*. */
};

/* The monitor's DPDK port sends only single-segment mbufs: DPDK copies
 * must not be chains. */
#define VTAP_ODP_F_SINGLE_SEG 0x01

/* Returns "zero", "header", "full", "send" or "clone" ("?" for anything
 * else). */
const char *vtap_odp_mode_to_string(int mode);

/* Appends to 'actions' a copy action with 'mode' and the fixed part '*vc'
 * (whose 'mode' is ignored).  For VTAP_ODP_CLONE, returns the offset in
 * 'actions' of the action, whose nested actions the caller appends next
 * and ends with vtap_odp_end_clone(); for other modes, returns SIZE_MAX.
 * A DPDK copy is put as a full copy, the safe mode until
 * vtap_odp_set_copy_modes() knows better. */
size_t vtap_odp_put_copy(struct ofpbuf *actions,
                         const struct ovs_action_vtap_copy *vc,
                         enum vtap_odp_mode mode);
void vtap_odp_end_clone(struct ofpbuf *actions, size_t offset);

/* Returns the fixed part of copy action 'a', or NULL if 'a' is malformed.
 * For a clone, stores its nested actions in '*actions' and '*actions_len'
 * (if nonnull). */
const struct ovs_action_vtap_copy *vtap_odp_get_copy(
    const struct nlattr *a, const struct nlattr **actions,
    size_t *actions_len);

/* Sets the mode of every DPDK copy action in the datapath actions
 * 'actions', nested ones included, by what the actions after it (and after
 * the actions that enclose it) may do to the packet's data while the copy
 * lives:
 *
 *   - nothing (outputs, meters, other copies): zero copy;
 *   - rewrite or move its headers (set, push or pop of a header, tunnel
 *     push): header copy;
 *   - what translation cannot see (recirculation, conntrack, tunnel pop,
 *     userspace) or beyond the headers (IPv6 ND options): full copy.
 *
 * A copy to a port that sends single segments only gets a zero copy
 * (without a tag) or a full copy.  Copies of other modes are left alone:
 * nothing that happens to the packet after a send or a clone reaches the
 * copy. */
void vtap_odp_set_copy_modes(struct ofpbuf *actions);

/* Formats copy action 'a' in its text form into 'ds'. */
void vtap_odp_format_copy(struct ds *ds, const struct nlattr *a);

/* Parses the copy action in text form at the start of 's' and appends it
 * to 'actions'.  Returns the number of bytes parsed, or -EINVAL. */
int vtap_odp_parse_copy(const char *s, struct ofpbuf *actions);

#endif /* vtap-odp.h */
