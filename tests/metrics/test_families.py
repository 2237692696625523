# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The metric families from plain figures, read back from the text the
Prometheus client library writes, as a scraper would."""

from prometheus_client.core import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vtap_metrics import families as f


def scrape(fams):
    """{sample name: {frozenset(labels): value}} of what a scraper sees."""
    class One(object):
        def collect(self):
            return fams
    registry = CollectorRegistry(auto_describe=False)
    registry.register(One())
    text = generate_latest(registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[frozenset(s.labels.items())] = s.value
    return out, text


def tap(name, bridge='br0', status=None, statistics=None, fleet_tap='',
        offload='auto', output='mon0', enabled=True):
    return f.TapRecord(bridge=bridge, name=name,
                       status={'id': '1', 'backend': 'native'}
                       if status is None else status,
                       statistics=statistics or {}, fleet_tap=fleet_tap,
                       offload=offload, output=output, enabled=enabled)


def labels(**kw):
    return frozenset(kw.items())


def test_counters_one_family_per_statistics_key():
    taps = [tap('a', status={'id': '1', 'backend': 'ebpf'},
                statistics={'tx_packets': 10, 'tx_bytes': 1000,
                            'tx_errors': 2}),
            tap('b', fleet_tap='web',
                statistics={'tx_packets': 5, 'tx_bytes': 300,
                            'tx_dropped': 7})]
    out, text = scrape(f.tap_families(taps))
    a = labels(bridge='br0', tap='a', backend='ebpf', fleet_tap='')
    b = labels(bridge='br0', tap='b', backend='native', fleet_tap='web')
    assert out['ovs_vtap_tap_tx_packets_total'] == {a: 10, b: 5}
    assert out['ovs_vtap_tap_tx_bytes_total'] == {a: 1000, b: 300}
    assert out['ovs_vtap_tap_tx_errors_total'] == {a: 2}
    assert out['ovs_vtap_tap_tx_dropped_total'] == {b: 7}
    assert '# TYPE ovs_vtap_tap_tx_packets_total counter' in text


def test_a_new_statistics_key_needs_no_code():
    out, text = scrape(f.tap_families(
        [tap('a', statistics={'copies-v2.x': 3})]))
    assert out['ovs_vtap_tap_copies_v2_x_total'] == {
        labels(bridge='br0', tap='a', backend='native', fleet_tap=''): 3}
    assert 'Tap.statistics copies-v2.x.' in text


def test_info_has_fixed_labels_from_status_and_config():
    t = tap('a', status={'id': '4', 'backend': 'native',
                         'reason': 'not offloaded: tunnel output',
                         'counts': 'delivered', 'new_key': 'x'},
            offload='auto', output='vtap-1234', enabled=False)
    out, _ = scrape(f.tap_families([t]))
    (info, value), = out['ovs_vtap_tap_info'].items()
    assert value == 1
    assert dict(info) == {
        'bridge': 'br0', 'tap': 'a', 'fleet_tap': '', 'offload': 'auto',
        'output': 'vtap-1234', 'enabled': 'false', 'id': '4',
        'backend': 'native', 'reason': 'not offloaded: tunnel output',
        'error': '', 'counts': 'delivered', 'path': '', 'copy_error': ''}


def test_status_gauge():
    cases = [
        (tap('ok'), 1),
        (tap('disabled', enabled=False), 1),
        (tap('auto-native', status={'backend': 'native',
                                    'reason': 'not offloaded: x'}), 1),
        (tap('ebpf', status={'backend': 'ebpf'}, offload='ebpf'), 1),
        (tap('refused', status={'backend': 'none', 'reason': 'cannot'},
             offload='dpdk'), 0),
        (tap('fell', status={'backend': 'native'}, offload='ebpf'), 0),
        (tap('error', status={'backend': 'none', 'error': 'bad'}), 0),
        (tap('failing', status={'backend': 'native',
                                'copy_error': 'ENETDOWN'}), 0),
        (tap('pending', status={}), 0),
    ]
    out, _ = scrape(f.tap_families([t for t, _ in cases]))
    got = dict((dict(k)['tap'], v)
               for k, v in out['ovs_vtap_tap_status'].items())
    assert got == dict((t.name, want) for t, want in cases)


def test_bridge_counts_every_backend():
    taps = [tap('a'), tap('b', status={'backend': 'ebpf'}),
            tap('c', bridge='br1', status={}),
            tap('d', bridge='br1', status={'backend': 'dpdk'})]
    out, _ = scrape(f.tap_families(taps))
    got = dict(((dict(k)['bridge'], dict(k)['backend']), v)
               for k, v in out['ovs_vtap_bridge_taps'].items())
    assert got == {
        ('br0', 'native'): 1, ('br0', 'ebpf'): 1, ('br0', 'dpdk'): 0,
        ('br0', 'none'): 0, ('br1', 'native'): 0, ('br1', 'ebpf'): 0,
        ('br1', 'dpdk'): 1, ('br1', 'none'): 0, ('br1', 'unknown'): 1}


def test_label_values_are_escaped():
    t = tap('q"\\\nx', status={'backend': 'native', 'error': 'a "b"\n'})
    out, text = scrape(f.tap_families([t]))
    (info, _), = out['ovs_vtap_tap_info'].items()
    assert dict(info)['tap'] == 'q"\\\nx'
    assert dict(info)['error'] == 'a "b"\n'


def test_vswitchd_down():
    out, _ = scrape(f.vswitchd_families(f.VswitchdFigures(
        up=False, coverage={}, pool=None, start_time=None)))
    assert out == {'ovs_vtap_vswitchd_up': {frozenset(): 0}}


def test_vswitchd_coverage_and_pool():
    out, _ = scrape(f.vswitchd_families(f.VswitchdFigures(
        up=True, coverage={'vtap_send_failed': 3, 'vtap_new_thing': 1,
                           'netdev_sent': 99},
        pool=(12, 16383), start_time=1700000000.5)))
    events = dict((dict(k)['event'], v)
                  for k, v in out['ovs_vtap_datapath_events_total'].items())
    assert events['vtap_send_failed'] == 3
    assert events['vtap_dpdk_copy_failed'] == 0
    assert events['vtap_new_thing'] == 1
    assert 'netdev_sent' not in events
    assert out['ovs_vtap_dpdk_copy_pool_mbufs_in_use'] == {frozenset(): 12}
    assert out['ovs_vtap_dpdk_copy_pool_mbufs'] == {frozenset(): 16383}
    assert out['ovs_vtap_vswitchd_start_time_seconds'] == {
        frozenset(): 1700000000.5}


def test_ebpf():
    progs = [f.EbpfProgram('ingress', 1000, 650000),
             f.EbpfProgram('egress', 10, 5000)]
    out, _ = scrape(f.ebpf_families(True, progs))
    assert out['ovs_vtap_ebpf_stats_enabled'] == {frozenset(): 1}
    assert out['ovs_vtap_ebpf_program_runs_total'] == {
        labels(program='ingress'): 1000, labels(program='egress'): 10}
    assert out['ovs_vtap_ebpf_program_run_seconds_total'][
        labels(program='ingress')] == 650e-6
    # Stats off: only the switch, not run times that do not move.
    out, _ = scrape(f.ebpf_families(False, progs))
    assert list(out) == ['ovs_vtap_ebpf_stats_enabled']
    assert f.ebpf_families(None, []) == []


def agent(**kw):
    base = dict(up=True, system_id='hv1', fleet_remote='tcp:1',
                fleet_configured=1, fleet_connected=1, local_connected=1,
                recomputes=5, local_transactions=2, nb_cfg=None,
                applied_nb_cfg=None)
    base.update(kw)
    return f.AgentFigures(**base)


def test_agent():
    assert f.agent_families(None) == []
    out, _ = scrape(f.agent_families(agent(up=False)))
    assert out == {'ovs_vtap_agent_up': {frozenset(): 0}}
    out, _ = scrape(f.agent_families(agent(fleet_connected=0)))
    assert out['ovs_vtap_agent_fleet_connected'] == {frozenset(): 0}
    assert out['ovs_vtap_agent_recomputes_total'] == {frozenset(): 5}
    assert out['ovs_vtap_agent_info'] == {
        labels(system_id='hv1', fleet_remote='tcp:1'): 1}
    assert 'ovs_vtap_agent_nb_cfg_lag' not in out
    out, _ = scrape(f.agent_families(agent(nb_cfg=9, applied_nb_cfg=7)))
    assert out['ovs_vtap_agent_nb_cfg_lag'] == {frozenset(): 2}


def test_exporter():
    out, _ = scrape(f.exporter_families('1.0', False, {'ovsdb': 0.25},
                                        {'ovsdb': 1, 'agent': 0}))
    assert out['ovs_vtap_ovsdb_connected'] == {frozenset(): 0}
    assert out['ovs_vtap_exporter_build_info'] == {labels(version='1.0'): 1}
    assert out['ovs_vtap_exporter_collect_seconds'] == {
        labels(source='ovsdb'): 0.25}
    assert out['ovs_vtap_exporter_source_errors_total'] == {
        labels(source='ovsdb'): 1, labels(source='agent'): 0}


def test_metric_name():
    assert f.metric_name('tx_packets') == 'tx_packets'
    assert f.metric_name('a.b-c') == 'a_b_c'
    assert f.metric_name('9x') == '_9x'
