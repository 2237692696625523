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

#include "ofproto/ofproto-dpif-vtap.h"

#include <stdlib.h>
#include <string.h>

#include "cmap.h"
#include "dpif.h"
#include "dpif-netdev.h"
#include "flow.h"
#include "hash.h"
#include "hmapx.h"
#include "id-pool.h"
#include "openflow/openflow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ofproto/ofproto-dpif.h"
#include "ofproto/ofproto-dpif-upcall.h"
#include "ofproto/ofproto-provider.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "seq.h"
#include "timeval.h"
#include "unaligned.h"
#include "util.h"
#include "vtap-dpdk.h"
#include "vtap-exec.h"
#include "vtap-odp.h"
#include "vtap-send.h"

VLOG_DEFINE_THIS_MODULE(vtap_dpif);

struct vtap_dpif_stats {
    struct ovs_refcount ref_cnt;
    atomic_uint64_t n_packets;
    atomic_uint64_t n_bytes;
};

/* One tap of a configuration. */
struct vtap_dpif_tap {
    struct vtap_xlate_copy copy;      /* Points into 'name' and 'ofpacts'. */
    char *name;
    char *key;                  /* See vtap_dpif_tap_key(). */
    struct ofpbuf ofpacts;
};

/* An immutable configuration of one bridge, replaced as a whole. */
struct vtap_dpif_config {
    struct vtap_classifier *classifier;
    struct vtap_dpif_tap *taps; /* In ascending order of tap id. */
    size_t n_taps;
    struct hmapx output_ports;  /* (void *) (uintptr_t) ofp_port. */
};

/* A datapath meter that enforces one tap's max_rate.  It lives as long as
 * the tap has a max_rate, across configurations, so that its token bucket
 * and its drop counter survive changes to other columns. */
struct vtap_dpif_meter {
    uint32_t id;                /* Datapath meter id. */
    uint32_t rate;              /* Copies per second. */
};

/* The native backend's state for one ofproto-dpif bridge. */
struct vtap_dpif {
    struct cmap_node node;      /* In 'vtap_dpifs', by 'ofproto'. */
    struct ofproto_dpif *ofproto;
    OVSRCU_TYPE(struct vtap_dpif_config *) config;

    /* Packets whose tap(id=N) action found no enabled tap N. */
    struct vtap_dpif_stats *action_misses;

    /* Main thread only. */
    struct shash meters;        /* Tap key -> struct vtap_dpif_meter *. */
    uint32_t *dead_meters;      /* Ids of meters to delete once synced. */
    size_t n_dead_meters, allocated_dead_meters;

    /* Waiting for the revalidators to apply the last change to every cached
     * datapath flow (see ofproto_vtap_synced()). */
    int sync_rounds;            /* Dump rounds still to see end, 0 if none. */
    uint64_t sync_seq;          /* udpif_dump_seq() when last looked at. */
    long long int sync_deadline;
};

/* How long a tap change may wait for the revalidators before ovs-vswitchd
 * reports it as applied anyway.  A revalidation round normally takes a few
 * milliseconds; this only bounds a stuck or paused revalidator. */
#define VTAP_DPIF_SYNC_TIMEOUT_MS 10000

/* All bridges that have had taps.  Written by the main thread only. */
static struct cmap vtap_dpifs = CMAP_INITIALIZER;

/* Returns 'ofproto' as an ofproto-dpif bridge, or NULL if it is not one. */
static struct ofproto_dpif *
vtap_dpif_cast(const struct ofproto *ofproto)
{
    return (ofproto->ofproto_class == &ofproto_dpif_class
            ? CONTAINER_OF(ofproto, struct ofproto_dpif, up)
            : NULL);
}

/* Statistics. */

static struct vtap_dpif_stats *
vtap_dpif_stats_create(void)
{
    struct vtap_dpif_stats *stats = xmalloc(sizeof *stats);

    ovs_refcount_init(&stats->ref_cnt);
    atomic_init(&stats->n_packets, 0);
    atomic_init(&stats->n_bytes, 0);
    return stats;
}

struct vtap_dpif_stats *
vtap_dpif_stats_ref(struct vtap_dpif_stats *stats)
{
    if (stats) {
        ovs_refcount_ref(&stats->ref_cnt);
    }
    return stats;
}

void
vtap_dpif_stats_unref(struct vtap_dpif_stats *stats)
{
    if (stats && ovs_refcount_unref_relaxed(&stats->ref_cnt) == 1) {
        free(stats);
    }
}

