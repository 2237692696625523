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

/* Tap statistics: what each backend counted, as Tap.statistics keys, and
 * whether a tap's copies go through (status:copy_error). */

#include "vtap-bridge-private.h"

#include <string.h>

#include "ofproto/ofproto-dpif-vtap.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "lib/vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(vtap_stats);

/* Rows whose statistics one refresh writes at most. */
#define VTAP_STATS_MAX_ROWS 1000

/* Gathers the statistics of tap 't' of 'vb' into 'keys' and 'values' (room
 * for VTAP_STATS_N each).  Returns how many, 0 if there are none.
 * A key appears only where the backend knows its value: a sample() of the
 * kernel datapath does not count which packets its sampling picked, so a
 * sampled native tap there reports what was offered to sampling instead of
 * tx_*. */
size_t
vtap_stats_of_tap(const struct vtap_bridge *vb,
                      const struct vtap_bridge_tap *t,
                      const char *keys[], int64_t values[])
{
    struct vtap_stats st = { .tx_packets = -1, .tx_bytes = -1,
                                    .selected_packets = -1,
                                    .selected_bytes = -1, .tx_errors = -1,
                                    .sampled_out = -1, .tx_dropped = -1 };
    struct ofproto_vtap_stats native;
    bool have_native = ofproto_vtap_get_stats(vb->ofproto, t->id, &native);
    const struct vtap_exec_stats *exec = &native.exec;
    size_t n = 0;

    if (t->offloaded) {
        /* Copies from the kernel, plus those of tap(id=N) actions, which
         * the OVS datapath makes. */
        struct vtap_ebpf_stats kernel;
        if (!vtap_engine_get_ebpf_stats(vtap_engine, t->owner, &kernel)) {
            return 0;
        }
        st.tx_packets = kernel.packets;
        st.tx_bytes = kernel.bytes;
        st.tx_errors = kernel.failed;
        if (have_native && native.delivered) {
            st.tx_packets += exec->tx_packets;
            st.tx_bytes += exec->tx_bytes;
            st.tx_errors += exec->tx_errors;
        } else if (have_native && !native.sampled) {
            st.tx_packets += native.selected_packets;
            st.tx_bytes += native.selected_bytes;
        }
        if (t->sampled) {
            st.sampled_out = kernel.sampled_out;
        }
        if (t->rate_limited) {
            st.tx_dropped = kernel.rate_limited;
        }
    } else if (have_native && native.delivered) {
        /* The userspace datapath's copy action counted each step. */
        st.tx_packets = exec->tx_packets;
        st.tx_bytes = exec->tx_bytes;
        st.tx_errors = exec->tx_errors;
        st.selected_packets = exec->selected_packets;
        st.selected_bytes = exec->selected_bytes;
        if (t->sampled) {
            st.sampled_out = exec->sampled_out;
        }
        if (t->rate_limited) {
            st.tx_dropped = exec->tx_dropped;
        }
    } else if (have_native) {
        /* A sample(): the flows' statistics say what the tap selected, the
         * meter what max_rate dropped. */
        if (native.sampled) {
            st.selected_packets = native.selected_packets;
            st.selected_bytes = native.selected_bytes;
        } else {
            st.tx_packets = native.selected_packets
                            - MIN(native.dropped_packets,
                                  native.selected_packets);
            st.tx_bytes = native.selected_bytes
                          - MIN(native.dropped_bytes, native.selected_bytes);
        }
        if (native.rate_limited) {
            st.tx_dropped = native.dropped_packets;
        }
    } else {
        return 0;
    }

#define VTAP_STATS_PUT(KEY, FIELD)       \
    if (st.FIELD >= 0) {                        \
        keys[n] = KEY;                          \
        values[n++] = st.FIELD;                 \
    }
    VTAP_STATS(VTAP_STATS_PUT)
#undef VTAP_STATS_PUT
    return n;
}

/* Returns true if 'row''s statistics are already the 'n' 'keys' and
 * 'values'.  Most taps of a bridge with thousands see no traffic between
 * two refreshes: comparing here, on the parsed row, costs a fraction of
 * building the datum that the IDL would compare and throw away, and the
 * main thread, which refreshes them, also forwards packets of non-PMD
 * ports. */
static bool
vtap_stats_equal(const struct ovsrec_tap *row, const char *keys[],
                        const int64_t values[], size_t n)
{
    if (row->n_statistics != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t j;

        for (j = 0; j < row->n_statistics; j++) {
            if (!strcmp(row->key_statistics[j], keys[i])) {
                break;
            }
        }
        if (j == row->n_statistics || row->value_statistics[j] != values[i]) {
            return false;
        }
    }
    return true;
}

/* Updates 't''s copy_error from its counters 'keys' and 'values' ('n' of
 * them): copies that failed since the last refresh make it say how many,
 * and copies that all went through since then clear it.  Returns true if
 * it changed. */
