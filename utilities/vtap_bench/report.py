# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The report: the machine, a headline table that puts each target of the
brief next to the figure measured and whether it is met, then every table
of figures (modes per topology, peers at scale, reconfiguration latency,
replay check); and the checks that make a run fail (a mode that should
have copied and did not, a replay mismatch...)."""

import os
import shutil
import time

from .common import (TRAFGEN_CPU, VSWITCHD_CPU, fmt, fmt_ms, median, ratio,
                     run, table)
from .modes import TAP_MODES
from . import report_latency, report_vhost


def machine_facts(sb, top):
    facts = {'cores': os.cpu_count(), 'kernel': os.uname().release,
             'date': time.strftime('%Y-%m-%d %H:%M:%S %z')}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    facts['cpu'] = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    facts['ovs_vswitchd_version'] = run(
        [sb.bin['ovs-vswitchd'], '--version'], check=False).strip()
    facts['binaries'] = sb.bin_origin
    facts['git_describe'] = run(['git', '-C', top, 'describe', '--always',
                                 '--dirty', '--tags'], check=False).strip() \
        or 'not a git tree'
    facts['trafgen'] = run(['trafgen', '-v'], check=False).splitlines()[0] \
        if shutil.which('trafgen') else None
    facts['loadavg_at_start'] = open('/proc/loadavg').read().split()[:3]
    facts['dpdk_in_build'] = 'DPDK' in facts['ovs_vswitchd_version']
    return facts


# -- targets -----------------------------------------------------------------

def _pct(v):
    return fmt(v and v * 100, '%.1f %%')


def _x(v):
    return fmt(v, '%.2fx')


class Lookup:
    """Summary rows and scale entries by their keys."""

    def __init__(self, results):
        self.sum = {(s['topology'], s['load'], s['size'], s['mode']): s
                    for s in results.get('summary', [])}
        self.scale = {(e['topology'], e['peer'], e['count']): e
                      for e in results.get('scale', [])}
        self.sizes = sorted({s['size'] for s in results.get('summary', [])})

    def s(self, topo, size, mode, load='max'):
        return self.sum.get((topo, load, size, mode))

    def counts(self, topo, peer):
        return sorted(c for (t, p, c) in self.scale if t == topo
                      and p == peer)

    def top(self, topo, peer):
        """The entry with the most policies, and that count."""
        cs = self.counts(topo, peer)
        return (self.scale[(topo, peer, cs[-1])], cs[-1]) if cs else (None,
                                                                      None)

    def both(self, topo, a, b):
        """The entries of peers A and B at the most policies both had."""
        cs = set(self.counts(topo, a)) & set(self.counts(topo, b)) - {1}
        if not cs:
            return None, None, None
        n = max(cs)
        return self.scale[(topo, a, n)], self.scale[(topo, b, n)], n

    def one(self, topo, peer):
        return self.scale.get((topo, peer, 1))


def _per_size(target, vals, least):
    """A row for a share that must be at least LEAST at every size: VALS
    is {frame size: share}."""
    return (target,
            ', '.join('%d B %s' % (z, _pct(v)) for z, v in vals.items())
            or '-',
            _verdict(all(v and v >= least for v in vals.values())
                     if vals else None))


def _verdict(ok, complete=True):
    if ok is None:
        return 'not measured'
    if not complete:
        return ('met' if ok else 'not met') + ' (partial: see figure)'
    return 'met' if ok else 'NOT MET'


def targets(results):
    """[(target, figure measured, verdict)] for every target of the brief
    this run has figures for (the others say "not measured")."""
    L = Lookup(results)
    rows = []
    edge = [z for z in (64, 1518) if z in L.sizes] or L.sizes

    # eBPF.
    sh = {z: L.s('kernel', z, 'ebpf') for z in L.sizes}
    rows.append(_per_size('eBPF: copies the whole wire (monitor gets every '
                          'packet sent, max load)',
                          {z: s['mon_share'] for z, s in sh.items() if s},
                          0.99))
    figs, oks = [], []
    for z in edge:
        e, t = L.s('kernel', z, 'ebpf'), L.s('kernel', z, 'tc-mirred')
        if e and t and e['cpu_us_per_copy'] is not None \
                and t['cpu_us_per_copy'] is not None:
            figs.append('%d B: %.2f vs %.2f us (BPF run time %s ns/copy)'
                        % (z, e['cpu_us_per_copy'], t['cpu_us_per_copy'],
                           fmt(e.get('bpf_ns_per_copy'))))
            oks.append(e['cpu_us_per_copy'] <= t['cpu_us_per_copy'])
    e10, t10, n_e = L.both('kernel', 'ebpf', 'tc-u32')
    n_t = n_e
    if e10 and t10 and e10['cpu_us_per_copy'] is not None \
            and t10['cpu_us_per_copy'] is not None:
        figs.append('%d policies, 64 B: %.2f vs %.2f us'
                    % (n_e, e10['cpu_us_per_copy'], t10['cpu_us_per_copy']))
        oks.append(e10['cpu_us_per_copy'] <= t10['cpu_us_per_copy'])
    rows.append(('eBPF: CPU per copy <= tc u32 + mirred\'s (same run; 1 tap '
                 'vs 1 filter, 10,000 taps vs 10,000 filters)',
                 '; '.join(figs) or '-',
                 _verdict(all(oks) if oks else None)))
    rows.append(_per_size('eBPF: forwarding with the tap >= 97 % of no '
                          'copy, every frame size',
                          {z: s['rcv_vs_none'] for z, s in sh.items() if s},
                          0.97))
    if e10 and t10:
        r = ratio(e10['mon_pps'], t10['mon_pps'])
        rows.append(('eBPF at 10,000 policies >= 5x tc u32 with 10,000 '
                     'filters (copies/s)',
                     '%s (%d taps: %.1f kpps, %d filters: %.1f kpps)'
                     % (_x(r), n_e, e10['mon_pps'] / 1e3, n_t,
                        t10['mon_pps'] / 1e3),
                     _verdict(r is not None and r >= 5,
                              n_e == n_t == 10000)))
    else:
        rows.append(('eBPF at 10,000 policies >= 5x tc u32 with 10,000 '
                     'filters', '-', _verdict(None)))
    e1 = L.one('kernel', 'ebpf')
    e10, n_e = L.top('kernel', 'ebpf')
    if e10 and e1 and n_e > 1:
        r = ratio(e10['mon_pps'], e1['mon_pps'])
        rows.append(('eBPF at 10,000 policies within 10 % of itself at 1 '
                     'tap (copies/s)', '%s at %d taps' % (_pct(r), n_e),
                     _verdict(r is not None and r >= 0.9, n_e == 10000)))

    # DPDK.
    for z, want in ((1518, 1.5), (64, 1.2)):
        s = L.s('dpdk', z, 'dpdk')
        if s:
            st = results.get('tap_status', {}).get('dpdk', {}).get('dpdk',
                                                                   {})
            note = '' if st.get('backend') == 'dpdk' else \
                ' (tap status backend=%s: %s)' % (
                    st.get('backend', '?'), st.get('reason')
                    or st.get('error') or '')
            rows.append(('DPDK: dpdk tap copies >= %.1fx OVS-DPDK Mirror\'s '
                         'at %d B' % (want, z),
                         '%s (%.1f vs %.1f kpps)%s'
                         % (_x(s['mon_vs_mirror']), s['mon_pps'] / 1e3,
                            (L.s('dpdk', z, 'mirror') or {}).get(
                                'mon_pps', 0) / 1e3, note),
                         _verdict(s['mon_vs_mirror'] is not None
                                  and s['mon_vs_mirror'] >= want)))
        else:
            rows.append(('DPDK: dpdk tap copies >= %.1fx OVS-DPDK Mirror\'s '
                         'at %d B' % (want, z), '-', _verdict(None)))
    vals = {z: L.s('dpdk', z, 'dpdk')['rcv_vs_none'] for z in L.sizes
            if L.s('dpdk', z, 'dpdk')}
    copies = results.get('tap_status', {}).get('dpdk', {}).get(
        'dpdk', {}).get('backend') == 'dpdk'
    row = _per_size('DPDK: forwarding with the dpdk tap >= 90 % of no copy',
                    vals, 0.9)
    if vals and not copies:
        row = row[:2] + ('NOT MET: the tap makes no copies, so this is '
                         'forwarding without a copy',)
    rows.append(row)

    # vhost-user ports.
    rows += report_vhost.targets(results)

    # Latency.
    rows += report_latency.targets(results)

    # Native.
    for topo in ('kernel', 'dpdk'):
        for role, what in (('rcv', 'forwarding'), ('mon', 'copies')):
            figs, oks = [], []
            for z in edge:
                s = L.s(topo, z, 'native')
                if s and s[role + '_vs_mirror_reps']:
                    rs = s[role + '_vs_mirror_reps']
                    fig = ('%d B %.2f..%.2fx over %d runs (median %s'
                           % (z, min(rs), max(rs), len(rs),
                              _x(s[role + '_vs_mirror'])))
                    own = (L.s(topo, z, 'mirror') or {}).get(
                        role + '_pps_self')
                    if own:
                        fig += ('; Mirror\'s own runs %.2f..%.2fx of their '
                                'median' % (min(own), max(own)))
                    figs.append(fig + ')')
                    oks.append(min(rs) >= 1.0)
            if figs or topo == 'kernel':
                rows.append(('Native (%s ports): %s >= OVS Mirror\'s in '
                             'every run' % (topo, what),
                             '; '.join(figs) or '-',
                             _verdict(all(oks) if oks else None)))

    # 10,000 taps.
    for topo in ('kernel', 'dpdk'):
        for b in TAP_MODES:
            top, n = L.top(topo, b)
            one = L.one(topo, b)
            if not top or not one or n == 1:
                continue
            r = ratio(top['rcv_pps'], one['rcv_pps'])
            rm = ratio(top['mon_pps'], one['mon_pps'])
            full = n == 10000
            rows.append(('%s taps (%s ports): packets/s at 10,000 taps '
                         'within 10 %% of 1 tap' % (b, topo),
                         'receiver %s, monitor %s at %d taps'
                         % (_pct(r), _pct(rm), n),
                         _verdict(r is not None and rm is not None
                                  and r >= 0.9 and rm >= 0.9, full)))
            rows.append(('%s taps (%s ports): 10,000 installed in < 10 s'
                         % (b, topo),
                         '%.2f s for %d (committed in %.2f s)'
                         % (top['applied_s'], n, top['commit_s']),
                         _verdict(top['applied_s'] < 10, full)))
            rows.append(('%s taps (%s ports): ovs-vswitchd grows < 50 MB '
                         'with 10,000' % (b, topo),
                         '%.1f MiB at %d taps'
                         % (top['rss_growth_kb'] / 1024, n),
                         _verdict(top['rss_growth_kb'] < 50 * 1024, full)))
    return rows


# -- Markdown ----------------------------------------------------------------

def figures(d, spec):
    """The cells of D's figures: SPEC is [(key, scale, format)]."""
    return [fmt(None if d.get(k) is None else d[k] * scale, f)
            for k, scale, f in spec]

