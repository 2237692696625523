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

/* libFuzzer target: loading a policy and classifying packets with it,
 * through the C ABI that OVS uses.
 *
 * The input is text, one tap configuration per line, so that seeds are
 * readable and libFuzzer's mutations stay meaningful.  A line is a list of
 * KEY=VALUE separated by ';' (unknown keys are ignored):
 *
 *     n  name (default "tN" for line N)    i  id (default N + 1)
 *     e  enabled (default 1)               a  select_all (default 0)
 *     s  select_src_port list, e.g. 1,2    d  select_dst_port list
 *     o  output_port list                  m  match (default: no match)
 *     v  output_vlan   l  snaplen   p  sampling   r  max_rate
 *     f  offload, as the raw enum value (default 0, "auto")
 *     x  bits that replace pointers by NULL, keeping the counts:
 *        1 name, 2 src ports, 4 dst ports, 8 output ports, 16 match
 *
 * Numbers are C integers (strtoull base 0) truncated to the field's width,
 * so out-of-range values reach the validation as they would from C.
 *
 * Every line goes to vtap_policy_add_tap(), which must accept it exactly
 * when an independent model of the rules in vtap.h says it is valid; then
 * the policy is compiled and looked up with keys made from the taps' own
 * matches (so that lookups hit) and random ones, on the ports the taps
 * name and others, in both directions and invalid ones.  Each lookup is
 * checked against a brute-force model (every enabled tap that selects the
 * port and direction, does not output there, and whose match the key
 * satisfies; ids ascending), and for the megaflow property: changing the
 * key only in bits that the returned wildcard mask leaves out must not
 * change the answer. */

#include "vtap/capi/vtap.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "vtap/fuzz/fuzz_util.h"

