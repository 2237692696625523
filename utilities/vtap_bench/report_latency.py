# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The latency phase in the report: its targets' rows, its tables (the
percentiles per mode with the ratios to no copy and their intervals; where
the tail comes from), and its checks (a mode that should copy did not
while the ping-pong ran)."""

from .common import fmt, table
from .rr import AA, PCT_LABEL, TARGET

TOPO_NAME = {'kernel': 'kernel ports', 'dpdk': 'DPDK af_packet ports',
             'vhost': 'vhost-user ports'}
TAPS = {'kernel': ('native', 'native-clone', 'ebpf'),
        'dpdk': ('native', 'dpdk'),
        'vhost': ('native', 'dpdk')}
PCTS = ('p50', 'p99', 'p999')


def _by(results):
    return {(s['topology'], s['load'], s['mode']): s
            for s in results.get('rr_summary', [])}


def _pct(r):
    return '-' if r is None else '%+.1f %%' % ((r - 1) * 100)


def noise(aa, k):
    """How far no copy's 95 % interval against itself reaches from 1 at
    percentile K: what a ratio must exceed to be told from noise."""
    if not aa or not aa.get(k + '_ci') or aa[k + '_ci'][0] is None:
        return None
    lo, hi = aa[k + '_ci']
    return max(abs(lo - 1), abs(hi - 1))


def targets(results):
    """Per topology, load and tap backend: the target row."""
    by = _by(results)
    rows = []
    for topo in ('kernel', 'dpdk', 'vhost'):
        for load in ('idle', 'loaded'):
            mir = by.get((topo, load, 'mirror'))
            aa = by.get((topo, load, AA))
            for b in TAPS[topo]:
                s = by.get((topo, load, b))
                if not s:
                    continue
                oks, figs = [], []
                for k in PCTS:
                    r = s.get(k + '_ratio')
                    m = mir and mir.get(k + '_ratio')
                    ok = r is not None and r - 1 <= TARGET[k] \
                        and (m is None or r < m)
                    oks.append(ok)
                    figs.append('%s %s' % (PCT_LABEL[k], _pct(r)))
                fig = ', '.join(figs)
                if mir:
                    fig += '; Mirror %s' % ' / '.join(
                        _pct(mir.get(k + '_ratio')) for k in PCTS)
                ns = [noise(aa, k) for k in PCTS]
                loud = [PCT_LABEL[k] for k, n in zip(PCTS, ns)
                        if n is not None and n > TARGET[k]]
                if aa:
                    fig += '; no copy against itself +-%s' % ' / '.join(
                        fmt(n and n * 100, '%.1f %%') for n in ns)
                fig += ' (median of %d rounds)' % s['rounds']
                verdict = 'met' if all(oks) else 'NOT MET'
                if loud:
                    verdict += ' (noise above the target at %s)' \
                        % ', '.join(loud)
                rows.append(('Latency (%s, %s%s): %s tap adds <= 2 / 5 / '
                             '10 %% to p50 / p99 / p99.9 over no copy, and '
                             'less than Mirror'
                             % (TOPO_NAME[topo], load,
                                ', second flow %.0f kpps'
                                % (s['load_pps'] / 1e3)
                                if load == 'loaded' and s.get('load_pps')
                                else '', b), fig, verdict))
    return rows


def section(results, out):
    """The Markdown of the latency phase onto OUT."""
    if results.get('rr_summary'):
        percentiles(results['rr_summary'], out)
    if results.get('tail'):
        where(results['tail'], results['config'].get('tail_seconds'), out)


def percentiles(summ, out):
    """The table of each mode's percentiles and ratios."""
    if summ:
        out.append('## Latency: request/response, one request in flight\n')
        out.append('Half the round trip, in microseconds (sockperf\'s '
                   '"latency" on kernel and af_packet ports: UDP ping-pong, '
                   '64 B frames, client in the sender\'s namespace and '
                   'server in the receiver\'s, both on CPU 0; on vhost-user '
                   'ports the generator\'s own ping-pong, timed with the '
                   'TSC).  Every copy mode watches both directions of the '
                   'sender\'s port.  Each round runs every mode and no copy '
                   'twice, in an order rotated per round; a mode\'s ratio is '
                   'its percentile over the first no-copy run of the same '
                   'round: the median over the rounds, and a 95 % bootstrap '
                   'interval of that median in brackets.  `none-aa`: the '
                   'second no-copy run against the first, the '
                   'measurement\'s own noise.  "loaded": a second flow at a '
                   'fixed rate from the sender (64 B UDP to an address the '
                   'receiver drops; trafgen, or the generator paced), '
                   'copied too.  Copies per request: packets at the '
                   'monitor per request sent (2: the request and its '
                   'response; more with the second flow\'s).\n')
        rows = []
        for s in summ:
            cells = [s['topology'], s['load'], s['mode'], str(s['rounds'])]
            cells += [fmt(s.get(k), '%.2f') for k in PCTS + ('max',)]
            for k in PCTS:
                r, ci = s.get(k + '_ratio'), s.get(k + '_ci') or [None] * 2
                cells.append('-' if s['mode'] == 'none' else
                             '%s [%s, %s]' % (fmt(r, '%.3f'),
                                              fmt(ci[0], '%.3f'),
                                              fmt(ci[1], '%.3f')))
            cells.append(fmt(s.get('load_pps') and s['load_pps'] / 1e3,
                             '%.1f') if s['load'] == 'loaded' else '-')
            cells.append(fmt(s.get('mon_per_rt'), '%.2f'))
            rows.append(cells)
        table(out, ['ports', 'load', 'mode', 'rounds', 'p50', 'p99',
                    'p99.9', 'max', 'p50 vs none', 'p99 vs none',
                    'p99.9 vs none', 'second flow kpps',
                    'copies per request'], rows)


