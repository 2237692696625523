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

#include "vtap/backends/ebpf/ebpf_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vtap/backends/ebpf/vtap_tc.skel.h"

namespace vtap {

namespace {

/* TCX attach types, spelled out because libbpf 1.1's and Linux 6.1's
 * headers predate them (kernel 6.6 added them). */
constexpr int kBpfTcxIngress = 46;
constexpr int kBpfTcxEgress = 47;

constexpr const char *kBpffsRoot = "/sys/fs/bpf";
constexpr unsigned long kBpffsMagic = 0xcafe4a11;

std::string
hook_name(const TcHook &hook)
{
    char name[IF_NAMESIZE] = "";
    std::string s;

    if (if_indextoname(hook.ifindex, name)) {
        s = std::string(name) + " (ifindex " + std::to_string(hook.ifindex)
            + ")";
    } else {
        s = "ifindex " + std::to_string(hook.ifindex);
    }
    return s + (hook.direction == VTAP_TC_INGRESS ? " ingress" : " egress");
}

/* Mounts bpffs on /sys/fs/bpf if nothing is mounted there. */
std::string
ensure_bpffs()
{
    struct statfs fs;

    if (!statfs(kBpffsRoot, &fs) && (unsigned long) fs.f_type == kBpffsMagic) {
        return "";
    }
    if (mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700")) {
        return std::string("mounting bpffs on ") + kBpffsRoot + ": "
               + errno_string(errno);
    }
    return "";
}

std::string
mkdir_p(const std::string &path)
{
    for (size_t pos = 1; pos != std::string::npos;) {
        pos = path.find('/', pos + 1);
        std::string part = path.substr(0, pos);

        if (mkdir(part.c_str(), 0700) && errno != EEXIST) {
            return "creating " + part + ": " + errno_string(errno);
        }
    }
    return "";
}

/* Removes 'dir' and then its parents up to the bpffs root, as long as they
 * are empty: the versioned directories are ours alone. */
void
rmdir_up(std::string dir)
{
    while (dir.size() > strlen(kBpffsRoot) + 1
           && dir.compare(0, strlen(kBpffsRoot), kBpffsRoot) == 0
           && !rmdir(dir.c_str())) {
        dir = dir.substr(0, dir.rfind('/'));
    }
}

bpf_tc_attach_point
tc_attach_point(uint32_t direction)
{
    return direction == VTAP_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

int
detach_clsact(uint32_t ifindex, uint32_t direction)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                .attach_point = tc_attach_point(direction));
    LIBBPF_OPTS(bpf_tc_opts, opts, .handle = VTAP_TC_CLSACT_HANDLE,
                .priority = VTAP_TC_CLSACT_PRIORITY);

    return bpf_tc_detach(&hook, &opts);
}

/* Removes the clsact qdisc of 'ifindex', with every filter still on it. */
int
destroy_clsact(uint32_t ifindex)
{
    LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(ifindex),
                .attach_point = static_cast<bpf_tc_attach_point>(
                    BPF_TC_INGRESS | BPF_TC_EGRESS));

    return bpf_tc_hook_destroy(&hook);
}

/* The key of this load's copy marks (VTAP_TC_MARK): random, with a nonzero
 * high half, so that marks without our key never name a slot. */
uint32_t
random_magic()
{
    uint32_t magic = 0;

    while (!(magic >> 16)) {
        if (getrandom(&magic, sizeof magic, 0) != sizeof magic) {
            magic = static_cast<uint32_t>(getpid()) << 16
                    ^ static_cast<uint32_t>(time(nullptr));
        }
    }
    return magic;
}

}  // namespace

std::string
errno_string(int error)
{
    return strerror(error < 0 ? -error : error);
}

std::string
EbpfBackend::default_pin_dir(const std::string &rundir)
{
    std::string instance;

    /* bpffs refuses names with a '.' (it keeps those for itself). */
    for (char c : rundir) {
        instance += isalnum(static_cast<unsigned char>(c)) || c == '-'
                    ? c : '_';
    }
    while (!instance.empty() && instance[0] == '_') {
        instance.erase(0, 1);
    }
    if (instance.empty()) {
        instance = "default";
    } else if (instance.size() > 200) {
        instance = instance.substr(instance.size() - 200);
    }
    return std::string(kBpffsRoot) + "/ovs-vtap/v"
           + std::to_string(VTAP_TC_ABI_VERSION) + "/" + instance;
}