void
vtap_dpif_stats_add(struct vtap_dpif_stats *stats, uint64_t packets,
                    uint64_t bytes)
{
    uint64_t orig;

    atomic_add_relaxed(&stats->n_packets, packets, &orig);
    atomic_add_relaxed(&stats->n_bytes, bytes, &orig);
}

/* Configurations. */

static struct vtap_dpif *
vtap_dpif_find(const struct ofproto_dpif *ofproto)
{
    struct vtap_dpif *vd;

    CMAP_FOR_EACH_WITH_HASH (vd, node, hash_pointer(ofproto, 0),
                             &vtap_dpifs) {
        if (vd->ofproto == ofproto) {
            return vd;
        }
    }
    return NULL;
}

static const struct vtap_dpif_config *
vtap_dpif_config_get(const struct ofproto_dpif *ofproto)
{
    const struct vtap_dpif *vd;

    if (cmap_is_empty(&vtap_dpifs)) {
        return NULL;
    }
    vd = vtap_dpif_find(ofproto);
    return vd ? ovsrcu_get(struct vtap_dpif_config *, &vd->config) : NULL;
}

static void
vtap_dpif_config_destroy(struct vtap_dpif_config *cfg)
{
    if (cfg) {
        for (size_t i = 0; i < cfg->n_taps; i++) {
            free(cfg->taps[i].name);
            free(cfg->taps[i].key);
            ofpbuf_uninit(&cfg->taps[i].ofpacts);
            vtap_dpif_stats_unref(cfg->taps[i].copy.stats);
        }
        free(cfg->taps);
        hmapx_destroy(&cfg->output_ports);
        vtap_classifier_destroy(cfg->classifier);
        free(cfg);
    }
}

static void
vtap_dpif_config_destroy_cb(void *cfg)
{
    vtap_dpif_config_destroy(cfg);
}

/* Configures datapath meter 'id' to pass at most 'rate' packets per second
 * (with a burst of one second's worth) and drop the rest. */
static int
vtap_dpif_meter_set(struct ofproto_dpif *ofproto, uint32_t id, uint32_t rate)
{
    struct ofputil_meter_band band = {
        .type = OFPMBT13_DROP,
        .rate = rate,
        .burst_size = rate,
    };
    struct ofputil_meter_config config = {
        .meter_id = id,
        .flags = OFPMF13_PKTPS | OFPMF13_BURST | OFPMF13_STATS,
        .n_bands = 1,
        .bands = &band,
    };

    return dpif_meter_set(ofproto->backer->dpif,
                          (ofproto_meter_id) { .uint32 = id }, &config);
}

/* Deletes 'meter' once no cached datapath flow can still name it: when the
 * revalidators have applied the change that dropped it (see
 * vtap_dpif_sync_run()).  Freed earlier, its id could go to another tap's
 * meter while a flow not yet revalidated still meters copies with it. */
static void
vtap_dpif_meter_destroy(struct vtap_dpif *vd, struct vtap_dpif_meter *meter)
{
    if (vd->n_dead_meters >= vd->allocated_dead_meters) {
        vd->dead_meters = x2nrealloc(vd->dead_meters,
                                     &vd->allocated_dead_meters,
                                     sizeof *vd->dead_meters);
    }
    vd->dead_meters[vd->n_dead_meters++] = meter->id;
    free(meter);
}

/* Deletes the meters that vtap_dpif_meter_destroy() kept for later. */
static void
vtap_dpif_meters_free_dead(struct vtap_dpif *vd)
{
    struct ofproto_dpif *ofproto = vd->ofproto;

    for (size_t i = 0; i < vd->n_dead_meters; i++) {
        uint32_t id = vd->dead_meters[i];

        dpif_meter_del(ofproto->backer->dpif,
                       (ofproto_meter_id) { .uint32 = id }, NULL, 0);
        id_pool_free_id(ofproto->backer->meter_ids, id);
    }
    vd->n_dead_meters = 0;
}

/* Returns the datapath meter id for a tap with 'key' that may send 'rate'
 * copies per second (0: unlimited), creating or updating its meter, or
 * UINT32_MAX if it needs none or if the datapath has no meters to give (then
 * '*error' says so).  Meters of taps that are gone are deleted by
 * vtap_dpif_meters_sweep(). */
static uint32_t
vtap_dpif_meter_get(struct vtap_dpif *vd, const char *key, uint32_t rate,
                    struct shash *kept, const char **error)
{
    struct vtap_dpif_meter *meter;

    if (!rate) {
        return UINT32_MAX;
    }

