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

#include "vtap/compiler/classifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "vtap/policy/match.h"

namespace vtap {
namespace {

constexpr uint32_t kOutputPort = 100;

/* Returns a valid tap with 'id', named after it, with 'match'. */
Tap
make_tap(uint32_t id, const std::string &match,
         std::vector<uint32_t> src_ports, std::vector<uint32_t> dst_ports,
         bool select_all = false,
         std::vector<uint32_t> output_ports = {kOutputPort})
{
    Tap tap;
    tap.name = "tap" + std::to_string(id);
    tap.id = id;
    tap.selection.select_all = select_all;
    tap.selection.src_ports = std::move(src_ports);
    tap.selection.dst_ports = std::move(dst_ports);
    std::string error = parse_match(match, &tap.selection.match);
    EXPECT_EQ(error, "") << match;
    tap.delivery.output_ports = std::move(output_ports);
    return tap;
}

void
add(Policy *policy, const Tap &tap)
{
    std::string error = policy->add_tap(tap);
    ASSERT_EQ(error, "") << tap.name;
}

/* Returns the flow key of a packet described in match syntax, e.g.
 * "tcp,nw_dst=10.0.0.1,tp_dst=80": an exact match's key is exactly the key
 * of such a packet, with the fields it lacks zero. */
vtap_flow_key
packet(const std::string &s)
{
    vtap_match match;
    std::string error = parse_match(s, &match);
    EXPECT_EQ(error, "") << s;
    return match.key;
}

vtap_flow_key
mask_of(const std::string &s)
{
    vtap_match match;
    std::string error = parse_match(s, &match);
    EXPECT_EQ(error, "") << s;
    return match.mask;
}

std::vector<uint32_t>
lookup(const Classifier &cls, uint32_t port, vtap_direction dir,
       const vtap_flow_key &key, vtap_flow_key *wc = nullptr,
       LookupStats *stats = nullptr)
{
    std::vector<uint32_t> ids(cls.n_taps() + 1);
    size_t n = cls.lookup(port, dir, key, wc, ids.data(), ids.size(), stats);
    EXPECT_LE(n, cls.n_taps());
    ids.resize(std::min(n, ids.size()));
    return ids;
}

using Ids = std::vector<uint32_t>;

TEST(Classifier, IngressVersusEgress)
{
    Policy policy;
    add(&policy, make_tap(1, "", {1}, {}));
    add(&policy, make_tap(2, "", {}, {1}));
    add(&policy, make_tap(3, "", {1}, {1}));
    Classifier cls(policy);

    vtap_flow_key key = packet("tcp,tp_dst=80");
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, key), (Ids{1, 3}));
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_EGRESS, key), (Ids{2, 3}));
    EXPECT_EQ(lookup(cls, 2, VTAP_DIR_INGRESS, key), Ids{});
    EXPECT_EQ(lookup(cls, 2, VTAP_DIR_EGRESS, key), Ids{});
    EXPECT_EQ(lookup(cls, 1, static_cast<vtap_direction>(3), key), Ids{});
}

TEST(Classifier, SelectAllExcludesOwnOutputPorts)
{
    Policy policy;
    add(&policy, make_tap(1, "", {}, {}, true, {9}));
    Classifier cls(policy);
    vtap_flow_key key = packet("udp,tp_dst=53");

    for (uint32_t port : {1u, 2u, 1000u}) {
        EXPECT_EQ(lookup(cls, port, VTAP_DIR_INGRESS, key), Ids{1});
        EXPECT_EQ(lookup(cls, port, VTAP_DIR_EGRESS, key), Ids{1});
        EXPECT_TRUE(cls.port_is_selected(port, VTAP_DIR_INGRESS));
        EXPECT_TRUE(cls.port_is_selected(port, VTAP_DIR_EGRESS));
    }

    /* The output port is not even visited: wc stays untouched. */
    vtap_flow_key wc{};
    LookupStats stats;
    EXPECT_EQ(lookup(cls, 9, VTAP_DIR_INGRESS, key, &wc, &stats), Ids{});
    EXPECT_EQ(lookup(cls, 9, VTAP_DIR_EGRESS, key, &wc), Ids{});
    EXPECT_TRUE(flow_key_is_zero(wc));
    EXPECT_EQ(stats.n_subtables_visited, 0u);
    EXPECT_FALSE(cls.port_is_selected(9, VTAP_DIR_INGRESS));
    EXPECT_FALSE(cls.port_is_selected(9, VTAP_DIR_EGRESS));
}

