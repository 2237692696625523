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

/* The eBPF TC program of the eBPF backend: copies the packets that taps
 * select on kernel network devices, before (TC ingress) or after (TC egress)
 * Open vSwitch handles them.  vtap_tc.h explains the maps and the two
 * stages (select, then edit the copy at the output device).
 *
 * Rules this program keeps:
 *   - It returns VTAP_TC_NEXT for every original: an original packet is
 *     never dropped, redirected or kept from later TC programs.  Only a copy
 *     that cannot be edited as its tap says is dropped (VTAP_TC_DROP_COPY).
 *   - It never leaves a change on the original.  The only change it makes,
 *     skb->mark for the time of one bpf_clone_redirect(), is undone at once.
 *   - It never selects a copy (a packet with a copy mark, vtap_tc.h), so
 *     copies that come back into the switch are not copied again.
 *   - Headers are read from one copy of the packet's first HDR_WINDOW
 *     bytes (struct pkt_window), taken with direct packet access when the
 *     linear area holds them and with a single bpf_skb_load_bytes()
 *     otherwise: AF_PACKET TX rings, tap devices and GSO often give only
 *     the Ethernet header linearly, and one helper call per header (three
 *     for UDP over IPv4) cost more than the rest of the parse together.
 *     Packets with IPv6 extension headers or headers past the window are
 *     parsed again by the same code reading the packet itself with
 *     bpf_skb_load_bytes(), so what the parser sees never depends on
 *     where the kernel put the bytes.
 *   - The packet is not parsed at all where every tap copies everything
 *     (vtap_tc_hook.n_masks == 0). */

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

char LICENSE[] SEC("license") = "GPL";

/* The key of the copies' marks (VTAP_TC_MARK in vtap_tc.h).  Set by the
 * loader before the program is loaded, so the verifier and the JIT see a
 * constant: no lookup per packet.  Zero only if the loader failed to set
 * it. */
const volatile uint32_t vtap_mark_magic = 0;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_HOOKS);
    __type(key, struct vtap_tc_hook_key);
    __type(value, struct vtap_tc_hook);
} vtap_hooks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_MASKS);
    __type(key, uint32_t);
    __type(value, struct vtap_flow_key);
} vtap_masks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_RULES);
    __type(key, struct vtap_tc_rule_key);
    __type(value, struct vtap_tc_rule);
} vtap_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_tap);
} vtap_taps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_rate);
} vtap_rates SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_stats);
} vtap_stats SEC(".maps");

/* Not used by the program: the loader's record of where it attached, pinned
 * with the rest so that a restarted loader finds it. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_HOOKS);
    __type(key, struct vtap_tc_hook_key);
    __type(value, struct vtap_tc_attachment);
} vtap_attachments SEC(".maps");

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

/* Token bucket of 'slot': returns true if one more copy fits in max_rate. */
static __always_inline bool
rate_allows(uint32_t slot, const struct vtap_tc_tap *tap)
{
    struct vtap_tc_rate *rate = bpf_map_lookup_elem(&vtap_rates, &slot);
    const uint64_t one = 1000000000ULL;  /* One copy, in tokens. */
    uint64_t now = bpf_ktime_get_ns();
    bool allowed = false;

    if (!rate) {
        return false;
    }
    /* 'now' was read before the lock (no helper may be called while it is
     * held), so another CPU may have refilled the bucket since with a later
     * clock read.  Time only moves forward for the bucket: such a CPU adds
     * nothing, where the wrapped difference would refill the bucket whole
     * and move 'last_ns' back. */
    bpf_spin_lock(&rate->lock);
    uint64_t last = rate->last_ns;
    uint64_t elapsed = now > last ? now - last : 0;
    uint64_t depth = tap->burst * one;

    if (elapsed > one) {
        elapsed = one;          /* Keeps elapsed * rate from overflowing. */
    }
    rate->tokens += elapsed * tap->rate_per_sec;
    if (rate->tokens > depth) {
        rate->tokens = depth;
    }
    if (now > last) {
        rate->last_ns = now;
    }
    if (rate->tokens >= one) {
        rate->tokens -= one;
        allowed = true;
    }
    bpf_spin_unlock(&rate->lock);
    return allowed;
}

