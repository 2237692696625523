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

#ifndef VTAP_POLICY_TAP_H
#define VTAP_POLICY_TAP_H 1

/* The tap model: what one tap selects and where its copies go, and the
 * policy that collects the taps of one bridge.
 *
 * Validation happens here, once, when a tap enters a policy, so that the
 * classifier compiled from a policy can take every tap as well-formed. */

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vtap/policy/types.h"

namespace vtap {

/* Which packets a tap copies. */
struct Selection {
    bool select_all = false;            /* Every port, both directions. */
    std::vector<uint32_t> src_ports;    /* Ingress on these ports. */
    std::vector<uint32_t> dst_ports;    /* Egress on these ports. */
    vtap_match match{};                 /* All-zero matches everything. */
};

/* Where and how a tap's copies go.  See struct vtap_tap_config. */
struct Delivery {
    std::vector<uint32_t> output_ports;
    uint16_t output_vlan = 0;
    uint32_t snaplen = 0;
    uint32_t sampling = 0;
    uint32_t max_rate = 0;
    vtap_offload offload = VTAP_OFFLOAD_AUTO;
    /* Set by the offload planner, not by the configuration: see
     * vtap_tap_info. */
    vtap_copy_path copy_path = VTAP_PATH_SAMPLE;
};

/* One tap.  A tap that selects nothing is valid: it is then used only by
 * OpenFlow "tap(id=N)" actions, which refer to it by id. */
struct Tap {
    std::string name;
    uint32_t id = 0;
    uint64_t owner = 0;                 /* See vtap_tap_config. */
    bool enabled = true;
    Selection selection;
    Delivery delivery;
};

/* Two taps are equal if they select the same packets and deliver their
 * copies the same way (matches compare by key and mask). */
bool operator==(const Selection &, const Selection &);
bool operator==(const Delivery &, const Delivery &);
bool operator==(const Tap &, const Tap &);
inline bool operator!=(const Tap &a, const Tap &b) { return !(a == b); }

/* Converts 'config' into '*tap', parsing its match.  Checks only what a Tap
 * cannot hold (a bad match, a null port array with a nonzero count, an
 * offload outside the enum); validate_tap() checks the rest.  Returns "" on
 * success, otherwise an error naming the bad part, e.g. "match: tp_dst:
 * requires tcp, udp or sctp (add "tcp" or "udp" first)". */
std::string tap_from_config(const vtap_tap_config &config, Tap *tap);

/* Checks everything about '*tap' that does not depend on other taps, and
 * puts its port lists in canonical form: ascending, without duplicates.
 * Returns "" if '*tap' is valid, otherwise an error naming the bad part,
 * e.g. "snaplen: 9 is out of range 14..65535". */
std::string validate_tap(Tap *tap);

/* The taps of one bridge, each valid on its own and unique by id and by
 * name.  Used by one thread at a time. */
class Policy {
public:
    /* Validates 'tap' (see validate_tap()) and checks that its id and name
     * are not used by another tap.  If all is well, adds it and returns "".
     * Otherwise returns an error naming the bad part and leaves the policy
     * unchanged. */
    std::string add_tap(Tap tap);

    /* The taps, in the order they were added. */
    const std::vector<Tap> &taps() const { return taps_; }

    size_t n_taps() const { return taps_.size(); }

    /* Returns the tap with 'id' or 'name', or nullptr. */
    const Tap *find_id(uint32_t id) const;
    const Tap *find_name(std::string_view name) const;

private:
    std::vector<Tap> taps_;
    std::unordered_map<uint32_t, size_t> index_by_id_;
    std::unordered_map<std::string, size_t> index_by_name_;
};

}  // namespace vtap

#endif /* vtap/policy/tap.h */
