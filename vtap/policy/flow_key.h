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

#ifndef VTAP_POLICY_FLOW_KEY_H
#define VTAP_POLICY_FLOW_KEY_H 1

/* The packet fields a tap can match on.
 *
 * This header is plain C with fixed-width types only, because three worlds
 * share it: Open vSwitch's C code (which fills a key from its 'struct flow'),
 * the C++ policy module (which parses matches into key/mask pairs and
 * classifies keys), and the BPF programs of the eBPF backend (which parse
 * packets into the same layout).  Keep it free of padding holes the compilers
 * could disagree about: every member is naturally aligned and 'pad' is
 * explicit.
 *
 * All multi-byte fields are in network byte order, as on the wire.  A field
 * that a packet does not have (IPv4 addresses of an IPv6 packet, ports of an
 * ICMP packet, ...) is zero.  A mask has the same layout: 1-bits are the bits
 * that matter. */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 'vlan_tci' is the outermost 802.1Q tag's TCI with the CFI bit used, as in
 * Open vSwitch's own 'struct flow', as "a tag is present": a tagged packet
 * has VTAP_VLAN_PRESENT set, an untagged one has vlan_tci == 0. */
#define VTAP_VLAN_PRESENT 0x1000
#define VTAP_VLAN_VID_MASK 0x0fff

struct vtap_flow_key {
    uint8_t eth_src[6];
    uint8_t eth_dst[6];
    uint16_t vlan_tci;          /* VTAP_VLAN_PRESENT | VID, or 0. */
    uint16_t eth_type;          /* Ethertype after any VLAN tags. */
    uint8_t ip_proto;           /* IPv4 protocol or IPv6 next header. */
    uint8_t pad[3];             /* Always zero. */
    uint32_t ipv4_src;
    uint32_t ipv4_dst;
    uint8_t ipv6_src[16];
    uint8_t ipv6_dst[16];
    uint16_t tp_src;            /* TCP, UDP or SCTP source port. */
    uint16_t tp_dst;            /* TCP, UDP or SCTP destination port. */
};

#define VTAP_FLOW_KEY_SIZE 64

#ifdef __cplusplus
static_assert(sizeof(struct vtap_flow_key) == VTAP_FLOW_KEY_SIZE,
              "vtap_flow_key layout changed");
}
#else
_Static_assert(sizeof(struct vtap_flow_key) == VTAP_FLOW_KEY_SIZE,
               "vtap_flow_key layout changed");
#endif

#endif /* vtap/policy/flow_key.h */
