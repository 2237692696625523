# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""Measurements: one window of traffic and what it cost, the interleaved
matrix of modes, the peers at scale, the reconfiguration latency.

What is counted and why:
- packets at the namespaces' own interfaces (sender tx, receiver and
  monitor rx): what a VM and a monitor really got;
- CPU per copy: what copying costs the core that makes the copies, read
  from the throughput that core loses at maximum load (see copy_cost);
  ovs-vswitchd's utime+stime and every core's softirq time per packet are
  reported too;
- the eBPF program's own run time (kernel.bpf_stats_enabled: run_time_ns
  and run_cnt of our TC programs), only around runs with an ebpf tap, so
  that the stats' own cost does not burden the other modes."""

import json
import os
import subprocess
import time

from .common import (BR, CLK_TCK, Failure, fmt_ms, log, median, run)
from .modes import (ALL_MODES, PEERS, TAP_MODES, install_taps, remove_taps,
                    tc_filter_count)
from . import traffic

BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled'
BPF_PROGS = ('vtap_tc_ingress', 'vtap_tc_egress')


def cpu_ticks():
    """(softirq, busy) ticks of all cores together."""
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('cpu '):
                v = [int(x) for x in line.split()[1:]]
                # user nice system idle iowait irq softirq steal ...
                return v[6], sum(v[:8]) - v[3] - v[4]
    return 0, 0


class BpfStats:
    """The kernel's per-program run time of our TC programs.  Enabled only
    while an ebpf mode is measured; put back as it was afterwards (and by
    restore() at exit, whatever happened)."""

    def __init__(self):
        self.saved = None
        self.available = os.path.exists(BPF_STATS) and bool(
            run(['sh', '-c', 'command -v bpftool'], check=False).strip())

    def enable(self):
        if not self.available:
            return False
        if self.saved is None:
            self.saved = open(BPF_STATS).read().strip()
        with open(BPF_STATS, 'w') as f:
            f.write('1')
        return True

    def restore(self):
        if self.saved is not None:
            try:
                with open(BPF_STATS, 'w') as f:
                    f.write(self.saved)
            except OSError:
                pass
            self.saved = None

    def snapshot(self, pid):
        """{program name: [run_time_ns, run_cnt]} of our programs (those
        that ovs-vswitchd PID holds, where bpftool says who holds what)."""
        out = run(['bpftool', 'prog', 'show', '-j'], check=False)
        try:
            progs = json.loads(out or '[]')
        except ValueError:
            return {}
        snap = {}
        for p in progs:
            if p.get('name') not in BPF_PROGS:
                continue
            pids = [x.get('pid') for x in p.get('pids', [])]
            if pids and pid not in pids:
                continue
            s = snap.setdefault(p['name'], [0, 0])
            s[0] += p.get('run_time_ns', 0)
            s[1] += p.get('run_cnt', 0)
        return snap