TEST(Classifier, SelectAllWithSeveralOutputs)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp", {}, {}, true, {9}));
    add(&policy, make_tap(2, "ip", {}, {}, true, {8, 9}));
    add(&policy, make_tap(3, "", {}, {}, true, {8}));
    Classifier cls(policy);
    vtap_flow_key key = packet("tcp");

    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, key), (Ids{1, 2, 3}));
    EXPECT_EQ(lookup(cls, 8, VTAP_DIR_INGRESS, key), (Ids{1}));
    EXPECT_EQ(lookup(cls, 9, VTAP_DIR_EGRESS, key), (Ids{3}));
    EXPECT_TRUE(cls.port_is_selected(8, VTAP_DIR_INGRESS));
    EXPECT_TRUE(cls.port_is_selected(9, VTAP_DIR_INGRESS));
}

TEST(Classifier, PortSpecificAndAnyPort)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp", {}, {}, true));
    add(&policy, make_tap(2, "udp", {1}, {}));
    Classifier cls(policy);

    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("tcp")), Ids{1});
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("udp")), Ids{2});
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_EGRESS, packet("udp")), Ids{});
    EXPECT_EQ(lookup(cls, 2, VTAP_DIR_INGRESS, packet("udp")), Ids{});
    EXPECT_EQ(lookup(cls, 2, VTAP_DIR_EGRESS, packet("tcp")), Ids{1});
    EXPECT_EQ(cls.n_subtables_for(1, VTAP_DIR_INGRESS), 2u);
    EXPECT_EQ(cls.n_subtables_for(1, VTAP_DIR_EGRESS), 1u);
    EXPECT_EQ(cls.n_subtables_for(2, VTAP_DIR_INGRESS), 1u);
}

TEST(Classifier, OverlappingIpv4Prefixes)
{
    Policy policy;
    add(&policy, make_tap(1, "ip,nw_dst=10.1.0.0/16", {1}, {}));
    add(&policy, make_tap(2, "ip,nw_dst=10.1.2.0/24", {1}, {}));
    add(&policy, make_tap(3, "ip,nw_dst=10.2.0.0/16", {1}, {}));
    add(&policy, make_tap(4, "ip,nw_dst=10.1.2.3", {1}, {}));
    add(&policy, make_tap(5, "ip,nw_dst=10.0.0.0/255.0.255.0", {1}, {}));
    Classifier cls(policy);
    EXPECT_EQ(cls.n_subtables(), 4u);

    auto ingress = [&](const char *dst) {
        return lookup(cls, 1, VTAP_DIR_INGRESS,
                      packet(std::string("ip,nw_dst=") + dst));
    };
    EXPECT_EQ(ingress("10.1.2.3"), (Ids{1, 2, 4}));
    EXPECT_EQ(ingress("10.1.2.4"), (Ids{1, 2}));
    EXPECT_EQ(ingress("10.1.9.9"), (Ids{1}));
    EXPECT_EQ(ingress("10.2.0.1"), (Ids{3, 5}));
    EXPECT_EQ(ingress("10.9.0.9"), (Ids{5}));
    EXPECT_EQ(ingress("11.1.2.3"), Ids{});
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("ipv6")), Ids{});
}

