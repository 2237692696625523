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


/* The C ABI of the DPDK copy engine: vtap/capi/vtap_mbuf.h. */

#include "vtap/capi/vtap_mbuf.h"

#include "vtap/backends/dpdk/dpdk_copy.h"

namespace {

using vtap::dpdk::CopyMode;

/* The C and C++ enums list the modes in the same order. */
static_assert(static_cast<int>(CopyMode::kZeroCopy) == VTAP_MBUF_ZERO_COPY
              && static_cast<int>(CopyMode::kHeaderCopy)
                 == VTAP_MBUF_HEADER_COPY
              && static_cast<int>(CopyMode::kFullCopy) == VTAP_MBUF_FULL_COPY,
              "copy modes differ between the C ABI and the engine");

}  // namespace

extern "C" struct rte_mbuf *
vtap_mbuf_make_copy(struct rte_mbuf *pkt, struct rte_mempool *pool,
                    const struct vtap_mbuf_copy_request *creq,
                    enum vtap_mbuf_copy_mode *mode_used)
{
    if (!pkt || !pool || !creq) {
        return nullptr;
    }

    vtap::dpdk::CopyRequest req;
    /* A mode outside the enum is read as the safest one. */
    req.mode = (creq->mode == VTAP_MBUF_ZERO_COPY ? CopyMode::kZeroCopy
                : creq->mode == VTAP_MBUF_HEADER_COPY ? CopyMode::kHeaderCopy
                : CopyMode::kFullCopy);
    req.header_bytes = creq->header_bytes;
    req.snaplen = creq->snaplen;
    req.vlan_tci = creq->vlan_tci;
    req.single_segment = creq->single_segment;

    CopyMode used = req.mode;
    rte_mbuf *copy = vtap::dpdk::make_copy(pkt, pool, req, &used);
    if (copy && mode_used) {
        *mode_used = static_cast<enum vtap_mbuf_copy_mode>(used);
    }
    return copy;
}
