# Copyright (c) 2026 The OVS-vTAP authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""ovs-vtap-agent, the daemon: its two database connections (the host's
Open_vSwitch, the fleet's OVS_VTAP_Fleet with this host's conditions), its
main loop, which recomputes when either changes and hands the work to
vtap_fleet.desired, .local and .status, its transactions, its unixctl
commands and its command line."""

import argparse
import socket
import sys
import time

import ovs.daemon
import ovs.db.idl
import ovs.dirs
import ovs.poller
import ovs.stream
import ovs.unixctl
import ovs.unixctl.server
import ovs.util
import ovs.vlog

from vtap_fleet import connection
from vtap_fleet import desired
from vtap_fleet import local
from vtap_fleet import sslstream
from vtap_fleet import status
from vtap_fleet.connection import is_connected

PROG = "ovs-vtap-agent"
vlog = ovs.vlog.Vlog(PROG)

# How many Tap_Status rows one fleet database transaction inserts, changes
# or deletes at most (--status-batch).
STATUS_BATCH = 100
# The fleet connection's defaults, OVS's own (ovs.reconnect).
DEFAULT_PROBE_INTERVAL = 5000
DEFAULT_MAX_BACKOFF = 8000
# How often the agent says it is alive in its Chassis row
# (--heartbeat-interval), in ms.
DEFAULT_HEARTBEAT_INTERVAL = 10000


class Agent(object):
    def __init__(self, options):
        self.options = options
        helper = ovs.db.idl.SchemaHelper(location=options.ovs_schema)
        for table, columns in local.LOCAL_COLUMNS.items():
            helper.register_columns(table, columns)
        self.local = ovs.db.idl.Idl(options.ovs_db, helper,
                                    leader_only=False)
        self.central = None
        self.central_remote = None
        self.conn_settings = None   # (probe interval, max backoff) applied.
        self.idle = None            # Why the agent is idle, once logged.
        self.status_pending = False  # Status rows left for a later batch.
        self.cond_sid = None        # The system-id the conditions are for.
        self.cond_want = {}         # Table name -> condition.
        self.local_txn = None
        self.central_txn = None
        self.local_seqno = -1
        self.central_seqno = -1
        self.system_id = None
        self.n_recomputes = 0
        self.n_local_txns = 0
        self.exiting = False
        self.force_recompute = False
        self.next_heartbeat = 0     # When the next heartbeat is due (s).

    # -- Connections. ------------------------------------------------------

    def ovs_row(self):
        for row in self.local.tables["Open_vSwitch"].rows.values():
            return row
        return None

    def update_central(self, ovs_row):
        ids = ovs_row.external_ids if ovs_row else {}
        remote = self.options.fleet_db or ids.get("vtap-fleet-remote")
        if ovs_row is not None and not remote:
            self.say_idle("no fleet database configured (set "
                          "Open_vSwitch external_ids:vtap-fleet-remote, or "
                          "--fleet-db): idle")
        if remote != self.central_remote:
            if self.central:
                self.central.close()
                self.central = None
                self.central_txn = None
            self.central_remote = remote
            self.conn_settings = None
            if remote:
                self.idle = None
                vlog.info("fleet database: %s" % remote)
                helper = ovs.db.idl.SchemaHelper(
                    location=self.options.fleet_schema)
                helper.register_all()
                self.central = ovs.db.idl.Idl(remote, helper,
                                              leader_only=False)
                self.cond_sid = None
                self.set_conditions(None)
        if self.central:
            self.update_connection_settings(ids)

    def say_idle(self, why):
        """Logs 'why' the agent does nothing, once until that changes."""
        if self.idle != why:
            self.idle = why
            vlog.info(why)

    def update_connection_settings(self, ids):
        """The fleet connection's inactivity probe and reconnection backoff,
        from the command line or else the local database (as
        ovn-controller's ovn-remote-probe-interval)."""
        def setting(option, key, default):
            value = getattr(self.options, option)
            if value is None:
                try:
                    value = int(ids.get(key, default))
                except ValueError:
                    value = default
            return max(value, 0)
        want = (setting("probe_interval", "vtap-fleet-probe-interval",
                        DEFAULT_PROBE_INTERVAL),
                setting("max_backoff", "vtap-fleet-max-backoff",
                        DEFAULT_MAX_BACKOFF))
        if want == self.conn_settings:
            return
        probe, backoff = want
        reconnect = self.central._session.reconnect
        if ovs.stream.stream_or_pstream_needs_probes(reconnect.get_name()):
            reconnect.set_probe_interval(probe)
        reconnect.set_backoff(1000, backoff)
        vlog.info("fleet database connection: inactivity probe %s, "
                  "reconnection backoff up to %d ms"
                  % ("%d ms" % reconnect.get_probe_interval()
                     if reconnect.get_probe_interval() else "off",
                     reconnect.get_max_backoff()))
        self.conn_settings = want

    def set_conditions(self, system_id):
        """Monitors only this host's rows of Chassis and Tap_Status: the
        other hosts' status changes all the time and is none of our
        business (with 100 hosts, following it would make every status
        update wake every agent)."""
        if system_id is None:
            chassis = st = [False]
        else:
            chassis = [["name", "==", system_id]]
            st = [["chassis", "==", system_id]]
        self.cond_want = {"Chassis": chassis, "Tap_Status": st,
                          "VM_Port": st}
        for table, cond in self.cond_want.items():
            self.central.cond_change(table, cond)
        self.cond_sid = system_id

    def conditions_in_effect(self):
        """Whether the server applied our conditions (before, we would not
        see our own Chassis row and would insert another)."""
        for table, cond in self.cond_want.items():
            state = self.central.tables[table].condition_state
            if (state.new is not None or state.requested is not None
                    or state.acked != cond):
                return False
        return True

    # -- The two databases' transactions. ----------------------------------

    def reconcile_local(self, taps, tunnels):
        """A transaction that brings the local database to 'taps' and
        'tunnels', or None if it is there already."""
        txn = ovs.db.idl.Transaction(self.local)
        if not local.reconcile(self.local.tables, txn, taps, tunnels):
            txn.abort()
            return None
        # Have ovs-vswitchd tell (in cur_cfg) when it applied the change.
        self.ovs_row().increment("next_cfg")
        txn.add_comment("ovs-vtap-agent: fleet taps")
        return txn

    def reconcile_central(self, taps, converged):
        """A transaction that writes this host's Chassis and status rows,
        or None if they are up to date."""
        txn = ovs.db.idl.Transaction(self.central)
        want = status.wanted(self.system_id, taps,
                             self.local.tables["Tap"].rows)
        vms = status.vm_ports(self.system_id,
                              self.local.tables["Bridge"].rows.values())
        changed, self.status_pending = status.reconcile(
            self.central.tables, txn, self.system_id,
            self.options.hostname or socket.gethostname(), want, converged,
            self.options.status_batch, vms, self.heartbeat_due())
        if not changed:
            txn.abort()
            return None
        return txn

    def heartbeat_due(self):
        """(now in ms, the interval) if a heartbeat is due, else None: a
        reader of the fleet database (a console) tells from it that this
        agent is alive.  The next one is due an interval later."""
        interval = self.options.heartbeat_interval
        if not interval or time.time() < self.next_heartbeat:
            return None
        self.next_heartbeat = time.time() + interval / 1000.0
        return int(time.time() * 1000), interval

    def step_txn(self, txn):
        """Advances 'txn'; returns None once it is done."""
        st = txn.commit()
        if st == txn.INCOMPLETE:
            return txn
        txn.final_status = st
        if st == txn.TRY_AGAIN:
            # Even if the databases did not change.
            self.force_recompute = True
        elif st not in (txn.SUCCESS, txn.UNCHANGED):
            vlog.warn("transaction failed: %s" % txn.get_error())
        return None

    def next_status_batch(self, txn):
        """Once 'txn' (of the fleet database) committed, writes the next
        batch of status rows, if some are left.  (Not after a failure: it
        would fail again at once; the next change retries.)"""
        if self.status_pending and txn.final_status == txn.SUCCESS:
            self.force_recompute = True

    # -- The main loop. ----------------------------------------------------

    def run(self):
        self.local.run()
        ovs_row = self.ovs_row()
        self.update_central(ovs_row)
        if self.central:
            self.central.run()
        if self.local_txn:
            self.local_txn = self.step_txn(self.local_txn)
        if self.central_txn:
            txn = self.central_txn
            self.central_txn = self.step_txn(txn)
            if self.central_txn is None:
                self.next_status_batch(txn)

        if (ovs_row is None or not self.central
                or not self.local.has_ever_connected()
                or not self.central.has_ever_connected()):
            return
        self.system_id = ovs_row.external_ids.get("system-id")
        if not self.system_id:
            self.say_idle("no Open_vSwitch external_ids:system-id: idle "
                          "until this host has a name")
            return
        self.idle = None
        if self.system_id != self.cond_sid:
            self.set_conditions(self.system_id)
        if not self.conditions_in_effect():
            return                  # wait() polls until they are.

        if (self.local.change_seqno == self.local_seqno
                and self.central.change_seqno == self.central_seqno
                and not self.force_recompute
                and (not self.options.heartbeat_interval
                     or time.time() < self.next_heartbeat)):
            return
        if self.local_txn or self.central_txn:
            return                  # Recompute once they are done.
        self.local_seqno = self.local.change_seqno
        self.central_seqno = self.central.change_seqno
        self.force_recompute = False
        self.n_recomputes += 1

        taps, tunnels = desired.desired(
            self.local.tables["Bridge"].rows.values(),
            self.central.tables["Fleet_Tap"].rows.values())
        if is_connected(self.local):
            self.local_txn = self.reconcile_local(taps, tunnels)
            if self.local_txn:
                self.n_local_txns += 1
                self.local_txn = self.step_txn(self.local_txn)
        converged = (self.local_txn is None
                     and is_connected(self.local)
                     and ovs_row.cur_cfg >= ovs_row.next_cfg)
        if is_connected(self.central):
            txn = self.reconcile_central(taps, converged)
            if txn:
                self.central_txn = self.step_txn(txn)
                if self.central_txn is None:
                    self.next_status_batch(txn)

    def wait(self, poller):
        self.local.wait(poller)
        if self.central:
            self.central.wait(poller)
        if self.local_txn:
            self.local_txn.wait(poller)
        if self.central_txn:
            self.central_txn.wait(poller)
        if self.central and not self.conditions_in_effect():
            poller.timer_wait(50)
        if (self.central and self.central.has_ever_connected()
                and (self.local.change_seqno != self.local_seqno
                     or self.central.change_seqno != self.central_seqno)):
            # Changes wait for a transaction in flight; check again soon.
            poller.timer_wait(50)
        if self.exiting or self.force_recompute:
            poller.immediate_wake()
        # (A heartbeat already due goes with the next recomputation.)
        if self.options.heartbeat_interval and self.next_heartbeat:
            delay = self.next_heartbeat - time.time()
            if delay > 0:
                poller.timer_wait(int(delay * 1000) + 1)

    def status_text(self):
        def state(idl):
            if idl is None:
                return "not configured"
            return "connected" if is_connected(idl) else "not connected"
        text = ("system-id: %s\nlocal database: %s (%s)\n"
                "fleet database: %s (%s)\n"
                % (self.system_id, self.options.ovs_db, state(self.local),
                   self.central_remote or "none", state(self.central)))
        if self.central:
            reconnect = self.central._session.reconnect
            probe = reconnect.get_probe_interval()
            text += ("fleet remote: %s, inactivity probe %s, "
                     "max backoff %d ms\n"
                     % (reconnect.get_name(),
                        "%d ms" % probe if probe else "off",
                        reconnect.get_max_backoff()))
        if self.idle:
            text += "idle: %s\n" % self.idle
        text += ("recomputes: %d\nlocal transactions: %d\n"
                 % (self.n_recomputes, self.n_local_txns))
        return text

    def close(self):
        self.local.close()
        if self.central:
            self.central.close()


def unixctl_exit(conn, unused_argv, agent):
    agent.exiting = True
    conn.reply(None)


def unixctl_recompute(conn, unused_argv, agent):
    agent.force_recompute = True
    conn.reply(None)


def unixctl_status(conn, unused_argv, agent):
    conn.reply(agent.status_text())


def parse_args(version):
    parser = argparse.ArgumentParser(
        description="OVS-vTAP fleet agent: keeps this host's taps equal to "
        "the fleet database's policy.")
    parser.add_argument("ovs_db", nargs="?",
                        default="unix:%s/db.sock" % ovs.dirs.RUNDIR,
                        help="local Open_vSwitch database (default: "
                        "%(default)s)")
    parser.add_argument("--fleet-db",
                        help="fleet database remote(s), comma-separated "
                        "(default: Open_vSwitch external_ids:"
                        "vtap-fleet-remote)")
    parser.add_argument("--ovs-schema",
                        default="%s/vswitch.ovsschema" % ovs.dirs.PKGDATADIR)
    parser.add_argument("--fleet-schema",
                        default="%s/vtap-fleet.ovsschema"
                        % ovs.dirs.PKGDATADIR)
    parser.add_argument("--hostname", help="hostname to report")
    parser.add_argument("--unixctl", help="unixctl socket location")
    connection.add_ssl_options(parser)
    parser.add_argument("--probe-interval", type=int, metavar="MSEC",
                        help="inactivity probe on the fleet database "
                        "connection, 0 to disable (default: Open_vSwitch "
                        "external_ids:vtap-fleet-probe-interval, else %d)"
                        % DEFAULT_PROBE_INTERVAL)
    parser.add_argument("--max-backoff", type=int, metavar="MSEC",
                        help="longest wait between attempts to reconnect to "
                        "the fleet database (default: external_ids:"
                        "vtap-fleet-max-backoff, else %d)"
                        % DEFAULT_MAX_BACKOFF)
    parser.add_argument("--status-batch", type=int, metavar="N",
                        default=STATUS_BATCH,
                        help="most Tap_Status rows written per fleet database "
                        "transaction (default: %(default)s)")
    parser.add_argument("--heartbeat-interval", type=int, metavar="MSEC",
                        default=DEFAULT_HEARTBEAT_INTERVAL,
                        help="how often the agent writes the time into its "
                        "Chassis row, so that a console tells it is alive; "
                        "0 to disable (default: %(default)s)")
    parser.add_argument("-V", "--version", action="store_true")
    ovs.daemon.add_args(parser)
    ovs.vlog.add_args(parser)
    args = parser.parse_args()
    if args.version:
        print("%s (Open vSwitch) %s" % (PROG, version))
        sys.exit(0)
    ovs.vlog.handle_args(args)
    if args.status_batch < 1:
        parser.error("--status-batch: must be at least 1")
    if args.heartbeat_interval < 0:
        parser.error("--heartbeat-interval: must not be negative")
    return args


def main(version):
    args = parse_args(version)
    sslstream.register(vlog)
    connection.set_ssl_files(args)
    ovs.daemon.handle_args(args)

    ovs.daemon.daemonize_start()
    error, server = ovs.unixctl.server.UnixctlServer.create(args.unixctl)
    if error:
        ovs.util.ovs_fatal(error, "could not create unixctl server at %s"
                           % args.unixctl, vlog)
    agent = Agent(args)
    ovs.unixctl.command_register("exit", "", 0, 0, unixctl_exit, agent)
    ovs.unixctl.command_register("recompute", "", 0, 0, unixctl_recompute,
                                 agent)
    ovs.unixctl.command_register("connection-status", "", 0, 0,
                                 unixctl_status, agent)
    ovs.daemon.daemonize_complete()
    vlog.info("started")

    while not agent.exiting:
        agent.run()
        server.run()
        poller = ovs.poller.Poller()
        agent.wait(poller)
        server.wait(poller)
        poller.block()
    server.close()
    agent.close()


def run(version):
    """main(), with an unexpected exception logged before it ends the
    daemon."""
    try:
        main(version)
    except SystemExit:
        raise
    except Exception:
        vlog.exception("unexpected exception")
        raise
