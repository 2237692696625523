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

"""The console's one thread that holds the fleet database's IDL (OVS's
Python IDL is not thread-safe): it connects (and keeps trying while the
database is away), follows every change, builds a snapshot
(vtap_console.model) after each change and every second (for the rates),
hands it to the web side, and runs the changes that the web side submits
through vtap_fleet.edit, the CLI's own code.  It also serves the daemon's
unixctl commands, which use the same poll loop."""

import concurrent.futures
import os
import queue
import threading
import time

import ovs.poller
import ovs.vlog

from vtap_fleet import connection
from vtap_fleet import edit
from vtap_fleet.rules import FleetError

from vtap_console import model

vlog = ovs.vlog.Vlog("vtap_console")

TICK = 1.0              # A snapshot at least this often (s).
CONNECT_TIMEOUT = 2     # Each attempt to connect (s).
RETRY = 2.0             # Between attempts (s).


class NotConnected(FleetError):
    """A change asked for while the console has no database."""


class FleetDB(threading.Thread):
    """The fleet database's IDL in a thread of its own.

    'on_snapshot(snap)' is called in this thread with each new snapshot;
    submit() runs a change in it and returns a Future of the nb_cfg that
    the hosts will report once they applied it."""

    def __init__(self, db, on_snapshot, unixctl=None, timeout=30):
        threading.Thread.__init__(self, name="fleet-db", daemon=True)
        self.db = db
        self.on_snapshot = on_snapshot
        self.unixctl = unixctl
        self.timeout = timeout
        self.idl = None
        self.tracker = model.Tracker()
        self.jobs = queue.Queue()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        self.stopping = False
        self.error = None

    # -- Called from other threads. -----------------------------------------

    def submit(self, change, comment):
        """Runs 'change(idl, txn)' (vtap_fleet.edit calls) in a transaction
        that raises nb_cfg, with 'comment' in the database's log.  The
        Future's result is that nb_cfg; its exception a FleetError."""
        future = concurrent.futures.Future()
        self.jobs.put((change, comment, future))
        self.wake()
        return future

    def stop(self):
        self.stopping = True
        self.wake()

    def wake(self):
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    # -- The thread. --------------------------------------------------------

    def database(self):
        connected = self.idl is not None and connection.is_connected(
            self.idl)
        return {"remote": self.db, "connected": connected,
                "error": None if connected else self.error}

    def publish(self):
        tables = self.idl.tables if self.idl is not None and \
            self.idl.has_ever_connected() else None
        self.on_snapshot(model.snapshot(tables, time.time(), self.tracker,
                                        self.database()))

    def connect(self):
        try:
            self.idl = connection.connect(self.db, CONNECT_TIMEOUT)
            self.error = None
            vlog.info("connected to the fleet database %s" % self.db)
        except FleetError as e:
            if str(e) != self.error:
                vlog.warn("fleet database %s: %s" % (self.db, e))
            self.error = str(e)

    def run_jobs(self):
        while True:
            try:
                change, comment, future = self.jobs.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if self.idl is None or not connection.is_connected(self.idl):
                    raise NotConnected("not connected to the fleet "
                                       "database %s" % self.db)
                _, next_cfg = edit.commit(self.idl, change, comment,
                                          wait=True, timeout=self.timeout)
                future.set_result(next_cfg)
            except Exception as e:
                future.set_exception(e)

    def run(self):
        seqno = None
        next_tick = 0
        next_connect = 0
        while not self.stopping:
            now = time.time()
            if self.idl is None and now >= next_connect:
                self.connect()
                next_connect = time.time() + RETRY
            if self.idl is not None:
                self.idl.run()
            self.run_jobs()
            if self.unixctl:
                self.unixctl.run()
            changed = self.idl is not None and self.idl.change_seqno != seqno
            if changed or time.time() >= next_tick:
                if self.idl is not None:
                    seqno = self.idl.change_seqno
                self.publish()
                next_tick = time.time() + TICK

            poller = ovs.poller.Poller()
            if self.idl is not None:
                self.idl.wait(poller)
            else:
                poller.timer_wait(int(RETRY * 1000))
            if self.unixctl:
                self.unixctl.wait(poller)
            poller.fd_wait(self.wake_r, ovs.poller.POLLIN)
            poller.timer_wait(max(1, int((next_tick - time.time()) * 1000)))
            if self.stopping:
                break
            poller.block()
            try:
                while os.read(self.wake_r, 64):
                    pass
            except (BlockingIOError, OSError):
                pass
        if self.idl is not None:
            self.idl.close()
        for fd in (self.wake_r, self.wake_w):
            os.close(fd)
