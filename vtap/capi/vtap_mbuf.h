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


#ifndef VTAP_CAPI_VTAP_MBUF_H
#define VTAP_CAPI_VTAP_MBUF_H 1

/* C ABI of the DPDK backend's copy engine (vtap/backends/dpdk/dpdk_copy),
 * for the userspace datapath's tap copy action (lib/vtap-dpdk.c).  Only
 * builds with DPDK link it (vtap/libvtap-dpdk.a); this header itself needs
 * no DPDK header, so that code of every build can name the modes. */

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;

/* How a copy shares the original's data.  Ordered from the cheapest to the
 * safest: when in doubt, a larger mode is always correct. */
enum vtap_mbuf_copy_mode {
    VTAP_MBUF_ZERO_COPY,        /* An indirect mbuf: shares all the data. */
    VTAP_MBUF_HEADER_COPY,      /* The headers copied, the rest shared. */
    VTAP_MBUF_FULL_COPY,        /* All the data copied. */
};
#define VTAP_MBUF_N_COPY_MODES 3

/* What a copy must be. */
struct vtap_mbuf_copy_request {
    /* What the caller allows: a zero copy only if nothing writes the
     * packet's data while the copy may live, a header copy if only its
     * first 'header_bytes' may be written. */
    enum vtap_mbuf_copy_mode mode;
    uint32_t header_bytes;
    uint32_t snaplen;           /* The copy's length at most, 0: none. */
    uint16_t vlan_tci;          /* A tag for the copy, 0: none. */
    bool single_segment;        /* The copy must be one mbuf: its port
                                 * sends no chains. */
};

/* Returns the copy of 'pkt' that a tap sends to its monitor, as 'req'
 * asks, or NULL if it could not be allocated from 'pool' (or 'pkt',
 * 'pool' or 'req' is NULL).  A packet that the mode cannot serve safely
 * gets a full copy; '*mode_used' (if nonnull) says which mode made the
 * copy.  The original is never changed, and the copy carries no TX
 * offload request. */
struct rte_mbuf *vtap_mbuf_make_copy(struct rte_mbuf *pkt,
                                     struct rte_mempool *pool,
                                     const struct vtap_mbuf_copy_request *req,
                                     enum vtap_mbuf_copy_mode *mode_used);

#ifdef __cplusplus
}
#endif

#endif /* vtap/capi/vtap_mbuf.h */
