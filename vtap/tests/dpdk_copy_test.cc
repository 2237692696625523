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

/* Tests of the DPDK copy engine on real mbufs, with DPDK's EAL running in
 * memory: no hugepages, no devices.  Zero copy is proven by what DPDK
 * itself says of the copy (indirect mbufs, the data they point at, the
 * original's reference count), isolation by writing into the original
 * after the copy, and the absence of leaks by the pool's in-use count. */

#include "vtap/backends/dpdk/dpdk_copy.h"
#include "vtap/capi/vtap_mbuf.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using vtap::dpdk::CopyMode;
using vtap::dpdk::CopyRequest;
using vtap::dpdk::make_copy;

bool eal_ready;

/* Starts the EAL once for the whole process. */
class EalEnvironment : public ::testing::Environment {
public:
    void SetUp() override
    {
        std::string prefix = "--file-prefix=vtap-gtest-"
                             + std::to_string(getpid());
        const char *args[] = {
            "vtap-dpdk-unittests", "--no-huge", "-m", "64", "--no-shconf",
            "--no-pci", "--no-telemetry", "-l", "0",
            "--log-level=*:error", "--vdev=net_ring0", prefix.c_str(),
        };
        int argc = sizeof args / sizeof *args;
        eal_ready = rte_eal_init(argc, const_cast<char **>(args)) >= 0;
    }

    void TearDown() override
    {
        if (eal_ready) {
            /* The EAL leaves its runtime directory behind. */
            std::string dir = rte_eal_get_runtime_dir();
            rte_eal_cleanup();
            std::filesystem::remove_all(dir);
        }
    }
};

const auto *const kEnv = ::testing::AddGlobalTestEnvironment(
    new EalEnvironment);

class DpdkCopyTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (!eal_ready) {
            GTEST_SKIP() << "DPDK's EAL does not start here";
        }
        static int n;
        std::string name = "vtap_test" + std::to_string(n++);
        pool_ = rte_pktmbuf_pool_create(name.c_str(), 63, 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE,
                                        SOCKET_ID_ANY);
        ASSERT_NE(pool_, nullptr);
    }

    void TearDown() override
    {
        if (pool_) {
            /* Every test gives back every mbuf it took. */
            EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
            rte_mempool_free(pool_);
        }
    }

    /* A single-segment UDP-ish frame of 'len' bytes: byte i is i % 251,
     * so that every offset is recognisable. */
    rte_mbuf *packet(uint16_t len)
    {
        rte_mbuf *m = rte_pktmbuf_alloc(pool_);
        EXPECT_NE(m, nullptr);
        uint8_t *p = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, len));
        for (uint16_t i = 0; i < len; i++) {
            p[i] = i % 251;
        }
        return m;
    }

    /* The bytes of a (possibly chained) packet. */
    static std::vector<uint8_t> bytes(const rte_mbuf *m)
    {
        std::vector<uint8_t> out(rte_pktmbuf_pkt_len(m));
        const void *p = rte_pktmbuf_read(m, 0, out.size(), out.data());
        if (p != out.data()) {
            memcpy(out.data(), p, out.size());
        }
        return out;
    }

    static std::vector<uint8_t> tagged(std::vector<uint8_t> frame,
                                       uint16_t tci)
    {
        uint8_t tag[4] = {0x81, 0x00, uint8_t(tci >> 8), uint8_t(tci)};
        frame.insert(frame.begin() + 12, tag, tag + 4);
        return frame;
    }

    rte_mbuf *copy(rte_mbuf *pkt, CopyMode mode, uint16_t tci = 0,
                   uint32_t snaplen = 0, CopyMode *used = nullptr)
    {
        CopyRequest req;
        req.mode = mode;
        req.vlan_tci = tci;
        req.snaplen = snaplen;
        req.header_bytes = 64;
        return make_copy(pkt, pool_, req, used);
    }

    rte_mempool *pool_ = nullptr;
};

