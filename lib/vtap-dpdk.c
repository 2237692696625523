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

#include <config.h>

#include "vtap-dpdk.h"

#include <string.h>

#include "cmap.h"
#include "coverage.h"
#include "dp-packet.h"
#include "dpdk.h"
#include "hash.h"
#include "netdev.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "random.h"
#include "unixctl.h"
#include "userspace-tso.h"
#include "unaligned.h"
#include "util.h"
#include "vtap-odp.h"
#include "vtap/capi/vtap_dpdk.h"

#ifdef DPDK_NETDEV
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#endif

VLOG_DEFINE_THIS_MODULE(vtap_dpdk);

/* How the copies were made, process-wide ("ovs-appctl coverage/show"). */
COVERAGE_DEFINE(vtap_dpdk_zero_copy);
COVERAGE_DEFINE(vtap_dpdk_header_copy);
COVERAGE_DEFINE(vtap_dpdk_full_copy);
COVERAGE_DEFINE(vtap_dpdk_copy_failed);
COVERAGE_DEFINE(vtap_dpdk_sampled_out);

/* One tap's counters.  PMD threads find it by owner and add to it; only
 * the main thread inserts and removes it. */
struct vtap_dpdk_tap {
    struct cmap_node node;      /* In 'vtap_dpdk_taps'. */
    uint64_t owner;
    unsigned int refs;          /* Main thread only. */
    atomic_uint64_t packets;
    atomic_uint64_t bytes;
    atomic_uint64_t sampled_out;
    atomic_uint64_t failed;
    atomic_uint64_t by_mode[VTAP_DPDK_N_COPY_MODES];
};

static struct cmap vtap_dpdk_taps = CMAP_INITIALIZER;

/* Test hook (vtap/dpdk-force-copy-mode): a copy mode that overrides what
 * translation chose, or -1.  Forcing zero copy where the flow rewrites the
 * packet shows that the system tests catch a copy sharing data it should
 * not. */
static atomic_int forced_mode = ATOMIC_VAR_INIT(-1);

static struct vtap_dpdk_tap *
vtap_dpdk_tap_find(uint64_t owner)
{
    struct vtap_dpdk_tap *tap;

    CMAP_FOR_EACH_WITH_HASH (tap, node, hash_uint64(owner), &vtap_dpdk_taps) {
        if (tap->owner == owner) {
            return tap;
        }
    }
    return NULL;
}

void
vtap_dpdk_tap_ref(uint64_t owner)
{
    struct vtap_dpdk_tap *tap = vtap_dpdk_tap_find(owner);

    if (!tap) {
        tap = xzalloc(sizeof *tap);
        tap->owner = owner;
        cmap_insert(&vtap_dpdk_taps, &tap->node, hash_uint64(owner));
    }
    tap->refs++;
}

void
vtap_dpdk_tap_unref(uint64_t owner)
{
    struct vtap_dpdk_tap *tap = vtap_dpdk_tap_find(owner);

    if (tap && !--tap->refs) {
        cmap_remove(&vtap_dpdk_taps, &tap->node, hash_uint64(owner));
        ovsrcu_postpone(free, tap);
    }
}

bool
vtap_dpdk_get_stats(uint64_t owner, struct vtap_dpdk_stats *stats)
{
    const struct vtap_dpdk_tap *tap = vtap_dpdk_tap_find(owner);

    memset(stats, 0, sizeof *stats);
    if (!tap) {
        return false;
    }
    struct vtap_dpdk_tap *t = CONST_CAST(struct vtap_dpdk_tap *, tap);
    atomic_read_relaxed(&t->packets, &stats->packets);
    atomic_read_relaxed(&t->bytes, &stats->bytes);
    atomic_read_relaxed(&t->sampled_out, &stats->sampled_out);
    atomic_read_relaxed(&t->failed, &stats->failed);
    atomic_read_relaxed(&t->by_mode[VTAP_DPDK_ZERO_COPY],
                        &stats->zero_copies);
    atomic_read_relaxed(&t->by_mode[VTAP_DPDK_HEADER_COPY],
                        &stats->header_copies);
    atomic_read_relaxed(&t->by_mode[VTAP_DPDK_FULL_COPY],
                        &stats->full_copies);
    return true;
}

