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

#include "vtap-exec.h"

#include <string.h>

#include "cmap.h"
#include "coverage.h"
#include "dp-packet.h"
#include "hash.h"
#include "netdev.h"
#include "netdev-provider.h"
#include "odp-util.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "random.h"
#include "unaligned.h"
#include "util.h"
#include "vtap-dpdk.h"
#include "vtap-odp.h"
#include "vtap-send.h"

VLOG_DEFINE_THIS_MODULE(vtap_exec);

/* Process-wide ("ovs-appctl coverage/show"): copies handed to a port, and
 * copies that failed, by any path. */
COVERAGE_DEFINE(vtap_copy);
COVERAGE_DEFINE(vtap_copy_failed);

/* One tap's counters and token bucket.  Datapath threads find it by owner;
 * only the main thread inserts and removes it. */
struct vtap_exec_tap {
    struct cmap_node node;      /* In 'vtap_exec_taps'. */
    uint64_t owner;
    unsigned int refs;          /* Main thread only. */

    atomic_uint64_t selected_packets;
    atomic_uint64_t selected_bytes;
    atomic_uint64_t sampled_out;
    atomic_uint64_t tx_dropped;
    atomic_uint64_t tx_packets;
    atomic_uint64_t tx_bytes;
    atomic_uint64_t tx_errors;
    atomic_uint64_t by_mode[VTAP_ODP_N_MODES];

    /* max_rate's token bucket, made with the first copy that it limits:
     * most taps have no max_rate, and a switch may have 10,000 taps. */
    OVSRCU_TYPE(struct vtap_exec_bucket *) bucket;
};

/* A tap's token bucket: 'tokens' millionths of a copy, at most a second's
 * worth, as of 'last' (microseconds). */
struct vtap_exec_bucket {
    struct ovs_mutex mutex;
    uint32_t rate OVS_GUARDED;
    int64_t tokens OVS_GUARDED;
    long long int last OVS_GUARDED;
};

/* Serializes the creation of buckets, which happens at most once a tap. */
static struct ovs_mutex vtap_exec_bucket_mutex = OVS_MUTEX_INITIALIZER;

BUILD_ASSERT_DECL(VTAP_ODP_N_MODES
                  == ARRAY_SIZE(((struct vtap_exec_stats *) 0)->by_mode));

static struct cmap vtap_exec_taps = CMAP_INITIALIZER;

static struct vtap_exec_tap *
vtap_exec_tap_find(uint64_t owner)
{
    struct vtap_exec_tap *tap;

    CMAP_FOR_EACH_WITH_HASH (tap, node, hash_uint64(owner), &vtap_exec_taps) {
        if (tap->owner == owner) {
            return tap;
        }
    }
    return NULL;
}

void
vtap_exec_tap_ref(uint64_t owner)
{
    struct vtap_exec_tap *tap = vtap_exec_tap_find(owner);

    if (!tap) {
        tap = xzalloc(sizeof *tap);
        tap->owner = owner;
        ovsrcu_init(&tap->bucket, NULL);
        cmap_insert(&vtap_exec_taps, &tap->node, hash_uint64(owner));
    }
    tap->refs++;
}

static void
vtap_exec_tap_free(struct vtap_exec_tap *tap)
{
    struct vtap_exec_bucket *bucket;

    bucket = ovsrcu_get_protected(struct vtap_exec_bucket *, &tap->bucket);
    if (bucket) {
        ovs_mutex_destroy(&bucket->mutex);
        free(bucket);
    }
    free(tap);
}

/* Returns 'tap''s token bucket, made the first time. */
static struct vtap_exec_bucket *
vtap_exec_bucket(struct vtap_exec_tap *tap)
{
    struct vtap_exec_bucket *bucket;

    bucket = ovsrcu_get(struct vtap_exec_bucket *, &tap->bucket);
    if (!bucket) {
        ovs_mutex_lock(&vtap_exec_bucket_mutex);
        bucket = ovsrcu_get_protected(struct vtap_exec_bucket *,
                                      &tap->bucket);
        if (!bucket) {
            bucket = xzalloc(sizeof *bucket);
            ovs_mutex_init(&bucket->mutex);
            ovsrcu_set(&tap->bucket, bucket);
        }
        ovs_mutex_unlock(&vtap_exec_bucket_mutex);
    }
    return bucket;
}

void
vtap_exec_tap_unref(uint64_t owner)
{
    struct vtap_exec_tap *tap = vtap_exec_tap_find(owner);

    if (tap && !--tap->refs) {
        cmap_remove(&vtap_exec_taps, &tap->node, hash_uint64(owner));
        ovsrcu_postpone(vtap_exec_tap_free, tap);
    }
}