TEST(Classifier, Ipv6Prefixes)
{
    Policy policy;
    add(&policy, make_tap(1, "ipv6,ipv6_src=2001:db8::/32", {}, {1}));
    add(&policy, make_tap(2, "ipv6,ipv6_src=2001:db8:1::/48", {}, {1}));
    add(&policy, make_tap(3, "tcp6,ipv6_src=2001:db8:1::5", {}, {1}));
    Classifier cls(policy);

    auto egress = [&](const std::string &p) {
        return lookup(cls, 1, VTAP_DIR_EGRESS, packet(p));
    };
    EXPECT_EQ(egress("tcp6,ipv6_src=2001:db8:1::5"), (Ids{1, 2, 3}));
    EXPECT_EQ(egress("udp6,ipv6_src=2001:db8:1::5"), (Ids{1, 2}));
    EXPECT_EQ(egress("ipv6,ipv6_src=2001:db8:2::5"), (Ids{1}));
    EXPECT_EQ(egress("ipv6,ipv6_src=2001:db9::"), Ids{});
    EXPECT_EQ(egress("ipv6,ipv6_dst=2001:db8::1"), Ids{});
}

TEST(Classifier, MacMasksVlansAndL4Masks)
{
    Policy policy;
    add(&policy, make_tap(1, "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
                          {1}, {}));
    add(&policy, make_tap(2, "dl_src=00:11:22:00:00:00/ff:ff:ff:00:00:00",
                          {1}, {}));
    add(&policy, make_tap(3, "dl_vlan=10", {1}, {}));
    add(&policy, make_tap(4, "dl_vlan=0xffff", {1}, {}));
    add(&policy, make_tap(5, "tcp,tp_dst=0x0050/0xfff0", {1}, {}));
    add(&policy, make_tap(6, "udp,tp_src=53", {1}, {}));
    Classifier cls(policy);

    auto ingress = [&](const std::string &p) {
        return lookup(cls, 1, VTAP_DIR_INGRESS, packet(p));
    };
    EXPECT_EQ(ingress("dl_dst=ff:ff:ff:ff:ff:ff"), (Ids{1, 4}));
    EXPECT_EQ(ingress("dl_dst=02:00:00:00:00:01,dl_vlan=10"), (Ids{3}));
    EXPECT_EQ(ingress("dl_src=00:11:22:33:44:55,dl_vlan=11"), (Ids{2}));
    EXPECT_EQ(ingress("dl_vlan=0,tcp,tp_dst=95"), (Ids{5}));
    EXPECT_EQ(ingress("dl_vlan=10,tcp,tp_dst=80"), (Ids{3, 5}));
    EXPECT_EQ(ingress("tcp,tp_dst=96"), (Ids{4}));
    EXPECT_EQ(ingress("udp,tp_src=53,tp_dst=80"), (Ids{4, 6}));
    EXPECT_EQ(ingress("tcp,tp_src=53"), (Ids{4}));
}

TEST(Classifier, DisabledTapNeverMatchesButIsFound)
{
    Policy policy;
    Tap disabled = make_tap(1, "", {1}, {1}, true);
    disabled.enabled = false;
    add(&policy, disabled);
    Classifier cls(policy);

    vtap_flow_key wc{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet(""), &wc), Ids{});
    EXPECT_EQ(lookup(cls, 2, VTAP_DIR_EGRESS, packet(""), &wc), Ids{});
    EXPECT_FALSE(cls.port_is_selected(1, VTAP_DIR_INGRESS));
    EXPECT_FALSE(cls.port_is_selected(2, VTAP_DIR_EGRESS));
    EXPECT_EQ(cls.n_subtables(), 0u);
    ASSERT_NE(cls.find_id(1), nullptr);
    EXPECT_FALSE(cls.find_id(1)->enabled);
    EXPECT_EQ(cls.find_name("tap1"), cls.find_id(1));
}

TEST(Classifier, TapSelectingAPortTwiceIsReportedOnce)
{
    Policy policy;
    add(&policy, make_tap(1, "", {1, 1}, {}, true));
    add(&policy, make_tap(2, "tcp", {1}, {}, true));
    Classifier cls(policy);
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("tcp")), (Ids{1, 2}));
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_EGRESS, packet("tcp")), (Ids{1, 2}));
}

