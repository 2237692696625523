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

#ifndef VTAP_BACKENDS_EBPF_TC_TABLES_H
#define VTAP_BACKENDS_EBPF_TC_TABLES_H 1

/* Compiles offloaded taps into the contents of the eBPF TC program's maps
 * (see vtap/backends/ebpf/vtap_tc.h for what each map means).
 *
 * This is the part of the eBPF backend that needs no kernel: it decides
 * whether each tap fits in the program's limits and, if it does, what the
 * maps must hold.  The backend then writes the difference between what is
 * in the kernel and what should be.
 *
 * Like the native classifier, taps are grouped by match mask (tuple space
 * search): 10,000 taps that differ only in their addresses share one mask,
 * so the program does one hash lookup for them all.  Taps without a match
 * take no mask at all: they are listed in their hooks' entries, so that a
 * port whose taps all copy everything costs no parse and no rule lookup. */

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/policy/types.h"
#include "vtap/policy/flow_key.h"

namespace vtap {

/* One tap as the eBPF backend sees it: kernel devices instead of ports. */
struct TcTap {
    uint64_t owner = 0;                 /* The caller's unique key. */
    vtap_match match{};
    std::vector<uint32_t> src_ifindexes; /* TC ingress. */
    std::vector<uint32_t> dst_ifindexes; /* TC egress. */
    uint32_t out_ifindex = 0;
    uint16_t output_vlan = 0;
    uint32_t snaplen = 0;
    uint32_t sampling = 0;
    uint32_t max_rate = 0;
};

/* Where the program runs: a device and a direction. */
struct TcHook {
    uint32_t ifindex;
    uint32_t direction;                 /* VTAP_TC_INGRESS or _EGRESS. */

    bool operator<(const TcHook &o) const
    {
        return ifindex != o.ifindex ? ifindex < o.ifindex
                                    : direction < o.direction;
    }
    bool operator==(const TcHook &o) const
    {
        return ifindex == o.ifindex && direction == o.direction;
    }
};

/* Mask ids, kept from one compilation to the next so that rules of
 * unchanged taps keep their keys (and the kernel maps need no rewrite). */
class TcMaskIds {
public:
    /* Returns the id of 'mask', allocating one if needed, or -1 if all
     * VTAP_TC_MAX_MASKS ids are taken. */
    int get(const vtap_flow_key &mask);

    /* Frees every id not in 'in_use'. */
    void retain_only(const std::set<uint16_t> &in_use);

    const std::map<std::string, uint16_t> &ids() const { return ids_; }

private:
    std::map<std::string, uint16_t> ids_;   /* Mask bytes to id. */
    std::set<uint16_t> free_;               /* Freed ids, reused first. */
    uint16_t next_ = 0;                     /* Never used beyond this. */
};

/* The maps' contents for a set of taps. */
class TcTables {
public:
    explicit TcTables(TcMaskIds *mask_ids) : mask_ids_(mask_ids) {}

    /* Adds 'tap', whose copies use 'slot' (below VTAP_TC_MAX_TAPS).
     * Returns "" on success.  Otherwise returns why the tap cannot be
     * offloaded, e.g. "ifindex 7 ingress already has 16 distinct match
     * shapes (the TC program's limit)", and leaves the tables unchanged. */
    std::string add_tap(const TcTap &tap, uint32_t slot);

    /* Map contents, keyed the way the kernel maps are. */
    std::map<TcHook, vtap_tc_hook> hooks;       /* 'vtap_hooks' */
    std::map<std::string, vtap_tc_rule> rules;  /* 'vtap_rules', by the
                                                 * bytes of the key. */
    std::map<uint32_t, vtap_tc_tap> taps;       /* 'vtap_taps', by slot */
    std::map<uint16_t, vtap_flow_key> masks;    /* 'vtap_masks' in use */

    /* Every hook where the program must be attached: the selecting hooks,
     * plus the egress of output devices whose copies need an edit. */
    std::set<TcHook> attach_points() const;

    /* The rule key from its bytes in 'rules'. */
    static vtap_tc_rule_key rule_key(const std::string &bytes);

private:
    TcMaskIds *mask_ids_;
    std::set<uint32_t> outputs_;            /* Output devices so far. */
    std::set<uint32_t> edit_outputs_;       /* Those that need an edit. */
};

/* Returns the vtap_tc_tap entry for 'tap': its delivery settings in the
 * form the program uses (sampling as a threshold, and so on). */
vtap_tc_tap tc_tap_entry(const TcTap &tap);

}  // namespace vtap

#endif /* vtap/backends/ebpf/tc_tables.h */