std::string
EbpfBackend::remove_stale(const std::string &pin_dir)
{
    DIR *dir = opendir(pin_dir.c_str());
    std::string error;

    if (!dir) {
        return errno == ENOENT ? "" : pin_dir + ": " + errno_string(errno);
    }

    /* clsact filters outlive the process that attached them. */
    std::string attachments = pin_dir + "/vtap_attachments";
    int fd = bpf_obj_get(attachments.c_str());
    if (fd >= 0) {
        vtap_tc_hook_key key, next;
        vtap_tc_hook_key *prev = nullptr;

        std::set<uint32_t> created, kept;

        while (!bpf_map_get_next_key(fd, prev, &next)) {
            vtap_tc_attachment attachment;

            key = next;
            prev = &key;
            if (!bpf_map_lookup_elem(fd, &key, &attachment)
                && attachment.mode == VTAP_TC_ATTACH_CLSACT) {
                int r = detach_clsact(key.ifindex, key.direction);
                if (r && r != -ENOENT && r != -ENODEV && r != -EINVAL) {
                    error = "removing the clsact filter on ifindex "
                            + std::to_string(key.ifindex) + ": "
                            + errno_string(r);
                    kept.insert(key.ifindex);
                }
                if (attachment.flags & VTAP_TC_ATTACH_F_CREATED_QDISC) {
                    created.insert(key.ifindex);
                }
            }
        }
        close(fd);

        /* Qdiscs that the earlier process created, once its filters are
         * gone; never one that was there before it. */
        for (uint32_t ifindex : created) {
            if (!kept.count(ifindex)) {
                destroy_clsact(ifindex);
            }
        }
    }

    while (struct dirent *de = readdir(dir)) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            std::string path = pin_dir + "/" + de->d_name;

            if (unlink(path.c_str()) && error.empty()) {
                error = "removing " + path + ": " + errno_string(errno);
            }
        }
    }
    closedir(dir);
    rmdir_up(pin_dir);
    return error;
}

std::unique_ptr<EbpfBackend>
EbpfBackend::create(const std::string &pin_dir, AttachMode mode,
                    std::string *error)
{
    std::unique_ptr<EbpfBackend> backend(new EbpfBackend);

    *error = backend->load(pin_dir, mode);
    if (!error->empty()) {
        return nullptr;
    }
    return backend;
}

std::string
EbpfBackend::load(const std::string &pin_dir, AttachMode mode)
{
    std::string error;

    mode_ = mode;
    if (!pin_dir.empty()) {
        if (pin_dir.compare(0, strlen(kBpffsRoot), kBpffsRoot) == 0) {
            error = ensure_bpffs();
        }
        if (error.empty()) {
            error = mkdir_p(pin_dir);
        }
        if (!error.empty()) {
            return error;
        }
    }

    skel_ = vtap_tc__open();
    if (!skel_) {
        return "opening the TC program: " + errno_string(errno);
    }
    if (!pin_dir.empty()) {
        struct bpf_map *map;

        bpf_object__for_each_map (map, skel_->obj) {
            if (!bpf_map__is_internal(map)) {
                std::string path = pin_dir + "/" + bpf_map__name(map);
                bpf_map__set_pin_path(map, path.c_str());
            }
        }
    }
    magic_ = random_magic();
    skel_->rodata->vtap_mark_magic = magic_;
    int r = vtap_tc__load(skel_);
    if (r) {
        error = "loading the TC program: " + errno_string(r);
        if (!pin_dir.empty()) {
            /* libbpf may have pinned some maps before it failed. */
            remove_stale(pin_dir);
        }
        vtap_tc__destroy(skel_);
        skel_ = nullptr;
        return error;
    }
    pin_dir_ = pin_dir;
    if (!pin_dir.empty()) {
        std::string in = pin_dir + "/vtap_tc_ingress";
        std::string eg = pin_dir + "/vtap_tc_egress";

        if (bpf_program__pin(skel_->progs.vtap_tc_ingress, in.c_str())
            || bpf_program__pin(skel_->progs.vtap_tc_egress, eg.c_str())) {
            error = "pinning the TC program in " + pin_dir + ": "
                    + errno_string(errno);
            unpin_all();
            vtap_tc__destroy(skel_);
            skel_ = nullptr;
            return error;
        }
    }

    applied_.reset(new TcTables(&mask_ids_));
    return "";
}

void
EbpfBackend::unpin_all()
{
    if (pin_dir_.empty() || !skel_) {
        return;
    }
    struct bpf_map *map;
    bpf_object__for_each_map (map, skel_->obj) {
        if (!bpf_map__is_internal(map)) {
            bpf_map__unpin(map, nullptr);
        }
    }
    unlink((pin_dir_ + "/vtap_tc_ingress").c_str());
    unlink((pin_dir_ + "/vtap_tc_egress").c_str());
    rmdir_up(pin_dir_);
}

EbpfBackend::~EbpfBackend()
{
    while (!attachments_.empty()) {
        detach(attachments_.begin()->first);
    }
    unpin_all();
    if (skel_) {
        vtap_tc__destroy(skel_);
    }
}

int
EbpfBackend::ingress_prog_fd() const
{
    return bpf_program__fd(skel_->progs.vtap_tc_ingress);
}

int
EbpfBackend::egress_prog_fd() const
{
    return bpf_program__fd(skel_->progs.vtap_tc_egress);
}

int
EbpfBackend::map_fd(const char *name) const
{
    struct bpf_map *map = bpf_object__find_map_by_name(skel_->obj, name);

    return map ? bpf_map__fd(map) : -1;
}

std::set<TcHook>
EbpfBackend::attached() const
{
    std::set<TcHook> hooks;

    for (const auto &entry : attachments_) {
        hooks.insert(entry.first);
    }
    return hooks;
}