    meter = shash_find_and_delete(&vd->meters, key);
    if (meter && meter->rate != rate
        && vtap_dpif_meter_set(vd->ofproto, meter->id, rate)) {
        vtap_dpif_meter_destroy(vd, meter);
        meter = NULL;
    }
    if (!meter) {
        uint32_t id;

        if (!vd->ofproto->backer->meter_ids
            || !id_pool_alloc_id(vd->ofproto->backer->meter_ids, &id)) {
            *error = "the datapath has no meter left for max_rate";
            return UINT32_MAX;
        }
        if (vtap_dpif_meter_set(vd->ofproto, id, rate)) {
            id_pool_free_id(vd->ofproto->backer->meter_ids, id);
            *error = "the datapath refused a meter for max_rate";
            return UINT32_MAX;
        }
        meter = xmalloc(sizeof *meter);
        meter->id = id;
    }
    meter->rate = rate;
    shash_add(kept, key, meter);
    return meter->id;
}

/* Deletes the meters of taps that no longer have a max_rate and keeps the
 * others ('kept'). */
static void
vtap_dpif_meters_sweep(struct vtap_dpif *vd, struct shash *kept)
{
    struct shash_node *node;

    SHASH_FOR_EACH (node, &vd->meters) {
        vtap_dpif_meter_destroy(vd, node->data);
    }
    shash_destroy(&vd->meters);
    shash_swap(&vd->meters, kept);
}

/* Prepares the actions that deliver a copy for 'info': the copy's own VLAN
 * tag, then output to the monitor port, truncated to the snap length. */
static void
vtap_dpif_put_copy_actions(const struct vtap_tap_info *info,
                           struct ofpbuf *ofpacts)
{
    ofp_port_t port = u16_to_ofp(info->output_ports[0]);

    if (info->output_vlan) {
        struct ofpact_vlan_vid *vid;

        ofpact_put_PUSH_VLAN(ofpacts)->ethertype = htons(ETH_TYPE_VLAN_8021Q);
        vid = ofpact_put_SET_VLAN_VID(ofpacts);
        vid->vlan_vid = info->output_vlan;
        vid->push_vlan_if_needed = false;
        vid->flow_has_vlan = true;
    }
    if (info->snaplen) {
        struct ofpact_output_trunc *trunc = ofpact_put_OUTPUT_TRUNC(ofpacts);

        /* The datapath truncates when it outputs, after pushing the tag:
         * leave room for the tag, so that the copy is 'snaplen' long. */
        trunc->port = port;
        trunc->max_len = (info->output_vlan
                          ? MAX(info->snaplen - VLAN_HEADER_LEN,
                                ETH_HEADER_LEN)
                          : info->snaplen);
    } else {
        struct ofpact_output *output = ofpact_put_OUTPUT(ofpacts);

        output->port = port;
        output->max_len = 0;
    }
}

/* Returns the key (malloc'd) under which a tap's counters and meter live
 * from one configuration to the next: its owner, so that a tap deleted and
 * created again under the same name starts afresh, as it does on the eBPF
 * backend; its name if the caller gave no owner. */
static char *
vtap_dpif_tap_key(const struct vtap_tap_info *info)
{
    return (info->owner
            ? xasprintf("#%"PRIx64, info->owner)
            : xasprintf("name:%s", info->name));
}

