# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The command line: reads the options, takes the lock, runs each
topology's phases (modes interleaved, peers at scale, latency, replay),
cleans up whatever happens, writes the JSON, the report and the plot, and
exits 1 if a check failed."""

import argparse
import atexit
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from . import common
from .common import LOCK, PROG, Failure, log, run
from .measure import (BpfStats, rss_growth, run_latency, run_modes, run_scale,
                      summarize)
from .modes import ALL_MODES, DPDK_MODES, KERNEL_MODES, Modes
from .plot import plot
from .replay import run_replay
from .report import check_results, machine_facts, markdown
from .rr import RR_MODES, SockperfProbe, run_rr, summarize_rr
from .tail import perf_available, run_tail
from .topology import (Sandbox, Unavailable, dpdk_unavailable,
                       restore_hugepages)
from .vhost import (VHOST_MODES, PktgenProbe, VhostSandbox, build_pktgen,
                    pktgen_source, run_vhost, summarize_vhost, vhost_profile)

PHASES = ('modes', 'scale', 'reconfig', 'rr', 'tail', 'replay')

FULL_SIZES = [64, 128, 256, 512, 1024, 1280, 1518]
QUICK_SIZES = [64, 1518]


def counts(text, default):
    return [int(x) for x in text.split(',') if x] if text is not None \
        else default


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description='Measures OVS-vTAP against the other ways of copying VM '
        'traffic to a monitor on this machine: no copy (none), OVS Mirror '
        '(mirror), an OpenFlow flow with two outputs (flow2out), Linux tc '
        'mirred on the sender\'s port (tc-mirred), and taps with each '
        'backend (native, ebpf, dpdk), on kernel ports and, where the build '
        'has DPDK, on DPDK ports.  Then the peers an operator would use for '
        'many policies (taps, tc u32 filters, OVS Mirrors) at 1 to 10,000 '
        'policies, how fast a new tap reaches a cached flow, and a '
        'byte-for-byte check of the copies of replayed traffic.',
        epilog='Runs as root on a built tree (binaries from ../ovs relative '
        'to this script, else those installed beside it, else PATH).  '
        'Creates only namespaces vtbench-*, veths vtb-*, the bridge vtb-br0 '
        'of its own sandboxed Open vSwitch (and, for DPDK, a hugetlbfs mount '
        'in its run directory), and removes them on exit.  Prints a '
        'Markdown report on stdout; progress on stderr.  Exit status: 0 if '
        'every check passed, 1 if something is broken (a copy mode that '
        'copied nothing, a replay mismatch...), 2 on a usage or setup '
        'error.')
    p.add_argument('--quick', action='store_true',
                   help='seconds, not minutes: 64 and 1518 B, 1 s runs, 1 '
                   'repetition, 1 and 1,000 taps and tc filters; '
                   'every mode the build has (for make check)')
    p.add_argument('--replay', action='store_true',
                   help='only the replay check (crafted pcap, tcpreplay, '
                   'exact copies at the monitor)')
    p.add_argument('--no-replay', action='store_true',
                   help='skip the replay check (part of every run)')
    p.add_argument('--output', metavar='DIR',
                   help='write ovs-vtap-bench.json, ovs-vtap-bench.png, '
                   'ovs-vtap-bench.md and the captures there (default: a new '
                   'directory under /tmp)')
    p.add_argument('--modes', default=','.join(ALL_MODES),
                   help='comma-separated modes (default: %(default)s)')
    p.add_argument('--sizes', help='comma-separated frame sizes with FCS '
                   '(default: %s; quick: %s)'
                   % (','.join(map(str, FULL_SIZES)),
                      ','.join(map(str, QUICK_SIZES))))
    p.add_argument('--reps', type=int, help='repetitions (default 3; '
                   'quick 1)')
    p.add_argument('--duration', type=float, help='seconds measured per '
                   'run (default 2; quick 1)')
    p.add_argument('--warmup', type=float, help='seconds of traffic before '
                   'measuring (default 0.5; quick 0.3)')
    p.add_argument('--gap', type=int, default=20, metavar='US',
                   help='fixed load: trafgen sends a packet every US '
                   'microseconds plus the cost of a send (default '
                   '%(default)s: about 20-25 kpps here; the rate reached is '
                   'measured and reported)')
    p.add_argument('--scale', help='comma-separated tap counts (default '
                   '1,100,1000,10000; quick 1,1000; "" for none)')
    p.add_argument('--tc-filters', help='comma-separated counts of tc u32 '
                   'filters (default 1,1000,10000; quick 1,1000; "" for '
                   'none)')
    p.add_argument('--mirrors', help='comma-separated counts of OVS Mirrors '
                   '(at most 32; default 1,32; "" for none)')
    p.add_argument('--latency-reps', type=int, help='reconfiguration '
                   'latency runs per mode (default 5; quick 1)')
    p.add_argument('--rr-rounds', type=int, help='latency phase (ping-'
                   'pong): rounds, each running every mode and no copy a '
                   'second time (default 8; quick 1)')
    p.add_argument('--rr-seconds', type=float, help='latency phase: '
                   'seconds of ping-pong per mode and round (default 3; '
                   'quick 1)')
    p.add_argument('--rr-gap', type=int, default=20, metavar='US',
                   help='latency phase under load: the second flow is '
                   'trafgen -t US (default %(default)s)')
    p.add_argument('--vhost-pps', type=int, default=300000, help='vhost-'
                   'user topology: the paced load, packets/s (default '
                   '%(default)s; 0: maximum load only)')
    p.add_argument('--phases', help='comma-separated phases to run '
                   '(default: %s; quick: all but tail): the interleaved '
                   'modes, peers at scale, reconfiguration latency, '
                   'request/response latency, where its tail comes from '
                   '(perf), the replay check' % ','.join(PHASES))
    dp = p.add_mutually_exclusive_group()
    dp.add_argument('--dpdk', action='store_true',
                    help='run the DPDK topology too, and fail if it cannot '
                    '(default: when the build has DPDK and hugepages can '
                    'be had)')
    dp.add_argument('--no-dpdk', action='store_true',
                    help='kernel ports only')
    p.add_argument('--dpdk-only', action='store_true',
                   help='the DPDK topologies only (af_packet and '
                   'vhost-user ports)')
    p.add_argument('--no-vhost', action='store_true',
                   help='leave the vhost-user topology out')
    p.add_argument('--vhost-only', action='store_true',
                   help='the vhost-user topology only')
    p.add_argument('--render', metavar='JSON',
                   help='measure nothing: write the report and the plot '
                   'again from the ovs-vtap-bench.json of an earlier run '
                   '(into --output, default the JSON\'s directory)')
    p.add_argument('--tree', metavar='DIR',
                   help='the built tree whose ovs/ holds the binaries '
                   '(default: the directory above this script; without '
                   'binaries there, those installed beside it, then PATH)')
    p.add_argument('--no-pin', action='store_true',
                   help='do not pin ovs-vswitchd to CPU 1')
    return p.parse_args(argv)


def config(args):
    quick = args.quick
    return {
        'quick': quick,
        'sizes': [int(x) for x in args.sizes.split(',')] if args.sizes
        else (QUICK_SIZES if quick else FULL_SIZES),
        'reps': args.reps or (1 if quick else 3),
        'duration': args.duration or (1.0 if quick else 2.0),
        'warmup': args.warmup or (0.3 if quick else 0.5),
        'gap_us': args.gap,
        'scale': counts(args.scale, [1, 1000] if quick
                        else [1, 100, 1000, 10000]),
        'tc_filters': counts(args.tc_filters, [1, 1000] if quick
                             else [1, 1000, 10000]),
        'mirrors': counts(args.mirrors, [1, 32]),
        'scale_reps': 1 if quick else 3,
        'latency_reps': args.latency_reps or (1 if quick else 5),
        'latency_gap_us': 100,
        'latency_timeout': 2.0 if quick else 5.0,
        'rr_rounds': args.rr_rounds or (1 if quick else 8),
        'rr_seconds': args.rr_seconds or (1.0 if quick else 3.0),
        'rr_gap_us': args.rr_gap,
        # The quick run checks that every mode copies while a ping-pong
        # runs, idle only.
        'rr_loads': ['idle'] if quick else ['idle', 'loaded'],
        # (tc mirred is the eBPF tap's reference, not a check.)
        'rr_skip': ['tc-mirred', 'native-clone'] if quick else [],
        'rr_vhost_pps': 200000,
        'tail_seconds': 2,
        'vhost_sizes': [64] if quick else [64, 1518],
        'vhost_pps': 0 if quick else args.vhost_pps,
        'phases': [x for x in args.phases.split(',') if x],
        'profile_seconds': 2,
    }


def run_topology(sb, modes, cfg, args, results, outdir):
    """Every phase on one sandbox (kernel or DPDK ports)."""
    sb.start()
    if not results['facts']:
        results['facts'] = machine_facts(sb, sb.top)
    if sb.kind == 'vhost':
        return run_vhost_topology(sb, modes, cfg, results)
    m = Modes(sb)
    cfg['modes'] = m
    runnable = m.probe(modes)
    for mode, why in m.skipped.items():
        log('%s ports: mode %s skipped: %s' % (sb.kind, mode, why))
        results['skipped']['%s/%s' % (sb.kind, mode)] = why
    results['tap_status'][sb.kind] = m.status
    results['expects_copies'][sb.kind] = {x: m.expects_copies(x)
                                          for x in runnable}
    for mode, st in m.status.items():
        if not m.expects_copies(mode) and mode in runnable:
            log('%s ports: offload=%s has status %s: measured, no copies '
                'expected' % (sb.kind, mode, st))
    taps = [b for b in ('native', 'ebpf', 'dpdk') if b in runnable]
    phases = cfg['phases']
    if 'modes' in phases:
        # DPDK ports at the maximum load only: at a fixed load every mode
        # delivers everything and the PMD thread's polling hides what the
        # copies cost, so those runs would only lengthen the run.
        run_modes(sb, runnable, cfg, results, fixed=not sb.dpdk)
    if 'scale' in phases:
        if sb.dpdk:
            plan = [] if cfg['quick'] else \
                [(b, [c for c in cfg['scale'] if c in (1, 10000)])
                 for b in taps]
        else:
            plan = [(b, cfg['scale']) for b in taps if b != 'dpdk']
            if 'tc-mirred' in runnable:
                plan.append(('tc-u32', cfg['tc_filters']))
            if 'mirror' in runnable:
                plan.append(('mirror', cfg['mirrors']))
        plan = [(p, c) for p, c in plan if c]
        if plan:
            run_scale(sb, plan, cfg, results)
    if 'reconfig' in phases and not sb.dpdk:
        run_latency(sb, [x for x in ('native', 'ebpf', 'mirror',
                                     'flow2out') if x in runnable],
                    cfg, results)
    rr_modes = [x for x in RR_MODES[sb.kind] if x in runnable
                and x not in cfg['rr_skip']]
    if 'rr' in phases:
        run_rr(sb, SockperfProbe(sb, cfg), rr_modes, cfg, results,
               loads=cfg['rr_loads'], aa=not cfg['quick'])
    if 'tail' in phases:
        if perf_available():
            run_tail(sb, SockperfProbe(sb, cfg), rr_modes, cfg, results)
        else:
            results['skipped']['%s tail' % sb.kind] = \
                'perf is not installed (apt-get install linux-perf)'
    if 'replay' in phases:
        # On DPDK ports, the dpdk tap is the one to check.
        backends = ['dpdk'] if sb.dpdk else \
            [b for b in ('native', 'ebpf') if b in runnable]
        run_replay(sb, m, [b for b in backends if b in runnable], results,
                   outdir, cases=['udp4-5001']
                   if sb.dpdk and cfg['quick'] else None)
    sb.cleanup()


def run_vhost_topology(sb, modes, cfg, results):
    """The vhost-user topology's phases: the modes at the maximum load and
    paced, where the PMD's cycles go with each (perf), the latency."""
    m = Modes(sb)
    cfg['modes'] = m
    runnable = m.probe(modes)
    for mode, why in m.skipped.items():
        results['skipped']['vhost/%s' % mode] = why
    results['tap_status']['vhost'] = m.status
    results['expects_copies']['vhost'] = {x: m.expects_copies(x)
                                          for x in runnable}
    phases = cfg['phases']
    if 'modes' in phases:
        run_vhost(sb, runnable, cfg, results)
        if 'tail' in phases and perf_available():
            vhost_profile(sb, runnable, cfg, results)
    if 'rr' in phases:
        run_rr(sb, PktgenProbe(sb, cfg),
               [x for x in RR_MODES['vhost'] if x in runnable], cfg,
               results, loads=cfg['rr_loads'], aa=not cfg['quick'])
    sb.cleanup()