bool
vtap_exec_get_stats(uint64_t owner, struct vtap_exec_stats *stats)
{
    struct vtap_exec_tap *tap = vtap_exec_tap_find(owner);

    memset(stats, 0, sizeof *stats);
    if (!tap) {
        return false;
    }
    atomic_read_relaxed(&tap->selected_packets, &stats->selected_packets);
    atomic_read_relaxed(&tap->selected_bytes, &stats->selected_bytes);
    atomic_read_relaxed(&tap->sampled_out, &stats->sampled_out);
    atomic_read_relaxed(&tap->tx_dropped, &stats->tx_dropped);
    atomic_read_relaxed(&tap->tx_packets, &stats->tx_packets);
    atomic_read_relaxed(&tap->tx_bytes, &stats->tx_bytes);
    atomic_read_relaxed(&tap->tx_errors, &stats->tx_errors);
    for (int m = 0; m < VTAP_ODP_N_MODES; m++) {
        atomic_read_relaxed(&tap->by_mode[m], &stats->by_mode[m]);
    }
    return true;
}

static void
vtap_exec_count(atomic_uint64_t *counter, uint64_t n)
{
    if (n) {
        uint64_t orig;

        atomic_add_relaxed(counter, n, &orig);
    }
}

/* Returns how many of 'n' copies the token bucket of 'tap' lets through at
 * 'now', for 'rate' copies per second with a burst of one second's worth.
 * Threads may pass times a little out of order: time never runs backwards
 * for the bucket, so none refills it twice. */
static size_t
vtap_exec_admit(struct vtap_exec_tap *tap, uint32_t rate, long long int now,
                size_t n)
{
    const int64_t per_copy = 1000000;   /* Tokens per copy, per second in
                                         * microseconds. */
    const int64_t depth = (int64_t) rate * per_copy;
    struct vtap_exec_bucket *b = vtap_exec_bucket(tap);
    size_t admitted;

    ovs_mutex_lock(&b->mutex);
    if (b->rate != rate) {
        /* A new limit starts with a full second's worth. */
        b->rate = rate;
        b->tokens = depth;
        b->last = now;
    } else if (now > b->last) {
        int64_t elapsed = MIN(now - b->last, per_copy);

        b->tokens = MIN(depth, b->tokens + elapsed * rate);
        b->last = now;
    }
    admitted = MIN(n, b->tokens / per_copy);
    b->tokens -= admitted * per_copy;
    ovs_mutex_unlock(&b->mutex);
    return admitted;
}

/* Returns the length of the copy of a packet of 'size' bytes (where the
 * tap took it) that 'vc' asks for: with its tag, at most the snap length.
 * Translation makes the snap length of a tagged copy at least a tagged
 * Ethernet header's. */
static uint32_t
vtap_exec_copy_len(const struct ovs_action_vtap_copy *vc, uint32_t size)
{
    uint32_t len = size + (vc->vlan_tci ? VLAN_HEADER_LEN : 0);

    return vc->snaplen ? MIN(len, vc->snaplen) : len;
}

/* Returns true if 'netdev' (NULL if the port is gone, which translation
 * has yet to see) can send what it is given.  A device that is down drops
 * what OVS's output hands it, and counts it, at best, in its own
 * statistics: the copies would count as sent while none left.  (The socket
 * copy path needs no look: the kernel refuses what a down device cannot
 * send, and says so.) */
static bool
vtap_exec_port_up(const struct netdev *netdev)
{
    return netdev && netdev_get_carrier(netdev);
}

/* Makes in 'clones' a clone of each of the 'n' 'packets', cut to 'sizes'.
 * The nested actions of a clone copy then tag it and cut it to the snap
 * length, as a sample() would. */
static void
vtap_exec_clone(const struct dp_packet *packets[], const uint32_t sizes[],
                size_t n, struct dp_packet_batch *clones)
{
    dp_packet_batch_init(clones);
    for (size_t i = 0; i < n; i++) {
        struct dp_packet *clone = dp_packet_clone(packets[i]);

        /* What crossed the port: a truncation pending on the packet
         * applies to its copy now, before the copy's own snap length. */
        dp_packet_set_size(clone, sizes[i]);
        dp_packet_reset_cutlen(clone);
        dp_packet_batch_add(clones, clone);
    }
}

