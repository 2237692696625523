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
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <utility>
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

/* Returns 'mask' restricted to the stages of a staged lookup up to and
 * including 'stage' (0: L2, 1: L3, 2: L4), spelled out field by field so
 * that it does not depend on how the classifier finds the stages. */
vtap_flow_key
up_to_stage(const vtap_flow_key &mask, int stage)
{
    vtap_flow_key m = mask;
    if (stage < 2) {
        m.tp_src = m.tp_dst = 0;
    }
    if (stage < 1) {
        m.ip_proto = 0;
        m.ipv4_src = m.ipv4_dst = 0;
        memset(m.ipv6_src, 0, sizeof m.ipv6_src);
        memset(m.ipv6_dst, 0, sizeof m.ipv6_dst);
    }
    return m;
}

/* What a staged lookup of 'key' examines in a subtable with 'mask' and the
 * entries with 'keys': the mask up to the first stage at which no entry
 * agrees with 'key', or all of it.  (A stage without bits in 'mask' agrees
 * whenever the one before it does, so skipping it changes nothing.) */
vtap_flow_key
staged_examined(const vtap_flow_key &mask,
                const std::vector<vtap_flow_key> &keys,
                const vtap_flow_key &key)
{
    vtap_flow_key examined{};
    for (int stage = 0; stage < 3; stage++) {
        examined = up_to_stage(mask, stage);
        vtap_flow_key masked = flow_key_and(key, examined);
        bool agrees = false;
        for (const vtap_flow_key &k : keys) {
            agrees = agrees || flow_key_equal(flow_key_and(k, examined),
                                              masked);
        }
        if (!agrees) {
            break;
        }
    }
    return examined;
}

/* Returns 'a' & ~'b'. */
vtap_flow_key
flow_key_and_not(const vtap_flow_key &a, const vtap_flow_key &b)
{
    vtap_flow_key result;
    const uint8_t *pa = reinterpret_cast<const uint8_t *>(&a);
    const uint8_t *pb = reinterpret_cast<const uint8_t *>(&b);
    uint8_t *pr = reinterpret_cast<uint8_t *>(&result);
    for (size_t i = 0; i < sizeof result; i++) {
        pr[i] = pa[i] & ~pb[i];
    }
    return result;
}

/* Returns a packet that agrees with 'key' on the bits of 'wc' and with
 * 'noise' on the others. */
vtap_flow_key
blend(const vtap_flow_key &key, const vtap_flow_key &wc,
      const vtap_flow_key &noise)
{
    vtap_flow_key similar = flow_key_and(key, wc);
    flow_key_or_into(&similar, flow_key_and_not(noise, wc));
    memset(similar.pad, 0, sizeof similar.pad);
    return similar;
}

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

TEST(Classifier, WildcardsAreWhatTheStagesExamined)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp,tp_dst=80", {1}, {}));
    add(&policy, make_tap(2, "ip,nw_src=10.0.0.0/8", {1}, {}));
    add(&policy, make_tap(3, "ipv6,ipv6_dst=::1", {}, {1}));
    add(&policy, make_tap(4, "dl_vlan=5", {2}, {}));
    Classifier cls(policy);

    /* A packet that gets as far as the last stage of both subtables
     * examines their whole masks, whether or not anything matched. */
    for (const char *p : {"tcp,tp_dst=80", "tcp,tp_dst=81",
                          "tcp,nw_src=10.1.2.3", "ip,nw_proto=6"}) {
        vtap_flow_key wc{};
        lookup(cls, 1, VTAP_DIR_INGRESS, packet(p), &wc);
        vtap_flow_key expected = mask_of("tcp,tp_dst=80");
        flow_key_or_into(&expected, mask_of("ip,nw_src=10.0.0.0/8"));
        EXPECT_TRUE(flow_key_equal(wc, expected)) << p;
    }

    /* A UDP packet fails "tcp" at L3, so tp_dst stays wildcarded. */
    vtap_flow_key wc{};
    lookup(cls, 1, VTAP_DIR_INGRESS, packet("udp,tp_dst=80"), &wc);
    vtap_flow_key expected = mask_of("tcp");
    flow_key_or_into(&expected, mask_of("ip,nw_src=10.0.0.0/8"));
    EXPECT_TRUE(flow_key_equal(wc, expected));
    EXPECT_EQ(wc.tp_dst, 0);

    /* A non-IP packet fails both at L2: only eth_type was examined. */
    for (const char *p : {"arp", "", "ipv6"}) {
        wc = vtap_flow_key{};
        lookup(cls, 1, VTAP_DIR_INGRESS, packet(p), &wc);
        EXPECT_TRUE(flow_key_equal(wc, mask_of("ip"))) << p;
    }

    /* ORed into, not assigned. */
    wc = mask_of("dl_src=00:00:00:00:00:01");
    lookup(cls, 1, VTAP_DIR_EGRESS, packet(""), &wc);
    expected = mask_of("dl_src=00:00:00:00:00:01,ipv6");
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