static bool
vtap_stats_check_copies(const struct vtap_bridge *vb,
                         struct vtap_bridge_tap *t, const char *keys[],
                         const int64_t values[], size_t n)
{
    int64_t tx_packets = -1, tx_errors = -1;

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "tx_packets")) {
            tx_packets = values[i];
        } else if (!strcmp(keys[i], "tx_errors")) {
            tx_errors = values[i];
        }
    }
    if (tx_packets < 0 || tx_errors < 0) {
        return false;
    }

    /* Counters restart from zero with a new row or backend. */
    int64_t sent = (t->last_tx_packets >= 0 && tx_packets >= t->last_tx_packets
                    ? tx_packets - t->last_tx_packets : tx_packets);
    int64_t failed = (t->last_tx_errors >= 0 && tx_errors >= t->last_tx_errors
                      ? tx_errors - t->last_tx_errors : tx_errors);
    t->last_tx_packets = tx_packets;
    t->last_tx_errors = tx_errors;

    char *error = NULL;
    if (failed) {
        error = (sent
                 ? xasprintf("%"PRId64" of %"PRId64" copies failed since the "
                             "last statistics update", failed, sent + failed)
                 : xasprintf("every copy fails: %"PRId64" since the last "
                             "statistics update (is %s up?)", failed,
                             t->output ? t->output : "the output port"));
    } else if (!sent) {
        /* Nothing to judge by: as it was. */
        return false;
    }
    if (!error != !t->copy_error
        || (error && strcmp(error, t->copy_error))) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        if (error) {
            VLOG_WARN_RL(&rl, "%s: tap %s: %s", vb->name, t->name, error);
        } else {
            VLOG_INFO_RL(&rl, "%s: tap %s: copies go through again",
                         vb->name, t->name);
        }
        free(t->copy_error);
        t->copy_error = error;
        return true;
    }
    free(error);
    return false;
}

/* Writes the 'n' 'keys' and 'values' into 'row''s statistics if they
 * differ from what it has, except that a row with none yet gets them only
 * once something was counted: the first refresh after 10,000 taps are
 * added would otherwise write 10,000 rows of zeros, which the IDL then
 * holds (about 7 MB) for taps that may never see a packet.  Returns true
 * if it wrote them. */
static bool
vtap_stats_put(const struct ovsrec_tap *row, const char *keys[],
               const int64_t values[], size_t n)
{
    bool counted = false;

    for (size_t i = 0; i < n; i++) {
        counted = counted || values[i];
    }
    if (!n || (!counted && !row->n_statistics)
        || vtap_stats_equal(row, keys, values, n)) {
        return false;
    }
    ovsrec_tap_set_statistics(row, keys, values, n);
    return true;
}

/* Writes the statistics of tap 't' of 'vb' into its Tap 'row' if they
 * changed.  Returns true if it wrote them. */
bool
vtap_stats_write(const struct vtap_bridge *vb,
                 const struct vtap_bridge_tap *t,
                 const struct ovsrec_tap *row)
{
    const char *keys[VTAP_STATS_N];
    int64_t values[VTAP_STATS_N];
    size_t n = vtap_stats_of_tap(vb, t, keys, values);

    return vtap_stats_put(row, keys, values, n);
}

void
vtap_stats_refresh(const struct ofproto *ofproto,
                   const struct ovsrec_bridge *br_cfg)
{
    struct vtap_bridge *vb = vtap_bridge_find(ofproto);
    size_t n = br_cfg->n_taps;
    size_t n_written = 0;

    if (!vb || !n) {
        return;
    }

    /* At most VTAP_STATS_MAX_ROWS rows' statistics per refresh, the rest
     * at the next ones, from where this one stopped: the transaction's
     * datums and JSON are what 10,000 taps' first refresh would otherwise
     * hold at once (28 MB, which fragments the heap for good).  Whether
     * copies fail is looked at for every tap, every time. */
    size_t start = vb->stats_cursor % n;
    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        const struct ovsrec_tap *row = br_cfg->taps[i];
        struct vtap_bridge_tap *t;
        const char *keys[VTAP_STATS_N];
        int64_t values[VTAP_STATS_N];

        /* Rows that were not applied get no statistics. */
        t = CONST_CAST(struct vtap_bridge_tap *,
                       vtap_bridge_find_tap(vb, &row->header_.uuid));
        if (t && !t->error) {
            size_t n_stats = vtap_stats_of_tap(vb, t, keys, values);

            if (n_written < VTAP_STATS_MAX_ROWS
                && vtap_stats_put(row, keys, values, n_stats)
                && ++n_written == VTAP_STATS_MAX_ROWS) {
                vb->stats_cursor = i + 1;
            }
            if (vtap_stats_check_copies(vb, t, keys, values, n_stats)) {
                vtap_bridge_write_status(row, t);
            }
        }
    }
    vtap_bridge_schedule_trim(n_written, 0);
}

