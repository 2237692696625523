# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The PMD thread's own cycle counters (dpif-netdev/pmd-perf-show and
pmd-stats-show): what forwarding and copying cost the core that does both,
per packet, whether that core is saturated or not.

pmd-perf-show counts, since the last pmd-stats-clear: the TSC cycles used,
the share of them spent in iterations that had packets ("busy"), the
packets received, and "cycles/pkt" (busy cycles per packet received).  A
copy mode's cost per copy is then the difference of cycles/pkt with and
without copies, divided by the copies per packet received; it needs no
saturated core, so it holds at a paced load too, where the throughput
method (measure.copy_cost) cannot be used."""

from .common import Failure, parse_fields

PERF_FIELDS = {
    # key: (regexp on pmd-perf-show's text, conversion)
    'duration_s': (r'Measurement duration:\s*([\d.]+) s', float),
    'iterations': (r'Iterations:\s*(\d+)', int),
    'used_cycles': (r'Used TSC cycles:\s*(\d+)', int),
    'busy_pct': (r'busy iterations:\s*\d+\s*\(\s*([\d.]+) % of used', float),
    'rx_packets': (r'Rx packets:\s*(\d+)', int),
    'cycles_per_pkt': (r'Rx packets:\s*\d+\s*\([^,]*,\s*([\d.]+) cycles/pkt',
                       float),
    'passes_per_pkt': (r'Datapath passes:\s*\d+\s*\(\s*([\d.]+) passes/pkt',
                       float),
    'upcalls': (r'- Upcalls:\s*(\d+)', int),
    'tx_packets': (r'Tx packets:\s*(\d+)', int),
    'pkts_per_batch': (r'Tx batches:\s*\d+\s*\(\s*([\d.]+) pkts/batch',
                       float),
}


def parse_perf_show(text):
    """The figures of the (one) PMD thread in pmd-perf-show's text."""
    r = parse_fields(text, PERF_FIELDS)
    if 'used_cycles' not in r:
        raise Failure('pmd-perf-show: no PMD figures in: %s' % text[-400:])
    if r.get('duration_s'):
        r['tsc_hz'] = r['used_cycles'] / r['duration_s']
    r['busy_cycles'] = r['used_cycles'] * r.get('busy_pct', 0) / 100
    return r


# pmd-stats-show's processing cycles per packet (busy cycles over packets
# received, as pmd-perf-show's cycles/pkt).
STATS_FIELDS = {
    'processing_cycles_per_pkt':
    (r'avg processing cycles per packet:\s*([\d.]+)', float),
    'packets_received': (r'packets received:\s*(\d+)', int),
}


def clear(sb):
    sb.appctl('dpif-netdev/pmd-stats-clear')


def read(sb):
    """The PMD's figures since the last clear()."""
    r = parse_perf_show(sb.appctl('dpif-netdev/pmd-perf-show'))
    r.update(parse_fields(sb.appctl('dpif-netdev/pmd-stats-show'),
                          STATS_FIELDS))
    return r


def cycles_per_copy(cpp, cpp_none, copies_per_pkt):
    """What one copy costs the PMD, in cycles: the busy cycles per packet
    received that the copies add, over the copies per packet received."""
    if cpp is None or cpp_none is None or not copies_per_pkt:
        return None
    return (cpp - cpp_none) / copies_per_pkt
