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

#include "coverage.h"
#include "dp-packet.h"
#include "dpdk.h"
#include "netdev-dpdk.h"
#include "netdev.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "unixctl.h"
#include "unaligned.h"
#include "util.h"
#include "vtap-odp.h"
#include "vtap/capi/vtap_mbuf.h"

#ifdef DPDK_NETDEV
#include <rte_config.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#endif

VLOG_DEFINE_THIS_MODULE(vtap_dpdk);

/* How the copies were made, process-wide ("ovs-appctl coverage/show"). */
COVERAGE_DEFINE(vtap_dpdk_zero_copy);
COVERAGE_DEFINE(vtap_dpdk_header_copy);
COVERAGE_DEFINE(vtap_dpdk_full_copy);
COVERAGE_DEFINE(vtap_dpdk_copy_failed);

/* Test hook (vtap/dpdk-force-copy-mode): a copy mode that overrides what
 * translation chose, or -1.  Forcing zero copy where the flow rewrites the
 * packet shows that the system tests catch a copy sharing data it should
 * not. */
static atomic_int forced_mode = ATOMIC_VAR_INIT(-1);

static void
vtap_dpdk_unixctl_force_mode(struct unixctl_conn *conn, int argc OVS_UNUSED,
                             const char *argv[], void *aux OVS_UNUSED)
{
    int mode = -1;

    for (int m = 0; m < VTAP_MBUF_N_COPY_MODES; m++) {
        if (!strcmp(argv[1], vtap_odp_mode_to_string(m))) {
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

static void vtap_dpdk_unixctl_pool_hold(struct unixctl_conn *, int argc,
                                        const char *argv[], void *aux);

static void
vtap_dpdk_register_commands(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        unixctl_command_register("vtap/dpdk-force-copy-mode",
                                 "zero|header|full|none", 1, 1,
                                 vtap_dpdk_unixctl_force_mode, NULL);
        unixctl_command_register("vtap/dpdk-pool-hold", "count|all", 1, 1,
                                 vtap_dpdk_unixctl_pool_hold, NULL);
        ovsthread_once_done(&once);
    }
}

bool
vtap_dpdk_type_is_dpdk(const char *type)
{
    return (type && (!strcmp(type, "dpdk") || !strcmp(type, "dpdkvhostuser")
                     || !strcmp(type, "dpdkvhostuserclient")));
}

bool
vtap_dpdk_netdev_is_dpdk(const struct netdev *netdev)
{
    return netdev && vtap_dpdk_type_is_dpdk(netdev_get_type(netdev));
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

/* Test hook (vtap/dpdk-pool-hold): mbufs of the copies' pool taken away,
 * as a monitor that never drains its queue would hold them. */
static struct rte_mbuf **vtap_dpdk_held;
static size_t vtap_dpdk_n_held;

static void
vtap_dpdk_unixctl_pool_hold(struct unixctl_conn *conn, int argc OVS_UNUSED,
                            const char *argv[], void *aux OVS_UNUSED)
{
    unsigned int count;

    if (!strcmp(argv[1], "all")) {
        count = UINT_MAX;
    } else if (!str_to_uint(argv[1], 10, &count)) {
        unixctl_command_reply_error(conn, "count: not a number");
        return;
    }
    if (!vtap_dpdk_pool) {
        unixctl_command_reply_error(conn, "no pool (no tap on the DPDK "
                                    "clone path yet)");
        return;
    }

    /* Give back what was held, then hold 'count' anew (0: none). */
    for (size_t i = 0; i < vtap_dpdk_n_held; i++) {
        rte_pktmbuf_free(vtap_dpdk_held[i]);
    }
    free(vtap_dpdk_held);
    vtap_dpdk_held = NULL;
    vtap_dpdk_n_held = 0;

    size_t allocated = 0;
    while (vtap_dpdk_n_held < count) {
        struct rte_mbuf *m = rte_pktmbuf_alloc(vtap_dpdk_pool);

        if (!m) {
            break;
        }
        if (vtap_dpdk_n_held >= allocated) {
            vtap_dpdk_held = x2nrealloc(vtap_dpdk_held, &allocated,
                                        sizeof *vtap_dpdk_held);
        }
        vtap_dpdk_held[vtap_dpdk_n_held++] = m;
    }

    char *reply = xasprintf("holding %"PRIuSIZE" mbufs", vtap_dpdk_n_held);
    unixctl_command_reply(conn, reply);
    free(reply);
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

bool
vtap_dpdk_netdev_single_seg(const struct netdev *netdev)
{
    int port_id = netdev_dpdk_get_port_id(CONST_CAST(struct netdev *, netdev));
    struct rte_eth_dev_info info;

    if (port_id < 0 || port_id >= RTE_MAX_ETHPORTS) {
        /* Not an ethdev: vhost-user ports take chains. */
        return false;
    }
    /* netdev-dpdk enables the offload on every port that has it (patch
     * 0009). */
    return (rte_eth_dev_info_get(port_id, &info)
            || !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS));
}

struct dp_packet *
vtap_dpdk_copy(const struct ovs_action_vtap_copy *vc,
               const struct dp_packet *packet, uint32_t len, int *mode_used)
{
    enum vtap_mbuf_copy_mode mode, used;
    struct rte_mbuf *m;
    int forced;

    atomic_read_relaxed(&forced_mode, &forced);
    mode = forced >= 0 ? forced : vc->mode;
    if (packet->source != DPBUF_DPDK) {
        /* A packet that is not an mbuf cannot be shared. */
        mode = VTAP_MBUF_FULL_COPY;
    }
    struct vtap_mbuf_copy_request req = {
        .mode = mode,
        .header_bytes = vtap_dpdk_header_bytes(packet),
        .snaplen = len,
        .vlan_tci = vc->vlan_tci,
        .single_segment = vc->flags & VTAP_ODP_F_SINGLE_SEG,
    };
    m = vtap_mbuf_make_copy(CONST_CAST(struct rte_mbuf *, &packet->mbuf),
                            vtap_dpdk_pool, &req, &used);
    if (!m) {
        COVERAGE_INC(vtap_dpdk_copy_failed);
        return NULL;
    }
    switch (used) {
    case VTAP_MBUF_ZERO_COPY: COVERAGE_INC(vtap_dpdk_zero_copy); break;
    case VTAP_MBUF_HEADER_COPY: COVERAGE_INC(vtap_dpdk_header_copy); break;
    case VTAP_MBUF_FULL_COPY: COVERAGE_INC(vtap_dpdk_full_copy); break;
    }
    *mode_used = used;

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
    return copy;
}

#else  /* !DPDK_NETDEV */

static void
vtap_dpdk_unixctl_pool_hold(struct unixctl_conn *conn, int argc OVS_UNUSED,
                            const char *argv[] OVS_UNUSED,
                            void *aux OVS_UNUSED)
{
    unixctl_command_reply_error(conn, "this build has no DPDK");
}

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

bool
vtap_dpdk_netdev_single_seg(const struct netdev *netdev OVS_UNUSED)
{
    return true;
}

struct dp_packet *
vtap_dpdk_copy(const struct ovs_action_vtap_copy *vc OVS_UNUSED,
               const struct dp_packet *packet OVS_UNUSED,
               uint32_t len OVS_UNUSED, int *mode_used OVS_UNUSED)
{
    /* Translation emits no DPDK copy without DPDK: see
     * vtap_dpdk_unavailable(). */
    return NULL;
}

#endif /* !DPDK_NETDEV */
