# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""What a copy costs the latency of the traffic it watches: request and
response with one request in flight (a ping-pong), p50 / p99 / p99.9 of
half the round trip, with no copy and with each copy mode in place, the
modes interleaved over several rounds, idle and beside a second flow at a
fixed rate.

Every copy mode here watches both directions of the sender's port (its
requests and the responses it gets), as a tap on a VM's port would.  A
round runs every mode once, and no copy twice: the second no-copy run
against the first is the measurement's own noise (the "A/A" row), to
which every claim is compared.  Each mode's figure in a round is divided
by the first no-copy run of the same round, so that what drifts between
rounds (other jobs on the machine) cancels out; the report gives the
median of those ratios over the rounds and a 95 % bootstrap interval of
that median.

Two probes do the ping-pong:
- sockperf (Debian's sockperf 3.7, UDP ping-pong, 14-byte messages: 64 B
  frames with the FCS), client in the sender's namespace and server in
  the receiver's, on kernel ports and on DPDK af_packet ports; the second
  flow is trafgen's, to an address the receiver's kernel drops silently;
- the vhost-user topology's generator (tools/vhost-pktgen.c), whose
  sender times the round trip with the TSC and whose receiver reflects,
  all in one polling loop (see vhost.py)."""

import random
import re
import time

from .common import (IP4, LOAD_DADDR, MAC, NS, TRAFGEN_CPU, Failure, log,
                     median, netns_cmd, parse_fields, run)
from . import traffic

SOCKPERF_PORT = 11111
# sockperf's message of 14 bytes: 14 + 8 + 20 + 14 + 4 (FCS) = 60 -> the
# minimum frame, 64 B with the FCS.
SOCKPERF_MSG = 14
PCTS = (('p50', '50.000'), ('p99', '99.000'), ('p999', '99.900'))
PCT_LABEL = {'p50': 'p50', 'p99': 'p99', 'p999': 'p99.9'}
# Targets: what a tap may add to each percentile over no copy.
TARGET = {'p50': 0.02, 'p99': 0.05, 'p999': 0.10}
RR_MODES = {
    # native-clone: the native tap through OVS's own output instead of the
    # socket copy path (which sends the copy at once, before the original
    # leaves with the batch's outputs); tc mirred: the eBPF tap's peer.
    'kernel': ['none', 'mirror', 'native', 'native-clone', 'ebpf',
               'tc-mirred'],
    'dpdk': ['none', 'mirror', 'native', 'dpdk'],
    'vhost': ['none', 'mirror', 'native', 'dpdk'],
}
AA = 'none-aa'      # the second no-copy run of a round


SOCKPERF_FIELDS = {
    'mean': (r'avg-latency=([\d.]+)', float),
    'n': (r'Total (\d+) observations', int),
    'lost': (r'# dropped messages = (\d+)', int),
    # Every request sent, warm-up and the run's ends included (the
    # observations are those of the "valid duration" only).
    'requests': (r'\[Total Run\].*SentMessages=(\d+)', int),
    'max': (r'<MAX> observation =\s*([\d.]+)', float),
    'min': (r'<MIN> observation =\s*([\d.]+)', float),
}
for _key, _pct in PCTS + (('p90', '90.000'), ('p9999', '99.990')):
    SOCKPERF_FIELDS[_key] = (r'percentile %s =\s*([\d.]+)'
                             % re.escape(_pct), float)


def parse_sockperf(text):
    """The figures of a sockperf ping-pong's summary (microseconds)."""
    r = parse_fields(text, SOCKPERF_FIELDS)
    if not all(k in r for k, _ in PCTS):
        raise Failure('sockperf gave no percentiles: %s' % text[-400:])
    return r


