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

#ifndef VTAP_BACKENDS_EBPF_VTAP_TC_PARSE_BPF_H
#define VTAP_BACKENDS_EBPF_VTAP_TC_PARSE_BPF_H 1

/* The TC program's packet parser: parse_packet() gives the struct
 * vtap_flow_key of a packet as Open vSwitch 3.1's miniflow_extract() would
 * (tests/differential_test.cc compares the two).
 *
 * Headers are read from one copy of the packet's first HDR_WINDOW bytes
 * (struct pkt_window), taken with direct packet access when the linear area
 * holds them and with a single bpf_skb_load_bytes() otherwise: AF_PACKET TX
 * rings, tap devices and GSO often give only the Ethernet header linearly,
 * and one helper call per header (three for UDP over IPv4) cost more than
 * the rest of the parse together.  Packets with IPv6 extension headers or
 * headers past the window are parsed again by the same code reading the
 * packet itself with bpf_skb_load_bytes(), so what the parser sees never
 * depends on where the kernel put the bytes.
 *
 * Only for vtap_tc.bpf.c: parse_fast() and parse_slow() are global BPF
 * functions, defined here once. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/policy/flow_key.h"

#define ETH_P_8021AD_ 0x88A8
#define IPPROTO_SCTP_ 132
#define IPV6_EXT_HOPOPTS 0
#define IPV6_EXT_ROUTING 43
#define IPV6_EXT_FRAGMENT 44
#define IPV6_EXT_AH 51
#define IPV6_EXT_DSTOPTS 60

/* Open vSwitch's FLOW_DL_TYPE_NONE: an 802.3 frame that is not SNAP with an
 * Ethernet type. */
#define DL_TYPE_NONE 0x05ff
#define ETH_TYPE_MIN 0x0600

/* The first bytes of the packet, copied once: enough for Ethernet, two
 * VLAN tags, LLC/SNAP, IPv4 with options or IPv6 (its extension headers
 * go to the slow parser), and the L4 ports.  A power of two: an offset
 * masked with HDR_WINDOW - 1 is one that the verifier can bound. */
#define HDR_WINDOW 128
#define HDR_READ_MAX 40         /* Longest window_read(): struct ipv6hdr. */

/* The window holds the packet's first min(skb->len, HDR_WINDOW) bytes.
 * Nothing in it tells how many: reads check skb->len, which the verifier
 * sees alike whichever way the window was filled.  (A length kept here
 * would be a different constant on each way, and the verifier would walk
 * the whole parser once for each.) */
struct pkt_window {
    /* Zeroed slack after the window, so that a read at a masked offset
     * (at most HDR_WINDOW - 1) stays inside for the verifier.  Aligned
     * for the 8-byte stores that fill it. */
    uint8_t buf[HDR_WINDOW + HDR_READ_MAX] __attribute__((aligned(8)));
    bool beyond;                /* A read needed bytes of the packet that
                                 * are past the window. */
};

/* Copies the first bytes of 'skb' into 'w'.  Returns false, with
 * w->beyond set, if it could not (never expected: the bytes are there). */
static __always_inline bool
window_fill(struct __sk_buff *skb, struct pkt_window *w)
{
    void *data = (void *) (long) skb->data;
    void *data_end = (void *) (long) skb->data_end;
    uint64_t len = skb->len;    /* 64 bits: no zero-extended copies. */

    w->beyond = false;
    __builtin_memset(&w->buf[HDR_WINDOW], 0, HDR_READ_MAX);
    if (data + HDR_WINDOW <= data_end) {
        /* Linear: plain loads, no helper call.  In words: memcpy() from a
         * 'void *' would be done a byte at a time. */
        const uint64_t *src = data;
        uint64_t *dst = (uint64_t *) w->buf;

        for (int i = 0; i < HDR_WINDOW / 8; i++) {
            dst[i] = src[i];
        }
        return true;
    }
    /* Every byte of the window is written before any is read: the
     * verifier must see it initialised, whatever 'len' is. */
    __builtin_memset(w->buf, 0, HDR_WINDOW);
    if (len > HDR_WINDOW) {
        len = HDR_WINDOW;       /* A short packet is copied whole. */
    }
    if (!len) {
        return true;            /* Nothing to read: every read fails. */
    }
    /* Checked again, on a value clang cannot reason about: it would fold
     * both checks into one on another register ((len - 1) <= 127), and
     * the verifier must see the size register bounded on both sides. */
    barrier_var(len);
    if (len > HDR_WINDOW || bpf_skb_load_bytes(skb, 0, w->buf, len)) {
        w->beyond = true;
        return false;
    }
    return true;
}