def measure(sb, size, gap_us, warmup, duration, bpf=None):
    """One run of traffic; returns the figures of the measured window.
    With BPF (a BpfStats), the eBPF programs' run time is read around the
    window."""
    traffic.learn(sb)
    if bpf:
        bpf.enable()
    p = traffic.start_traffic(sb, size, gap_us)
    try:
        time.sleep(warmup)
        if p.poll() is not None:
            raise Failure('trafgen exited early (%s)' % p.returncode)
        b0 = bpf.snapshot(sb.vswitchd_pid) if bpf else None
        c0 = {r: sb.netdev(r) for r in ('snd', 'rcv', 'mon')}
        v0, (s0, u0), t0 = sb.vswitchd_ticks(), cpu_ticks(), time.time()
        time.sleep(duration)
        c1 = {r: sb.netdev(r) for r in ('snd', 'rcv', 'mon')}
        v1, (s1, u1), t1 = sb.vswitchd_ticks(), cpu_ticks(), time.time()
        b1 = bpf.snapshot(sb.vswitchd_pid) if bpf else None
    finally:
        sb.stop(p)
        if bpf:
            bpf.restore()
    dt = t1 - t0
    sent = c1['snd'][2] - c0['snd'][2]
    sent_drop = c1['snd'][4] - c0['snd'][4]
    r = {'topology': sb.kind, 'size': size, 'gap_us': gap_us,
         'seconds': round(dt, 4), 'sent_packets': sent,
         'sent_dropped': sent_drop, 'sent_pps': sent / dt}
    for role in ('rcv', 'mon'):
        pk = c1[role][0] - c0[role][0]
        by = c1[role][1] - c0[role][1]
        r[role + '_packets'] = pk
        r[role + '_pps'] = pk / dt
        # Ethernet frames with their FCS (the veth counts them without).
        r[role + '_mbps'] = (by + 4 * pk) * 8 / dt / 1e6
        r[role + '_share'] = pk / sent if sent else None
    fwd = r['rcv_packets']
    r['vswitchd_cpu_s'] = (v1 - v0) / CLK_TCK
    r['softirq_cpu_s'] = (s1 - s0) / CLK_TCK
    r['busy_cpu_s'] = (u1 - u0) / CLK_TCK
    r['vswitchd_s_per_mpkt'] = (r['vswitchd_cpu_s'] / (fwd / 1e6)
                                if fwd else None)
    r['softirq_s_per_mpkt'] = (r['softirq_cpu_s'] / (fwd / 1e6)
                               if fwd else None)
    if bpf and b0 is not None:
        progs = {n: [b1.get(n, [0, 0])[i] - b0.get(n, [0, 0])[i]
                     for i in (0, 1)] for n in set(b0) | set(b1)}
        ns = sum(v[0] for v in progs.values())
        r['bpf_progs'] = progs
        r['bpf_ns'] = ns
        r['bpf_ns_per_pkt'] = ns / sent if sent and progs else None
        r['bpf_ns_per_copy'] = (ns / r['mon_packets']
                                if r['mon_packets'] and progs else None)
    return r


def interleaved(reps, sizes, loads, modes):
    """The runs of an interleaved matrix, in order: for each repetition,
    for each size and load, the modes one after the other in an order
    rotated by one per repetition, so that no mode always follows the
    same one.  Yields (rep, size, load, mode, progress): PROGRESS() says
    how far the matrix is, for the log."""
    total = reps * len(sizes) * len(loads) * len(modes)
    n, started = 0, time.time()

    def progress():
        return '(%d/%d, %.0f s left)' % (
            n, total, (time.time() - started) / n * (total - n))
    for rep in range(reps):
        k = rep % len(modes)
        order = modes[k:] + modes[:k]
        for size in sizes:
            for load in loads:
                for m in order:
                    n += 1
                    yield rep, size, load, m, progress


def run_modes(sb, modes, cfg, results, fixed=True):
    """Every runnable mode at every size and load (maximum, and FIXED the
    paced one), interleaved (see interleaved())."""
    runnable = [m for m in modes if m not in cfg['modes'].skipped]
    loads = [('max', None)] + ([('fixed', cfg['gap_us'])] if fixed else [])
    for rep, size, (load, rate), m, progress in interleaved(
            cfg['reps'], cfg['sizes'], loads, runnable):
        cfg['modes'].setup(m)
        try:
            r = measure(sb, size, rate, cfg['warmup'], cfg['duration'],
                        cfg['bpf'] if m == 'ebpf' else None)
            if not cfg['modes'].check_in_place(m):
                r['error'] = 'mode was no longer in place'
        finally:
            cfg['modes'].teardown(m)
        r.update(mode=m, load=load, rep=rep)
        results['cells'].append(r)
        log('%s rep %d %-5s %4d B %-9s sent %7.0f pps  rcv %7.0f  mon %7.0f'
            '  %s' % (sb.kind, rep + 1, load, size, m, r['sent_pps'],
                      r['rcv_pps'], r['mon_pps'], progress()))


KERNEL_COPIERS = ('tc-mirred', 'tc-u32', 'ebpf')


