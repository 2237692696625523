# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The figure, read at a glance: one colour per mode everywhere, one panel
per topology, the spread of the runs as error bars.

- Top row, one panel per topology (kernel ports, DPDK af_packet ports,
  vhost-user ports): packets/s at the receiver (solid) and the monitor
  (dashed) per frame size, maximum load; error bars from the slowest to
  the fastest run.
- Middle row, one panel per topology: latency, each percentile of each
  mode over no copy's (median of the rounds, 95 % interval as the error
  bar), idle and beside a second flow; the targets as short black lines;
  the grey bar is no copy against itself.
- Bottom row: the peers at scale (copies/s against the number of
  policies), installing them, and on vhost-user ports what a copy costs
  the PMD."""

from .common import log

COLOURS = {
    'none': '#4d4d4d', 'none-aa': '#b0b0b0', 'mirror': '#ff7f0e',
    'flow2out': '#8c564b', 'tc-mirred': '#9467bd', 'tc-u32': '#9467bd',
    'native': '#1f77b4', 'native-clone': '#17becf', 'ebpf': '#2ca02c',
    'dpdk': '#d62728',
}
SPARE = ['#bcbd22', '#e377c2', '#7f7f7f', '#aec7e8', '#98df8a']
TOPOS = (('kernel', 'kernel ports'), ('dpdk', 'DPDK af_packet ports'),
         ('vhost', 'vhost-user ports'))
PCTS = (('p50', 'p50'), ('p99', 'p99'), ('p999', 'p99.9'))
TARGETS = {'p50': 1.02, 'p99': 1.05, 'p999': 1.10}


def colour(mode):
    """The mode's colour; a mode this file does not know gets one of the
    spare colours, always the same for the same name."""
    if mode not in COLOURS:
        COLOURS[mode] = SPARE[sum(map(ord, mode)) % len(SPARE)]
    return COLOURS[mode]


def _throughput(ax, results, topo, title):
    if topo == 'vhost':
        summ = [s for s in results.get('vhost_summary', [])
                if s['load'] == 'max']
    else:
        summ = [s for s in results.get('summary', [])
                if s['load'] == 'max' and s['topology'] == topo]
    modes = list(dict.fromkeys(s['mode'] for s in summ))
    for m in modes:
        for role, style, marker in (('rcv', '-', 'o'), ('mon', '--', 's')):
            if role == 'mon' and m == 'none':
                continue
            pts = sorted((s['size'], s[role + '_pps'],
                          s.get(role + '_pps_min'), s.get(role + '_pps_max'))
                         for s in summ if s['mode'] == m)
            if not pts:
                continue
            x = [p[0] for p in pts]
            y = [p[1] / 1e3 for p in pts]
            err = [[(p[1] - (p[2] if p[2] is not None else p[1])) / 1e3
                    for p in pts],
                   [((p[3] if p[3] is not None else p[1]) - p[1]) / 1e3
                    for p in pts]]
            ax.errorbar(x, y, yerr=err, color=colour(m), linestyle=style,
                        marker=marker, markersize=4, capsize=3,
                        label=m if role == 'rcv' else None)
    ax.set_title('%s: receiver (solid), monitor (dashed)' % title,
                 fontsize=9)
    ax.set_xlabel('frame size (bytes)')
    ax.set_ylabel('kpackets/s, max load (median, min..max)')
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if modes:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, 'not measured', ha='center', va='center',
                transform=ax.transAxes)


def _latency(ax, results, topo, title):
    summ = [s for s in results.get('rr_summary', [])
            if s['topology'] == topo and s['mode'] != 'none']
    loads = [x for x in ('idle', 'loaded')
             if any(s['load'] == x for s in summ)]
    modes = list(dict.fromkeys(s['mode'] for s in summ))
    if not summ:
        ax.text(0.5, 0.5, 'not measured', ha='center', va='center',
                transform=ax.transAxes)
        ax.set_title('Latency, %s' % title, fontsize=9)
        return
    by = {(s['load'], s['mode']): s for s in summ}
    groups = [(load, k, lab) for load in loads for k, lab in PCTS]
    width = 0.8 / max(1, len(modes))
    for i, m in enumerate(modes):
        xs, ys, lo, hi = [], [], [], []
        for g, (load, k, _) in enumerate(groups):
            s = by.get((load, m))
            if not s or s.get(k + '_ratio') is None:
                continue
            r = s[k + '_ratio']
            ci = s.get(k + '_ci') or [r, r]
            xs.append(g - 0.4 + width * (i + 0.5))
            ys.append(r)
            lo.append(max(0, r - (ci[0] if ci[0] is not None else r)))
            hi.append(max(0, (ci[1] if ci[1] is not None else r) - r))
        ax.bar(xs, ys, width, yerr=[lo, hi], color=colour(m), capsize=2,
               label=m, error_kw={'elinewidth': 0.8})
    # A ratio far off (a loaded machine's tail) would flatten the others:
    # the axis stops at 2 and such bars say their value.
    top = 2.0
    for c in ax.containers:
        for bar in getattr(c, 'patches', []):
            if bar.get_height() > top:
                ax.text(bar.get_x() + bar.get_width() / 2, top * 0.97,
                        '%.1f' % bar.get_height(), ha='center', va='top',
                        fontsize=6, rotation=90)
    ax.set_ylim(0, min(top, max([1.2] + [b.get_height() for c in
                                         ax.containers for b in
                                         getattr(c, 'patches', [])]) + 0.1))
    for g, (load, k, _) in enumerate(groups):
        ax.plot([g - 0.45, g + 0.45], [TARGETS[k]] * 2, color='black',
                linewidth=1)
    ax.axhline(1.0, color='#4d4d4d', linewidth=0.8, linestyle=':')
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(['%s\n%s' % (lab, load) for load, _, lab in groups],
                       fontsize=7)
    ax.set_ylabel('percentile / no copy\'s (median, 95 % interval)')
    ax.set_title('Latency, %s (black: target)' % title, fontsize=9)
    ax.grid(True, axis='y', alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def _scale(ax, ax2, results):
    scale = [e for e in results.get('scale', []) if e['count']]
    peers = list(dict.fromkeys((e['topology'], e['peer']) for e in scale))
    style = {'kernel': '-', 'dpdk': '--'}
    for topo, peer in peers:
        es = sorted((e for e in scale if e['peer'] == peer
                     and e['topology'] == topo), key=lambda e: e['count'])
        label = '%s (%s)' % (peer, topo)
        ax.plot([e['count'] for e in es], [e['mon_pps'] / 1e3 for e in es],
                marker='s', color=colour(peer),
                linestyle=style.get(topo, '-'), label=label)
        ax2.plot([e['count'] for e in es],
                 [max(e['applied_s'], 1e-3) for e in es], marker='o',
                 color=colour(peer), linestyle=style.get(topo, '-'),
                 label=label + ': installed (s)')
        if peer in ('native', 'ebpf', 'dpdk'):
            ax2.plot([e['count'] for e in es],
                     [max(e['rss_growth_kb'] / 1024, 1e-2) for e in es],
                     marker='s', linestyle=':', color=colour(peer),
                     label=label + ': RSS growth (MiB)')
    ax.set_xscale('log')
    ax.set_title('Copies/s at scale (64 B, max load; solid kernel, dashed '
                 'DPDK)', fontsize=9)
    ax.set_xlabel('policies (only the last one matches)')
    ax.set_ylabel('kpackets/s at the monitor')
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax2.set_xscale('log')
    ax2.set_yscale('log')
    ax2.set_title('Installing policies', fontsize=9)
    ax2.set_xlabel('policies')
    ax2.grid(True, alpha=0.3)
    for a in (ax, ax2):
        if peers:
            a.legend(fontsize=6)


def _vhost_cost(ax, results):
    summ = [s for s in results.get('vhost_summary', [])
            if s['mode'] != 'none' and s.get('ns_per_copy') is not None]
    if not summ:
        ax.text(0.5, 0.5, 'not measured', ha='center', va='center',
                transform=ax.transAxes)
        ax.set_title('vhost-user: PMD time per copy', fontsize=9)
        return
    groups = list(dict.fromkeys((s['load'], s['size']) for s in summ))
    modes = list(dict.fromkeys(s['mode'] for s in summ))
    by = {(s['load'], s['size'], s['mode']): s for s in summ}
    width = 0.8 / len(modes)
    for i, m in enumerate(modes):
        pts = [(g, by[k + (m,)]['ns_per_copy'])
               for g, k in enumerate(groups) if k + (m,) in by]
        ax.bar([g - 0.4 + width * (i + 0.5) for g, _ in pts],
               [v for _, v in pts], width, color=colour(m), label=m)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(['%d B\n%s' % (z, load) for load, z in groups],
                       fontsize=7)
    ax.set_ylabel('ns of the PMD per copy (median)')
    ax.set_title('vhost-user: PMD time per copy (pmd-perf-show)',
                 fontsize=9)
    ax.grid(True, axis='y', alpha=0.3)
    ax.legend(fontsize=7)


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError as e:
        log('no plot: matplotlib not available (%s; apt-get install '
            'python3-matplotlib)' % e)
        return None
    fig, axes = plt.subplots(3, 3, figsize=(18, 14))
    for i, (topo, title) in enumerate(TOPOS):
        _throughput(axes[0][i], results, topo, title)
        _latency(axes[1][i], results, topo, title)
    _scale(axes[2][0], axes[2][1], results)
    _vhost_cost(axes[2][2], results)
    f = results['facts']
    fig.suptitle('OVS-vTAP benchmark: %s cores, kernel %s, git %s, %s'
                 % (f['cores'], f['kernel'], f['git_describe'],
                    f['date']), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
