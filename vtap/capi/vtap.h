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

#ifndef VTAP_CAPI_VTAP_H
#define VTAP_CAPI_VTAP_H 1

/* The C ABI of the vtap module: the only header of the module that Open
 * vSwitch's C code includes.
 *
 * The module is written in C++17 and knows nothing of OVS internals; OVS
 * knows nothing of C++.  Everything crosses this boundary as plain C: opaque
 * handles, fixed-width integers, NUL-terminated strings.  No C++ exception
 * ever crosses it: every function catches what it could throw and reports it
 * as an error string or a null handle.
 *
 * No function crashes on a NULL pointer argument either: a NULL handle
 * reads as empty (counts are 0, lookups find nothing, destroying it does
 * nothing) and a NULL where the function needs an input or an output makes
 * it fail the way it reports failures (an error string, NULL or false), as
 * each function below says.
 *
 * Error strings returned by this API are allocated with malloc() and owned by
 * the caller, who frees them with free().  They name the bad part, e.g.
 * "match: tp_dst: requires tcp, udp or sctp".
 *
 * Threading: a 'struct vtap_policy' is a builder used by one thread.  A
 * 'struct vtap_classifier' is immutable once compiled, so any number of
 * threads may look up in it at once without locking; the owner publishes it
 * and retires the old one with its own RCU (OVS's ovsrcu). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtap/policy/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the vtap module, e.g. "0.1.0". */
const char *vtap_version(void);

/* Matches.
 *
 * A match is written in ovs-fields(7) syntax, e.g. "tcp,nw_src=192.0.2.0/24,
 * tp_dst=80" or "ipv6,ipv6_dst=2001:db8::/64".  The empty string matches
 * everything.  The parser is stricter than ovs-ofctl: unmet prerequisites,
 * a field given twice, contradicting protocols, out-of-range values and
 * host bits set beyond a prefix are all errors.  struct vtap_match is in
 * vtap/policy/types.h, with the other types of the module's vocabulary. */

/* Parses 's' into '*match'.  Returns NULL on success, otherwise an error
 * message naming the bad part (and '*match' is unspecified). */
char *vtap_match_parse(const char *s, struct vtap_match *match);

/* Returns the canonical form of 'match' (malloc'd), the one vtap_match_parse()
 * reads back to the same match.  The empty match formats as "". */
char *vtap_match_format(const struct vtap_match *match);

/* Tap configuration: struct vtap_tap_config, as the caller gives it, and
 * struct vtap_tap_info, as a compiled classifier holds it (see
 * vtap/policy/types.h). */

/* Parses "auto", "native", "ebpf" or "dpdk".  Returns false otherwise. */
bool vtap_offload_from_string(const char *s, enum vtap_offload *offload);
const char *vtap_offload_to_string(enum vtap_offload offload);

/* Policy builder: collects the taps of one bridge, then compiles them. */
struct vtap_policy;

struct vtap_policy *vtap_policy_create(void);
void vtap_policy_destroy(struct vtap_policy *);

/* Validates 'cfg' and, if it is good, adds it to 'policy'.  Returns NULL on
 * success.  Otherwise returns an error naming the bad part (for example
 * "snaplen: 9 is out of range 14..65535", "id: 7 is already used by tap
 * 'web'", "output_port: port 3 is also a selected port") and leaves 'policy'
 * unchanged, so that one bad tap never keeps the good ones from working. */
char *vtap_policy_add_tap(struct vtap_policy *,
                          const struct vtap_tap_config *);

/* Number of taps added to 'policy' so far. */
size_t vtap_policy_n_taps(const struct vtap_policy *);

/* Compiles the taps in 'policy' into a classifier.  'policy' is unchanged
 * and may be destroyed afterwards.  Returns NULL only if memory ran out. */
struct vtap_classifier *vtap_policy_compile(const struct vtap_policy *);

/* Classifier: immutable; lookups are thread-safe. */
struct vtap_classifier;

void vtap_classifier_destroy(struct vtap_classifier *);

size_t vtap_classifier_n_taps(const struct vtap_classifier *);

/* Returns the n'th tap (0 <= n < vtap_classifier_n_taps()), in ascending
 * order of id. */
const struct vtap_tap_info *vtap_classifier_tap(const struct vtap_classifier *,
                                                size_t n);

