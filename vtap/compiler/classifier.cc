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

#include "vtap/compiler/classifier.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "vtap/policy/match.h"

namespace vtap {

namespace {

/* Index of 'dir' into per-direction arrays, or -1 if it is not a
 * direction. */
int
direction_index(vtap_direction dir)
{
    return (dir == VTAP_DIR_INGRESS ? 0
            : dir == VTAP_DIR_EGRESS ? 1
            : -1);
}

/* The final mixing step of SplitMix64: every input bit affects every output
 * bit, which the hash of a masked key needs because masking zeroes most of
 * its bits. */
uint64_t
mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* The taps that one visited subtable matched, being merged with those of
 * the other visited subtables. */
struct Hit {
    const uint32_t *next;
    const uint32_t *end;
};

/* How many subtables may match in one lookup before lookup() falls back to a
 * slower method that needs no memory.  More than a handful of distinct masks
 * matching one packet on one port is already unusual. */
constexpr size_t kMaxInlineHits = 32;

/* The stages of the flow key (see Classifier::Stage) as byte ranges: stage
 * 's' ends just before byte kStageEnds[s] and begins where stage 's - 1'
 * ends.  A mask restricted to stages 0..s is then simply its first
 * kStageEnds[s] bytes.  'pad', in L3, is zero in every mask. */
constexpr size_t kStageEnds[] = {
    offsetof(vtap_flow_key, ip_proto),      /* L2. */
    offsetof(vtap_flow_key, tp_src),        /* L3. */
    sizeof(vtap_flow_key),                  /* L4. */
};

/* The byte ranges hold what the stages are meant to hold only as long as
 * the fields keep their order, so check it. */
static_assert(offsetof(vtap_flow_key, eth_src) == 0
              && offsetof(vtap_flow_key, eth_dst)
                 < offsetof(vtap_flow_key, vlan_tci)
              && offsetof(vtap_flow_key, vlan_tci)
                 < offsetof(vtap_flow_key, eth_type)
              && offsetof(vtap_flow_key, eth_type) + 2
                 == offsetof(vtap_flow_key, ip_proto),
              "L2 fields must come first, ending just before ip_proto");
static_assert(offsetof(vtap_flow_key, ip_proto)
              < offsetof(vtap_flow_key, ipv4_src)
              && offsetof(vtap_flow_key, ipv4_src)
                 < offsetof(vtap_flow_key, ipv4_dst)
              && offsetof(vtap_flow_key, ipv4_dst)
                 < offsetof(vtap_flow_key, ipv6_src)
              && offsetof(vtap_flow_key, ipv6_src)
                 < offsetof(vtap_flow_key, ipv6_dst)
              && offsetof(vtap_flow_key, ipv6_dst) + 16
                 == offsetof(vtap_flow_key, tp_src),
              "L3 fields must come next, ending just before tp_src");
static_assert(offsetof(vtap_flow_key, tp_src)
              < offsetof(vtap_flow_key, tp_dst)
              && offsetof(vtap_flow_key, tp_dst) + 2
                 == sizeof(vtap_flow_key),
              "L4 fields must come last");

/* Returns 'mask' with every bit at or after byte 'end' zeroed. */
vtap_flow_key
mask_prefix(const vtap_flow_key &mask, size_t end)
{
    vtap_flow_key prefix = mask;
    uint8_t *bytes = reinterpret_cast<uint8_t *>(&prefix);
    memset(bytes + end, 0, sizeof prefix - end);
    return prefix;
}

/* Returns true if 'mask' has a 1-bit in stage 's'. */
bool
stage_is_nonempty(const vtap_flow_key &mask, size_t s)
{
    const uint8_t *bytes = reinterpret_cast<const uint8_t *>(&mask);
    size_t start = s ? kStageEnds[s - 1] : 0;
    for (size_t i = start; i < kStageEnds[s]; i++) {
        if (bytes[i]) {
            return true;
        }
    }
    return false;
}

}  // namespace

static_assert(sizeof(vtap_flow_key) == 8 * sizeof(uint64_t),
              "FlowKeyHash's word map needs a bit per 64-bit word");

Classifier::FlowKeyHash::FlowKeyHash(const vtap_flow_key &mask)
    : words(0)
{
    uint64_t mask_words[sizeof mask / sizeof(uint64_t)];
    memcpy(mask_words, &mask, sizeof mask_words);
    for (size_t i = 0; i < sizeof mask / sizeof(uint64_t); i++) {
        if (mask_words[i]) {
            words |= 1u << i;
        }
    }
}

size_t
Classifier::FlowKeyHash::operator()(const vtap_flow_key &key) const noexcept
{
    uint64_t key_words[sizeof key / sizeof(uint64_t)];
    memcpy(key_words, &key, sizeof key_words);

    uint64_t hash = 0;
    for (size_t i = 0; i < sizeof key / sizeof(uint64_t); i++) {
        if (words & (1u << i)) {
            hash = mix64(hash ^ key_words[i]) + 0x9e3779b97f4a7c15ULL;
        }
    }
    return hash;
}

bool
Classifier::FlowKeyEqual::operator()(const vtap_flow_key &a,
                                     const vtap_flow_key &b) const noexcept
{
    return flow_key_equal(a, b);
}

Classifier::Subtable::Subtable(const vtap_flow_key &mask_)
    : mask(mask_), taps_by_key(0, FlowKeyHash(mask_))
{
}

const std::vector<uint32_t> *
Classifier::Subtable::find(const vtap_flow_key &key) const noexcept
{
    auto it = taps_by_key.find(flow_key_and(key, mask));
    return it == taps_by_key.end() ? nullptr : &it->second;
}

const std::vector<uint32_t> *
Classifier::Subtable::find_staged(const vtap_flow_key &key,
                                  const vtap_flow_key **examined,
                                  LookupStats *st) const noexcept
{
    for (size_t i = 0; i < n_stages; i++) {
        const Stage &stage = stages[i];
        st->n_probes++;
        if (!stage.keys.count(flow_key_and(key, stage.mask))) {
            /* No entry agrees with 'key' on these bits, so neither does
             * any entry with every packet that agrees with 'key' on them:
             * the later stages are irrelevant. */
            st->n_stage_misses++;
            *examined = &stage.mask;
            return nullptr;
        }
    }
    st->n_probes++;
    *examined = &mask;
    return find(key);
}

void
Classifier::Subtable::build_stages()
{
    static_assert(sizeof kStageEnds / sizeof kStageEnds[0] == kNStages,
                  "kStageEnds must have an entry per stage");

    size_t n_nonempty = 0;
    size_t nonempty[kNStages];
    for (size_t s = 0; s < kNStages; s++) {
        if (stage_is_nonempty(mask, s)) {
            nonempty[n_nonempty++] = s;
        }
    }

    /* Up to, not including, the last nonempty stage: its cumulative mask is
     * 'mask' itself, which the full lookup checks anyway. */
    n_stages = 0;
    for (size_t i = 0; i + 1 < n_nonempty; i++) {
        Stage &stage = stages[n_stages++];
        stage.mask = mask_prefix(mask, kStageEnds[nonempty[i]]);
        stage.keys = FlowKeySet(taps_by_key.size(), FlowKeyHash(stage.mask));
        for (const auto &key_and_taps : taps_by_key) {
            stage.keys.insert(flow_key_and(key_and_taps.first, stage.mask));
        }
    }
}

/* Puts entries into subtables, finding each entry's subtable through a
 * temporary index by mask: a search through the list would make compiling
 * 10,000 taps with distinct masks quadratic. */
class Classifier::Builder {
public:
    /* Adds the tap with index 'tap_index' and 'match' to 'list'.  Taps must
     * be added in ascending order of index. */
    void add(SubtableList *list, uint32_t tap_index, const vtap_match &match)
    {
        auto &by_mask = subtable_index_[list];
        auto inserted = by_mask.emplace(match.mask, list->size());
        if (inserted.second) {
            list->emplace_back(match.mask);
        }
        Subtable &subtable = (*list)[inserted.first->second];
        subtable.taps_by_key[match.key].push_back(tap_index);
    }

