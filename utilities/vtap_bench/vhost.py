# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The vhost-user topology: the ports of an OVS-DPDK compute node's VMs.

The bridge's three ports are `dpdkvhostuserclient` ports, served by one
PMD thread on the second core; behind them, the sender, the receiver and
the monitor are virtio-user ports of one DPDK process of ours
(tools/vhost-pktgen.c, built by the run with pkg-config's libdpdk) on the
first core.  It sends UDP from the sender to the receiver (as fast as it
can, or paced by the TSC), and counts exactly what the receiver's and the
monitor's rings gave it; it also runs the latency phase's ping-pong.

Why one process and not three dpdk-testpmd "VMs": with two cores, one is
the PMD's, and three busy-polling processes on the other would each run a
third of the time, in scheduler slices of milliseconds: the sender would
stop for milliseconds at a time and the receivers' rings overflow while
they wait, so the rates would measure the scheduler.  One loop serves the
three ports every few microseconds.  What still limits the topology on
two cores: that loop and OVS's own main thread share the first core, so
the offered load is what the loop sends between draining two rings; the
PMD's cycle counters (pmd.py) say what the switch itself spends per
packet and per copy whatever the rates.

Counted per run: the generator's own counters (sent by the sender; the
receiver's and the monitor's packets of the flow), the PMD's counters
(pmd-perf-show), and OVS's per-port counters (dpctl/show -s: what it took
from the sender's ring, put in the others', dropped when a ring was
full)."""

import json
import os
import select
import shutil
import subprocess
import time

from .common import MAC, ROLES, Failure, log, median, netns_cmd, run
from .topology import DPDK_PREFIX, Sandbox, Unavailable
from . import pmd, tail
from .measure import interleaved

PKTGEN_SRC = 'vhost-pktgen.c'
VHOST_MODES = ['none', 'mirror', 'native', 'dpdk']
SND, RCV, MON = 0, 1, 2


def pktgen_source(top, package_dir):
    """tools/vhost-pktgen.c of the tree, or the copy installed beside the
    benchmark's modules."""
    for p in (os.path.join(top, 'tools', PKTGEN_SRC),
              os.path.join(package_dir, PKTGEN_SRC)):
        if os.path.exists(p):
            return p
    return None


def build_pktgen(src, outdir):
    """Compiles the generator into OUTDIR; returns its path.  Unavailable
    (the topology is skipped, with the reason) without a compiler or
    libdpdk-dev."""
    if not src:
        raise Unavailable('%s not found (tools/ of the source tree)'
                          % PKTGEN_SRC)
    cc = shutil.which('cc') or shutil.which('gcc')
    if not cc or not shutil.which('pkg-config'):
        raise Unavailable('no C compiler or pkg-config to build %s'
                          % PKTGEN_SRC)
    flags = run(['pkg-config', '--cflags', '--libs', 'libdpdk'],
                check=False).split()
    if not flags:
        raise Unavailable('pkg-config does not know libdpdk '
                          '(apt-get install libdpdk-dev)')
    out = os.path.join(outdir, 'vhost-pktgen')
    run([cc, '-O2', '-o', out, src] + flags, timeout=300)
    return out


class Pktgen:
    """The generator process: one command per line on its stdin, one line
    of JSON back on its stdout (DPDK's own log lines are skipped)."""

    def __init__(self, sb, binary):
        self.sb = sb
        self.binary = binary
        self.p = None
        self.hz = None
        self.prefix = '%s%dg' % (DPDK_PREFIX, os.getpid())

    def start(self):
        sb = self.sb
        vdevs = []
        for i, r in enumerate(ROLES):
            vdevs += ['--vdev', 'net_virtio_user%d,path=%s,server=1,'
                      'queue_size=1024,mac=%s' % (i, sb.sock[r], MAC[r])]
        cmd = netns_cmd('sw') + [
            self.binary, '--lcores', '0@0', '--no-pci', '-m', '128',
            '--file-prefix', self.prefix, '--huge-dir', sb.hugetlbfs,
            '--single-file-segments', '--log-level', '*:error'] + vdevs
        self.err = open(os.path.join(sb.rundir, 'vhost-pktgen.log'), 'w')
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err,
                                  start_new_session=True, text=True,
                                  bufsize=1)
        sb.pgroups.add(self.p.pid)
        sb.procs.append(self.p)
        self.hz = self.reply(60)['tsc_hz']

    def reply(self, timeout):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise Failure('vhost-pktgen: no answer in %.0f s' % timeout)
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                continue
            line = self.p.stdout.readline()
            if not line:
                raise Failure('vhost-pktgen exited (%s); log: %s'
                              % (self.p.poll(), self.log_tail()))
            if line.startswith('{'):
                return json.loads(line)

    def log_tail(self):
        try:
            return open(self.err.name).read()[-600:]
        except OSError:
            return ''

    def cmd(self, line, timeout=10):
        self.p.stdin.write(line + '\n')
        self.p.stdin.flush()
        r = self.reply(timeout)
        if 'error' in r:
            raise Failure('vhost-pktgen: %s: %s' % (line, r['error']))
        return r

    def stop(self):
        if self.p and self.p.poll() is None:
            try:
                self.cmd('quit', timeout=5)
                self.p.wait(5)
            except (Failure, OSError, subprocess.TimeoutExpired):
                pass
            self.sb.stop(self.p)
        shutil.rmtree('/var/run/dpdk/' + self.prefix, ignore_errors=True)


