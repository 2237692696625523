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

#include "vtap/backends/ebpf/tc_tables.h"

#include <cstring>

#include "vtap/policy/match.h"

namespace vtap {

namespace {

template <class T>
std::string
bytes_of(const T &value)
{
    return std::string(reinterpret_cast<const char *>(&value), sizeof value);
}

/* The bytes of the 'vtap_rules' key for 'key' (already masked) under mask
 * 'mask_id' on 'hook'. */
std::string
rule_bytes(const TcHook &hook, int mask_id, const vtap_flow_key &key)
{
    vtap_tc_rule_key rule_key{};

    rule_key.ifindex = hook.ifindex;
    rule_key.direction = hook.direction;
    rule_key.mask_id = mask_id;
    rule_key.key = key;
    return bytes_of(rule_key);
}

const char *
direction_name(uint32_t direction)
{
    return direction == VTAP_TC_INGRESS ? "ingress" : "egress";
}

/* Why one more tap with the same match on 'hook' does not fit. */
std::string
too_many_alike(const TcHook &hook)
{
    return "more than " + std::to_string(VTAP_TC_MAX_TAPS_PER_RULE)
           + " offloaded taps with this match on ifindex "
           + std::to_string(hook.ifindex) + " "
           + direction_name(hook.direction) + " (the TC program's limit)";
}

}  // namespace

int
TcMaskIds::get(const vtap_flow_key &mask)
{
    std::string key = bytes_of(mask);
    auto it = ids_.find(key);

    if (it != ids_.end()) {
        return it->second;
    }
    uint16_t id;
    if (!free_.empty()) {
        id = *free_.begin();
        free_.erase(free_.begin());
    } else if (next_ < VTAP_TC_MAX_MASKS) {
        id = next_++;
    } else {
        return -1;
    }
    ids_.emplace(std::move(key), id);
    return id;
}

void
TcMaskIds::retain_only(const std::set<uint16_t> &in_use)
{
    for (auto it = ids_.begin(); it != ids_.end();) {
        if (in_use.count(it->second)) {
            ++it;
        } else {
            free_.insert(it->second);
            it = ids_.erase(it);
        }
    }
}

vtap_tc_tap
tc_tap_entry(const TcTap &tap)
{
    vtap_tc_tap entry{};

    entry.out_ifindex = tap.out_ifindex;
    entry.output_vlan = tap.output_vlan;
    entry.snaplen = tap.snaplen;
    if (tap.sampling > 1) {
        /* Copy when a uniform 32-bit random number is below 2**32 / N. */
        entry.sample_threshold = static_cast<uint32_t>(
            (uint64_t{1} << 32) / tap.sampling);
    }
    if (tap.max_rate) {
        entry.rate_per_sec = tap.max_rate;
        /* A bucket of one second's worth of copies, like the native
         * backend's datapath meter (burst_size = rate), so that a tap
         * copies the same bursts whichever backend makes its copies. */
        entry.burst = tap.max_rate;
    }
    if (tap.output_vlan || tap.snaplen) {
        entry.flags |= VTAP_TC_TAP_EDIT_COPY;
    }
    return entry;
}

std::string
TcTables::add_tap(const TcTap &tap, uint32_t slot)
{
    if (slot >= VTAP_TC_MAX_TAPS) {
        return "more than " + std::to_string(VTAP_TC_MAX_TAPS)
               + " offloaded taps (the TC program's limit)";
    }
    if (!tap.out_ifindex) {
        return "no output device";
    }

    /* Copies never loop: an output device is never also selected. */
    std::vector<TcHook> selected;
    for (uint32_t ifindex : tap.src_ifindexes) {
        selected.push_back({ifindex, VTAP_TC_INGRESS});
    }
    for (uint32_t ifindex : tap.dst_ifindexes) {
        selected.push_back({ifindex, VTAP_TC_EGRESS});
    }
    for (const TcHook &hook : selected) {
        if (outputs_.count(hook.ifindex) || hook.ifindex == tap.out_ifindex) {
            return "ifindex " + std::to_string(hook.ifindex)
                   + " is the output device of an offloaded tap and "
                     "cannot also be selected";
        }
    }
    for (const auto &entry : hooks) {
        if (entry.first.ifindex == tap.out_ifindex) {
            return "output ifindex " + std::to_string(tap.out_ifindex)
                   + " is selected by another offloaded tap";
        }
    }

    /* A tap without a match goes in its hooks' entries (the program then
     * needs neither parse nor rule lookup for it), not under a mask. */
    static const vtap_flow_key zero_mask{};
    bool match_all = !memcmp(&tap.match.mask, &zero_mask, sizeof zero_mask);
    int mask_id = -1;
    if (!match_all) {
        mask_id = mask_ids_->get(tap.match.mask);
        if (mask_id < 0) {
            return "more than " + std::to_string(VTAP_TC_MAX_MASKS)
                   + " distinct match shapes (the TC program's limit)";
        }
    }

    /* Check every limit before changing anything. */
    size_t new_hooks = 0, new_rules = 0;
    for (const TcHook &hook : selected) {
        auto h = hooks.find(hook);
        if (match_all) {
            if (h == hooks.end()) {
                new_hooks++;
            } else if (h->second.n_all >= VTAP_TC_MAX_TAPS_PER_RULE) {
                return too_many_alike(hook);
            }
            continue;
        }
        if (h == hooks.end()) {
            new_hooks++;
        } else {
            const vtap_tc_hook &entry = h->second;
            bool has_mask = false;

            for (uint32_t i = 0; i < entry.n_masks; i++) {
                has_mask |= entry.mask_ids[i] == mask_id;
            }
            if (!has_mask && entry.n_masks >= VTAP_TC_MAX_MASKS_PER_HOOK) {
                return "ifindex " + std::to_string(hook.ifindex) + " "
                       + direction_name(hook.direction) + " already has "
                       + std::to_string(VTAP_TC_MAX_MASKS_PER_HOOK)
                       + " distinct match shapes (the TC program's limit)";
            }
        }

        auto r = rules.find(rule_bytes(hook, mask_id, tap.match.key));
        if (r == rules.end()) {
            new_rules++;
        } else if (r->second.n_taps >= VTAP_TC_MAX_TAPS_PER_RULE) {
            return too_many_alike(hook);
        }
    }
    if (hooks.size() + new_hooks > VTAP_TC_MAX_HOOKS) {
        return "more than " + std::to_string(VTAP_TC_MAX_HOOKS)
               + " selected device directions (the TC program's limit)";
    }
    if (rules.size() + new_rules > VTAP_TC_MAX_RULES) {
        return "more than " + std::to_string(VTAP_TC_MAX_RULES)
               + " TC rules (the TC program's limit)";
    }

    for (const TcHook &hook : selected) {
        vtap_tc_hook &entry = hooks[hook];
        bool has_mask = false;

        if (match_all) {
            entry.all_slots[entry.n_all++] = slot;
            continue;
        }

        for (uint32_t i = 0; i < entry.n_masks; i++) {
            has_mask |= entry.mask_ids[i] == mask_id;
        }
        if (!has_mask) {
            entry.mask_ids[entry.n_masks++] = mask_id;
        }

        vtap_tc_rule &rule = rules[rule_bytes(hook, mask_id,
                                              tap.match.key)];
        rule.slots[rule.n_taps++] = slot;
    }
    if (!match_all) {
        masks[mask_id] = tap.match.mask;
    }

    vtap_tc_tap entry = tc_tap_entry(tap);
    taps[slot] = entry;
    outputs_.insert(tap.out_ifindex);
    if (entry.flags & VTAP_TC_TAP_EDIT_COPY) {
        edit_outputs_.insert(tap.out_ifindex);
    }
    return "";
}

std::set<TcHook>
TcTables::attach_points() const
{
    std::set<TcHook> points;

    for (const auto &entry : hooks) {
        points.insert(entry.first);
    }
    for (uint32_t ifindex : edit_outputs_) {
        points.insert({ifindex, VTAP_TC_EGRESS});
    }
    return points;
}

vtap_tc_rule_key
TcTables::rule_key(const std::string &bytes)
{
    vtap_tc_rule_key key;

    memcpy(&key, bytes.data(), sizeof key);
    return key;
}

}  // namespace vtap