TEST_F(DpdkCopyTest, ZeroCopySharesTheDataAndHoldsAReference)
{
    rte_mbuf *pkt = packet(200);
    std::vector<uint8_t> before = bytes(pkt);
    CopyMode used;
    rte_mbuf *c = copy(pkt, CopyMode::kZeroCopy, 0, 0, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, CopyMode::kZeroCopy);

    EXPECT_TRUE(RTE_MBUF_CLONED(c));
    EXPECT_EQ(rte_mbuf_from_indirect(c), pkt);
    EXPECT_EQ(rte_pktmbuf_mtod(c, uint8_t *), rte_pktmbuf_mtod(pkt, uint8_t *));
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 2);
    EXPECT_EQ(bytes(c), before);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 2u);

    rte_pktmbuf_free(c);
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    EXPECT_EQ(bytes(pkt), before);
    rte_pktmbuf_free(pkt);
}

/* The tag goes into a header mbuf of its own; the shared data is never
 * written, and the original keeps its length and bytes. */
TEST_F(DpdkCopyTest, ZeroCopyWithATagPrependsAHeaderMbuf)
{
    rte_mbuf *pkt = packet(200);
    std::vector<uint8_t> before = bytes(pkt);
    rte_mbuf *c = copy(pkt, CopyMode::kZeroCopy, 100);
    ASSERT_NE(c, nullptr);

    ASSERT_EQ(c->nb_segs, 2);
    EXPECT_FALSE(RTE_MBUF_CLONED(c));
    EXPECT_EQ(c->data_len, 16);
    rte_mbuf *body = c->next;
    EXPECT_TRUE(RTE_MBUF_CLONED(body));
    EXPECT_EQ(rte_mbuf_from_indirect(body), pkt);
    EXPECT_EQ(rte_pktmbuf_mtod(body, uint8_t *),
              rte_pktmbuf_mtod(pkt, uint8_t *) + 12);
    EXPECT_EQ(bytes(c), tagged(before, 100));
    EXPECT_EQ(rte_pktmbuf_pkt_len(pkt), 200u);
    EXPECT_EQ(bytes(pkt), before);

    rte_pktmbuf_free(c);
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    rte_pktmbuf_free(pkt);
}

TEST_F(DpdkCopyTest, SnaplenTrimsTheCopyOnly)
{
    rte_mbuf *pkt = packet(1500);
    std::vector<uint8_t> before = bytes(pkt);
    for (CopyMode mode : {CopyMode::kZeroCopy, CopyMode::kHeaderCopy,
                          CopyMode::kFullCopy}) {
        for (uint16_t tci : {0, 7}) {
            rte_mbuf *c = copy(pkt, mode, tci, 100);
            ASSERT_NE(c, nullptr);
            std::vector<uint8_t> want = tci ? tagged(before, tci) : before;
            want.resize(100);
            EXPECT_EQ(bytes(c), want) << int(mode) << " " << tci;
            rte_pktmbuf_free(c);
        }
    }
    EXPECT_EQ(bytes(pkt), before);
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    rte_pktmbuf_free(pkt);
}

/* A header copy is isolated from later writes into the original's headers
 * (what set_field or push_vlan do after the copy point), and still shares
 * the payload. */
TEST_F(DpdkCopyTest, HeaderCopyIsIsolatedFromWritesIntoTheHeaders)
{
    rte_mbuf *pkt = packet(300);
    std::vector<uint8_t> before = bytes(pkt);
    rte_mbuf *c = copy(pkt, CopyMode::kHeaderCopy);
    ASSERT_NE(c, nullptr);
    ASSERT_EQ(c->nb_segs, 2);
    EXPECT_EQ(c->data_len, 64);
    EXPECT_EQ(rte_pktmbuf_mtod(c->next, uint8_t *),
              rte_pktmbuf_mtod(pkt, uint8_t *) + 64);

    memset(rte_pktmbuf_mtod(pkt, uint8_t *), 0xee, 64);
    EXPECT_EQ(bytes(c), before);

    rte_pktmbuf_free(c);
    rte_pktmbuf_free(pkt);
}

/* The negative control: the same write shows through a zero copy.  This is
 * why zero copy is only for packets that nothing writes afterwards, and it
 * shows that the isolation test above can fail. */