static struct vtap_dpif_config *
vtap_dpif_config_create(struct vtap_dpif *vd,
                        struct vtap_classifier *classifier,
                        const struct vtap_dpif_config *old)
{
    struct vtap_dpif_config *cfg = xzalloc(sizeof *cfg);
    struct shash old_by_key = SHASH_INITIALIZER(&old_by_key);
    struct shash kept_meters = SHASH_INITIALIZER(&kept_meters);

    /* A tap's counters outlive changes to its configuration. */
    for (size_t i = 0; old && i < old->n_taps; i++) {
        shash_add_once(&old_by_key, old->taps[i].key, &old->taps[i]);
    }

    cfg->classifier = classifier;
    cfg->n_taps = vtap_classifier_n_taps(classifier);
    cfg->taps = xcalloc(cfg->n_taps, sizeof *cfg->taps);
    hmapx_init(&cfg->output_ports);
    for (size_t i = 0; i < cfg->n_taps; i++) {
        const struct vtap_tap_info *info = vtap_classifier_tap(classifier, i);
        const struct vtap_dpif_tap *old_tap;
        struct vtap_dpif_tap *t = &cfg->taps[i];

        t->name = xstrdup(info->name);
        t->key = vtap_dpif_tap_key(info);
        ofpbuf_init(&t->ofpacts, 64);
        vtap_dpif_put_copy_actions(info, &t->ofpacts);

        old_tap = shash_find_data(&old_by_key, t->key);
        const char *meter_error = NULL;
        uint32_t meter_id = vtap_dpif_meter_get(vd, t->key,
                                                info->max_rate, &kept_meters,
                                                &meter_error);
        if (meter_error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            VLOG_WARN_RL(&rl, "tap %s: %s; it makes no copies", info->name,
                         meter_error);
        }
        t->copy = (struct vtap_xlate_copy) {
            .tap_id = info->id,
            .enabled = info->enabled,
            .tap_name = t->name,
            .max_rate = info->max_rate,
            .meter_id = meter_id,
            /* A rate limit that cannot be enforced makes no copies rather
             * than unlimited ones. */
            .probability = (meter_error ? 0
                            : info->sampling > 1
                            ? UINT32_MAX / info->sampling
                            : UINT32_MAX),
            .ofpacts = t->ofpacts.data,
            .ofpacts_len = t->ofpacts.size,
            .stats = (old_tap
                      ? vtap_dpif_stats_ref(old_tap->copy.stats)
                      : vtap_dpif_stats_create()),
            .path = info->copy_path,
            .owner = info->owner,
            .output_port = u16_to_ofp(info->output_ports[0]),
            /* As the sample() path's truncation leaves room for the tag
             * (vtap_dpif_put_copy_actions()). */
            .snaplen = (info->snaplen && info->output_vlan
                        ? MAX(info->snaplen, ETH_HEADER_LEN + VLAN_HEADER_LEN)
                        : info->snaplen),
            .vlan_tci = info->output_vlan,
        };
        vtap_exec_tap_ref(t->copy.owner);
        for (size_t j = 0; j < info->n_output_ports; j++) {
            hmapx_add(&cfg->output_ports,
                      (void *) (uintptr_t) info->output_ports[j]);
        }
    }
    shash_destroy(&old_by_key);
    vtap_dpif_meters_sweep(vd, &kept_meters);
    return cfg;
}

/* Synchronisation with the revalidators.
 *
 * A new configuration is in place for the next translation at once, but a
 * flow that the datapath has cached keeps its old actions until a
 * revalidator translates it again.  A revalidation round that started
 * before the change may already have passed that flow, so only the end of
 * a round that started after the change proves that every cached flow
 * follows it.  Rounds run one after another, so the second end of a round
 * seen after the change is such a proof: that round started after the
 * first one ended.  Between the two, a new request for revalidation makes
 * the second round start at once instead of at the next periodic dump. */

static struct udpif *
vtap_dpif_udpif(const struct vtap_dpif *vd)
{
    return vd->ofproto->backer->udpif;
}

static void
vtap_dpif_sync_start(struct vtap_dpif *vd)
{
    struct udpif *udpif = vtap_dpif_udpif(vd);

    udpif_revalidate(udpif);
    vd->sync_seq = seq_read(udpif_dump_seq(udpif));
    vd->sync_rounds = 2;
    vd->sync_deadline = time_msec() + VTAP_DPIF_SYNC_TIMEOUT_MS;
}

/* Advances 'vd''s synchronisation.  Returns true if it is complete. */
static bool
vtap_dpif_sync_run(struct vtap_dpif *vd)
{
    if (!vd->sync_rounds) {
        return true;
    }

    struct udpif *udpif = vtap_dpif_udpif(vd);
    uint64_t seq = seq_read(udpif_dump_seq(udpif));

    if (seq != vd->sync_seq) {
        vd->sync_seq = seq;
        if (--vd->sync_rounds) {
            udpif_revalidate(udpif);
        }
    }
    if (vd->sync_rounds && time_msec() >= vd->sync_deadline) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%s: revalidators did not finish applying a tap "
                     "change within %d ms; reporting it as applied",
                     vd->ofproto->up.name, VTAP_DPIF_SYNC_TIMEOUT_MS);
        vd->sync_rounds = 0;
    }
    if (!vd->sync_rounds) {
        /* Every meter dropped before the last change is now unused: each
         * change starts a synchronisation anew. */
        vtap_dpif_meters_free_dead(vd);
    }
    return !vd->sync_rounds;
}

bool
ofproto_vtap_synced(void)
{
    struct vtap_dpif *vd;
    bool synced = true;

    CMAP_FOR_EACH (vd, node, &vtap_dpifs) {
        synced = vtap_dpif_sync_run(vd) && synced;
    }
    return synced;
}

