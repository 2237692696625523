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

/* The C ABI of vtap.h, on top of the C++ classes.
 *
 * Every function here is a firewall: a C++ exception that escaped into OVS's
 * C code would terminate the process, so each entry point that calls
 * anything that may throw catches everything and turns it into an error
 * string or a null result. */

#include "vtap/capi/vtap.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "vtap/capi/capi_util.h"
#include "vtap/compiler/classifier.h"
#include "vtap/compiler/offload_plan.h"
#include "vtap/policy/match.h"
#include "vtap/policy/tap.h"

struct vtap_policy {
    vtap::Policy policy;
};

struct vtap_classifier {
    explicit vtap_classifier(const vtap::Policy &policy)
        : classifier(policy) {}

    vtap::Classifier classifier;
};

struct vtap_plan {
    const vtap::Policy *policy;
    vtap::PlanEnv env;
    std::vector<vtap::TapPlan> taps;

    /* What vtap_plan_ebpf_taps() last handed out. */
    std::vector<vtap_ebpf_tap> ebpf_taps;
    std::vector<size_t> ebpf_indexes;
};

using vtap::capi::call_or;
using vtap::capi::call_void;
using vtap::capi::error_for_exception;
using vtap::capi::malloc_string;

namespace {

/* C may pass a value outside the enum, and loading that as a C++ enum is
 * undefined: look at it as an integer first. */
bool
direction_is_valid(const vtap_direction *dir)
{
    std::underlying_type_t<vtap_direction> raw;
    memcpy(&raw, dir, sizeof raw);
    return raw == VTAP_DIR_INGRESS || raw == VTAP_DIR_EGRESS;
}

}  // namespace