TEST(Classifier, MaxIdsTruncates)
{
    Policy policy;
    for (uint32_t id : {50u, 10u, 40u, 20u, 30u}) {
        add(&policy, make_tap(id, id % 20 ? "ip" : "", {1}, {}));
    }
    Classifier cls(policy);

    uint32_t ids[4] = {0, 0, 0, 0xdead};
    EXPECT_EQ(cls.lookup(1, VTAP_DIR_INGRESS, packet("ip"), nullptr, ids, 3),
              5u);
    EXPECT_EQ(ids[0], 10u);
    EXPECT_EQ(ids[1], 20u);
    EXPECT_EQ(ids[2], 30u);
    EXPECT_EQ(ids[3], 0xdeadu);

    EXPECT_EQ(cls.lookup(1, VTAP_DIR_INGRESS, packet("ip"), nullptr,
                         nullptr, 0), 5u);
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("arp")),
              (Ids{20, 40}));
}

TEST(Classifier, WildcardsAreTheUnionOfVisitedMasks)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp,tp_dst=80", {1}, {}));
    add(&policy, make_tap(2, "ip,nw_src=10.0.0.0/8", {1}, {}));
    add(&policy, make_tap(3, "ipv6,ipv6_dst=::1", {}, {1}));
    add(&policy, make_tap(4, "dl_vlan=5", {2}, {}));
    Classifier cls(policy);

    /* Same whether or not anything matched. */
    for (const char *p : {"tcp,tp_dst=80", "arp", ""}) {
        vtap_flow_key wc{};
        lookup(cls, 1, VTAP_DIR_INGRESS, packet(p), &wc);
        vtap_flow_key expected = mask_of("tcp,tp_dst=80");
        flow_key_or_into(&expected, mask_of("ip,nw_src=10.0.0.0/8"));
        EXPECT_TRUE(flow_key_equal(wc, expected)) << p;
    }

    /* ORed into, not assigned. */
    vtap_flow_key wc = mask_of("dl_src=00:00:00:00:00:01");
    lookup(cls, 1, VTAP_DIR_EGRESS, packet(""), &wc);
    vtap_flow_key expected = mask_of("dl_src=00:00:00:00:00:01");
    flow_key_or_into(&expected, mask_of("ipv6,ipv6_dst=::1"));
    EXPECT_TRUE(flow_key_equal(wc, expected));

    /* Unselected ports and directions cost one hash lookup and leave wc
     * alone. */
    vtap_flow_key pattern;
    memset(&pattern, 0xa5, sizeof pattern);
    for (auto port_dir : {std::make_pair(2u, VTAP_DIR_EGRESS),
                          std::make_pair(3u, VTAP_DIR_INGRESS),
                          std::make_pair(100u, VTAP_DIR_EGRESS)}) {
        vtap_flow_key untouched = pattern;
        LookupStats stats;
        EXPECT_EQ(lookup(cls, port_dir.first, port_dir.second, packet(""),
                         &untouched, &stats), Ids{});
        EXPECT_TRUE(flow_key_equal(untouched, pattern));
        EXPECT_EQ(stats.n_subtables_visited, 0u);
        EXPECT_FALSE(cls.port_is_selected(port_dir.first, port_dir.second));
    }
    EXPECT_TRUE(cls.port_is_selected(1, VTAP_DIR_INGRESS));
    EXPECT_TRUE(cls.port_is_selected(1, VTAP_DIR_EGRESS));
    EXPECT_TRUE(cls.port_is_selected(2, VTAP_DIR_INGRESS));
}

