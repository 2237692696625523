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

/* Tests of offload planning (offload=auto and the explicit offloads),
 * through the C ABI, as ovs-vswitchd uses it. */

#include "vtap/capi/vtap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

/* A bridge: p1..p3 veths (kernel, ifindex 11..13), int0 an internal port
 * (a kernel tap device, ifindex 20), mon a veth monitor (ifindex 30), mon2
 * an internal monitor (ifindex 31), dp1 a DPDK port, tun a VXLAN port and
 * bond with two veth members; dp2 and dpmon (vhost-user) are DPDK ports
 * too. */
enum {
    P1 = 1, P2, P3, INT0, MON, MON2, DP1, TUN, BOND_A, BOND_B, DP2, DPMON
};

class OffloadPlanTest : public ::testing::Test {
protected:
    OffloadPlanTest()
    {
        add(P1, "p1", "p1", "", VTAP_PORT_KERNEL, 11);
        add(P2, "p2", "p2", "system", VTAP_PORT_KERNEL, 12);
        add(P3, "p3", "p3", "", VTAP_PORT_KERNEL, 13);
        add(INT0, "br0", "br0", "internal", VTAP_PORT_KERNEL_TAP, 20);
        add(MON, "mon", "mon", "", VTAP_PORT_KERNEL, 30);
        add(MON2, "mon2", "mon2", "tap", VTAP_PORT_KERNEL_TAP, 31);
        add(DP1, "dp1", "dp1", "dpdk", VTAP_PORT_DPDK, 0);
        add(TUN, "tun", "tun", "vxlan", VTAP_PORT_OTHER, 0);
        add(BOND_A, "bond", "bond-a", "", VTAP_PORT_KERNEL, 41);
        add(BOND_B, "bond", "bond-b", "", VTAP_PORT_KERNEL, 42);
        add(DP2, "dp2", "dp2", "dpdk", VTAP_PORT_DPDK, 0);
        add(DPMON, "dpmon", "dpmon", "dpdkvhostuser", VTAP_PORT_DPDK, 0);
    }

    ~OffloadPlanTest() override
    {
        vtap_plan_destroy(plan_);
        vtap_policy_destroy(policy_);
    }

    void add(uint32_t port, const char *port_name, const char *name,
             const char *type, vtap_port_kind kind, uint32_t ifindex)
    {
        ports_.push_back({port, port_name, name, type, kind, ifindex});
    }

    /* Adds a tap named 'name' with output 'out' and the given selection. */
    void tap(const char *name, std::vector<uint32_t> src,
             std::vector<uint32_t> dst, std::vector<uint32_t> out,
             vtap_offload offload = VTAP_OFFLOAD_AUTO,
             bool select_all = false, bool enabled = true)
    {
        src_.push_back(std::move(src));
        dst_.push_back(std::move(dst));
        out_.push_back(std::move(out));

        vtap_tap_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.name = name;
        cfg.id = ++n_taps_;
        cfg.owner = 100 + n_taps_;
        cfg.enabled = enabled;
        cfg.select_all = select_all;
        cfg.src_ports = src_.back().data();
        cfg.n_src_ports = src_.back().size();
        cfg.dst_ports = dst_.back().data();
        cfg.n_dst_ports = dst_.back().size();
        cfg.match = "udp,tp_dst=5001";
        cfg.output_ports = out_.back().data();
        cfg.n_output_ports = out_.back().size();
        cfg.offload = offload;
        char *error = vtap_policy_add_tap(policy_, &cfg);
        ASSERT_EQ(error, nullptr) << error;
    }

    void plan(const char *ebpf_unavailable = nullptr,
              const char *dpdk_unavailable = "this build has no DPDK")
    {
        vtap_plan_env env = {ports_.data(), ports_.size(), ebpf_unavailable,
                             dpdk_unavailable, copy_action_, tso_,
                             no_send_};
        char *error = nullptr;

        vtap_plan_destroy(plan_);
        plan_ = vtap_plan_create(policy_, &env, &error);
        ASSERT_NE(plan_, nullptr) << error;
        ASSERT_EQ(vtap_plan_n_taps(plan_), vtap_policy_n_taps(policy_));
    }