TEST_F(DpdkCopyTest, ZeroCopySeesLaterWritesNegativeControl)
{
    rte_mbuf *pkt = packet(300);
    std::vector<uint8_t> before = bytes(pkt);
    rte_mbuf *c = copy(pkt, CopyMode::kZeroCopy);
    ASSERT_NE(c, nullptr);
    memset(rte_pktmbuf_mtod(pkt, uint8_t *), 0xee, 64);
    EXPECT_NE(bytes(c), before);
    rte_pktmbuf_free(c);
    rte_pktmbuf_free(pkt);
}

TEST_F(DpdkCopyTest, FullCopyOwnsItsData)
{
    rte_mbuf *pkt = packet(300);
    std::vector<uint8_t> before = bytes(pkt);
    rte_mbuf *c = copy(pkt, CopyMode::kFullCopy, 4095);
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(RTE_MBUF_CLONED(c));
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    memset(rte_pktmbuf_mtod(pkt, uint8_t *), 0xee, 300);
    EXPECT_EQ(bytes(c), tagged(before, 4095));
    rte_pktmbuf_free(c);
    rte_pktmbuf_free(pkt);
}

/* A chained packet cannot be split at a header boundary safely: a header
 * copy becomes a full copy, and says so. */
TEST_F(DpdkCopyTest, ChainedPacketsFallBackToAFullCopy)
{
    rte_mbuf *pkt = packet(40);
    rte_mbuf *tail = packet(100);
    ASSERT_EQ(rte_pktmbuf_chain(pkt, tail), 0);
    std::vector<uint8_t> before = bytes(pkt);

    CopyMode used;
    rte_mbuf *c = copy(pkt, CopyMode::kHeaderCopy, 0, 0, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, CopyMode::kFullCopy);
    EXPECT_EQ(bytes(c), before);
    rte_pktmbuf_free(c);

    /* Zero copy of a chain clones every segment. */
    c = copy(pkt, CopyMode::kZeroCopy, 5, 0, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, CopyMode::kZeroCopy);
    EXPECT_EQ(bytes(c), tagged(before, 5));
    rte_pktmbuf_free(c);

    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    EXPECT_EQ(rte_mbuf_refcnt_read(tail), 1);
    rte_pktmbuf_free(pkt);
}

/* Copies carry no TX offload request: a driver would otherwise write
 * checksums into data the original shares. */
TEST_F(DpdkCopyTest, CopiesCarryNoTxOffloads)
{
    rte_mbuf *pkt = packet(200);
    pkt->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4
                     | RTE_MBUF_F_TX_UDP_CKSUM;
    pkt->l2_len = 14;
    pkt->l3_len = 20;
    uint64_t flags = pkt->ol_flags;
    for (CopyMode mode : {CopyMode::kZeroCopy, CopyMode::kHeaderCopy,
                          CopyMode::kFullCopy}) {
        rte_mbuf *c = copy(pkt, mode, 9);
        ASSERT_NE(c, nullptr);
        for (rte_mbuf *seg = c; seg; seg = seg->next) {
            EXPECT_EQ(seg->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK, 0u);
        }
        rte_pktmbuf_free(c);
    }
    EXPECT_EQ(pkt->ol_flags, flags);
    rte_pktmbuf_free(pkt);
}

/* A copy that cannot be allocated is a null copy: nothing leaks and the
 * original is as it was. */
TEST_F(DpdkCopyTest, ExhaustedPoolFailsTheCopyNotTheOriginal)
{
    rte_mbuf *pkt = packet(200);
    std::vector<uint8_t> before = bytes(pkt);
    std::vector<rte_mbuf *> hog;
    while (rte_mbuf *m = rte_pktmbuf_alloc(pool_)) {
        hog.push_back(m);
    }
    for (CopyMode mode : {CopyMode::kZeroCopy, CopyMode::kHeaderCopy,
                          CopyMode::kFullCopy}) {
        EXPECT_EQ(copy(pkt, mode, 3), nullptr);
    }

    /* One mbuf free: a tagged zero copy needs two, and gives back the
     * first when the second is not there. */
    rte_pktmbuf_free(hog.back());
    hog.pop_back();
    EXPECT_EQ(copy(pkt, CopyMode::kZeroCopy, 3), nullptr);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), hog.size() + 1);

    for (rte_mbuf *m : hog) {
        rte_pktmbuf_free(m);
    }
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    EXPECT_EQ(bytes(pkt), before);
    rte_pktmbuf_free(pkt);
}

