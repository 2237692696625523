# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The figure: packets/s at the receiver and the monitor per frame size
for every mode (kernel ports solid, DPDK ports dashed), and the scale
curve of every peer (copies/s and install time against the number of
policies)."""

from .common import log
from .modes import ALL_MODES


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError as e:
        log('no plot: matplotlib not available (%s; apt-get install '
            'python3-matplotlib)' % e)
        return None
    summ = [s for s in results['summary'] if s['load'] == 'max']
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    for ax, role, title in ((axes[0][0], 'rcv', 'Receiver'),
                            (axes[0][1], 'mon', 'Monitor')):
        for topo, style in (('kernel', '-'), ('dpdk', '--')):
            for m in ALL_MODES:
                pts = sorted((s['size'], s[role + '_pps']) for s in summ
                             if s['mode'] == m and s['topology'] == topo)
                if not pts or (role == 'mon' and m == 'none'):
                    continue
                ax.plot([p[0] for p in pts], [p[1] / 1e3 for p in pts],
                        marker='o', linestyle=style,
                        label='%s (%s)' % (m, topo),
                        color='C%d' % ALL_MODES.index(m))
        ax.set_title('%s, maximum offered load' % title)
        ax.set_xlabel('frame size (bytes)')
        ax.set_ylabel('kpackets/s (median)')
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_ylim(bottom=0)
    scale = [e for e in results['scale'] if e['count']]
    peers = list(dict.fromkeys((e['topology'], e['peer']) for e in scale))
    ax = axes[1][0]
    for i, (topo, peer) in enumerate(peers):
        es = sorted((e for e in scale if e['peer'] == peer
                     and e['topology'] == topo), key=lambda e: e['count'])
        label = '%s (%s)' % (peer, topo)
        ax.plot([e['count'] for e in es], [e['mon_pps'] / 1e3 for e in es],
                marker='s', color='C%d' % i, label=label + ' monitor')
        ax.plot([e['count'] for e in es], [e['rcv_pps'] / 1e3 for e in es],
                marker='o', linestyle=':', color='C%d' % i,
                label=label + ' receiver')
    ax.set_xscale('log')
    ax.set_title('Peers at scale: policies in place, 64 B, maximum load')
    ax.set_xlabel('policies (only the last one matches)')
    ax.set_ylabel('kpackets/s')
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    ax = axes[1][1]
    for i, (topo, peer) in enumerate(peers):
        es = sorted((e for e in scale if e['peer'] == peer
                     and e['topology'] == topo), key=lambda e: e['count'])
        ax.plot([e['count'] for e in es],
                [max(e['applied_s'], 1e-3) for e in es], marker='o',
                color='C%d' % i, label='%s (%s): installed (s)'
                % (peer, topo))
        if peer in ('native', 'ebpf', 'dpdk'):
            ax.plot([e['count'] for e in es],
                    [max(e['rss_growth_kb'] / 1024, 1e-2) for e in es],
                    marker='s', linestyle='--', color='C%d' % i,
                    label='%s (%s): vswitchd RSS growth (MiB)'
                    % (peer, topo))
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_title('Installing policies')
    ax.set_xlabel('policies')
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    f = results['facts']
    fig.suptitle('OVS-vTAP benchmark: %s cores, kernel %s, git %s, %s'
                 % (f['cores'], f['kernel'], f['git_describe'],
                    f['date']), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
