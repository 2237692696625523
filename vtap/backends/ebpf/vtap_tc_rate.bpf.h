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

#ifndef VTAP_BACKENDS_EBPF_VTAP_TC_RATE_BPF_H
#define VTAP_BACKENDS_EBPF_VTAP_TC_RATE_BPF_H 1

/* max_rate: one token bucket per tap ('vtap_rates'), shared by all CPUs
 * under a BPF spin lock. */

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/backends/ebpf/vtap_tc_maps.bpf.h"

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

#endif /* vtap/backends/ebpf/vtap_tc_rate.bpf.h */