/* With a tap on "tcp,tp_dst=80", only a TCP packet gets as far as tp_dst:
 * any other packet is ruled out at L2 or L3, so the megaflow for it leaves
 * the ports wildcarded. */
TEST(Classifier, StagedLookupStopsAtTheFirstMismatchingStage)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp,tp_dst=80", {1}, {}));
    Classifier cls(policy);

    vtap_flow_key wc{};
    LookupStats stats;
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("udp,tp_dst=80"), &wc,
                     &stats), Ids{});
    EXPECT_EQ(wc.eth_type, 0xffff);
    EXPECT_EQ(wc.ip_proto, 0xff);
    EXPECT_EQ(wc.tp_dst, 0);
    EXPECT_EQ(wc.tp_src, 0);
    EXPECT_TRUE(flow_key_equal(wc, mask_of("tcp")));
    EXPECT_EQ(stats.n_subtables_visited, 1u);
    EXPECT_EQ(stats.n_stage_misses, 1u);
    EXPECT_EQ(stats.n_probes, 2u);

    /* TCP to another port passes L2 and L3, so tp_dst decides. */
    wc = vtap_flow_key{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("tcp,tp_dst=81"), &wc,
                     &stats), Ids{});
    EXPECT_EQ(wc.tp_dst, 0xffff);
    EXPECT_TRUE(flow_key_equal(wc, mask_of("tcp,tp_dst=80")));
    EXPECT_EQ(stats.n_stage_misses, 0u);
    EXPECT_EQ(stats.n_subtables_matched, 0u);
    EXPECT_EQ(stats.n_probes, 3u);

    wc = vtap_flow_key{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("tcp,tp_dst=80"), &wc,
                     &stats), Ids{1});
    EXPECT_TRUE(flow_key_equal(wc, mask_of("tcp,tp_dst=80")));
    EXPECT_EQ(stats.n_subtables_matched, 1u);
    EXPECT_EQ(stats.n_probes, 3u);

    /* TCP over IPv6 is ruled out by eth_type alone. */
    wc = vtap_flow_key{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet("tcp6,tp_dst=80"), &wc,
                     &stats), Ids{});
    EXPECT_TRUE(flow_key_equal(wc, mask_of("ip")));
    EXPECT_EQ(stats.n_stage_misses, 1u);
    EXPECT_EQ(stats.n_probes, 1u);
}

/* A subtable with MAC and IP bits: a packet from another MAC never has its
 * IP addresses examined. */
TEST(Classifier, StagedLookupMacBeforeIp)
{
    Policy policy;
    add(&policy, make_tap(1, "ip,dl_src=00:11:22:33:44:55,nw_dst=10.0.0.1",
                          {1}, {}));
    Classifier cls(policy);

    vtap_flow_key wc{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS,
                     packet("tcp,dl_src=00:11:22:33:44:66,nw_dst=10.0.0.1,"
                            "tp_dst=80"), &wc), Ids{});
    EXPECT_TRUE(flow_key_equal(wc, mask_of("ip,dl_src=00:11:22:33:44:55")));
    EXPECT_TRUE(flow_key_equal(up_to_stage(wc, 0), wc));
    EXPECT_EQ(wc.ipv4_dst, 0u);

    /* The right MAC, the wrong address: now the address decided. */
    wc = vtap_flow_key{};
    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS,
                     packet("tcp,dl_src=00:11:22:33:44:55,nw_dst=10.0.0.2"),
                     &wc), Ids{});
    EXPECT_TRUE(flow_key_equal(
                    wc, mask_of("ip,dl_src=00:11:22:33:44:55,"
                                "nw_dst=10.0.0.1")));

    EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS,
                     packet("udp,dl_src=00:11:22:33:44:55,nw_dst=10.0.0.1")),
              Ids{1});
}