    std::string backend(size_t i)
    {
        return vtap_backend_to_string(vtap_plan_backend(plan_, i));
    }

    std::string path(size_t i)
    {
        return vtap_copy_path_to_string(vtap_plan_path(plan_, i));
    }

    std::string reason(size_t i)
    {
        const char *r = vtap_plan_reason(plan_, i);
        return r ? r : "";
    }

    /* The eBPF taps of the plan. */
    std::vector<vtap_ebpf_tap> ebpf_taps(std::vector<size_t> *indexes)
    {
        const vtap_ebpf_tap *taps;
        const size_t *index;
        size_t n = vtap_plan_ebpf_taps(plan_, &taps, &index);

        indexes->assign(index, index + n);
        return std::vector<vtap_ebpf_tap>(taps, taps + n);
    }

    static std::vector<uint32_t> ifindexes(const uint32_t *a, size_t n)
    {
        return std::vector<uint32_t>(a, a + n);
    }

    vtap_policy *policy_ = vtap_policy_create();
    vtap_plan *plan_ = nullptr;
    std::vector<vtap_port_info> ports_;
    std::vector<std::vector<uint32_t>> src_, dst_, out_;
    uint32_t n_taps_ = 0;

    /* The datapath: the userspace one, with its copy action, by default. */
    bool copy_action_ = true;
    bool tso_ = false;
    bool no_send_ = false;
};

using V = std::vector<uint32_t>;

TEST_F(OffloadPlanTest, AutoOffloadsKernelPortsWithTheirHooks)
{
    tap("in", {P1}, {}, {MON});
    tap("out", {}, {P2}, {MON});
    tap("both", {P3}, {P3}, {MON});
    plan();
    for (size_t i = 0; i < 3; i++) {
        EXPECT_EQ(backend(i), "ebpf");
        EXPECT_EQ(reason(i), "");
    }

    std::vector<size_t> index;
    std::vector<vtap_ebpf_tap> taps = ebpf_taps(&index);
    ASSERT_EQ(taps.size(), 3u);
    EXPECT_EQ(index, (std::vector<size_t>{0, 1, 2}));
    EXPECT_EQ(ifindexes(taps[0].src_ifindexes, taps[0].n_src_ifindexes),
              V{11});
    EXPECT_EQ(taps[0].n_dst_ifindexes, 0u);
    EXPECT_EQ(taps[1].n_src_ifindexes, 0u);
    EXPECT_EQ(ifindexes(taps[1].dst_ifindexes, taps[1].n_dst_ifindexes),
              V{12});
    EXPECT_EQ(ifindexes(taps[2].src_ifindexes, taps[2].n_src_ifindexes),
              V{13});
    EXPECT_EQ(ifindexes(taps[2].dst_ifindexes, taps[2].n_dst_ifindexes),
              V{13});
    for (const vtap_ebpf_tap &t : taps) {
        EXPECT_EQ(t.out_ifindex, 30u);
    }
    /* The match was parsed once, by the policy; owners come from it. */
    EXPECT_EQ(taps[0].owner, 101u);
    EXPECT_EQ(taps[0].match.key.ip_proto, 17);
}

/* On a kernel tap device (an internal port, a tap port of the userspace
 * datapath) the switch receives what TC egress sees, and sends what TC
 * ingress sees. */
TEST_F(OffloadPlanTest, KernelTapDevicesAreHookedTheOtherWayRound)
{
    tap("in", {INT0}, {}, {MON});
    tap("out", {}, {INT0}, {MON});
    plan();
    std::vector<size_t> index;
    std::vector<vtap_ebpf_tap> taps = ebpf_taps(&index);
    ASSERT_EQ(taps.size(), 2u);
    EXPECT_EQ(taps[0].n_src_ifindexes, 0u);
    EXPECT_EQ(ifindexes(taps[0].dst_ifindexes, taps[0].n_dst_ifindexes),
              V{20});
    EXPECT_EQ(ifindexes(taps[1].src_ifindexes, taps[1].n_src_ifindexes),
              V{20});
    EXPECT_EQ(taps[1].n_dst_ifindexes, 0u);
}

