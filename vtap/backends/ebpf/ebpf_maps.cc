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

/* The eBPF backend's map writing: the offloaded taps of every group laid
 * out into slots and rules (TcTables), written into the kernel maps as the
 * difference from what they hold, and each slot's counters read back.  The
 * program's lifecycle (load, pins, hooks) is in ebpf_backend.cc. */

#include "vtap/backends/ebpf/ebpf_backend.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vtap/backends/ebpf/vtap_tc.skel.h"

namespace vtap {

int
EbpfBackend::map_update(struct bpf_map *map, const void *key,
                        size_t key_size, const void *value,
                        size_t value_size, uint64_t flags)
{
    if (fail_countdown_ > 0 && !--fail_countdown_) {
        return fail_error_;
    }
    return bpf_map__update_elem(map, key, key_size, value, value_size,
                                flags);
}

int
EbpfBackend::map_delete(struct bpf_map *map, const void *key,
                        size_t key_size)
{
    if (fail_countdown_ > 0 && !--fail_countdown_) {
        return fail_error_;
    }
    return bpf_map__delete_elem(map, key, key_size, 0);
}

std::string
EbpfBackend::reset_slot(uint32_t slot, const vtap_tc_tap &entry)
{
    int ncpus = libbpf_num_possible_cpus();
    std::vector<vtap_tc_stats> zero(ncpus > 0 ? ncpus : 1);

    int r = map_update(skel_->maps.vtap_stats, &slot, sizeof slot,
                       zero.data(), zero.size() * sizeof zero[0], BPF_ANY);
    if (r) {
        return "zeroing the counters of TC slot " + std::to_string(slot)
               + ": " + errno_string(r);
    }

    /* A full bucket: the first 'burst' copies go out at once. */
    vtap_tc_rate rate{};
    rate.tokens = entry.burst * 1000000000ULL;
    r = map_update(skel_->maps.vtap_rates, &slot, sizeof slot, &rate,
                   sizeof rate, BPF_ANY);
    if (r) {
        return "resetting the token bucket of TC slot "
               + std::to_string(slot) + ": " + errno_string(r);
    }
    return "";
}

/* Writes the difference between what the kernel maps hold ('*applied_',
 * kept exact: each entry changes there only once the kernel took it) and
 * 'want'.  Returns true if every entry that a tap of 'want' needs is in the
 * kernel.  Otherwise returns false with '*error' and, in '*culprits', the
 * slots of the taps that lack an entry: the caller leaves them out and
 * tries again, which also takes back what they got in.  Removals that fail
 * stay in '*applied_', to be tried again next time; they never fail a tap
 * that stays. */
bool
EbpfBackend::write_maps(const TcTables &want, std::string *error,
                        std::set<uint32_t> *culprits)
{
    TcTables &have = *applied_;
    int r;

    /* Slots of 'want' whose rules use 'mask_id' (or sit on 'hook'), that
     * the current kernel entry does not serve yet. */
    auto slots_using_mask = [&](uint16_t mask_id) {
        std::set<uint32_t> slots;
        for (const auto &entry : want.rules) {
            if (TcTables::rule_key(entry.first).mask_id == mask_id) {
                const vtap_tc_rule &rule = entry.second;
                slots.insert(rule.slots, rule.slots + rule.n_taps);
            }
        }
        return slots;
    };
    /* Records a failure; returns true if no tap of 'want' lacks the
     * entry (nothing to refuse). */
    auto fail = [&](const std::string &what, int err,
                    std::set<uint32_t> slots) {
        *error = what + ": " + errno_string(err);
        *culprits = std::move(slots);
        return culprits->empty();
    };

    /* New and changed entries first, from the leaves (taps, masks, rules)
     * to the root (hooks), so that the program never finds a hook whose
     * rules or taps are not there yet; then what went away, from the root
     * down. */
    for (const auto &entry : want.taps) {
        auto old = have.taps.find(entry.first);
        if (old == have.taps.end()
            || memcmp(&old->second, &entry.second, sizeof entry.second)) {
            r = map_update(skel_->maps.vtap_taps, &entry.first,
                           sizeof entry.first, &entry.second,
                           sizeof entry.second, BPF_ANY);
            if (r) {
                fail("updating vtap_taps", r, {entry.first});
                return false;
            }
            have.taps[entry.first] = entry.second;
        }
    }
    for (const auto &entry : want.masks) {
        uint32_t id = entry.first;
        auto old = have.masks.find(entry.first);
        if (old == have.masks.end()
            || memcmp(&old->second, &entry.second, sizeof entry.second)) {
            r = map_update(skel_->maps.vtap_masks, &id, sizeof id,
                           &entry.second, sizeof entry.second, BPF_ANY);
            if (r) {
                if (!fail("updating vtap_masks", r,
                          slots_using_mask(entry.first))) {
                    return false;
                }
                continue;       /* No tap uses it (cannot happen). */
            }
            have.masks[entry.first] = entry.second;
        }
    }
    for (const auto &entry : want.rules) {
        auto old = have.rules.find(entry.first);
        if (old == have.rules.end()
            || memcmp(&old->second, &entry.second, sizeof entry.second)) {
            r = map_update(skel_->maps.vtap_rules, entry.first.data(),
                           entry.first.size(), &entry.second,
                           sizeof entry.second, BPF_ANY);
            if (r) {
                /* The taps the old entry (if any) already served still
                 * have theirs; the others lack it. */
                std::set<uint32_t> lacking(entry.second.slots,
                                           entry.second.slots
                                           + entry.second.n_taps);
                if (old != have.rules.end()) {
                    for (uint32_t i = 0; i < old->second.n_taps; i++) {
                        lacking.erase(old->second.slots[i]);
                    }
                }
                if (!fail("updating vtap_rules", r, lacking)) {
                    return false;
                }
                continue;
            }
            have.rules[entry.first] = entry.second;
        }
    }
    for (const auto &entry : want.hooks) {
        auto old = have.hooks.find(entry.first);
        vtap_tc_hook_key key{entry.first.ifindex, entry.first.direction};
        if (old == have.hooks.end()
            || memcmp(&old->second, &entry.second, sizeof entry.second)) {
            r = map_update(skel_->maps.vtap_hooks, &key, sizeof key,
                           &entry.second, sizeof entry.second, BPF_ANY);
            if (r) {
                /* Taps whose mask the old entry (if any) lacks, and taps
                 * without a match that it does not list. */
                std::set<uint32_t> lacking;
                for (uint32_t i = 0; i < entry.second.n_all; i++) {
                    uint32_t slot = entry.second.all_slots[i];
                    bool served = false;
                    for (uint32_t j = 0; old != have.hooks.end()
                                         && j < old->second.n_all; j++) {
                        served |= old->second.all_slots[j] == slot;
                    }
                    if (!served) {
                        lacking.insert(slot);
                    }
                }
                for (const auto &rule : want.rules) {
                    vtap_tc_rule_key k = TcTables::rule_key(rule.first);
                    bool served = false;
                    if (k.ifindex != entry.first.ifindex
                        || k.direction != entry.first.direction) {
                        continue;
                    }
                    for (uint32_t i = 0; old != have.hooks.end()
                                         && i < old->second.n_masks; i++) {
                        served |= old->second.mask_ids[i] == k.mask_id;
                    }
                    if (!served) {
                        lacking.insert(rule.second.slots,
                                       rule.second.slots
                                       + rule.second.n_taps);
                    }
                }
                if (!fail("updating vtap_hooks", r, lacking)) {
                    return false;
                }
                continue;
            }
            have.hooks[entry.first] = entry.second;
        }
    }

    std::vector<TcHook> gone_hooks;
    for (const auto &entry : have.hooks) {
        if (!want.hooks.count(entry.first)) {
            gone_hooks.push_back(entry.first);
        }
    }
    for (const TcHook &hook : gone_hooks) {
        vtap_tc_hook_key key{hook.ifindex, hook.direction};
        r = map_delete(skel_->maps.vtap_hooks, &key, sizeof key);
        if (!r || r == -ENOENT) {
            have.hooks.erase(hook);
        }
    }
    std::vector<std::string> gone_rules;
    for (const auto &entry : have.rules) {
        if (!want.rules.count(entry.first)) {
            gone_rules.push_back(entry.first);
        }
    }
    for (const std::string &bytes : gone_rules) {
        r = map_delete(skel_->maps.vtap_rules, bytes.data(), bytes.size());
        if (!r || r == -ENOENT) {
            have.rules.erase(bytes);
        }
    }
    std::vector<uint32_t> gone_taps;
    for (const auto &entry : have.taps) {
        if (!want.taps.count(entry.first)) {
            gone_taps.push_back(entry.first);
        }
    }
    for (uint32_t slot : gone_taps) {
        vtap_tc_tap unused{};
        r = map_update(skel_->maps.vtap_taps, &slot, sizeof slot, &unused,
                       sizeof unused, BPF_ANY);
        if (!r) {
            have.taps.erase(slot);
        }
    }
    /* 'vtap_masks' is an array: unused ids need no write. */
    for (auto it = have.masks.begin(); it != have.masks.end();) {
        it = want.masks.count(it->first) ? std::next(it)
                                         : have.masks.erase(it);
    }
    return true;
}

std::vector<std::string>
EbpfBackend::set_group(uint64_t group, const std::vector<TcTap> &taps)
{
    std::vector<std::string> reasons(taps.size());
    std::map<uint64_t, std::string> refused;    /* By owner. */

    if (taps.empty()) {
        groups_.erase(group);
    } else {
        groups_[group] = taps;
    }

    /* Taps already offloaded, of any group, come first, and other groups'
     * taps that are not offloaded stay so: a change to one group never
     * takes room from another group's taps, nor gives it to them, since
     * only this group's taps learn what became of them.  (The others are
     * tried again when their own group is set.) */
    std::vector<const TcTap *> order;
    for (const auto &g : groups_) {
        for (const TcTap &tap : g.second) {
            if (slots_.count(tap.owner)) {
                order.push_back(&tap);
            }
        }
    }
    auto own = groups_.find(group);
    if (own != groups_.end()) {
        for (const TcTap &tap : own->second) {
            if (!slots_.count(tap.owner)) {
                order.push_back(&tap);
            }
        }
    }

    /* Compile, attach where needed, reset new slots, write the maps.  Each
     * step that fails names the taps it failed for; leave them out and
     * start again (each round refuses at least one more tap, so this
     * ends), so that every tap that stays has all it needs and the others
     * have nothing of their own. */
    std::unique_ptr<TcTables> want;
    std::map<uint64_t, uint32_t> slots;
    for (;;) {
        std::set<uint32_t> fresh_slots;
        want.reset(new TcTables(&mask_ids_));
        slots.clear();

        std::set<uint32_t> free_slots = free_slots_;
        uint32_t next_slot = next_slot_;
        for (const TcTap *tap_ : order) {
            const TcTap &tap = *tap_;
            if (refused.count(tap.owner)) {
                continue;
            }
            uint32_t slot;
            auto old = slots_.find(tap.owner);
            if (old != slots_.end()) {
                slot = old->second;
            } else if (!free_slots.empty()) {
                slot = *free_slots.begin();
            } else {
                slot = next_slot;
            }
            std::string reason = want->add_tap(tap, slot);
            if (!reason.empty()) {
                refused[tap.owner] = reason;
                continue;
            }
            slots[tap.owner] = slot;
            if (old == slots_.end()) {
                fresh_slots.insert(slot);
                if (!free_slots.empty() && slot == *free_slots.begin()) {
                    free_slots.erase(free_slots.begin());
                } else {
                    next_slot++;
                }
            }
        }

        /* Refuses, with 'reason', the taps of 'want' that 'hits' says. */
        size_t n_refused = refused.size();
        auto refuse_if = [&](auto hits, const std::string &reason) {
            for (const auto &entry : slots) {
                if (!refused.count(entry.first) && hits(entry)) {
                    refused[entry.first] = reason;
                }
            }
        };

        std::map<uint32_t, std::string> failed;     /* By ifindex. */
        for (const TcHook &hook : want->attach_points()) {
            if (!attachments_.count(hook)) {
                std::string error = attach(hook);
                if (!error.empty()) {
                    failed.emplace(hook.ifindex, error);
                }
            }
        }
        for (const auto &f : failed) {
            refuse_if([&](const std::pair<const uint64_t, uint32_t> &e) {
                const vtap_tc_tap &entry = want->taps[e.second];
                if (entry.out_ifindex == f.first) {
                    return true;
                }
                for (const auto &rule : want->rules) {
                    vtap_tc_rule_key k = TcTables::rule_key(rule.first);
                    const vtap_tc_rule &v = rule.second;
                    if (k.ifindex == f.first
                        && std::find(v.slots, v.slots + v.n_taps, e.second)
                           != v.slots + v.n_taps) {
                        return true;
                    }
                }
                /* Taps without a match have no rule: the hook lists them. */
                for (const auto &hook : want->hooks) {
                    const vtap_tc_hook &h = hook.second;
                    if (hook.first.ifindex == f.first
                        && std::find(h.all_slots, h.all_slots + h.n_all,
                                     e.second) != h.all_slots + h.n_all) {
                        return true;
                    }
                }
                return false;
            }, f.second);
        }

        if (failed.empty()) {
            for (uint32_t slot : fresh_slots) {
                std::string error = reset_slot(slot, want->taps[slot]);
                if (!error.empty()) {
                    refuse_if([slot](const std::pair<const uint64_t,
                                                     uint32_t> &e) {
                        return e.second == slot;
                    }, error);
                }
            }
        }

        if (refused.size() == n_refused) {
            std::string error;
            std::set<uint32_t> culprits;
            if (write_maps(*want, &error, &culprits)) {
                break;
            }
            refuse_if([&](const std::pair<const uint64_t, uint32_t> &e) {
                return culprits.count(e.second) > 0;
            }, error);
            if (refused.size() == n_refused) {
                break;          /* Cannot happen: culprits are in 'want'. */
            }
        }
    }

    /* Slots: keep the survivors', free the others' once the kernel no
     * longer has their entry (a slot whose entry could not be cleared is
     * not reused, or the stale entry would copy for its next owner). */
    for (const auto &entry : slots_) {
        if (!slots.count(entry.first)) {
            dirty_slots_.insert(entry.second);
        }
    }
    for (const auto &entry : applied_->taps) {
        /* Also a new slot that a tap refused in an earlier round got. */
        if (!want->taps.count(entry.first)) {
            dirty_slots_.insert(entry.first);
            free_slots_.erase(entry.first);
            next_slot_ = std::max(next_slot_, entry.first + 1);
        }
    }
    for (auto it = dirty_slots_.begin(); it != dirty_slots_.end();) {
        if (applied_->taps.count(*it) || want->taps.count(*it)) {
            ++it;
        } else {
            free_slots_.insert(*it);
            it = dirty_slots_.erase(it);
        }
    }
    for (const auto &entry : slots) {
        free_slots_.erase(entry.second);
        dirty_slots_.erase(entry.second);
        if (entry.second >= next_slot_) {
            next_slot_ = entry.second + 1;
        }
    }
    slots_ = slots;

    std::set<TcHook> points = want->attach_points();
    for (const TcHook &hook : attached()) {
        if (!points.count(hook)) {
            detach(hook);
        }
    }

    /* Mask ids stay taken while the kernel may still use them. */
    std::set<uint16_t> masks_in_use;
    for (const auto &entry : want->masks) {
        masks_in_use.insert(entry.first);
    }
    for (const auto &entry : applied_->rules) {
        masks_in_use.insert(TcTables::rule_key(entry.first).mask_id);
    }
    mask_ids_.retain_only(masks_in_use);

    for (size_t i = 0; i < taps.size(); i++) {
        auto r = refused.find(taps[i].owner);
        if (r != refused.end()) {
            reasons[i] = r->second;
        }
    }
    return reasons;
}

bool
EbpfBackend::slot_of(uint64_t owner, uint32_t *slot) const
{
    auto it = slots_.find(owner);

    if (it == slots_.end()) {
        return false;
    }
    *slot = it->second;
    return true;
}

bool
EbpfBackend::get_stats(uint64_t owner, vtap_tc_stats *stats) const
{
    auto it = slots_.find(owner);
    int ncpus = libbpf_num_possible_cpus();

    *stats = vtap_tc_stats{};
    if (it == slots_.end() || ncpus <= 0) {
        return false;
    }
    std::vector<vtap_tc_stats> per_cpu(ncpus);
    uint32_t slot = it->second;
    if (bpf_map__lookup_elem(skel_->maps.vtap_stats, &slot, sizeof slot,
                             per_cpu.data(),
                             per_cpu.size() * sizeof per_cpu[0], 0)) {
        return false;
    }
    for (const vtap_tc_stats &s : per_cpu) {
        stats->packets += s.packets;
        stats->bytes += s.bytes;
        stats->failed += s.failed;
        stats->sampled_out += s.sampled_out;
        stats->rate_limited += s.rate_limited;
    }
    return true;
}

}  // namespace vtap