/* A stage check holds every entry of its subtable, masked with everything
 * up to that stage, not just that stage's part: (IPv6, UDP) is ruled out
 * although both IPv6 and UDP occur. */
TEST(Classifier, StageChecksAreCumulative)
{
    Policy policy;
    add(&policy, make_tap(1, "tcp,tp_dst=80", {1}, {}));
    add(&policy, make_tap(2, "udp,tp_dst=53", {1}, {}));
    add(&policy, make_tap(3, "tcp6,tp_dst=80", {1}, {}));
    Classifier cls(policy);
    ASSERT_EQ(cls.n_subtables(), 1u);

    struct {
        const char *packet;
        Ids ids;
        const char *wc;
    } cases[] = {
        {"tcp,tp_dst=80", {1}, "tcp,tp_dst=80"},
        {"udp,tp_dst=80", {}, "tcp,tp_dst=80"},
        {"udp,tp_dst=53", {2}, "tcp,tp_dst=80"},
        {"sctp,tp_dst=80", {}, "tcp"},
        {"tcp6,tp_dst=80", {3}, "tcp,tp_dst=80"},
        {"tcp6,tp_dst=53", {}, "tcp,tp_dst=80"},
        {"udp6,tp_dst=53", {}, "tcp"},
        {"arp", {}, "ip"},
    };
    for (const auto &c : cases) {
        vtap_flow_key wc{};
        EXPECT_EQ(lookup(cls, 1, VTAP_DIR_INGRESS, packet(c.packet), &wc),
                  c.ids) << c.packet;
        EXPECT_TRUE(flow_key_equal(wc, mask_of(c.wc))) << c.packet;
    }
}

/* A stage without bits in a subtable's mask costs no probe there. */
TEST(Classifier, EmptyStagesCostNothing)
{
    /* Masks that no match syntax produces, to have L4 bits without L3
     * ones. */
    vtap_match l4_only{};
    l4_only.mask.tp_dst = 0xffff;
    l4_only.key.tp_dst = htons(80);
    vtap_match l2_and_l4{};
    l2_and_l4.mask.eth_type = l2_and_l4.mask.tp_dst = 0xffff;
    l2_and_l4.key.eth_type = htons(0x0800);
    l2_and_l4.key.tp_dst = htons(80);

    Policy policy;
    add(&policy, make_tap(1, "", {1}, {}));
    add(&policy, make_tap(2, "dl_vlan=5", {2}, {}));
    Tap tap = make_tap(3, "", {3}, {});
    tap.selection.match = l4_only;
    add(&policy, tap);
    tap = make_tap(4, "", {4}, {});
    tap.selection.match = l2_and_l4;
    add(&policy, tap);
    add(&policy, make_tap(5, "ipv6,ipv6_src=2001:db8::/32", {5}, {}));
    Classifier cls(policy);

    vtap_flow_key port80 = packet("udp,tp_dst=80");
    vtap_flow_key port81 = packet("udp,tp_dst=81");
    vtap_flow_key arp = packet("arp");
    vtap_flow_key v6 = packet("udp6,ipv6_src=2001:db8::1");
    vtap_flow_key l2_and_l4_mask = mask_of("ip");
    l2_and_l4_mask.tp_dst = 0xffff;
    struct {
        uint32_t port;
        const vtap_flow_key *packet;
        Ids ids;
        vtap_flow_key wc;
        size_t n_probes;
    } cases[] = {
        {1, &port80, {1}, mask_of(""), 1},
        {2, &port80, {}, mask_of("dl_vlan=5"), 1},
        {3, &port80, {3}, l4_only.mask, 1},
        {3, &port81, {}, l4_only.mask, 1},
        {4, &port80, {4}, l2_and_l4_mask, 2},
        {4, &port81, {}, l2_and_l4_mask, 2},
        {4, &arp, {}, mask_of("ip"), 1},
        {5, &v6, {5}, mask_of("ipv6,ipv6_src=2001:db8::/32"), 2},
        {5, &port80, {}, mask_of("ip"), 1},
    };
    for (const auto &c : cases) {
        vtap_flow_key wc{};
        LookupStats stats;
        EXPECT_EQ(lookup(cls, c.port, VTAP_DIR_INGRESS, *c.packet, &wc,
                         &stats), c.ids) << "port " << c.port;
        EXPECT_TRUE(flow_key_equal(wc, c.wc)) << "port " << c.port;
        EXPECT_EQ(stats.n_probes, c.n_probes) << "port " << c.port;
    }
}