/* Reads 'len' bytes (a constant) at 'off' into 'to'.  Fails, as
 * bpf_skb_load_bytes() does, if the packet ends first.
 *
 * The parser runs in two versions, 'slow' being a constant: the fast one
 * reads from the window only and, if the packet goes on past it, fails and
 * sets w->beyond; the slow one, only run then, reads the packet itself.
 * (A read that could take either way would double the paths the verifier
 * walks at every header: ten times the instructions to verify.) */
static __always_inline int
window_read(struct __sk_buff *skb, struct pkt_window *w, uint32_t off,
            void *to, uint32_t len, const bool slow)
{
    if (slow) {
        return bpf_skb_load_bytes(skb, off, to, len);
    }
    if ((uint64_t) off + len > skb->len) {
        return -1;              /* Past the end of the packet. */
    }
    if (off <= HDR_WINDOW - len) {
        uint64_t i = off;

        /* clang knows that 'off' is in range and would drop the mask, but
         * it may bound-check one register and index with another, which
         * the verifier cannot follow: hide the value so the mask stays. */
        barrier_var(i);
        i &= HDR_WINDOW - 1;
        __builtin_memcpy(to, &w->buf[i], len);
        return 0;
    }
    w->beyond = true;
    return -1;
}

/* Parsing follows Open vSwitch 3.1's miniflow_extract() (lib/flow.c), so
 * that a tap selects the same packets whichever backend copies them
 * (tests/differential_test.cc compares the two on random packets): the
 * same length checks, and a header that fails them leaves its fields, and
 * those of the layers above, at zero. */

/* Reads the L4 ports at 'off' for protocols that have them, if the 'len'
 * bytes of L4 that the IP header announces hold the whole header. */
static __always_inline void
parse_ports(struct __sk_buff *skb, struct pkt_window *w, uint32_t off,
            uint32_t len, struct vtap_flow_key *key, const bool slow)
{
    uint8_t hdr[13];            /* Ports, and TCP's data offset at 12. */

    if (key->ip_proto == IPPROTO_TCP) {
        uint32_t doff;

        if (len < 20 || window_read(skb, w, off, hdr, 13, slow)) {
            return;
        }
        doff = (uint32_t) (hdr[12] >> 4) * 4;
        if (doff < 20 || len < doff) {
            return;
        }
    } else if (key->ip_proto == IPPROTO_UDP) {
        if (len < 8 || window_read(skb, w, off, hdr, 4, slow)) {
            return;
        }
    } else if (key->ip_proto == IPPROTO_SCTP_) {
        if (len < 12 || window_read(skb, w, off, hdr, 4, slow)) {
            return;
        }
    } else {
        return;
    }
    __builtin_memcpy(&key->tp_src, &hdr[0], 2);
    __builtin_memcpy(&key->tp_dst, &hdr[2], 2);
}

static __always_inline void
parse_ipv4(struct __sk_buff *skb, struct pkt_window *w, uint32_t off,
           struct vtap_flow_key *key, const bool slow)
{
    uint32_t size = skb->len > off ? skb->len - off : 0;
    struct iphdr ip;
    uint32_t ihl, tot_len;

