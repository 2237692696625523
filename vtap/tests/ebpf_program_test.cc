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

/* Tests of the TC program, loaded into this kernel by the real backend and
 * run on crafted packets (see ebpf_tester.h).  Each test states the verdict
 * (always "next": the program never drops or redirects the original), the
 * original after the program (always unchanged) and exactly which copies
 * reached which monitor. */

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstring>
#include <cstdlib>

#include <bpf/bpf.h>

#include "vtap/policy/match.h"
#include "vtap/tests/ebpf_tester.h"

namespace vtap {
namespace test {
namespace {

size_t map_entries(int fd, size_t key_size);

class EbpfProgram : public EbpfTest {
protected:
    /* A tap on ingress of 'src' (or egress of 'dst') to 'out'. */
    static TcTap tap(uint64_t owner, const std::string &match,
                     const std::string &src, const std::string &dst = "",
                     const std::string &out = "mon0")
    {
        TcTap t;
        t.owner = owner;
        std::string error = parse_match(match, &t.match);
        EXPECT_EQ(error, "") << match;
        if (!src.empty()) {
            t.src_ifindexes.push_back(EbpfTester::ifindex(src));
        }
        if (!dst.empty()) {
            t.dst_ifindexes.push_back(EbpfTester::ifindex(dst));
        }
        t.out_ifindex = EbpfTester::ifindex(out);
        return t;
    }

    void set(const std::vector<TcTap> &taps)
    {
        for (const std::string &reason : tester_->set_taps(taps)) {
            ASSERT_EQ(reason, "");
        }
    }

    /* Runs 'packet' through sel0's ingress and returns how many copies
     * reached mon0, checking the original is untouched. */
    size_t copies_at_ingress(const Bytes &packet,
                             const std::string &dev = "sel0")
    {
        RunResult r = tester_->run_ingress(dev, packet);
        EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
        EXPECT_EQ(r.packet, packet);
        return tester_->captured("mon0p").size();
    }

    /* Number of TCX programs the kernel has on 'dev' in 'direction'. */
    static uint32_t tcx_programs(const std::string &dev, uint32_t direction)
    {
        uint32_t ids[16], count = 16, attach_flags = 0;
        int type = direction == VTAP_TC_INGRESS ? 46 : 47;

        if (bpf_prog_query(EbpfTester::ifindex(dev),
                           static_cast<bpf_attach_type>(type), 0,
                           &attach_flags, ids, &count)) {
            ADD_FAILURE() << "BPF_PROG_QUERY on " << dev << " failed";
            return UINT32_MAX;
        }
        return count;
    }

    /* The mark that the select stage gives the copies of 'owner'. */
    uint32_t copy_mark(uint64_t owner)
    {
        uint32_t slot = 0;
        EXPECT_TRUE(tester_->backend().slot_of(owner, &slot));
        return VTAP_TC_MARK(tester_->mark_magic(), slot);
    }

    /* A UDP packet long enough for a snaplen to cut. */
    static Bytes long_packet()
    {
        PacketSpec spec;
        spec.payload = 100;
        return make_packet(spec);
    }
};

TEST_F(EbpfProgram, NoTapNoCopy)
{
    PacketSpec spec;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
}

TEST_F(EbpfProgram, UdpPortCopiedOnceByteForByte)
{
    set({tap(1, "udp,tp_dst=2000", "sel0")});
    PacketSpec spec;
    Bytes packet = make_packet(spec);

    RunResult r = tester_->run_ingress("sel0", packet);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, packet);
    EXPECT_EQ(copies[0].vlan_tci, 0);

    spec.dport = 2001;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
    spec.proto = 6;
    spec.dport = 2000;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);

    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets, 1u);
    EXPECT_EQ(s.bytes, packet.size());
    EXPECT_EQ(s.failed, 0u);
}

TEST_F(EbpfProgram, IngressTapIgnoresOtherDevicesAndEgress)
{
    set({tap(1, "", "sel0")});
    Bytes packet = make_packet(PacketSpec());

    EXPECT_EQ(copies_at_ingress(packet, "sel1"), 0u);
    RunResult r = tester_->run_egress("sel0", packet);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);
    EXPECT_EQ(copies_at_ingress(packet, "sel0"), 1u);
}

TEST_F(EbpfProgram, EgressTap)
{
    set({tap(1, "ip,nw_dst=198.51.100.0/24", "", "sel1")});
    Bytes packet = make_packet(PacketSpec());

    RunResult r = tester_->run_egress("sel1", packet);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(tester_->captured("mon0p").size(), 1u);
    EXPECT_EQ(copies_at_ingress(packet, "sel1"), 0u);
}

TEST_F(EbpfProgram, Ipv4OptionsAndFragments)
{
    set({tap(1, "udp,tp_dst=2000", "sel0"), tap(2, "udp", "sel0", "",
                                                  "mon1")});
    PacketSpec spec;
    spec.ipv4_options = true;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);

    /* First fragment: has the ports. */
    spec.ipv4_options = false;
    spec.more_fragments = true;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);

    /* A later fragment: protocol but no ports, so only "udp" selects it;
     * its first payload bytes must not be read as ports. */
    spec.frag_offset = 185;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);
}

TEST_F(EbpfProgram, Ipv6ExtensionHeaders)
{
    set({tap(1, "tcp6,ipv6_dst=2001:db8::/32,tp_dst=443", "sel0")});
    PacketSpec spec;
    spec.ipv6 = true;
    spec.src = "2001:db8::1";
    spec.dst = "2001:db8::2";
    spec.proto = 6;
    spec.dport = 443;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);

    /* Hop-by-hop, destination options, routing, AH: all skipped. */
    spec.ipv6_ext = {0, 60, 43, 51};
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);

    /* First fragment, then a later one (no ports). */
    spec.ipv6_ext = {0, 44};
    spec.more_fragments = true;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    spec.frag_offset = 100;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);

    /* More extension headers than the parser follows: L4 is not found. */
    spec.frag_offset = 0;
    spec.more_fragments = false;
    spec.ipv6_ext = {0, 60, 60, 60, 60, 60, 60};
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);

    spec.ipv6_ext.clear();
    spec.dst = "2001:db9::2";
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
}