void
vtap_exec_copy(const struct nlattr *a, const struct dp_packet_batch *packets,
               long long int now, const struct vtap_exec_ops *ops, void *aux)
{
    const struct ovs_action_vtap_copy *vc;
    const struct nlattr *nested;
    size_t nested_len;

    vc = vtap_odp_get_copy(a, &nested, &nested_len);
    struct vtap_exec_tap *tap = (vc
                                 ? vtap_exec_tap_find(
                                     get_32aligned_u64(&vc->owner))
                                 : NULL);
    if (!tap) {
        /* A tap that no longer exists (its cached flows are about to be
         * revalidated) makes no copies. */
        return;
    }

    /* 1 and 2: selection and sampling. */
    const struct dp_packet *chosen[NETDEV_MAX_BURST];
    uint32_t sizes[NETDEV_MAX_BURST];
    uint64_t selected_bytes = 0;
    size_t n = 0, n_sampled_out = 0;
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, packets) {
        uint32_t size = dp_packet_size(packet) - dp_packet_get_cutlen(packet);

        selected_bytes += size;
        if (vc->probability != UINT32_MAX
            && (!vc->probability || random_uint32() > vc->probability)) {
            n_sampled_out++;
            continue;
        }
        chosen[n] = packet;
        sizes[n++] = size;
    }
    vtap_exec_count(&tap->selected_packets, dp_packet_batch_size(packets));
    vtap_exec_count(&tap->selected_bytes, selected_bytes);
    vtap_exec_count(&tap->sampled_out, n_sampled_out);

    /* 3: max_rate. */
    if (vc->max_rate && n) {
        size_t admitted = vtap_exec_admit(tap, vc->max_rate, now, n);

        vtap_exec_count(&tap->tx_dropped, n - admitted);
        n = admitted;
    }
    if (!n) {
        return;
    }

    /* 4: the copies, handed to the monitor's port. */
    odp_port_t port = u32_to_odp(vc->port);
    uint64_t tx_bytes = 0;
    size_t n_sent = 0;

    switch ((enum vtap_odp_mode) vc->mode) {
    case VTAP_ODP_SEND: {
        struct netdev *netdev = ops->port_netdev(aux, port);
        uint32_t lens[NETDEV_MAX_BURST];

        for (size_t i = 0; i < n; i++) {
            lens[i] = vtap_exec_copy_len(vc, sizes[i]);
        }
        if (netdev) {
            n_sent = vtap_send_copies(vc, netdev, chosen, lens, n, &tx_bytes);
        }
        break;
    }

    case VTAP_ODP_ZERO_COPY:
    case VTAP_ODP_HEADER_COPY:
    case VTAP_ODP_FULL_COPY: {
        struct dp_packet_batch copies;
        uint64_t by_mode[VTAP_ODP_N_MODES] = { 0 };

        if (!vtap_exec_port_up(ops->port_netdev(aux, port))) {
            break;
        }
        dp_packet_batch_init(&copies);
        for (size_t i = 0; i < n; i++) {
            uint32_t len = vtap_exec_copy_len(vc, sizes[i]);
            struct dp_packet *copy;
            int used;

            copy = vtap_dpdk_copy(vc, chosen[i], len, &used);
            if (copy) {
                dp_packet_batch_add(&copies, copy);
                tx_bytes += len;
                by_mode[used]++;
            }
        }
        n_sent = dp_packet_batch_size(&copies);
        if (n_sent && !ops->output(aux, &copies, port)) {
            n_sent = tx_bytes = 0;
        } else {
            for (int m = 0; m < VTAP_ODP_N_MODES; m++) {
                vtap_exec_count(&tap->by_mode[m], by_mode[m]);
            }
        }
        break;
    }

    case VTAP_ODP_CLONE: {
        struct netdev *netdev = NULL;
        struct dp_packet_batch clones;

        if (port != ODPP_NONE) {
            netdev = ops->port_netdev(aux, port);
            if (!vtap_exec_port_up(netdev)) {
                break;
            }
        } else if (!nested_len) {
            /* Nowhere to go: translation found no way to the monitor. */
            break;
        }
        vtap_exec_clone(chosen, sizes, n, &clones);

        size_t n_clones = dp_packet_batch_size(&clones);
        struct dp_packet *clone;
        size_t i;
        DP_PACKET_BATCH_REFILL_FOR_EACH (i, n_clones, clone, &clones) {
            if (netdev && dp_packet_hwol_is_tso(clone)
                && !(netdev->ol_flags & NETDEV_TX_OFFLOAD_TCP_TSO)) {
                /* The port would drop it ("No TSO support"). */
                dp_packet_delete(clone);
                continue;
            }
            tx_bytes += vtap_exec_copy_len(vc, sizes[i]);
            dp_packet_batch_refill(&clones, clone, i);
        }
        n_sent = dp_packet_batch_size(&clones);
        if (n_sent) {
            ops->execute(aux, &clones, nested, nested_len);
        }
        break;
    }

    default:
        break;
    }

    vtap_exec_count(&tap->tx_packets, n_sent);
    vtap_exec_count(&tap->tx_bytes, tx_bytes);
    vtap_exec_count(&tap->tx_errors, n - n_sent);
    if (vc->mode >= VTAP_ODP_SEND) {
        vtap_exec_count(&tap->by_mode[vc->mode], n_sent);
    }
    COVERAGE_ADD(vtap_copy, n_sent);
    COVERAGE_ADD(vtap_copy_failed, n - n_sent);
    if (n_sent < n) {
        /* ovs-vswitchd's main thread says which tap, from the counters. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

        VLOG_DBG_RL(&rl, "tap copies to datapath port %"PRIu32": %"PRIuSIZE
                     " of %"PRIuSIZE" failed (%s)", vc->port, n - n_sent, n,
                     vtap_odp_mode_to_string(vc->mode));
    }
}
