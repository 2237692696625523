# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The vhost-user topology in the report: its targets' rows, its table
(rates and the PMD's cycles per packet and per copy), where the PMD's
cycles go with each mode, and its checks."""

from .common import fmt, table


def _by(results):
    return {(s['load'], s['size'], s['mode']): s
            for s in results.get('vhost_summary', [])}


def targets(results):
    by = _by(results)
    if not by:
        return []
    sizes = sorted({k[1] for k in by})
    rows = []
    for z, want in ((1518, 1.5), (64, 1.2)):
        s, m = by.get(('max', z, 'dpdk')), by.get(('max', z, 'mirror'))
        if s and m:
            r = s.get('mon_vs_mirror')
            rows.append(('vhost-user: dpdk tap copies >= %.1fx OVS-DPDK '
                         'Mirror\'s at %d B (maximum load)' % (want, z),
                         '%s (%.1f vs %.1f kpps)'
                         % (fmt(r, '%.2fx'), s['mon_pps'] / 1e3,
                            m['mon_pps'] / 1e3),
                         'met' if r and r >= want else 'NOT MET'))
        else:
            rows.append(('vhost-user: dpdk tap copies >= %.1fx OVS-DPDK '
                         'Mirror\'s at %d B (maximum load)' % (want, z), '-',
                         'not measured'))
    vals = {z: by[('max', z, 'dpdk')]['rcv_vs_none'] for z in sizes
            if ('max', z, 'dpdk') in by}
    rows.append(('vhost-user: forwarding with the dpdk tap >= 90 % of no '
                 'copy (maximum load)',
                 ', '.join('%d B %s' % (z, fmt(v and v * 100, '%.1f %%'))
                           for z, v in vals.items()) or '-',
                 ('met' if all(v and v >= 0.9 for v in vals.values())
                  else 'NOT MET') if vals else 'not measured'))
    figs, oks = [], []
    for load in ('max', 'paced'):
        for z in sizes:
            s, m = by.get((load, z, 'dpdk')), by.get((load, z, 'mirror'))
            if not s or not m or s.get('ns_per_copy') is None \
                    or not m.get('ns_per_copy'):
                continue
            r = s['ns_per_copy'] / m['ns_per_copy']
            figs.append('%s %d B: %.0f vs %.0f ns (%.2f)'
                        % (load, z, s['ns_per_copy'], m['ns_per_copy'], r))
            if load == 'max':
                oks.append(r <= 2 / 3)
    rows.append(('vhost-user: PMD CPU per copy <= 2/3 of Mirror\'s (the '
                 'PMD\'s cycles; verdict at the maximum load)',
                 '; '.join(figs) or '-',
                 ('met' if all(oks) else 'NOT MET') if oks
                 else 'not measured'))
    return rows


def section(results, out):
    summ = results.get('vhost_summary', [])
    if not summ:
        return
    c = results.get('config', {})
    out.append('## vhost-user ports\n')
    out.append('Sender, receiver and monitor are virtio-user ports of one '
               'DPDK process (tools/vhost-pktgen.c, one polling loop on CPU '
               '0) behind `dpdkvhostuserclient` ports; one PMD on CPU 1.  '
               'Counts are the generator\'s own (what each VM sent or got '
               'of the flow, exactly).  "max": the sender sends whenever '
               'its ring has room; "paced": %s packets/s by the TSC.  PMD: '
               'busy cycles per packet received (pmd-perf-show), their ns '
               'at the TSC\'s rate, and per copy: the cycles per packet '
               'that the copies add over no copy, divided by the copies '
               'per packet; "us/copy (fwd)": what the copies cost in '
               'forwarding at the maximum load, as on the other '
               'topologies.  Ring drops: packets OVS could not put in the '
               'receiver\'s or the monitor\'s ring (full), per second.\n'
               % c.get('vhost_pps'))
    rows = []
    for s in summ:
        rows.append([
            s['load'], str(s['size']), s['mode'],
            fmt(s['sent_pps'] and s['sent_pps'] / 1e3, '%.1f'),
            '%s (%s..%s)' % (fmt(s['rcv_pps'] / 1e3, '%.1f'),
                             fmt(s['rcv_pps_min'] / 1e3, '%.0f'),
                             fmt(s['rcv_pps_max'] / 1e3, '%.0f')),
            fmt(s['mon_pps'] / 1e3, '%.1f'),
            fmt(s.get('rcv_vs_none'), '%.2f'),
            fmt(s.get('mon_vs_mirror'), '%.2f'),
            fmt(s.get('cycles_per_pkt'), '%.0f'),
            fmt(s.get('ns_per_pkt'), '%.0f'),
            fmt(s.get('busy_pct'), '%.0f'),
            fmt(s.get('cycles_per_copy'), '%.0f'),
            fmt(s.get('ns_per_copy'), '%.0f'),
            fmt(s.get('us_per_copy_tput'), '%.2f'),
            fmt(s.get('dropped_per_s'), '%.0f')])
    table(out, ['load', 'frame', 'mode', 'sent kpps', 'rcv kpps (min..max)',
                'mon kpps', 'rcv vs none', 'mon vs Mirror', 'PMD cycles/pkt',
                'ns/pkt', 'PMD busy %', 'cycles/copy', 'ns/copy',
                'us/copy (fwd)', 'ring drops/s'], rows)
    prof = results.get('vhost_profile', [])
    if prof:
        out.append('Where the PMD\'s cycles go at the maximum load (perf '
                   'record -g of its thread, self time, symbols over 1 % '
                   'of the samples):\n')
        table(out, ['frame', 'mode', 'top symbols'],
              [[str(p['size']), p['mode'], ', '.join(
                  '`%s` %.1f %%' % (sym, pc) for pc, sym, _ in
                  p['top'][:10])] for p in prof])


def checks(results):
    """A mode that should copy whose monitor got nothing, a receiver that
    got nothing, a monitor that got the flow with no copy in place."""
    fails = []
    expects = results.get('expects_copies', {}).get('vhost', {})
    for c in results.get('vhost', []):
        where = 'vhost-user ports, %s load, %d B, %s, rep %d' % (
            c['load'], c['size'], c['mode'], c['rep'] + 1)
        if not c['rcv_packets']:
            fails.append('%s: the receiver got nothing' % where)
        if c['mode'] == 'none' or not expects.get(c['mode'], True):
            if c['mon_packets'] > 0.01 * max(1, c['sent_packets']):
                fails.append('%s: the monitor got %d packets with no copy '
                             'expected' % (where, c['mon_packets']))
        elif not c['mon_packets']:
            # (Fewer copies than packets is speed, a full ring: reported,
            # not failed.)
            fails.append('%s: the monitor got no copies' % where)
    return fails