    if (window_read(skb, w, off, &ip, sizeof ip, slow)) {
        return;
    }
    /* ipv4_sanity_check(). */
    ihl = ip.ihl * 4;
    tot_len = bpf_ntohs(ip.tot_len);
    if (!tot_len && skb->gso_size) {
        tot_len = size;         /* BIG TCP: the length is in skb->len. */
    }
    if (ihl < 20 || size < ihl || tot_len > size || ihl > tot_len) {
        return;
    }
    key->ip_proto = ip.protocol;
    key->ipv4_src = ip.saddr;
    key->ipv4_dst = ip.daddr;
    /* Only the first fragment has the L4 header. */
    if (!(ip.frag_off & bpf_htons(0x1fff))) {
        parse_ports(skb, w, off + ihl, tot_len - ihl, key, slow);
    }
}

static __always_inline void
parse_ipv6(struct __sk_buff *skb, struct pkt_window *w, uint32_t off,
           struct vtap_flow_key *key, const bool slow)
{
    uint32_t size = skb->len > off ? skb->len - off : 0;
    struct ipv6hdr ip6;
    uint32_t plen, end;
    uint8_t next;

    if (window_read(skb, w, off, &ip6, sizeof ip6, slow)) {
        return;
    }
    /* ipv6_sanity_check(). */
    plen = bpf_ntohs(ip6.payload_len);
    if (!plen && skb->gso_size) {
        plen = size - sizeof ip6;       /* BIG TCP. */
    }
    if (plen + sizeof ip6 > size) {
        return;
    }
    __builtin_memcpy(key->ipv6_src, &ip6.saddr, 16);
    __builtin_memcpy(key->ipv6_dst, &ip6.daddr, 16);
    next = ip6.nexthdr;
    off += sizeof ip6;
    end = off + plen;

    /* parse_ipv6_ext_hdrs__(): a header cut short leaves the protocol at
     * zero. */
    for (int i = 0; i <= VTAP_TC_MAX_IPV6_EXT_HEADERS; i++) {
        uint8_t ext[8];
        uint32_t len;

        if (next != IPV6_EXT_HOPOPTS && next != IPV6_EXT_ROUTING
            && next != IPV6_EXT_DSTOPTS && next != IPV6_EXT_AH
            && next != IPV6_EXT_FRAGMENT) {
            key->ip_proto = next;
            parse_ports(skb, w, off, end - off, key, slow);
            return;
        }
        if (!slow) {
            /* Extension headers are rare, and following them with the
             * window would make the verifier walk every combination of
             * their lengths: leave them to the slow parser. */
            w->beyond = true;
            return;
        }
        if (i == VTAP_TC_MAX_IPV6_EXT_HEADERS) {
            return;     /* More than the parser follows: stop at L3. */
        }
        if (end - off < 8 || window_read(skb, w, off, ext, sizeof ext, slow)) {
            return;
        }
        len = (next == IPV6_EXT_FRAGMENT ? 8
               : next == IPV6_EXT_AH ? ((uint32_t) ext[1] + 2) * 4
               : ((uint32_t) ext[1] + 1) * 8);
        if (end - off < len) {
            return;
        }
        off += len;
        if (next == IPV6_EXT_FRAGMENT && ((ext[2] << 8 | ext[3]) & 0xfff8)) {
            /* A later fragment: Open vSwitch says IPPROTO_FRAGMENT, and
             * there are no ports. */
            key->ip_proto = IPV6_EXT_FRAGMENT;
            return;
        }
        next = ext[0];
    }
}

/* Parses the packet of 'w' into '*key' (zeroed by the caller).  Whatever
 * cannot be parsed stays zero, as in Open vSwitch's flow extraction. */
static __always_inline void
parse_layers(struct __sk_buff *skb, struct pkt_window *w,
             struct vtap_flow_key *key, const bool slow)
{
    struct ethhdr eth;
    uint32_t off = sizeof eth;
    uint16_t proto;

