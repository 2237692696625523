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
 * stages (select, then edit the copy at the output device); this file is
 * the programs' entry points, and the work is in its headers, after
 * Cilium's bpf/ and Katran's lib/bpf/:
 *
 *   vtap_tc_maps.bpf.h    the maps;
 *   vtap_tc_parse.bpf.h   the parser (a packet's struct vtap_flow_key);
 *   vtap_tc_rate.bpf.h    max_rate's token buckets;
 *   vtap_tc_copy.bpf.h    the select and edit stages.
 *
 * Rules this program keeps:
 *   - It returns VTAP_TC_NEXT for every original: an original packet is
 *     never dropped, redirected or kept from later TC programs.  Only a copy
 *     that cannot be edited as its tap says is dropped (VTAP_TC_DROP_COPY).
 *   - It never leaves a change on the original.  The only change it makes,
 *     skb->mark for the time of one bpf_clone_redirect(), is undone at once.
 *   - It never selects a copy (a packet with a copy mark, vtap_tc.h), so
 *     copies that come back into the switch are not copied again.
 *   - The packet is not parsed at all where every tap copies everything
 *     (vtap_tc_hook.n_masks == 0). */

#include <stdint.h>

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/backends/ebpf/vtap_tc_copy.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The key of the copies' marks (VTAP_TC_MARK in vtap_tc.h).  Set by the
 * loader before the program is loaded, so the verifier and the JIT see a
 * constant: no lookup per packet.  Zero only if the loader failed to set
 * it. */
const volatile uint32_t vtap_mark_magic = 0;

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