TEST_F(EbpfProgram, Ipv6PrefixWithTooManyHeadersStillMatchesL3)
{
    set({tap(1, "ipv6,ipv6_dst=2001:db8::/32", "sel0")});
    PacketSpec spec;
    spec.ipv6 = true;
    spec.src = "2001:db8::1";
    spec.dst = "2001:db8::2";
    spec.ipv6_ext = {0, 60, 60, 60, 60, 60, 60};
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
}

TEST_F(EbpfProgram, SctpAndIcmp)
{
    set({tap(1, "sctp,tp_src=1000", "sel0"), tap(2, "icmp", "sel0", "",
                                                   "mon1")});
    PacketSpec spec;
    spec.proto = 132;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    spec.proto = 1;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);
}

TEST_F(EbpfProgram, VlanMatchesOuterTag)
{
    set({tap(1, "dl_vlan=100,udp", "sel0")});
    PacketSpec spec;

    spec.tags = {{0x8100, 100}};
    RunResult r = tester_->run_ingress("sel0", make_packet(spec));
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, make_packet(spec));

    /* QinQ: 802.1ad outer tag 100, inner 200; the outer one counts, and
     * the protocol under both tags is found. */
    spec.tags = {{0x88a8, 100}, {0x8100, 200}};
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    spec.tags = {{0x88a8, 200}, {0x8100, 100}};
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
    spec.tags.clear();
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
}

TEST_F(EbpfProgram, VlanTagInMetadataFromRealPacket)
{
    /* The kernel moves a received tag into skb metadata before TC ingress,
     * so this is the path real ports take. */
    set({tap(1, "dl_vlan=100,udp", "sel0")});
    PacketSpec spec;
    spec.tags = {{0x8100, 100}};
    Bytes packet = make_packet(spec);
    tester_->send_to("sel0", packet);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].vlan_tci, 0x1000 | 100);
    EXPECT_EQ(copies[0].data, packet);

    spec.tags = {{0x8100, 101}};
    tester_->send_to("sel0", make_packet(spec));
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);
}

/* A packet over a page, sent for real, reaches TC with only its Ethernet
 * header in the linear area (as from AF_PACKET TX rings, tap devices and
 * GSO): the program reads its headers with a helper instead of direct
 * packet access, and selects exactly as for a linear packet. */
TEST_F(EbpfProgram, NonLinearPacketSelectedLikeLinear)
{
    set({tap(1, "udp,nw_dst=198.51.100.2,tp_dst=2000", "sel0"),
         tap(2, "tcp6,tp_dst=2000", "sel0", "", "mon1")});
    PacketSpec spec;
    spec.payload = 6000;
    Bytes packet = make_packet(spec);
    tester_->send_to("sel0", packet);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, packet);
    EXPECT_EQ(tester_->captured("mon1p").size(), 0u);

    spec.dport = 2001;
    tester_->send_to("sel0", make_packet(spec));
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);

    spec.ipv6 = true;
    spec.src = "2001:db8::1";
    spec.dst = "2001:db8::2";
    spec.proto = 6;
    spec.dport = 2000;
    tester_->send_to("sel0", make_packet(spec));
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);
    EXPECT_EQ(tester_->stats(1).packets, 1u);
    EXPECT_EQ(tester_->stats(2).packets, 1u);
}

TEST_F(EbpfProgram, TruncatedAndMalformedPackets)
{
    set({tap(1, "ip", "sel0"), tap(2, "ip,nw_src=198.51.100.1", "sel0", "",
                                   "mon1")});
    Bytes packet = make_packet(PacketSpec());

    /* IPv4 header cut short: the ethertype is known, the addresses not.
     * (Sent for real: BPF_PROG_TEST_RUN refuses packets this short.) */
    Bytes cut(packet.begin(), packet.begin() + 14 + 10);
    tester_->send_to("sel0", cut);
    EXPECT_EQ(tester_->captured("mon0p").size(), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 0u);

    /* IHL below 5 is not IPv4 that OVS would parse either. */
    Bytes bad = packet;
    bad[14] = 0x44;
    EXPECT_EQ(copies_at_ingress(bad), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 0u);

    /* Ethernet header only. */
    Bytes eth(packet.begin(), packet.begin() + 14);
    tester_->send_to("sel0", eth);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, eth);

    /* UDP header cut: ports unknown, so tp_dst cannot match. */
    set({tap(3, "udp,tp_dst=2000", "sel0")});
    Bytes no_ports(packet.begin(), packet.begin() + 14 + 20 + 2);
    EXPECT_EQ(copies_at_ingress(no_ports), 0u);
}

TEST_F(EbpfProgram, MacMatch)
{
    set({tap(1, "dl_src=00:00:5e:00:53:01", "sel0")});
    PacketSpec spec;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    spec.eth_src[5] = 9;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
}

TEST_F(EbpfProgram, OutputVlanOnCopyOnly)
{
    TcTap t = tap(1, "udp", "sel0");
    t.output_vlan = 42;
    set({t});
    Bytes packet = make_packet(PacketSpec());

    RunResult r = tester_->run_ingress("sel0", packet, 0x1234);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, 0x1234u) << "the original's mark must be restored";
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].vlan_tci, 0x1000 | 42);
    Bytes expected = packet;
    uint8_t tag[4] = {0x81, 0x00, 0x00, 42};
    expected.insert(expected.begin() + 12, tag, tag + 4);
    EXPECT_EQ(copies[0].data, expected);
}