/* The length to which snaplen cuts a copy of 'tap' (from the start of its
 * Ethernet header): snaplen counts the copy as it leaves, with a tag that
 * is still in metadata ('tagged'), and never cuts into the Ethernet
 * header. */
static __always_inline uint32_t
snap_len(const struct vtap_tc_tap *tap, bool tagged)
{
    uint32_t tag = tagged ? 4 : 0;

    return tap->snaplen > tag + ETH_HLEN ? tap->snaplen - tag : ETH_HLEN;
}

/* The length of the copy of 'skb' that 'tap' sends, as it leaves: what
 * edit_copy() makes of it, with a tag in metadata counted as the 4 bytes it
 * is on the wire. */
static __always_inline uint32_t
copy_len(const struct __sk_buff *skb, const struct vtap_tc_tap *tap)
{
    uint32_t len = skb->len;
    bool tagged = skb->vlan_present;

    if (tap->output_vlan) {
        /* A tag already in metadata goes into the packet. */
        len += tagged ? 4 : 0;
        tagged = true;
    }
    if (tap->snaplen) {
        uint32_t want = snap_len(tap, tagged);

        len = len > want ? want : len;
    }
    return len + (tagged ? 4 : 0);
}

/* Sends one copy of 'skb' for the tap in 'slot'.  Always returns 0.
 *
 * A global (non-static, not inlined) function: the verifier checks it once,
 * on its own, instead of once per call site in every iteration of the
 * lookup loops, which keeps loading the program fast. */
__attribute__((noinline)) int
copy_packet(struct __sk_buff *skb, uint32_t slot, uint32_t magic)
{
    const struct vtap_tc_tap *tap = bpf_map_lookup_elem(&vtap_taps, &slot);
    struct vtap_tc_stats *stats = bpf_map_lookup_elem(&vtap_stats, &slot);

    if (!tap || !stats || !tap->out_ifindex) {
        return 0;
    }
    if (tap->sample_threshold
        && bpf_get_prandom_u32() >= tap->sample_threshold) {
        stats->sampled_out++;
        return 0;
    }
    if (tap->rate_per_sec && !rate_allows(slot, tap)) {
        stats->rate_limited++;
        return 0;
    }

    /* Known before the copy exists: the edit stage, which makes it so,
     * runs inside bpf_clone_redirect() (the output's TC egress). */
    uint32_t len = copy_len(skb, tap);
    uint32_t saved_mark = skb->mark;

    skb->mark = VTAP_TC_MARK(magic, slot);
    /* 0 only if the output device took the copy: a device that is down,
     * a full queue, or an edit stage that dropped the copy return an
     * error or NET_XMIT_DROP. */
    long error = bpf_clone_redirect(skb, tap->out_ifindex, 0);
    skb->mark = saved_mark;

    if (!error) {
        stats->packets++;
        stats->bytes += len;
    } else {
        stats->failed++;
    }
    return 0;
}

/* The select stage: copies 'skb' for every tap that selects it on this
 * device in 'direction'. */
