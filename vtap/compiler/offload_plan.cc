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

#include "vtap/compiler/offload_plan.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace vtap {

namespace {

/* The interfaces of the bridge by port number. */
using PortIndex = std::unordered_map<uint32_t, const PlanPort *>;

std::string
type_name(const PlanPort &p)
{
    return p.type.empty() ? "system" : p.type;
}

/* Checks that the TC program can hook 'p' and returns "" if it can.  The
 * hook that sees what the switch receives on 'p' goes to '*rx_hooks', the one
 * that sees what it sends to '*tx_hooks': for a kernel device (a veth, a
 * NIC) that is its TC ingress and egress; for a kernel tap device that the
 * switch reads and writes (type tap, and internal ports on the userspace
 * datapath) it is the other way round, since what the kernel sends on the
 * device is what the switch reads. */
std::string
hook_port(const PlanPort &p, std::vector<uint32_t> *ingress,
          std::vector<uint32_t> *egress, bool switch_rx)
{
    if (p.kind != VTAP_PORT_KERNEL && p.kind != VTAP_PORT_KERNEL_TAP) {
        return "port " + p.port_name + ": interface " + p.name
               + " is of type " + type_name(p) + "; the TC program hooks "
               "only kernel network devices (types system, tap and "
               "internal)";
    }
    if (!p.ifindex) {
        return "port " + p.port_name + ": interface " + p.name
               + " has no kernel network device";
    }
    bool tc_ingress = (p.kind == VTAP_PORT_KERNEL) == switch_rx;
    (tc_ingress ? ingress : egress)->push_back(p.ifindex);
    return "";
}

std::string
unknown_port(uint32_t port)
{
    return "port " + std::to_string(port) + " is not on the bridge";
}

/* Returns "" if the eBPF backend can make the copies of 'tap' and fills in
 * the hooks of '*plan', otherwise why not. */
std::string
plan_ebpf(const Tap &tap, const PlanEnv &env, const PortIndex &ports,
          TapPlan *plan)
{
    const Selection &sel = tap.selection;
    const std::vector<uint32_t> &outputs = tap.delivery.output_ports;

    if (!env.ebpf_unavailable.empty()) {
        return env.ebpf_unavailable;
    }
    if (!tap.enabled) {
        return "the tap is disabled";
    }

    auto out = ports.find(outputs.at(0));
    if (out == ports.end()) {
        return unknown_port(outputs[0]);
    }
    const PlanPort &out_port = *out->second;
    if (outputs.size() != 1) {
        return "output_port " + out_port.port_name + " has "
               + std::to_string(outputs.size()) + " interfaces; the TC "
               "program sends copies to one device";
    }

    std::string error;
    if (sel.select_all) {
        /* Every packet enters the bridge once: copy it there. */
        for (const PlanPort &p : env.ports) {
            if (p.port != out_port.port && error.empty()) {
                error = hook_port(p, &plan->tc_ingress, &plan->tc_egress,
                                  true);
            }
        }
    } else {
        if (sel.src_ports.empty() && sel.dst_ports.empty()) {
            return "selects no port (its copies come from tap(id=N) "
                   "actions, which OVS makes)";
        }

        /* A packet received on one selected port and sent on another would
         * be copied at both.  OVS copies it once because it sees both ends
         * in one translation; the TC program sees each end on its own. */
        std::set<std::string> src_names, dst_names;
        for (auto [list, names] : {std::pair(&sel.src_ports, &src_names),
                                   std::pair(&sel.dst_ports, &dst_names)}) {
            for (uint32_t port : *list) {
                auto p = ports.find(port);
                if (p == ports.end()) {
                    return unknown_port(port);
                }
                names->insert(p->second->port_name);
            }
        }
        if (!src_names.empty() && !dst_names.empty()
            && (src_names.size() != 1 || src_names != dst_names)) {
            return "selects packets received on some ports and sent on "
                   "others: a packet crossing both would be copied twice in "
                   "the kernel (select one direction, or both directions "
                   "of one port)";
        }

        for (uint32_t port : sel.src_ports) {
            if (error.empty()) {
                error = hook_port(*ports.at(port), &plan->tc_ingress,
                                  &plan->tc_egress, true);
            }
        }
        for (uint32_t port : sel.dst_ports) {
            if (error.empty()) {
                error = hook_port(*ports.at(port), &plan->tc_ingress,
                                  &plan->tc_egress, false);
            }
        }
    }
    if (!error.empty()) {
        return error;
    }

    if (out_port.kind == VTAP_PORT_KERNEL_TAP) {
        return "output_port " + out_port.port_name + ": interface "
               + out_port.name + " is of type " + type_name(out_port)
               + "; the TC program sends copies out of a device, and what "
               "goes out of a tap device comes back to the switch (use a "
               "port of type system, e.g. a veth)";
    }
    std::vector<uint32_t> unused;
    error = hook_port(out_port, &unused, &unused, true);
    if (!error.empty()) {
        return error;
    }
    plan->out_ifindex = out_port.ifindex;

    for (auto *hooks : {&plan->tc_ingress, &plan->tc_egress}) {
        std::sort(hooks->begin(), hooks->end());
        hooks->erase(std::unique(hooks->begin(), hooks->end()),
                     hooks->end());
    }
    return "";
}

/* Returns "" if the DPDK clone path can make the copies of 'tap', otherwise
 * why not.  The clone path is the userspace datapath's: it copies packets
 * of DPDK ports (their mbufs) to a DPDK port.  With select_all, packets of
 * the bridge's internal ports (the host's own traffic) are copied too, in
 * full since they are not mbufs. */
std::string
plan_dpdk(const Tap &tap, const PlanEnv &env, const PortIndex &ports)
{
    const Selection &sel = tap.selection;

    if (!env.dpdk_unavailable.empty()) {
        return env.dpdk_unavailable;
    }
    if (!tap.enabled) {
        return "the tap is disabled";
    }

    auto not_dpdk = [](const PlanPort &p, const char *what) {
        return std::string(what) + " " + p.port_name + ": interface "
               + p.name + " is of type " + type_name(p) + "; the DPDK "
               "clone path copies between DPDK ports (types dpdk, "
               "dpdkvhostuser and dpdkvhostuserclient)";
    };
    for (uint32_t port : tap.delivery.output_ports) {
        auto p = ports.find(port);
        if (p == ports.end()) {
            return unknown_port(port);
        }
        if (p->second->kind != VTAP_PORT_DPDK) {
            return not_dpdk(*p->second, "output_port");
        }
    }
    if (sel.select_all) {
        for (const PlanPort &p : env.ports) {
            if (p.kind != VTAP_PORT_DPDK && p.type != "internal") {
                return not_dpdk(p, "port");
            }
        }
    }
    for (const auto *list : {&sel.src_ports, &sel.dst_ports}) {
        for (uint32_t port : *list) {
            auto p = ports.find(port);
            if (p == ports.end()) {
                return unknown_port(port);
            }
            if (p->second->kind != VTAP_PORT_DPDK) {
                return not_dpdk(*p->second, "port");
            }
        }
    }
    return "";
}

/* Returns true if the first output port of 'tap' is a DPDK port. */
bool
outputs_to_dpdk(const Tap &tap, const PortIndex &ports)
{
    auto p = ports.find(tap.delivery.output_ports.at(0));
    return p != ports.end() && p->second->kind == VTAP_PORT_DPDK;
}

/* The interfaces of the bridge by port number, for 'env'. */
PortIndex
index_ports(const PlanEnv &env)
{
    PortIndex ports;
    for (const PlanPort &p : env.ports) {
        ports.emplace(p.port, &p);
    }
    return ports;
}

void
clear_hooks(TapPlan *plan)
{
    plan->tc_ingress.clear();
    plan->tc_egress.clear();
    plan->out_ifindex = 0;
}

}  // namespace

