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

/* Tests of the compiler from offloaded taps to the TC program's maps: what
 * goes where, and the limits that keep a tap out of the kernel. */

#include <gtest/gtest.h>

#include <string>

#include "vtap/backends/ebpf/tc_tables.h"
#include "vtap/policy/match.h"

namespace vtap {
namespace {

TcTap
make_tap(uint64_t owner, const std::string &match, uint32_t src,
         uint32_t out = 100)
{
    TcTap t;
    t.owner = owner;
    EXPECT_EQ(parse_match(match, &t.match), "") << match;
    t.src_ifindexes.push_back(src);
    t.out_ifindex = out;
    return t;
}

/* Adds as many taps with 'match' on ifindex 5 as one match may have,
 * with slots 0, 1... */
void
add_alike(TcTables *tables, const std::string &match)
{
    for (uint32_t i = 0; i < VTAP_TC_MAX_TAPS_PER_RULE; i++) {
        ASSERT_EQ(tables->add_tap(make_tap(i, match, 5, 100 + i), i), "");
    }
}

TEST(TcTables, TapsOfOneShapeShareAMaskAndHook)
{
    TcMaskIds ids;
    TcTables tables(&ids);

    for (int i = 0; i < 100; i++) {
        std::string match = "tcp,tp_dst=" + std::to_string(1000 + i);
        ASSERT_EQ(tables.add_tap(make_tap(i, match, 5), i), "");
    }
    ASSERT_EQ(tables.hooks.size(), 1u);
    EXPECT_EQ(tables.hooks.begin()->second.n_masks, 1u);
    EXPECT_EQ(tables.masks.size(), 1u);
    EXPECT_EQ(tables.rules.size(), 100u);
    EXPECT_EQ(tables.taps.size(), 100u);

    std::set<TcHook> points = {{5, VTAP_TC_INGRESS}};
    EXPECT_EQ(tables.attach_points(), points);
}

TEST(TcTables, IdenticalMatchesShareARule)
{
    TcMaskIds ids;
    TcTables tables(&ids);

    add_alike(&tables, "udp");
    ASSERT_EQ(tables.rules.size(), 1u);
    EXPECT_EQ(tables.rules.begin()->second.n_taps,
              static_cast<uint32_t>(VTAP_TC_MAX_TAPS_PER_RULE));

    std::string reason = tables.add_tap(make_tap(99, "udp", 5), 99);
    EXPECT_EQ(reason, "more than 8 offloaded taps with this match on "
                      "ifindex 5 ingress (the TC program's limit)");
    EXPECT_EQ(tables.taps.count(99), 0u);
}

TEST(TcTables, TapsWithoutMatchNeedNoMaskNorRule)
{
    TcMaskIds ids;
    TcTables tables(&ids);

    add_alike(&tables, "");
    ASSERT_EQ(tables.hooks.size(), 1u);
    const vtap_tc_hook &hook = tables.hooks.begin()->second;
    EXPECT_EQ(hook.n_masks, 0u);
    EXPECT_EQ(hook.n_all, static_cast<uint32_t>(VTAP_TC_MAX_TAPS_PER_RULE));
    EXPECT_EQ(hook.all_slots[3], 3u);
    EXPECT_TRUE(tables.masks.empty());
    EXPECT_TRUE(tables.rules.empty());
    EXPECT_TRUE(ids.ids().empty()) << "no mask id taken";

    /* The same limit as for any other identical match. */
    EXPECT_EQ(tables.add_tap(make_tap(99, "", 5), 99),
              "more than 8 offloaded taps with this match on ifindex 5 "
              "ingress (the TC program's limit)");
    /* Taps with a match go beside them. */
    ASSERT_EQ(tables.add_tap(make_tap(50, "udp", 5, 200), 50), "");
    EXPECT_EQ(tables.hooks.begin()->second.n_masks, 1u);
    EXPECT_EQ(tables.rules.size(), 1u);
}

TEST(TcTables, MasksPerHookAreLimited)
{
    TcMaskIds ids;
    TcTables tables(&ids);

    /* nw_dst prefixes /17 to /32 are 16 distinct masks. */
    for (int len = 17; len <= 32; len++) {
        std::string match = "ip,nw_dst=0.0.0.0/" + std::to_string(len);
        ASSERT_EQ(tables.add_tap(make_tap(len, match, 5), len), "");
    }
    EXPECT_EQ(tables.add_tap(make_tap(1, "ip,nw_dst=198.51.0.0/16", 5), 1),
              "ifindex 5 ingress already has 16 distinct match shapes (the "
              "TC program's limit)");
    /* Another device has room. */
    EXPECT_EQ(tables.add_tap(make_tap(1, "ip,nw_dst=198.51.0.0/16", 6), 1),
              "");
}

TEST(TcTables, OutputsAreNeverSelected)
{
    TcMaskIds ids;
    TcTables tables(&ids);

    ASSERT_EQ(tables.add_tap(make_tap(1, "", 5, 100), 0), "");
    EXPECT_NE(tables.add_tap(make_tap(2, "", 100, 101), 1), "");
    EXPECT_NE(tables.add_tap(make_tap(3, "", 7, 5), 2), "");
    EXPECT_NE(tables.add_tap(make_tap(4, "", 7, 7), 3), "");
}

TEST(TcTables, DeliveryEntry)
{
    TcTap t = make_tap(1, "", 5);
    t.sampling = 4;
    t.max_rate = 1000;
    vtap_tc_tap entry = tc_tap_entry(t);
    EXPECT_EQ(entry.sample_threshold, 1u << 30);
    EXPECT_EQ(entry.rate_per_sec, 1000u);
    /* One second's worth, as the native backend's meter. */
    EXPECT_EQ(entry.burst, 1000u);
    t.max_rate = 1;
    EXPECT_EQ(tc_tap_entry(t).burst, 1u);
    t.max_rate = 1000;
    EXPECT_EQ(entry.flags, 0);

    t.snaplen = 64;
    EXPECT_EQ(tc_tap_entry(t).flags, VTAP_TC_TAP_EDIT_COPY);

    /* A tap with an edit needs the output's egress hook. */
    TcMaskIds ids;
    TcTables tables(&ids);
    ASSERT_EQ(tables.add_tap(t, 0), "");
    std::set<TcHook> points = {{5, VTAP_TC_INGRESS}, {100, VTAP_TC_EGRESS}};
    EXPECT_EQ(tables.attach_points(), points);
}

TEST(TcTables, MaskIdsAreStableAndReused)
{
    TcMaskIds ids;
    vtap_match a, b;
    ASSERT_EQ(parse_match("udp", &a), "");
    ASSERT_EQ(parse_match("tcp,tp_dst=1", &b), "");

    int id_a = ids.get(a.mask);
    int id_b = ids.get(b.mask);
    EXPECT_NE(id_a, id_b);
    EXPECT_EQ(ids.get(a.mask), id_a);
    ids.retain_only({static_cast<uint16_t>(id_b)});
    EXPECT_EQ(ids.ids().size(), 1u);
    vtap_match c;
    ASSERT_EQ(parse_match("ip,nw_src=198.51.100.0/24", &c), "");
    EXPECT_EQ(ids.get(c.mask), id_a) << "a freed id is reused";
}

}  // namespace
}  // namespace vtap