static void
vtap_dpdk_unixctl_force_mode(struct unixctl_conn *conn, int argc OVS_UNUSED,
                             const char *argv[], void *aux OVS_UNUSED)
{
    int mode = -1;

    for (int m = 0; m < VTAP_DPDK_N_COPY_MODES; m++) {
        if (!strcmp(argv[1], vtap_odp_copy_mode_to_string(m))) {
            mode = m;
        }
    }
    if (mode < 0 && strcmp(argv[1], "none")) {
        unixctl_command_reply_error(conn, "mode must be zero, header, full "
                                    "or none");
        return;
    }
    atomic_store_relaxed(&forced_mode, mode);
    unixctl_command_reply(conn, NULL);
}

static void
vtap_dpdk_register_commands(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("vtap/dpdk-force-copy-mode",
                                 "zero|header|full|none", 1, 1,
                                 vtap_dpdk_unixctl_force_mode, NULL);
        ovsthread_once_done(&once);
    }
}

bool
vtap_dpdk_netdev_is_dpdk(const struct netdev *netdev)
{
    const char *type = netdev ? netdev_get_type(netdev) : "";

    return (!strcmp(type, "dpdk") || !strcmp(type, "dpdkvhostuser")
            || !strcmp(type, "dpdkvhostuserclient"));
}

#ifdef DPDK_NETDEV

/* The copies' mbufs: enough for every monitor's TX queue to be full of
 * copies at once on a small node; header and indirect mbufs take one each,
 * full copies one per 2 kB. */
#define VTAP_DPDK_POOL_MBUFS 16383
#define VTAP_DPDK_POOL_CACHE 256

static struct rte_mempool *vtap_dpdk_pool;

static void
vtap_dpdk_init_mbuf(struct rte_mempool *mp OVS_UNUSED, void *opaque OVS_UNUSED,
                    void *obj, unsigned int idx OVS_UNUSED)
{
    /* As netdev-dpdk's pools: each mbuf is the start of a dp_packet. */
    dp_packet_init_dpdk(obj);
}

const char *
vtap_dpdk_unavailable(void)
{
    static char *why_not;

    vtap_dpdk_register_commands();
    if (vtap_dpdk_pool) {
        return NULL;
    }
    if (!dpdk_available()) {
        return "DPDK is not initialized (set other_config:dpdk-init=true)";
    }

    vtap_dpdk_pool = rte_pktmbuf_pool_create(
        "ovs_vtap_copies", VTAP_DPDK_POOL_MBUFS, VTAP_DPDK_POOL_CACHE,
        sizeof(struct dp_packet) - sizeof(struct rte_mbuf),
        RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!vtap_dpdk_pool) {
        free(why_not);
        why_not = xasprintf("cannot create the mempool of the copies (%u "
                            "mbufs): %s", VTAP_DPDK_POOL_MBUFS,
                            rte_strerror(rte_errno));
        VLOG_WARN("%s", why_not);
        return why_not;
    }
    rte_mempool_obj_iter(vtap_dpdk_pool, vtap_dpdk_init_mbuf, NULL);
    VLOG_INFO("DPDK clone path: %u mbufs for copies",
              VTAP_DPDK_POOL_MBUFS);
    return NULL;
}

bool
vtap_dpdk_pool_usage(unsigned int *in_use, unsigned int *size)
{
    if (!vtap_dpdk_pool) {
        *in_use = *size = 0;
        return false;
    }
    *in_use = rte_mempool_in_use_count(vtap_dpdk_pool);
    *size = vtap_dpdk_pool->size;
    return true;
}

/* Returns how many of the first bytes of 'packet' later actions may write:
 * its headers up to a bound into L4 that covers every field OVS rewrites
 * there (ports, checksums). */
static uint32_t
vtap_dpdk_header_bytes(const struct dp_packet *packet)
{
    uint32_t n = (packet->l4_ofs != UINT16_MAX ? packet->l4_ofs + 32
                  : packet->l3_ofs != UINT16_MAX ? packet->l3_ofs + 64
                  : 64);
    return MIN(n, dp_packet_size(packet));
}

void
vtap_dpdk_copy_batch(const struct ovs_action_vtap_copy *vc,
                     const struct dp_packet_batch *packets,
                     struct dp_packet_batch *copies)
{
    uint64_t n_packets = 0, n_bytes = 0, n_sampled_out = 0, n_failed = 0;
    uint64_t by_mode[VTAP_DPDK_N_COPY_MODES] = { 0 };
    struct dp_packet *packet;
    int forced;