void
ofproto_vtap_sync_wait(void)
{
    struct vtap_dpif *vd;

    CMAP_FOR_EACH (vd, node, &vtap_dpifs) {
        if (vd->sync_rounds) {
            seq_wait(udpif_dump_seq(vtap_dpif_udpif(vd)), vd->sync_seq);
            poll_timer_wait_until(vd->sync_deadline);
        }
    }
}

void
ofproto_vtap_set(struct ofproto *ofproto_, struct vtap_classifier *classifier)
{
    struct ofproto_dpif *ofproto;
    struct vtap_dpif_config *old;
    struct vtap_dpif *vd;

    ofproto = vtap_dpif_cast(ofproto_);
    if (!ofproto) {
        vtap_classifier_destroy(classifier);
        return;
    }

    vd = vtap_dpif_find(ofproto);
    if (!vd) {
        vd = xzalloc(sizeof *vd);
        vd->ofproto = ofproto;
        ovsrcu_init(&vd->config, NULL);
        vd->action_misses = vtap_dpif_stats_create();
        shash_init(&vd->meters);
        cmap_insert(&vtap_dpifs, &vd->node, hash_pointer(ofproto, 0));
    }

    old = ovsrcu_get_protected(struct vtap_dpif_config *, &vd->config);
    if (!old && !classifier) {
        return;
    }
    if (classifier) {
        ovsrcu_set(&vd->config,
                   vtap_dpif_config_create(vd, classifier, old));
    } else {
        struct shash no_meters = SHASH_INITIALIZER(&no_meters);

        ovsrcu_set(&vd->config, NULL);
        vtap_dpif_meters_sweep(vd, &no_meters);
    }
    if (old) {
        /* The copy action's counters are the main thread's to remove: taps
         * that the new configuration still has keep theirs. */
        for (size_t i = 0; i < old->n_taps; i++) {
            vtap_exec_tap_unref(old->taps[i].copy.owner);
        }
        ovsrcu_postpone__(vtap_dpif_config_destroy_cb, old);
    }

    /* Unlike Mirror in Open vSwitch 3.1, a change reaches the flows that the
     * datapath has already cached. */
    ofproto->backer->need_revalidate = REV_RECONFIGURE;
    vtap_dpif_sync_start(vd);
}

static void
vtap_dpif_free_cb(void *vd_)
{
    struct vtap_dpif *vd = vd_;

    vtap_dpif_stats_unref(vd->action_misses);
    free(vd);
}

void
ofproto_vtap_remove(struct ofproto *ofproto_)
{
    struct ofproto_dpif *ofproto = vtap_dpif_cast(ofproto_);
    struct vtap_dpif *vd = ofproto ? vtap_dpif_find(ofproto) : NULL;

    if (vd) {
        ofproto_vtap_set(ofproto_, NULL);
        vtap_dpif_meters_free_dead(vd);
        free(vd->dead_meters);
        shash_destroy(&vd->meters);
        cmap_remove(&vtap_dpifs, &vd->node, hash_pointer(ofproto, 0));
        ovsrcu_postpone__(vtap_dpif_free_cb, vd);
    }
}

uint64_t
ofproto_vtap_get_action_misses(const struct ofproto *ofproto_)
{
    const struct ofproto_dpif *ofproto = vtap_dpif_cast(ofproto_);
    const struct vtap_dpif *vd = ofproto ? vtap_dpif_find(ofproto) : NULL;
    uint64_t misses = 0;

    if (vd) {
        atomic_read_relaxed(&vd->action_misses->n_packets, &misses);
    }
    return misses;
}

const struct vtap_classifier *
ofproto_vtap_get(const struct ofproto *ofproto_)
{
    const struct ofproto_dpif *ofproto = vtap_dpif_cast(ofproto_);
    const struct vtap_dpif_config *cfg;

    cfg = ofproto ? vtap_dpif_config_get(ofproto) : NULL;
    return cfg ? cfg->classifier : NULL;
}

