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

/* Tests of the C ABI, written as OVS would use it: only vtap.h, only C
 * types, malloc'd strings freed with free(). */

#include "vtap/capi/vtap.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

/* Takes ownership of a malloc'd string from the ABI and returns it as a
 * std::string ("<null>" for NULL). */
std::string
take(char *s)
{
    std::string copy = s ? s : "<null>";
    free(s);
    return copy;
}

vtap_tap_config
config(const char *name, uint32_t id, const uint32_t *src_ports,
       size_t n_src_ports, const char *match, const uint32_t *output_ports,
       size_t n_output_ports)
{
    vtap_tap_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = name;
    cfg.id = id;
    cfg.enabled = true;
    cfg.src_ports = src_ports;
    cfg.n_src_ports = n_src_ports;
    cfg.match = match;
    cfg.output_ports = output_ports;
    cfg.n_output_ports = n_output_ports;
    cfg.offload = VTAP_OFFLOAD_AUTO;
    return cfg;
}

TEST(CApi, Version)
{
    EXPECT_STREQ(vtap_version(), "0.1.0");
}

TEST(CApi, MatchParseAndFormat)
{
    struct vtap_match match;
    EXPECT_EQ(vtap_match_parse("tp_dst=80, tcp, nw_dst=192.0.2.0/24",
                               &match), nullptr);
    EXPECT_EQ(match.key.tp_dst, htons(80));
    EXPECT_EQ(take(vtap_match_format(&match)),
              "tcp,nw_dst=192.0.2.0/24,tp_dst=80");

    EXPECT_EQ(take(vtap_match_parse("tp_dst=80", &match)),
              "tp_dst: requires tcp, udp or sctp (add \"tcp\" or \"udp\" "
              "first)");
    EXPECT_EQ(take(vtap_match_parse("ip,nw_src=192.0.2.5/24", &match)),
              "nw_src: 192.0.2.5/24 has bits set outside its mask (did you "
              "mean 192.0.2.0/24?)");

    EXPECT_EQ(vtap_match_parse("", &match), nullptr);
    EXPECT_EQ(take(vtap_match_format(&match)), "");
    EXPECT_EQ(vtap_match_parse(NULL, &match), nullptr);
    EXPECT_NE(take(vtap_match_parse("tcp", NULL)), "<null>");
    EXPECT_EQ(take(vtap_match_format(NULL)), "");
}

TEST(CApi, Offload)
{
    enum vtap_offload offload = VTAP_OFFLOAD_AUTO;
    const char *names[] = {"auto", "native", "ebpf", "dpdk"};
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(vtap_offload_from_string(names[i], &offload));
        EXPECT_EQ(offload, static_cast<vtap_offload>(i));
        EXPECT_STREQ(vtap_offload_to_string(offload), names[i]);
    }
    EXPECT_FALSE(vtap_offload_from_string("AUTO", &offload));
    EXPECT_FALSE(vtap_offload_from_string("", &offload));
    EXPECT_FALSE(vtap_offload_from_string(NULL, &offload));
    EXPECT_EQ(offload, VTAP_OFFLOAD_DPDK);
}

TEST(CApi, NullSafety)
{
    vtap_policy_destroy(NULL);
    vtap_classifier_destroy(NULL);
    EXPECT_EQ(vtap_policy_n_taps(NULL), 0u);
    EXPECT_EQ(vtap_policy_compile(NULL), nullptr);
    EXPECT_EQ(vtap_classifier_n_taps(NULL), 0u);
    EXPECT_EQ(vtap_classifier_tap(NULL, 0), nullptr);
    EXPECT_EQ(vtap_classifier_find_id(NULL, 1), nullptr);
    EXPECT_EQ(vtap_classifier_find_name(NULL, "x"), nullptr);
    EXPECT_FALSE(vtap_classifier_port_is_selected(NULL, 1,
                                                  VTAP_DIR_INGRESS));
    struct vtap_flow_key key;
    memset(&key, 0, sizeof key);
    uint32_t ids[1];
    EXPECT_EQ(vtap_classifier_lookup(NULL, 1, VTAP_DIR_INGRESS, &key, NULL,
                                     ids, 1), 0u);

    struct vtap_tap_config cfg = config("x", 1, NULL, 0, NULL, NULL, 0);
    EXPECT_NE(take(vtap_policy_add_tap(NULL, &cfg)), "<null>");

    struct vtap_policy *policy = vtap_policy_create();
    ASSERT_NE(policy, nullptr);
    EXPECT_NE(take(vtap_policy_add_tap(policy, NULL)), "<null>");

    /* An empty policy compiles to a classifier that selects nothing. */
    struct vtap_classifier *cls = vtap_policy_compile(policy);
    ASSERT_NE(cls, nullptr);
    EXPECT_EQ(vtap_classifier_n_taps(cls), 0u);
    EXPECT_EQ(vtap_classifier_tap(cls, 0), nullptr);
    EXPECT_EQ(vtap_classifier_find_name(cls, NULL), nullptr);
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_INGRESS, &key, NULL,
                                     NULL, 0), 0u);
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_INGRESS, NULL, NULL,
                                     ids, 1), 0u);
    vtap_classifier_destroy(cls);
    vtap_policy_destroy(policy);
}

