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

#ifndef OFPROTO_DPIF_VTAP_H
#define OFPROTO_DPIF_VTAP_H 1

/* The native backend of OVS-vTAP: copies made by the OVS datapath.
 *
 * ovs-vswitchd hands each bridge's compiled tap policy (a vtap_classifier)
 * to its ofproto with ofproto_vtap_set().  Translation (ofproto-dpif-xlate)
 * then asks, at the packet's ingress and at each of its outputs, which taps
 * select it, and emits for each one a datapath copy: in the userspace
 * datapath, a tap copy action (lib/vtap-odp.h) that sends, clones or
 * copies the packet as its monitor's port suits and counts what reached
 * it; in the kernel datapath, a sample() action.  The actions that deliver
 * a copy were prepared here at configuration time (push the copy's VLAN
 * tag, output to the monitor port, truncated to the snap length).  Nothing
 * of that happens per packet: the datapath flow caches it, and a change of
 * policy revalidates the cached flows.  A packet that recirculates carries
 * the taps that copied it (struct vtap_frozen), so that each tap copies it
 * once. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"
#include "vtap-exec.h"
#include "vtap/capi/vtap.h"

struct flow;
struct flow_wildcards;
struct ofpact;
struct ofproto;
struct ofproto_dpif;
struct netdev;
struct vtap_dpif_stats;

/* Configuration, from ovs-vswitchd's main thread. */

/* Makes 'classifier' the tap policy of 'ofproto', which takes ownership of
 * it (NULL removes every tap).  Flows already in the datapath are
 * revalidated, so the change reaches them too.  Does nothing, and destroys
 * 'classifier', if 'ofproto' is not an ofproto-dpif bridge. */
void ofproto_vtap_set(struct ofproto *, struct vtap_classifier *classifier);

/* Returns true if every change made by ofproto_vtap_set() so far has reached
 * every flow that the datapaths had cached when it was made: a packet of such
 * a flow that the datapath receives from now on follows the change.  Until
 * then, ovs-vswitchd holds back Open_vSwitch's cur_cfg, so that
 * "ovs-vsctl add-tap" and friends return only once the change is in effect.
 * Main thread only. */
bool ofproto_vtap_synced(void);

/* Arranges for poll_block() to wake up when ofproto_vtap_synced() may
 * change. */
void ofproto_vtap_sync_wait(void);

/* Forgets 'ofproto', which is about to be destroyed. */
void ofproto_vtap_remove(struct ofproto *);

/* Returns how many packets met a tap(id=N) action whose tap N does not exist
 * or is disabled. */
uint64_t ofproto_vtap_get_action_misses(const struct ofproto *);

/* Returns the tap policy of 'ofproto' (main thread only), or NULL. */
const struct vtap_classifier *ofproto_vtap_get(const struct ofproto *);

/* What the native backend knows of one tap's copies.
 *
 * In the userspace datapath, a tap copy action (lib/vtap-exec.h) makes
 * every copy and counts what reached the monitor's port: 'delivered'.
 * Elsewhere (and with vtap/copy-action off), a sample() makes them, which
 * counts nothing: the flows' statistics say what the tap selected. */
struct ofproto_vtap_stats {
    bool delivered;             /* 'exec' holds the counters; else: */
    struct vtap_exec_stats exec;

    uint64_t selected_packets;  /* Packets the tap selected... */
    uint64_t selected_bytes;    /* ...and their bytes. */
    bool sampled;               /* If true, 1 in 'sampling' of them was
                                 * copied, on average. */
    bool rate_limited;          /* If true, 'dropped_*' are known: */
    uint64_t dropped_packets;   /* Copies that max_rate dropped... */
    uint64_t dropped_bytes;     /* ...and their bytes. */
};

/* Stores in '*stats' what is known of the copies of the tap with 'id'.
 * Returns false if there is no such tap. */
bool ofproto_vtap_get_stats(const struct ofproto *, uint32_t id,
                            struct ofproto_vtap_stats *stats);

/* Turns the tap copy action of the userspace datapath on (the default) or
 * off; off, a sample() makes the copies, as in the kernel datapath, so
 * that tests can run that path here.  The taps' plan reads it (taps must
 * be configured again). */
void ofproto_vtap_set_copy_action(bool enabled);
bool ofproto_vtap_copy_action(void);

/* Returns true if the datapath of 'ofproto' has the tap copy action (it is
 * the userspace datapath) and it is on. */
bool ofproto_vtap_has_copy_action(const struct ofproto *);


/* Translation side. */

/* One copy to make: everything xlate needs, prepared at configuration. */
struct vtap_xlate_copy {
    uint32_t tap_id;
    const char *tap_name;
    bool enabled;               /* Disabled taps only count tap() misses. */
    uint64_t owner;             /* The tap's counters (lib/vtap-exec.h). */
    uint32_t probability;       /* OVS_SAMPLE_ATTR_PROBABILITY. */
    uint32_t max_rate;          /* Copies per second at most, 0: none. */
    uint32_t meter_id;          /* Datapath meter for max_rate in a
                                 * sample(), or UINT32_MAX for none. */
    const struct ofpact *ofpacts; /* Actions that deliver the copy. */
    size_t ofpacts_len;
    struct vtap_dpif_stats *stats;  /* What a sample() path selected. */

    enum vtap_copy_path path;   /* How the plan says the datapath makes the
                                 * copies (never VTAP_PATH_EBPF or
                                 * VTAP_PATH_NONE). */
    ofp_port_t output_port;
    uint32_t snaplen;           /* 0: whole packet.  With a tag, at least a
                                 * tagged Ethernet header. */
    uint16_t vlan_tci;          /* 0: untagged. */
};

