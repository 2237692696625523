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

#ifndef VTAP_BACKENDS_EBPF_VTAP_TC_H
#define VTAP_BACKENDS_EBPF_VTAP_TC_H 1

/* What the eBPF TC program (vtap_tc.bpf.c) and its C++ loader
 * (ebpf_backend.cc) share: map keys and values, limits and constants.
 *
 * Plain C with fixed-width types, like flow_key.h, so that clang -target bpf
 * and g++ lay every struct out identically; tests/ebpf_layout_test.cc checks
 * that against the BTF that clang wrote into the object.  Changing a struct
 * here changes the pinned maps' layout, so it must also bump
 * VTAP_TC_ABI_VERSION: a pinned map of another layout cannot be reused.
 *
 * How the program works: a packet crossing a selected port (TC ingress for
 * taps that select the port's received traffic, TC egress for its sent
 * traffic) is parsed into a struct vtap_flow_key.  The port's entry in
 * 'vtap_hooks' lists the distinct match masks of the taps on that port and
 * direction; for each, the masked key is looked up in 'vtap_rules', whose
 * value lists the taps that select it.  Cost per packet is one hash lookup
 * per distinct mask, whatever the number of taps (tuple space search).
 * Taps without a match (every packet of the port, the common case) are
 * listed in the port's entry itself: their copies need neither the parser
 * nor a rule lookup, and a port with only such taps is never parsed.
 *
 * Each selected tap's copy is made with bpf_clone_redirect() to the output
 * device, marked as a copy of its tap (VTAP_TC_MARK): the original carries
 * the mark for the time of the clone only, the clone keeps it.  Delivery
 * settings that change the copy (output VLAN, snaplen) cannot be applied
 * before the clone without touching the original, so the output device's
 * TC egress runs the same program, which recognises the copy by its mark
 * and edits it there (the edit stage); a copy that cannot be edited as its
 * tap says is dropped there, so that bpf_clone_redirect() fails and the
 * copy counts as failed, not as sent.  The select stage never selects a
 * packet that carries a copy mark: a copy that comes back into the switch
 * (a monitor veth whose peer is itself a selected port) is not copied
 * again. */

#include <stdint.h>
#include <linux/bpf.h>

#include "vtap/policy/flow_key.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Layout version of the maps; part of the bpffs pin path.
 * 2: 'vtap_hooks' entries list the taps without a match (n_all, all_slots). */
#define VTAP_TC_ABI_VERSION 2

/* Limits.  A tap that would exceed one is not offloaded, with a reason. */
#define VTAP_TC_MAX_HOOKS 4096          /* (ifindex, direction) pairs. */
#define VTAP_TC_MAX_MASKS_PER_HOOK 16   /* Distinct match masks per hook. */
#define VTAP_TC_MAX_MASKS 4096          /* Distinct masks in all. */
#define VTAP_TC_MAX_RULES 65536         /* (hook, mask, masked key). */
#define VTAP_TC_MAX_TAPS_PER_RULE 8     /* Taps with one identical match. */
#define VTAP_TC_MAX_TAPS 16384          /* Offloaded taps, all bridges. */

/* IPv6 extension headers the parser skips before giving up on L4. */
#define VTAP_TC_MAX_IPV6_EXT_HEADERS 6

/* Direction, as seen from the switch (matches enum vtap_direction). */
#define VTAP_TC_INGRESS 1               /* TC ingress: switch receives. */
#define VTAP_TC_EGRESS 2                /* TC egress: switch sends. */

/* skb->mark of a copy: the tap's slot XORed with a 32-bit key drawn at
 * each load (the program's read-only 'vtap_mark_magic', whose high 16 bits
 * are never zero), so that a mark names a slot only if its high 16 bits
 * are the key's.  The mark survives a veth crossing within a namespace,
 * which is where a copy can come back into the switch (skb_scrub_packet()
 * clears it only when a packet changes namespace), and it is the field the
 * kernel gives BPF for tagging a packet across layers: skb->cb is every
 * layer's scratch space, skb->priority steers the output's queueing, and
 * the input device is reset at the crossing.  Other
 * users (Calico, Cilium, iptables setups) set marks too: an original whose
 * mark happens to be a live tap's copy mark is taken for a copy (not
 * selected), a chance of (offloaded taps) / 2^32 per load for a mark
 * chosen without knowing the key. */
#define VTAP_TC_MARK(MAGIC, SLOT) ((uint32_t) (MAGIC) ^ (uint32_t) (SLOT))
/* The slot that 'MARK' names: VTAP_TC_MAX_TAPS or more if none. */
#define VTAP_TC_MARK_SLOT(MAGIC, MARK) ((uint32_t) (MARK) ^ (uint32_t) (MAGIC))