def copy_cost(mode, s, base):
    """CPU microseconds per copy, from what copying costs the core that
    makes the copies, at maximum load, where that core is saturated: the
    sender's core for tc and eBPF (their TC hooks run in the softirq of
    the sender's transmit), ovs-vswitchd's (or its PMD's) core for the
    copies OVS makes.  A saturated core spends 1 s per second: with no copy
    on N_none packets, with copies on N packets and C copies, so a copy
    costs (1 - N / N_none) / C seconds, N being the packets sent (kernel
    copies) or forwarded (OVS copies).  This is the cost the copies really
    have on this machine, and it needs no CPU accounting, which is too
    coarse (10 ms ticks) for windows of a second."""
    if not base or not s.get('mon_pps'):
        return None
    k = 'sent_pps' if mode in KERNEL_COPIERS else 'rcv_pps'
    if not base.get(k) or s.get(k) is None:
        return None
    return (1 - s[k] / base[k]) / s['mon_pps'] * 1e6


def summarize(results):
    """Medians per (topology, load, size, mode), ratios to mirror and to
    no copy, and the spread over repetitions."""
    groups = {}
    for c in results['cells']:
        groups.setdefault((c['topology'], c['load'], c['size'], c['mode']),
                          []).append(c)
    keys = ('sent_pps', 'rcv_pps', 'rcv_mbps', 'mon_pps', 'mon_mbps',
            'rcv_share', 'mon_share', 'vswitchd_s_per_mpkt',
            'softirq_s_per_mpkt', 'bpf_ns_per_pkt', 'bpf_ns_per_copy')
    summary = []
    for (topo, load, size, mode), cs in groups.items():
        s = {'topology': topo, 'load': load, 'size': size, 'mode': mode,
             'runs': len(cs)}
        for k in keys:
            s[k] = median([c.get(k) for c in cs])
        for k in ('rcv_pps', 'mon_pps'):
            vals = [c[k] for c in cs]
            s[k + '_min'], s[k + '_max'] = min(vals), max(vals)
            # The mode against itself: each run over the median of its
            # runs, the noise floor of any per-run comparison.
            s[k + '_self'] = ([v / s[k] for v in vals] if s[k] else [])
        s['errors'] = [c['error'] for c in cs if c.get('error')]
        summary.append(s)
    by = {(s['topology'], s['load'], s['size'], s['mode']): s
          for s in summary}
    for s in summary:
        k0 = (s['topology'], s['load'], s['size'])
        mir, none = by.get(k0 + ('mirror',)), by.get(k0 + ('none',))
        for role in ('rcv', 'mon'):
            k = role + '_pps'
            s[role + '_vs_mirror'] = (s[k] / mir[k] if mir and mir[k]
                                      and s[k] is not None else None)
        s['rcv_vs_none'] = (s['rcv_pps'] / none['rcv_pps']
                            if none and none['rcv_pps'] else None)
        s['cpu_us_per_copy'] = (copy_cost(s['mode'], s, none)
                                if s['load'] == 'max' and s['mode'] != 'none'
                                else None)
        # Per repetition, against the mirror run of the same repetition.
        per_rep = {}
        for c in results['cells']:
            if (c['topology'], c['load'], c['size']) == k0 \
                    and c['mode'] in (s['mode'], 'mirror'):
                per_rep.setdefault(c['rep'], {})[c['mode']] = c
        for role in ('rcv', 'mon'):
            rs = [v[s['mode']][role + '_pps'] / v['mirror'][role + '_pps']
                  for v in per_rep.values()
                  if s['mode'] in v and 'mirror' in v
                  and v['mirror'][role + '_pps']]
            s[role + '_vs_mirror_reps'] = rs
    order = {m: i for i, m in enumerate(ALL_MODES)}
    summary.sort(key=lambda s: (s['topology'] != 'kernel', s['load'] != 'max',
                                s['size'], order.get(s['mode'], 99)))
    results['summary'] = summary