TEST_F(DpdkCopyTest, TrimAcrossSegmentsFreesTheRest)
{
    rte_mbuf *pkt = packet(50);
    ASSERT_EQ(rte_pktmbuf_chain(pkt, packet(50)), 0);
    ASSERT_EQ(rte_pktmbuf_chain(pkt, packet(50)), 0);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 3u);
    vtap::dpdk::trim_to(pkt, 60);
    EXPECT_EQ(rte_pktmbuf_pkt_len(pkt), 60u);
    EXPECT_EQ(pkt->nb_segs, 2);
    EXPECT_EQ(pkt->next->data_len, 10);
    EXPECT_EQ(rte_mempool_in_use_count(pool_), 2u);
    vtap::dpdk::trim_to(pkt, 100);     /* Not longer: unchanged. */
    EXPECT_EQ(rte_pktmbuf_pkt_len(pkt), 60u);
    rte_pktmbuf_free(pkt);
}

}  // namespace

/* The C ABI that the userspace datapath calls: same engine, modes mapped
 * one to one, NULLs refused, an unknown mode read as the safest. */
TEST_F(DpdkCopyTest, CApiMakesTheCopyTheDatapathAsksFor)
{
    rte_mbuf *pkt = packet(300);
    std::vector<uint8_t> before = bytes(pkt);
    vtap_mbuf_copy_mode used = VTAP_MBUF_FULL_COPY;

    vtap_mbuf_copy_request req = {VTAP_MBUF_ZERO_COPY, 64, 0, 0, false};
    rte_mbuf *c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_ZERO_COPY);
    EXPECT_TRUE(RTE_MBUF_CLONED(c));
    rte_pktmbuf_free(c);

    req = {VTAP_MBUF_HEADER_COPY, 64, 100, 300, false};
    c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_HEADER_COPY);
    std::vector<uint8_t> want = tagged(before, 300);
    want.resize(100);
    EXPECT_EQ(bytes(c), want);
    rte_pktmbuf_free(c);

    req = {static_cast<vtap_mbuf_copy_mode>(7), 64, 0, 0, false};
    c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_FULL_COPY);
    EXPECT_FALSE(RTE_MBUF_CLONED(c));
    EXPECT_EQ(bytes(c), before);
    rte_pktmbuf_free(c);

    req = {VTAP_MBUF_ZERO_COPY, 64, 0, 0, false};
    EXPECT_EQ(vtap_mbuf_make_copy(nullptr, pool_, &req, &used), nullptr);
    EXPECT_EQ(vtap_mbuf_make_copy(pkt, nullptr, &req, &used), nullptr);
    EXPECT_EQ(vtap_mbuf_make_copy(pkt, pool_, nullptr, &used), nullptr);
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    EXPECT_EQ(bytes(pkt), before);
    rte_pktmbuf_free(pkt);
}

/* For a port without multi-segment TX (a NIC whose simple TX path sends a
 * chain's first segment and leaks the rest), no copy is a chain: a header
 * copy and a tagged zero copy become full copies in one mbuf, a zero copy
 * of a single-segment packet stays a clone, and a copy that one mbuf
 * cannot hold fails rather than leaving as a chain. */
