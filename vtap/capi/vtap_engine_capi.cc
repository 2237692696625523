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

/* The engine's part of the C ABI (vtap.h): the sequence that applies a
 * bridge's taps, and the eBPF backend's lifecycle, behind one call.  It is
 * made of the module's own planning and eBPF entry points, so that the
 * caller only maps its configuration in and the results out. */

#include "vtap/capi/vtap.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "vtap/capi/capi_util.h"

using vtap::capi::malloc_string;

struct vtap_engine {
    std::string pin_dir;
    std::string attach_mode;
    vtap_engine_log_func *log;
    struct vtap_ebpf *ebpf = nullptr;  /* While a tap is offloaded. */

    ~vtap_engine() { vtap_ebpf_destroy(ebpf); }

    void say(bool warning, const std::string &msg) const
    {
        if (log) {
            log(warning, msg.c_str());
        }
    }

    void offload(uint64_t group, struct vtap_plan *plan);
};

namespace {

/* Frees a malloc'd C string when it goes. */
struct CString {
    char *s = nullptr;
    ~CString() { free(s); }
    std::string str() const { return s ? s : ""; }
};

}  // namespace

/* Applies the taps that 'plan' offloads to the eBPF backend as 'group',
 * loading the backend first if need be, and tells 'plan' which ones the
 * backend refused; unloads it once no tap is offloaded.  A null 'plan'
 * removes the group. */
void
vtap_engine::offload(uint64_t group, struct vtap_plan *plan)
{
    const struct vtap_ebpf_tap *taps = nullptr;
    const size_t *index = nullptr;
    size_t n = plan ? vtap_plan_ebpf_taps(plan, &taps, &index) : 0;

    if (n && !ebpf) {
        CString error;

        ebpf = vtap_ebpf_create(pin_dir.c_str(),
                                attach_mode.empty() ? nullptr
                                : attach_mode.c_str(), &error.s);
        if (!ebpf) {
            std::string reason = "eBPF backend: " + error.str();

            say(true, reason);
            for (size_t j = 0; j < n; j++) {
                vtap_plan_refuse(plan, index[j], reason.c_str());
            }
            return;
        }
        say(false, "eBPF backend loaded, pinned in " + pin_dir);
    }
    if (ebpf) {
        std::vector<char *> reasons(n + 1, nullptr);

        vtap_ebpf_set_group(ebpf, group, taps, n, reasons.data());
        for (size_t j = 0; j < n; j++) {
            if (reasons[j]) {
                vtap_plan_refuse(plan, index[j], reasons[j]);
                free(reasons[j]);
            }
        }
        if (!vtap_ebpf_n_taps(ebpf)) {
            vtap_ebpf_destroy(ebpf);
            ebpf = nullptr;
            say(false, "eBPF backend unloaded: no tap is offloaded");
        }
    }
}

extern "C" {

struct vtap_engine *
vtap_engine_create(const char *rundir, const char *attach_mode,
                   vtap_engine_log_func *log)
{
    try {
        auto engine = std::make_unique<vtap_engine>();
        CString pin_dir;

        pin_dir.s = vtap_ebpf_pin_dir(rundir ? rundir : "");
        engine->pin_dir = pin_dir.str();
        engine->attach_mode = attach_mode ? attach_mode : "";
        engine->log = log;

        /* What an earlier process of this run directory left in bpffs (a
         * crash, a kill -9) goes; the taps are offloaded afresh as they are
         * applied. */
        if (!engine->pin_dir.empty()) {
            CString error;

            error.s = vtap_ebpf_remove_stale(engine->pin_dir.c_str());
            if (error.s) {
                engine->say(true, "removing eBPF objects of an earlier run: "
                            + error.str());
            }
        }
        return engine.release();
    } catch (...) {
        return nullptr;
    }
}

void
vtap_engine_destroy(struct vtap_engine *engine)
{
    delete engine;
}

struct vtap_plan *
vtap_engine_apply(struct vtap_engine *engine, uint64_t group,
                  const struct vtap_policy *policy,
                  const struct vtap_plan_env *env_,
                  struct vtap_classifier **classifier, char **errorp)
{
    if (classifier) {
        *classifier = nullptr;
    }
    if (!engine || !env_ || !classifier) {
        if (errorp) {
            *errorp = malloc_string("engine: no engine, environment or "
                                    "classifier given");
        }
        return nullptr;
    }

    /* The eBPF backend is this engine's to offer: it says whether this
     * build has it. */
    CString ebpf_unavailable;
    ebpf_unavailable.s = vtap_ebpf_unavailable();
    struct vtap_plan_env env = *env_;
    if (ebpf_unavailable.s) {
        env.ebpf_unavailable = ebpf_unavailable.s;
    }

    struct vtap_plan *plan = vtap_plan_create(policy, &env, errorp);
    if (plan) {
        try {
            engine->offload(group, plan);
        } catch (...) {
            /* Out of memory on the way: offload nothing more, so that the
             * taps planned for eBPF fall back. */
            const struct vtap_ebpf_tap *taps;
            const size_t *index;
            size_t n = vtap_plan_ebpf_taps(plan, &taps, &index);
            for (size_t j = 0; j < n; j++) {
                vtap_plan_refuse(plan, index[j], "out of memory");
            }
        }
        *classifier = vtap_plan_compile(plan);
    }
    return plan;
}

void
vtap_engine_remove_group(struct vtap_engine *engine, uint64_t group)
{
    if (engine) {
        try {
            engine->offload(group, nullptr);
        } catch (...) {
            /* Nothing is allocated on the way out. */
        }
    }
}

bool
vtap_engine_get_ebpf_stats(const struct vtap_engine *engine, uint64_t owner,
                           struct vtap_ebpf_stats *stats)
{
    return engine && vtap_ebpf_get_stats(engine->ebpf, owner, stats);
}

size_t
vtap_engine_n_ebpf_taps(const struct vtap_engine *engine)
{
    return engine ? vtap_ebpf_n_taps(engine->ebpf) : 0;
}

}  // extern "C"