extern "C" {

const char *
vtap_version(void)
{
    return "0.1.0";             /* Nothing here can throw. */
}

char *
vtap_match_parse(const char *s, struct vtap_match *match)
{
    if (!match) {
        return malloc_string("match: no output match given");
    }
    try {
        std::string error = vtap::parse_match(s ? s : "", match);
        return error.empty() ? NULL : malloc_string(error);
    } catch (...) {
        return error_for_exception("");
    }
}

char *
vtap_match_format(const struct vtap_match *match)
{
    try {
        return malloc_string(match ? vtap::format_match(*match) : "");
    } catch (...) {
        return NULL;
    }
}

bool
vtap_offload_from_string(const char *s, enum vtap_offload *offload)
{
    static const struct {
        const char *name;
        enum vtap_offload offload;
    } offloads[] = {
        {"auto", VTAP_OFFLOAD_AUTO},
        {"native", VTAP_OFFLOAD_NATIVE},
        {"ebpf", VTAP_OFFLOAD_EBPF},
        {"dpdk", VTAP_OFFLOAD_DPDK},
    };

    /* Only C library calls here: nothing can throw. */
    if (!s) {
        return false;
    }
    for (const auto &o : offloads) {
        if (!strcmp(s, o.name)) {
            if (offload) {
                *offload = o.offload;
            }
            return true;
        }
    }
    return false;
}

const char *
vtap_offload_to_string(enum vtap_offload offload)
{
    /* Read as an integer: C may pass a value outside the enum, and loading
     * that as a C++ enum is undefined.  Nothing here can throw. */
    std::underlying_type_t<vtap_offload> raw;
    memcpy(&raw, &offload, sizeof raw);
    switch (raw) {
    case VTAP_OFFLOAD_AUTO:
        return "auto";
    case VTAP_OFFLOAD_NATIVE:
        return "native";
    case VTAP_OFFLOAD_EBPF:
        return "ebpf";
    case VTAP_OFFLOAD_DPDK:
        return "dpdk";
    }
    return "unknown";
}

struct vtap_policy *
vtap_policy_create(void)
{
    return call_or<vtap_policy *>(NULL, [] {
        return new (std::nothrow) vtap_policy;
    });
}

void
vtap_policy_destroy(struct vtap_policy *policy)
{
    call_void([policy] { delete policy; });
}

char *
vtap_policy_add_tap(struct vtap_policy *policy,
                    const struct vtap_tap_config *cfg)
{
    if (!policy || !cfg) {
        return malloc_string("no policy or no tap configuration given");
    }
    try {
        vtap::Tap tap;
        std::string error = vtap::tap_from_config(*cfg, &tap);
        if (error.empty()) {
            error = policy->policy.add_tap(std::move(tap));
        }
        return error.empty() ? NULL : malloc_string(error);
    } catch (...) {
        return error_for_exception("");
    }
}

size_t
vtap_policy_n_taps(const struct vtap_policy *policy)
{
    return call_or<size_t>(0, [policy] {
        return policy ? policy->policy.n_taps() : 0;
    });
}

struct vtap_classifier *
vtap_policy_compile(const struct vtap_policy *policy)
{
    if (!policy) {
        return NULL;
    }
    try {
        return new vtap_classifier(policy->policy);
    } catch (...) {
        return NULL;
    }
}

void
vtap_classifier_destroy(struct vtap_classifier *cls)
{
    call_void([cls] { delete cls; });
}

size_t
vtap_classifier_n_taps(const struct vtap_classifier *cls)
{
    return call_or<size_t>(0, [cls] {
        return cls ? cls->classifier.n_taps() : 0;
    });
}

const struct vtap_tap_info *
vtap_classifier_tap(const struct vtap_classifier *cls, size_t n)
{
    return call_or<const vtap_tap_info *>(NULL, [cls, n] {
        return (cls && n < cls->classifier.n_taps()
                ? &cls->classifier.tap(n)
                : NULL);
    });
}

const struct vtap_tap_info *
vtap_classifier_find_id(const struct vtap_classifier *cls, uint32_t id)
{
    return call_or<const vtap_tap_info *>(NULL, [cls, id] {
        return cls ? cls->classifier.find_id(id) : NULL;
    });
}

const struct vtap_tap_info *
vtap_classifier_find_name(const struct vtap_classifier *cls,
                          const char *name)
{
    /* find_name() takes a std::string, whose allocation may throw. */
    return call_or<const vtap_tap_info *>(NULL, [cls, name] {
        return cls && name ? cls->classifier.find_name(name) : NULL;
    });
}

size_t
vtap_classifier_lookup(const struct vtap_classifier *cls, uint32_t port,
                       enum vtap_direction dir,
                       const struct vtap_flow_key *key,
                       struct vtap_flow_key *wc,
                       uint32_t *ids, size_t max_ids)
{
    return call_or<size_t>(0, [&] {
        if (!cls || !key || !direction_is_valid(&dir)) {
            return size_t{0};
        }
        return cls->classifier.lookup(port, dir, *key, wc, ids,
                                      ids ? max_ids : 0);
    });
}

bool
vtap_classifier_port_is_selected(const struct vtap_classifier *cls,
                                 uint32_t port, enum vtap_direction dir)
{
    return call_or(false, [&] {
        return (cls && direction_is_valid(&dir)
                && cls->classifier.port_is_selected(port, dir));
    });
}

const char *
vtap_backend_to_string(enum vtap_backend backend)
{
    std::underlying_type_t<vtap_backend> raw;
    memcpy(&raw, &backend, sizeof raw);
    switch (raw) {
    case VTAP_BACKEND_NONE:
        return "none";
    case VTAP_BACKEND_NATIVE:
        return "native";
    case VTAP_BACKEND_EBPF:
        return "ebpf";
    case VTAP_BACKEND_DPDK:
        return "dpdk";
    }
    return "unknown";
}

/* Does the work of vtap_plan_create(), whose 'errorp' may be NULL. */
static struct vtap_plan *
plan_create(const struct vtap_policy *policy,
            const struct vtap_plan_env *env, char **errorp)
{
    if (!policy || !env || (env->n_ports && !env->ports)) {
        *errorp = malloc_string("plan: no policy or no ports given");
        return NULL;
    }
    try {
        vtap::PlanEnv plan_env;

        plan_env.ports.reserve(env->n_ports);
        for (size_t i = 0; i < env->n_ports; i++) {
            const vtap_port_info &in = env->ports[i];
            vtap::PlanPort p;

            p.port = in.port;
            p.port_name = in.port_name ? in.port_name : "";
            p.name = in.name ? in.name : "";
            p.type = in.type ? in.type : "";
            p.kind = in.kind;
            p.ifindex = in.ifindex;
            plan_env.ports.push_back(std::move(p));
        }
        plan_env.ebpf_unavailable = (env->ebpf_unavailable
                                     ? env->ebpf_unavailable : "");
        plan_env.dpdk_unavailable = (env->dpdk_unavailable
                                     ? env->dpdk_unavailable : "");
        plan_env.copy_action = env->copy_action;
        plan_env.userspace_tso = env->userspace_tso;
        plan_env.socket_send = !env->no_socket_send;

        auto plan = std::make_unique<vtap_plan>();
        plan->policy = &policy->policy;
        plan->taps = vtap::plan_offload(policy->policy, plan_env);
        plan->env = std::move(plan_env);
        return plan.release();
    } catch (...) {
        *errorp = error_for_exception("plan: ");
        return NULL;
    }
}

struct vtap_plan *
vtap_plan_create(const struct vtap_policy *policy,
                 const struct vtap_plan_env *env, char **errorp)
{
    char *error = NULL;
    struct vtap_plan *plan = plan_create(policy, env, &error);

    if (errorp) {
        *errorp = error;
    } else {
        free(error);
    }
    return plan;
}

void
vtap_plan_destroy(struct vtap_plan *plan)
{
    delete plan;
}

size_t
vtap_plan_n_taps(const struct vtap_plan *plan)
{
    return plan ? plan->taps.size() : 0;
}

enum vtap_backend
vtap_plan_backend(const struct vtap_plan *plan, size_t n)
{
    return (plan && n < plan->taps.size()
            ? plan->taps[n].backend : VTAP_BACKEND_NONE);
}

const char *
vtap_plan_reason(const struct vtap_plan *plan, size_t n)
{
    if (!plan || n >= plan->taps.size()) {
        return NULL;
    }
    const std::string &reason = plan->taps[n].reason;
    return reason.empty() ? NULL : reason.c_str();
}

size_t
vtap_plan_ebpf_taps(struct vtap_plan *plan,
                    const struct vtap_ebpf_tap **taps,
                    const size_t **indexes)
{
    static const size_t no_index = 0;
    static const vtap_ebpf_tap no_tap{};

    if (!taps || !indexes) {
        return 0;
    }
    *taps = &no_tap;
    *indexes = &no_index;
    if (!plan) {
        return 0;
    }
    try {
        plan->ebpf_taps.clear();
        plan->ebpf_indexes.clear();
        for (size_t i = 0; i < plan->taps.size(); i++) {
            const vtap::TapPlan &p = plan->taps[i];
            if (p.backend != VTAP_BACKEND_EBPF) {
                continue;
            }

            const vtap::Tap &tap = plan->policy->taps()[i];
            vtap_ebpf_tap t{};
            t.owner = tap.owner;
            t.match = tap.selection.match;
            t.src_ifindexes = p.tc_ingress.data();
            t.n_src_ifindexes = p.tc_ingress.size();
            t.dst_ifindexes = p.tc_egress.data();
            t.n_dst_ifindexes = p.tc_egress.size();
            t.out_ifindex = p.out_ifindex;
            t.output_vlan = tap.delivery.output_vlan;
            t.snaplen = tap.delivery.snaplen;
            t.sampling = tap.delivery.sampling;
            t.max_rate = tap.delivery.max_rate;
            plan->ebpf_taps.push_back(t);
            plan->ebpf_indexes.push_back(i);
        }
    } catch (...) {
        /* Out of memory: offload nothing, so that every tap falls back. */
        for (size_t i = 0; i < plan->taps.size(); i++) {
            if (plan->taps[i].backend == VTAP_BACKEND_EBPF) {
                vtap_plan_refuse(plan, i, "out of memory");
            }
        }
        plan->ebpf_taps.clear();
        plan->ebpf_indexes.clear();
        return 0;
    }
    if (!plan->ebpf_taps.empty()) {
        *taps = plan->ebpf_taps.data();
        *indexes = plan->ebpf_indexes.data();
    }
    return plan->ebpf_taps.size();
}

void
vtap_plan_refuse(struct vtap_plan *plan, size_t n, const char *reason)
{
    if (!plan || n >= plan->taps.size()) {
        return;
    }
    try {
        vtap::refuse_offload(plan->policy->taps()[n], plan->env,
                             &plan->taps[n],
                             reason ? reason : "refused by the backend");
    } catch (...) {
        /* Out of memory for the reason's text: refuse all the same. */
        plan->taps[n].backend = VTAP_BACKEND_NONE;
        plan->taps[n].datapath_path = VTAP_PATH_NONE;
    }
}

enum vtap_copy_path
vtap_plan_path(const struct vtap_plan *plan, size_t n)
{
    return (plan && n < plan->taps.size()
            ? vtap::plan_status_path(plan->taps[n]) : VTAP_PATH_NONE);
}

const char *
vtap_copy_path_to_string(enum vtap_copy_path path)
{
    std::underlying_type_t<vtap_copy_path> raw;
    memcpy(&raw, &path, sizeof raw);
    switch (raw) {
    case VTAP_PATH_NONE:
        return "none";
    case VTAP_PATH_EBPF:
        return "ebpf";
    case VTAP_PATH_SAMPLE:
        return "sample";
    case VTAP_PATH_SEND:
        return "send";
    case VTAP_PATH_DPDK:
        return "dpdk";
    case VTAP_PATH_CLONE:
        return "clone";
    }
    return "unknown";
}

struct vtap_classifier *
vtap_plan_compile(const struct vtap_plan *plan)
{
    if (!plan) {
        return NULL;
    }
    try {
        return new vtap_classifier(vtap::native_policy(*plan->policy,
                                                       plan->taps));
    } catch (...) {
        return NULL;
    }
}

bool
vtap_classifier_equal(const struct vtap_classifier *a,
                      const struct vtap_classifier *b)
{
    if (!a || !b) {
        return vtap_classifier_n_taps(a) == 0
               && vtap_classifier_n_taps(b) == 0;
    }
    return a->classifier.same_taps(b->classifier);
}

}  // extern "C"