/* A few hundred taps with masks of random shapes, many of them shared and
 * some of them beyond what match syntax can say, against thousands of
 * packets.  Checks every lookup against brute force, and the megaflow
 * property: a packet that agrees with a looked-up packet on every bit of
 * its wildcards gets the same answer.  It gets the same wildcards, too,
 * since it passes and fails the same stage checks. */
class MegaflowTest : public ::testing::Test {
protected:
    struct Field {
        size_t offset;
        size_t size;
        int stage;
    };

    static const std::vector<Field> &fields()
    {
        static const std::vector<Field> fields = {
            {offsetof(vtap_flow_key, eth_src), 6, 0},
            {offsetof(vtap_flow_key, eth_dst), 6, 0},
            {offsetof(vtap_flow_key, vlan_tci), 2, 0},
            {offsetof(vtap_flow_key, eth_type), 2, 0},
            {offsetof(vtap_flow_key, ip_proto), 1, 1},
            {offsetof(vtap_flow_key, ipv4_src), 4, 1},
            {offsetof(vtap_flow_key, ipv4_dst), 4, 1},
            {offsetof(vtap_flow_key, ipv6_src), 16, 1},
            {offsetof(vtap_flow_key, ipv6_dst), 16, 1},
            {offsetof(vtap_flow_key, tp_src), 2, 2},
            {offsetof(vtap_flow_key, tp_dst), 2, 2},
        };
        return fields;
    }

    static uint8_t *bytes(vtap_flow_key *key)
    {
        return reinterpret_cast<uint8_t *>(key);
    }

