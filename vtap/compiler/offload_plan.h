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

#ifndef VTAP_COMPILER_OFFLOAD_PLAN_H
#define VTAP_COMPILER_OFFLOAD_PLAN_H 1

/* Offload planning: which backend makes each tap's copies, and why.
 *
 * This is the one place where 'offload=auto' is decided.  The planner looks
 * at each valid tap of a policy and at the kind of every port of the bridge
 * (kernel device, kernel tap device, DPDK, other) and chooses:
 *
 *   - ebpf, when every selected port and the output port are kernel devices
 *     that the TC program can hook, and the selection cannot copy a packet
 *     twice in the kernel;
 *   - native otherwise (for 'auto' and 'native'), with the reason the
 *     offload was not taken;
 *   - none, for a tap that insists on an offload it cannot have: it makes
 *     no copies rather than falling back silently.
 *
 * It also decides how the OVS datapath makes the copies it makes (every
 * backend's but eBPF's, and those of tap(id=N) actions): its copy path
 * (plan_copy_path()).
 *
 * A backend may still refuse a planned tap when it is applied (a full map,
 * a device that refuses the program): refuse() then moves the tap to native
 * or none by the same rules.  native_policy() gives what the OVS datapath
 * must do: offloaded taps keep their id (for tap(id=N) actions) and their
 * output port (which stays reserved) but lose their selection. */

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vtap/policy/types.h"
#include "vtap/policy/tap.h"

namespace vtap {

/* One interface of the bridge, as the planner needs to know it. */
struct PlanPort {
    uint32_t port = VTAP_PORT_NONE;     /* As in the taps' port lists. */
    std::string port_name;              /* Its Port, for reasons. */
    std::string name;                   /* The interface, for reasons. */
    std::string type;                   /* Its OVSDB type, for reasons. */
    vtap_port_kind kind = VTAP_PORT_OTHER;
    uint32_t ifindex = 0;               /* Kernel kinds; 0 if none. */
};

/* What the planner knows of the bridge and the process. */
struct PlanEnv {
    std::vector<PlanPort> ports;        /* Every interface of the bridge. */
    std::string ebpf_unavailable;       /* "" if the eBPF backend may be
                                         * used, otherwise why not. */
    std::string dpdk_unavailable;       /* Same for the DPDK backend. */

    /* The datapath, for the copy path. */
    bool copy_action = false;           /* It has the tap copy action (the
                                         * userspace datapath, with
                                         * vtap/copy-action on). */
    bool userspace_tso = false;         /* Userspace TSO is on. */
    bool socket_send = true;            /* The socket copy path is on
                                         * (vtap/native-send). */
};

/* The plan for one tap. */
struct TapPlan {
    vtap_backend backend = VTAP_BACKEND_NATIVE;
    std::string reason;                 /* Why this backend; may be "". */
    vtap_copy_path datapath_path = VTAP_PATH_SAMPLE; /* How the OVS datapath
                                         * makes the copies it makes. */

    /* For the eBPF backend: TC hooks and output device. */
    std::vector<uint32_t> tc_ingress;   /* ifindexes */
    std::vector<uint32_t> tc_egress;
    uint32_t out_ifindex = 0;
};

/* Plans every tap of 'policy' (in the policy's order) on 'env'. */
std::vector<TapPlan> plan_offload(const Policy &policy, const PlanEnv &env);

/* A backend refused 'tap', planned for it, because of 'why': moves it to
 * native ('auto') or none (an explicit offload), on 'env'. */
void refuse_offload(const Tap &tap, const PlanEnv &env, TapPlan *plan,
                    const std::string &why);

/* Returns how the OVS datapath of 'env' makes the copies of 'tap' that it
 * makes, for a tap planned for 'backend':
 *
 *   - a sample() where it has no copy action (the kernel datapath);
 *   - the DPDK clone path for the dpdk backend;
 *   - the socket copy path to an output port whose interfaces are all
 *     kernel devices of type system (veths, NICs);
 *   - otherwise a clone (tunnels, tap and internal ports, patch ports, DPDK
 *     ports of a native tap), and always with userspace TSO, whose segments
 *     must keep the offload requests the port carries out.
 *
 * Translation may still clone a copy that cannot take its path: a packet
 * that is not an Ethernet frame, a bond member that is not a local port. */
vtap_copy_path plan_copy_path(const Tap &tap, vtap_backend backend,
                              const PlanEnv &env);

/* Returns the copy path a tap of 'plan' shows in its status: eBPF for an
 * offloaded tap, none for none, else the datapath's. */
vtap_copy_path plan_status_path(const TapPlan &plan);

/* Returns the taps the OVS datapath must know: every tap of 'policy', with
 * the selection of offloaded ones removed and those planned for no backend
 * disabled (so that their names and ids stay taken). */
Policy native_policy(const Policy &policy, const std::vector<TapPlan> &plans);

}  // namespace vtap

#endif /* vtap/compiler/offload_plan.h */
