# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""What the metrics are.  Plain figures in (Tap rows as TapRecord, the
figures of ovs-vswitchd, of the eBPF programs and of the agent), the
Prometheus client library's metric families out.  No I/O: every source
reads elsewhere, and the unit tests feed these functions directly.

Names follow Prometheus' conventions: an ovs_vtap_ prefix, _total on
counters, base units (bytes, seconds), an _info gauge of value 1 for
descriptive labels.  A tap's counters carry the labels bridge, tap,
backend and fleet_tap (the fleet tap that the agent made the row for,
empty for a tap made by hand)."""

import collections
import re

from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    InfoMetricFamily)

PREFIX = 'ovs_vtap_'

# One Tap row, as the metrics need it.  'status' and 'statistics' are the
# columns' maps as they are; 'offload' is the requested offload ('auto' if
# the column is empty), 'output' the output port's name, 'enabled' False
# only for a row whose 'enabled' column is false.
TapRecord = collections.namedtuple(
    'TapRecord', 'bridge name status statistics fleet_tap offload output '
    'enabled')

TAP_LABELS = ('bridge', 'tap', 'backend', 'fleet_tap')

# Tap.statistics keys become ovs_vtap_tap_KEY_total, whatever the key: a
# key that ovs-vswitchd adds later is exported without a change here.
# These are the keys known today, with what they count.
STATISTICS_HELP = {
    'tx_packets': 'Copies the tap\'s output took (Tap.statistics '
                  'tx_packets); the info metric\'s "counts" label says '
                  'whether a path counts them delivered or selected.',
    'tx_bytes': 'Bytes of the copies in tx_packets, as sent (Tap.statistics '
                'tx_bytes).',
    'tx_errors': 'Copies that failed: output device down, port gone, no '
                 'mbuf (Tap.statistics tx_errors).',
    'tx_dropped': 'Copies held back by max_rate (Tap.statistics '
                  'tx_dropped).',
    'sampled_out': 'Selected packets that sampling left out '
                   '(Tap.statistics sampled_out).',
    'selected_packets': 'Packets the tap selected (Tap.statistics '
                        'selected_packets).',
    'selected_bytes': 'Bytes of the packets the tap selected '
                      '(Tap.statistics selected_bytes).',
}

# Tap.status keys that become labels of ovs_vtap_tap_info, each as it is
# ("" where absent).  A fixed list, so that the info metric's label set is
# the same for every tap; adding a key here is all a new one needs.
STATUS_INFO_KEYS = ('id', 'backend', 'reason', 'error', 'counts', 'path',
                    'copy_error')
INFO_LABELS = ('bridge', 'tap', 'fleet_tap', 'offload', 'output',
               'enabled') + STATUS_INFO_KEYS

BACKENDS = ('native', 'ebpf', 'dpdk', 'none')

# The coverage counters of ovs-vswitchd that OVS-vTAP defines.  coverage/
# show lists only those that were hit: these are exported as 0 until then.
# Any other counter whose name starts with "vtap_" is exported as well.
KNOWN_COVERAGE = ('vtap_copy', 'vtap_copy_failed', 'vtap_send_copy',
                  'vtap_send_failed', 'vtap_dpdk_zero_copy',
                  'vtap_dpdk_header_copy', 'vtap_dpdk_full_copy',
                  'vtap_dpdk_copy_failed')

_NAME_RE = re.compile(r'[^a-zA-Z0-9_]')


def metric_name(key):
    """The metric name part for a map key: Prometheus allows letters,
    digits and '_'."""
    name = _NAME_RE.sub('_', key)
    return '_' + name if name[:1].isdigit() else name


def tap_labels(t):
    return [t.bridge, t.name, t.status.get('backend', ''), t.fleet_tap]


def copies_as_configured(t):
    """1 if the tap copies as configured: applied (no error), copying
    without failures (no copy_error), on a backend (not "none"), and on
    the one it asked for when it asked for an offload.  A disabled tap
    that was applied is as configured too: it was asked not to copy."""
    st = t.status
    backend = st.get('backend')
    if 'error' in st or 'copy_error' in st or not backend:
        return 0
    if backend == 'none':
        return 0
    if t.offload in ('ebpf', 'dpdk') and backend != t.offload:
        return 0
    return 1


def tap_families(taps):
    """The per-tap families: one counter per Tap.statistics key, the info
    metric, the status gauge; and per bridge, its taps per backend."""
    taps = sorted(taps, key=lambda t: (t.bridge, t.name))
    counters = {}
    info = InfoMetricFamily(
        PREFIX + 'tap', 'A tap\'s configuration and state: its requested '
        'offload, output port and enabled flag, and Tap.status keys.',
        labels=INFO_LABELS)
    status = GaugeMetricFamily(
        PREFIX + 'tap_status', '1 if the tap copies as configured: applied, '
        'on a backend (on the requested one for offload=ebpf or dpdk), '
        'without copy errors; 0 otherwise (see ovs_vtap_tap_info).',
        labels=TAP_LABELS)
    per_bridge = collections.defaultdict(collections.Counter)
    info_sample = info.name + '_info'
    for t in taps:
        # One label dict per tap, shared by its samples: add_metric() would
        # build one per sample, half of this function's time.
        labels = dict(zip(TAP_LABELS, tap_labels(t)))
        for key, value in t.statistics.items():
            counter = counters.get(key)
            if counter is None:
                family = CounterMetricFamily(
                    PREFIX + 'tap_' + metric_name(key) + '_total',
                    STATISTICS_HELP.get(key, 'Tap.statistics %s.' % key),
                    labels=TAP_LABELS)
                counter = counters[key] = (family, family.name + '_total')
            counter[0].add_sample(counter[1], labels, value)
        info_labels = {
            'bridge': t.bridge, 'tap': t.name, 'fleet_tap': t.fleet_tap,
            'offload': t.offload, 'output': t.output,
            'enabled': 'true' if t.enabled else 'false'}
        for key in STATUS_INFO_KEYS:
            info_labels[key] = t.status.get(key, '')
        info.add_sample(info_sample, info_labels, 1)
        status.add_sample(status.name, labels, copies_as_configured(t))
        per_bridge[t.bridge][t.status.get('backend') or 'unknown'] += 1
    return [counters[k][0] for k in sorted(counters)] + [
        info, status, bridge_family(per_bridge)]


def bridge_family(per_bridge):
    family = GaugeMetricFamily(
        PREFIX + 'bridge_taps', 'Taps of a bridge per backend (Tap.status '
        'backend; "none": no copies, "unknown": not yet applied).',
        labels=('bridge', 'backend'))
    for bridge in sorted(per_bridge):
        counts = per_bridge[bridge]
        for backend in sorted(set(BACKENDS) | set(counts)):
            family.add_metric([bridge, backend], counts.get(backend, 0))
    return family


# What the exporter learnt from ovs-vswitchd's unixctl: 'up' if it
# answered; 'coverage' maps coverage counter names to totals; 'pool' is
# (mbufs in use, pool size) of the DPDK copy pool, or None where there is
# none; 'start_time' the process' start, in seconds since the epoch, or
# None.
VswitchdFigures = collections.namedtuple(
    'VswitchdFigures', 'up coverage pool start_time')


def vswitchd_families(v):
    up = GaugeMetricFamily(
        PREFIX + 'vswitchd_up', '1 if ovs-vswitchd answered the exporter\'s '
        'unixctl commands at this scrape.', value=1 if v.up else 0)
    families = [up]
    if v.start_time is not None:
        families.append(GaugeMetricFamily(
            PREFIX + 'vswitchd_start_time_seconds', 'When ovs-vswitchd '
            'started, in seconds since the epoch: the tap counters start '
            'from zero then.', value=v.start_time))
    if not v.up:
        return families
    events = CounterMetricFamily(
        PREFIX + 'datapath_events_total', 'OVS-vTAP\'s coverage counters '
        'of ovs-vswitchd (ovs-appctl coverage/show): copies made and failed, '
        'in all and by copy path.', labels=('event',))
    names = set(KNOWN_COVERAGE) | set(
        n for n in v.coverage if n.startswith('vtap_'))
    for name in sorted(names):
        events.add_metric([name], v.coverage.get(name, 0))
    families.append(events)
    if v.pool is not None:
        in_use, size = v.pool
        families.append(GaugeMetricFamily(
            PREFIX + 'dpdk_copy_pool_mbufs_in_use', 'Mbufs of the DPDK '
            'clone path\'s copy pool in use.', value=in_use))
        families.append(GaugeMetricFamily(
            PREFIX + 'dpdk_copy_pool_mbufs', 'Mbufs in the DPDK clone '
            'path\'s copy pool.', value=size))
    return families


# One pinned eBPF program: its name (ingress, egress), how many times it
# ran and for how long in all, in nanoseconds (counted only while
# kernel.bpf_stats_enabled is 1).
EbpfProgram = collections.namedtuple('EbpfProgram', 'name runs run_time_ns')


def ebpf_families(stats_enabled, programs):
    """stats_enabled: kernel.bpf_stats_enabled (None if unknown);
    programs: the EbpfPrograms of this ovs-vswitchd's pin directory."""
    families = []
    if stats_enabled is not None:
        families.append(GaugeMetricFamily(
            PREFIX + 'ebpf_stats_enabled', 'kernel.bpf_stats_enabled: 1 '
            'while the kernel counts the eBPF programs\' run time.',
            value=1 if stats_enabled else 0))
    if programs and stats_enabled:
        runs = CounterMetricFamily(
            PREFIX + 'ebpf_program_runs_total', 'Runs of OVS-vTAP\'s TC '
            'program, counted while kernel.bpf_stats_enabled is 1.',
            labels=('program',))
        time = CounterMetricFamily(
            PREFIX + 'ebpf_program_run_seconds_total', 'Run time of '
            'OVS-vTAP\'s TC program, counted while kernel.bpf_stats_enabled '
            'is 1; per copy: divide its rate by that of the ebpf taps\' '
            'ovs_vtap_tap_tx_packets_total.', labels=('program',))
        for p in sorted(programs):
            runs.add_metric([p.name], p.runs)
            time.add_metric([p.name], p.run_time_ns / 1e9)
        families += [runs, time]
    return families