/* Returns the tap with 'id', or NULL. */
const struct vtap_tap_info *vtap_classifier_find_id(
    const struct vtap_classifier *, uint32_t id);

/* Returns the tap named 'name', or NULL. */
const struct vtap_tap_info *vtap_classifier_find_name(
    const struct vtap_classifier *, const char *name);

/* Finds the enabled taps that select a packet with flow 'key' crossing 'port'
 * in direction 'dir'.  Stores up to 'max_ids' of their ids, in ascending
 * order, in 'ids' and returns how many taps matched in all (which may exceed
 * 'max_ids').
 *
 * ORs into '*wc' every bit of the key that the lookup examined, whether or
 * not a tap matched, so that the caller can install a datapath megaflow that
 * is correct for every packet it will match.  Bits of fields that no tap
 * relevant to 'port' and 'dir' looks at are left alone.  'wc' may be NULL.
 *
 * A tap never selects packets that cross one of its own output ports. */
size_t vtap_classifier_lookup(const struct vtap_classifier *,
                              uint32_t port, enum vtap_direction dir,
                              const struct vtap_flow_key *key,
                              struct vtap_flow_key *wc,
                              uint32_t *ids, size_t max_ids);

/* Returns true if any enabled tap could select packets crossing 'port' in
 * 'dir' (so that the caller can skip building a key otherwise). */
bool vtap_classifier_port_is_selected(const struct vtap_classifier *,
                                      uint32_t port, enum vtap_direction dir);

/* The eBPF backend.
 *
 * One per process: TC hooks belong to kernel devices, not to bridges, so
 * the taps of all bridges share one program.  Each bridge is a group whose
 * taps the caller replaces as a whole whenever they change. */
struct vtap_ebpf;

/* One tap to offload: the kernel devices (by ifindex) of its selected ports
 * and of its output port, its match and its delivery settings. */
struct vtap_ebpf_tap {
    uint64_t owner;             /* Caller's key, unique in the process. */
    struct vtap_match match;
    const uint32_t *src_ifindexes;  /* TC ingress on these. */
    size_t n_src_ifindexes;
    const uint32_t *dst_ifindexes;  /* TC egress on these. */
    size_t n_dst_ifindexes;
    uint32_t out_ifindex;
    uint16_t output_vlan;
    uint32_t snaplen;
    uint32_t sampling;
    uint32_t max_rate;
};

/* Counters of one offloaded tap, summed over CPUs. */
struct vtap_ebpf_stats {
    uint64_t packets;           /* Copies sent to the output device. */
    uint64_t bytes;             /* Their length before snaplen. */
    uint64_t failed;            /* Copies the kernel failed to send. */
    uint64_t sampled_out;       /* Selected, left out by sampling. */
    uint64_t rate_limited;      /* Selected, over max_rate. */
};

/* Returns NULL if this build has the eBPF backend, otherwise why not
 * (malloc'd).  Whether the kernel takes the program is known only when
 * vtap_ebpf_create() tries. */
char *vtap_ebpf_unavailable(void);

/* Returns the bpffs directory (malloc'd) where an ovs-vswitchd whose run
 * directory is 'rundir' pins its eBPF objects ('rundir' NULL reads as "").
 * Returns NULL only if memory ran out. */
char *vtap_ebpf_pin_dir(const char *rundir);

/* Removes what an earlier process left in 'pin_dir' (pins, clsact
 * filters).  Returns NULL on success, else an error (malloc'd), also if
 * 'pin_dir' is NULL. */
char *vtap_ebpf_remove_stale(const char *pin_dir);

/* Loads the TC program and pins it under 'pin_dir' (NULL or "": no pins).
 * 'attach_mode' is "auto" (TCX where the kernel has it, else clsact; also
 * for NULL), "tcx" or "clsact".  Returns NULL and sets '*errorp' (malloc'd)
 * on failure; 'errorp' may be NULL if the caller does not want the
 * error. */
struct vtap_ebpf *vtap_ebpf_create(const char *pin_dir,
                                   const char *attach_mode, char **errorp);

/* Detaches the program from every device and removes every pin.  NULL is
 * a no-op. */
void vtap_ebpf_destroy(struct vtap_ebpf *);