/* The rest of the ABI with NULL and bad arguments: each fails the way it
 * reports failures, none crashes. */
TEST(CApi, NullSafetyOfEveryEntryPoint)
{
    EXPECT_STREQ(vtap_version(), "0.1.0");
    struct vtap_match match;
    EXPECT_NE(take(vtap_match_parse("tcp", NULL)), "<null>");
    EXPECT_EQ(take(vtap_match_parse(NULL, &match)), "<null>");
    EXPECT_EQ(take(vtap_match_format(NULL)), "");
    EXPECT_FALSE(vtap_offload_from_string(NULL, NULL));
    EXPECT_TRUE(vtap_offload_from_string("ebpf", NULL));
    EXPECT_STREQ(vtap_offload_to_string(static_cast<vtap_offload>(77)),
                 "unknown");
    EXPECT_EQ(vtap_classifier_lookup(NULL, 1, VTAP_DIR_INGRESS, NULL, NULL,
                                     NULL, 5), 0u);

    /* A configuration with counts but no arrays. */
    struct vtap_policy *policy = vtap_policy_create();
    ASSERT_NE(policy, nullptr);
    uint32_t out[] = {9};
    struct vtap_tap_config cfg = config("x", 1, NULL, 3, NULL, out, 1);
    EXPECT_NE(take(vtap_policy_add_tap(policy, &cfg)), "<null>");
    cfg = config("x", 1, NULL, 0, NULL, NULL, 1);
    EXPECT_NE(take(vtap_policy_add_tap(policy, &cfg)), "<null>");
    cfg = config(NULL, 1, NULL, 0, NULL, out, 1);
    EXPECT_NE(take(vtap_policy_add_tap(policy, &cfg)), "<null>");
    EXPECT_EQ(vtap_policy_n_taps(policy), 0u);

    /* A bad direction selects nothing. */
    cfg = config("x", 1, NULL, 0, NULL, out, 1);
    cfg.select_all = true;
    ASSERT_EQ(take(vtap_policy_add_tap(policy, &cfg)), "<null>");
    struct vtap_classifier *cls = vtap_policy_compile(policy);
    ASSERT_NE(cls, nullptr);
    struct vtap_flow_key key;
    memset(&key, 0, sizeof key);
    uint32_t ids[1];
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, static_cast<vtap_direction>(9),
                                     &key, NULL, ids, 1), 0u);
    EXPECT_FALSE(vtap_classifier_port_is_selected(
                     cls, 1, static_cast<vtap_direction>(0)));
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_INGRESS, &key, NULL,
                                     NULL, 5), 1u);
    vtap_classifier_destroy(cls);
    vtap_policy_destroy(policy);
}

