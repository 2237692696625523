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


#ifndef VTAP_CAPI_VTAP_DPDK_H
#define VTAP_CAPI_VTAP_DPDK_H 1

/* C ABI of the DPDK backend's copy engine (vtap/backends/dpdk/dpdk_copy),
 * for the userspace datapath's tap copy action (lib/vtap-dpdk.c).  Only
 * builds with DPDK link it (vtap/libvtap-dpdk.a); this header itself needs
 * no DPDK header, so that code of every build can name the modes. */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;

/* How a copy shares the original's data.  Ordered from the cheapest to the
 * safest: when in doubt, a larger mode is always correct. */
enum vtap_dpdk_copy_mode {
    VTAP_DPDK_ZERO_COPY,        /* An indirect mbuf: shares all the data. */
    VTAP_DPDK_HEADER_COPY,      /* The headers copied, the rest shared. */
    VTAP_DPDK_FULL_COPY,        /* All the data copied. */
};
#define VTAP_DPDK_N_COPY_MODES 3

/* Returns the copy of 'pkt' that a tap sends to its monitor, or NULL if it
 * could not be allocated from 'pool' (or 'pkt' or 'pool' is NULL).
 *
 * 'mode' says what the caller allows: a zero copy only if nothing writes
 * the packet's data while the copy may live, a header copy if only its
 * first 'header_bytes' may be written.  'snaplen' (0: none) bounds the
 * copy's length, 'vlan_tci' (0: none) tags it.  A packet that 'mode'
 * cannot serve safely gets a full copy; '*mode_used' (if nonnull) says
 * which mode made the copy.  The original is never changed, and the copy
 * carries no TX offload request. */
struct rte_mbuf *vtap_dpdk_make_copy(struct rte_mbuf *pkt,
                                     struct rte_mempool *pool,
                                     enum vtap_dpdk_copy_mode mode,
                                     uint32_t header_bytes, uint32_t snaplen,
                                     uint16_t vlan_tci,
                                     enum vtap_dpdk_copy_mode *mode_used);

#ifdef __cplusplus
}
#endif

#endif /* vtap/capi/vtap_dpdk.h */