class SockperfProbe:
    """sockperf between the sender's and the receiver's namespaces: their
    eth0 get addresses and each other's MAC (no ARP on the wires) for the
    phase only; the receiver has no address otherwise, so that the
    throughput phases' UDP is dropped without a reply."""

    def __init__(self, sb, cfg):
        self.sb = sb
        self.cfg = cfg
        self.server = None
        self.load = None

    def start(self):
        for role, peer in (('snd', 'rcv'), ('rcv', 'snd')):
            # The userspace datapath does not complete checksums left to
            # the device (the veth's offload): the kernel must.
            run(netns_cmd(role) + ['ethtool', '-K', 'eth0', 'tx', 'off'])
            run(['ip', '-n', NS[role], 'addr', 'add', IP4[role] + '/24',
                 'dev', 'eth0'])
            run(['ip', '-n', NS[role], 'neigh', 'replace', IP4[peer],
                 'lladdr', MAC[peer], 'dev', 'eth0', 'nud', 'permanent'])
        # Client and server share the first core with trafgen; the second
        # is the switch's.
        self.server = self.sb.spawn(
            netns_cmd('rcv') + ['taskset', '-c', str(TRAFGEN_CPU),
                                'sockperf', 'server', '-i', IP4['rcv'],
                                '-p', str(SOCKPERF_PORT)])
        time.sleep(0.5)
        if self.server.poll() is not None:
            raise Failure('sockperf server exited (%s)'
                          % self.server.returncode)
        traffic.learn(self.sb)

    def start_load(self):
        self.load = traffic.start_traffic(self.sb, 64, self.cfg['rr_gap_us'],
                                          daddr=LOAD_DADDR)

    def stop_load(self):
        if self.load:
            self.sb.stop(self.load)
            self.load = None

    def ping(self, seconds, wrap=()):
        """A ping-pong of SECONDS; WRAP: a command that runs the client
        (perf record ... --)."""
        sent0, mon0 = self.sb.netdev('snd')[2], self.sb.mon_rx()
        t0 = time.time()
        out = run(netns_cmd('snd') + [
            'taskset', '-c', str(TRAFGEN_CPU)] + list(wrap) + [
            'sockperf', 'ping-pong',
            '-i', IP4['rcv'], '-p', str(SOCKPERF_PORT), '-m',
            str(SOCKPERF_MSG), '-t', '%d' % max(1, round(seconds))],
            timeout=seconds + 60)
        dt = time.time() - t0
        r = parse_sockperf(out)
        sent = self.sb.netdev('snd')[2] - sent0
        r['mon_packets'] = self.sb.mon_rx() - mon0
        # The sender's frames that were not requests: the second flow's.
        r['load_pps'] = max(0, sent - r.get('requests', 0)) / dt \
            if self.load else 0
        return r

    def stop(self):
        self.stop_load()
        if self.server:
            self.sb.stop(self.server)
            self.server = None
        for role, peer in (('snd', 'rcv'), ('rcv', 'snd')):
            run(['ip', '-n', NS[role], 'neigh', 'del', IP4[peer], 'dev',
                 'eth0'], check=False)
            run(['ip', '-n', NS[role], 'addr', 'flush', 'dev', 'eth0'],
                check=False)


def rr_slots(modes, rnd, aa=True):
    """The runs of round RND: every mode once and (AA) no copy a second
    time, in an order rotated by one per round."""
    slots = list(modes) + ([AA] if aa else [])
    k = rnd % len(slots)
    return slots[k:] + slots[:k]