static const struct vtap_dpif_tap *
vtap_dpif_config_find_tap(const struct vtap_dpif_config *cfg, uint32_t id)
{
    size_t lo = 0, hi = cfg->n_taps;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t mid_id = cfg->taps[mid].copy.tap_id;

        if (mid_id == id) {
            return &cfg->taps[mid];
        } else if (mid_id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

static atomic_bool vtap_copy_action_on = ATOMIC_VAR_INIT(true);

void
ofproto_vtap_set_copy_action(bool enabled)
{
    atomic_store_relaxed(&vtap_copy_action_on, enabled);
}

bool
ofproto_vtap_copy_action(void)
{
    bool on;

    atomic_read_relaxed(&vtap_copy_action_on, &on);
    return on;
}

bool
ofproto_vtap_has_copy_action(const struct ofproto *ofproto_)
{
    const struct ofproto_dpif *ofproto = vtap_dpif_cast(ofproto_);

    return (ofproto && dpif_is_netdev(ofproto->backer->dpif)
            && ofproto_vtap_copy_action());
}

bool
ofproto_vtap_get_stats(const struct ofproto *ofproto_, uint32_t id,
                       struct ofproto_vtap_stats *stats)
{
    const struct ofproto_dpif *ofproto = vtap_dpif_cast(ofproto_);
    const struct vtap_dpif_config *cfg;
    const struct vtap_dpif_tap *tap;

    cfg = ofproto ? vtap_dpif_config_get(ofproto) : NULL;
    tap = cfg ? vtap_dpif_config_find_tap(cfg, id) : NULL;
    if (!tap) {
        return false;
    }

    memset(stats, 0, sizeof *stats);
    if (tap->copy.path != VTAP_PATH_SAMPLE
        && dpif_is_netdev(ofproto->backer->dpif)) {
        stats->delivered = vtap_exec_get_stats(tap->copy.owner,
                                               &stats->exec);
        return true;
    }

    atomic_read_relaxed(&tap->copy.stats->n_packets,
                        &stats->selected_packets);
    atomic_read_relaxed(&tap->copy.stats->n_bytes, &stats->selected_bytes);
    stats->sampled = tap->copy.probability < UINT32_MAX;
    if (tap->copy.meter_id != UINT32_MAX) {
        /* The meter's one band is a drop band: it counts what max_rate
         * dropped. */
        struct ofputil_meter_band_stats band;
        struct ofputil_meter_stats meter = { .bands = &band };

        if (!dpif_meter_get(ofproto->backer->dpif,
                            (ofproto_meter_id) { .uint32 =
                                                 tap->copy.meter_id },
                            &meter, 1) && meter.n_bands) {
            stats->rate_limited = true;
            stats->dropped_packets = band.packet_count;
            stats->dropped_bytes = band.byte_count;
        }
    }
    return true;
}

/* Translation. */

/* Fills 'key' with the fields of 'flow' that taps match.  Fields that the
 * packet does not have stay zero: which ones it has depends only on
 * dl_type and nw_proto, which vtap_dpif_unwildcard() therefore exposes
 * whenever a dependent field was looked at. */
static void
vtap_dpif_key_from_flow(const struct flow *flow, struct vtap_flow_key *key)
{
    memset(key, 0, sizeof *key);
    memcpy(key->eth_src, flow->dl_src.ea, ETH_ADDR_LEN);
    memcpy(key->eth_dst, flow->dl_dst.ea, ETH_ADDR_LEN);
    key->vlan_tci = flow->vlans[0].tci & htons(VLAN_CFI | VLAN_VID_MASK);
    key->eth_type = flow->dl_type;
    if (flow->dl_type == htons(ETH_TYPE_IP)) {
        key->ip_proto = flow->nw_proto;
        key->ipv4_src = flow->nw_src;
        key->ipv4_dst = flow->nw_dst;
    } else if (flow->dl_type == htons(ETH_TYPE_IPV6)) {
        key->ip_proto = flow->nw_proto;
        memcpy(key->ipv6_src, &flow->ipv6_src, sizeof key->ipv6_src);
        memcpy(key->ipv6_dst, &flow->ipv6_dst, sizeof key->ipv6_dst);
    }
    if (key->ip_proto == IPPROTO_TCP || key->ip_proto == IPPROTO_UDP
        || key->ip_proto == IPPROTO_SCTP) {
        key->tp_src = flow->tp_src;
        key->tp_dst = flow->tp_dst;
    }
}

static bool
vtap_dpif_bytes_nonzero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return true;
        }
    }
    return false;
}

