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

#ifndef VTAP_POLICY_TYPES_H
#define VTAP_POLICY_TYPES_H 1

/* The vocabulary of the vtap module: what a tap is (its configuration, as
 * given and as validated), its match, the limits of its settings, and the
 * kinds that planning sorts taps and ports into.
 *
 * Plain C, so that the module's C face (vtap/capi/vtap.h), which includes
 * it, can hand these types to Open vSwitch as they are; the module's own
 * layers (policy, compiler, backends) include this header, never the C
 * face. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtap/policy/flow_key.h"

/* A flow match, as vtap_match_parse() makes it. */
struct vtap_match {
    struct vtap_flow_key key;   /* Always key & mask == key. */
    struct vtap_flow_key mask;
};

/* Who makes a tap's copies, as the tap asks (its 'offload' column). */
enum vtap_offload {
    VTAP_OFFLOAD_AUTO,          /* eBPF or DPDK where possible, else native. */
    VTAP_OFFLOAD_NATIVE,        /* Copies made by the OVS datapath. */
    VTAP_OFFLOAD_EBPF,          /* TC program on kernel ports, or nothing. */
    VTAP_OFFLOAD_DPDK,          /* DPDK clone path on DPDK ports, or
                                 * nothing. */
};

/* Direction in which a packet crosses a selected port, as seen from the
 * switch. */
enum vtap_direction {
    VTAP_DIR_INGRESS = 1,       /* Received by the switch on the port. */
    VTAP_DIR_EGRESS = 2,        /* Sent by the switch on the port. */
};

/* Ports are identified by a 32-bit number chosen by the caller (OVS uses the
 * OpenFlow port number of each interface of the Port).  VTAP_PORT_NONE is
 * never a valid port. */
#define VTAP_PORT_NONE UINT32_MAX

/* Limits of the delivery settings, as in the OVSDB schema. */
#define VTAP_ID_MIN 1
#define VTAP_ID_MAX UINT32_MAX
#define VTAP_VLAN_MIN 1
#define VTAP_VLAN_MAX 4095
#define VTAP_SNAPLEN_MIN 14
#define VTAP_SNAPLEN_MAX 65535

/* How a copy is made, as the offload plan decides it per tap.  The OVS
 * datapath makes the copies of every path but VTAP_PATH_EBPF (and those of
 * tap(id=N) actions, whatever the tap's path). */
enum vtap_copy_path {
    VTAP_PATH_NONE,             /* No copies: the tap asked for an offload
                                 * it cannot have. */
    VTAP_PATH_EBPF,             /* The TC program, outside the datapath. */
    VTAP_PATH_SAMPLE,           /* A datapath sample() with the delivery
                                 * actions nested: the kernel datapath. */
    VTAP_PATH_SEND,             /* The userspace datapath's copy action,
                                 * sent by a packet socket from the
                                 * packet's own buffer (socket copy
                                 * path), */
    VTAP_PATH_DPDK,             /* copied from the mbuf (DPDK clone
                                 * path), */
    VTAP_PATH_CLONE,            /* or a clone that runs the delivery
                                 * actions, as OVS's own output. */
};

/* The integer delivery settings of a tap, X(NAME): optional integer
 * columns of the Tap table (and of the fleet's Fleet_Tap) of the same
 * NAME, 0 when empty, and members of struct vtap_tap_config and
 * vtap_tap_info.  ovs-vswitchd loads them from this list, and a unit test
 * (tests/fleet/test_schema.py) checks it against both schemas: a new one is
 * a column, an entry here, and what the module makes of it. */
#define VTAP_DELIVERY_SETTINGS(X) \
    X(output_vlan)                \
    X(snaplen)                    \
    X(sampling)                   \
    X(max_rate)

/* A tap's configuration, as the caller gives it. */
struct vtap_tap_config {
    const char *name;           /* Non-empty, unique within a policy. */
    uint32_t id;                /* VTAP_ID_MIN..VTAP_ID_MAX, unique. */
    uint64_t owner;             /* Caller's key for this tap, new for every
                                 * tap it creates (0: none, the name is the
                                 * key): counters and rate-limit state
                                 * belong to it, so that a tap deleted and
                                 * created again under the same name or id
                                 * starts afresh on every backend. */
    bool enabled;               /* A disabled tap is kept but never matches. */

    /* Selection. */
    bool select_all;            /* Every port, both directions. */
    const uint32_t *src_ports;  /* Ingress on these ports. */
    size_t n_src_ports;
    const uint32_t *dst_ports;  /* Egress on these ports. */
    size_t n_dst_ports;
    const char *match;          /* NULL or "" matches everything. */

    /* Delivery. */
    const uint32_t *output_ports; /* Where copies go (a Port's interfaces). */
    size_t n_output_ports;        /* At least one. */
    uint16_t output_vlan;       /* 0: copy untagged as is; else 1..4095. */
    uint32_t snaplen;           /* 0: whole packet; else 14..65535. */
    uint32_t sampling;          /* 0 or 1: every packet; N: 1 in N. */
    uint32_t max_rate;          /* 0: unlimited; else copies per second. */
    enum vtap_offload offload;
};

/* A tap as stored in a compiled classifier: its configuration, validated,
 * with the match parsed.  Pointers inside stay valid as long as the
 * classifier does. */
struct vtap_tap_info {
    const char *name;
    uint32_t id;
    uint64_t owner;
    bool enabled;
    bool select_all;
    const uint32_t *src_ports;
    size_t n_src_ports;
    const uint32_t *dst_ports;
    size_t n_dst_ports;
    struct vtap_match match;
    const char *match_string;   /* Canonical form of 'match'. */
    const uint32_t *output_ports;
    size_t n_output_ports;
    uint16_t output_vlan;
    uint32_t snaplen;
    uint32_t sampling;
    uint32_t max_rate;
    enum vtap_offload offload;
    enum vtap_copy_path copy_path; /* How the OVS datapath makes the
                                    * copies it makes (see
                                    * vtap_plan_compile()). */
};

/* Which backend makes a tap's copies. */
enum vtap_backend {
    VTAP_BACKEND_NONE,          /* None: the tap makes no copies. */
    VTAP_BACKEND_NATIVE,        /* The OVS datapath. */
    VTAP_BACKEND_EBPF,          /* The TC program. */
    VTAP_BACKEND_DPDK,          /* The DPDK clone path. */
};

/* What an interface of the switch is, as far as offloads care. */
enum vtap_port_kind {
    VTAP_PORT_OTHER,            /* Nothing offloads it (tunnel, patch,
                                 * dummy...). */
    VTAP_PORT_KERNEL,           /* A kernel network device whose TC ingress
                                 * is what the switch receives (veth, NIC:
                                 * type "system"). */
    VTAP_PORT_KERNEL_TAP,       /* A kernel tap device that the switch reads
                                 * and writes (type "tap", and "internal" on
                                 * the userspace datapath): its TC egress is
                                 * what the switch receives. */
    VTAP_PORT_DPDK,             /* A DPDK port. */
};

#endif /* vtap/policy/types.h */