vtap_copy_path
plan_copy_path(const Tap &tap, vtap_backend backend, const PlanEnv &env)
{
    if (backend == VTAP_BACKEND_NONE) {
        return VTAP_PATH_NONE;
    }
    if (!env.copy_action) {
        return VTAP_PATH_SAMPLE;
    }
    if (env.userspace_tso) {
        return VTAP_PATH_CLONE;
    }
    if (backend == VTAP_BACKEND_DPDK) {
        return VTAP_PATH_DPDK;
    }

    PortIndex ports = index_ports(env);
    bool all_kernel = !tap.delivery.output_ports.empty();
    for (uint32_t port : tap.delivery.output_ports) {
        auto p = ports.find(port);
        all_kernel = (all_kernel && p != ports.end()
                      && p->second->kind == VTAP_PORT_KERNEL);
    }
    return all_kernel && env.socket_send ? VTAP_PATH_SEND : VTAP_PATH_CLONE;
}

vtap_copy_path
plan_status_path(const TapPlan &plan)
{
    return (plan.backend == VTAP_BACKEND_EBPF ? VTAP_PATH_EBPF
            : plan.backend == VTAP_BACKEND_NONE ? VTAP_PATH_NONE
            : plan.datapath_path);
}

std::vector<TapPlan>
plan_offload(const Policy &policy, const PlanEnv &env)
{
    PortIndex ports = index_ports(env);

    std::vector<TapPlan> plans(policy.n_taps());
    for (size_t i = 0; i < policy.n_taps(); i++) {
        const Tap &tap = policy.taps()[i];
        TapPlan &plan = plans[i];

        switch (tap.delivery.offload) {
        case VTAP_OFFLOAD_NATIVE:
            plan.backend = VTAP_BACKEND_NATIVE;
            break;

        case VTAP_OFFLOAD_AUTO:
        case VTAP_OFFLOAD_EBPF:
        case VTAP_OFFLOAD_DPDK: {
            /* 'auto' copies to a DPDK monitor on the DPDK clone path, to
             * any other with the TC program where it can. */
            bool dpdk = (tap.delivery.offload == VTAP_OFFLOAD_DPDK
                         || (tap.delivery.offload == VTAP_OFFLOAD_AUTO
                             && outputs_to_dpdk(tap, ports)));
            std::string why = (dpdk ? plan_dpdk(tap, env, ports)
                               : plan_ebpf(tap, env, ports, &plan));
            if (why.empty()) {
                plan.backend = dpdk ? VTAP_BACKEND_DPDK : VTAP_BACKEND_EBPF;
            } else {
                refuse_offload(tap, env, &plan, why);
                continue;
            }
            break;
        }
        }
        plan.datapath_path = plan_copy_path(tap, plan.backend, env);
    }
    return plans;
}

