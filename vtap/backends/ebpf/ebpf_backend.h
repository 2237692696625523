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

#ifndef VTAP_BACKENDS_EBPF_EBPF_BACKEND_H
#define VTAP_BACKENDS_EBPF_EBPF_BACKEND_H 1

/* The eBPF backend: loads vtap_tc.bpf.c (through its libbpf skeleton),
 * keeps its maps in step with the offloaded taps, attaches it to the kernel
 * devices that need it and detaches it from those that no longer do.
 *
 * One backend serves a whole process: devices and their TC hooks are global,
 * so the taps of every bridge share one program and one set of maps.  Each
 * bridge is a "group" whose taps are replaced as a whole on every change.
 *
 * Hooks: TCX (bpf_link, kernel 6.6 and later) where the kernel has it, a
 * clsact filter with our own handle and priority otherwise.  TCX links are
 * not pinned, so they go away with the process; clsact filters outlive it,
 * so where they are is recorded in the pinned 'vtap_attachments' map.
 *
 * Pins: the maps and programs are pinned under 'pin_dir' (normally
 * /sys/fs/bpf/ovs-vtap/v<ABI>/<instance>, see default_pin_dir()), so that an
 * operator can inspect them with bpftool and a restarted ovs-vswitchd finds
 * what an earlier run left (remove_stale()).  Everything is unpinned and
 * detached when the backend is destroyed.
 *
 * Two rooms: ebpf_backend.cc has the program's lifecycle (load, pins, TC
 * hooks), ebpf_maps.cc the maps' contents (slots, rules, counters). */

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/backends/ebpf/tc_tables.h"

struct bpf_map;
struct vtap_tc;

namespace vtap {

class EbpfBackend {
public:
    /* How the program is hooked into TC. */
    enum class AttachMode { kAuto, kTcx, kClsact };

    /* Loads the program.  'pin_dir' is where to pin (created as needed;
     * bpffs is mounted on /sys/fs/bpf if it is not), or "" not to pin at
     * all (unit tests).  Returns nullptr and sets '*error' on failure. */
    static std::unique_ptr<EbpfBackend> create(const std::string &pin_dir,
                                               AttachMode mode,
                                               std::string *error);

    /* Detaches from every device and removes every pin. */
    ~EbpfBackend();

    EbpfBackend(const EbpfBackend &) = delete;
    EbpfBackend &operator=(const EbpfBackend &) = delete;

    /* Removes what an earlier process left under 'pin_dir': clsact filters
     * it recorded, pinned maps and programs.  Returns "" on success (also
     * when there was nothing), otherwise what could not be removed. */
    static std::string remove_stale(const std::string &pin_dir);

    /* The pin directory for an ovs-vswitchd whose run directory is
     * 'rundir', so that two OVS instances on one host (a sandbox and the
     * system one, say) never touch each other's objects. */
    static std::string default_pin_dir(const std::string &rundir);

    /* Replaces the taps of 'group' by 'taps'.  Returns one string per tap:
     * "" if it is offloaded, otherwise why not (a program limit, or a device
     * the program could not be attached to).  Taps that are not offloaded
     * make no copies here. */
    std::vector<std::string> set_group(uint64_t group,
                                       const std::vector<TcTap> &taps);

    /* Sums the per-CPU counters of the offloaded tap 'owner'.  Returns
     * false if no such tap is offloaded. */
    bool get_stats(uint64_t owner, vtap_tc_stats *stats) const;

    /* For tests: makes the 'n'th map update or delete from now on fail
     * with 'error' (a negative errno), once; 0 disarms. */
    void fail_map_op(int n, int error)
    {
        fail_countdown_ = n;
        fail_error_ = error;
    }

    /* For tests: the slot (index into the per-tap maps) of 'owner'.
     * Returns false if 'owner' is not offloaded. */
    bool slot_of(uint64_t owner, uint32_t *slot) const;

    /* Number of taps offloaded, all groups together. */
    size_t n_taps() const { return slots_.size(); }

    /* The hooks where the program is attached now. */
    std::set<TcHook> attached() const;

    /* The key of this load's copy marks (VTAP_TC_MARK). */
    uint32_t mark_magic() const { return magic_; }

    /* For tests: the programs' and maps' file descriptors. */
    int ingress_prog_fd() const;
    int egress_prog_fd() const;
    int map_fd(const char *name) const;

private:
    struct Attachment {
        uint32_t mode;          /* VTAP_TC_ATTACH_*. */
        int link_fd;            /* TCX link, -1 for clsact. */
        bool created_qdisc;     /* clsact qdisc was created by us. */
    };

    EbpfBackend() = default;

    /* ebpf_backend.cc: the program's lifecycle. */
    std::string load(const std::string &pin_dir, AttachMode mode);
    std::string attach(const TcHook &hook);
    void detach(const TcHook &hook);
    void remove_created_qdisc(uint32_t ifindex);
    void unpin_all();

    /* ebpf_maps.cc: the maps' contents. */
    bool write_maps(const TcTables &want, std::string *error,
                    std::set<uint32_t> *culprits);
    std::string reset_slot(uint32_t slot, const vtap_tc_tap &entry);
    int map_update(struct bpf_map *map, const void *key, size_t key_size,
                   const void *value, size_t value_size, uint64_t flags);
    int map_delete(struct bpf_map *map, const void *key, size_t key_size);

    vtap_tc *skel_ = nullptr;
    std::string pin_dir_;
    AttachMode mode_ = AttachMode::kAuto;
    uint32_t magic_ = 0;

    std::map<uint64_t, std::vector<TcTap>> groups_;
    std::map<uint64_t, uint32_t> slots_;        /* Owner to slot. */
    std::set<uint32_t> free_slots_;
    std::set<uint32_t> dirty_slots_;    /* Unused, but their 'vtap_taps'
                                         * entry could not be cleared: not
                                         * reused until it is. */
    std::set<uint32_t> created_qdiscs_; /* Ifindexes whose clsact qdisc we
                                         * created. */
    int fail_countdown_ = 0;            /* See fail_map_op(). */
    int fail_error_ = 0;
    uint32_t next_slot_ = 0;
    TcMaskIds mask_ids_;
    std::unique_ptr<TcTables> applied_;         /* What the maps hold. */
    std::map<TcHook, Attachment> attachments_;
};

/* strerror() of 'error', an errno value or a libbpf return value (its
 * negative). */
std::string errno_string(int error);

}  // namespace vtap

#endif /* vtap/backends/ebpf/ebpf_backend.h */