TEST_F(EbpfProgram, SnaplenOnCopyOnly)
{
    TcTap t = tap(1, "udp", "sel0");
    t.snaplen = 60;
    set({t});
    PacketSpec spec;
    spec.payload = 500;
    Bytes packet = make_packet(spec);

    RunResult r = tester_->run_ingress("sel0", packet);
    EXPECT_EQ(r.packet, packet);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, Bytes(packet.begin(), packet.begin() + 60));

    /* With a tag, the tag counts toward snaplen. */
    t.output_vlan = 7;
    set({t});
    tester_->run_ingress("sel0", packet);
    copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data.size(), 60u);
    EXPECT_EQ(copies[0].vlan_tci, 0x1000 | 7);

    /* Shorter packets are not padded. */
    spec.payload = 4;
    Bytes small = make_packet(spec);
    tester_->run_ingress("sel0", small);
    copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data.size(), small.size() + 4);
}

/* The edit stage edits the copy and leaves its mark: the copy may come back
 * into the switch, where the mark keeps it from being copied again. */
TEST_F(EbpfProgram, EditStageKeepsTheCopyMark)
{
    TcTap t = tap(1, "udp", "sel0");
    t.snaplen = 30;
    set({t});
    Bytes packet = make_packet(PacketSpec());
    uint32_t mark = copy_mark(1);

    RunResult r = tester_->run_egress("mon0", packet, mark);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.mark, mark);
    EXPECT_EQ(r.packet, Bytes(packet.begin(), packet.begin() + 30));

    /* A packet without our mark on the monitor is left alone. */
    r = tester_->run_egress("mon0", packet, 0x55);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, 0x55u);
}

/* Other users (Calico, Cilium, iptables setups) set marks too.  A mark
 * with our key's high half that names no offloaded tap is an original's:
 * selected like any other, never edited.  One that names a tap is a copy
 * of ours: never selected, and edited only on that tap's own output
 * device. */
TEST_F(EbpfProgram, OnlyMarksOfLiveTapsAreCopies)
{
    TcTap t = tap(1, "udp", "", "sel1");
    t.output_vlan = 42;
    t.snaplen = 30;
    set({t});
    uint32_t slot = 0;
    ASSERT_TRUE(tester_->backend().slot_of(1, &slot));
    uint32_t unused = VTAP_TC_MARK(tester_->mark_magic(), slot + 1);
    uint32_t live = copy_mark(1);
    Bytes packet = long_packet();

    RunResult r = tester_->run_egress("sel1", packet, unused);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet) << "no tag pushed, no tail trimmed";
    EXPECT_EQ(r.mark, unused) << "the other user's mark is kept";
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].vlan_tci, 0x1000 | 42);
    EXPECT_EQ(copies[0].data.size(), 30u);

    /* The same slot under another key (another load's copies): an
     * original here. */
    uint32_t foreign = VTAP_TC_MARK(tester_->mark_magic() ^ 0x10000, slot);
    r = tester_->run_egress("sel1", packet, foreign);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(tester_->captured("mon0p").size(), 1u);

    /* A live tap's copy crossing a selected egress: not selected again,
     * and not edited (this is not its output device). */
    r = tester_->run_egress("sel1", packet, live);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, live);
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);
    r = tester_->run_egress("mon1", packet, live);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, live);
    EXPECT_EQ(tester_->stats(1).packets, 2u);
}

/* A tap that does not edit its copies: its copies are marked, but the
 * output device's egress leaves them as they are. */
TEST_F(EbpfProgram, CopiesOfTapWithoutEditAreNotEdited)
{
    set({tap(1, "udp", "sel0"), [] {
             TcTap t = tap(2, "udp", "sel1", "", "mon1");
             t.snaplen = 30;
             return t;
         }()});
    uint32_t mark = copy_mark(1);
    Bytes packet = long_packet();

    RunResult r = tester_->run_egress("mon0", packet, mark);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, mark);
}

/* A tap without a match is listed in its hook's entry: no mask, no rule,
 * and a hook with only such taps does not parse packets at all.  Its
 * copies are what they were: byte for byte, one per packet, counted. */
TEST_F(EbpfProgram, TapWithoutMatchNeedsNoRule)
{
    set({tap(1, "", "sel0"), tap(2, "udp,tp_dst=2000", "sel0", "", "mon1")});
    int hooks_fd = tester_->backend().map_fd("vtap_hooks");
    int rules_fd = tester_->backend().map_fd("vtap_rules");
    struct vtap_tc_hook_key key = {EbpfTester::ifindex("sel0"),
                                   VTAP_TC_INGRESS};
    struct vtap_tc_hook hook;
    ASSERT_EQ(bpf_map_lookup_elem(hooks_fd, &key, &hook), 0);
    EXPECT_EQ(hook.n_all, 1u);
    EXPECT_EQ(hook.n_masks, 1u);
    EXPECT_EQ(map_entries(rules_fd, sizeof(vtap_tc_rule_key)), 1u);

    PacketSpec spec;
    Bytes udp = make_packet(spec);
    spec.proto = 6;
    Bytes tcp = make_packet(spec);
    RunResult r = tester_->run_ingress("sel0", udp, 0x1234);
    EXPECT_EQ(r.verdict, VTAP_TC_NEXT);
    EXPECT_EQ(r.packet, udp);
    EXPECT_EQ(r.mark, 0x1234u);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, udp);
    EXPECT_EQ(copies[0].vlan_tci, 0);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);
    EXPECT_EQ(copies_at_ingress(tcp), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 0u);
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets, 2u);
    EXPECT_EQ(s.bytes, udp.size() + tcp.size());
    EXPECT_EQ(tester_->stats(2).packets, 1u);

    /* Only taps without a match: nothing to parse, no rule at all, and no
     * program on the monitor's egress (nothing to edit). */
    set({tap(1, "", "sel0"), tap(3, "", "sel0", "", "mon1")});
    ASSERT_EQ(bpf_map_lookup_elem(hooks_fd, &key, &hook), 0);
    EXPECT_EQ(hook.n_all, 2u);
    EXPECT_EQ(hook.n_masks, 0u);
    EXPECT_EQ(map_entries(rules_fd, sizeof(vtap_tc_rule_key)), 0u);
    EXPECT_EQ(tcx_programs("mon0", VTAP_TC_EGRESS), 0u);
    for (int i = 0; i < 3; i++) {
        r = tester_->run_ingress("sel0", tcp);
        EXPECT_EQ(r.packet, tcp);
    }
    copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 3u);
    EXPECT_EQ(copies[2].data, tcp);
    EXPECT_EQ(tester_->captured("mon1p").size(), 3u);
    EXPECT_EQ(tester_->stats(3).packets, 3u);
    EXPECT_EQ(tester_->stats(1).packets, 5u) << "the owner kept its counts";

    /* Cut packets are copied too: nothing is parsed.  (Sent for real:
     * BPF_PROG_TEST_RUN refuses packets this short.) */
    Bytes cut(udp.begin(), udp.begin() + 20);
    tester_->send_to("sel0", cut);
    copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data, cut);
    EXPECT_EQ(tester_->captured("mon1p").size(), 1u);
}