TEST(CApi, EbpfNullSafety)
{
    free(vtap_ebpf_unavailable());
    EXPECT_NE(take(vtap_ebpf_pin_dir(NULL)), "<null>");
    EXPECT_EQ(take(vtap_ebpf_remove_stale(NULL)), "no pin directory given");
    vtap_ebpf_destroy(NULL);
    EXPECT_EQ(vtap_ebpf_n_taps(NULL), 0u);

    struct vtap_ebpf_stats stats;
    EXPECT_FALSE(vtap_ebpf_get_stats(NULL, 1, &stats));
    EXPECT_FALSE(vtap_ebpf_get_stats(NULL, 1, NULL));

    /* No backend: every tap says so. */
    struct vtap_ebpf_tap tap;
    memset(&tap, 0, sizeof tap);
    char *reasons[2] = {NULL, NULL};
    struct vtap_ebpf_tap taps[2] = {tap, tap};
    vtap_ebpf_set_group(NULL, 1, taps, 2, reasons);
    EXPECT_NE(take(reasons[0]), "<null>");
    EXPECT_NE(take(reasons[1]), "<null>");
    vtap_ebpf_set_group(NULL, 1, taps, 2, NULL);   /* Must not crash. */

    /* A bad attach mode, with and without a place for the error. */
    char *error = NULL;
    EXPECT_EQ(vtap_ebpf_create(NULL, "bogus", &error), nullptr);
    EXPECT_NE(take(error), "<null>");
    EXPECT_EQ(vtap_ebpf_create(NULL, "bogus", NULL), nullptr);

    /* With a real backend (root only): bad arrays are refused per tap. */
    struct vtap_ebpf *ebpf = vtap_ebpf_create(NULL, "auto", &error);
    if (!ebpf) {
        free(error);
        GTEST_SKIP() << "no eBPF backend here (not root?)";
    }
    vtap_ebpf_set_group(ebpf, 1, NULL, 2, reasons);
    EXPECT_NE(take(reasons[0]), "<null>");
    EXPECT_NE(take(reasons[1]), "<null>");
    taps[0].n_src_ifindexes = 2;    /* No array. */
    taps[1].n_dst_ifindexes = 1;    /* No array. */
    vtap_ebpf_set_group(ebpf, 1, taps, 2, reasons);
    EXPECT_NE(take(reasons[0]).find("src_ifindexes"), std::string::npos);
    EXPECT_NE(take(reasons[1]).find("dst_ifindexes"), std::string::npos);
    EXPECT_EQ(vtap_ebpf_n_taps(ebpf), 0u);
    EXPECT_FALSE(vtap_ebpf_get_stats(ebpf, 0, NULL));
    vtap_ebpf_destroy(ebpf);
}

TEST(CApi, PolicyErrors)
{
    struct vtap_policy *policy = vtap_policy_create();
    const uint32_t src[] = {1, 2};
    const uint32_t out[] = {10};
    const uint32_t out_on_selected[] = {10, 2};

    struct vtap_tap_config good = config("web", 7, src, 2, "tcp", out, 1);
    ASSERT_EQ(vtap_policy_add_tap(policy, &good), nullptr);
    EXPECT_EQ(vtap_policy_n_taps(policy), 1u);

    struct vtap_tap_config cfg = good;
    cfg.name = "db";
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "id: 7 is already used by tap 'web'");

    cfg = good;
    cfg.id = 8;
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "name: 'web' is already used by tap 7");

    cfg = config("", 8, src, 2, NULL, out, 1);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "name: must not be empty");

    cfg = config("db", 0, src, 2, NULL, out, 1);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "id: 0 is out of range 1..4294967295");

    cfg = config("db", 8, src, 2, "tcp,tp_dst=70000", out, 1);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "match: tp_dst: 70000 is out of range 0..65535");

    cfg = config("db", 8, src, 2, NULL, out, 0);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "output_port: missing");

    cfg = config("db", 8, src, 2, NULL, out_on_selected, 2);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "output_port: port 2 is also a selected port");

    cfg = config("db", 8, src, 2, NULL, out, 1);
    cfg.output_vlan = 5000;
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "output_vlan: 5000 is out of range 1..4095");

    cfg = config("db", 8, src, 2, NULL, out, 1);
    cfg.snaplen = 9;
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "snaplen: 9 is out of range 14..65535");

    cfg = config("db", 8, src, 2, NULL, out, 1);
    int bad_offload = 42;
    memcpy(&cfg.offload, &bad_offload, sizeof bad_offload);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "offload: 42 is not a valid offload mode (auto, native, ebpf "
              "or dpdk)");

    const uint32_t none[] = {VTAP_PORT_NONE};
    cfg = config("db", 8, none, 1, NULL, out, 1);
    EXPECT_EQ(take(vtap_policy_add_tap(policy, &cfg)),
              "select_src_port: invalid port 4294967295");

    EXPECT_EQ(vtap_policy_n_taps(policy), 1u);
    vtap_policy_destroy(policy);
}