def where(tail, seconds, out):
    """The table of what the datapath thread did between receiving and
    sending on, per mode."""
    if tail:
        out.append('## Where the latency goes\n')
        out.append('During a ping-pong of %s s per mode (both directions '
                   'copied; `perf record` of the datapath thread\'s system '
                   'calls and transmits, which slows every figure here by '
                   'its own cost: compare modes, not absolute values).  '
                   '"Sender\'s send": the sockperf client\'s sendto(), in '
                   'which the kernel pushes the request through the veth '
                   'and the switch port\'s TC hooks (where tc and eBPF '
                   'copy).  "To the original": on kernel ports, from the '
                   'datapath thread\'s recvmmsg() that returned the packet '
                   'to the start of the original\'s send; on af_packet '
                   'ports, from the PMD iteration\'s first TX kick to the '
                   'original\'s.  "Copy first": the share of packets whose '
                   'copy was sent before the original, and how long those '
                   'sends took.  BPF: our programs\' run time per run '
                   '(clone and transmit included).\n' % fmt(seconds, '%g'))
        rows = []
        for s in tail:
            def trio(k, keys=('p50', 'p99')):
                d = s.get(k) or {}
                return ' / '.join(fmt(d.get(x), '%.2f') for x in keys)
            rows.append([
                s['topology'], s['mode'], str(s.get('packets', 0)),
                trio('client_send_us'),
                trio('to_orig_us', PCTS), trio('orig_us', ('p50',)),
                fmt(s.get('copy_first_share') and
                    s['copy_first_share'] * 100, '%.0f %%'),
                trio('copy_before_us'), trio('copy_after_us', ('p50',)),
                ', '.join('%s %.0f' % (n.replace('vtap_tc_', ''), v)
                          for n, v in sorted((s.get('bpf_ns_per_run')
                                              or {}).items())) or '-'])
        table(out, ['ports', 'mode', 'packets', 'sender\'s send p50 / p99',
                    'to the original p50 / p99 / p99.9',
                    'original\'s send p50', 'copy first',
                    'copy before p50 / p99', 'copy after p50', 'BPF ns/run'],
              rows)


def checks(results):
    """A mode that should copy and whose monitor got nothing while the
    ping-pong ran; a monitor that got copies with no copy in place."""
    fails = []
    expects = results.get('expects_copies', {})
    for r in results.get('rr', []):
        mode = 'none' if r['mode'] == AA else r['mode']
        where = 'latency %s ports, %s, round %d, %s' % (
            r['topology'], r['load'], r['round'] + 1, r['mode'])
        got = r.get('mon_packets')
        if got is None:
            continue
        if mode == 'none':
            # The second flow is not copied either: nothing at all.
            if got > 0.01 * max(1, r.get('n', 0)):
                fails.append('%s: the monitor got %d packets with no copy '
                             'in place' % (where, got))
        elif expects.get(r['topology'], {}).get(mode, True) and not got:
            fails.append('%s: the monitor got no copies' % where)
    return fails