TEST(Classifier, TapsAreSortedAndFindable)
{
    Policy policy;
    Tap tap = make_tap(30, "nw_dst=192.0.2.0/24,ip", {3, 1, 3}, {2}, false,
                       {7, 6});
    tap.name = "web";
    tap.delivery.output_vlan = 42;
    tap.delivery.snaplen = 128;
    tap.delivery.sampling = 4;
    tap.delivery.max_rate = 1000;
    tap.delivery.offload = VTAP_OFFLOAD_NATIVE;
    add(&policy, tap);
    add(&policy, make_tap(10, "", {}, {}));
    add(&policy, make_tap(20, "", {}, {}, true));
    Classifier cls(policy);

    ASSERT_EQ(cls.n_taps(), 3u);
    EXPECT_EQ(cls.tap(0).id, 10u);
    EXPECT_EQ(cls.tap(1).id, 20u);
    EXPECT_EQ(cls.tap(2).id, 30u);
    EXPECT_EQ(cls.find_id(20), &cls.tap(1));
    EXPECT_EQ(cls.find_id(25), nullptr);
    EXPECT_EQ(cls.find_name("tap20"), &cls.tap(1));
    EXPECT_EQ(cls.find_name("tap30"), nullptr);
    EXPECT_EQ(cls.find_name(""), nullptr);

    const vtap_tap_info *info = cls.find_name("web");
    ASSERT_NE(info, nullptr);
    EXPECT_STREQ(info->name, "web");
    EXPECT_EQ(info->id, 30u);
    EXPECT_TRUE(info->enabled);
    EXPECT_FALSE(info->select_all);
    EXPECT_EQ(Ids(info->src_ports, info->src_ports + info->n_src_ports),
              (Ids{1, 3}));
    EXPECT_EQ(Ids(info->dst_ports, info->dst_ports + info->n_dst_ports),
              (Ids{2}));
    EXPECT_STREQ(info->match_string, "ip,nw_dst=192.0.2.0/24");
    EXPECT_TRUE(match_equal(info->match, tap.selection.match));
    EXPECT_EQ(Ids(info->output_ports,
                  info->output_ports + info->n_output_ports), (Ids{6, 7}));
    EXPECT_EQ(info->output_vlan, 42);
    EXPECT_EQ(info->snaplen, 128u);
    EXPECT_EQ(info->sampling, 4u);
    EXPECT_EQ(info->max_rate, 1000u);
    EXPECT_EQ(info->offload, VTAP_OFFLOAD_NATIVE);
    EXPECT_STREQ(cls.tap(0).match_string, "");
}

/* 10,000 taps on one port, each for its own /32: they share one subtable, so
 * a lookup costs one hash lookup however many taps there are. */
TEST(Classifier, TenThousandTapsShareOneSubtable)
{
    constexpr uint32_t kTaps = 10000;
    auto address = [](uint32_t i) {
        return "10." + std::to_string(i >> 16) + "."
               + std::to_string((i >> 8) & 0xff) + "."
               + std::to_string(i & 0xff);
    };

    Policy big, small;
    for (uint32_t i = 1; i <= kTaps; i++) {
        Tap tap = make_tap(i, "ip,nw_dst=" + address(i * 7), {1}, {});
        add(&big, tap);
        if (i == 1) {
            add(&small, tap);
        }
    }
    Classifier big_cls(big), small_cls(small);
    EXPECT_EQ(big_cls.n_taps(), kTaps);
    EXPECT_EQ(big_cls.n_subtables(), 1u);

    for (uint32_t i : {1u, 2u, 5000u, 9999u, 10000u}) {
        LookupStats stats;
        vtap_flow_key wc{};
        vtap_flow_key key = packet("tcp,nw_src=1.2.3.4,nw_dst="
                                   + address(i * 7) + ",tp_dst=80");
        EXPECT_EQ(lookup(big_cls, 1, VTAP_DIR_INGRESS, key, &wc, &stats),
                  Ids{i});
        EXPECT_EQ(stats.n_subtables_visited, 1u);
        EXPECT_TRUE(flow_key_equal(wc, mask_of("ip,nw_dst=1.1.1.1")));
    }
    LookupStats big_stats, small_stats;
    vtap_flow_key miss = packet("ip,nw_dst=10.0.0.1");
    EXPECT_EQ(lookup(big_cls, 1, VTAP_DIR_INGRESS, miss, nullptr,
                     &big_stats), Ids{});
    EXPECT_EQ(lookup(small_cls, 1, VTAP_DIR_INGRESS, miss, nullptr,
                     &small_stats), Ids{});
    EXPECT_EQ(big_stats.n_subtables_visited,
              small_stats.n_subtables_visited);
    EXPECT_EQ(big_cls.n_subtables_for(2, VTAP_DIR_INGRESS), 0u);
}