/* A tap without a match that edits its copies still gets them edited, on
 * the copy only. */
TEST_F(EbpfProgram, TapWithoutMatchStillEditsItsCopies)
{
    TcTap t = tap(1, "", "sel0");
    t.output_vlan = 42;
    t.snaplen = 60;
    set({t});
    EXPECT_EQ(tcx_programs("mon0", VTAP_TC_EGRESS), 1u);
    Bytes packet = long_packet();

    RunResult r = tester_->run_ingress("sel0", packet, 0x1234);
    EXPECT_EQ(r.packet, packet);
    EXPECT_EQ(r.mark, 0x1234u) << "the original's mark must be restored";
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].vlan_tci, 0x1000 | 42);
    EXPECT_EQ(copies[0].data.size(), 60u);
    EXPECT_EQ(tester_->stats(1).packets, 1u);
}

TEST_F(EbpfProgram, SamplingWithinBounds)
{
    TcTap t = tap(1, "udp", "sel0");
    t.sampling = 4;
    set({t});
    Bytes packet = make_packet(PacketSpec());
    const int n = 4000;

    for (int i = 0; i < n; i++) {
        tester_->run_ingress("sel0", packet);
    }
    size_t copies = tester_->captured("mon0p").size();
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets + s.sampled_out, static_cast<uint64_t>(n));
    EXPECT_EQ(s.packets, copies);
    /* Binomial(4000, 1/4): mean 1000, sigma 27.4; 6 sigma either way. */
    EXPECT_GT(s.packets, 835u);
    EXPECT_LT(s.packets, 1165u);
}

TEST_F(EbpfProgram, MaxRateCountsWhatItHoldsBack)
{
    TcTap t = tap(1, "udp", "sel0");
    t.max_rate = 10;            /* Bucket of 10 copies (one second's). */
    set({t});
    Bytes packet = make_packet(PacketSpec());

    for (int i = 0; i < 100; i++) {
        tester_->run_ingress("sel0", packet);
    }
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets + s.rate_limited, 100u);
    EXPECT_GE(s.packets, 10u) << "the bucket starts full";
    EXPECT_LE(s.packets, 12u) << "100 packets in well under 0.2 s";
    EXPECT_EQ(tester_->captured("mon0p").size(), s.packets);
}

/* max_rate holds when several CPUs copy at once.  The bucket is shared;
 * each CPU reads the clock before it takes the bucket's lock, so a CPU can
 * find a refill newer than its own clock read (another CPU took the lock
 * in between).  Two threads pinned to two cores run the program back to
 * back for a known interval: the copies let through must fit in a full
 * bucket (the burst) plus the rate times the interval. */
TEST_F(EbpfProgram, MaxRateHoldsAcrossCpus)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
        GTEST_SKIP() << "needs two CPUs";
    }
    TcTap t = tap(1, "", "sel0");       /* No parse: the most contention. */
    t.max_rate = 20;                    /* A bucket of 20 copies. */
    set({t});
    const Bytes packet = make_packet(PacketSpec());
    const int prog_fd = tester_->backend().ingress_prog_fd();
    const uint32_t ifindex = EbpfTester::ifindex("sel0");
    std::atomic<bool> go{false}, stop{false};
    std::atomic<uint64_t> runs{0};
    std::atomic<int> errors{0};

    auto worker = [&](int cpu) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(cpu, &cpus);
        if (pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus)) {
            errors++;
            return;
        }
        struct __sk_buff ctx;
        memset(&ctx, 0, sizeof ctx);
        ctx.ifindex = ifindex;
        LIBBPF_OPTS(bpf_test_run_opts, opts,
                    .data_in = packet.data(),
                    .data_size_in = static_cast<uint32_t>(packet.size()),
                    .ctx_in = &ctx,
                    .ctx_size_in = sizeof ctx,
                    .repeat = 1000);
        while (!go) {
        }
        while (!stop) {
            if (bpf_prog_test_run_opts(prog_fd, &opts)) {
                errors++;
                return;
            }
            runs += opts.repeat;
        }
    };

    std::thread a(worker, 0), b(worker, 1);
    auto t0 = std::chrono::steady_clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    stop = true;
    a.join();
    b.join();
    double seconds = std::chrono::duration<double>(
        std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(errors, 0);

    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets + s.rate_limited + s.failed, runs.load());
    EXPECT_EQ(s.failed, 0u);
    /* One more for the fraction of a token that the interval's ends may
     * hold. */
    double bound = t.max_rate + t.max_rate * seconds + 1;
    EXPECT_LE(s.packets, bound)
        << runs << " runs on two CPUs in " << seconds << " s";
    EXPECT_GE(s.packets, static_cast<uint64_t>(t.max_rate));
    EXPECT_EQ(tester_->captured("mon0p").size(), s.packets);
}