/* select_all copies each packet where it enters the bridge: TC ingress of
 * veths, TC egress of the bridge's own internal port, every port but the
 * output.  A bridge with only kernel devices is offloaded. */
TEST_F(OffloadPlanTest, SelectAllHooksWhereEveryPacketEnters)
{
    ports_.erase(std::remove_if(ports_.begin(), ports_.end(),
                                [](const vtap_port_info &p) {
                                    return p.kind == VTAP_PORT_OTHER
                                           || p.kind == VTAP_PORT_DPDK
                                           || p.port == MON2;
                                }),
                 ports_.end());
    tap("all", {}, {}, {MON}, VTAP_OFFLOAD_AUTO, true);
    plan();
    EXPECT_EQ(backend(0), "ebpf");
    std::vector<size_t> index;
    std::vector<vtap_ebpf_tap> taps = ebpf_taps(&index);
    ASSERT_EQ(taps.size(), 1u);
    EXPECT_EQ(ifindexes(taps[0].src_ifindexes, taps[0].n_src_ifindexes),
              (V{11, 12, 13, 41, 42}));
    EXPECT_EQ(ifindexes(taps[0].dst_ifindexes, taps[0].n_dst_ifindexes),
              V{20});
}

TEST_F(OffloadPlanTest, SelectAllWithAPortNothingHooksStaysNative)
{
    tap("all", {}, {}, {MON}, VTAP_OFFLOAD_AUTO, true);
    tap("all-ebpf", {}, {}, {MON}, VTAP_OFFLOAD_EBPF, true);
    plan();
    EXPECT_EQ(backend(0), "native");
    EXPECT_EQ(reason(0), "not offloaded: port dp1: interface dp1 is of type "
              "dpdk; the TC program hooks only kernel network devices "
              "(types system, tap and internal)");
    EXPECT_EQ(backend(1), "none");
    EXPECT_EQ(reason(1), "cannot offload to eBPF: port dp1: interface dp1 "
              "is of type dpdk; the TC program hooks only kernel network "
              "devices (types system, tap and internal); the tap makes no "
              "copies");
}

TEST_F(OffloadPlanTest, ReasonsForStayingNative)
{
    tap("disabled", {P1}, {}, {MON}, VTAP_OFFLOAD_AUTO, false, false);
    tap("two-ends", {P1}, {P2}, {MON});
    tap("action-only", {}, {}, {MON});
    tap("tunnel", {TUN}, {}, {MON});
    tap("to-bond", {P1}, {}, {BOND_A, BOND_B});
    tap("to-tap", {P1}, {}, {MON2});
    tap("pinned", {P1}, {}, {MON}, VTAP_OFFLOAD_NATIVE);
    plan();
    EXPECT_EQ(reason(0), "not offloaded: the tap is disabled");
    EXPECT_EQ(reason(1), "not offloaded: selects packets received on some "
              "ports and sent on others: a packet crossing both would be "
              "copied twice in the kernel (select one direction, or both "
              "directions of one port)");
    EXPECT_EQ(reason(2), "not offloaded: selects no port (its copies come "
              "from tap(id=N) actions, which OVS makes)");
    EXPECT_EQ(reason(3), "not offloaded: port tun: interface tun is of type "
              "vxlan; the TC program hooks only kernel network devices "
              "(types system, tap and internal)");
    EXPECT_EQ(reason(4), "not offloaded: output_port bond has 2 "
              "interfaces; the TC program sends copies to one device");
    EXPECT_EQ(reason(5).rfind("not offloaded: output_port mon2: interface "
                              "mon2 is of type tap; ", 0), 0u)
        << reason(5);
    EXPECT_EQ(reason(6), "");
    for (size_t i = 0; i < 7; i++) {
        EXPECT_EQ(backend(i), "native") << i;
    }
    std::vector<size_t> index;
    EXPECT_TRUE(ebpf_taps(&index).empty());
}