class VhostSandbox(Sandbox):
    """The switch with three dpdkvhostuserclient ports and the generator
    behind them.  Only the switch's namespace is made (the generator runs
    there, so that a killed run's is found by the next one): no veths."""

    def __init__(self, top, script, pktgen_binary):
        super().__init__(top, script, dpdk=True)
        self.kind = 'vhost'
        self.port = {r: 'vtb-v' + r for r in ROLES}
        self.sock = {}
        self.gen = None
        self.pktgen_binary = pktgen_binary

    def _namespaces(self):
        run(['ip', 'netns', 'add', 'vtbench-sw'])
        p = subprocess.Popen(netns_cmd('sw') + ['sleep', '1000000'],
                             stdin=subprocess.DEVNULL,
                             start_new_session=True)
        self.sleepers['sw'] = p.pid
        self.pgroups.add(p.pid)

    def _port_options(self, role):
        self.sock[role] = os.path.join(self.rundir, 'vhu-%s.sock' % role)
        return ['--', 'set', 'Interface', self.port[role],
                'type=dpdkvhostuserclient',
                'options:vhost-server-path=' + self.sock[role]]

    def _ports_up(self):
        # The generator is the vhost-user server; OVS, the client,
        # connects once its sockets exist (it retries every second).
        self.gen = Pktgen(self, self.pktgen_binary)
        self.gen.start()
        self._wait(lambda: self.gen.cmd('links')['links'] == [1, 1, 1], 60,
                   'the generator\'s virtio-user links up')
        for r in ROLES:
            self._wait(lambda: self.vsctl(
                'get', 'Interface', self.port[r], 'link_state').strip()
                == 'up', 60, 'vhost-user port %s up' % self.port[r])

    def purge(self):
        self.appctl('revalidator/purge')

    def cleanup(self):
        if self.gen:
            self.gen.stop()
            self.gen = None
        super().cleanup()


def port_stats(sb):
    """{port name: {rx, rx_dropped, tx, tx_dropped}} from dpctl/show -s."""
    out = sb.appctl('dpctl/show', '-s')
    stats, cur = {}, None
    for line in out.splitlines():
        t = line.strip()
        if t.startswith('port '):
            name = t.split(':', 1)[1].split()[0]
            cur = stats.setdefault(name, {})
        elif cur is not None and t.startswith(('RX packets:',
                                               'TX packets:')):
            kv = dict(x.split(':', 1) for x in t[3:].split())
            d = 'rx' if t.startswith('RX') else 'tx'
            cur[d] = int(kv.get('packets', 0))
            cur[d + '_dropped'] = int(kv.get('dropped', 0))
    return stats