    dp_packet_batch_init(copies);
    atomic_read_relaxed(&forced_mode, &forced);
    /* TSO makes drivers write into the data: no sharing at all then. */
    bool tso = userspace_tso_enabled();

    DP_PACKET_BATCH_FOR_EACH (i, packet, packets) {
        enum vtap_dpdk_copy_mode mode, used;
        struct rte_mbuf *m;

        /* Sampling first: a packet left out costs nothing more. */
        if (vc->probability != UINT32_MAX
            && (!vc->probability || random_uint32() > vc->probability)) {
            n_sampled_out++;
            continue;
        }

        mode = forced >= 0 ? forced : vc->mode;
        if (packet->source != DPBUF_DPDK || tso) {
            /* A packet that is not an mbuf cannot be shared. */
            mode = VTAP_DPDK_FULL_COPY;
        }
        m = vtap_dpdk_make_copy(&packet->mbuf, vtap_dpdk_pool, mode,
                                vtap_dpdk_header_bytes(packet), vc->snaplen,
                                vc->vlan_tci, &used);
        if (!m) {
            n_failed++;
            continue;
        }

        /* rte_pktmbuf_clone() and friends copy only the rte_mbuf: the
         * dp_packet fields after it are those of a fresh mbuf of our pool,
         * which OVS resets only on receive. */
        struct dp_packet *copy = (struct dp_packet *) m;
        copy->source = DPBUF_DPDK;
        copy->packet_type = htonl(PT_ETH);
        dp_packet_reset_cutlen(copy);
        dp_packet_reset_offsets(copy);
        /* Without a valid hash, transmit steering by hash would parse the
         * copy, whose data may be a chain. */
        dp_packet_set_rss_hash(copy, (dp_packet_rss_valid(packet)
                                      ? dp_packet_get_rss_hash(packet)
                                      : 0));
        dp_packet_batch_add(copies, copy);

        n_packets++;
        n_bytes += dp_packet_size(packet);
        by_mode[used]++;
    }

    COVERAGE_ADD(vtap_dpdk_zero_copy, by_mode[VTAP_DPDK_ZERO_COPY]);
    COVERAGE_ADD(vtap_dpdk_header_copy, by_mode[VTAP_DPDK_HEADER_COPY]);
    COVERAGE_ADD(vtap_dpdk_full_copy, by_mode[VTAP_DPDK_FULL_COPY]);
    COVERAGE_ADD(vtap_dpdk_copy_failed, n_failed);
    COVERAGE_ADD(vtap_dpdk_sampled_out, n_sampled_out);

    struct vtap_dpdk_tap *tap = vtap_dpdk_tap_find(
        get_32aligned_u64(&vc->owner));
    if (tap) {
        uint64_t orig;

        atomic_add_relaxed(&tap->packets, n_packets, &orig);
        atomic_add_relaxed(&tap->bytes, n_bytes, &orig);
        if (n_sampled_out) {
            atomic_add_relaxed(&tap->sampled_out, n_sampled_out, &orig);
        }
        if (n_failed) {
            atomic_add_relaxed(&tap->failed, n_failed, &orig);
        }
        for (int m = 0; m < VTAP_DPDK_N_COPY_MODES; m++) {
            if (by_mode[m]) {
                atomic_add_relaxed(&tap->by_mode[m], by_mode[m], &orig);
            }
        }
    }
}

#else  /* !DPDK_NETDEV */

const char *
vtap_dpdk_unavailable(void)
{
    vtap_dpdk_register_commands();
    return "this build has no DPDK";
}

bool
vtap_dpdk_pool_usage(unsigned int *in_use, unsigned int *size)
{
    *in_use = *size = 0;
    return false;
}

void
vtap_dpdk_copy_batch(const struct ovs_action_vtap_copy *vc OVS_UNUSED,
                     const struct dp_packet_batch *packets OVS_UNUSED,
                     struct dp_packet_batch *copies)
{
    /* Translation emits no copy action without DPDK: see
     * vtap_dpdk_unavailable(). */
    dp_packet_batch_init(copies);
}

#endif /* !DPDK_NETDEV */
