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

#ifndef VTAP_BACKENDS_DPDK_DPDK_COPY_H
#define VTAP_BACKENDS_DPDK_DPDK_COPY_H 1

/* The DPDK backend's copy engine: makes the copy of a packet that a tap
 * sends to its monitor, from the packet's mbuf, with as little copying of
 * data as the caller allows.
 *
 *   - Zero copy: an indirect mbuf (rte_pktmbuf_clone) shares the packet's
 *     data and holds a reference on it.  Safe only if nothing writes the
 *     packet's data while the copy lives: the caller proves that by the
 *     actions that follow the copy point.  A VLAN tag for the copy goes in
 *     a small header mbuf (destination and source MACs, 0x8100, TCI)
 *     chained before a clone that starts after the MACs, as DPDK's
 *     ipv4_multicast example prepends its headers: the shared data is never
 *     written.
 *   - Header copy: the first bytes (the headers that later actions may
 *     write) are copied into a header mbuf, the rest is shared.
 *   - Full copy: a new mbuf with all the data, for when writers cannot be
 *     known (recirculation, conntrack) or the packet is a chain.  Only the
 *     bytes the copy keeps (its snap length) are copied.
 *
 * Zero copies with a tag and header copies are chains, and so is a full
 * copy longer than one mbuf of the pool: for a port that sends single
 * segments only (an ethdev without RTE_ETH_TX_OFFLOAD_MULTI_SEGS, whose
 * simple TX path would send the first segment and leak the rest), the
 * caller asks for single-segment copies, which are full copies into one
 * mbuf (or a clone of a single-segment packet), and fail if that cannot
 * hold them.
 *
 * The original is never changed: not its data, not its length, not its
 * flags.  A copy that cannot be allocated is reported as NULL and the
 * original goes on as if no tap existed.  Copies carry no TX offload
 * flags, so that no driver computes checksums into shared data.
 *
 * Nothing here knows Open vSwitch: the caller (the userspace datapath)
 * fills in its own metadata of the copy. */

#include <cstdint>

struct rte_mbuf;
struct rte_mempool;

namespace vtap {
namespace dpdk {

enum class CopyMode {
    kZeroCopy,
    kHeaderCopy,
    kFullCopy,
};

struct CopyRequest {
    CopyMode mode = CopyMode::kFullCopy;
    uint32_t header_bytes = 128;    /* kHeaderCopy: bytes copied. */
    uint32_t snaplen = 0;           /* 0: the whole packet. */
    uint16_t vlan_tci = 0;          /* 0: no tag on the copy. */
    bool single_segment = false;    /* The copy must be one mbuf. */
};

/* Returns a copy of 'pkt' as 'req' asks, its mbufs taken from 'pool', or
 * nullptr if they could not be allocated.  '*mode_used' (if nonnull) says
 * how it was made: a packet that the mode cannot serve safely (a chained
 * packet for a header copy, a first segment shorter than an Ethernet
 * header for a tag, a chain where single segments are asked for) falls
 * back to a full copy.  Never throws. */
rte_mbuf *make_copy(rte_mbuf *pkt, rte_mempool *pool, const CopyRequest &req,
                    CopyMode *mode_used) noexcept;

/* Trims the chain 'm' to 'len' bytes from its tail, freeing segments that
 * are left empty.  Does nothing if 'm' is not longer. */
void trim_to(rte_mbuf *m, uint32_t len) noexcept;

}  // namespace dpdk
}  // namespace vtap

#endif /* vtap/backends/dpdk/dpdk_copy.h */
