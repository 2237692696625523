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

#ifndef VTAP_TESTS_EBPF_TESTER_H
#define VTAP_TESTS_EBPF_TESTER_H 1

/* A packet-in/packet-out tester for the TC program, after Katran's: it runs
 * the real program, loaded into this kernel by the real backend, on crafted
 * packets, and reports the verdict, the packet as the program left it and
 * every copy that reached the monitor device.
 *
 * The tester moves the whole test process into a network namespace of its
 * own (unshare), so the devices it creates there (veth pairs: sel0/sel0p,
 * sel1/sel1p, mon0/mon0p, mon1/mon1p) vanish with the process, whatever
 * happens.  Packets go in two ways: BPF_PROG_TEST_RUN on a device
 * (run_ingress()/run_egress(): the packet as crafted, VLAN tags in the
 * data), or for real, sent from the peer of a device so that the kernel
 * receives it on that device's TC ingress (send_to(): VLAN tags then arrive
 * in skb metadata, as on a real port). */

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "vtap/backends/ebpf/ebpf_backend.h"

namespace vtap {
namespace test {

using Bytes = std::vector<uint8_t>;

/* A copy captured on a monitor. */
struct Capture {
    Bytes data;                 /* As on the wire, tag re-inserted. */
    uint16_t vlan_tci = 0;      /* 0 if untagged. */
};

struct RunResult {
    int verdict = 0;            /* Program's return value. */
    Bytes packet;               /* The packet after the program. */
    uint32_t mark = 0;          /* skb->mark after the program. */
};

class EbpfTester {
public:
    /* Returns the tester, creating it on first use, or nullptr with
     * '*why' set if this process cannot (not root, no BPF). */
    static EbpfTester *get(std::string *why);

    EbpfBackend &backend() { return *backend_; }

    /* Device index by name, e.g. ifindex("sel0"). */
    static uint32_t ifindex(const std::string &name);

    RunResult run_ingress(const std::string &dev, const Bytes &packet,
                          uint32_t mark = 0);
    RunResult run_egress(const std::string &dev, const Bytes &packet,
                         uint32_t mark = 0);

    /* Sends 'packet' from the peer of 'dev' (e.g. "sel0p" for "sel0"). */
    void send_to(const std::string &dev, const Bytes &packet);

    /* Returns the copies that reached 'monitor' (e.g. "mon0p") since the
     * last call, waiting briefly for stragglers. */
    std::vector<Capture> captured(const std::string &monitor);

    /* Replaces every tap with 'taps' (group 1). */
    std::vector<std::string> set_taps(const std::vector<TcTap> &taps);

    /* Counters of 'owner'. */
    vtap_tc_stats stats(uint64_t owner);

    /* Marks the clone carries, to drive the edit stage directly. */
    uint32_t mark_magic();

private:
    EbpfTester() = default;
    std::string init();
    RunResult run(int prog_fd, const std::string &dev, const Bytes &packet,
                  uint32_t mark);
    int socket_for(const std::string &dev);

    std::unique_ptr<EbpfBackend> backend_;
    std::vector<std::pair<std::string, int>> sockets_;
};

/* The fixture of the tests that run the TC program: each test starts and
 * ends with no taps and nothing left to capture on the monitors, and is
 * skipped where this process cannot run BPF programs. */
class EbpfTest : public ::testing::Test {
protected:
    void SetUp() override;
    void TearDown() override;

    EbpfTester *tester_ = nullptr;
};

/* Packet crafting.  Addresses are from documentation ranges. */
struct PacketSpec {
    uint8_t eth_src[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x01};
    uint8_t eth_dst[6] = {0x00, 0x00, 0x5e, 0x00, 0x53, 0x02};
    std::vector<std::pair<uint16_t, uint16_t>> tags; /* (TPID, TCI). */
    bool ipv6 = false;
    std::string src = "198.51.100.1";
    std::string dst = "198.51.100.2";
    uint8_t proto = 17;             /* UDP. */
    uint16_t sport = 1000, dport = 2000;
    size_t payload = 18;
    uint16_t frag_offset = 0;       /* In 8-byte units. */
    bool more_fragments = false;
    std::vector<uint8_t> ipv6_ext;  /* Extension headers to chain. */
    bool ipv4_options = false;      /* Adds 8 bytes of NOP options. */
};

Bytes make_packet(const PacketSpec &spec);

}  // namespace test
}  // namespace vtap

#endif /* vtap/tests/ebpf_tester.h */