/* More matching subtables than lookup() keeps on its stack: the fallback
 * must give the same answer. */
TEST(Classifier, ManyMatchingMasks)
{
    Policy policy;
    uint32_t id = 1;
    for (int src_len = 0; src_len <= 32; src_len += 4) {
        for (int dst_len = 0; dst_len <= 32; dst_len += 4) {
            uint32_t src = src_len ? ~0u << (32 - src_len) : 0;
            uint32_t dst = dst_len ? ~0u << (32 - dst_len) : 0;
            in_addr a, b;
            a.s_addr = htonl(0xc0000201 & src);
            b.s_addr = htonl(0x0a000001 & dst);
            std::string match = "ip,nw_src=" + std::string(inet_ntoa(a))
                                + "/" + std::to_string(src_len);
            match += ",nw_dst=" + std::string(inet_ntoa(b)) + "/"
                     + std::to_string(dst_len);
            add(&policy, make_tap(id++, match, {1}, {}));
        }
    }
    add(&policy, make_tap(id, "tcp", {}, {}, true));
    Classifier cls(policy);
    ASSERT_EQ(cls.n_subtables_for(1, VTAP_DIR_INGRESS), 82u);

    LookupStats stats;
    Ids ids = lookup(cls, 1, VTAP_DIR_INGRESS,
                     packet("tcp,nw_src=192.0.2.1,nw_dst=10.0.0.1"),
                     nullptr, &stats);
    EXPECT_EQ(stats.n_subtables_matched, 82u);
    ASSERT_EQ(ids.size(), 82u);
    for (uint32_t i = 0; i < 82; i++) {
        EXPECT_EQ(ids[i], i + 1);
    }

    /* Truncation and exclusion work there too. */
    uint32_t three[3];
    EXPECT_EQ(cls.lookup(kOutputPort, VTAP_DIR_INGRESS,
                         packet("tcp,nw_src=192.0.2.1,nw_dst=10.0.0.1"),
                         nullptr, three, 3), 0u);
    EXPECT_EQ(cls.lookup(1, VTAP_DIR_INGRESS,
                         packet("ip,nw_src=192.0.2.1,nw_dst=10.0.0.1"),
                         nullptr, three, 3), 81u);
    EXPECT_EQ(three[0], 1u);
    EXPECT_EQ(three[2], 3u);
}

/* A random policy from a small domain of values, so that overlaps are
 * common, checked against a brute-force classifier. */
class RandomPolicyTest : public ::testing::Test {
protected:
    static constexpr uint32_t kPorts = 6;    /* Ports 1..6. */

    std::string random_match()
    {
        static const char *const protos[] = {
            "", "ip", "tcp", "udp", "ipv6", "udp6", "arp",
        };
        std::string proto = protos[pick(7)];
        std::string s = proto;
        auto add_field = [&s](const std::string &field) {
            s += (s.empty() ? "" : ",") + field;
        };
        bool v4 = proto == "ip" || proto == "tcp" || proto == "udp";
        bool v6 = proto == "ipv6" || proto == "udp6";
        bool l4 = proto == "tcp" || proto == "udp" || proto == "udp6";
        if (v4 && pick(2)) {
            static const char *const nets[] = {
                "10.0.0.0/16", "10.0.1.0/24", "10.0.1.1", "10.0.2.1",
                "10.0.0.0/255.0.0.254",
            };
            add_field(std::string(pick(2) ? "nw_dst=" : "nw_src=")
                      + nets[pick(5)]);
        }
        if (v6 && pick(2)) {
            static const char *const nets[] = {
                "2001:db8::/32", "2001:db8::1", "2001:db8::2",
            };
            add_field(std::string("ipv6_dst=") + nets[pick(3)]);
        }
        if (l4 && pick(2)) {
            static const char *const ports[] = {
                "tp_dst=80", "tp_dst=81", "tp_dst=0x0050/0xfffe",
                "tp_src=443",
            };
            add_field(ports[pick(4)]);
        }
        if (!pick(4)) {
            static const char *const vlans[] = {
                "dl_vlan=1", "dl_vlan=2", "dl_vlan=0xffff",
            };
            add_field(vlans[pick(3)]);
        }
        if (!pick(5)) {
            add_field("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00");
        }
        return s;
    }

