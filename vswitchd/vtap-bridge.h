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

#ifndef VSWITCHD_VTAP_BRIDGE_H
#define VSWITCHD_VTAP_BRIDGE_H 1

/* The Tap table's side of ovs-vswitchd's bridge module.
 *
 * bridge.c calls these hooks at the points where it handles Mirror rows; all
 * the logic for Tap rows lives here and in the vtap module behind
 * vtap/capi/vtap.h. */

#include <stdbool.h>

struct ofproto;
struct ovsdb_idl;
struct ovsrec_bridge;
struct ovsrec_open_vswitch;

/* Called once from bridge_init(): tells 'idl' which Tap columns ovs-vswitchd
 * writes and registers the "vtap/..." unixctl commands. */
void vtap_bridge_init(struct ovsdb_idl *idl);

/* Called from bridge_reconfigure() for every bridge, after its ports are
 * configured: validates the bridge's Tap rows, assigns missing ids, loads the
 * good taps into the vtap module and writes every row's 'status'. */
void vtap_bridge_configure(struct ofproto *, const struct ovsrec_bridge *);

/* Called from run_stats_update(), inside its statistics transaction, for
 * every bridge: writes each Tap row's 'statistics'. */
void vtap_bridge_refresh_stats(const struct ofproto *,
                               const struct ovsrec_bridge *);

/* Called from bridge_run() in place of setting Open_vSwitch's cur_cfg to
 * 'cfg''s next_cfg after a reconfiguration: sets it now if every tap change
 * is already in effect in the datapaths, otherwise holds it back until
 * vtap_bridge_run() sees them in effect, so that a client that waits for
 * cur_cfg (as ovs-vsctl does) sees the next packet follow its change. */
void vtap_bridge_set_cur_cfg(const struct ovsrec_open_vswitch *cfg);

/* Called at the end of bridge_run(): writes a held-back cur_cfg once it may
 * be reported. */
void vtap_bridge_run(struct ovsdb_idl *idl);

/* Called from bridge_wait(). */
void vtap_bridge_wait(void);

/* Called from bridge_destroy() before the bridge's ofproto goes away. */
void vtap_bridge_destroy(const struct ofproto *);

/* Prints the vtap version line for "ovs-vswitchd --version". */
void vtap_bridge_print_version(void);

#endif /* vswitchd/vtap-bridge.h */