std::string
EbpfBackend::attach(const TcHook &hook)
{
    int prog_fd = (hook.direction == VTAP_TC_INGRESS
                   ? ingress_prog_fd() : egress_prog_fd());
    Attachment attachment{0, -1, false};
    std::string tcx_error;

    if (mode_ != AttachMode::kClsact) {
        int fd = bpf_link_create(prog_fd, static_cast<int>(hook.ifindex),
                                 static_cast<bpf_attach_type>(
                                     hook.direction == VTAP_TC_INGRESS
                                     ? kBpfTcxIngress : kBpfTcxEgress),
                                 nullptr);
        if (fd >= 0) {
            attachment.mode = VTAP_TC_ATTACH_TCX;
            attachment.link_fd = fd;
        } else {
            tcx_error = errno_string(fd);
            if (mode_ == AttachMode::kTcx || fd == -ENODEV) {
                return "attaching the TC program to " + hook_name(hook)
                       + " with TCX: " + tcx_error;
            }
        }
    }
    if (!attachment.mode) {
        LIBBPF_OPTS(bpf_tc_hook, tc_hook,
                    .ifindex = static_cast<int>(hook.ifindex),
                    .attach_point = tc_attach_point(hook.direction));
        LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd,
                    .flags = BPF_TC_F_REPLACE,
                    .handle = VTAP_TC_CLSACT_HANDLE,
                    .priority = VTAP_TC_CLSACT_PRIORITY);

        /* An existing clsact qdisc is fine; keep libbpf from logging the
         * kernel's "exclusivity flag on" message about it as a problem. */
        libbpf_print_fn_t print = libbpf_set_print(nullptr);
        int r = bpf_tc_hook_create(&tc_hook);
        libbpf_set_print(print);
        if (r && r != -EEXIST) {
            return "creating a clsact qdisc on " + hook_name(hook) + ": "
                   + errno_string(r);
        }
        if (!r) {
            created_qdiscs_.insert(hook.ifindex);
        }
        attachment.created_qdisc = created_qdiscs_.count(hook.ifindex);
        r = bpf_tc_attach(&tc_hook, &opts);
        if (r) {
            remove_created_qdisc(hook.ifindex);
            return "attaching the TC program to " + hook_name(hook)
                   + " with clsact: " + errno_string(r)
                   + (tcx_error.empty() ? "" : " (TCX: " + tcx_error + ")");
        }
        attachment.mode = VTAP_TC_ATTACH_CLSACT;
    }

    /* Without its record, a clsact filter would outlive a crash of this
     * process unnoticed: no record, no attachment. */
    vtap_tc_hook_key key{hook.ifindex, hook.direction};
    vtap_tc_attachment record{attachment.mode,
                              attachment.created_qdisc
                              ? VTAP_TC_ATTACH_F_CREATED_QDISC : 0u};
    int r = map_update(skel_->maps.vtap_attachments, &key, sizeof key,
                       &record, sizeof record, BPF_ANY);
    if (r) {
        if (attachment.mode == VTAP_TC_ATTACH_TCX) {
            bpf_link_detach(attachment.link_fd);
            close(attachment.link_fd);
        } else {
            detach_clsact(hook.ifindex, hook.direction);
            remove_created_qdisc(hook.ifindex);
        }
        return "recording the attachment to " + hook_name(hook) + ": "
               + errno_string(r);
    }
    attachments_[hook] = attachment;
    return "";
}

void
EbpfBackend::remove_created_qdisc(uint32_t ifindex)
{
    if (!created_qdiscs_.count(ifindex)) {
        return;
    }
    for (const auto &entry : attachments_) {
        if (entry.first.ifindex == ifindex
            && entry.second.mode == VTAP_TC_ATTACH_CLSACT) {
            return;             /* Still holds a filter of ours. */
        }
    }
    /* We created it, so nobody had filters there before us.  (Filters that
     * another user added to it since go with it, as they would if the
     * device went away.)  The device may be gone already. */
    destroy_clsact(ifindex);
    created_qdiscs_.erase(ifindex);
}

void
EbpfBackend::detach(const TcHook &hook)
{
    auto it = attachments_.find(hook);

    if (it == attachments_.end()) {
        return;
    }
    if (it->second.mode == VTAP_TC_ATTACH_TCX) {
        bpf_link_detach(it->second.link_fd);
        close(it->second.link_fd);
    } else {
        /* The device may be gone already, taking the filter with it. */
        detach_clsact(hook.ifindex, hook.direction);
    }
    bool clsact = it->second.mode == VTAP_TC_ATTACH_CLSACT;
    vtap_tc_hook_key key{hook.ifindex, hook.direction};
    bpf_map__delete_elem(skel_->maps.vtap_attachments, &key, sizeof key, 0);
    /* 'hook' may be the key of 'it' itself: erasing frees it. */
    uint32_t ifindex = hook.ifindex;
    attachments_.erase(it);
    if (clsact) {
        remove_created_qdisc(ifindex);
    }
}

}  // namespace vtap