def write_outputs(results, outdir):
    """ovs-vtap-bench.json, .md and .png in OUTDIR; returns the report."""
    report = markdown(results) if results['facts'] else ''
    report += '\nElapsed: %.0f s.  JSON: %s' % (
        results['elapsed_s'], os.path.join(outdir, 'ovs-vtap-bench.json'))
    with open(os.path.join(outdir, 'ovs-vtap-bench.json'), 'w') as f:
        json.dump(results, f, indent=1, default=str)
    if results['summary'] or results['scale'] or results.get('rr') \
            or results.get('vhost'):
        png = plot(results, os.path.join(outdir, 'ovs-vtap-bench.png'))
        if png:
            report += '; plot: %s' % png
    report += '\n'
    with open(os.path.join(outdir, 'ovs-vtap-bench.md'), 'w') as f:
        f.write(report)
    return report


def render(path, outdir):
    """The report and plot of an earlier run, from its JSON, with this
    version's summary and report (the raw figures are not touched)."""
    with open(path) as f:
        results = json.load(f)
    summarize(results)
    summarize_rr(results)
    summarize_vhost(results)
    rss_growth(results['scale'])
    results['failures'] = [x for x in results['failures']
                           if x.startswith('error:')] + check_results(results)
    outdir = os.path.abspath(outdir or os.path.dirname(path))
    os.makedirs(outdir, exist_ok=True)
    print(write_outputs(results, outdir))
    return 1 if results['failures'] else 0