def measure_vhost(sb, size, pps, warmup, duration):
    """One window of the generator's load (PPS 0: as fast as it can)."""
    gen = sb.gen
    gen.cmd('learn')
    time.sleep(0.05)
    gen.cmd('load %d %d' % (size, pps))
    try:
        time.sleep(warmup)
        s0, o0 = gen.cmd('stats'), port_stats(sb)
        pmd.clear(sb)
        time.sleep(duration)
        s1, o1 = gen.cmd('stats'), port_stats(sb)
        perf = pmd.read(sb)
    finally:
        gen.cmd('halt')
    time.sleep(0.05)
    dt = (s1['tsc'] - s0['tsc']) / s1['tsc_hz']

    def d(i, k):
        return s1['ports'][i][k] - s0['ports'][i][k]

    def o(role, k):
        name = sb.port[role]
        return o1.get(name, {}).get(k, 0) - o0.get(name, {}).get(k, 0)
    r = {'topology': 'vhost', 'size': size, 'pps': pps, 'seconds': dt,
         'sent_packets': d(SND, 'tx'), 'sent_failed': d(SND, 'tx_fail'),
         'rcv_packets': d(RCV, 'rx_flow'), 'mon_packets': d(MON, 'rx_flow'),
         'rcv_other': d(RCV, 'rx_other'), 'mon_other': d(MON, 'rx_other'),
         'ovs_snd_rx': o('snd', 'rx'), 'ovs_snd_rx_dropped':
         o('snd', 'rx_dropped'), 'ovs_rcv_tx': o('rcv', 'tx'),
         'ovs_rcv_tx_dropped': o('rcv', 'tx_dropped'),
         'ovs_mon_tx': o('mon', 'tx'), 'ovs_mon_tx_dropped':
         o('mon', 'tx_dropped'), 'pmd': perf}
    for k in ('sent', 'rcv', 'mon'):
        r[k + '_pps'] = r[k + '_packets'] / dt
    r['rcv_share'] = (r['rcv_packets'] / r['sent_packets']
                      if r['sent_packets'] else None)
    r['mon_share'] = (r['mon_packets'] / r['sent_packets']
                      if r['sent_packets'] else None)
    # The PMD's cycles per packet it took from the sender, and the copies
    # it made per such packet (delivered or dropped at a full ring).
    r['cycles_per_pkt'] = perf.get('cycles_per_pkt')
    r['tsc_hz'] = perf.get('tsc_hz') or s1['tsc_hz']
    r['busy_pct'] = perf.get('busy_pct')
    rx = perf.get('rx_packets') or 0
    r['copies_per_pkt'] = ((r['ovs_mon_tx'] + r['ovs_mon_tx_dropped']) / rx
                           if rx else None)
    return r


def run_vhost(sb, modes, cfg, results):
    """Every mode at each size, at the maximum load and paced,
    interleaved as run_modes does."""
    loads = [('max', 0)]
    if cfg.get('vhost_pps'):
        loads.append(('paced', cfg['vhost_pps']))
    for rep, size, (load, pps), m, progress in interleaved(
            cfg['reps'], cfg['vhost_sizes'], loads, modes):
        cfg['modes'].setup(m)
        try:
            r = measure_vhost(sb, size, pps, cfg['warmup'], cfg['duration'])
        finally:
            cfg['modes'].teardown(m)
        r.update(mode=m, load=load, rep=rep)
        results['vhost'].append(r)
        log('vhost rep %d %-5s %4d B %-6s sent %7.0f pps  rcv %7.0f  mon '
            '%7.0f  PMD %4.0f cycles/pkt %3.0f %% busy  %s'
            % (rep + 1, load, size, m, r['sent_pps'], r['rcv_pps'],
               r['mon_pps'], r['cycles_per_pkt'] or 0, r['busy_pct'] or 0,
               progress()))


def vhost_profile(sb, modes, cfg, results):
    """Where the PMD's cycles go with each mode: perf's profile of its
    thread at the maximum load, at each size."""
    tid = tail.datapath_tid(sb)
    for size in cfg['vhost_sizes']:
        for m in modes:
            cfg['modes'].setup(m)
            try:
                sb.gen.cmd('learn')
                sb.gen.cmd('load %d 0' % size)
                time.sleep(cfg['warmup'])
                top = tail.profile(sb, tid, cfg['profile_seconds'],
                                   os.path.join(sb.rundir, 'perf-pmd.data'))
            finally:
                sb.gen.cmd('halt')
                cfg['modes'].teardown(m)
            results['vhost_profile'].append({'mode': m, 'size': size,
                                             'top': top})
            log('vhost profile %4d B %-6s %s' % (
                size, m, ', '.join('%s %.1f%%' % (sym, p)
                                   for p, sym, _ in top[:6])))