namespace {

/* At most this many taps per input: enough for overlapping subtables and
 * select_all interplay, small enough to keep each run fast. */
constexpr size_t kMaxTaps = 16;
constexpr size_t kMaxPorts = 8;

/* One line of the input, decoded, owning what the config points to. */
struct TapLine {
    std::string name;
    std::string match;
    bool has_match = false;
    std::vector<uint32_t> src, dst, out;
    unsigned int nulls = 0;
    vtap_tap_config cfg;
};

uint64_t
parse_u64(std::string_view text)
{
    std::string s(text);
    return strtoull(s.c_str(), NULL, 0);
}

std::vector<uint32_t>
parse_ports(std::string_view text)
{
    std::vector<uint32_t> ports;
    while (!text.empty() && ports.size() < kMaxPorts) {
        size_t comma = text.find(',');
        ports.push_back(static_cast<uint32_t>(parse_u64(text.substr(0,
                                                                    comma))));
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return ports;
}

void
parse_line(std::string_view line, size_t index, TapLine *t)
{
    t->name = "t" + std::to_string(index);
    memset(&t->cfg, 0, sizeof t->cfg);
    t->cfg.id = static_cast<uint32_t>(index + 1);
    t->cfg.enabled = true;
    t->cfg.offload = VTAP_OFFLOAD_AUTO;
    int offload = VTAP_OFFLOAD_AUTO;

    while (!line.empty()) {
        size_t semi = line.find(';');
        std::string_view item = line.substr(0, semi);
        line.remove_prefix(semi == std::string_view::npos
                           ? line.size() : semi + 1);
        if (item.size() < 2 || item[1] != '=') {
            continue;
        }
        std::string_view value = item.substr(2);
        switch (item[0]) {
        case 'n': t->name = std::string(value.substr(0, value.find('\0')));
            break;
        case 'i': t->cfg.id = static_cast<uint32_t>(parse_u64(value)); break;
        case 'e': t->cfg.enabled = parse_u64(value) != 0; break;
        case 'a': t->cfg.select_all = parse_u64(value) != 0; break;
        case 's': t->src = parse_ports(value); break;
        case 'd': t->dst = parse_ports(value); break;
        case 'o': t->out = parse_ports(value); break;
        case 'm':
            t->match = std::string(value.substr(0, value.find('\0')));
            t->has_match = true;
            break;
        case 'v':
            t->cfg.output_vlan = static_cast<uint16_t>(parse_u64(value));
            break;
        case 'l':
            t->cfg.snaplen = static_cast<uint32_t>(parse_u64(value));
            break;
        case 'p':
            t->cfg.sampling = static_cast<uint32_t>(parse_u64(value));
            break;
        case 'r':
            t->cfg.max_rate = static_cast<uint32_t>(parse_u64(value));
            break;
        case 'f': offload = static_cast<int>(parse_u64(value)); break;
        case 'x': t->nulls = static_cast<unsigned int>(parse_u64(value));
            break;
        }
    }
    /* C may store any int in an enum; the module must cope. */
    memcpy(&t->cfg.offload, &offload, sizeof offload);

    t->cfg.name = t->nulls & 1 ? NULL : t->name.c_str();
    t->cfg.src_ports = t->nulls & 2 ? NULL : t->src.data();
    t->cfg.n_src_ports = t->src.size();
    t->cfg.dst_ports = t->nulls & 4 ? NULL : t->dst.data();
    t->cfg.n_dst_ports = t->dst.size();
    t->cfg.output_ports = t->nulls & 8 ? NULL : t->out.data();
    t->cfg.n_output_ports = t->out.size();
    t->cfg.match = (t->nulls & 16 || !t->has_match
                    ? NULL : t->match.c_str());
}

bool
contains(const std::vector<uint32_t> &v, uint32_t x)
{
    return std::find(v.begin(), v.end(), x) != v.end();
}

bool
contains(const uint32_t *v, size_t n, uint32_t x)
{
    return std::find(v, v + n, x) != v + n;
}

/* The model of validation: what vtap.h promises about a good tap,
 * written independently of vtap/policy/tap.cc. */
bool
model_accepts(const TapLine &t, const std::vector<const TapLine *> &accepted)
{
    const vtap_tap_config &c = t.cfg;
    if (!c.name || !c.name[0] || c.id < VTAP_ID_MIN) {
        return false;
    }
    if ((!c.src_ports && c.n_src_ports) || (!c.dst_ports && c.n_dst_ports)
        || (!c.output_ports && c.n_output_ports) || !c.n_output_ports) {
        return false;
    }
    for (const std::vector<uint32_t> *ports : {&t.src, &t.dst, &t.out}) {
        if (contains(*ports, VTAP_PORT_NONE)) {
            return false;
        }
    }
    for (uint32_t port : t.out) {
        if (contains(t.src, port) || contains(t.dst, port)) {
            return false;
        }
    }
    if (c.output_vlan > VTAP_VLAN_MAX) {
        return false;
    }
    if (c.snaplen && (c.snaplen < VTAP_SNAPLEN_MIN
                      || c.snaplen > VTAP_SNAPLEN_MAX)) {
        return false;
    }
    int offload;
    memcpy(&offload, &c.offload, sizeof offload);
    if (offload < VTAP_OFFLOAD_AUTO || offload > VTAP_OFFLOAD_DPDK) {
        return false;
    }
    if (c.match) {
        vtap_match m;
        char *error = vtap_match_parse(c.match, &m);
        free(error);
        if (error) {
            return false;
        }
    }
    for (const TapLine *other : accepted) {
        if (other->cfg.id == c.id || other->name == c.name) {
            return false;
        }
    }
    return true;
}

/* SplitMix64, seeded from the input: lookups depend on the input only. */
struct Rng {
    uint64_t state;

    uint64_t next()
    {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    size_t below(size_t n) { return n ? next() % n : 0; }
};

void
random_bytes(Rng *rng, void *p, size_t n)
{
    uint8_t *bytes = static_cast<uint8_t *>(p);
    for (size_t i = 0; i < n; i++) {
        bytes[i] = static_cast<uint8_t>(rng->next());
    }
}

bool
key_matches(const vtap_match &m, const vtap_flow_key &key)
{
    const uint8_t *k = reinterpret_cast<const uint8_t *>(&key);
    const uint8_t *mk = reinterpret_cast<const uint8_t *>(&m.key);
    const uint8_t *mm = reinterpret_cast<const uint8_t *>(&m.mask);
    for (size_t i = 0; i < sizeof key; i++) {
        if ((k[i] & mm[i]) != mk[i]) {
            return false;
        }
    }
    return true;
}

bool
tap_selects(const vtap_tap_info &t, uint32_t port, int dir)
{
    if (!t.enabled || contains(t.output_ports, t.n_output_ports, port)) {
        return false;
    }
    return (t.select_all
            || (dir == VTAP_DIR_INGRESS
                && contains(t.src_ports, t.n_src_ports, port))
            || (dir == VTAP_DIR_EGRESS
                && contains(t.dst_ports, t.n_dst_ports, port)));
}

std::vector<uint32_t>
model_lookup(const vtap_classifier *cls, uint32_t port, int dir,
             const vtap_flow_key &key)
{
    std::vector<uint32_t> ids;
    if (dir != VTAP_DIR_INGRESS && dir != VTAP_DIR_EGRESS) {
        return ids;
    }
    for (size_t i = 0; i < vtap_classifier_n_taps(cls); i++) {
        const vtap_tap_info &t = *vtap_classifier_tap(cls, i);
        if (tap_selects(t, port, dir) && key_matches(t.match, key)) {
            ids.push_back(t.id);
        }
    }
    return ids;
}

bool
model_port_is_selected(const vtap_classifier *cls, uint32_t port, int dir)
{
    if (dir != VTAP_DIR_INGRESS && dir != VTAP_DIR_EGRESS) {
        return false;
    }
    for (size_t i = 0; i < vtap_classifier_n_taps(cls); i++) {
        if (tap_selects(*vtap_classifier_tap(cls, i), port, dir)) {
            return true;
        }
    }
    return false;
}

std::vector<uint32_t>
do_lookup(const vtap_classifier *cls, uint32_t port, int dir,
          const vtap_flow_key &key, vtap_flow_key *wc)
{
    uint32_t ids[kMaxTaps + 1];
    vtap_direction d = static_cast<vtap_direction>(dir);
    size_t n = vtap_classifier_lookup(cls, port, d, &key, wc, ids,
                                      kMaxTaps + 1);
    FUZZ_CHECK(n <= kMaxTaps, "lookup returned %zu taps", n);
    return std::vector<uint32_t>(ids, ids + n);
}

std::string
ids_string(const std::vector<uint32_t> &ids)
{
    std::string s;
    for (uint32_t id : ids) {
        s += (s.empty() ? "" : ",") + std::to_string(id);
    }
    return "[" + s + "]";
}

void
check_lookup(const vtap_classifier *cls, Rng *rng, uint32_t port, int dir,
             const vtap_flow_key &key)
{
    vtap_flow_key wc;
    memset(&wc, 0, sizeof wc);
    std::vector<uint32_t> ids = do_lookup(cls, port, dir, key, &wc);
    std::vector<uint32_t> expected = model_lookup(cls, port, dir, key);
    FUZZ_CHECK(ids == expected, "port %u dir %d: lookup gave %s, model %s",
               port, dir, ids_string(ids).c_str(),
               ids_string(expected).c_str());

    vtap_direction d = static_cast<vtap_direction>(dir);
    bool selected = vtap_classifier_port_is_selected(cls, port, d);
    FUZZ_CHECK(selected == model_port_is_selected(cls, port, dir),
               "port %u dir %d: port_is_selected says %d", port, dir,
               selected);
    static const vtap_flow_key zero_key{};
    if (!selected) {
        FUZZ_CHECK(!memcmp(&wc, &zero_key, sizeof wc),
                   "port %u dir %d: not selected, yet wildcards touched",
                   port, dir);
    }

    /* Truncation: the count stays, the ids are a prefix. */
    if (!ids.empty()) {
        uint32_t few[4];
        size_t max_ids = rng->below(4);
        size_t n = vtap_classifier_lookup(cls, port, d, &key, NULL, few,
                                          max_ids);
        FUZZ_CHECK(n == ids.size(), "max_ids %zu changed the count",
                   max_ids);
        for (size_t i = 0; i < std::min(n, max_ids); i++) {
            FUZZ_CHECK(few[i] == ids[i], "max_ids %zu changed id %zu",
                       max_ids, i);
        }
    }

    /* The megaflow property. */
    for (int i = 0; i < 2; i++) {
        vtap_flow_key noise, other;
        random_bytes(rng, &noise, sizeof noise);
        const uint8_t *k = reinterpret_cast<const uint8_t *>(&key);
        const uint8_t *w = reinterpret_cast<const uint8_t *>(&wc);
        const uint8_t *z = reinterpret_cast<const uint8_t *>(&noise);
        uint8_t *o = reinterpret_cast<uint8_t *>(&other);
        for (size_t j = 0; j < sizeof other; j++) {
            o[j] = static_cast<uint8_t>(k[j] ^ (z[j] & ~w[j]));
        }
        std::vector<uint32_t> other_ids = do_lookup(cls, port, dir, other,
                                                    NULL);
        FUZZ_CHECK(other_ids == ids,
                   "port %u dir %d: megaflow broken: %s, but %s for a key "
                   "that differs only in wildcarded bits", port, dir,
                   ids_string(ids).c_str(), ids_string(other_ids).c_str());
    }
}

/* A key that tap 't' may match: its match's key with the wildcarded bits
 * random (or, sometimes, exactly the match's key). */
vtap_flow_key
key_for(const vtap_tap_info &t, Rng *rng)
{
    vtap_flow_key key;
    random_bytes(rng, &key, sizeof key);
    const uint8_t *mk = reinterpret_cast<const uint8_t *>(&t.match.key);
    const uint8_t *mm = reinterpret_cast<const uint8_t *>(&t.match.mask);
    uint8_t *k = reinterpret_cast<uint8_t *>(&key);
    bool exact = rng->below(4) == 0;
    for (size_t i = 0; i < sizeof key; i++) {
        k[i] = static_cast<uint8_t>(mk[i] | (exact ? 0 : k[i] & ~mm[i]));
    }
    return key;
}

uint32_t
pick_port(const uint32_t *ports, size_t n, Rng *rng)
{
    return n ? ports[rng->below(n)] : static_cast<uint32_t>(rng->below(8));
}

void
check_classifier(const vtap_classifier *cls,
                 const std::vector<const TapLine *> &accepted, Rng *rng)
{
    size_t n_taps = vtap_classifier_n_taps(cls);
    FUZZ_CHECK(n_taps == accepted.size(), "compiled %zu taps of %zu",
               n_taps, accepted.size());

    std::vector<uint32_t> ports{0, 1, VTAP_PORT_NONE};
    for (size_t i = 0; i < n_taps; i++) {
        const vtap_tap_info *t = vtap_classifier_tap(cls, i);
        FUZZ_CHECK(t, "tap %zu is NULL", i);
        if (i) {
            FUZZ_CHECK(vtap_classifier_tap(cls, i - 1)->id < t->id,
                       "taps not in ascending order of id at %zu", i);
        }
        FUZZ_CHECK(vtap_classifier_find_id(cls, t->id) == t,
                   "find_id(%u) is not tap %zu", t->id, i);
        FUZZ_CHECK(vtap_classifier_find_name(cls, t->name) == t,
                   "find_name(%s) is not tap %zu", t->name, i);

        const TapLine *line = nullptr;
        for (const TapLine *a : accepted) {
            if (a->cfg.id == t->id) {
                line = a;
            }
        }
        FUZZ_CHECK(line && line->name == t->name
                   && line->cfg.enabled == t->enabled
                   && line->cfg.select_all == t->select_all
                   && line->cfg.output_vlan == t->output_vlan
                   && line->cfg.snaplen == t->snaplen
                   && line->cfg.sampling == t->sampling
                   && line->cfg.max_rate == t->max_rate,
                   "tap %u does not reflect its configuration", t->id);
        for (const auto &[given, got, n] :
             {std::make_tuple(&line->src, t->src_ports, t->n_src_ports),
              std::make_tuple(&line->dst, t->dst_ports, t->n_dst_ports),
              std::make_tuple(&line->out, t->output_ports,
                              t->n_output_ports)}) {
            std::vector<uint32_t> canonical(*given);
            std::sort(canonical.begin(), canonical.end());
            canonical.erase(std::unique(canonical.begin(), canonical.end()),
                            canonical.end());
            FUZZ_CHECK(canonical == std::vector<uint32_t>(got, got + n),
                       "tap %u: ports not sorted and unique", t->id);
            ports.insert(ports.end(), got, got + n);
        }

    }
    FUZZ_CHECK(!vtap_classifier_tap(cls, n_taps), "tap past the end");

    static const int dirs[] = {VTAP_DIR_INGRESS, VTAP_DIR_EGRESS};
    /* Keys that some taps may match, where they select, where they output,
     * and anywhere.  A few lookups per input, on taps drawn at random:
     * libFuzzer gets through more inputs that way than with every tap
     * checked in every input. */
    for (size_t k = 0; n_taps && k < 6; k++) {
        const vtap_tap_info &t = *vtap_classifier_tap(cls,
                                                      rng->below(n_taps));
        vtap_flow_key key = key_for(t, rng);
        if (t.n_src_ports && (!t.n_dst_ports || rng->below(2))) {
            check_lookup(cls, rng, pick_port(t.src_ports, t.n_src_ports, rng),
                         VTAP_DIR_INGRESS, key);
        } else {
            check_lookup(cls, rng, pick_port(t.dst_ports, t.n_dst_ports, rng),
                         VTAP_DIR_EGRESS, key);
        }
        check_lookup(cls, rng,
                     (rng->below(2)
                      ? pick_port(t.output_ports, t.n_output_ports, rng)
                      : ports[rng->below(ports.size())]),
                     dirs[rng->below(2)], key);
    }
    for (int j = 0; j < 3; j++) {
        vtap_flow_key key;
        random_bytes(rng, &key, sizeof key);
        /* 0 and 3 are not directions, yet within the enum's range of
         * values, so C++ code may be handed them. */
        int dir = j < 2 ? dirs[j] : rng->below(2) ? 0 : 3;
        check_lookup(cls, rng, ports[rng->below(ports.size())], dir, key);
    }
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view input(reinterpret_cast<const char *>(data), size);

    uint64_t seed = 0xcbf29ce484222325ULL;      /* FNV-1a. */
    for (unsigned char c : input) {
        seed = (seed ^ c) * 0x100000001b3ULL;
    }
    Rng rng{seed};

    std::vector<TapLine> lines;
    lines.reserve(kMaxTaps);
    while (!input.empty() && lines.size() < kMaxTaps) {
        size_t nl = input.find('\n');
        lines.emplace_back();
        parse_line(input.substr(0, nl), lines.size() - 1, &lines.back());
        input.remove_prefix(nl == std::string_view::npos
                            ? input.size() : nl + 1);
    }

    vtap_policy *policy = vtap_policy_create();
    FUZZ_CHECK(policy, "vtap_policy_create failed");
    std::vector<const TapLine *> accepted;
    for (const TapLine &line : lines) {
        size_t n_before = vtap_policy_n_taps(policy);
        bool expected = model_accepts(line, accepted);
        char *error = vtap_policy_add_tap(policy, &line.cfg);
        FUZZ_CHECK(!error == expected, "tap %u (%s): %s, but the model %s",
                   line.cfg.id, line.name.c_str(),
                   error ? error : "accepted",
                   expected ? "accepts it" : "rejects it");
        if (error) {
            FUZZ_CHECK(error[0], "empty error message");
            FUZZ_CHECK(vtap_policy_n_taps(policy) == n_before,
                       "a rejected tap changed the policy");
            free(error);
        } else {
            FUZZ_CHECK(vtap_policy_n_taps(policy) == n_before + 1,
                       "an accepted tap did not join the policy");
            accepted.push_back(&line);
        }
    }

    vtap_classifier *cls = vtap_policy_compile(policy);
    FUZZ_CHECK(cls, "vtap_policy_compile failed");
    vtap_policy_destroy(policy);    /* The classifier must not need it. */
    check_classifier(cls, accepted, &rng);
    vtap_classifier_destroy(cls);
    return 0;
}