/* Replaces the taps of 'group' by the 'n' taps in 'taps'.  Sets reasons[i]
 * to NULL if taps[i] is offloaded, otherwise to why not (malloc'd); a tap
 * that is not offloaded makes no copies in the kernel.
 *
 * All or nothing per tap: a tap reported offloaded has every kernel map
 * entry and TC hook it needs; a tap that was refused, for a program limit,
 * a device that refused the program or a kernel map update that failed,
 * has none of its own (entries it would share with offloaded taps stay for
 * those), and hooks attached only for it are detached again.
 *
 * 'reasons' must have room for 'n' pointers; if it is NULL, nothing is
 * done (there would be no way to tell which taps are offloaded).  If
 * 'ebpf' is NULL, or 'taps' is NULL while 'n' is not 0, every reasons[i]
 * says so and nothing changes.  A tap whose src_ifindexes or dst_ifindexes
 * is NULL with a nonzero count is refused with a reason. */
void vtap_ebpf_set_group(struct vtap_ebpf *, uint64_t group,
                         const struct vtap_ebpf_tap *taps, size_t n,
                         char **reasons);

/* Number of taps offloaded, all groups together (0 for NULL). */
size_t vtap_ebpf_n_taps(const struct vtap_ebpf *);

/* Gets the counters of offloaded tap 'owner'.  Returns false if it is not
 * offloaded, or if 'ebpf' or 'stats' is NULL. */
bool vtap_ebpf_get_stats(const struct vtap_ebpf *, uint64_t owner,
                         struct vtap_ebpf_stats *);

/* Offload planning.
 *
 * Which backend makes each tap's copies is decided here, in one place, for
 * every tap of a policy at once: the caller describes the bridge's
 * interfaces, gets each tap's backend and the reason for it, applies the
 * offloaded taps to their backends, tells the plan which ones a backend
 * refused, and compiles what is left for the OVS datapath. */

/* Returns "none", "native", "ebpf" or "dpdk". */
const char *vtap_backend_to_string(enum vtap_backend);

/* One interface of the bridge. */
struct vtap_port_info {
    uint32_t port;              /* As in struct vtap_tap_config. */
    const char *port_name;      /* Name of its Port, for reasons. */
    const char *name;           /* Name of the interface, for reasons. */
    const char *type;           /* OVSDB type ("" is "system"). */
    enum vtap_port_kind kind;
    uint32_t ifindex;           /* Kernel kinds: 0 if it has no device. */
};

/* What the planner needs to know besides the taps. */
struct vtap_plan_env {
    const struct vtap_port_info *ports; /* Every interface of the bridge. */
    size_t n_ports;
    const char *ebpf_unavailable;   /* NULL if the eBPF backend may be used,
                                     * else why not. */
    const char *dpdk_unavailable;   /* Same for the DPDK backend. */

    /* The datapath, for each tap's copy path (see vtap_plan_path()). */
    bool copy_action;           /* It has the tap copy action: the
                                 * userspace datapath (unless
                                 * vtap/copy-action is off). */
    bool userspace_tso;         /* Userspace TSO is on. */
    bool no_socket_send;        /* vtap/native-send is off. */
};

struct vtap_plan;

/* Plans every tap of 'policy' on 'env'.  'policy' must outlive the plan
 * and stay unchanged meanwhile.  Returns NULL and sets '*errorp' (malloc'd)
 * on failure (bad arguments, memory). */
struct vtap_plan *vtap_plan_create(const struct vtap_policy *policy,
                                   const struct vtap_plan_env *env,
                                   char **errorp);
void vtap_plan_destroy(struct vtap_plan *);

/* Number of taps in the plan: those of its policy, in the same order. */
size_t vtap_plan_n_taps(const struct vtap_plan *);

/* Backend of the n'th tap, and why (NULL if there is nothing to say). */
enum vtap_backend vtap_plan_backend(const struct vtap_plan *, size_t n);
const char *vtap_plan_reason(const struct vtap_plan *, size_t n);

/* How the n'th tap's copies are made: VTAP_PATH_EBPF for a tap offloaded
 * to eBPF, VTAP_PATH_NONE for a tap planned for no backend, otherwise how
 * the OVS datapath makes them (sample, send, dpdk or clone).  Translation
 * may still clone a copy that cannot take its path (a packet that is not
 * an Ethernet frame, a bond member that is not a local port). */
