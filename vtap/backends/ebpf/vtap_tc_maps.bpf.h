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

#ifndef VTAP_BACKENDS_EBPF_VTAP_TC_MAPS_BPF_H
#define VTAP_BACKENDS_EBPF_VTAP_TC_MAPS_BPF_H 1

/* The maps of the TC program (vtap_tc.bpf.c), as the kernel holds them.
 * Their keys and values, and what each map is for, are in vtap_tc.h,
 * which the C++ loader shares; the loader owns their contents. */

#include <stdint.h>

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/policy/flow_key.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_HOOKS);
    __type(key, struct vtap_tc_hook_key);
    __type(value, struct vtap_tc_hook);
} vtap_hooks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_MASKS);
    __type(key, uint32_t);
    __type(value, struct vtap_flow_key);
} vtap_masks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_RULES);
    __type(key, struct vtap_tc_rule_key);
    __type(value, struct vtap_tc_rule);
} vtap_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_tap);
} vtap_taps SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_rate);
} vtap_rates SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, VTAP_TC_MAX_TAPS);
    __type(key, uint32_t);
    __type(value, struct vtap_tc_stats);
} vtap_stats SEC(".maps");

/* Not used by the program: the loader's record of where it attached, pinned
 * with the rest so that a restarted loader finds it. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, VTAP_TC_MAX_HOOKS);
    __type(key, struct vtap_tc_hook_key);
    __type(value, struct vtap_tc_attachment);
} vtap_attachments SEC(".maps");

#endif /* vtap/backends/ebpf/vtap_tc_maps.bpf.h */