def markdown(results):
    out = []
    f = results['facts']
    c = results['config']
    out.append('# OVS-vTAP benchmark\n')
    out.append('Machine: %s cores (%s), kernel %s; %s; git %s; %s.  '
               'Load average at start: %s%s.\n'
               % (f['cores'], f.get('cpu', '?'), f['kernel'],
                  f['ovs_vswitchd_version'].replace('\n', ', '),
                  f['git_describe'], f['date'],
                  ' '.join(f['loadavg_at_start']),
                  '; at each topology\'s end: %s' % '; '.join(
                      '%s %s' % (t, ' '.join(v)) for t, v in
                      f['loadavg_at_end'].items())
                  if f.get('loadavg_at_end') else ''))
    out.append('Command: `%s`; %s; topologies: %s; %d repetition(s), %.1f s '
               'measured after %.1f s warm-up per run; max load: trafgen as '
               'fast as it can; fixed load: trafgen -t %dus (one packet '
               'every %d us plus a send: the sent kpps column says what it '
               'reached); trafgen on CPU %d, ovs-vswitchd (kernel ports) or '
               'its PMD thread (DPDK ports) on CPU %s.  Medians.  Frame sizes '
               'include the FCS; Mbit/s are Ethernet frames with FCS.\n'
               % (c['command'], 'quick' if c['quick'] else 'full',
                  ', '.join(c.get('topologies', [])), c['reps'],
                  c['duration'], c['warmup'], c['gap_us'], c['gap_us'],
                  TRAFGEN_CPU, ','.join(map(str, VSWITCHD_CPU))))
    if c.get('rr_rounds') and results.get('rr'):
        out.append('Latency: %d round(s) of %g s per mode (%s); '
                   'vhost-user ports: %g s per run, paced at %s '
                   'packets/s.\n'
                   % (c['rr_rounds'], c['rr_seconds'],
                      ', '.join(c.get('rr_loads', [])), c['duration'],
                      c.get('vhost_pps') or '-'))
    rows = targets(results)
    if rows:
        out.append('## Targets\n')
        out.append('| target | measured | verdict |')
        out.append('|---|---|---|')
        for t, m, v in rows:
            out.append('| %s | %s | %s |' % (t, m, v))
        out.append('')
        out.append('"partial": the run had fewer than 10,000 policies (the '
                   'quick run); the verdict is for the count shown.  CPU per '
                   'copy (maximum load): the throughput the copies cost the '
                   'core that makes them, which is saturated: (1 - N / '
                   'N_none) / copies per second, N the packets sent (tc and '
                   'eBPF copy in the sender\'s softirq, on its core) or '
                   'forwarded (OVS copies, on ovs-vswitchd\'s or the PMD\'s '
                   'core), N_none the same with no copy.  BPF run time: the '
                   'kernel\'s own count for our TC programs '
                   '(kernel.bpf_stats_enabled, on only around ebpf runs).\n')
    st = results.get('tap_status', {})
    for topo, modes in st.items():
        for m, s in modes.items():
            if s.get('backend') != m:
                out.append('- %s ports, `offload=%s`: status backend=%s, %s; '
                           'it is measured as it is, and its copies are what '
                           'the tables say (none expected).'
                           % (topo, m, s.get('backend', '?'),
                              s.get('reason') or s.get('error') or s))
    if results.get('summary'):
        out.append('\n## Copy modes, interleaved\n')
        out.append('CPU per copy in us, at maximum load (see Targets); '
                   'vswitchd and softirq: CPU seconds per million packets '
                   'delivered to the receiver (on DPDK ports the PMD thread '
                   'polls, so its time says nothing of the load); BPF: ns '
                   'of our programs\' run time per packet sent and per '
                   'copy.\n')
        table(out, ['ports', 'load', 'frame', 'mode', 'sent kpps',
                    'rcv kpps', 'rcv Mbit/s', 'mon kpps', 'mon Mbit/s',
                    'rcv %', 'mon %', 'rcv vs none', 'CPU us/copy',
                    'BPF ns/pkt', 'BPF ns/copy', 'vswitchd s/Mpkt',
                    'softirq s/Mpkt', 'rcv vs mirror', 'mon vs mirror'],
              [[s['topology'], s['load'], str(s['size']), s['mode']]
               + figures(s, [('sent_pps', 1e-3, '%.1f'),
                             ('rcv_pps', 1e-3, '%.1f'),
                             ('rcv_mbps', 1, '%.1f'),
                             ('mon_pps', 1e-3, '%.1f'),
                             ('mon_mbps', 1, '%.1f'),
                             ('rcv_share', 100, '%.1f'),
                             ('mon_share', 100, '%.1f'),
                             ('rcv_vs_none', 1, '%.2f'),
                             ('cpu_us_per_copy', 1, '%.2f'),
                             ('bpf_ns_per_pkt', 1, '%.0f'),
                             ('bpf_ns_per_copy', 1, '%.0f'),
                             ('vswitchd_s_per_mpkt', 1, '%.2f'),
                             ('softirq_s_per_mpkt', 1, '%.2f'),
                             ('rcv_vs_mirror', 1, '%.2f'),
                             ('mon_vs_mirror', 1, '%.2f')])
               for s in results['summary']])
        out.append('')
    report_vhost.section(results, out)
    if results['skipped']:
        out.append('Skipped:\n')
        for m, why in results['skipped'].items():
            out.append('- `%s`: %s' % (m, why))
        out.append('')
    if results['scale']:
        out.append('## Peers at scale\n')
        out.append('64 B frames, maximum load.  Each peer with COUNT '
                   'policies, one per monitored UDP port, only the last one '
                   'matching the traffic: taps (one ovs-vsctl transaction), '
                   '`tc u32` filters with `mirred egress mirror` on the '
                   'sender\'s port (one `tc -batch`), OVS Mirrors (one '
                   'transaction; at most 32 per bridge, and OVS 3.1 mirrors '
                   'have no filter: each selects all the sender\'s traffic, '
                   'so they cannot hold one policy per address or port).  '
                   'Installed: seconds until the command returned / until '
                   'ovs-vswitchd applied it (tc applies as it goes).  RSS: '
                   'ovs-vswitchd\'s with the policies in place, after the '
                   'runs; growth: since just before the peer\'s first count '
                   'was installed, in an ovs-vswitchd started afresh for '
                   'each tap peer.\n')
        table(out, ['ports', 'peer', 'policies', 'in place', 'installed s',
                    'applied s', 'rcv kpps', 'mon kpps', 'mon %',
                    'CPU us/copy', 'BPF ns/pkt', 'BPF ns/copy',
                    'vswitchd s/Mpkt', 'RSS MiB', 'RSS growth MiB'],
              [[e['topology'], e['peer'], str(e['count']),
                str(e.get('listed', '-'))]
               + figures(e, [('commit_s', 1, '%.2f'),
                             ('applied_s', 1, '%.2f'),
                             ('rcv_pps', 1e-3, '%.1f'),
                             ('mon_pps', 1e-3, '%.1f'),
                             ('mon_share', 100, '%.1f'),
                             ('cpu_us_per_copy', 1, '%.2f'),
                             ('bpf_ns_per_pkt', 1, '%.0f'),
                             ('bpf_ns_per_copy', 1, '%.0f'),
                             ('vswitchd_s_per_mpkt', 1, '%.2f'),
                             ('rss_after_kb', 1 / 1024, '%.1f'),
                             ('rss_growth_kb', 1 / 1024, '%.1f')])
               for e in results['scale']])
        out.append('')
    if results['latency']:
        out.append('## Reconfiguration latency\n')
        out.append('64 B UDP every %d us (%.1f kpps measured) keeps the flow '
                   'cached; the copy is added while the monitor\'s rx '
                   'counter is polled every ~%.0f us; a negative time: the '
                   'first copy came before the command returned.\n'
                   % (c['latency_gap_us'], median(
                       [e['rate_pps'] for e in results['latency']]) / 1e3,
                      median([e['poll_interval_us']
                              for e in results['latency']])))
        out.append('| ports | mode | runs | command returns after | first '
                   'copy after the return (median, min..max) | no copy '
                   'within |')
        out.append('|---|---|---|---|---|---|')
        keys = dict.fromkeys((e['topology'], e['mode'])
                             for e in results['latency'])
        for topo, m in keys:
            es = [e for e in results['latency'] if e['mode'] == m
                  and e['topology'] == topo]
            got = [e['from_return_s'] for e in es
                   if e['from_return_s'] is not None]
            out.append('| %s | %s | %d | %s | %s | %s |' % (
                topo, m, len(es),
                fmt_ms(median([e['command_s'] for e in es])),
                '%s (%s..%s)' % (fmt_ms(median(got)), fmt_ms(min(got)),
                                 fmt_ms(max(got))) if got else '-',
                '%d of %d runs (%.0f s)' % (len(es) - len(got), len(es),
                                            c['latency_timeout'])
                if len(got) < len(es) else '-'))
        out.append('')
    report_latency.section(results, out)
    if results['replay']:
        out.append('## Replay check\n')
        out.append('Crafted UDP/TCP/ICMP/ARP over IPv4/IPv6 (scapy), '
                   'replayed twice by tcpreplay from the sender; tcpdump at '
                   'the monitor and the receiver; the copies must be the '
                   'selected packets byte for byte, or their first snaplen '
                   'bytes, with the VLAN tag where asked, nothing else, in '
                   'order within each flow.\n')
        out.append('| ports | backend | case | replayed | selected | monitor '
                   'got | receiver got | result |')
        out.append('|---|---|---|---|---|---|---|---|')
        for e in results['replay']:
            res = 'exact' if e['ok'] else 'MISMATCH: ' + '; '.join(
                e['problems'][:2])
            if not e['ok'] and not e['expected_to_copy']:
                res = 'no copies, as its status says: ' + '; '.join(
                    e['problems'][:2])
            out.append('| %s | %s | %s | %d | %d | %d | %d | %s |' % (
                e['topology'], e['backend'], e['case'], e['replayed'],
                e['selected'], e['monitor_captured'], e['receiver_captured'],
                res))
        out.append('')
    if results['failures']:
        out.append('FAILURES:\n')
        for x in results['failures']:
            out.append('- ' + x)
        out.append('')
    return '\n'.join(out)