/* Sends a UDP datagram of 'payload' bytes from a socket of this namespace
 * out of sel0p, so that it reaches sel0's TC ingress as the stack built
 * it: with a partial checksum (CHECKSUM_PARTIAL: veths offload it), the
 * checksum's offsets set.  Returns the frame's length. */
size_t
send_udp_from_stack(size_t payload)
{
    static bool configured;

    if (!configured) {
        /* A permanent neighbour: no ARP on the wire.  (sysfs shows the
         * namespace it was mounted in, not the tester's: ask the socket
         * layer for sel0's address.) */
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strncpy(ifr.ifr_name, "sel0", IFNAMSIZ - 1);
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        EXPECT_EQ(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
        close(s);
        const uint8_t *m = reinterpret_cast<const uint8_t *>(
            ifr.ifr_hwaddr.sa_data);
        char mac[32];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 m[0], m[1], m[2], m[3], m[4], m[5]);
        std::string cmd = std::string("ip addr add 198.51.100.1/24 dev sel0p")
                          + " && ip neigh replace 198.51.100.2 lladdr " + mac
                          + " dev sel0p nud permanent";
        EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
        configured = true;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_GE(fd, 0);
    struct sockaddr_in to;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = htons(2000);
    inet_pton(AF_INET, "198.51.100.2", &to.sin_addr);
    std::vector<uint8_t> data(payload, 0xab);
    EXPECT_EQ(sendto(fd, data.data(), data.size(), 0,
                     reinterpret_cast<struct sockaddr *>(&to), sizeof to),
              static_cast<ssize_t>(data.size()));
    close(fd);
    return 14 + 20 + 8 + payload;
}

/* A copy that cannot be edited as its tap says is not sent, and counts as
 * failed.  A datagram from the stack has a partial checksum; the kernel
 * will not cut a packet before the end of its checksum field
 * (bpf_skb_change_tail(): 14 + 20 + 6 + 2 = 42 bytes for UDP over IPv4),
 * so snaplen 40 cannot be applied to it. */
TEST_F(EbpfProgram, EditThatFailsIsAFailedCopyNotAWrongOne)
{
    TcTap t = tap(1, "udp", "sel0");
    t.snaplen = 40;
    set({t});
    send_udp_from_stack(100);
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u)
        << "a copy longer than its snaplen went out";
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets, 0u);
    EXPECT_EQ(s.bytes, 0u);
    EXPECT_EQ(s.failed, 1u);

    /* Where the cut is possible it is made, on the same packets. */
    t.snaplen = 60;
    set({t});
    send_udp_from_stack(100);
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 1u);
    EXPECT_EQ(copies[0].data.size(), 60u);
    s = tester_->stats(1);
    EXPECT_EQ(s.packets, 1u);
    EXPECT_EQ(s.bytes, 60u);
    EXPECT_EQ(s.failed, 1u);
}

/* tx_bytes counts the copies as they leave: after the snaplen, with the
 * output VLAN's tag (what a capture on the monitor sees). */
TEST_F(EbpfProgram, BytesAreTheCopiesAsSent)
{
    TcTap t = tap(1, "udp", "sel0");
    t.snaplen = 60;
    t.output_vlan = 7;
    set({t});
    PacketSpec spec;
    spec.payload = 500;
    tester_->run_ingress("sel0", make_packet(spec));
    spec.payload = 4;
    tester_->run_ingress("sel0", make_packet(spec));
    std::vector<Capture> copies = tester_->captured("mon0p");
    ASSERT_EQ(copies.size(), 2u);
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets, 2u);
    EXPECT_EQ(s.bytes, copies[0].data.size() + copies[1].data.size());
    EXPECT_EQ(s.bytes, 60u + 14 + 20 + 8 + 4 + 4);
}

/* tx_packets counts the copies that the output device took; a redirect
 * that fails (the monitor's device is down) counts as failed, and the
 * copies come back with the device. */
TEST_F(EbpfProgram, CopiesToADeviceThatIsDownAreFailures)
{
    set({tap(1, "udp", "sel0")});
    Bytes packet = make_packet(PacketSpec());
    ASSERT_EQ(system("ip link set mon0 down"), 0);
    for (int i = 0; i < 5; i++) {
        tester_->run_ingress("sel0", packet);
    }
    ASSERT_EQ(system("ip link set mon0 up"), 0);
    EXPECT_EQ(tester_->captured("mon0p").size(), 0u);
    vtap_tc_stats s = tester_->stats(1);
    EXPECT_EQ(s.packets, 0u);
    EXPECT_EQ(s.bytes, 0u);
    EXPECT_EQ(s.failed, 5u);

    for (int i = 0; i < 3; i++) {
        tester_->run_ingress("sel0", packet);
    }
    EXPECT_EQ(tester_->captured("mon0p").size(), 3u);
    s = tester_->stats(1);
    EXPECT_EQ(s.packets, 3u);
    EXPECT_EQ(s.bytes, 3 * packet.size());
    EXPECT_EQ(s.failed, 5u);
}

/* A copy is never copied again.  Here the monitor's veth peer (mon0p) is
 * itself selected, as a select_all tap selects it when both ends of the
 * monitor's veth are on the bridge: the copy comes back in on mon0p, and
 * would go round for as long as the tap exists.  Exactly one copy per
 * selected packet. */