TEST_F(OffloadPlanTest, BothDirectionsOfABondAreOnePort)
{
    tap("bond", {BOND_A, BOND_B}, {BOND_A, BOND_B}, {MON});
    plan();
    EXPECT_EQ(backend(0), "ebpf") << reason(0);
}

TEST_F(OffloadPlanTest, NoEbpfBackendInThisBuild)
{
    tap("auto", {P1}, {}, {MON});
    tap("ebpf", {P1}, {}, {MON}, VTAP_OFFLOAD_EBPF);
    plan("this build has no eBPF backend");
    EXPECT_EQ(backend(0), "native");
    EXPECT_EQ(reason(0), "not offloaded: this build has no eBPF backend");
    EXPECT_EQ(backend(1), "none");
    EXPECT_EQ(reason(1), "cannot offload to eBPF: this build has no eBPF "
              "backend; the tap makes no copies");
}

TEST_F(OffloadPlanTest, DpdkWithoutTheClonePathMakesNoCopies)
{
    tap("d", {DP1}, {}, {DPMON}, VTAP_OFFLOAD_DPDK);
    tap("a", {DP1}, {}, {DPMON});
    plan();
    EXPECT_EQ(backend(0), "none");
    EXPECT_EQ(reason(0), "cannot offload to DPDK: this build has no DPDK; "
              "the tap makes no copies");
    EXPECT_EQ(backend(1), "native");
    EXPECT_EQ(reason(1), "not offloaded: this build has no DPDK");
}

/* Taps between DPDK ports go to the clone path, explicitly or by 'auto';
 * OVS keeps their selection, and the compiled taps say who copies. */
TEST_F(OffloadPlanTest, DpdkPortsGoToTheClonePath)
{
    tap("d", {DP1}, {DP2}, {DPMON}, VTAP_OFFLOAD_DPDK);
    tap("a", {DP2}, {}, {DP1});
    tap("all", {}, {}, {DPMON}, VTAP_OFFLOAD_DPDK, true);
    tap("n", {DP1}, {}, {DPMON}, VTAP_OFFLOAD_NATIVE);
    std::vector<vtap_port_info> all = ports_;
    ports_.clear();
    for (const vtap_port_info &p : all) {
        if (p.kind == VTAP_PORT_DPDK || !strcmp(p.type, "internal")) {
            ports_.push_back(p);
        }
    }
    plan(nullptr, nullptr);
    for (size_t i = 0; i < 3; i++) {
        EXPECT_EQ(backend(i), "dpdk") << i;
        EXPECT_EQ(reason(i), "") << i;
    }
    EXPECT_EQ(backend(3), "native");

    std::vector<size_t> indexes;
    EXPECT_TRUE(ebpf_taps(&indexes).empty());

    vtap_classifier *cls = vtap_plan_compile(plan_);
    ASSERT_NE(cls, nullptr);
    const vtap_tap_info *d = vtap_classifier_find_name(cls, "d");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->copy_path, VTAP_PATH_DPDK);
    EXPECT_TRUE(d->enabled);
    EXPECT_EQ(V(d->src_ports, d->src_ports + d->n_src_ports), V{DP1});
    EXPECT_EQ(V(d->dst_ports, d->dst_ports + d->n_dst_ports), V{DP2});
    EXPECT_TRUE(vtap_classifier_find_name(cls, "all")->select_all);
    EXPECT_EQ(vtap_classifier_find_name(cls, "all")->copy_path,
              VTAP_PATH_DPDK);
    /* A native tap to a DPDK port: OVS's own output, a clone. */
    EXPECT_EQ(vtap_classifier_find_name(cls, "n")->copy_path,
              VTAP_PATH_CLONE);
    vtap_classifier_destroy(cls);
}

/* One place decides how each tap's copies are made: eBPF outside the
 * datapath; in the userspace datapath's copy action, the socket copy path to
 * kernel devices, the DPDK clone path for the dpdk backend, a clone
 * elsewhere and with userspace TSO; a sample() where there is no copy
 * action (the kernel datapath).  The compiled taps carry the datapath's
 * path, also for eBPF taps, whose tap(id=N) actions OVS makes. */
