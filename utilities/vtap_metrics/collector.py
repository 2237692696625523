# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""One scrape: every source read, into metric families.

The collector is a custom collector of the Prometheus client library
(collect() yields metric families).  It runs in the HTTP server's threads,
while the daemon's main thread runs the IDL: 'idl_lock' is held around
anything that touches the IDL.  Scrapes are serialized (a second waits for
the first), so that several scrapers at once cost no more CPU than one
after another."""

import collections
import threading
import time

from vtap_metrics import agent, ebpf, families, vswitchd


class Sources(object):
    """Where the figures come from; the tests replace the readers."""

    def __init__(self, view, idl_lock, rundir, timeout=5.0,
                 read_vswitchd=vswitchd.read, read_ebpf=ebpf.read,
                 read_agent=agent.read):
        self.view = view
        self.idl_lock = idl_lock
        self.rundir = rundir
        self.timeout = timeout
        self.read_vswitchd = read_vswitchd
        self.read_ebpf = read_ebpf
        self.read_agent = read_agent


class Collector(object):
    def __init__(self, sources, version):
        self.sources = sources
        self.version = version
        self.errors = collections.Counter()
        self._scrape_lock = threading.Lock()

    def collect(self):
        with self._scrape_lock:
            return self._collect()

    def _collect(self):
        s = self.sources
        durations = {}
        out = []

        def timed(source, fn):
            start = time.monotonic()
            try:
                result, ok = fn()
            except OSError:
                result, ok = None, False
            durations[source] = time.monotonic() - start
            self.errors[source] += 0 if ok else 1
            return result

        def read_ovsdb():
            with s.idl_lock:
                if not s.view.connected():
                    return (False, [], None), False
                taps = s.view.snapshot()
                dpdk = s.view.dpdk_initialized()
            return (True, taps, dpdk), True

        connected, taps, dpdk = timed('ovsdb', read_ovsdb)
        if connected:
            out += families.tap_families(taps)
        v = timed('vswitchd', lambda: s.read_vswitchd(
            s.rundir, dpdk, s.timeout))
        out += families.vswitchd_families(v or families.VswitchdFigures(
            up=False, coverage={}, pool=None, start_time=None))
        e = timed('ebpf', lambda: (s.read_ebpf(s.rundir), True))
        if e is not None:
            out += families.ebpf_families(*e)
        a = timed('agent', lambda: s.read_agent(s.rundir, s.timeout))
        out += families.agent_families(a)
        out += families.exporter_families(self.version, connected, durations,
                                          self.errors)
        return out
