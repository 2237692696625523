# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""Where a copy's latency comes from: what the datapath thread does
between receiving a packet and sending it on, with each copy mode in
place, during a ping-pong (one packet in flight, so each send belongs to
the packet just received).

- Kernel ports: ovs-vswitchd's main thread is the datapath; it receives
  with recvmmsg() and sends with sendmmsg() on each port's packet socket
  (the native tap's socket copy path on a socket of its own).  `perf
  record` of those system calls' tracepoints on that thread gives, per
  packet received, the order of the sends that followed, which socket
  each went to, and how long each took: the original's send is delayed by
  whatever copy was sent before it.
- DPDK af_packet ports: the PMD thread receives from its rings without a
  system call; each transmit ends with a sendto() that kicks the port's
  TX ring, so the order and the length of those kicks is what the copy
  adds before the original leaves.
- eBPF: the copy is made in the sender's softirq before OVS sees the
  packet; the kernel's own count of our programs' run time
  (kernel.bpf_stats_enabled) during the ping-pong is what it adds, per
  packet, clone and transmit included.
- A profile of the datapath thread (perf record -g) at the maximum load
  says where its cycles go with each mode (used on the vhost-user
  topology, where the PMD makes no system call).

Needs `perf` (linux-perf); without it the phase is skipped with the
reason."""

import os
import re
import shutil
import statistics

from .common import NS, Failure, log, run

SYSCALL_EVENTS = {
    'kernel': ('recvmmsg', 'sendmmsg'),
    'dpdk': ('sendto',),
}
# A DPDK PMD iteration's kicks are microseconds apart; iterations with
# packets, at a ping-pong's rate, tens of microseconds.
KICK_GROUP_US = 20.0


def perf_available():
    return bool(shutil.which('perf'))


def datapath_tid(sb):
    """The thread that runs the datapath: the PMD thread on DPDK ports,
    else ovs-vswitchd's main thread."""
    pid = sb.vswitchd_pid
    if not sb.dpdk:
        return pid
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            comm = open('/proc/%d/task/%s/comm' % (pid, tid)).read()
        except OSError:
            continue
        if comm.startswith('pmd'):
            return int(tid)
    raise Failure('no PMD thread in ovs-vswitchd %d' % pid)


def socket_devices(sb):
    """{fd: device} of ovs-vswitchd's packet sockets that are bound to a
    device (net_af_packet's: one per port and queue)."""
    pid = sb.vswitchd_pid
    inode_if = {}
    with open('/proc/%d/net/packet' % pid) as f:
        next(f)
        for line in f:
            v = line.split()
            # sk RefCnt Type Proto Iface R Rmem User Inode
            inode_if[v[8]] = int(v[4])
    names = {}
    for line in run(['ip', '-n', NS['sw'], '-o', 'link'],
                    check=False).splitlines():
        m = re.match(r'(\d+): ([^:@]+)', line)
        if m:
            names[int(m.group(1))] = m.group(2)
    devs = {}
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
        except OSError:
            continue
        m = re.match(r'socket:\[(\d+)\]', link)
        if m and inode_if.get(m.group(1)):
            devs[int(fd)] = names.get(inode_if[m.group(1)])
    return devs


def record_syscalls(sb, tid, calls, seconds, path, during):
    """perf record of CALLS' entry and exit, and of the kernel's transmits
    (net:net_dev_queue, which names the device), on thread TID while
    DURING() runs (it should take about SECONDS); returns the events as
    [(t_us, kind, call or device, fd or return value)], KIND one of
    'enter', 'exit', 'xmit'."""
    events = ['-e', 'net:net_dev_queue']
    for c in calls:
        events += ['-e', 'syscalls:sys_enter_%s' % c,
                   '-e', 'syscalls:sys_exit_%s' % c]
    p = sb.spawn(['perf', 'record', '-q', '-t', str(tid), '-o', path]
                 + events + ['--', 'sleep', str(seconds + 2)])
    try:
        during()
    finally:
        p.wait(seconds + 60)
        sb.pgroups.discard(p.pid)
        if p in sb.procs:
            sb.procs.remove(p)
    return read_events(path)


def read_events(path):
    """The events of perf data file PATH (see record_syscalls)."""
    out = run(['perf', 'script', '-i', path, '--ns', '-F',
               'time,event,trace'], timeout=300, check=False)
    try:
        os.unlink(path)
    except OSError:
        pass
    rx_sys = re.compile(r'\s*([\d.]+):\s+syscalls:sys_(enter|exit)_(\w+):'
                        r'\s*(?:fd: (0x[0-9a-f]+)|(0x[0-9a-f]+|-?\d+))')
    rx_dev = re.compile(r'\s*([\d.]+):\s+net:net_dev_queue:\s*dev=(\S+)')
    parsed = []
    for line in out.splitlines():
        m = rx_sys.match(line)
        if m:
            t = float(m.group(1)) * 1e6
            if m.group(2) == 'enter':
                parsed.append((t, 'enter', m.group(3),
                               int(m.group(4) or '0', 16)))
            else:
                v = m.group(5) or '0'
                val = int(v, 16) if v.startswith('0x') else int(v)
                if val >= 1 << 63:
                    val -= 1 << 64
                parsed.append((t, 'exit', m.group(3), val))
            continue
        m = rx_dev.match(line)
        if m:
            parsed.append((float(m.group(1)) * 1e6, 'xmit', m.group(2), 0))
    return parsed


def syscalls_to_calls(events):
    """[(call, fd, t_enter, t_exit, ret, devices)] from the events:
    DEVICES are those the kernel transmitted on during the call (netdev-
    linux sends every port's packets through one unbound socket, so the
    descriptor does not say where a send went; the transmit does)."""
    calls, open_ = [], None
    for t, kind, what, v in events:
        if kind == 'enter':
            open_ = (what, v, t, [])
        elif kind == 'xmit':
            if open_:
                open_[3].append(what)
        elif open_ and open_[0] == what:
            calls.append((what, open_[1], open_[2], t, v, open_[3]))
            open_ = None
    return calls


def _per_packet(groups, mon):
    """Per group of sends that carried an original: how long until the
    original's send started (from the group's start), the original's send,
    and the copies' sends before and after it."""
    pkts = []
    for start, sends in groups:
        orig = [x for x in sends if x[0] != mon]
        if not orig:
            continue
        o = orig[0]
        copies = [x for x in sends if x[0] == mon]
        pkts.append({
            'to_orig_us': o[1] - start, 'orig_us': o[2] - o[1],
            'copy_before_us': sum(x[2] - x[1] for x in copies
                                  if x[1] < o[1]),
            'copy_after_us': sum(x[2] - x[1] for x in copies
                                 if x[1] > o[1]),
            'copies': len(copies)})
    return pkts


def kernel_sends(calls, mon):
    """Kernel ports: per packet received (a recvmmsg() that returned
    packets), the sends that followed it until the next one, each with
    the device it went to; times from the receive's return."""
    groups, cur = [], None
    for call, fd, t0, t1, ret, devs in calls:
        if call == 'recvmmsg':
            if ret > 0:
                cur = (t1, [])
                groups.append(cur)
        elif call == 'sendmmsg' and cur and devs:
            cur[1].append((devs[0], t0, t1))
    return _per_packet(groups, mon)


def dpdk_kicks(calls, mon, fd_devs):
    """DPDK af_packet ports: the PMD's TX kicks (sendto() on the port's
    own socket, FD_DEVS says whose; af_packet's qdisc bypass transmits
    without the tracepoint), grouped into iterations (kicks less than
    KICK_GROUP_US apart); times from the iteration's first kick."""
    groups, last = [], None
    for call, fd, t0, t1, ret, devs in calls:
        if call != 'sendto' or fd not in fd_devs:
            continue
        if last is None or t0 - last > KICK_GROUP_US:
            groups.append((t0, []))
        groups[-1][1].append((fd_devs[fd], t0, t1))
        last = t1
    return _per_packet(groups, mon)


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def summarize_sends(pkts):
    """The figures of one mode's packets (microseconds)."""
    s = {'packets': len(pkts)}
    if not pkts:
        return s
    for k in ('to_orig_us', 'orig_us', 'copy_before_us', 'copy_after_us'):
        vals = [p[k] for p in pkts]
        s[k] = {'p50': pct(vals, 0.5), 'p99': pct(vals, 0.99),
                'p999': pct(vals, 0.999), 'mean': statistics.fmean(vals)}
    with_copy = [p for p in pkts if p['copies']]
    s['copied_share'] = len(with_copy) / len(pkts)
    s['copy_first_share'] = (sum(1 for p in with_copy
                                 if p['copy_before_us'] > 0)
                             / len(with_copy) if with_copy else None)
    return s


def trace_mode(sb, probe, mode, cfg, path):
    """The datapath thread's sends during a ping-pong with MODE in place;
    for an ebpf tap, also our programs' run time per packet."""
    kind = 'kernel' if not sb.dpdk else 'dpdk'
    tid = datapath_tid(sb)
    mon = sb.veth['mon']      # the monitor's device, either way
    seconds = cfg['tail_seconds']
    res = {}
    bpf = cfg.get('bpf') if mode == 'ebpf' else None
    if bpf:
        bpf.enable()
    try:
        b0 = bpf.snapshot(sb.vswitchd_pid) if bpf else None

        client = path + '.client'

        def during():
            # The client's own sends, on the sender's core: the kernel
            # pushes each request through the veth and the switch port's
            # TC hooks (where tc and eBPF copy) within the call.
            res['rr'] = probe.ping(seconds, wrap=[
                'perf', 'record', '-q', '-o', client,
                '-e', 'syscalls:sys_enter_sendto',
                '-e', 'syscalls:sys_exit_sendto', '--'])
        events = record_syscalls(sb, tid, SYSCALL_EVENTS[kind], seconds,
                                 path, during)
        sends = [t1 - t0 for call, fd, t0, t1, ret, devs
                 in syscalls_to_calls(read_events(client))]
        b1 = bpf.snapshot(sb.vswitchd_pid) if bpf else None
    finally:
        if bpf:
            bpf.restore()
    calls = syscalls_to_calls(events)
    pkts = (kernel_sends(calls, mon) if kind == 'kernel'
            else dpdk_kicks(calls, mon, socket_devices(sb)))
    s = summarize_sends(pkts)
    s.update(topology=sb.kind, mode=mode, events=len(events),
             rr=res.get('rr'))
    s['client_send_us'] = {'p50': pct(sends, 0.5), 'p99': pct(sends, 0.99),
                           'p999': pct(sends, 0.999),
                           'mean': statistics.fmean(sends) if sends
                           else None, 'n': len(sends)}
    if bpf and b0 is not None:
        progs = {n: [b1.get(n, [0, 0])[i] - b0.get(n, [0, 0])[i]
                     for i in (0, 1)] for n in set(b0) | set(b1)}
        s['bpf_progs'] = progs
        s['bpf_ns_per_run'] = {n: v[0] / v[1] for n, v in progs.items()
                               if v[1]}
    return s


def run_tail(sb, probe, modes, cfg, results):
    """trace_mode() for each of MODES, idle (one packet in flight)."""
    probe.start()
    try:
        for m in modes:
            cfg['modes'].setup(m, both=True)
            try:
                s = trace_mode(sb, probe, m, cfg,
                               os.path.join(sb.rundir, 'perf-%s.data' % m))
            finally:
                cfg['modes'].teardown(m)
            results['tail'].append(s)
            t = s.get('to_orig_us') or {}
            c = s.get('copy_before_us') or {}
            cs = s.get('client_send_us') or {}
            log('%s tail %-9s %d packets: sender\'s send p50 %s p99 %s us; '
                'to the original\'s send p50 %s '
                'p99 %s us; copy sent first in %s of them, taking p50 %s '
                'p99 %s us%s'
                % (sb.kind, m, s['packets'], _f(cs.get('p50')),
                   _f(cs.get('p99')), _f(t.get('p50')),
                   _f(t.get('p99')),
                   '-' if s.get('copy_first_share') is None
                   else '%.0f %%' % (100 * s['copy_first_share']),
                   _f(c.get('p50')), _f(c.get('p99')),
                   '; BPF %s' % ', '.join('%s %.0f ns/run' % kv for kv in
                                          s['bpf_ns_per_run'].items())
                   if s.get('bpf_ns_per_run') else ''))
    finally:
        probe.stop()


def _f(v):
    return '-' if v is None else '%.2f' % v


def profile(sb, tid, seconds, path, limit=1.0):
    """Where thread TID's cycles go: perf record -g for SECONDS, then the
    symbols over LIMIT % of the samples, as [(percent, symbol, dso)]."""
    run(['perf', 'record', '-q', '-g', '-F', '1999', '-t', str(tid), '-o',
         path, '--', 'sleep', str(seconds)], timeout=seconds + 60)
    out = run(['perf', 'report', '-i', path, '--stdio', '--no-children',
               '-g', 'none', '--percent-limit', str(limit), '--sort',
               'symbol,dso'], timeout=300, check=False)
    top = []
    for line in out.splitlines():
        m = re.match(r'\s*([\d.]+)%\s+\[[.k]\]\s+(\S+)\s+(\S+)', line)
        if m:
            top.append((float(m.group(1)), m.group(2), m.group(3)))
    try:
        os.unlink(path)
    except OSError:
        pass
    return top