TEST_F(OffloadPlanTest, EachTapsCopyPathIsPlanned)
{
    tap("send", {TUN}, {}, {MON});                 /* auto, stays native */
    tap("tap-out", {P1}, {}, {MON2}, VTAP_OFFLOAD_NATIVE);
    tap("tunnel", {P1}, {}, {TUN}, VTAP_OFFLOAD_NATIVE);
    tap("bond", {P1}, {}, {BOND_A, BOND_B}, VTAP_OFFLOAD_NATIVE);
    tap("ebpf", {P1}, {}, {MON});
    tap("none", {P1}, {}, {MON}, VTAP_OFFLOAD_DPDK);
    tap("dpdk-native", {DP1}, {}, {DPMON}, VTAP_OFFLOAD_NATIVE);
    plan();
    EXPECT_EQ(path(0), "send");
    EXPECT_EQ(path(1), "clone");
    EXPECT_EQ(path(2), "clone");
    EXPECT_EQ(path(3), "send");
    EXPECT_EQ(path(4), "ebpf");
    EXPECT_EQ(path(5), "none");
    EXPECT_EQ(path(6), "clone");

    vtap_classifier *cls = vtap_plan_compile(plan_);
    ASSERT_NE(cls, nullptr);
    EXPECT_EQ(vtap_classifier_find_name(cls, "ebpf")->copy_path,
              VTAP_PATH_SEND);
    vtap_classifier_destroy(cls);

    /* A tap that eBPF refuses falls back to the datapath's path. */
    vtap_plan_refuse(plan_, 4, "map full");
    EXPECT_EQ(backend(4), "native");
    EXPECT_EQ(path(4), "send");

    /* vtap/native-send off: clones. */
    no_send_ = true;
    plan();
    EXPECT_EQ(path(0), "clone");
    EXPECT_EQ(path(3), "clone");
    no_send_ = false;

    /* Userspace TSO: every datapath copy is a clone. */
    tso_ = true;
    plan();
    for (size_t i : {0, 1, 2, 3, 6}) {
        EXPECT_EQ(path(i), "clone") << i;
    }
    EXPECT_EQ(path(4), "ebpf");
    tso_ = false;

    /* The kernel datapath: sample(). */
    copy_action_ = false;
    plan();
    for (size_t i : {0, 1, 2, 3, 6}) {
        EXPECT_EQ(path(i), "sample") << i;
    }
    EXPECT_EQ(path(5), "none");
    EXPECT_STREQ(vtap_copy_path_to_string(static_cast<vtap_copy_path>(77)),
                 "unknown");
}

/* The clone path copies between DPDK ports only: anything else is refused
 * by name, and 'auto' says why it stays native. */
TEST_F(OffloadPlanTest, DpdkRefusesOtherPorts)
{
    tap("src", {P1}, {}, {DPMON}, VTAP_OFFLOAD_DPDK);
    tap("out", {DP1}, {}, {MON}, VTAP_OFFLOAD_DPDK);
    tap("all", {}, {}, {DPMON}, VTAP_OFFLOAD_DPDK, true);
    tap("auto", {P1}, {}, {DPMON});
    plan(nullptr, nullptr);
    const char *why = "the DPDK clone path copies between DPDK ports (types "
                      "dpdk, dpdkvhostuser and dpdkvhostuserclient)";
    EXPECT_EQ(backend(0), "none");
    EXPECT_EQ(reason(0), std::string("cannot offload to DPDK: port p1: "
                                     "interface p1 is of type system; ")
                         + why + "; the tap makes no copies");
    EXPECT_EQ(backend(1), "none");
    EXPECT_EQ(reason(1), std::string("cannot offload to DPDK: output_port "
                                     "mon: interface mon is of type "
                                     "system; ")
                         + why + "; the tap makes no copies");
    EXPECT_EQ(backend(2), "none");
    EXPECT_EQ(reason(2), std::string("cannot offload to DPDK: port p1: "
                                     "interface p1 is of type system; ")
                         + why + "; the tap makes no copies");
    EXPECT_EQ(backend(3), "native");
    EXPECT_EQ(reason(3), std::string("not offloaded: port p1: interface p1 "
                                     "is of type system; ")
                         + why);
}

