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

#include "vtap/backends/dpdk/dpdk_copy.h"

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace vtap {
namespace dpdk {

namespace {

constexpr uint32_t kMacBytes = 2 * RTE_ETHER_ADDR_LEN;    /* dst + src */
constexpr uint32_t kTagBytes = sizeof(rte_vlan_hdr);

/* Copies need no offload by the NIC: a driver that prepares checksums
 * would write them into data shared with the original. */
void
clear_tx_offloads(rte_mbuf *m)
{
    m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
    m->tx_offload = 0;
}

/* Copies 'n' bytes of 'pkt' from offset 'off' into 'dst'.  (DPDK's
 * rte_pktmbuf_read() copies only when the bytes span segments; otherwise
 * it returns where they are.) */
void
read_into(const rte_mbuf *pkt, uint32_t off, uint32_t n, uint8_t *dst)
{
    const void *p = rte_pktmbuf_read(pkt, off, n, dst);
    if (p != dst) {
        memcpy(dst, p, n);
    }
}

/* Writes into 'dst' the first 'n' bytes of 'pkt' (n >= kMacBytes) with a
 * VLAN tag 'tci' inserted after the MACs if 'tci' is nonzero.  Returns the
 * number of bytes written. */
uint32_t
put_head(const rte_mbuf *pkt, uint32_t n, uint16_t tci, uint8_t *dst)
{
    if (!tci) {
        read_into(pkt, 0, n, dst);
        return n;
    }

    read_into(pkt, 0, kMacBytes, dst);
    rte_be16_t tag[2] = {rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN),
                         rte_cpu_to_be_16(tci)};
    memcpy(dst + kMacBytes, tag, sizeof tag);
    read_into(pkt, kMacBytes, n - kMacBytes, dst + kMacBytes + kTagBytes);
    return n + kTagBytes;
}

/* A header mbuf holding the first 'n' bytes of 'pkt', tagged with 'tci' if
 * nonzero, followed by a clone of the rest of 'pkt' (if any).  Requires a
 * single-segment 'pkt' with at least 'n' bytes. */
rte_mbuf *
head_and_clone(rte_mbuf *pkt, rte_mempool *pool, uint32_t n, uint16_t tci)
{
    rte_mbuf *head = rte_pktmbuf_alloc(pool);
    if (!head) {
        return nullptr;
    }
    uint32_t room = rte_pktmbuf_tailroom(head);
    if (n + (tci ? kTagBytes : 0) > room) {
        rte_pktmbuf_free(head);
        return nullptr;
    }
    uint8_t *dst = rte_pktmbuf_mtod(head, uint8_t *);
    uint32_t len = put_head(pkt, n, tci, dst);
    head->data_len = len;
    head->pkt_len = len;

    if (n < rte_pktmbuf_pkt_len(pkt)) {
        rte_mbuf *body = rte_pktmbuf_clone(pkt, pool);
        if (!body) {
            rte_pktmbuf_free(head);
            return nullptr;
        }
        /* Moves the clone's own view of the data, not the shared data. */
        rte_pktmbuf_adj(body, n);
        if (rte_pktmbuf_chain(head, body)) {
            rte_pktmbuf_free(body);
            rte_pktmbuf_free(head);
            return nullptr;
        }
    }
    return head;
}

/* A full copy of the first 'n' bytes of 'pkt' (n >= kMacBytes) in one
 * mbuf, tagged with 'tci' if nonzero; nullptr if one mbuf of 'pool' cannot
 * hold it. */
rte_mbuf *
single_mbuf_copy(rte_mbuf *pkt, rte_mempool *pool, uint32_t n, uint16_t tci)
{
    rte_mbuf *copy = rte_pktmbuf_alloc(pool);
    if (!copy) {
        return nullptr;
    }
    if (n + (tci ? kTagBytes : 0) > rte_pktmbuf_tailroom(copy)) {
        rte_pktmbuf_free(copy);
        return nullptr;
    }
    uint32_t len = put_head(pkt, n, tci, rte_pktmbuf_mtod(copy, uint8_t *));
    copy->data_len = len;
    copy->pkt_len = len;
    return copy;
}

/* A full copy of the first 'n' bytes of 'pkt', tagged with 'tci' if
 * nonzero: one mbuf when it fits, else a chain unless 'single_segment'. */
rte_mbuf *
full_copy(rte_mbuf *pkt, rte_mempool *pool, uint32_t n, uint16_t tci,
          bool single_segment)
{
    if (n >= kMacBytes) {
        rte_mbuf *copy = single_mbuf_copy(pkt, pool, n, tci);
        if (copy || single_segment) {
            return copy;
        }
    } else if (tci) {
        return nullptr;
    }

    rte_mbuf *copy = rte_pktmbuf_copy(pkt, pool, 0, n);
    if (copy && tci) {
        /* 'copy' is fresh, direct and ours alone: it may be written. */
        if (rte_vlan_insert(&copy)) {
            rte_pktmbuf_free(copy);
            return nullptr;
        }
        rte_vlan_hdr *vh = rte_pktmbuf_mtod_offset(copy, rte_vlan_hdr *,
                                                   sizeof(rte_ether_hdr));
        vh->vlan_tci = rte_cpu_to_be_16(tci);
    }
    return copy;
}

}  // namespace

void
trim_to(rte_mbuf *m, uint32_t len) noexcept
{
    if (!m || rte_pktmbuf_pkt_len(m) <= len) {
        return;
    }

    uint32_t kept = 0;
    uint16_t n_segs = 0;
    rte_mbuf *seg = m;
    for (;;) {
        n_segs++;
        if (kept + seg->data_len >= len || !seg->next) {
            seg->data_len = len - kept;
            break;
        }
        kept += seg->data_len;
        seg = seg->next;
    }
    if (seg->next) {
        rte_pktmbuf_free(seg->next);
        seg->next = nullptr;
    }
    m->nb_segs = n_segs;
    m->pkt_len = len;
}

rte_mbuf *
make_copy(rte_mbuf *pkt, rte_mempool *pool, const CopyRequest &req,
          CopyMode *mode_used) noexcept
{
    CopyMode mode = req.mode;
    uint32_t pkt_len = rte_pktmbuf_pkt_len(pkt);
    bool single = rte_pktmbuf_is_contiguous(pkt);

    /* What each mode needs of the packet; otherwise a full copy is always
     * right. */
    if (mode == CopyMode::kZeroCopy && req.vlan_tci
        && rte_pktmbuf_data_len(pkt) < sizeof(rte_ether_hdr)) {
        mode = CopyMode::kFullCopy;
    } else if (mode == CopyMode::kHeaderCopy
               && (!single || pkt_len < sizeof(rte_ether_hdr))) {
        mode = CopyMode::kFullCopy;
    }
    if (req.single_segment
        && (mode == CopyMode::kHeaderCopy
            || (mode == CopyMode::kZeroCopy && (req.vlan_tci || !single)))) {
        mode = CopyMode::kFullCopy;
    }

    /* The bytes of 'pkt' that the copy keeps: a full copy copies no
     * more. */
    uint32_t tag_bytes = req.vlan_tci ? kTagBytes : 0;
    uint32_t kept = pkt_len;
    if (req.snaplen && req.snaplen < pkt_len + tag_bytes) {
        kept = req.snaplen > tag_bytes ? req.snaplen - tag_bytes : 0;
    }

    rte_mbuf *copy = nullptr;
    switch (mode) {
    case CopyMode::kZeroCopy:
        copy = (req.vlan_tci
                ? head_and_clone(pkt, pool, kMacBytes, req.vlan_tci)
                : rte_pktmbuf_clone(pkt, pool));
        break;
    case CopyMode::kHeaderCopy:
        copy = head_and_clone(pkt, pool,
                              std::clamp<uint32_t>(req.header_bytes,
                                                   kMacBytes, pkt_len),
                              req.vlan_tci);
        break;
    case CopyMode::kFullCopy:
        copy = full_copy(pkt, pool, kept, req.vlan_tci, req.single_segment);
        break;
    }
    if (!copy) {
        return nullptr;
    }
    if (req.snaplen) {
        trim_to(copy, req.snaplen);
    }
    for (rte_mbuf *seg = copy; seg; seg = seg->next) {
        clear_tx_offloads(seg);
    }
    if (mode_used) {
        *mode_used = mode;
    }
    return copy;
}

}  // namespace dpdk
}  // namespace vtap