TEST_F(EbpfProgram, CopiesComingBackAreNotCopiedAgain)
{
    TcTap t = tap(1, "", "sel0");
    t.src_ifindexes.push_back(EbpfTester::ifindex("mon0p"));
    set({t});
    tester_->run_ingress("sel0", make_packet(PacketSpec()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    vtap_tc_stats s = tester_->stats(1);
    /* Stops a loop, if there is one, before counting. */
    tester_->set_taps({});
    size_t copies = tester_->captured("mon0p").size();
    EXPECT_EQ(copies, 1u);
    EXPECT_EQ(s.packets, 1u);

    /* The same with an edit on the copy (the edit stage on mon0). */
    t.snaplen = 50;
    set({t});
    tester_->run_ingress("sel0", long_packet());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = tester_->stats(1);
    tester_->set_taps({});
    std::vector<Capture> edited = tester_->captured("mon0p");
    ASSERT_EQ(edited.size(), 1u);
    EXPECT_EQ(edited[0].data.size(), 50u);
    EXPECT_EQ(s.packets, 1u);
}

/* What the verifier walks to load each program (bpf_prog_info's
 * verified_insns), printed so that a change that multiplies it shows: a
 * read that may come from the window or the packet, or a parser inlined
 * into its caller, makes loading the program slow.  The bound is three
 * times what the programs take now, not a target. */
TEST_F(EbpfProgram, VerifierWorkStaysSmall)
{
    for (int fd : {tester_->backend().ingress_prog_fd(),
                   tester_->backend().egress_prog_fd()}) {
        struct bpf_prog_info info;
        uint32_t len = sizeof info;

        memset(&info, 0, sizeof info);
        ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
        std::cout << info.name << ": verified_insns " << info.verified_insns
                  << ", xlated " << info.xlated_prog_len / 8
                  << " instructions\n";
        EXPECT_LT(info.verified_insns, 30000u) << info.name;
    }
}

TEST_F(EbpfProgram, EveryMatchingTapCopiesOnce)
{
    set({tap(1, "udp", "sel0"), tap(2, "ip", "sel0", "", "mon1"),
         tap(3, "tcp", "sel0", "", "mon1"), tap(4, "udp", "sel0", "",
                                                 "mon1")});
    EXPECT_EQ(copies_at_ingress(make_packet(PacketSpec())), 1u);
    EXPECT_EQ(tester_->captured("mon1p").size(), 2u);
}

TEST_F(EbpfProgram, TenThousandTapsShareOneMask)
{
    std::vector<TcTap> taps;
    for (uint32_t i = 0; i < 10000; i++) {
        std::string dst = "203.0." + std::to_string(113 + i / 256 % 8) + "."
                          + std::to_string(i % 256);
        taps.push_back(tap(i + 1, "udp,nw_dst=" + dst + ",tp_dst="
                           + std::to_string(2000 + i / 2048), "sel0"));
    }
    set(taps);

    struct vtap_tc_hook_key key = {EbpfTester::ifindex("sel0"),
                                   VTAP_TC_INGRESS};
    struct vtap_tc_hook hook;
    ASSERT_EQ(bpf_map_lookup_elem(tester_->backend().map_fd("vtap_hooks"),
                                  &key, &hook), 0);
    EXPECT_EQ(hook.n_masks, 1u);

    /* Tap 10000: i = 9999 -> 203.0.(113 + 39 % 8).15 = 203.0.120.15,
     * tp_dst 2004. */
    PacketSpec spec;
    spec.dst = "203.0.120.15";
    spec.dport = 2004;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 1u);
    EXPECT_EQ(tester_->stats(10000).packets, 1u);
    spec.dport = 2005;
    EXPECT_EQ(copies_at_ingress(make_packet(spec)), 0u);
}

TEST_F(EbpfProgram, AttachesWhereNeededAndDetachesAfter)
{
    TcTap t = tap(1, "udp", "sel0", "sel1");
    set({t});
    std::set<TcHook> want = {
        {EbpfTester::ifindex("sel0"), VTAP_TC_INGRESS},
        {EbpfTester::ifindex("sel1"), VTAP_TC_EGRESS},
    };
    EXPECT_EQ(tester_->backend().attached(), want);

    /* An edit on the copy needs the monitor's egress too. */
    t.snaplen = 100;
    set({t});
    want.insert({EbpfTester::ifindex("mon0"), VTAP_TC_EGRESS});
    EXPECT_EQ(tester_->backend().attached(), want);

    /* What the kernel says: one TCX program on sel0 ingress. */
    EXPECT_EQ(tcx_programs("sel0", VTAP_TC_INGRESS), 1u);
    EXPECT_EQ(tcx_programs("sel1", VTAP_TC_EGRESS), 1u);

    set({});
    EXPECT_TRUE(tester_->backend().attached().empty());
    EXPECT_EQ(tcx_programs("sel0", VTAP_TC_INGRESS), 0u);
    EXPECT_EQ(tcx_programs("sel1", VTAP_TC_EGRESS), 0u);
    EXPECT_EQ(tcx_programs("mon0", VTAP_TC_EGRESS), 0u);
}

TEST_F(EbpfProgram, OutputCannotBeSelected)
{
    std::vector<std::string> reasons = tester_->set_taps(
        {tap(1, "", "sel0"), tap(2, "", "mon0", "", "mon1")});
    ASSERT_EQ(reasons.size(), 2u);
    EXPECT_EQ(reasons[0], "");
    EXPECT_NE(reasons[1].find("output device of an offloaded tap"),
              std::string::npos) << reasons[1];
}

/* Counters and token buckets belong to the owner (for ovs-vswitchd, one
 * incarnation of a Tap row), not to the tap's id: a row deleted and
 * created again with id 7 in one transaction gets a new owner and starts
 * from zero and a full bucket; an owner kept across set_group keeps both. */
TEST_F(EbpfProgram, CountersAndBucketBelongToTheOwner)
{
    const uint64_t a = uint64_t{1} << 32 | 7, b = uint64_t{2} << 32 | 7;
    TcTap t = tap(a, "udp", "sel0");
    t.max_rate = 5;
    set({t});
    Bytes packet = make_packet(PacketSpec());
    for (int i = 0; i < 8; i++) {
        tester_->run_ingress("sel0", packet);
    }
    vtap_tc_stats s = tester_->stats(a);
    EXPECT_EQ(s.packets, 5u);
    EXPECT_EQ(s.rate_limited, 3u);

    /* The same owner, a delivery setting changed: counts and the empty
     * bucket stay. */
    t.snaplen = 64;
    set({t});
    tester_->run_ingress("sel0", packet);
    s = tester_->stats(a);
    EXPECT_EQ(s.packets, 5u);
    EXPECT_EQ(s.rate_limited, 4u);

    /* A new owner with the same id replaces it: zero, full bucket. */
    t.owner = b;
    set({t});
    uint32_t slot;
    EXPECT_FALSE(tester_->backend().slot_of(a, &slot));
    s = tester_->stats(b);
    EXPECT_EQ(s.packets, 0u);
    EXPECT_EQ(s.rate_limited, 0u);
    for (int i = 0; i < 5; i++) {
        tester_->run_ingress("sel0", packet);
    }
    s = tester_->stats(b);
    EXPECT_EQ(s.packets, 5u) << "the new owner's bucket starts full";
    EXPECT_EQ(s.rate_limited, 0u);
    tester_->captured("mon0p");
}

/* Entries in a kernel hash map. */
size_t
map_entries(int fd, size_t key_size)
{
    std::vector<uint8_t> key(key_size), next(key_size);
    size_t n = 0;
    void *prev = nullptr;

    while (!bpf_map_get_next_key(fd, prev, next.data())) {
        key = next;
        prev = key.data();
        n++;
    }
    return n;
}

/* Every map update or delete the backend makes can fail; whichever does,
 * each tap is either offloaded with everything it needs (it copies) or
 * refused with the kernel's error and has nothing of its own (no copies,
 * no rule, no hook attached for it alone). */
TEST_F(EbpfProgram, EveryMapFailureReachesTheTapsReason)
{
    TcTap udp = tap(1, "udp", "sel0");
    TcTap tcp = tap(2, "tcp", "sel1", "", "mon1");
    tcp.snaplen = 40;           /* Needs mon1's egress too. */
    PacketSpec u, t;
    t.proto = 6;
    EbpfBackend &backend = tester_->backend();
    int rules_fd = backend.map_fd("vtap_rules");
    bool failed_some = false;

    for (int n = 1; ; n++) {
        backend.fail_map_op(n, -ENOSPC);
        std::vector<std::string> reasons = tester_->set_taps({udp, tcp});
        backend.fail_map_op(0, 0);
        ASSERT_EQ(reasons.size(), 2u);
        if (reasons[0].empty() && reasons[1].empty()) {
            EXPECT_GT(n, 4) << "an update was not made or not checked";
            break;
        }
        failed_some = true;
        SCOPED_TRACE("map operation " + std::to_string(n) + " failed: "
                     + reasons[0] + " / " + reasons[1]);

        size_t rules = 0;
        std::set<TcHook> hooks;
        for (int i = 0; i < 2; i++) {
            const TcTap &x = i ? tcp : udp;
            uint32_t slot;
            if (!reasons[i].empty()) {
                EXPECT_NE(reasons[i].find(strerror(ENOSPC)),
                          std::string::npos) << reasons[i];
                EXPECT_FALSE(backend.slot_of(x.owner, &slot));
                continue;
            }
            EXPECT_TRUE(backend.slot_of(x.owner, &slot));
            rules++;
            hooks.insert({x.src_ifindexes[0], VTAP_TC_INGRESS});
            if (x.snaplen) {
                hooks.insert({x.out_ifindex, VTAP_TC_EGRESS});
            }
        }
        EXPECT_EQ(map_entries(rules_fd, sizeof(vtap_tc_rule_key)), rules);
        EXPECT_EQ(backend.attached(), hooks);

        /* What the taps do, for real. */
        tester_->run_ingress("sel0", make_packet(u));
        EXPECT_EQ(tester_->captured("mon0p").size(),
                  reasons[0].empty() ? 1u : 0u);
        tester_->run_ingress("sel1", make_packet(t));
        EXPECT_EQ(tester_->captured("mon1p").size(),
                  reasons[1].empty() ? 1u : 0u);

        /* Back to nothing, and everything goes. */
        for (const std::string &r : tester_->set_taps({})) {
            EXPECT_EQ(r, "");
        }
        EXPECT_EQ(map_entries(rules_fd, sizeof(vtap_tc_rule_key)), 0u);
        EXPECT_EQ(map_entries(backend.map_fd("vtap_hooks"),
                              sizeof(vtap_tc_hook_key)), 0u);
        EXPECT_TRUE(backend.attached().empty());
        ASSERT_LT(n, 100);
    }
    EXPECT_TRUE(failed_some);
}

/* A real kernel failure: 'vtap_hooks' is full (of entries that are not
 * ours), so the tap's hook cannot go in. */
TEST_F(EbpfProgram, FullHookMapRefusesTheTap)
{
    int fd = tester_->backend().map_fd("vtap_hooks");
    vtap_tc_hook junk{};
    uint32_t filled = 0;
    for (uint32_t i = 0; i < VTAP_TC_MAX_HOOKS + 10; i++) {
        vtap_tc_hook_key key{1000000 + i, VTAP_TC_INGRESS};
        filled += !bpf_map_update_elem(fd, &key, &junk, BPF_NOEXIST);
    }
    ASSERT_EQ(filled, static_cast<uint32_t>(VTAP_TC_MAX_HOOKS));

    std::vector<std::string> reasons = tester_->set_taps(
        {tap(1, "udp", "sel0")});
    for (uint32_t i = 0; i < VTAP_TC_MAX_HOOKS; i++) {
        vtap_tc_hook_key key{1000000 + i, VTAP_TC_INGRESS};
        bpf_map_delete_elem(fd, &key);
    }
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("vtap_hooks"), std::string::npos)
        << reasons[0];
    EXPECT_TRUE(tester_->backend().attached().empty())
        << "the refused tap's hook stays attached";
    EXPECT_EQ(map_entries(tester_->backend().map_fd("vtap_rules"),
                          sizeof(vtap_tc_rule_key)), 0u);
    EXPECT_EQ(copies_at_ingress(make_packet(PacketSpec())), 0u);

    /* Room again: the same taps go in. */
    set({tap(1, "udp", "sel0")});
    EXPECT_EQ(copies_at_ingress(make_packet(PacketSpec())), 1u);
}

