# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""A scrape with stand-ins for every source: what it holds when a source
is down, and the exporter's own figures."""

import threading

from prometheus_client.core import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vtap_metrics import collector, families as f


class View(object):
    def __init__(self, connected=True, taps=(), dpdk=False):
        self._connected = connected
        self.taps = list(taps)
        self.dpdk = dpdk

    def connected(self):
        return self._connected

    def snapshot(self):
        return self.taps

    def dpdk_initialized(self):
        return self.dpdk


def scrape(coll):
    registry = CollectorRegistry(auto_describe=False)
    registry.register(coll)
    out = {}
    text = generate_latest(registry).decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out


TAP = f.TapRecord(bridge='br0', name='t', status={'backend': 'native'},
                  statistics={'tx_packets': 3}, fleet_tap='', offload='auto',
                  output='mon', enabled=True)


def make(view, vswitchd_up=True, ebpf_error=False, agent=None):
    asked = {}

    def read_vswitchd(rundir, pool, timeout):
        asked['pool'] = pool
        return f.VswitchdFigures(up=vswitchd_up, coverage={}, pool=None,
                                 start_time=None), vswitchd_up

    def read_ebpf(rundir):
        if ebpf_error:
            raise PermissionError(1, 'Operation not permitted')
        return True, []

    def read_agent(rundir, timeout):
        return agent, True
    sources = collector.Sources(view, threading.Lock(), '/run/x',
                                read_vswitchd=read_vswitchd,
                                read_ebpf=read_ebpf, read_agent=read_agent)
    return collector.Collector(sources, '9.9'), asked


def test_everything_up():
    coll, asked = make(View(taps=[TAP], dpdk=True))
    out = scrape(coll)
    assert out['ovs_vtap_ovsdb_connected'] == {frozenset(): 1}
    assert len(out['ovs_vtap_tap_tx_packets_total']) == 1
    assert out['ovs_vtap_vswitchd_up'] == {frozenset(): 1}
    assert asked['pool'] is True
    assert 'ovs_vtap_agent_up' not in out
    assert set(dict(k)['source'] for k in
               out['ovs_vtap_exporter_collect_seconds']) == {
        'ovsdb', 'vswitchd', 'ebpf', 'agent'}


def test_no_dpdk_no_pool_query():
    coll, asked = make(View(taps=[TAP]))
    scrape(coll)
    assert asked['pool'] is False


def test_database_down_leaves_taps_out_and_counts():
    coll, _ = make(View(connected=False, taps=[TAP]), vswitchd_up=False,
                   ebpf_error=True)
    scrape(coll)
    out = scrape(coll)
    assert out['ovs_vtap_ovsdb_connected'] == {frozenset(): 0}
    assert 'ovs_vtap_tap_tx_packets_total' not in out
    assert 'ovs_vtap_tap_info' not in out
    errors = dict((dict(k)['source'], v) for k, v in
                  out['ovs_vtap_exporter_source_errors_total'].items())
    assert errors == {'ovsdb': 2, 'vswitchd': 2, 'ebpf': 2, 'agent': 0}