/* Where a copy goes, as translation found it. */
struct vtap_copy_output {
    const struct netdev *netdev; /* The port (for a bond, the member the
                                  * bond picks), or NULL if none. */
    bool local;                 /* A port of the datapath itself: not a
                                 * tunnel nor a patch port. */
    bool ethernet;              /* The packet is an Ethernet frame. */
};

/* Returns the path that makes 'copy' to 'out': the one the offload plan
 * chose for its tap (vtap_plan_path()), unless this packet cannot take it:
 * the socket and DPDK paths copy an Ethernet frame to a port of the
 * datapath itself (for a bond, the member the bond picks), of their kind;
 * a copy that cannot take them is a clone, and one without a datapath copy
 * action (not the userspace datapath) a sample(). */
enum vtap_copy_path vtap_xlate_copy_path(const struct vtap_xlate_copy *copy,
                                         bool copy_action,
                                         const struct vtap_copy_output *out);

/* Fills in '*vc', the fixed part of the copy action for 'copy' to
 * datapath port 'port' (ODPP_NONE if only nested actions know it), whose
 * netdev is 'netdev' (or NULL). */
struct ovs_action_vtap_copy;
void vtap_xlate_copy_action(const struct vtap_xlate_copy *copy, odp_port_t port,
                            const struct netdev *netdev,
                            struct ovs_action_vtap_copy *vc);

/* Per-translation state of the native backend, a member of xlate_ctx that
 * starts zeroed. */
struct vtap_xlate {
    bool copying;               /* Translating a copy: taps do not apply. */
    bool copies_made;           /* A bond's recirculation: the copies at the
                                 * bond were made before it. */
    size_t n_dpdk_copies;       /* DPDK clone path copy actions emitted. */
    size_t n_copied;            /* Taps that already copied this packet, */
    size_t allocated;           /* by owner (see vtap_xlate_copy_key()). */
    uint64_t *copied;
};

/* What a frozen translation (ofproto-dpif-rid's frozen_state) remembers of
 * the taps, so that the translation that thaws it after a recirculation
 * (ct(table=N), a bond's hash and recirc, ...) does not copy the packet
 * again for a tap that already did: as Open vSwitch carries the mirrors
 * already output.  Part of the recirculation id's identity. */
struct vtap_frozen {
    const uint64_t *copied;     /* Keys of the taps that copied, in the
                                 * order they did. */
    size_t n_copied;
};

/* Returns what 'state' must carry across a freeze: it points into
 * 'state', so it is valid until 'state' changes (frozen_state_clone()
 * copies it). */
struct vtap_frozen vtap_xlate_freeze(const struct vtap_xlate *state);

/* Starts 'state' of a translation that thaws 'frozen'.  'bond_recirc' is
 * true for the thaw of a bond's recirculation (its internal table), which
 * continues an output whose copies were already made. */
void vtap_xlate_thaw(struct vtap_xlate *state,
                     const struct vtap_frozen *frozen, bool bond_recirc);

/* ofproto-dpif-rid's view of a struct vtap_frozen. */
uint32_t vtap_frozen_hash(const struct vtap_frozen *, uint32_t basis);
bool vtap_frozen_equal(const struct vtap_frozen *,
                       const struct vtap_frozen *);
void vtap_frozen_clone(struct vtap_frozen *dst,
                       const struct vtap_frozen *src);
void vtap_frozen_destroy(struct vtap_frozen *);

/* Up to this many taps copy one packet at one crossing of a port; more
 * matching taps are skipped (and counted as a warning). */
#define VTAP_XLATE_MAX_COPIES 64

/* Looks up the taps of 'ofproto' that select a packet with 'flow' crossing
 * 'port' in direction 'dir', un-wildcarding in 'wc' the fields the lookup
 * looked at.  Stores in 'copies' the copies still to make for this packet
 * (taps that already copied it, in this translation or before a
 * recirculation, are left out: a packet reaches a monitor at most once per
 * tap) and returns how many. */
size_t vtap_xlate_lookup(const struct ofproto_dpif *, struct vtap_xlate *,
                         ofp_port_t port, enum vtap_direction dir,
                         const struct flow *flow, struct flow_wildcards *wc,
                         const struct vtap_xlate_copy *copies[],
                         size_t max_copies);

/* For a tap(id=N) action with N = 'tap_id': returns the copy to make, or
 * NULL with the reason in '*why_not'.  Sets '*misses' to the counter to add
 * the packet to when the miss counts (tap N missing or disabled), else to
 * NULL. */
const struct vtap_xlate_copy *vtap_xlate_tap_action(const struct ofproto_dpif *,
                                              struct vtap_xlate *,
                                              uint32_t tap_id,
                                              const char **why_not,
                                              struct vtap_dpif_stats **misses);

/* Returns true if 'port' of 'ofproto' is the output port of a tap, which
 * reserves it for copies: the switch neither forwards to it nor accepts
 * packets from it, as with Mirror output ports. */
bool vtap_xlate_port_is_output(const struct ofproto_dpif *, ofp_port_t port);

/* Frees what 'state' allocated. */
void vtap_xlate_uninit(struct vtap_xlate *state);

/* Statistics of one tap's copies, shared by every configuration that has
 * the tap and by the xlate cache entries of the flows that copy for it. */
struct vtap_dpif_stats *vtap_dpif_stats_ref(struct vtap_dpif_stats *);
void vtap_dpif_stats_unref(struct vtap_dpif_stats *);
void vtap_dpif_stats_add(struct vtap_dpif_stats *, uint64_t packets,
                         uint64_t bytes);

#endif /* ofproto/ofproto-dpif-vtap.h */