def run_rr(sb, probe, modes, cfg, results, loads=('idle', 'loaded'),
           aa=True):
    """The ping-pong with each of MODES in place, cfg['rr_rounds'] rounds
    of cfg['rr_seconds'] each, idle and beside the second flow; with AA,
    no copy twice per round."""
    probe.start()
    try:
        n, total = 0, len(loads) * cfg['rr_rounds'] * (len(modes) + aa)
        started = time.time()
        for load in loads:
            for rnd in range(cfg['rr_rounds']):
                for slot in rr_slots(modes, rnd, aa):
                    mode = 'none' if slot == AA else slot
                    n += 1
                    cfg['modes'].setup(mode, both=True)
                    try:
                        if load == 'loaded':
                            probe.start_load()
                            time.sleep(0.2)
                        r = probe.ping(cfg['rr_seconds'])
                    finally:
                        probe.stop_load()
                        cfg['modes'].teardown(mode)
                    r.update(topology=sb.kind, load=load, round=rnd,
                             mode=slot)
                    results['rr'].append(r)
                    eta = (time.time() - started) / n * (total - n)
                    log('%s rr %-6s round %d %-9s p50 %7.2f  p99 %7.2f  '
                        'p99.9 %7.2f us  n %d%s  (%d/%d, %.0f s left)'
                        % (sb.kind, load, rnd + 1, slot, r['p50'], r['p99'],
                           r['p999'], r.get('n', 0),
                           '  load %.1f kpps' % (r['load_pps'] / 1e3)
                           if r.get('load_pps') else '', n, total, eta))
    finally:
        probe.stop()


# -- summary ------------------------------------------------------------------

def bootstrap_median(values, n=2000, seed=22):
    """A 95 % interval of the median of VALUES, by resampling them (a
    fixed seed: the same run renders the same report)."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (None, None)
    rnd = random.Random(seed)
    meds = sorted(median([rnd.choice(values) for _ in values])
                  for _ in range(n))
    return meds[int(0.025 * n)], meds[int(0.975 * n) - 1]


def summarize_rr(results):
    """Per topology, load and mode: the median of each percentile over the
    rounds, and the median ratio to the same round's first no-copy run
    with its 95 % interval (the A/A row is no copy against itself)."""
    rows = results.get('rr', [])
    base = {(r['topology'], r['load'], r['round']): r for r in rows
            if r['mode'] == 'none'}
    groups = {}
    for r in rows:
        groups.setdefault((r['topology'], r['load'], r['mode']),
                          []).append(r)
    summary = []
    for (topo, load, mode), rs in groups.items():
        s = {'topology': topo, 'load': load, 'mode': mode, 'rounds': len(rs),
             'n': sum(r.get('n', 0) for r in rs),
             'lost': sum(r.get('lost', 0) for r in rs),
             'load_pps': median([r.get('load_pps') for r in rs]),
             # Copies at the monitor per request: 2 when both halves of
             # every round trip were copied (more with the second flow's).
             'mon_per_rt': median([r['mon_packets'] / r['requests']
                                   for r in rs
                                   if r.get('mon_packets') is not None
                                   and r.get('requests')])}
        for k in ('p50', 'p99', 'p999', 'mean', 'max'):
            vals = [r[k] for r in rs if r.get(k) is not None]
            s[k] = median(vals)
            s[k + '_min'] = min(vals) if vals else None
            s[k + '_max'] = max(vals) if vals else None
            if k not in ('p50', 'p99', 'p999'):
                continue
            ratios = [r[k] / base[(topo, load, r['round'])][k] for r in rs
                      if (topo, load, r['round']) in base
                      and base[(topo, load, r['round'])][k]]
            s[k + '_ratios'] = ratios
            s[k + '_ratio'] = median(ratios) if mode != 'none' else 1.0
            lo, hi = bootstrap_median(ratios) if mode != 'none' \
                else (1.0, 1.0)
            s[k + '_ci'] = [lo, hi]
        summary.append(s)
    order = {m: i for i, m in enumerate(['none', AA, 'mirror', 'tc-mirred',
                                         'native', 'native-clone', 'ebpf',
                                         'dpdk'])}
    topo_order = {'kernel': 0, 'dpdk': 1, 'vhost': 2}
    summary.sort(key=lambda s: (topo_order.get(s['topology'], 9),
                                s['load'] != 'idle',
                                order.get(s['mode'], 99)))
    results['rr_summary'] = summary
    return summary