# What ovs-vtap-agent says of itself (its unixctl connection-status).
# None for figures it did not give.
AgentFigures = collections.namedtuple(
    'AgentFigures', 'up system_id fleet_remote fleet_configured '
    'fleet_connected local_connected recomputes local_transactions nb_cfg '
    'applied_nb_cfg')


def agent_families(a):
    """'a' is None where no agent runs (no pidfile): then nothing."""
    if a is None:
        return []
    families = [GaugeMetricFamily(
        PREFIX + 'agent_up', '1 if ovs-vtap-agent answered the exporter\'s '
        'unixctl command at this scrape.', value=1 if a.up else 0)]
    if not a.up:
        return families
    families.append(InfoMetricFamily(
        PREFIX + 'agent', 'The fleet agent of this host: its system-id and '
        'fleet database remote.', value={
            'system_id': a.system_id or '',
            'fleet_remote': a.fleet_remote or ''}))

    def gauge(name, doc, value):
        if value is not None:
            families.append(GaugeMetricFamily(PREFIX + name, doc,
                                              value=value))

    def counter(name, doc, value):
        if value is not None:
            families.append(CounterMetricFamily(PREFIX + name, doc,
                                                value=value))

    gauge('agent_fleet_configured', '1 if the agent has a fleet database '
          'to follow (0: idle).', a.fleet_configured)
    gauge('agent_fleet_connected', '1 if the agent is connected to the '
          'fleet database.', a.fleet_connected)
    gauge('agent_local_connected', '1 if the agent is connected to this '
          'host\'s Open vSwitch database.', a.local_connected)
    counter('agent_recomputes_total', 'Times the agent recomputed this '
            'host\'s taps.', a.recomputes)
    counter('agent_local_transactions_total', 'Transactions the agent '
            'made to this host\'s Open vSwitch database.',
            a.local_transactions)
    gauge('agent_nb_cfg', 'The fleet database\'s configuration sequence '
          'number (Fleet nb_cfg) that the agent has seen.', a.nb_cfg)
    gauge('agent_applied_nb_cfg', 'The configuration sequence number this '
          'host has applied (its Chassis nb_cfg).', a.applied_nb_cfg)
    if a.nb_cfg is not None and a.applied_nb_cfg is not None:
        gauge('agent_nb_cfg_lag', 'Fleet configurations that the agent has '
              'seen but this host has not applied yet.',
              max(a.nb_cfg - a.applied_nb_cfg, 0))
    return families


def exporter_families(version, ovsdb_connected, durations, errors):
    """The exporter's own: build info, whether it is connected to the
    database, how long each source took at this scrape, and how many
    scrapes found each source failing."""
    families = [
        InfoMetricFamily(PREFIX + 'exporter_build', 'The exporter\'s '
                         'version.', value={'version': version}),
        GaugeMetricFamily(PREFIX + 'ovsdb_connected', '1 if the exporter is '
                          'connected to the Open vSwitch database and has '
                          'its contents (tap metrics are left out while '
                          'not).', value=1 if ovsdb_connected else 0)]
    duration = GaugeMetricFamily(
        PREFIX + 'exporter_collect_seconds', 'Time this scrape spent on '
        'each source.', labels=('source',))
    for source in sorted(durations):
        duration.add_metric([source], durations[source])
    failures = CounterMetricFamily(
        PREFIX + 'exporter_source_errors_total', 'Scrapes at which a '
        'source could not be read.', labels=('source',))
    for source in sorted(errors):
        failures.add_metric([source], errors[source])
    return families + [duration, failures]