/* TC and TCX verdicts.  Both hooks read -1 as "not my business, go on":
 * TC_ACT_UNSPEC for clsact, TCX_NEXT for TCX.  The program returns nothing
 * else for an original packet, so it never drops or redirects one and
 * never keeps later TC programs from running. */
#define VTAP_TC_NEXT (-1)
/* A copy that the edit stage could not edit as its tap says: TC_ACT_SHOT
 * (TCX_DROP), so that no wrong copy leaves and bpf_clone_redirect() in the
 * select stage returns an error (NET_XMIT_DROP). */
#define VTAP_TC_DROP_COPY 2

/* 'vtap_ports': which masks to try for packets crossing a device in a
 * direction.  A hook with no entry selects nothing. */
struct vtap_tc_hook_key {
    uint32_t ifindex;
    uint32_t direction;         /* VTAP_TC_INGRESS or VTAP_TC_EGRESS. */
};

struct vtap_tc_hook {
    uint32_t n_masks;           /* 0: no tap here needs the parser. */
    uint16_t mask_ids[VTAP_TC_MAX_MASKS_PER_HOOK]; /* Into 'vtap_masks'. */
    uint16_t pad[2];
    /* Taps that select every packet here (an empty match).  They have no
     * mask id and no 'vtap_rules' entry: a rule under the all-zero mask
     * would cost a parse and a hash lookup per packet to find them. */
    uint32_t n_all;
    uint32_t all_slots[VTAP_TC_MAX_TAPS_PER_RULE]; /* Into 'vtap_taps'. */
};

/* 'vtap_rules': the taps that select a masked key on a hook. */
struct vtap_tc_rule_key {
    uint32_t ifindex;
    uint16_t direction;
    uint16_t mask_id;
    struct vtap_flow_key key;   /* Packet's key & vtap_masks[mask_id]. */
};

struct vtap_tc_rule {
    uint32_t n_taps;
    uint32_t slots[VTAP_TC_MAX_TAPS_PER_RULE]; /* Into 'vtap_taps'. */
};

/* 'vtap_taps': one offloaded tap's delivery, indexed by slot. */
struct vtap_tc_tap {
    uint32_t out_ifindex;       /* 0: slot unused. */
    uint16_t output_vlan;       /* VID to push on the copy, 0 for none. */
    uint16_t flags;             /* VTAP_TC_TAP_*. */
    uint32_t snaplen;           /* Copy's maximum length, 0 for all. */
    uint32_t sample_threshold;  /* Copy if prandom < this; 0: always. */
    uint64_t rate_per_sec;      /* max_rate, 0 for unlimited. */
    uint64_t burst;             /* Token bucket depth, in copies. */
};

/* The copy needs the output device's egress program (a VLAN tag or a
 * snaplen to apply). */
#define VTAP_TC_TAP_EDIT_COPY 0x1

/* 'vtap_rates': a tap's token bucket, shared by all CPUs. */
struct vtap_tc_rate {
    struct bpf_spin_lock lock;
    uint32_t pad;
    uint64_t tokens;            /* In units of 1e-9 copy. */
    uint64_t last_ns;           /* bpf_ktime_get_ns() of the last refill. */
};

/* 'vtap_stats': per-CPU counters per slot. */
struct vtap_tc_stats {
    uint64_t packets;           /* Copies the output device took. */
    uint64_t bytes;             /* Their length as sent: after snaplen,
                                 * with the tags (in metadata too). */
    uint64_t failed;            /* Copies that failed: not editable, or
                                 * the output device refused them. */
    uint64_t sampled_out;       /* Selected, not picked by sampling. */
    uint64_t rate_limited;      /* Selected, over max_rate. */
};

/* 'vtap_attachments' (used by the loader only, pinned so that a restarted
 * ovs-vswitchd finds the clsact filters an earlier run left). */
struct vtap_tc_attachment {
    uint32_t mode;              /* VTAP_TC_ATTACH_*. */
    uint32_t flags;             /* VTAP_TC_ATTACH_F_*; was always-zero
                                 * padding, so records of older loaders
                                 * read as "no flags". */
};

#define VTAP_TC_ATTACH_TCX 1
#define VTAP_TC_ATTACH_CLSACT 2

/* The loader created the device's clsact qdisc (it had none), so it removes
 * it again once none of its filters is left on the device. */
#define VTAP_TC_ATTACH_F_CREATED_QDISC 0x1

/* clsact filters of ours carry this handle and priority. */
#define VTAP_TC_CLSACT_HANDLE 0x7a70
#define VTAP_TC_CLSACT_PRIORITY 0x7a70

#ifdef __cplusplus
}
#endif

#endif /* vtap/backends/ebpf/vtap_tc.h */
