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

/* The eBPF backend's part of the C ABI (vtap.h).  In a build configured
 * with --disable-ebpf, every entry point reports that the backend is not
 * built, and vtap_ebpf_create() fails with that reason. */

#include "vtap/capi/vtap.h"

#include <memory>
#include <string>
#include <vector>

#include "vtap/capi/capi_util.h"

#if VTAP_HAVE_EBPF
#include "vtap/backends/ebpf/ebpf_backend.h"
#endif

using vtap::capi::error_for_exception;
using vtap::capi::malloc_string;

#if VTAP_HAVE_EBPF
struct vtap_ebpf {
    std::unique_ptr<vtap::EbpfBackend> backend;
};
#else
struct vtap_ebpf {
    int unused;
};
#endif

namespace {

#if !VTAP_HAVE_EBPF
const char kNotBuilt[] = "this build has no eBPF backend "
                         "(configured with --disable-ebpf)";
#endif

}  // namespace

extern "C" {

char *
vtap_ebpf_unavailable(void)
{
#if VTAP_HAVE_EBPF
    return NULL;
#else
    return malloc_string(kNotBuilt);
#endif
}

char *
vtap_ebpf_pin_dir(const char *rundir)
{
    try {
#if VTAP_HAVE_EBPF
        return malloc_string(
            vtap::EbpfBackend::default_pin_dir(rundir ? rundir : ""));
#else
        return malloc_string("");
#endif
    } catch (...) {
        return NULL;
    }
}

char *
vtap_ebpf_remove_stale(const char *pin_dir)
{
    try {
#if VTAP_HAVE_EBPF
        std::string error = vtap::EbpfBackend::remove_stale(pin_dir);
        return error.empty() ? NULL : malloc_string(error);
#else
        return NULL;
#endif
    } catch (...) {
        return error_for_exception("");
    }
}

struct vtap_ebpf *
vtap_ebpf_create(const char *pin_dir, const char *attach_mode,
                 char **errorp)
{
    *errorp = NULL;
    try {
#if VTAP_HAVE_EBPF
        using Mode = vtap::EbpfBackend::AttachMode;
        std::string mode_name = attach_mode ? attach_mode : "auto";
        Mode mode;
        std::string error;

        if (mode_name == "auto") {
            mode = Mode::kAuto;
        } else if (mode_name == "tcx") {
            mode = Mode::kTcx;
        } else if (mode_name == "clsact") {
            mode = Mode::kClsact;
        } else {
            *errorp = malloc_string("unknown TC attach mode \"" + mode_name
                                    + "\" (use auto, tcx or clsact)");
            return NULL;
        }
        auto backend = vtap::EbpfBackend::create(pin_dir ? pin_dir : "",
                                                 mode, &error);
        if (!backend) {
            *errorp = malloc_string(error);
            return NULL;
        }
        return new vtap_ebpf{std::move(backend)};
#else
        *errorp = malloc_string(kNotBuilt);
        return NULL;
#endif
    } catch (...) {
        *errorp = error_for_exception("eBPF backend: ");
        return NULL;
    }
}

void
vtap_ebpf_destroy(struct vtap_ebpf *ebpf)
{
    delete ebpf;
}

void
vtap_ebpf_set_group(struct vtap_ebpf *ebpf, uint64_t group,
                    const struct vtap_ebpf_tap *taps, size_t n,
                    char **reasons)
{
    try {
#if VTAP_HAVE_EBPF
        std::vector<vtap::TcTap> tc_taps(n);

        for (size_t i = 0; i < n; i++) {
            const vtap_ebpf_tap &in = taps[i];
            vtap::TcTap &out = tc_taps[i];

            out.owner = in.owner;
            out.match = in.match;
            out.src_ifindexes.assign(in.src_ifindexes,
                                     in.src_ifindexes + in.n_src_ifindexes);
            out.dst_ifindexes.assign(in.dst_ifindexes,
                                     in.dst_ifindexes + in.n_dst_ifindexes);
            out.out_ifindex = in.out_ifindex;
            out.output_vlan = in.output_vlan;
            out.snaplen = in.snaplen;
            out.sampling = in.sampling;
            out.max_rate = in.max_rate;
        }
        std::vector<std::string> result = ebpf->backend->set_group(group,
                                                                   tc_taps);
        for (size_t i = 0; i < n; i++) {
            reasons[i] = result[i].empty() ? NULL : malloc_string(result[i]);
        }
#else
        for (size_t i = 0; i < n; i++) {
            reasons[i] = malloc_string(kNotBuilt);
        }
#endif
    } catch (...) {
        for (size_t i = 0; i < n; i++) {
            reasons[i] = error_for_exception("eBPF backend: ");
        }
    }
}

size_t
vtap_ebpf_n_taps(const struct vtap_ebpf *ebpf)
{
#if VTAP_HAVE_EBPF
    return ebpf ? ebpf->backend->n_taps() : 0;
#else
    return 0;
#endif
}

bool
vtap_ebpf_get_stats(const struct vtap_ebpf *ebpf, uint64_t owner,
                    struct vtap_ebpf_stats *stats)
{
#if VTAP_HAVE_EBPF
    vtap_tc_stats tc;

    if (!ebpf || !ebpf->backend->get_stats(owner, &tc)) {
        return false;
    }
    stats->packets = tc.packets;
    stats->bytes = tc.bytes;
    stats->failed = tc.failed;
    stats->sampled_out = tc.sampled_out;
    stats->rate_limited = tc.rate_limited;
    return true;
#else
    return false;
#endif
}

}  // extern "C"