void
refuse_offload(const Tap &tap, const PlanEnv &env, TapPlan *plan,
               const std::string &why)
{
    clear_hooks(plan);
    if (tap.delivery.offload == VTAP_OFFLOAD_AUTO) {
        plan->backend = VTAP_BACKEND_NATIVE;
        plan->reason = "not offloaded: " + why;
    } else {
        plan->backend = VTAP_BACKEND_NONE;
        plan->reason = std::string("cannot offload to ")
                       + (tap.delivery.offload == VTAP_OFFLOAD_DPDK
                          ? "DPDK" : "eBPF")
                       + ": " + why + "; the tap makes no copies";
    }
    /* Its tap(id=N) actions, and its copies if it is native now. */
    plan->datapath_path = plan_copy_path(tap, VTAP_BACKEND_NATIVE, env);
}

Policy
native_policy(const Policy &policy, const std::vector<TapPlan> &plans)
{
    Policy native;

    for (size_t i = 0; i < policy.n_taps(); i++) {
        Tap tap = policy.taps()[i];

        tap.delivery.copy_path = plans.at(i).datapath_path;
        switch (plans.at(i).backend) {
        case VTAP_BACKEND_NATIVE:
        case VTAP_BACKEND_DPDK:
            /* OVS selects the packets; the copy path makes the copies. */
            break;
        case VTAP_BACKEND_EBPF:
            tap.selection.select_all = false;
            tap.selection.src_ports.clear();
            tap.selection.dst_ports.clear();
            break;
        case VTAP_BACKEND_NONE:
            tap.enabled = false;
            break;
        }
        std::string error = native.add_tap(std::move(tap));
        if (!error.empty()) {
            /* Every tap passed the same checks in 'policy'. */
            throw std::logic_error("native policy: " + error);
        }
    }
    return native;
}

}  // namespace vtap