    /* Every field from a small domain, so that taps and packets often
     * agree on some fields and disagree on others. */
    vtap_flow_key random_values()
    {
        static const uint8_t macs[][6] = {
            {0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 1},
            {1, 0, 0x5e, 0, 0, 1},
        };
        static const uint16_t vlans[] = {0, 0x1001, 0x1002, 0x1fff};
        static const uint16_t types[] = {0x0800, 0x86dd, 0x0806};
        static const uint8_t protos[] = {6, 17, 1};
        static const uint32_t v4s[] = {
            0x0a000001, 0x0a000101, 0x0a010001, 0xc0000201,
        };
        static const uint8_t v6s[][16] = {
            {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
            {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
            {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
            {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
        };
        static const uint16_t tps[] = {80, 81, 443, 53};

        vtap_flow_key k{};
        memcpy(k.eth_src, macs[pick(4)], 6);
        memcpy(k.eth_dst, macs[pick(4)], 6);
        k.vlan_tci = htons(vlans[pick(4)]);
        k.eth_type = htons(types[pick(3)]);
        k.ip_proto = protos[pick(3)];
        k.ipv4_src = htonl(v4s[pick(4)]);
        k.ipv4_dst = htonl(v4s[pick(4)]);
        memcpy(k.ipv6_src, v6s[pick(4)], 16);
        memcpy(k.ipv6_dst, v6s[pick(4)], 16);
        k.tp_src = htons(tps[pick(4)]);
        k.tp_dst = htons(tps[pick(4)]);
        return k;
    }

    /* All ones, a prefix, or random bits. */
    void random_field_mask(uint8_t *m, size_t n)
    {
        switch (pick(3)) {
        case 0:
            memset(m, 0xff, n);
            break;
        case 1: {
            size_t len = 1 + pick(n * 8);
            for (size_t i = 0; i < n; i++) {
                size_t bits = std::min<size_t>(8, len - std::min(len, i * 8));
                m[i] = bits ? 0xff << (8 - bits) : 0;
            }
            break;
        }
        default:
            for (size_t i = 0; i < n; i++) {
                m[i] = rng_();
            }
            break;
        }
    }

    /* A mask with bits in a random subset of the stages (perhaps none, or
     * L4 but not L3), in a random subset of the fields of each. */
    vtap_flow_key random_mask()
    {
        vtap_flow_key mask{};
        for (int stage = 0; stage < 3; stage++) {
            if (!pick(2)) {
                continue;
            }
            bool any = false;
            while (!any) {
                for (const Field &f : fields()) {
                    if (f.stage == stage && pick(2)) {
                        random_field_mask(bytes(&mask) + f.offset, f.size);
                        any = true;
                    }
                }
            }
        }
        return mask;
    }

    /* A packet: random, or one that agrees with a random tap, or that
     * agrees with it except perhaps in one field. */
    vtap_flow_key random_packet(const std::vector<Tap> &taps)
    {
        vtap_flow_key p = random_values();
        if (pick(3)) {
            const vtap_match &m = taps[pick(taps.size())].selection.match;
            p = blend(m.key, m.mask, p);
            if (pick(2)) {
                vtap_flow_key other = random_values();
                const Field &f = fields()[pick(fields().size())];
                memcpy(bytes(&p) + f.offset, bytes(&other) + f.offset,
                       f.size);
            }
        }
        return p;
    }

    vtap_flow_key random_bits()
    {
        vtap_flow_key k;
        for (size_t i = 0; i < sizeof k; i++) {
            bytes(&k)[i] = rng_();
        }
        memset(k.pad, 0, sizeof k.pad);
        return k;
    }

    /* Subtables as brute force sees them: each a mask and the keys of its
     * entries. */
    using Subtables = std::vector<std::pair<vtap_flow_key,
                                            std::vector<vtap_flow_key>>>;

    /* Returns the subtables that a lookup on 'port' in 'dir' visits: one
     * per mask among the taps that select 'port' explicitly, and another
     * per mask among the select_all taps (none of which output to a port
     * that these tests look up). */
    static Subtables subtables_for(const std::vector<Tap> &taps,
                                   uint32_t port, vtap_direction dir)
    {
        Subtables lists[2];
        for (const Tap &tap : taps) {
            const Selection &sel = tap.selection;
            const auto &ports = (dir == VTAP_DIR_INGRESS
                                 ? sel.src_ports : sel.dst_ports);
            bool in[2] = {
                std::count(ports.begin(), ports.end(), port) > 0,
                sel.select_all,
            };
            for (int i = 0; i < 2; i++) {
                if (!in[i]) {
                    continue;
                }
                auto it = std::find_if(lists[i].begin(), lists[i].end(),
                                       [&sel](const auto &s) {
                    return flow_key_equal(s.first, sel.match.mask);
                });
                if (it == lists[i].end()) {
                    lists[i].push_back({sel.match.mask, {}});
                    it = lists[i].end() - 1;
                }
                it->second.push_back(sel.match.key);
            }
        }
        lists[0].insert(lists[0].end(), lists[1].begin(), lists[1].end());
        return lists[0];
    }

    /* Looks up 'n_packets' random packets on 'port' in 'dir' and checks
     * the answers and wildcards against brute force and the megaflow
     * property. */
    void check_lookups(const Classifier &cls, const std::vector<Tap> &taps,
                       uint32_t port, vtap_direction dir, int n_packets)
    {
        Subtables subtables = subtables_for(taps, port, dir);
        ASSERT_EQ(cls.n_subtables_for(port, dir), subtables.size());

        for (int i = 0; i < n_packets; i++) {
            vtap_flow_key key = random_packet(taps);
            vtap_flow_key wc{};
            LookupStats stats;
            Ids ids = lookup(cls, port, dir, key, &wc, &stats);

            Ids expected;
            for (const Tap &tap : taps) {
                const Selection &sel = tap.selection;
                const auto &ports = (dir == VTAP_DIR_INGRESS
                                     ? sel.src_ports : sel.dst_ports);
                if ((sel.select_all
                     || std::count(ports.begin(), ports.end(), port))
                    && match_matches_key(sel.match, key)) {
                    expected.push_back(tap.id);
                }
            }
            ASSERT_EQ(ids, expected);

            vtap_flow_key expected_wc{}, union_wc{};
            size_t expected_misses = 0;
            for (const auto &subtable : subtables) {
                vtap_flow_key examined = staged_examined(subtable.first,
                                                         subtable.second,
                                                         key);
                expected_misses += !flow_key_equal(examined, subtable.first);
                flow_key_or_into(&expected_wc, examined);
                flow_key_or_into(&union_wc, subtable.first);
            }
            ASSERT_TRUE(flow_key_equal(wc, expected_wc));
            ASSERT_EQ(stats.n_stage_misses, expected_misses);
            n_matched_ += !ids.empty();
            n_narrower_ += !flow_key_equal(wc, union_wc);
            n_stage_misses_ += stats.n_stage_misses;

            /* Packets that agree with 'key' on 'wc': with noise from the
             * same domains, with uniformly random noise, and with one
             * random bit outside 'wc' flipped. */
            vtap_flow_key flipped = key;
            vtap_flow_key outside = flow_key_and_not(random_bits(), wc);
            size_t n_bits = sizeof outside * 8;
            size_t start = pick(n_bits);
            for (size_t b = 0; b < n_bits; b++) {
                size_t bit = (start + b) % n_bits;
                uint8_t bit_mask = 1 << (bit % 8);
                if (bytes(&outside)[bit / 8] & bit_mask) {
                    bytes(&flipped)[bit / 8] ^= bit_mask;
                    break;
                }
            }
            const vtap_flow_key similars[] = {
                blend(key, wc, random_packet(taps)),
                blend(key, wc, random_packet(taps)),
                blend(key, wc, random_bits()),
                blend(key, wc, random_bits()),
                flipped,
            };
            for (const vtap_flow_key &similar : similars) {
                vtap_flow_key similar_wc{};
                ASSERT_EQ(lookup(cls, port, dir, similar, &similar_wc), ids);
                ASSERT_TRUE(flow_key_equal(similar_wc, wc));
                n_pairs_++;
            }
        }
    }

    uint32_t pick(uint32_t n) { return rng_() % n; }

    std::mt19937 rng_{20260101};

    /* To make sure that the tests test something. */
    size_t n_matched_ = 0;      /* Lookups that found some taps. */
    size_t n_narrower_ = 0;     /* Those whose wildcards staging narrowed. */
    size_t n_stage_misses_ = 0;
    size_t n_pairs_ = 0;        /* Packets checked for the same answer. */
};

/* Hundreds of taps on a few ports, so that a lookup visits a dozen or so
 * subtables of mixed shapes. */
TEST_F(MegaflowTest, ManySubtables)
{
    constexpr uint32_t kPorts = 12;
    std::vector<vtap_flow_key> shared_masks;
    for (int i = 0; i < 12; i++) {
        shared_masks.push_back(random_mask());
    }

    Policy policy;
    for (uint32_t id = 1; id <= 400; id++) {
        Tap tap = make_tap(id, "", {}, {}, pick(100) < 2);
        for (uint32_t port = 1; port <= kPorts; port++) {
            if (pick(100) < 8) {
                tap.selection.src_ports.push_back(port);
            }
            if (pick(100) < 8) {
                tap.selection.dst_ports.push_back(port);
            }
        }
        vtap_match &match = tap.selection.match;
        match.mask = (pick(10)
                      ? shared_masks[pick(shared_masks.size())]
                      : random_mask());
        match.key = flow_key_and(random_values(), match.mask);
        add(&policy, tap);
    }
    Classifier cls(policy);

    /* Port kPorts + 1 has only the select_all taps. */
    for (uint32_t port = 1; port <= kPorts + 1; port++) {
        for (vtap_direction dir : {VTAP_DIR_INGRESS, VTAP_DIR_EGRESS}) {
            check_lookups(cls, policy.taps(), port, dir, 250);
            if (HasFatalFailure()) {
                return;
            }
        }
    }
    EXPECT_GT(n_matched_, 3000u);
    EXPECT_GT(n_narrower_, 2000u);
    EXPECT_GT(n_stage_misses_, 20000u);
    EXPECT_EQ(n_pairs_, 13u * 2 * 250 * 5);
}

/* One subtable per classifier, so that nothing that other subtables
 * examine can hide what a wrong stage check leaves out. */
TEST_F(MegaflowTest, OneSubtableAtATime)
{
    for (int i = 0; i < 40; i++) {
        vtap_flow_key mask = random_mask();
        Policy policy;
        for (uint32_t id = 1; id <= 20; id++) {
            Tap tap = make_tap(id, "", {1}, {});
            tap.selection.match.mask = mask;
            tap.selection.match.key = flow_key_and(random_values(), mask);
            add(&policy, tap);
        }
        Classifier cls(policy);
        ASSERT_EQ(cls.n_subtables(), 1u);
        check_lookups(cls, policy.taps(), 1, VTAP_DIR_INGRESS, 200);
        if (HasFatalFailure()) {
            return;
        }
    }
    EXPECT_GT(n_matched_, 3000u);
    EXPECT_GT(n_narrower_, 500u);
    EXPECT_EQ(n_pairs_, 40u * 200 * 5);
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
        EXPECT_EQ(stats.n_probes, 2u);      /* L2, then the full lookup. */
        EXPECT_TRUE(flow_key_equal(wc, mask_of("ip,nw_dst=1.1.1.1")));
    }

    /* A non-IPv4 packet costs one probe and examines only eth_type. */
    LookupStats v6_stats;
    vtap_flow_key v6_wc{};
    EXPECT_EQ(lookup(big_cls, 1, VTAP_DIR_INGRESS, packet("tcp6"), &v6_wc,
                     &v6_stats), Ids{});
    EXPECT_EQ(v6_stats.n_probes, 1u);
    EXPECT_EQ(v6_stats.n_stage_misses, 1u);
    EXPECT_TRUE(flow_key_equal(v6_wc, mask_of("ip")));
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

            /* Brute force: which taps match, and what a staged lookup in
             * every relevant tap's subtable examines.  A subtable holds the
             * taps of one list (this port's, or the any-port one) with one
             * mask. */
            Ids expected;
            vtap_flow_key expected_wc{};
            std::vector<std::pair<vtap_flow_key,
                                  std::vector<vtap_flow_key>>> subtables[2];
            auto add_to_subtable = [&subtables](int list,
                                                const vtap_match &match) {
                for (auto &subtable : subtables[list]) {
                    if (flow_key_equal(subtable.first, match.mask)) {
                        subtable.second.push_back(match.key);
                        return;
                    }
                }
                subtables[list].push_back({match.mask, {match.key}});
            };
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
                if (explicitly) {
                    add_to_subtable(0, sel.match);
                }
                if (via_all) {
                    add_to_subtable(1, sel.match);
                }
                expected_selected = expected_selected || explicitly
                                    || via_all;
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
            for (const auto &list : subtables) {
                for (const auto &subtable : list) {
                    flow_key_or_into(&expected_wc,
                                     staged_examined(subtable.first,
                                                     subtable.second, key));
                }
            }
            n_with_one_match += expected.size() == 1;
            n_with_several_matches += expected.size() > 1;

            vtap_flow_key wc{};
            Ids actual = lookup(cls, port, dir, key, &wc);
            ASSERT_EQ(actual, expected) << "round " << round << " i " << i;
            ASSERT_TRUE(flow_key_equal(wc, expected_wc));
            ASSERT_EQ(cls.port_is_selected(port, dir), expected_selected);

            /* Megaflow correctness: any packet that agrees with 'key' on
             * the bits in 'wc' gets the same answer. */
            vtap_flow_key similar = blend(key, wc, random_packet());
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