/* A backend that refuses a planned tap: auto falls back to native, an
 * explicit offload makes no copies; the native policy follows. */
TEST_F(OffloadPlanTest, RefusedTapsFallBackOrStop)
{
    tap("auto", {P1}, {}, {MON});
    tap("ebpf", {P2}, {}, {MON}, VTAP_OFFLOAD_EBPF);
    tap("kept", {P3}, {}, {MON});
    plan();
    vtap_plan_refuse(plan_, 0, "map full");
    vtap_plan_refuse(plan_, 1, "map full");
    EXPECT_EQ(backend(0), "native");
    EXPECT_EQ(reason(0), "not offloaded: map full");
    EXPECT_EQ(backend(1), "none");
    EXPECT_EQ(reason(1), "cannot offload to eBPF: map full; the tap makes "
              "no copies");
    EXPECT_EQ(backend(2), "ebpf");

    std::vector<size_t> index;
    std::vector<vtap_ebpf_tap> taps = ebpf_taps(&index);
    ASSERT_EQ(taps.size(), 1u);
    EXPECT_EQ(index[0], 2u);

    /* The OVS datapath copies for "auto", keeps "ebpf" disabled (its name
     * and id stay taken) and knows "kept" without its selection (for
     * tap(id=N) actions). */
    vtap_classifier *cls = vtap_plan_compile(plan_);
    ASSERT_NE(cls, nullptr);
    ASSERT_EQ(vtap_classifier_n_taps(cls), 3u);
    const vtap_tap_info *info = vtap_classifier_find_name(cls, "auto");
    EXPECT_TRUE(info->enabled);
    EXPECT_EQ(info->n_src_ports, 1u);
    info = vtap_classifier_find_name(cls, "ebpf");
    EXPECT_FALSE(info->enabled);
    info = vtap_classifier_find_name(cls, "kept");
    EXPECT_TRUE(info->enabled);
    EXPECT_EQ(info->n_src_ports, 0u);
    EXPECT_EQ(info->owner, 103u);
    EXPECT_TRUE(vtap_classifier_port_is_selected(cls, P1,
                                                 VTAP_DIR_INGRESS));
    EXPECT_FALSE(vtap_classifier_port_is_selected(cls, P3,
                                                  VTAP_DIR_INGRESS));

    /* The same plan compiles to an equal classifier; another does not. */
    vtap_classifier *again = vtap_plan_compile(plan_);
    EXPECT_TRUE(vtap_classifier_equal(cls, again));
    vtap_plan_refuse(plan_, 2, "device busy");
    vtap_classifier *other = vtap_plan_compile(plan_);
    EXPECT_FALSE(vtap_classifier_equal(cls, other));
    EXPECT_FALSE(vtap_classifier_equal(cls, nullptr));
    EXPECT_TRUE(vtap_classifier_equal(nullptr, nullptr));
    vtap_classifier_destroy(cls);
    vtap_classifier_destroy(again);
    vtap_classifier_destroy(other);
}

TEST_F(OffloadPlanTest, BadArguments)
{
    char *error = nullptr;
    EXPECT_EQ(vtap_plan_create(nullptr, nullptr, &error), nullptr);
    ASSERT_NE(error, nullptr);
    free(error);
    EXPECT_EQ(vtap_plan_n_taps(nullptr), 0u);
    EXPECT_EQ(vtap_plan_backend(nullptr, 0), VTAP_BACKEND_NONE);
    EXPECT_EQ(vtap_plan_reason(nullptr, 0), nullptr);
    vtap_plan_refuse(nullptr, 0, "x");
    EXPECT_EQ(vtap_plan_compile(nullptr), nullptr);

    tap("t", {P1}, {}, {MON});
    plan();
    EXPECT_EQ(vtap_plan_backend(plan_, 5), VTAP_BACKEND_NONE);
    EXPECT_EQ(vtap_plan_ebpf_taps(plan_, nullptr, nullptr), 0u);
    vtap_plan_refuse(plan_, 5, "out of range: ignored");
    EXPECT_EQ(backend(0), "ebpf");
}

}  // namespace