/* Un-wildcards in 'wc' the flow fields behind the bits of 'mask'. */
static void
vtap_dpif_unwildcard(const struct vtap_flow_key *mask,
                     struct flow_wildcards *wc)
{
    bool ip_fields = (mask->ip_proto || mask->ipv4_src || mask->ipv4_dst
                      || vtap_dpif_bytes_nonzero(mask->ipv6_src, 16)
                      || vtap_dpif_bytes_nonzero(mask->ipv6_dst, 16));
    bool l4_fields = mask->tp_src || mask->tp_dst;

    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        wc->masks.dl_src.ea[i] |= mask->eth_src[i];
        wc->masks.dl_dst.ea[i] |= mask->eth_dst[i];
    }
    wc->masks.vlans[0].tci |= mask->vlan_tci;
    wc->masks.dl_type |= mask->eth_type;
    if (ip_fields || l4_fields) {
        wc->masks.dl_type = OVS_BE16_MAX;
    }
    wc->masks.nw_proto |= mask->ip_proto;
    if (l4_fields) {
        wc->masks.nw_proto = UINT8_MAX;
    }
    wc->masks.nw_src |= mask->ipv4_src;
    wc->masks.nw_dst |= mask->ipv4_dst;
    for (int i = 0; i < 16; i++) {
        wc->masks.ipv6_src.s6_addr[i] |= mask->ipv6_src[i];
        wc->masks.ipv6_dst.s6_addr[i] |= mask->ipv6_dst[i];
    }
    wc->masks.tp_src |= mask->tp_src;
    wc->masks.tp_dst |= mask->tp_dst;
}

/* Returns the key under which 'copy''s tap is remembered as having copied a
 * packet: its owner, unique in the process (tap ids are per bridge, and a
 * packet may cross bridges through patch ports). */
static uint64_t
vtap_xlate_copy_key(const struct vtap_xlate_copy *copy)
{
    return copy->owner ? copy->owner : (UINT64_C(1) << 63) | copy->tap_id;
}

/* Remembers that 'copy''s tap copies the packet being translated.  Returns
 * false if it already did. */
static bool
vtap_xlate_mark_copied(struct vtap_xlate *state, const struct vtap_xlate_copy *copy)
{
    uint64_t key = vtap_xlate_copy_key(copy);

    for (size_t i = 0; i < state->n_copied; i++) {
        if (state->copied[i] == key) {
            return false;
        }
    }
    if (state->n_copied >= state->allocated) {
        state->copied = x2nrealloc(state->copied, &state->allocated,
                                   sizeof *state->copied);
    }
    state->copied[state->n_copied++] = key;
    return true;
}

struct vtap_frozen
vtap_xlate_freeze(const struct vtap_xlate *state)
{
    return (struct vtap_frozen) { .copied = state->copied,
                                  .n_copied = state->n_copied };
}

void
vtap_xlate_thaw(struct vtap_xlate *state, const struct vtap_frozen *frozen,
                bool bond_recirc)
{
    state->copies_made = bond_recirc;
    for (size_t i = 0; i < frozen->n_copied; i++) {
        if (state->n_copied >= state->allocated) {
            state->copied = x2nrealloc(state->copied, &state->allocated,
                                       sizeof *state->copied);
        }
        state->copied[state->n_copied++] = frozen->copied[i];
    }
}

uint32_t
vtap_frozen_hash(const struct vtap_frozen *frozen, uint32_t basis)
{
    return (frozen->n_copied
            ? hash_bytes(frozen->copied,
                         frozen->n_copied * sizeof *frozen->copied, basis)
            : basis);
}

bool
vtap_frozen_equal(const struct vtap_frozen *a, const struct vtap_frozen *b)
{
    return (a->n_copied == b->n_copied
            && (!a->n_copied
                || !memcmp(a->copied, b->copied,
                           a->n_copied * sizeof *a->copied)));
}

void
vtap_frozen_clone(struct vtap_frozen *dst, const struct vtap_frozen *src)
{
    dst->n_copied = src->n_copied;
    dst->copied = (src->n_copied
                   ? xmemdup(src->copied, src->n_copied * sizeof *src->copied)
                   : NULL);
}

void
vtap_frozen_destroy(struct vtap_frozen *frozen)
{
    free(CONST_CAST(uint64_t *, frozen->copied));
    frozen->copied = NULL;
    frozen->n_copied = 0;
}

