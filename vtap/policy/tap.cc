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

#include "vtap/policy/tap.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "vtap/policy/match.h"

namespace vtap {

namespace {

/* Copies the C array 'ports' of 'n_ports' elements into '*out'.  Returns an
 * error naming 'what' if the array is missing. */
std::string
copy_ports(const char *what, const uint32_t *ports, size_t n_ports,
           std::vector<uint32_t> *out)
{
    if (n_ports && !ports) {
        return std::string(what) + ": " + std::to_string(n_ports)
               + " ports but no array";
    }
    out->assign(ports, ports + n_ports);
    return "";
}

/* Returns the integer stored in 'offload'.  A C caller may store any integer
 * in an enum, but loading one outside the enumerators as a C++ enum is
 * undefined, so it is read as bytes. */
int
raw_offload(const vtap_offload &offload)
{
    std::underlying_type_t<vtap_offload> raw;
    memcpy(&raw, &offload, sizeof raw);
    return static_cast<int>(raw);
}

bool
offload_is_valid(int offload)
{
    return (offload == VTAP_OFFLOAD_AUTO || offload == VTAP_OFFLOAD_NATIVE
            || offload == VTAP_OFFLOAD_EBPF || offload == VTAP_OFFLOAD_DPDK);
}

std::string
invalid_offload(int offload)
{
    return "offload: " + std::to_string(offload)
           + " is not a valid offload mode (auto, native, ebpf or dpdk)";
}

/* Sorts 'ports' and drops duplicates: listing a port twice is harmless and
 * one canonical form makes taps easy to compare and search. */
void
canonicalize_ports(std::vector<uint32_t> *ports)
{
    std::sort(ports->begin(), ports->end());
    ports->erase(std::unique(ports->begin(), ports->end()), ports->end());
}

std::string
check_ports(const char *what, const std::vector<uint32_t> &ports)
{
    for (uint32_t port : ports) {
        if (port == VTAP_PORT_NONE) {
            return std::string(what) + ": invalid port "
                   + std::to_string(port);
        }
    }
    return "";
}

std::string
check_range(const char *what, uint64_t value, uint64_t min, uint64_t max)
{
    if (value < min || value > max) {
        return std::string(what) + ": " + std::to_string(value)
               + " is out of range " + std::to_string(min) + ".."
               + std::to_string(max);
    }
    return "";
}

}  // namespace

std::string
tap_from_config(const vtap_tap_config &config, Tap *tap)
{
    Tap t;
    t.name = config.name ? config.name : "";
    t.id = config.id;
    t.owner = config.owner;
    t.enabled = config.enabled;

    Selection &sel = t.selection;
    sel.select_all = config.select_all;
    std::string error = copy_ports("select_src_port", config.src_ports,
                                   config.n_src_ports, &sel.src_ports);
    if (error.empty()) {
        error = copy_ports("select_dst_port", config.dst_ports,
                           config.n_dst_ports, &sel.dst_ports);
    }
    if (error.empty()) {
        error = parse_match(config.match ? config.match : "", &sel.match);
        if (!error.empty()) {
            error = "match: " + error;
        }
    }

    Delivery &delivery = t.delivery;
    if (error.empty()) {
        error = copy_ports("output_port", config.output_ports,
                           config.n_output_ports, &delivery.output_ports);
    }
    delivery.output_vlan = config.output_vlan;
    delivery.snaplen = config.snaplen;
    delivery.sampling = config.sampling;
    delivery.max_rate = config.max_rate;

    int offload = raw_offload(config.offload);
    if (error.empty() && !offload_is_valid(offload)) {
        error = invalid_offload(offload);
    }
    if (!error.empty()) {
        return error;
    }
    delivery.offload = static_cast<vtap_offload>(offload);

    *tap = std::move(t);
    return "";
}

std::string
validate_tap(Tap *tap)
{
    if (tap->name.empty()) {
        return "name: must not be empty";
    }
    std::string error = check_range("id", tap->id, VTAP_ID_MIN, VTAP_ID_MAX);
    if (!error.empty()) {
        return error;
    }

    Selection &sel = tap->selection;
    Delivery &delivery = tap->delivery;
    canonicalize_ports(&sel.src_ports);
    canonicalize_ports(&sel.dst_ports);
    canonicalize_ports(&delivery.output_ports);
    error = check_ports("select_src_port", sel.src_ports);
    if (error.empty()) {
        error = check_ports("select_dst_port", sel.dst_ports);
    }
    if (error.empty()) {
        error = check_ports("output_port", delivery.output_ports);
    }
    if (!error.empty()) {
        return error;
    }

    if (!flow_key_equal(flow_key_and(sel.match.key, sel.match.mask),
                        sel.match.key)) {
        return "match: key has bits set outside its mask";
    }

    if (delivery.output_ports.empty()) {
        return "output_port: missing";
    }
    /* Copying what a port receives or sends back to that same port would
     * feed the tap its own copies. */
    for (uint32_t port : delivery.output_ports) {
        if (std::binary_search(sel.src_ports.begin(), sel.src_ports.end(),
                               port)
            || std::binary_search(sel.dst_ports.begin(), sel.dst_ports.end(),
                                  port)) {
            return "output_port: port " + std::to_string(port)
                   + " is also a selected port";
        }
    }

    if (delivery.output_vlan) {
        error = check_range("output_vlan", delivery.output_vlan,
                            VTAP_VLAN_MIN, VTAP_VLAN_MAX);
    }
    if (error.empty() && delivery.snaplen) {
        error = check_range("snaplen", delivery.snaplen, VTAP_SNAPLEN_MIN,
                            VTAP_SNAPLEN_MAX);
    }
    if (error.empty() && !offload_is_valid(raw_offload(delivery.offload))) {
        error = invalid_offload(raw_offload(delivery.offload));
    }
    return error;
}

bool
operator==(const Selection &a, const Selection &b)
{
    return (a.select_all == b.select_all && a.src_ports == b.src_ports
            && a.dst_ports == b.dst_ports
            && !memcmp(&a.match, &b.match, sizeof a.match));
}

bool
operator==(const Delivery &a, const Delivery &b)
{
    return (a.output_ports == b.output_ports
            && a.output_vlan == b.output_vlan && a.snaplen == b.snaplen
            && a.sampling == b.sampling && a.max_rate == b.max_rate
            && a.offload == b.offload && a.copy_path == b.copy_path);
}

bool
operator==(const Tap &a, const Tap &b)
{
    return (a.name == b.name && a.id == b.id && a.owner == b.owner
            && a.enabled == b.enabled
            && a.selection == b.selection && a.delivery == b.delivery);
}

std::string
Policy::add_tap(Tap tap)
{
    std::string error = validate_tap(&tap);
    if (!error.empty()) {
        return error;
    }

    const Tap *same_id = find_id(tap.id);
    if (same_id) {
        return "id: " + std::to_string(tap.id) + " is already used by tap '"
               + same_id->name + "'";
    }
    const Tap *same_name = find_name(tap.name);
    if (same_name) {
        return "name: '" + tap.name + "' is already used by tap "
               + std::to_string(same_name->id);
    }

    /* Keep the policy unchanged if memory runs out halfway. */
    size_t index = taps_.size();
    uint32_t id = tap.id;
    std::string name = tap.name;
    taps_.push_back(std::move(tap));
    try {
        index_by_id_.emplace(id, index);
        index_by_name_.emplace(std::move(name), index);
    } catch (...) {
        index_by_id_.erase(id);
        taps_.pop_back();
        throw;
    }
    return "";
}

const Tap *
Policy::find_id(uint32_t id) const
{
    auto it = index_by_id_.find(id);
    return it == index_by_id_.end() ? nullptr : &taps_[it->second];
}

const Tap *
Policy::find_name(std::string_view name) const
{
    auto it = index_by_name_.find(std::string(name));
    return it == index_by_name_.end() ? nullptr : &taps_[it->second];
}

}  // namespace vtap