static __always_inline void
select_packet(struct __sk_buff *skb, uint32_t direction, uint32_t magic)
{
    struct vtap_tc_hook_key hook_key = {
        .ifindex = skb->ifindex,
        .direction = direction,
    };
    const struct vtap_tc_hook *hook;
    struct vtap_tc_rule_key rule_key = {};
    struct vtap_flow_key key = {};

    hook = bpf_map_lookup_elem(&vtap_hooks, &hook_key);
    if (!hook) {
        return;
    }

    /* Taps that copy every packet here: no parse, no rule lookup. */
    for (uint32_t j = 0; j < VTAP_TC_MAX_TAPS_PER_RULE; j++) {
        if (j >= hook->n_all) {
            break;
        }
        copy_packet(skb, hook->all_slots[j], magic);
    }
    if (!hook->n_masks) {
        return;
    }
    parse_packet(skb, &key);

    rule_key.ifindex = hook_key.ifindex;
    rule_key.direction = direction;
    for (uint32_t i = 0; i < VTAP_TC_MAX_MASKS_PER_HOOK; i++) {
        const struct vtap_tc_rule *rule;
        const uint64_t *mask, *k;
        uint64_t *masked;
        uint32_t mask_id;

        if (i >= hook->n_masks) {
            break;
        }
        mask_id = hook->mask_ids[i];
        mask = bpf_map_lookup_elem(&vtap_masks, &mask_id);
        if (!mask) {
            break;
        }
        k = (const uint64_t *) &key;
        masked = (uint64_t *) &rule_key.key;
        for (int w = 0; w < VTAP_FLOW_KEY_SIZE / 8; w++) {
            masked[w] = k[w] & mask[w];
        }
        rule_key.mask_id = mask_id;

        rule = bpf_map_lookup_elem(&vtap_rules, &rule_key);
        if (!rule) {
            continue;
        }
        for (uint32_t j = 0; j < VTAP_TC_MAX_TAPS_PER_RULE; j++) {
            if (j >= rule->n_taps) {
                break;
            }
            copy_packet(skb, rule->slots[j], magic);
        }
    }
}

/* Returns the tap whose copy 'skb' is, or NULL if 'skb' is not a copy of
 * ours: its mark must name a slot (vtap_tc.h) that an offloaded tap has
 * now.  Other users (Calico, Cilium, iptables setups) set marks too. */
static __always_inline const struct vtap_tc_tap *
copy_of(const struct __sk_buff *skb, uint32_t magic)
{
    uint32_t slot = VTAP_TC_MARK_SLOT(magic, skb->mark);
    const struct vtap_tc_tap *tap;

    if (slot >= VTAP_TC_MAX_TAPS) {
        return NULL;            /* Every original without our key. */
    }
    tap = bpf_map_lookup_elem(&vtap_taps, &slot);
    return tap && tap->out_ifindex ? tap : NULL;
}

/* The edit stage, at the output device's egress: applies the tap's output
 * VLAN and snaplen to a copy.  Returns false, having left the copy in an
 * unknown state, if the kernel refused an edit: then the copy must not
 * leave.  (bpf_skb_change_tail() refuses to cut a packet before the end of
 * its checksum field while the checksum is left to the device, as in UDP
 * or TCP that the host itself sends: 42 and 54 bytes over IPv4.)  The mark
 * stays: the copy may come back into the switch. */
static __always_inline bool
edit_copy(struct __sk_buff *skb, const struct vtap_tc_tap *tap)
{
    if (tap->output_vlan
        && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), tap->output_vlan)) {
        return false;
    }
    if (tap->snaplen) {
        uint32_t want = snap_len(tap, skb->vlan_present);

        if (skb->len > want && bpf_skb_change_tail(skb, want, 0)) {
            return false;
        }
    }
    return true;
}

SEC("tc")
int
vtap_tc_ingress(struct __sk_buff *skb)
{
    uint32_t magic = vtap_mark_magic;

    if (magic && !copy_of(skb, magic)) {
        select_packet(skb, VTAP_TC_INGRESS, magic);
    }
    return VTAP_TC_NEXT;
}

SEC("tc")
int
vtap_tc_egress(struct __sk_buff *skb)
{
    uint32_t magic = vtap_mark_magic;

    if (!magic) {
        return VTAP_TC_NEXT;
    }
    const struct vtap_tc_tap *tap = copy_of(skb, magic);

    if (!tap) {
        select_packet(skb, VTAP_TC_EGRESS, magic);
    } else if (tap->out_ifindex == skb->ifindex
               && tap->flags & VTAP_TC_TAP_EDIT_COPY
               && !edit_copy(skb, tap)) {
        /* Only ever a copy: its mark names a tap whose output device this
         * is.  The select stage counts it as failed. */
        return VTAP_TC_DROP_COPY;
    }
    return VTAP_TC_NEXT;
}
