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

#ifndef VTAP_BACKENDS_EBPF_VTAP_TC_COPY_BPF_H
#define VTAP_BACKENDS_EBPF_VTAP_TC_COPY_BPF_H 1

/* The two stages of the TC program (vtap_tc.h): select_packet() copies a
 * packet for every tap that selects it on a hook, copy_packet() makes one
 * tap's copy (sampling, max_rate, the copy mark, bpf_clone_redirect(), the
 * counters); copy_of() recognises a copy by its mark, and edit_copy()
 * applies a tap's output VLAN and snaplen at its output device.
 *
 * Only for vtap_tc.bpf.c: copy_packet() is a global BPF function, defined
 * here once. */

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/backends/ebpf/vtap_tc_maps.bpf.h"
#include "vtap/backends/ebpf/vtap_tc_parse.bpf.h"
#include "vtap/backends/ebpf/vtap_tc_rate.bpf.h"
#include "vtap/policy/flow_key.h"

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

#endif /* vtap/backends/ebpf/vtap_tc_copy.bpf.h */