TEST_F(DpdkCopyTest, SingleSegmentCopiesAreNeverChains)
{
    rte_mbuf *pkt = packet(300);
    std::vector<uint8_t> before = bytes(pkt);
    vtap_mbuf_copy_mode used;

    vtap_mbuf_copy_request req = {VTAP_MBUF_HEADER_COPY, 64, 0, 0, true};
    rte_mbuf *c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_FULL_COPY);
    EXPECT_EQ(c->nb_segs, 1);
    EXPECT_EQ(bytes(c), before);
    rte_pktmbuf_free(c);

    req = {VTAP_MBUF_ZERO_COPY, 64, 120, 300, true};
    c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_FULL_COPY);
    EXPECT_EQ(c->nb_segs, 1);
    std::vector<uint8_t> want = tagged(before, 300);
    want.resize(120);
    EXPECT_EQ(bytes(c), want);
    rte_pktmbuf_free(c);

    req = {VTAP_MBUF_ZERO_COPY, 64, 0, 0, true};
    c = vtap_mbuf_make_copy(pkt, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(used, VTAP_MBUF_ZERO_COPY);
    EXPECT_EQ(c->nb_segs, 1);
    rte_pktmbuf_free(c);
    rte_pktmbuf_free(pkt);

    /* Longer than one mbuf of the pool: a chain without the flag, nothing
     * with it. */
    rte_mbuf *big = packet(1500);
    ASSERT_EQ(rte_pktmbuf_chain(big, packet(1500)), 0);
    ASSERT_EQ(rte_pktmbuf_chain(big, packet(1000)), 0);
    req = {VTAP_MBUF_FULL_COPY, 64, 0, 0, false};
    c = vtap_mbuf_make_copy(big, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_GT(c->nb_segs, 1);
    rte_pktmbuf_free(c);
    req.single_segment = true;
    EXPECT_EQ(vtap_mbuf_make_copy(big, pool_, &req, &used), nullptr);
    /* Cut to a snap length that fits, it is one mbuf again. */
    req.snaplen = 1800;
    c = vtap_mbuf_make_copy(big, pool_, &req, &used);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->nb_segs, 1);
    EXPECT_EQ(rte_pktmbuf_pkt_len(c), 1800u);
    rte_pktmbuf_free(c);
    EXPECT_EQ(rte_mbuf_refcnt_read(big), 1);
    rte_pktmbuf_free(big);
}

/* Through a port: net_ring hands mbuf pointers from TX to RX (its TX and
 * RX queues share one ring), as a NIC would DMA from them.  What comes out
 * is the copy itself, still sharing the original's data, and once the
 * receiver frees it everything goes back to the pool. */
TEST_F(DpdkCopyTest, ZeroCopiesCrossANetRingPortUncopied)
{
    uint16_t port;
    if (rte_eth_dev_get_port_by_name("net_ring0", &port)) {
        GTEST_SKIP() << "no net_ring0 port";
    }
    rte_eth_conf conf = {};
    ASSERT_EQ(rte_eth_dev_configure(port, 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, nullptr,
                                     pool_), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, nullptr),
              0);
    ASSERT_EQ(rte_eth_dev_start(port), 0);

    rte_mbuf *pkt = packet(400);
    std::vector<uint8_t> before = bytes(pkt);
    rte_mbuf *copies[4];
    for (rte_mbuf *&c : copies) {
        vtap_mbuf_copy_request req = {VTAP_MBUF_ZERO_COPY, 64, 0, 0, false};
        c = vtap_mbuf_make_copy(pkt, pool_, &req, nullptr);
        ASSERT_NE(c, nullptr);
    }
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 5);
    ASSERT_EQ(rte_eth_tx_burst(port, 0, copies, 4), 4);

    rte_mbuf *rx[8];
    uint16_t n = rte_eth_rx_burst(port, 0, rx, 8);
    ASSERT_EQ(n, 4);
    for (uint16_t i = 0; i < n; i++) {
        EXPECT_EQ(rx[i], copies[i]);
        EXPECT_TRUE(RTE_MBUF_CLONED(rx[i]));
        EXPECT_EQ(rte_mbuf_from_indirect(rx[i]), pkt);
        EXPECT_EQ(rte_pktmbuf_mtod(rx[i], uint8_t *),
                  rte_pktmbuf_mtod(pkt, uint8_t *));
        EXPECT_EQ(bytes(rx[i]), before);
        rte_pktmbuf_free(rx[i]);
    }
    EXPECT_EQ(rte_mbuf_refcnt_read(pkt), 1);
    rte_pktmbuf_free(pkt);
    EXPECT_EQ(rte_eth_dev_stop(port), 0);
}