/* Each bridge is a group.  A change to one group never takes room from
 * taps that another group has offloaded (that group's status would go on
 * saying "ebpf" while its tap copies nothing): the taps already there stay,
 * the newcomer is refused, and gets in once there is room. */
TEST_F(EbpfProgram, OtherGroupsKeepTheirOffloadedTaps)
{
    EbpfBackend &backend = tester_->backend();
    std::vector<TcTap> full;
    for (int i = 1; i <= VTAP_TC_MAX_MASKS_PER_HOOK; i++) {
        full.push_back(tap(100 + i, "ip,nw_dst=0.0.0.0/" + std::to_string(i),
                           "sel0"));
    }
    for (const std::string &reason : backend.set_group(2, full)) {
        ASSERT_EQ(reason, "");
    }

    /* Group 1 comes first in the backend's own order, and wants a
     * seventeenth match shape on the same hook. */
    std::vector<std::string> reasons = backend.set_group(
        1, {tap(1, "udp", "sel0")});
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find("distinct match shapes"), std::string::npos)
        << reasons[0];
    vtap_tc_stats stats;
    for (const TcTap &t : full) {
        EXPECT_TRUE(backend.get_stats(t.owner, &stats)) << t.owner;
    }

    full.pop_back();
    for (const std::string &reason : backend.set_group(2, full)) {
        ASSERT_EQ(reason, "");
    }
    reasons = backend.set_group(1, {tap(1, "udp", "sel0")});
    EXPECT_EQ(reasons[0], "");
    EXPECT_TRUE(backend.get_stats(1, &stats));

    backend.set_group(1, {});
    backend.set_group(2, {});
}