enum vtap_copy_path vtap_plan_path(const struct vtap_plan *, size_t n);

/* Returns "none", "ebpf", "sample", "send", "dpdk" or "clone". */
const char *vtap_copy_path_to_string(enum vtap_copy_path);

/* Returns the number of taps planned for the eBPF backend, and sets
 * '*taps' to them (ready for vtap_ebpf_set_group(), each with its tap's
 * 'owner') and '*indexes' to their positions in the plan.  The arrays stay
 * valid until the next call or until the plan is destroyed. */
size_t vtap_plan_ebpf_taps(struct vtap_plan *,
                           const struct vtap_ebpf_tap **taps,
                           const size_t **indexes);

/* The backend refused the n'th tap because of 'reason': it falls back to
 * native (offload=auto) or to none (an explicit offload). */
void vtap_plan_refuse(struct vtap_plan *, size_t n, const char *reason);

/* Compiles what the OVS datapath must do: every tap of the plan, those
 * offloaded to eBPF without their selection (tap(id=N) actions still find
 * them), every tap with the 'copy_path' by which the OVS datapath makes
 * the copies it makes (the dpdk backend's: OVS selects, the userspace
 * datapath copies), and those planned for no backend disabled.  Returns NULL only if memory ran
 * out. */
struct vtap_classifier *vtap_plan_compile(const struct vtap_plan *);

/* The engine.
 *
 * What the module does for a switch's taps, one call per bridge: plan each
 * tap's backend and copy path, offload the taps planned for eBPF (the TC
 * program is loaded with the first one, pinned under a directory of the
 * engine's, and unloaded with the last), move the taps the eBPF backend
 * refused to their fallback, and compile what the OVS datapath must do.
 * The caller maps its configuration in and the results out. */
struct vtap_engine;

/* Receives what the engine has to say: the eBPF backend loaded or unloaded,
 * and what went wrong ('warning'). */
typedef void vtap_engine_log_func(bool warning, const char *message);

/* Creates an engine whose eBPF objects are pinned under the directory that
 * vtap_ebpf_pin_dir() gives for 'rundir', first removing what a process of
 * the same run directory left there.  'attach_mode' is as for
 * vtap_ebpf_create().  'log' may be NULL.  Returns NULL if memory ran
 * out. */
struct vtap_engine *vtap_engine_create(const char *rundir,
                                       const char *attach_mode,
                                       vtap_engine_log_func *log);

/* Detaches and unpins everything.  NULL is a no-op. */
void vtap_engine_destroy(struct vtap_engine *);

/* Applies 'policy' as the taps of 'group' (a bridge) on 'env' (the
 * engine fills in whether this build has the eBPF backend).  Returns the
 * plan: each tap's backend, reason and copy path (vtap_plan_backend(),
 * vtap_plan_reason(), vtap_plan_path()), for the caller to destroy; and
 * sets '*classifier' to what the OVS datapath must do (NULL if memory ran
 * out: the caller keeps what it had and tries again).  Returns NULL, with
 * '*errorp' (malloc'd, if 'errorp' is nonnull), if the taps could not be
 * planned; the group's offloaded taps then stay as they were. */
struct vtap_plan *vtap_engine_apply(struct vtap_engine *, uint64_t group,
                                    const struct vtap_policy *policy,
                                    const struct vtap_plan_env *env,
                                    struct vtap_classifier **classifier,
                                    char **errorp);

/* Removes the offloaded taps of 'group' (a bridge that goes). */
void vtap_engine_remove_group(struct vtap_engine *, uint64_t group);

/* Gets the counters of offloaded tap 'owner'.  Returns false if it is not
 * offloaded. */
bool vtap_engine_get_ebpf_stats(const struct vtap_engine *, uint64_t owner,
                                struct vtap_ebpf_stats *);

/* Number of taps offloaded to eBPF, all groups together. */
size_t vtap_engine_n_ebpf_taps(const struct vtap_engine *);

/* Returns true if 'a' and 'b' hold the same taps (either may be NULL: no
 * taps), so that the caller can keep 'a' and the datapath flows built on
 * it. */
bool vtap_classifier_equal(const struct vtap_classifier *a,
                           const struct vtap_classifier *b);

#ifdef __cplusplus
}
#endif

#endif /* vtap/capi/vtap.h */