    if (window_read(skb, w, 0, &eth, sizeof eth, slow)) {
        return;
    }
    __builtin_memcpy(key->eth_src, eth.h_source, 6);
    __builtin_memcpy(key->eth_dst, eth.h_dest, 6);
    proto = eth.h_proto;

    /* A tag the NIC or the sender's stack moved into metadata is the
     * outermost one. */
    if (skb->vlan_present) {
        key->vlan_tci = bpf_htons(VTAP_VLAN_PRESENT
                                  | (skb->vlan_tci & VTAP_VLAN_VID_MASK));
    }
    for (int i = 0; i < 2; i++) {
        uint16_t tag[2];        /* TCI, then the next ethertype. */

        if (proto != bpf_htons(ETH_P_8021Q)
            && proto != bpf_htons(ETH_P_8021AD_)) {
            break;
        }
        if (i == 1 && skb->vlan_present) {
            /* Open vSwitch reads two tags, the one in metadata first
             * (netdev-linux puts it back in the packet). */
            break;
        }
        if (window_read(skb, w, off, tag, sizeof tag, slow)) {
            break;              /* A cut tag: its TPID is the type. */
        }
        if (!key->vlan_tci) {
            key->vlan_tci = bpf_htons(VTAP_VLAN_PRESENT
                                      | (bpf_ntohs(tag[0])
                                         & VTAP_VLAN_VID_MASK));
        }
        proto = tag[1];
        off += sizeof tag;
    }

    /* parse_ethertype(): an 802.3 length means LLC, and only SNAP with an
     * Ethernet type gives a type. */
    if (bpf_ntohs(proto) < ETH_TYPE_MIN) {
        uint8_t llc[8];

        if (window_read(skb, w, off, llc, sizeof llc, slow)
            || llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03
            || llc[3] || llc[4] || llc[5]
            || (llc[6] << 8 | llc[7]) < ETH_TYPE_MIN) {
            proto = bpf_htons(DL_TYPE_NONE);
        } else {
            __builtin_memcpy(&proto, &llc[6], 2);
            off += sizeof llc;
        }
    }
    key->eth_type = proto;

    if (proto == bpf_htons(ETH_P_IP)) {
        parse_ipv4(skb, w, off, key, slow);
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        parse_ipv6(skb, w, off, key, slow);
    }
}

/* The two versions of the parser, as global functions: the verifier
 * checks each once, on its own, and the caller goes on from one state
 * after the call instead of one per way through the parser (inlined, or
 * as static functions, they made verifying the program 15 times longer).
 * Global functions also get stack frames of their own (BPF has 512 bytes
 * for a whole call chain).  'w' and 'key' are never NULL: the checks are
 * for the verifier. */

/* Returns nonzero if the packet must be parsed again with parse_slow(). */
__attribute__((noinline)) int
parse_fast(struct __sk_buff *skb, struct pkt_window *w,
           struct vtap_flow_key *key)
{
    if (!w || !key) {
        return 0;
    }
    parse_layers(skb, w, key, false);
    return w->beyond;
}

__attribute__((noinline)) int
parse_slow(struct __sk_buff *skb, struct pkt_window *w,
           struct vtap_flow_key *key)
{
    if (!w || !key) {
        return 0;
    }
    __builtin_memset(key, 0, sizeof *key);
    parse_layers(skb, w, key, true);
    return 0;
}

/* Parses 'skb' into '*key' (zeroed by the caller). */
static __always_inline void
parse_packet(struct __sk_buff *skb, struct vtap_flow_key *key)
{
    struct pkt_window w;

    if (!window_fill(skb, &w) || parse_fast(skb, &w, key)) {
        /* Rare: IPv6 extension headers, or headers past HDR_WINDOW
         * bytes.  Start again on the packet itself. */
        parse_slow(skb, &w, key);
    }
}

#endif /* vtap/backends/ebpf/vtap_tc_parse.bpf.h */