# -- scale -------------------------------------------------------------------

def run_scale(sb, plan, cfg, results):
    """Each peer of PLAN ([(peer, [counts])]) with each count of policies
    in place, only the last of which matches the traffic: install time,
    packets/s at the receiver and the monitor (64 B, maximum load), CPU per
    copy against a no-copy run of the same phase, ovs-vswitchd's memory."""
    base = [measure(sb, 64, None, cfg['warmup'], cfg['duration'])
            for _ in range(cfg['scale_reps'])]
    base = scale_entry(sb, 'none', 0, 0, 0, base, None, sb.vswitchd_rss_kb())
    results['scale'].append(base)
    for peer, counts in plan:
        if peer in TAP_MODES:
            # Its memory is measured from a fresh ovs-vswitchd, not from
            # one whose heap holds what the peer before it freed.
            sb.restart_vswitchd()
        for count in counts:
            rss0 = sb.vswitchd_rss_kb()
            if peer in TAP_MODES:
                commit, applied = install_taps(sb, peer, count)
                st = cfg['modes'].wait_status('vtb-s%d' % count)
                installed = len(sb.vsctl('list-taps', BR).split())
            else:
                install, remove, _ = PEERS[peer]
                commit, applied = install(sb, count)
                st = {}
                installed = (len(sb.vsctl('--bare', '--columns=name', 'list',
                                          'Mirror').split())
                             if peer == 'mirror' else None)
            sb.purge()
            bpf = cfg['bpf'] if peer == 'ebpf' else None
            runs = []
            rss_installed = None
            try:
                for _ in range(cfg['scale_reps']):
                    runs.append(measure(sb, 64, None, cfg['warmup'],
                                        cfg['duration'], bpf))
                # With the policies still in place, after the runs (which
                # outlast the first statistics refresh of every tap).
                rss_installed = sb.vswitchd_rss_kb()
            finally:
                if peer == 'tc-u32':
                    installed = tc_filter_count(sb)
                if peer in TAP_MODES:
                    remove_taps(sb)
                else:
                    PEERS[peer][1](sb)
                sb.purge()
            e = scale_entry(sb, peer, count, commit, applied, runs, base,
                            rss0, rss_installed)
            e.update(listed=installed, status=st)
            if peer in TAP_MODES and st.get('backend') != peer:
                e['error'] = 'last tap status %s' % st
            results['scale'].append(e)
            rss_growth(results['scale'])
            log('%s scale %-7s %5d: installed in %.2f s (applied %.2f s), '
                'rcv %.0f pps, mon %.0f pps, %s us/copy, RSS %d KiB'
                % (sb.kind, peer, count, commit, applied, e['rcv_pps'],
                   e['mon_pps'], '-' if e['cpu_us_per_copy'] is None
                   else '%.2f' % e['cpu_us_per_copy'], e['rss_after_kb']))


def rss_growth(scale):
    """ovs-vswitchd's RSS growth of each scale entry since just before
    its peer's first count was installed (the memory freed when a count is
    removed is not always given back to the system, so a peer is measured
    from its own start, not from the phase's)."""
    first = {}
    for e in scale:
        k = (e['topology'], e['peer'])
        first.setdefault(k, e['rss_before_kb'])
        # tc filters live in the kernel: ovs-vswitchd's memory is not theirs.
        e['rss_growth_kb'] = (None if e['peer'] == 'tc-u32'
                              else e['rss_after_kb'] - first[k])


def scale_entry(sb, peer, count, commit, applied, runs, base, rss0,
                rss_installed=None):
    """One count of one peer.  Its RSS is ovs-vswitchd's while the
    policies were in place (RSS_INSTALLED), or now."""
    e = {'topology': sb.kind, 'peer': peer, 'count': count,
         'commit_s': commit, 'applied_s': applied, 'runs': runs,
         'rss_before_kb': rss0,
         'rss_after_kb': (rss_installed if rss_installed is not None
                          else sb.vswitchd_rss_kb()),
         'rss_growth_kb': 0}
    for k in ('sent_pps', 'rcv_pps', 'mon_pps', 'rcv_share', 'mon_share',
              'vswitchd_s_per_mpkt', 'bpf_ns_per_pkt', 'bpf_ns_per_copy'):
        e[k] = median([r.get(k) for r in runs])
    e['cpu_us_per_copy'] = copy_cost(peer, e, base) if count else None
    return e