def main(argv, script):
    args = parse_args(argv)
    if args.render:
        return render(args.render, args.output)
    if os.geteuid() != 0:
        print('%s: run as root (it creates network namespaces)' % PROG,
              file=sys.stderr)
        return 2
    for tool in ('trafgen', 'tc', 'ip', 'nsenter', 'taskset'):
        if not shutil.which(tool):
            print('%s: %s is missing (tools/install-deps)' % (PROG, tool),
                  file=sys.stderr)
            return 2
    if args.phases is None:
        args.phases = ','.join(x for x in PHASES
                               if not (args.quick and x == 'tail'))
    if args.replay:
        args.phases = 'replay'
    elif args.no_replay:
        args.phases = ','.join(x for x in args.phases.split(',')
                               if x != 'replay')
    for x in args.phases.split(','):
        if x and x not in PHASES:
            print('%s: unknown phase %s' % (PROG, x), file=sys.stderr)
            return 2
    if 'rr' in args.phases.split(',') and not shutil.which('sockperf'):
        print('%s: the latency phase needs sockperf (apt-get install '
              'sockperf; or --phases without rr)' % PROG, file=sys.stderr)
        return 2
    if 'replay' in args.phases.split(','):
        missing = [t for t in ('tcpreplay', 'tcpdump') if not shutil.which(t)]
        import importlib.util
        if importlib.util.find_spec('scapy') is None:
            missing.append('python3-scapy')
        if missing:
            print('%s: the replay check needs %s (apt-get install %s; or '
                  '--no-replay)' % (PROG, ', '.join(missing),
                                    ' '.join(missing)), file=sys.stderr)
            return 2
    if args.no_pin:
        common.VSWITCHD_CPU[:] = list(range(os.cpu_count()))

    cfg = config(args)
    for s in cfg['sizes']:
        if not 64 <= s <= 1518:
            print('%s: frame sizes are 64..1518' % PROG, file=sys.stderr)
            return 2
    modes = [m for m in args.modes.split(',') if m]
    for m in modes:
        if m not in ALL_MODES:
            print('%s: unknown mode %s' % (PROG, m), file=sys.stderr)
            return 2

    outdir = args.output or tempfile.mkdtemp(prefix='ovs-vtap-bench-')
    os.makedirs(outdir, exist_ok=True)
    outdir = os.path.abspath(outdir)

    lockf = open(LOCK, 'w')
    try:
        fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print('%s: another run is in progress (%s is locked)' % (PROG, LOCK),
              file=sys.stderr)
        return 2

    top = os.path.abspath(args.tree) if args.tree else os.path.normpath(
        os.path.join(os.path.dirname(os.path.abspath(script)), '..'))
    bpf = BpfStats()
    cfg['bpf'] = bpf
    sandboxes = []

    def cleanup():
        for sb in sandboxes:
            sb.cleanup()
        bpf.restore()
        restore_hugepages()

    def on_signal(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    atexit.register(cleanup)

    started = time.time()
    results = {'config': {}, 'facts': {}, 'cells': [], 'summary': [],
               'skipped': {}, 'scale': [], 'latency': [], 'replay': [],
               'rr': [], 'tail': [], 'vhost': [], 'vhost_profile': [],
               'tap_status': {}, 'expects_copies': {}, 'failures': []}
    cmdline = ' '.join([PROG] + argv)
    status = 0
    try:
        kernel = Sandbox(top, script)
        kernel_version = run([kernel.bin['ovs-vswitchd'], '--version'],
                             check=False)
        why_not = dpdk_unavailable(kernel_version)
        topologies = []
        if not (args.dpdk_only or args.vhost_only):
            topologies.append('kernel')
        dpdk_kinds = (['vhost'] if args.vhost_only else
                      ['dpdk'] + ([] if args.no_vhost else ['vhost']))
        if args.dpdk or args.dpdk_only or args.vhost_only:
            if why_not:
                raise Failure('DPDK topology: %s' % why_not)
            topologies += dpdk_kinds
        elif not args.no_dpdk:
            if why_not:
                results['skipped']['dpdk topology'] = why_not
                log('DPDK topology skipped: %s' % why_not)
            else:
                topologies += dpdk_kinds
        results['config'] = {k: v for k, v in cfg.items()
                             if k not in ('modes', 'bpf')}
        results['config'].update(command=cmdline, modes=modes,
                                 topologies=topologies)
        for topo in topologies:
            mine = {'kernel': KERNEL_MODES, 'dpdk': DPDK_MODES,
                    'vhost': VHOST_MODES}[topo]
            try:
                if topo == 'kernel':
                    sb = kernel
                elif topo == 'dpdk':
                    sb = Sandbox(top, script, dpdk=True)
                else:
                    sb = VhostSandbox(top, script, build_pktgen(
                        pktgen_source(top, os.path.dirname(
                            os.path.abspath(__file__))), outdir))
                sb.logs_to = outdir
                sandboxes.append(sb)
                run_topology(sb, [m for m in modes if m in mine], cfg, args,
                             results, outdir)
                # Others' jobs on the machine are noise: say how much.
                results['facts'].setdefault('loadavg_at_end', {})[topo] = \
                    open('/proc/loadavg').read().split()[:3]
            except Unavailable as e:
                if args.dpdk or args.dpdk_only or args.vhost_only:
                    raise
                sb.cleanup()
                results['skipped']['%s topology' % topo] = str(e)
                log('%s topology skipped: %s' % (topo, e))
        summarize(results)
        summarize_rr(results)
        summarize_vhost(results)
        results['failures'] = check_results(results)
    except KeyboardInterrupt as e:
        log('interrupted (%s): cleaning up' % e)
        status = 130
    except Failure as e:
        log('error: %s' % e)
        results['failures'].append('error: %s' % e)
        status = 2
    finally:
        cleanup()
    results['elapsed_s'] = time.time() - started
    if status == 130:
        return status
    if results['cells'] and not results['summary']:
        summarize(results)
    summarize_rr(results)
    summarize_vhost(results)
    report = write_outputs(results, outdir)
    print(report)
    if results['failures']:
        log('%d failure(s):' % len(results['failures']))
        for x in results['failures']:
            log('  ' + x)
        return status or 1
    return status