    /* Builds the stages of every subtable, once all taps are added. */
    void finish()
    {
        for (auto &list_and_index : subtable_index_) {
            for (Subtable &subtable : *list_and_index.first) {
                subtable.build_stages();
            }
        }
    }

private:
    std::unordered_map<SubtableList *,
                       std::unordered_map<vtap_flow_key, size_t, FlowKeyHash,
                                          FlowKeyEqual>> subtable_index_;
};

Classifier::Classifier(const Policy &policy)
{
    taps_.reserve(policy.n_taps());
    for (const Tap &tap : policy.taps()) {
        taps_.push_back(StoredTap{tap, format_match(tap.selection.match),
                                  vtap_tap_info{}});
    }
    std::sort(taps_.begin(), taps_.end(),
              [](const StoredTap &a, const StoredTap &b) {
                  return a.tap.id < b.tap.id;
              });

    /* Only now that 'taps_' is final can its members be pointed to. */
    Builder builder;
    for (uint32_t i = 0; i < taps_.size(); i++) {
        StoredTap &stored = taps_[i];
        const Tap &tap = stored.tap;
        const Selection &sel = tap.selection;
        const Delivery &delivery = tap.delivery;

        vtap_tap_info &info = stored.info;
        info.name = tap.name.c_str();
        info.id = tap.id;
        info.owner = tap.owner;
        info.enabled = tap.enabled;
        info.select_all = sel.select_all;
        info.src_ports = sel.src_ports.data();
        info.n_src_ports = sel.src_ports.size();
        info.dst_ports = sel.dst_ports.data();
        info.n_dst_ports = sel.dst_ports.size();
        info.match = sel.match;
        info.match_string = stored.match_string.c_str();
        info.output_ports = delivery.output_ports.data();
        info.n_output_ports = delivery.output_ports.size();
        info.output_vlan = delivery.output_vlan;
        info.snaplen = delivery.snaplen;
        info.sampling = delivery.sampling;
        info.max_rate = delivery.max_rate;
        info.offload = delivery.offload;
        info.copy_path = delivery.copy_path;

        index_by_id_.emplace(tap.id, i);
        index_by_name_.emplace(tap.name, i);

        if (!tap.enabled) {
            continue;
        }
        if (sel.select_all) {
            builder.add(&any_port_subtables_, i, sel.match);
            n_select_all_++;
            for (uint32_t port : delivery.output_ports) {
                n_select_all_outputs_[port]++;
            }
        }
        for (uint32_t port : sel.src_ports) {
            builder.add(&port_subtables_[0][port], i, sel.match);
        }
        for (uint32_t port : sel.dst_ports) {
            builder.add(&port_subtables_[1][port], i, sel.match);
        }
    }
    builder.finish();
}

bool
Classifier::same_taps(const Classifier &other) const
{
    return std::equal(taps_.begin(), taps_.end(),
                      other.taps_.begin(), other.taps_.end(),
                      [](const StoredTap &a, const StoredTap &b) {
                          return a.tap == b.tap;
                      });
}

const vtap_tap_info *
Classifier::find_id(uint32_t id) const
{
    auto it = index_by_id_.find(id);
    return it == index_by_id_.end() ? nullptr : &taps_[it->second].info;
}

const vtap_tap_info *
Classifier::find_name(std::string_view name) const
{
    auto it = index_by_name_.find(name);
    return it == index_by_name_.end() ? nullptr : &taps_[it->second].info;
}

bool
Classifier::select_all_applies(uint32_t port) const noexcept
{
    if (!n_select_all_) {
        return false;
    }
    auto it = n_select_all_outputs_.find(port);
    return it == n_select_all_outputs_.end() || it->second < n_select_all_;
}

size_t
Classifier::relevant_subtables(uint32_t port, vtap_direction dir,
                               const SubtableList *lists[2]) const noexcept
{
    int d = direction_index(dir);
    if (d < 0) {
        return 0;
    }

    size_t n = 0;
    auto it = port_subtables_[d].find(port);
    if (it != port_subtables_[d].end()) {
        lists[n++] = &it->second;
    }
    if (select_all_applies(port)) {
        lists[n++] = &any_port_subtables_;
    }
    return n;
}

/* Reports tap 'tap_index' as a match, unless it outputs to 'port': a tap
 * must never copy its own copies.  Only select_all taps can get here with
 * such a port, since validation keeps taps from selecting their output
 * ports explicitly. */
void
Classifier::emit(uint32_t tap_index, uint32_t port, uint32_t *ids,
                 size_t max_ids, size_t *count) const noexcept
{
    const std::vector<uint32_t> &outputs
        = taps_[tap_index].tap.delivery.output_ports;
    if (std::binary_search(outputs.begin(), outputs.end(), port)) {
        return;
    }
    if (*count < max_ids) {
        ids[*count] = taps_[tap_index].info.id;
    }
    ++*count;
}

size_t
Classifier::lookup(uint32_t port, vtap_direction dir,
                   const vtap_flow_key &key, vtap_flow_key *wc,
                   uint32_t *ids, size_t max_ids,
                   LookupStats *stats) const noexcept
{
    LookupStats local_stats;
    LookupStats &st = stats ? *stats : local_stats;
    st = LookupStats();

    const SubtableList *lists[2];
    size_t n_lists = relevant_subtables(port, dir, lists);

    Hit hits[kMaxInlineHits];
    size_t n_hits = 0;
    bool too_many_hits = false;
    for (size_t i = 0; i < n_lists; i++) {
        for (const Subtable &subtable : *lists[i]) {
            st.n_subtables_visited++;
            const vtap_flow_key *examined;
            const std::vector<uint32_t> *taps
                = subtable.find_staged(key, &examined, &st);
            if (wc) {
                flow_key_or_into(wc, *examined);
            }
            if (taps) {
                st.n_subtables_matched++;
                if (n_hits < kMaxInlineHits) {
                    hits[n_hits++] = {taps->data(),
                                      taps->data() + taps->size()};
                } else {
                    too_many_hits = true;
                }
            }
        }
    }
    if (too_many_hits) {
        return collect_by_probing(lists, n_lists, port, key, ids, max_ids);
    }

    /* Merge the ascending lists of the hits, dropping duplicates (a tap
     * that selects a port both explicitly and through select_all is in two
     * subtables).  Quadratic in the number of hits, which is small. */
    size_t count = 0;
    for (;;) {
        bool found = false;
        uint32_t smallest = 0;
        for (size_t i = 0; i < n_hits; i++) {
            if (hits[i].next != hits[i].end
                && (!found || *hits[i].next < smallest)) {
                smallest = *hits[i].next;
                found = true;
            }
        }
        if (!found) {
            break;
        }
        for (size_t i = 0; i < n_hits; i++) {
            if (hits[i].next != hits[i].end && *hits[i].next == smallest) {
                hits[i].next++;
            }
        }
        emit(smallest, port, ids, max_ids, &count);
    }
    return count;
}

/* Like the merge in lookup(), for when more subtables matched than lookup()
 * can remember without allocating memory: finds each next tap by probing
 * all the subtables again.  Slow, but correct and allocation-free. */
size_t
Classifier::collect_by_probing(const SubtableList *const lists[],
                               size_t n_lists, uint32_t port,
                               const vtap_flow_key &key, uint32_t *ids,
                               size_t max_ids) const noexcept
{
    size_t count = 0;
    bool have_last = false;
    uint32_t last = 0;
    for (;;) {
        bool found = false;
        uint32_t smallest = 0;
        for (size_t i = 0; i < n_lists; i++) {
            for (const Subtable &subtable : *lists[i]) {
                const std::vector<uint32_t> *taps = subtable.find(key);
                if (!taps) {
                    continue;
                }
                auto next = (have_last
                             ? std::upper_bound(taps->begin(), taps->end(),
                                                last)
                             : taps->begin());
                if (next != taps->end() && (!found || *next < smallest)) {
                    smallest = *next;
                    found = true;
                }
            }
        }
        if (!found) {
            return count;
        }
        emit(smallest, port, ids, max_ids, &count);
        last = smallest;
        have_last = true;
    }
}

bool
Classifier::port_is_selected(uint32_t port, vtap_direction dir) const
    noexcept
{
    const SubtableList *lists[2];
    return relevant_subtables(port, dir, lists) > 0;
}

size_t
Classifier::n_subtables() const
{
    size_t n = any_port_subtables_.size();
    for (const auto &by_port : port_subtables_) {
        for (const auto &port_and_list : by_port) {
            n += port_and_list.second.size();
        }
    }
    return n;
}

size_t
Classifier::n_subtables_for(uint32_t port, vtap_direction dir) const noexcept
{
    const SubtableList *lists[2];
    size_t n_lists = relevant_subtables(port, dir, lists);
    size_t n = 0;
    for (size_t i = 0; i < n_lists; i++) {
        n += lists[i]->size();
    }
    return n;
}

}  // namespace vtap