size_t
vtap_xlate_lookup(const struct ofproto_dpif *ofproto,
                  struct vtap_xlate *state, ofp_port_t port,
                  enum vtap_direction dir, const struct flow *flow,
                  struct flow_wildcards *wc,
                  const struct vtap_xlate_copy *copies[], size_t max_copies)
{
    const struct vtap_dpif_config *cfg = vtap_dpif_config_get(ofproto);
    uint32_t ids[VTAP_XLATE_MAX_COPIES];
    struct vtap_flow_key key, mask;
    size_t n_matches, n_copies;

    if (!cfg || state->copying || state->copies_made
        || !vtap_classifier_port_is_selected(cfg->classifier,
                                             ofp_to_u16(port), dir)) {
        return 0;
    }

    vtap_dpif_key_from_flow(flow, &key);
    memset(&mask, 0, sizeof mask);
    n_matches = vtap_classifier_lookup(cfg->classifier, ofp_to_u16(port),
                                       dir, &key, &mask, ids,
                                       ARRAY_SIZE(ids));
    vtap_dpif_unwildcard(&mask, wc);
    if (n_matches > ARRAY_SIZE(ids) || n_matches > max_copies) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "%"PRIuSIZE" taps select one packet; only the "
                     "first %"PRIuSIZE" copy it", n_matches,
                     MIN(max_copies, ARRAY_SIZE(ids)));
        n_matches = MIN(max_copies, ARRAY_SIZE(ids));
    }

    n_copies = 0;
    for (size_t i = 0; i < n_matches; i++) {
        const struct vtap_dpif_tap *tap = vtap_dpif_config_find_tap(cfg,
                                                                    ids[i]);
        if (tap && vtap_xlate_mark_copied(state, &tap->copy)) {
            copies[n_copies++] = &tap->copy;
        }
    }
    return n_copies;
}

const struct vtap_xlate_copy *
vtap_xlate_tap_action(const struct ofproto_dpif *ofproto,
                      struct vtap_xlate *state, uint32_t tap_id,
                      const char **why_not, struct vtap_dpif_stats **misses)
{
    const struct vtap_dpif *vd = vtap_dpif_find(ofproto);
    const struct vtap_dpif_config *cfg;
    const struct vtap_dpif_tap *tap;

    *misses = NULL;
    if (!vd) {
        *why_not = "no tap has this id";
        return NULL;
    }
    cfg = ovsrcu_get(struct vtap_dpif_config *, &vd->config);
    tap = cfg ? vtap_dpif_config_find_tap(cfg, tap_id) : NULL;
    if (!tap || !tap->copy.enabled) {
        *why_not = tap ? "the tap is disabled" : "no tap has this id";
        *misses = vd->action_misses;
        return NULL;
    }
    if (state->copying) {
        *why_not = "copies are not copied";
        return NULL;
    }
    if (!vtap_xlate_mark_copied(state, &tap->copy)) {
        *why_not = "the tap already copied this packet";
        return NULL;
    }
    return &tap->copy;
}

enum vtap_copy_path
vtap_xlate_copy_path(const struct vtap_xlate_copy *copy, bool copy_action,
                     const struct vtap_copy_output *out)
{
    if (!copy_action || copy->path == VTAP_PATH_SAMPLE) {
        return VTAP_PATH_SAMPLE;
    }
    /* The socket and DPDK paths make the copy themselves, for a port of
     * the datapath, from an Ethernet frame (they tag it after its MACs). */
    bool made_here = out->netdev && out->local && out->ethernet;
    switch (copy->path) {
    case VTAP_PATH_DPDK:
        return (made_here && vtap_dpdk_netdev_is_dpdk(out->netdev)
                ? VTAP_PATH_DPDK : VTAP_PATH_CLONE);
    case VTAP_PATH_SEND:
        return (made_here && vtap_send_netdev_supported(out->netdev)
                ? VTAP_PATH_SEND : VTAP_PATH_CLONE);
    case VTAP_PATH_NONE:
    case VTAP_PATH_EBPF:
    case VTAP_PATH_SAMPLE:
    case VTAP_PATH_CLONE:
    default:
        return VTAP_PATH_CLONE;
    }
}

void
vtap_xlate_copy_action(const struct vtap_xlate_copy *copy, odp_port_t port,
                       const struct netdev *netdev,
                       struct ovs_action_vtap_copy *vc)
{
    *vc = (struct ovs_action_vtap_copy) {
        .port = odp_to_u32(port),
        .probability = copy->probability,
        .max_rate = copy->max_rate,
        .snaplen = copy->snaplen,
        .vlan_tci = copy->vlan_tci,
        .flags = (netdev && vtap_dpdk_netdev_is_dpdk(netdev)
                  && vtap_dpdk_netdev_single_seg(netdev)
                  ? VTAP_ODP_F_SINGLE_SEG : 0),
    };
    put_32aligned_u64(&vc->owner, copy->owner);
}

bool
vtap_xlate_port_is_output(const struct ofproto_dpif *ofproto,
                          ofp_port_t port)
{
    const struct vtap_dpif_config *cfg = vtap_dpif_config_get(ofproto);

    return cfg && hmapx_contains(&cfg->output_ports,
                                 (void *) (uintptr_t) ofp_to_u16(port));
}

void
vtap_xlate_uninit(struct vtap_xlate *state)
{
    free(state->copied);
    state->copied = NULL;
    state->n_copied = state->allocated = 0;
}