TEST(CApi, CompileAndLookup)
{
    struct vtap_policy *policy = vtap_policy_create();
    const uint32_t src[] = {3, 1, 3};
    const uint32_t dst[] = {2};
    const uint32_t out[] = {10};

    struct vtap_tap_config web = config("web", 20, src, 3,
                                        "tcp,tp_dst=80", out, 1);
    web.dst_ports = dst;
    web.n_dst_ports = 1;
    web.snaplen = 96;
    web.offload = VTAP_OFFLOAD_EBPF;
    ASSERT_EQ(vtap_policy_add_tap(policy, &web), nullptr);

    struct vtap_tap_config all = config("all", 5, NULL, 0, "ip", out, 1);
    all.select_all = true;
    ASSERT_EQ(vtap_policy_add_tap(policy, &all), nullptr);

    struct vtap_tap_config action_only = config("of", 9, NULL, 0, NULL, out,
                                                1);
    ASSERT_EQ(vtap_policy_add_tap(policy, &action_only), nullptr);

    struct vtap_classifier *cls = vtap_policy_compile(policy);
    ASSERT_NE(cls, nullptr);
    /* The classifier does not depend on the policy. */
    vtap_policy_destroy(policy);

    ASSERT_EQ(vtap_classifier_n_taps(cls), 3u);
    EXPECT_EQ(vtap_classifier_tap(cls, 0)->id, 5u);
    EXPECT_EQ(vtap_classifier_tap(cls, 1)->id, 9u);
    EXPECT_EQ(vtap_classifier_tap(cls, 2)->id, 20u);
    EXPECT_EQ(vtap_classifier_tap(cls, 3), nullptr);

    const struct vtap_tap_info *info = vtap_classifier_find_name(cls, "web");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info, vtap_classifier_find_id(cls, 20));
    EXPECT_STREQ(info->name, "web");
    EXPECT_STREQ(info->match_string, "tcp,tp_dst=80");
    ASSERT_EQ(info->n_src_ports, 2u);
    EXPECT_EQ(info->src_ports[0], 1u);
    EXPECT_EQ(info->src_ports[1], 3u);
    EXPECT_EQ(info->snaplen, 96u);
    EXPECT_EQ(info->offload, VTAP_OFFLOAD_EBPF);
    EXPECT_EQ(vtap_classifier_find_name(cls, "nope"), nullptr);
    EXPECT_EQ(vtap_classifier_find_id(cls, 6), nullptr);

    struct vtap_flow_key key;
    memset(&key, 0, sizeof key);
    key.eth_type = htons(0x0800);
    key.ip_proto = 6;
    key.tp_dst = htons(80);

    uint32_t ids[4];
    struct vtap_flow_key wc;
    memset(&wc, 0, sizeof wc);
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_INGRESS, &key, &wc,
                                     ids, 4), 2u);
    EXPECT_EQ(ids[0], 5u);
    EXPECT_EQ(ids[1], 20u);
    EXPECT_EQ(wc.eth_type, 0xffff);
    EXPECT_EQ(wc.ip_proto, 0xff);
    EXPECT_EQ(wc.tp_dst, 0xffff);
    EXPECT_EQ(wc.tp_src, 0);

    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_EGRESS, &key, NULL,
                                     ids, 4), 1u);
    EXPECT_EQ(ids[0], 5u);
    EXPECT_EQ(vtap_classifier_lookup(cls, 2, VTAP_DIR_EGRESS, &key, NULL,
                                     ids, 1), 2u);
    EXPECT_EQ(vtap_classifier_lookup(cls, 10, VTAP_DIR_INGRESS, &key, NULL,
                                     ids, 4), 0u);
    EXPECT_EQ(vtap_classifier_lookup(cls, 1, VTAP_DIR_INGRESS, &key, NULL,
                                     NULL, 4), 2u);

    EXPECT_TRUE(vtap_classifier_port_is_selected(cls, 4, VTAP_DIR_EGRESS));
    EXPECT_FALSE(vtap_classifier_port_is_selected(cls, 10,
                                                  VTAP_DIR_EGRESS));
    vtap_classifier_destroy(cls);
}

}  // namespace
