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

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "vtap/capi/capi_util.h"

#if VTAP_HAVE_EBPF
#include "vtap/backends/ebpf/ebpf_backend.h"
#endif

using vtap::capi::call_or;
using vtap::capi::call_void;
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
    return call_or<char *>(NULL, [] {
#if VTAP_HAVE_EBPF
        return static_cast<char *>(NULL);
#else
        return malloc_string(kNotBuilt);
#endif
    });
}

char *
vtap_ebpf_pin_dir(const char *rundir)
{
    return call_or<char *>(NULL, [rundir] {
#if VTAP_HAVE_EBPF
        return malloc_string(
            vtap::EbpfBackend::default_pin_dir(rundir ? rundir : ""));
#else
        (void) rundir;
        return malloc_string("");
#endif
    });
}

char *
vtap_ebpf_remove_stale(const char *pin_dir)
{
    if (!pin_dir) {
        return malloc_string("no pin directory given");
    }
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
    char *ignored = NULL;

    /* A caller that does not want the error still must not crash us. */
    if (!errorp) {
        errorp = &ignored;
    }
    *errorp = NULL;
    struct vtap_ebpf *ebpf = NULL;
    try {
#if VTAP_HAVE_EBPF
        using Mode = vtap::EbpfBackend::AttachMode;
        std::string mode_name = attach_mode ? attach_mode : "auto";
        Mode mode = Mode::kAuto;
        std::string error;

        if (mode_name == "tcx") {
            mode = Mode::kTcx;
        } else if (mode_name == "clsact") {
            mode = Mode::kClsact;
        } else if (mode_name != "auto") {
            *errorp = malloc_string("unknown TC attach mode \"" + mode_name
                                    + "\" (use auto, tcx or clsact)");
        }
        if (!*errorp) {
            auto backend = vtap::EbpfBackend::create(pin_dir ? pin_dir : "",
                                                     mode, &error);
            if (!backend) {
                *errorp = malloc_string(error);
            } else {
                ebpf = new vtap_ebpf{std::move(backend)};
            }
        }
#else
        (void) pin_dir;
        (void) attach_mode;
        *errorp = malloc_string(kNotBuilt);
#endif
    } catch (...) {
        *errorp = error_for_exception("eBPF backend: ");
    }
    free(ignored);
    return ebpf;
}

void
vtap_ebpf_destroy(struct vtap_ebpf *ebpf)
{
    call_void([ebpf] { delete ebpf; });
}

}  // extern "C"

#if VTAP_HAVE_EBPF
namespace {

/* Copies 'in' into '*out'.  Returns "" or what is wrong with 'in'. */
std::string
tc_tap_from_c(const vtap_ebpf_tap &in, vtap::TcTap *out)
{
    if (in.n_src_ifindexes && !in.src_ifindexes) {
        return "src_ifindexes: " + std::to_string(in.n_src_ifindexes)
               + " devices but no array";
    }
    if (in.n_dst_ifindexes && !in.dst_ifindexes) {
        return "dst_ifindexes: " + std::to_string(in.n_dst_ifindexes)
               + " devices but no array";
    }
    out->owner = in.owner;
    out->match = in.match;
    if (in.n_src_ifindexes) {
        out->src_ifindexes.assign(in.src_ifindexes,
                                  in.src_ifindexes + in.n_src_ifindexes);
    }
    if (in.n_dst_ifindexes) {
        out->dst_ifindexes.assign(in.dst_ifindexes,
                                  in.dst_ifindexes + in.n_dst_ifindexes);
    }
    out->out_ifindex = in.out_ifindex;
    out->output_vlan = in.output_vlan;
    out->snaplen = in.snaplen;
    out->sampling = in.sampling;
    out->max_rate = in.max_rate;
    return "";
}

}  // namespace
#endif

extern "C" {

void
vtap_ebpf_set_group(struct vtap_ebpf *ebpf, uint64_t group,
                    const struct vtap_ebpf_tap *taps, size_t n,
                    char **reasons)
{
    if (!reasons) {
        /* Nowhere to say which taps are offloaded: change nothing. */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        reasons[i] = NULL;
    }
    try {
#if VTAP_HAVE_EBPF
        std::string all_fail;

        if (!ebpf) {
            all_fail = "no eBPF backend given";
        } else if (n && !taps) {
            all_fail = std::to_string(n) + " taps but no array";
        }
        if (!all_fail.empty()) {
            for (size_t i = 0; i < n; i++) {
                reasons[i] = malloc_string(all_fail);
            }
            return;
        }

        /* Taps with bad arguments are left out of the group (so they make
         * no copies) and say why. */
        std::vector<vtap::TcTap> tc_taps;
        std::vector<size_t> index;
        std::vector<std::string> bad(n);
        for (size_t i = 0; i < n; i++) {
            vtap::TcTap tap;

            bad[i] = tc_tap_from_c(taps[i], &tap);
            if (bad[i].empty()) {
                tc_taps.push_back(std::move(tap));
                index.push_back(i);
            }
        }
        std::vector<std::string> result = ebpf->backend->set_group(group,
                                                                   tc_taps);
        for (size_t j = 0; j < index.size(); j++) {
            bad[index[j]] = result[j];
        }
        for (size_t i = 0; i < n; i++) {
            reasons[i] = bad[i].empty() ? NULL : malloc_string(bad[i]);
        }
#else
        (void) ebpf;
        (void) group;
        (void) taps;
        for (size_t i = 0; i < n; i++) {
            reasons[i] = malloc_string(kNotBuilt);
        }
#endif
    } catch (...) {
        for (size_t i = 0; i < n; i++) {
            free(reasons[i]);
            reasons[i] = error_for_exception("eBPF backend: ");
        }
    }
}

size_t
vtap_ebpf_n_taps(const struct vtap_ebpf *ebpf)
{
    return call_or<size_t>(0, [ebpf] {
#if VTAP_HAVE_EBPF
        return ebpf ? ebpf->backend->n_taps() : 0;
#else
        (void) ebpf;
        return size_t{0};
#endif
    });
}

bool
vtap_ebpf_get_stats(const struct vtap_ebpf *ebpf, uint64_t owner,
                    struct vtap_ebpf_stats *stats)
{
    return call_or(false, [&] {
#if VTAP_HAVE_EBPF
        vtap_tc_stats tc;

        if (!ebpf || !stats || !ebpf->backend->get_stats(owner, &tc)) {
            return false;
        }
        stats->packets = tc.packets;
        stats->bytes = tc.bytes;
        stats->failed = tc.failed;
        stats->sampled_out = tc.sampled_out;
        stats->rate_limited = tc.rate_limited;
        return true;
#else
        (void) ebpf;
        (void) owner;
        (void) stats;
        return false;
#endif
    });
}

}  // extern "C"
