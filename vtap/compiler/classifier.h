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

#ifndef VTAP_COMPILER_CLASSIFIER_H
#define VTAP_COMPILER_CLASSIFIER_H 1

/* The classifier: a policy compiled for fast lookups.
 *
 * Design, after Open vSwitch's own classifier ("tuple space search"): every
 * (tap, port, direction) that a policy selects becomes an entry in a
 * subtable.  A subtable holds the entries of one port scope (one port, or
 * "any port" for select_all taps) and direction that share one mask; it is a
 * hash table from the masked key to the taps whose match has that masked
 * key.  A lookup visits only the subtables of its port and direction (plus
 * the any-port ones), and in each does one hash lookup.  Its cost thus grows
 * with the number of distinct masks on a port, not with the number of taps:
 * 10,000 taps that differ only in their addresses share one subtable.
 *
 * Unlike OVS's classifier there are no priorities: every matching tap gets a
 * copy, so every relevant subtable is always visited.
 *
 * What a lookup reports as examined becomes the mask of a datapath megaflow,
 * so the less it examines the more packets one megaflow covers.  Like OVS's
 * classifier, each subtable is therefore searched in stages (L2, then L3,
 * then L4: see Stage below): a packet that an earlier stage rules out, such
 * as a UDP packet against "tcp,tp_dst=80", never has its later fields
 * examined, so they stay wildcarded.
 *
 * A classifier is immutable once built, so lookups from many threads at once
 * need no locking. */

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "vtap/policy/types.h"
#include "vtap/policy/flow_key.h"
#include "vtap/policy/tap.h"

namespace vtap {

/* What one Classifier::lookup() did, for tests and benchmarks. */
struct LookupStats {
    size_t n_subtables_visited = 0;  /* Subtables looked into. */
    size_t n_subtables_matched = 0;  /* Those that found some taps. */
    size_t n_stage_misses = 0;       /* Those ruled out before the last
                                      * stage. */
    size_t n_probes = 0;             /* Hash lookups, all stages together. */
};

class Classifier {
public:
    /* Compiles the taps of 'policy', which must outlive only this call.
     * Throws std::bad_alloc if memory runs out. */
    explicit Classifier(const Policy &policy);

    /* The tap_info pointers handed out point into the classifier itself, so
     * it stays where it was built. */
    Classifier(const Classifier &) = delete;
    Classifier &operator=(const Classifier &) = delete;

    size_t n_taps() const { return taps_.size(); }

    /* Returns the n'th tap in ascending order of id; 'n' < n_taps(). */
    const vtap_tap_info &tap(size_t n) const { return taps_[n].info; }

    /* Return the tap with 'id' or 'name', or nullptr.  Disabled taps are
     * found too. */
    const vtap_tap_info *find_id(uint32_t id) const;
    const vtap_tap_info *find_name(std::string_view name) const;

    /* Finds the enabled taps that select a packet with flow 'key' crossing
     * 'port' in 'dir'.  Stores the first 'max_ids' of their ids, ascending
     * and without duplicates, in 'ids' and returns how many there are in
     * all.
     *
     * If 'wc' is nonnull, ORs into it every bit of 'key' that the lookup
     * examined, so that every packet that agrees with 'key' on those bits
     * gets the same answer.  That is, for each subtable visited, its mask
     * restricted to the stages up to the one that ruled the packet out, or
     * its whole mask if none did.  A port that no tap selects leaves 'wc'
     * untouched.  If 'stats' is nonnull, stores what the lookup did there.
     *
     * Never allocates memory, never throws, and is safe to call from many
     * threads at once. */
    size_t lookup(uint32_t port, vtap_direction dir,
                  const vtap_flow_key &key, vtap_flow_key *wc,
                  uint32_t *ids, size_t max_ids,
                  LookupStats *stats = nullptr) const noexcept;

    /* Returns true if some enabled tap could select packets crossing 'port'
     * in 'dir', that is, if lookup() would visit any subtable. */
    bool port_is_selected(uint32_t port, vtap_direction dir) const noexcept;

    /* Returns true if this classifier and 'other' hold the same taps, so
     * that they answer every lookup the same way. */
    bool same_taps(const Classifier &other) const;

    /* Introspection, for tests and for showing how a policy compiled. */

    /* Returns the number of subtables, all ports and directions together.
     * The any-port subtables, which serve both directions, count once. */
    size_t n_subtables() const;

    /* Returns the number of subtables that a lookup on 'port' in 'dir'
     * visits. */
    size_t n_subtables_for(uint32_t port, vtap_direction dir) const noexcept;

private:
    /* A tap as the classifier keeps it: the validated Tap owns the strings
     * and arrays that 'info' points to. */
    struct StoredTap {
        Tap tap;
        std::string match_string;
        vtap_tap_info info;
    };