# -- checks ------------------------------------------------------------------

def check_results(results):
    """What would mean the build is broken; a mode that should copy and did
    not is one (a tap whose status says it makes no copies is not)."""
    fails = []
    expects = results.get('expects_copies', {})
    for s in results.get('summary', []):
        where = '%s ports, %s load, %d B, %s' % (s['topology'], s['load'],
                                                 s['size'], s['mode'])
        should = expects.get(s['topology'], {}).get(s['mode'], True)
        if s['errors']:
            fails.append('%s: %s' % (where, s['errors'][0]))
        if not s['rcv_pps']:
            fails.append('%s: the receiver got nothing' % where)
        if s['mode'] == 'none' or not should:
            if s['mon_share'] and s['mon_share'] > 0.01:
                fails.append('%s: the monitor got %.1f%% of the traffic '
                             'with no copy expected'
                             % (where, s['mon_share'] * 100))
        elif not s['mon_pps']:
            fails.append('%s: the monitor got no copies' % where)
        elif s['mode'] in TAP_MODES and s['rcv_pps'] \
                and s['mon_pps'] < 0.9 * s['rcv_pps']:
            # A tap's copies must keep up with what the bridge forwards.
            fails.append('%s: the monitor got %.0f pps, the receiver %.0f'
                         % (where, s['mon_pps'], s['rcv_pps']))
    for e in results['scale']:
        where = '%s ports, scale %s %d' % (e['topology'], e['peer'],
                                           e['count'])
        if e.get('error'):
            fails.append('%s: %s' % (where, e['error']))
        if e['count'] and e.get('listed') is not None \
                and e['listed'] != e['count']:
            fails.append('%s: %d in place' % (where, e['listed']))
        if e['count'] and not e['mon_pps']:
            fails.append('%s: the monitor got no copies' % where)
    for e in results['latency']:
        if e['mode'] in TAP_MODES and e['from_return_s'] is None:
            fails.append('latency %s: no copy at the monitor within %.0f s '
                         'of adding the tap to a cached flow'
                         % (e['mode'], e['timeout_s']))
    fails += report_latency.checks(results)
    fails += report_vhost.checks(results)
    for e in results['replay']:
        if not e['ok'] and e['expected_to_copy']:
            fails.append('replay %s %s %s: %s'
                         % (e['topology'], e['backend'], e['case'],
                            '; '.join(e['problems'][:3])))
    return fails