/* The attachment record is what lets a restarted ovs-vswitchd remove
 * clsact filters: no record, no attachment. */
TEST_F(EbpfProgram, FailedAttachmentRecordDetaches)
{
    EbpfBackend &backend = tester_->backend();

    backend.fail_map_op(1, -ENOMEM);    /* The first write is the record. */
    std::vector<std::string> reasons = tester_->set_taps(
        {tap(1, "udp", "sel0"), tap(2, "tcp", "sel1", "", "mon1")});
    backend.fail_map_op(0, 0);
    ASSERT_EQ(reasons.size(), 2u);
    EXPECT_NE(reasons[0].find("recording the attachment"),
              std::string::npos) << reasons[0];
    EXPECT_EQ(reasons[1], "");
    std::set<TcHook> want = {{EbpfTester::ifindex("sel1"), VTAP_TC_INGRESS}};
    EXPECT_EQ(backend.attached(), want);
    EXPECT_EQ(tcx_programs("sel0", VTAP_TC_INGRESS), 0u);
}

/* Whether 'dev' has a clsact qdisc. */
bool
has_clsact(const std::string &dev)
{
    std::string cmd = "tc qdisc show dev " + dev + " | grep -q clsact";
    return system(cmd.c_str()) == 0;
}

/* In clsact mode, a qdisc that the backend created goes with its last
 * filter on the device; one that was there before stays. */
TEST_F(EbpfProgram, ClsactQdiscRemovedOnlyIfCreated)
{
    std::string error;
    auto backend = EbpfBackend::create(
        "", EbpfBackend::AttachMode::kClsact, &error);
    ASSERT_TRUE(backend) << error;
    ASSERT_FALSE(has_clsact("sel0"));

    TcTap in = tap(1, "udp", "sel0");
    TcTap out = tap(2, "udp", "", "sel0", "mon1");
    for (const std::string &r : backend->set_group(1, {in, out})) {
        ASSERT_EQ(r, "");
    }
    EXPECT_TRUE(has_clsact("sel0"));
    /* One direction left: the qdisc holds its filter. */
    backend->set_group(1, {out});
    EXPECT_TRUE(has_clsact("sel0"));
    backend->set_group(1, {});
    EXPECT_FALSE(has_clsact("sel0")) << "created by the backend, not removed";

    /* Someone else's qdisc stays, with the backend's filters gone. */
    ASSERT_EQ(system("tc qdisc add dev sel0 clsact"), 0);
    backend->set_group(1, {in});
    EXPECT_EQ(backend->attached().size(), 1u);
    backend->set_group(1, {});
    EXPECT_TRUE(has_clsact("sel0")) << "a qdisc that existed was removed";
    ASSERT_EQ(system("tc qdisc del dev sel0 clsact"), 0);

    /* And destroying the backend removes the qdisc it created. */
    backend->set_group(1, {in});
    EXPECT_TRUE(has_clsact("sel0"));
    backend.reset();
    EXPECT_FALSE(has_clsact("sel0"));
}

}  // namespace
}  // namespace test
}  // namespace vtap