    /* Hashes a flow key by its 64-bit words.  A table of keys masked with
     * one mask hashes only the words that the mask can make nonzero, since
     * the others are zero in every key there.  Like OVS's miniflows, that
     * makes hashing cost grow with the fields a mask has, so that hashing
     * for all the probes of a staged lookup costs about what hashing the
     * whole key once would. */
    struct FlowKeyHash {
        FlowKeyHash() : words(0xff) {}  /* All words. */
        explicit FlowKeyHash(const vtap_flow_key &mask);

        size_t operator()(const vtap_flow_key &) const noexcept;

        uint8_t words;          /* Hashes word 'i' if bit 'i' is set. */
    };
    struct FlowKeyEqual {
        bool operator()(const vtap_flow_key &,
                        const vtap_flow_key &) const noexcept;
    };

    using FlowKeySet = std::unordered_set<vtap_flow_key, FlowKeyHash,
                                          FlowKeyEqual>;

    /* The flow key splits into stages, in this order: L2 (eth_src through
     * eth_type), L3 (ip_proto through ipv6_dst) and L4 (tp_src, tp_dst).
     * A stage check of a subtable asks whether any of its entries agrees
     * with the packet on the subtable's mask restricted to the stages up to
     * and including one stage.  If none does, no entry can match, and that
     * restricted mask is all the answer depended on. */
    static constexpr size_t kNStages = 3;

    struct Stage {
        /* The subtable's mask with the bits of later stages zeroed. */
        vtap_flow_key mask;

        /* Every entry's key, masked with 'mask'. */
        FlowKeySet keys;
    };

    /* The entries of one port scope and direction that share one mask.
     * Maps a masked key to the indexes in 'taps_' of the taps whose match
     * has that key, in ascending order (thus ascending by id, too). */
    struct Subtable {
        explicit Subtable(const vtap_flow_key &mask);

        vtap_flow_key mask;
        std::unordered_map<vtap_flow_key, std::vector<uint32_t>, FlowKeyHash,
                           FlowKeyEqual> taps_by_key;

        /* The checks that find_staged() makes before its full lookup, in
         * stage order: one for each stage whose part of 'mask' is nonzero,
         * except the last such stage, for which the full lookup itself is
         * the check.  A stage without bits in 'mask' would only repeat the
         * check of the stage before it, so it gets none. */
        Stage stages[kNStages - 1];
        size_t n_stages = 0;

        /* Returns the taps whose match 'key' satisfies, or nullptr. */
        const std::vector<uint32_t> *find(const vtap_flow_key &key) const
            noexcept;

        /* Like find(), but ruling 'key' out stage by stage.  Stores in
         * '*examined' the mask of the bits of 'key' that the answer depends
         * on, and adds to '*st' what it did. */
        const std::vector<uint32_t> *find_staged(
            const vtap_flow_key &key, const vtap_flow_key **examined,
            LookupStats *st) const noexcept;

        /* Fills in 'stages' and 'n_stages' from 'mask' and 'taps_by_key',
         * once all the entries are in. */
        void build_stages();
    };
    using SubtableList = std::vector<Subtable>;

    class Builder;

    /* Stores in 'lists' the subtable lists that a lookup on 'port' in 'dir'
     * visits and returns how many there are (0, 1 or 2). */
    size_t relevant_subtables(uint32_t port, vtap_direction dir,
                              const SubtableList *lists[2]) const noexcept;
    bool select_all_applies(uint32_t port) const noexcept;
    void emit(uint32_t tap_index, uint32_t port, uint32_t *ids,
              size_t max_ids, size_t *count) const noexcept;
    size_t collect_by_probing(const SubtableList *const lists[],
                              size_t n_lists, uint32_t port,
                              const vtap_flow_key &key, uint32_t *ids,
                              size_t max_ids) const noexcept;

    /* All taps, enabled or not, ascending by id.  Never resized after
     * construction, so that pointers into it stay valid. */
    std::vector<StoredTap> taps_;
    std::unordered_map<uint32_t, uint32_t> index_by_id_;
    std::unordered_map<std::string_view, uint32_t> index_by_name_;

    /* Subtables of enabled taps that select specific ports, indexed by
     * direction (ingress, egress), then port. */
    std::unordered_map<uint32_t, SubtableList> port_subtables_[2];

    /* Subtables of enabled select_all taps, for every port in both
     * directions. */
    SubtableList any_port_subtables_;

    /* Number of enabled select_all taps, and for each port the number of
     * those that output to it (and so never select it).  When the two are
     * equal the any-port subtables are irrelevant to that port. */
    size_t n_select_all_ = 0;
    std::unordered_map<uint32_t, size_t> n_select_all_outputs_;
};

}  // namespace vtap

#endif /* vtap/compiler/classifier.h */