    vtap_flow_key random_packet()
    {
        static const char *const l3[] = {
            "ip,nw_src=10.0.1.1,nw_dst=10.0.2.1",
            "ip,nw_src=10.0.2.1,nw_dst=10.0.1.1",
            "ip,nw_src=10.1.0.0,nw_dst=10.0.1.2",
            "ipv6,ipv6_src=2001:db8::2,ipv6_dst=2001:db8::1",
            "ipv6,ipv6_dst=2001:db8::2",
            "ipv6,ipv6_dst=2001:db9::2",
            "arp",
        };
        int l3_index = pick(7);
        std::string s = l3[l3_index];
        if (l3_index < 6) {
            static const char *const protos[] = {
                ",nw_proto=6", ",nw_proto=17", ",nw_proto=1",
            };
            int proto = pick(3);
            s += protos[proto];
            if (proto < 2) {
                static const char *const ports[] = {
                    ",tp_src=443,tp_dst=80", ",tp_src=1,tp_dst=81",
                    ",tp_dst=82",
                };
                s += ports[pick(3)];
            }
        }
        static const char *const vlans[] = {"", ",dl_vlan=1", ",dl_vlan=2"};
        s += vlans[pick(3)];
        static const char *const macs[] = {
            "", ",dl_dst=01:00:5e:00:00:01", ",dl_dst=00:00:00:00:00:01",
        };
        s += macs[pick(3)];
        return packet(s);
    }

    std::vector<uint32_t> random_ports(uint32_t probability_percent)
    {
        std::vector<uint32_t> ports;
        for (uint32_t port = 1; port <= kPorts; port++) {
            if (pick(100) < probability_percent) {
                ports.push_back(port);
            }
        }
        return ports;
    }

    uint32_t pick(uint32_t n) { return rng_() % n; }

    std::mt19937 rng_{4242};
};