# -- reconfiguration latency -------------------------------------------------

def run_latency(sb, modes, cfg, results):
    """Traffic at a fixed rate keeps a flow cached; then the copy is added
    while the monitor's rx counter is polled in a tight loop.  Reported:
    time from the command's start and from its return to the first copy."""
    gap, timeout = cfg['latency_gap_us'], cfg['latency_timeout']
    P = sb.port
    for m in modes:
        for rep in range(cfg['latency_reps']):
            sb.purge()
            traffic.learn(sb)
            p = traffic.start_traffic(sb, 64, gap)
            try:
                time.sleep(1.0)         # the flow is now in the datapath
                c0 = sb.mon_rx()
                time.sleep(0.2)
                if sb.mon_rx() != c0:
                    raise Failure('latency %s: monitor receives copies '
                                  'before the copy is added' % m)
                c0 = sb.mon_rx()
                s0, ts0 = sb.netdev('snd')[2], time.time()
                if m in TAP_MODES:
                    cmd = [sb.bin['ovs-vsctl'], '--timeout=30', 'add-tap', BR,
                           'vtb-t', P['mon'], 'select_src_port=' + P['snd'],
                           'offload=' + m]
                elif m == 'mirror':
                    cmd = [sb.bin['ovs-vsctl'], '--timeout=30',
                           '--', '--id=@s', 'get', 'Port', P['snd'],
                           '--', '--id=@m', 'get', 'Port', P['mon'],
                           '--', '--id=@mir', 'create', 'Mirror',
                           'name=vtb-mirror', 'select_src_port=@s',
                           'output_port=@m',
                           '--', 'add', 'Bridge', BR, 'mirrors', '@mir']
                elif m == 'flow2out':
                    cmd = [sb.bin['ovs-ofctl'], 'add-flow', BR,
                           'priority=100,in_port=%s,actions=output:%s,'
                           'output:%s' % (P['snd'], P['rcv'], P['mon'])]
                else:
                    raise Failure('latency: no method for ' + m)
                t_first = t_ret = None
                t_start = time.time()
                proc = subprocess.Popen(cmd, env=sb.env(),
                                        stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
                polls = 0
                while True:
                    now = time.time()
                    polls += 1
                    if t_first is None and sb.mon_rx() != c0:
                        t_first = now
                    if t_ret is None and proc.poll() is not None:
                        t_ret = now
                    if t_ret is not None and (t_first is not None
                                              or now - t_ret > timeout):
                        break
                    if now - t_start > timeout + 30:
                        break
                t_end = time.time()
                rate = (sb.netdev('snd')[2] - s0) / (t_end - ts0)
                err = proc.stderr.read().decode() if proc.stderr else ''
                proc.wait()
                if proc.returncode:
                    raise Failure('latency %s: %s' % (m, err.strip()))
            finally:
                sb.stop(p)
                cfg['modes'].teardown(m)
            e = {'topology': sb.kind, 'mode': m, 'rep': rep, 'gap_us': gap,
                 'rate_pps': rate,
                 'command_s': (t_ret - t_start) if t_ret else None,
                 'from_start_s': (t_first - t_start) if t_first else None,
                 'from_return_s': (t_first - t_ret)
                 if t_first and t_ret else None,
                 'poll_interval_us': (t_end - t_start) / polls * 1e6,
                 'timeout_s': timeout}
            results['latency'].append(e)
            log('latency %-8s: command %s, first copy %s after it returned'
                % (m, fmt_ms(e['command_s']),
                   fmt_ms(e['from_return_s']) if t_first else
                   'none within %.0f s' % timeout))
