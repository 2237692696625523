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

/* The BPF program and the C++ loader share vtap_tc.h and flow_key.h, but
 * clang -target bpf and g++ compile them separately.  These tests read the
 * layout clang actually produced (the BTF in the object that the skeleton
 * embeds) and compare every member's offset and every struct's size with
 * what g++ made of the same header. */

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "vtap/backends/ebpf/vtap_tc.h"
#include "vtap/backends/ebpf/vtap_tc.skel.h"

namespace {

/* Every shared struct and member: X(STRUCT, MEMBER). */
#define VTAP_SHARED_MEMBERS(X)                  \
    X(vtap_flow_key, eth_src)                   \
    X(vtap_flow_key, eth_dst)                   \
    X(vtap_flow_key, vlan_tci)                  \
    X(vtap_flow_key, eth_type)                  \
    X(vtap_flow_key, ip_proto)                  \
    X(vtap_flow_key, pad)                       \
    X(vtap_flow_key, ipv4_src)                  \
    X(vtap_flow_key, ipv4_dst)                  \
    X(vtap_flow_key, ipv6_src)                  \
    X(vtap_flow_key, ipv6_dst)                  \
    X(vtap_flow_key, tp_src)                    \
    X(vtap_flow_key, tp_dst)                    \
    X(vtap_tc_hook_key, ifindex)                \
    X(vtap_tc_hook_key, direction)              \
    X(vtap_tc_hook, n_masks)                    \
    X(vtap_tc_hook, mask_ids)                   \
    X(vtap_tc_hook, n_all)                      \
    X(vtap_tc_hook, all_slots)                  \
    X(vtap_tc_rule_key, ifindex)                \
    X(vtap_tc_rule_key, direction)              \
    X(vtap_tc_rule_key, mask_id)                \
    X(vtap_tc_rule_key, key)                    \
    X(vtap_tc_rule, n_taps)                     \
    X(vtap_tc_rule, slots)                      \
    X(vtap_tc_tap, out_ifindex)                 \
    X(vtap_tc_tap, output_vlan)                 \
    X(vtap_tc_tap, flags)                       \
    X(vtap_tc_tap, snaplen)                     \
    X(vtap_tc_tap, sample_threshold)            \
    X(vtap_tc_tap, rate_per_sec)                \
    X(vtap_tc_tap, burst)                       \
    X(vtap_tc_rate, lock)                       \
    X(vtap_tc_rate, tokens)                     \
    X(vtap_tc_rate, last_ns)                    \
    X(vtap_tc_stats, packets)                   \
    X(vtap_tc_stats, bytes)                     \
    X(vtap_tc_stats, failed)                    \
    X(vtap_tc_stats, sampled_out)               \
    X(vtap_tc_stats, rate_limited)              \
    X(vtap_tc_attachment, mode)                 \
    X(vtap_tc_attachment, flags)

#define VTAP_SHARED_STRUCTS(X)                  \
    X(vtap_flow_key)                            \
    X(vtap_tc_hook_key)                         \
    X(vtap_tc_hook)                             \
    X(vtap_tc_rule_key)                         \
    X(vtap_tc_rule)                             \
    X(vtap_tc_tap)                              \
    X(vtap_tc_rate)                             \
    X(vtap_tc_stats)                            \
    X(vtap_tc_attachment)

class EbpfLayout : public ::testing::Test {
protected:
    void SetUp() override
    {
        size_t size;
        const void *elf = vtap_tc__elf_bytes(&size);
        obj_ = bpf_object__open_mem(elf, size, nullptr);
        ASSERT_NE(obj_, nullptr);
        btf_ = bpf_object__btf(obj_);
        ASSERT_NE(btf_, nullptr);
    }
    void TearDown() override { bpf_object__close(obj_); }

    const struct btf_type *find_struct(const char *name, int *id)
    {
        *id = btf__find_by_name_kind(btf_, name, BTF_KIND_STRUCT);
        return *id > 0 ? btf__type_by_id(btf_, *id) : nullptr;
    }

    /* Offset in bytes of 'member' of struct 'name' in the BPF object, or
     * -1 if the BTF has no such member. */
    long bpf_offset(const char *name, const char *member)
    {
        int id;
        const struct btf_type *t = find_struct(name, &id);
        if (!t) {
            return -1;
        }
        const struct btf_member *m = btf_members(t);
        for (int i = 0; i < btf_vlen(t); i++, m++) {
            if (std::string(btf__name_by_offset(btf_, m->name_off))
                == member) {
                return btf_member_bit_offset(t, i) / 8;
            }
        }
        return -1;
    }

    long bpf_size(const char *name)
    {
        int id;
        return find_struct(name, &id) ? btf__resolve_size(btf_, id) : -1;
    }

    struct bpf_object *obj_ = nullptr;
    struct btf *btf_ = nullptr;
};

TEST_F(EbpfLayout, MemberOffsetsAgree)
{
#define CHECK_MEMBER(STRUCT, MEMBER)                                    \
    EXPECT_EQ(bpf_offset(#STRUCT, #MEMBER),                             \
              static_cast<long>(offsetof(struct STRUCT, MEMBER)))       \
        << #STRUCT "." #MEMBER;
    VTAP_SHARED_MEMBERS(CHECK_MEMBER)
#undef CHECK_MEMBER
}

TEST_F(EbpfLayout, StructSizesAgree)
{
#define CHECK_SIZE(STRUCT)                                              \
    EXPECT_EQ(bpf_size(#STRUCT), static_cast<long>(sizeof(struct STRUCT))) \
        << #STRUCT;
    VTAP_SHARED_STRUCTS(CHECK_SIZE)
#undef CHECK_SIZE
}

/* Every member that BTF knows is in the list above, so that a member added
 * to vtap_tc.h cannot escape the offset check. */
TEST_F(EbpfLayout, EveryMemberIsChecked)
{
    std::set<std::string> listed;
#define LIST_MEMBER(STRUCT, MEMBER) listed.insert(#STRUCT "." #MEMBER);
    VTAP_SHARED_MEMBERS(LIST_MEMBER)
#undef LIST_MEMBER

#define CHECK_LISTED(STRUCT)                                            \
    {                                                                   \
        int id;                                                         \
        const struct btf_type *t = find_struct(#STRUCT, &id);           \
        ASSERT_NE(t, nullptr) << #STRUCT;                               \
        const struct btf_member *m = btf_members(t);                    \
        for (int i = 0; i < btf_vlen(t); i++, m++) {                    \
            std::string name = btf__name_by_offset(btf_, m->name_off);  \
            if (name != "pad") {                                        \
                EXPECT_TRUE(listed.count(#STRUCT "." + name))           \
                    << #STRUCT "." << name << " is not checked";        \
            }                                                           \
        }                                                               \
    }
    VTAP_SHARED_STRUCTS(CHECK_LISTED)
#undef CHECK_LISTED
}

}  // namespace