TEST_F(RandomPolicyTest, AgreesWithBruteForce)
{
    /* To make sure that the test tests something. */
    size_t n_with_one_match = 0, n_with_several_matches = 0;
    size_t n_excluded_by_output = 0;

    for (int round = 0; round < 20; round++) {
        Policy policy;
        std::vector<Tap> taps;
        for (uint32_t i = 0; i < 60; i++) {
            Tap tap = make_tap(1 + pick(1000000), random_match(),
                               random_ports(15), random_ports(15),
                               pick(100) < 15);
            tap.enabled = pick(100) < 90;
            /* Output to an unselected port, sometimes one that select_all
             * taps would otherwise select. */
            tap.delivery.output_ports = {kOutputPort + pick(2)};
            for (uint32_t port = 1; port <= kPorts; port++) {
                if (pick(100) < 20
                    && !std::count(tap.selection.src_ports.begin(),
                                   tap.selection.src_ports.end(), port)
                    && !std::count(tap.selection.dst_ports.begin(),
                                   tap.selection.dst_ports.end(), port)) {
                    tap.delivery.output_ports.push_back(port);
                }
            }
            if (policy.add_tap(tap).empty()) {
                taps.push_back(policy.taps().back());
            }
        }
        Classifier cls(policy);

        for (int i = 0; i < 300; i++) {
            uint32_t port = 1 + pick(kPorts + 2);
            vtap_direction dir = pick(2) ? VTAP_DIR_INGRESS : VTAP_DIR_EGRESS;
            vtap_flow_key key = random_packet();

            /* Brute force: which taps match, and which masks a lookup that
             * visits every relevant tap's subtable examines. */
            Ids expected;
            vtap_flow_key expected_wc{};
            bool expected_selected = false;
            bool any_select_all_applies = false;
            for (const Tap &tap : taps) {
                const auto &outputs = tap.delivery.output_ports;
                if (tap.enabled && tap.selection.select_all
                    && !std::count(outputs.begin(), outputs.end(), port)) {
                    any_select_all_applies = true;
                }
            }
            for (const Tap &tap : taps) {
                if (!tap.enabled) {
                    continue;
                }
                const Selection &sel = tap.selection;
                const auto &ports = (dir == VTAP_DIR_INGRESS
                                     ? sel.src_ports : sel.dst_ports);
                bool explicitly = std::count(ports.begin(), ports.end(),
                                             port) > 0;
                bool via_all = sel.select_all && any_select_all_applies;
                if (explicitly || via_all) {
                    flow_key_or_into(&expected_wc, sel.match.mask);
                    expected_selected = true;
                }
                const auto &outputs = tap.delivery.output_ports;
                if ((explicitly || sel.select_all)
                    && match_matches_key(sel.match, key)) {
                    if (!std::count(outputs.begin(), outputs.end(), port)) {
                        expected.push_back(tap.id);
                    } else {
                        n_excluded_by_output++;
                    }
                }
            }
            std::sort(expected.begin(), expected.end());
            n_with_one_match += expected.size() == 1;
            n_with_several_matches += expected.size() > 1;

            vtap_flow_key wc{};
            Ids actual = lookup(cls, port, dir, key, &wc);
            ASSERT_EQ(actual, expected) << "round " << round << " i " << i;
            ASSERT_TRUE(flow_key_equal(wc, expected_wc));
            ASSERT_EQ(cls.port_is_selected(port, dir), expected_selected);

            /* Megaflow correctness: any packet that agrees with 'key' on
             * the bits in 'wc' gets the same answer. */
            vtap_flow_key noise = random_packet();
            vtap_flow_key inverse_wc;
            const uint8_t *w = reinterpret_cast<const uint8_t *>(&wc);
            uint8_t *inv = reinterpret_cast<uint8_t *>(&inverse_wc);
            for (size_t b = 0; b < sizeof wc; b++) {
                inv[b] = ~w[b];
            }
            vtap_flow_key similar = flow_key_and(key, wc);
            flow_key_or_into(&similar, flow_key_and(noise, inverse_wc));
            similar.pad[0] = similar.pad[1] = similar.pad[2] = 0;
            ASSERT_EQ(lookup(cls, port, dir, similar), expected);
        }
    }
    EXPECT_GT(n_with_one_match, 500u);
    EXPECT_GT(n_with_several_matches, 500u);
    EXPECT_GT(n_excluded_by_output, 100u);
}

TEST(Classifier, ConcurrentLookups)
{
    Policy policy;
    for (uint32_t i = 1; i <= 1000; i++) {
        add(&policy, make_tap(i, "tcp,tp_dst=" + std::to_string(i),
                              {1 + i % 4}, {}, i % 100 == 0));
    }
    Classifier cls(policy);

    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&cls, &failures, t]() {
            for (uint32_t i = 1; i <= 1000; i++) {
                uint32_t port = 1 + (i + t) % 4;
                vtap_flow_key key = {};
                key.eth_type = htons(0x0800);
                key.ip_proto = 6;
                key.tp_dst = htons(i);
                uint32_t ids[4];
                size_t n = cls.lookup(port, VTAP_DIR_INGRESS, key, nullptr,
                                      ids, 4);
                bool expected = port == 1 + i % 4 || i % 100 == 0;
                if (n != (expected ? 1u : 0u) || (n && ids[0] != i)) {
                    failures++;
                }
            }
        });
    }
    for (std::thread &thread : threads) {
        thread.join();
    }
    EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace vtap
