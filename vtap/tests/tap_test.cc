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

#include "vtap/policy/tap.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "vtap/policy/match.h"

namespace vtap {
namespace {

/* A valid tap to start each test from: "web", id 7, copying ingress on port
 * 1 and egress on port 2 to port 10. */
Tap
good_tap()
{
    Tap tap;
    tap.name = "web";
    tap.id = 7;
    tap.selection.src_ports = {1};
    tap.selection.dst_ports = {2};
    tap.delivery.output_ports = {10};
    return tap;
}

/* A vtap_tap_config and the storage it points to. */
struct Config {
    std::string name = "web";
    std::string match;
    std::vector<uint32_t> src_ports{1};
    std::vector<uint32_t> dst_ports{2};
    std::vector<uint32_t> output_ports{10};
    vtap_tap_config config{};

    const vtap_tap_config &get()
    {
        config.name = name.c_str();
        if (!config.id) {
            config.id = 7;
        }
        config.enabled = true;
        config.src_ports = src_ports.data();
        config.n_src_ports = src_ports.size();
        config.dst_ports = dst_ports.data();
        config.n_dst_ports = dst_ports.size();
        config.match = match.c_str();
        config.output_ports = output_ports.data();
        config.n_output_ports = output_ports.size();
        return config;
    }
};

TEST(Tap, GoodTapIsValid)
{
    Tap tap = good_tap();
    EXPECT_EQ(validate_tap(&tap), "");
    Policy policy;
    EXPECT_EQ(policy.add_tap(good_tap()), "");
    EXPECT_EQ(policy.n_taps(), 1u);
}

TEST(Tap, NoSelectionIsValid)
{
    /* Used only by OpenFlow tap(id=N) actions. */
    Tap tap = good_tap();
    tap.selection.src_ports.clear();
    tap.selection.dst_ports.clear();
    Policy policy;
    EXPECT_EQ(policy.add_tap(tap), "");
    EXPECT_EQ(policy.n_taps(), 1u);
}

TEST(Tap, PortsAreDeduplicatedAndSorted)
{
    Tap tap = good_tap();
    tap.selection.src_ports = {5, 1, 5, 3, 1};
    tap.selection.dst_ports = {9, 9};
    tap.delivery.output_ports = {12, 11, 12};
    EXPECT_EQ(validate_tap(&tap), "");
    EXPECT_EQ(tap.selection.src_ports, (std::vector<uint32_t>{1, 3, 5}));
    EXPECT_EQ(tap.selection.dst_ports, (std::vector<uint32_t>{9}));
    EXPECT_EQ(tap.delivery.output_ports, (std::vector<uint32_t>{11, 12}));
}

TEST(Tap, LimitsAreAccepted)
{
    const std::function<void(Tap *)> edits[] = {
        [](Tap *t) { t->id = 1; },
        [](Tap *t) { t->id = UINT32_MAX; },
        [](Tap *t) { t->delivery.output_vlan = 0; },
        [](Tap *t) { t->delivery.output_vlan = 1; },
        [](Tap *t) { t->delivery.output_vlan = 4095; },
        [](Tap *t) { t->delivery.snaplen = 0; },
        [](Tap *t) { t->delivery.snaplen = 14; },
        [](Tap *t) { t->delivery.snaplen = 65535; },
        [](Tap *t) { t->delivery.offload = VTAP_OFFLOAD_DPDK; },
        [](Tap *t) { t->delivery.sampling = 1000; },
        [](Tap *t) { t->delivery.max_rate = 1; },
        [](Tap *t) { t->selection.select_all = true; },
        [](Tap *t) { t->enabled = false; },
    };
    for (const auto &edit : edits) {
        Tap tap = good_tap();
        edit(&tap);
        EXPECT_EQ(validate_tap(&tap), "");
    }
}

TEST(Tap, Errors)
{
    const struct {
        std::function<void(Tap *)> edit;
        const char *error;
    } cases[] = {
        {[](Tap *t) { t->name = ""; }, "name: must not be empty"},
        {[](Tap *t) { t->id = 0; }, "id: 0 is out of range 1..4294967295"},
        {[](Tap *t) { t->delivery.output_vlan = 5000; },
         "output_vlan: 5000 is out of range 1..4095"},
        {[](Tap *t) { t->delivery.output_vlan = 4096; },
         "output_vlan: 4096 is out of range 1..4095"},
        {[](Tap *t) { t->delivery.snaplen = 9; },
         "snaplen: 9 is out of range 14..65535"},
        {[](Tap *t) { t->delivery.snaplen = 65536; },
         "snaplen: 65536 is out of range 14..65535"},
        {[](Tap *t) { t->delivery.output_ports.clear(); },
         "output_port: missing"},
        {[](Tap *t) { t->delivery.output_ports = {10, 1}; },
         "output_port: port 1 is also a selected port"},
        {[](Tap *t) { t->delivery.output_ports = {2}; },
         "output_port: port 2 is also a selected port"},
        {[](Tap *t) { t->selection.src_ports.push_back(VTAP_PORT_NONE); },
         "select_src_port: invalid port 4294967295"},
        {[](Tap *t) { t->selection.dst_ports.push_back(VTAP_PORT_NONE); },
         "select_dst_port: invalid port 4294967295"},
        {[](Tap *t) { t->delivery.output_ports = {VTAP_PORT_NONE}; },
         "output_port: invalid port 4294967295"},
        {[](Tap *t) { t->selection.match.key.tp_dst = 1; },
         "match: key has bits set outside its mask"},
    };
    for (const auto &c : cases) {
        Tap tap = good_tap();
        c.edit(&tap);
        std::string error = validate_tap(&tap);
        EXPECT_EQ(error.compare(0, strlen(c.error), c.error), 0)
            << "error:    " << error << "\nexpected: " << c.error;

        /* A bad tap leaves the policy unchanged. */
        Policy policy;
        ASSERT_EQ(policy.add_tap(good_tap()), "");
        Tap bad = good_tap();
        c.edit(&bad);
        bad.id = 8;
        bad.name = "other";
        if (std::string(c.error).rfind("id:", 0) == 0) {
            bad.id = 0;
        } else if (std::string(c.error).rfind("name:", 0) == 0) {
            bad.name = "";
        }
        EXPECT_NE(policy.add_tap(bad), "") << c.error;
        EXPECT_EQ(policy.n_taps(), 1u);
        EXPECT_EQ(policy.taps()[0].id, 7u);
    }
}

/* Only C can store a value outside the enum, and then tap_from_config()
 * catches it, but validate_tap() double-checks.  The Tap is never copied
 * here: copying an enum that holds such a value is undefined. */
TEST(Tap, InvalidOffload)
{
    Tap tap = good_tap();
    int four = 4;
    memcpy(&tap.delivery.offload, &four, sizeof four);
    EXPECT_EQ(validate_tap(&tap), "offload: 4 is not a valid offload mode "
                                  "(auto, native, ebpf or dpdk)");
    tap.delivery.offload = VTAP_OFFLOAD_AUTO;
}

TEST(Policy, DuplicateIdAndName)
{
    Policy policy;
    ASSERT_EQ(policy.add_tap(good_tap()), "");

    Tap same_id = good_tap();
    same_id.name = "db";
    EXPECT_EQ(policy.add_tap(same_id), "id: 7 is already used by tap 'web'");

    Tap same_name = good_tap();
    same_name.id = 8;
    EXPECT_EQ(policy.add_tap(same_name),
              "name: 'web' is already used by tap 7");

    EXPECT_EQ(policy.n_taps(), 1u);
    EXPECT_EQ(policy.find_id(8), nullptr);
    EXPECT_EQ(policy.find_name("db"), nullptr);

    Tap other = good_tap();
    other.id = 8;
    other.name = "db";
    EXPECT_EQ(policy.add_tap(other), "");
    EXPECT_EQ(policy.n_taps(), 2u);
    ASSERT_NE(policy.find_id(8), nullptr);
    EXPECT_EQ(policy.find_id(8)->name, "db");
    ASSERT_NE(policy.find_name("web"), nullptr);
    EXPECT_EQ(policy.find_name("web")->id, 7u);
}

TEST(TapFromConfig, Converts)
{
    Config c;
    c.match = "tcp,tp_dst=80";
    c.src_ports = {3, 1, 3};
    c.get();
    c.config.select_all = true;
    c.config.enabled = false;
    c.config.output_vlan = 100;
    c.config.snaplen = 128;
    c.config.sampling = 10;
    c.config.max_rate = 1000;
    c.config.offload = VTAP_OFFLOAD_EBPF;

    Tap tap;
    ASSERT_EQ(tap_from_config(c.config, &tap), "");
    EXPECT_EQ(tap.name, "web");
    EXPECT_EQ(tap.id, 7u);
    EXPECT_FALSE(tap.enabled);
    EXPECT_TRUE(tap.selection.select_all);
    EXPECT_EQ(tap.selection.src_ports, (std::vector<uint32_t>{3, 1, 3}));
    vtap_match expected;
    ASSERT_EQ(parse_match("tcp,tp_dst=80", &expected), "");
    EXPECT_TRUE(match_equal(tap.selection.match, expected));
    EXPECT_EQ(tap.delivery.output_ports, (std::vector<uint32_t>{10}));
    EXPECT_EQ(tap.delivery.output_vlan, 100);
    EXPECT_EQ(tap.delivery.snaplen, 128u);
    EXPECT_EQ(tap.delivery.sampling, 10u);
    EXPECT_EQ(tap.delivery.max_rate, 1000u);
    EXPECT_EQ(tap.delivery.offload, VTAP_OFFLOAD_EBPF);
}

TEST(TapFromConfig, NullMatchAndNameAreEmpty)
{
    Config c;
    c.get();
    c.config.match = nullptr;
    c.config.name = nullptr;
    Tap tap;
    ASSERT_EQ(tap_from_config(c.config, &tap), "");
    EXPECT_TRUE(flow_key_is_zero(tap.selection.match.mask));
    EXPECT_EQ(validate_tap(&tap), "name: must not be empty");
}

TEST(TapFromConfig, Errors)
{
    Tap tap;

    Config bad_match;
    bad_match.match = "tp_dst=80";
    EXPECT_EQ(tap_from_config(bad_match.get(), &tap),
              "match: tp_dst: requires tcp, udp or sctp (add \"tcp\" or "
              "\"udp\" first)");

    Config null_ports;
    null_ports.get();
    null_ports.config.src_ports = nullptr;
    EXPECT_EQ(tap_from_config(null_ports.config, &tap),
              "select_src_port: 1 ports but no array");

    Config bad_offload;
    bad_offload.get();
    int seven = 7;
    memcpy(&bad_offload.config.offload, &seven, sizeof seven);
    EXPECT_EQ(tap_from_config(bad_offload.config, &tap),
              "offload: 7 is not a valid offload mode (auto, native, ebpf "
              "or dpdk)");
}

}  // namespace
}  // namespace vtap