def summarize_vhost(results):
    """Medians per (load, size, mode) with their spread, ratios to Mirror
    and to no copy, and each mode's cost per copy: from the PMD's cycles
    (any load) and from the forwarding it loses (maximum load)."""
    groups = {}
    for c in results.get('vhost', []):
        groups.setdefault((c['load'], c['size'], c['mode']), []).append(c)
    summary = []
    for (load, size, mode), cs in groups.items():
        s = {'topology': 'vhost', 'load': load, 'size': size, 'mode': mode,
             'runs': len(cs)}
        for k in ('sent_pps', 'rcv_pps', 'mon_pps', 'rcv_share', 'mon_share',
                  'cycles_per_pkt', 'copies_per_pkt', 'busy_pct', 'tsc_hz',
                  'ovs_rcv_tx_dropped', 'ovs_mon_tx_dropped',
                  'sent_failed'):
            s[k] = median([c.get(k) for c in cs])
        for k in ('rcv_pps', 'mon_pps', 'cycles_per_pkt'):
            vals = [c[k] for c in cs if c.get(k) is not None]
            s[k + '_min'] = min(vals) if vals else None
            s[k + '_max'] = max(vals) if vals else None
        s['dropped_per_s'] = median([
            (c['ovs_rcv_tx_dropped'] + c['ovs_mon_tx_dropped'])
            / c['seconds'] for c in cs])
        summary.append(s)
    by = {(s['load'], s['size'], s['mode']): s for s in summary}
    for s in summary:
        mir = by.get((s['load'], s['size'], 'mirror'))
        none = by.get((s['load'], s['size'], 'none'))
        s['mon_vs_mirror'] = (s['mon_pps'] / mir['mon_pps']
                              if mir and mir['mon_pps'] else None)
        s['rcv_vs_none'] = (s['rcv_pps'] / none['rcv_pps']
                            if none and none['rcv_pps'] else None)
        cyc = pmd.cycles_per_copy(s['cycles_per_pkt'],
                                  none and none['cycles_per_pkt'],
                                  s['copies_per_pkt'])
        s['cycles_per_copy'] = cyc if s['mode'] != 'none' else None
        s['ns_per_copy'] = (cyc / s['tsc_hz'] * 1e9
                            if cyc is not None and s['tsc_hz']
                            and s['mode'] != 'none' else None)
        # At the maximum load the PMD is saturated: what it loses in
        # forwarding per copy (as measure.copy_cost).
        s['us_per_copy_tput'] = (
            (1 - s['rcv_pps'] / none['rcv_pps']) / s['mon_pps'] * 1e6
            if s['load'] == 'max' and none and none['rcv_pps']
            and s['mon_pps'] and s['mode'] != 'none' else None)
        s['ns_per_pkt'] = (s['cycles_per_pkt'] / s['tsc_hz'] * 1e9
                           if s['cycles_per_pkt'] and s['tsc_hz'] else None)
    order = {m: i for i, m in enumerate(VHOST_MODES)}
    summary.sort(key=lambda s: (s['load'] != 'max', s['size'],
                                order.get(s['mode'], 9)))
    results['vhost_summary'] = summary
    return summary


class PktgenProbe:
    """The latency phase's probe on the vhost-user topology: the
    generator's own ping-pong, timed with the TSC; its second flow is the
    generator's load, paced."""

    def __init__(self, sb, cfg):
        self.sb = sb
        self.cfg = cfg
        self.loaded = False

    def start(self):
        self.sb.gen.cmd('learn')
        time.sleep(0.05)

    def start_load(self):
        self.sb.gen.cmd('load 64 %d' % self.cfg['rr_vhost_pps'])
        self.loaded = True

    def stop_load(self):
        if self.loaded:
            self.sb.gen.cmd('halt')
            self.loaded = False

    def ping(self, seconds):
        s0 = self.sb.gen.cmd('stats')
        r = self.sb.gen.cmd('pingpong 64 %g' % seconds,
                            timeout=seconds + 30)
        s1 = self.sb.gen.cmd('stats')
        if not r.get('n'):
            raise Failure('vhost ping-pong: no round trip completed (%s)'
                          % r)
        dt = (s1['tsc'] - s0['tsc']) / s1['tsc_hz']
        pings = s1['ports'][SND]['tx'] - s0['ports'][SND]['tx']
        r['mon_packets'] = sum(s1['ports'][MON][k] - s0['ports'][MON][k]
                               for k in ('rx_ping', 'rx_pong'))
        r['load_pps'] = max(0, pings - r['requests']) / dt \
            if self.loaded else 0
        return r

    def stop(self):
        self.stop_load()
