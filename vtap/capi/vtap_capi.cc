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
#include <new>
#include <string>
#include <type_traits>

#include "vtap/capi/capi_util.h"
#include "vtap/compiler/classifier.h"
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

using vtap::capi::call_or;
using vtap::capi::call_void;
using vtap::capi::error_for_exception;
using vtap::capi::malloc_string;

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
        if (!cls || !key) {
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
        return cls && cls->classifier.port_is_selected(port, dir);
    });
}

}  // extern "C"
