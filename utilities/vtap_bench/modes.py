# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The copy mechanisms ("modes") compared, and the peers at scale.

Modes of the interleaved matrix, one copy of the sender's traffic each:
- none: no copy (the forwarding baseline);
- mirror: an OVS Mirror selecting the sender's port;
- flow2out: an OpenFlow flow with two outputs (receiver and monitor);
- tc-mirred: Linux tc, one u32 filter with `mirred egress mirror` on the
  sender's port (kernel ports only);
- native, ebpf, dpdk: a Tap with that offload (ebpf on kernel ports; dpdk
  on DPDK ports, where a tap whose status says another backend makes no
  copies, and the report says so).

Peers at scale (what an operator would use for many policies; only the
last policy added matches the traffic, UDP port 9):
- native / ebpf taps: COUNT taps, one per monitored UDP port;
- tc-u32: COUNT u32 filters with mirred on the sender's port, one per
  monitored UDP port, installed with one `tc -batch`;
- mirror: COUNT OVS Mirrors (at most 32 per bridge in OVS 3.1); OVS 3.1
  mirrors have no filter, so every one of them selects all the sender's
  traffic: they cannot express one policy per address or port at all."""

import os
import time

from .common import BR, NS, UDP_DPORT, Failure, run
from .topology import parse_ovsdb_map

KERNEL_MODES = ['none', 'mirror', 'flow2out', 'tc-mirred', 'native',
                'native-clone', 'ebpf']
DPDK_MODES = ['none', 'mirror', 'flow2out', 'native', 'dpdk']
ALL_MODES = ['none', 'mirror', 'flow2out', 'tc-mirred', 'native',
             'native-clone', 'ebpf',
             'dpdk']
TAP_MODES = ('native', 'ebpf', 'dpdk')
MAX_MIRRORS = 32            # OVS 3.1: MAX_MIRRORS, ofproto-dpif-mirror.h


def monitored_port(i, count):
    """The UDP port policy I of COUNT watches: only the last one is the
    traffic's."""
    return UDP_DPORT if i == count else 10000 + i


class Modes:
    """Puts a copy mechanism in place on sandbox SB and takes it away."""

    def __init__(self, sb):
        self.sb = sb
        self.skipped = {}       # mode -> reason
        self.status = {}        # mode -> Tap.status seen by the probe
        self.both = False       # the mode in place copies both directions

    def tap_status(self, name):
        """Tap.status as a dict: {backend=native, reason="..."}."""
        out = self.sb.vsctl('get', 'Tap', name, 'status').strip()
        return parse_ovsdb_map(out)

    def wait_status(self, name, timeout=5.0):
        deadline = time.time() + timeout
        while True:
            st = self.tap_status(name)
            if st.get('backend') or st.get('error') or time.time() > deadline:
                return st
            time.sleep(0.1)

    def expects_copies(self, m):
        """Whether mode M must copy: every mode but none, and a tap only if
        its status names the backend asked for (an offload=dpdk tap before
        the DPDK datapath action exists says why it makes no copies)."""
        if m == 'none':
            return False
        if m in TAP_MODES:
            return self.status.get(m, {}).get('backend') == m
        return True

    def probe(self, modes):
        """Which modes this build and machine can run; the others are
        skipped with the reason.  A dpdk tap that falls back is kept, and
        measured: its copies (none) are part of the report."""
        sb = self.sb
        for m in modes:
            if m == 'tc-mirred':
                try:
                    self.setup(m)
                    self.teardown(m)
                except Failure as e:
                    self.skipped[m] = 'tc u32/mirred not usable: %s' % e
            elif m == 'native-clone':
                try:
                    sb.appctl('vtap/native-send')
                except Failure as e:
                    self.skipped[m] = ('no socket copy path to turn off: %s'
                                       % e)
            elif m in TAP_MODES:
                name = 'vtb-probe-' + m
                sb.vsctl('add-tap', BR, name, sb.port['mon'],
                         'select_src_port=' + sb.port['snd'], 'offload=' + m)
                st = self.wait_status(name)
                sb.vsctl('del-tap', BR, name)
                self.status[m] = st
                if st.get('backend') != m and m != 'dpdk':
                    reason = st.get('reason') or st.get('error') or str(st)
                    self.skipped[m] = ('status backend=%s: %s'
                                       % (st.get('backend', '?'), reason))
        return [m for m in modes if m not in self.skipped]

    def setup(self, m, tap_name='vtb-t', both=False):
        """Puts mode M in place: it copies what the sender sends, and with
        BOTH what it receives too (the latency phase watches both halves
        of a round trip, as a tap on a VM's port would)."""
        sb = self.sb
        self.both = both
        dst = ['select_dst_port=' + sb.port['snd']] if both else []
        if m == 'none':
            pass
        elif m == 'mirror':
            install_mirrors(sb, 1, both=both)
        elif m == 'flow2out':
            for a, b in (('snd', 'rcv'), ('rcv', 'snd'))[:2 if both else 1]:
                sb.ofctl('add-flow', BR, 'priority=100,in_port=%s,actions='
                         'output:%s,output:%s' % (sb.port[a], sb.port[b],
                                                  sb.port['mon']))
        elif m == 'tc-mirred':
            dev = sb.veth['snd']
            sb.tc_devs.add(dev)
            run(['tc', '-n', NS['sw'], 'qdisc', 'add', 'dev', dev, 'clsact'])
            for hook in ('ingress', 'egress')[:2 if both else 1]:
                run(['tc', '-n', NS['sw'], 'filter', 'add', 'dev', dev,
                     hook, 'u32', 'match', 'u32', '0', '0', 'action',
                     'mirred', 'egress', 'mirror', 'dev', sb.veth['mon']])
        elif m == 'native-clone':
            # A native tap whose copies take OVS's own output (a copy in
            # userspace, then the socket's), not the socket copy path.
            sb.appctl('vtap/native-send', 'off')
            sb.vsctl('add-tap', BR, tap_name, sb.port['mon'],
                     'select_src_port=' + sb.port['snd'], *dst,
                     'offload=native')
            st = self.wait_status(tap_name)
            if st.get('backend') != 'native':
                raise Failure('tap %s: status %s' % (tap_name, st))
        elif m in TAP_MODES:
            sb.vsctl('add-tap', BR, tap_name, sb.port['mon'],
                     'select_src_port=' + sb.port['snd'], *dst,
                     'offload=' + m)
            st = self.wait_status(tap_name)
            if st.get('backend') != m and self.expects_copies(m):
                raise Failure('tap %s: status %s' % (tap_name, st))
        else:
            raise Failure('unknown mode ' + m)
        sb.purge()

    def check_in_place(self, m):
        """Whether the mode is still in place after a measurement (OVS
        removes an ingress qdisc when it reconfigures a port's policing)."""
        if m == 'tc-mirred':
            out = run(['tc', '-n', NS['sw'], 'filter', 'show', 'dev',
                       self.sb.veth['snd'], 'ingress'], check=False)
            return 'mirred' in out
        return True

    def teardown(self, m, tap_name='vtb-t'):
        sb = self.sb
        if m == 'mirror':
            sb.vsctl('clear', 'Bridge', BR, 'mirrors')
        elif m == 'flow2out':
            for a in ('snd', 'rcv')[:2 if self.both else 1]:
                sb.ofctl('--strict', 'del-flows', BR,
                         'priority=100,in_port=%s' % sb.port[a])
        elif m == 'tc-mirred':
            remove_tc(sb)
        elif m in TAP_MODES or m == 'native-clone':
            sb.vsctl('--if-exists', 'del-tap', BR, tap_name)
            if m == 'native-clone':
                sb.appctl('vtap/native-send', 'on')
        if m != 'none':
            sb.purge()


# -- peers at scale ----------------------------------------------------------

def install_taps(sb, backend, count):
    """COUNT taps in one ovs-vsctl transaction; returns (seconds until the
    transaction committed, seconds until ovs-vswitchd applied it)."""
    cmds = []
    for i in range(1, count + 1):
        cmds += ['--', 'add-tap', BR, 'vtb-s%d' % i, sb.port['mon'],
                 'select_src_port=' + sb.port['snd'],
                 'match=udp,tp_dst=%d' % monitored_port(i, count),
                 'offload=' + backend]
    t0 = time.time()
    sb.vsctl(*cmds, timeout=900, wait=False)
    t1 = time.time()
    sb.sync()
    return t1 - t0, time.time() - t0


def remove_taps(sb):
    sb.vsctl('clear', 'Bridge', BR, 'taps', timeout=900)


def install_mirrors(sb, count, both=False):
    """COUNT Mirrors selecting the sender's port (what it sends, and with
    BOTH what it receives), to the monitor (no filter exists in OVS 3.1),
    in one transaction; returns (commit, applied)."""
    if count > MAX_MIRRORS:
        raise Failure('OVS allows at most %d mirrors per bridge'
                      % MAX_MIRRORS)
    cmds = ['--', '--id=@s', 'get', 'Port', sb.port['snd'],
            '--', '--id=@m', 'get', 'Port', sb.port['mon']]
    for i in range(1, count + 1):
        cmds += ['--', '--id=@mir%d' % i, 'create', 'Mirror',
                 'name=vtb-mirror%d' % i, 'select_src_port=@s']
        cmds += ['select_dst_port=@s'] if both else []
        cmds += ['output_port=@m', '--', 'add', 'Bridge', BR, 'mirrors',
                 '@mir%d' % i]
    t0 = time.time()
    sb.vsctl(*cmds, wait=False)
    t1 = time.time()
    sb.sync()
    return t1 - t0, time.time() - t0


def remove_mirrors(sb):
    sb.vsctl('clear', 'Bridge', BR, 'mirrors')


def install_tc_u32(sb, count):
    """A clsact qdisc on the sender's port and COUNT u32 filters, one per
    monitored UDP port, each with `mirred egress mirror` to the monitor,
    all in one `tc -batch` (what an operator would script); returns
    (seconds of the batch, the same: tc applies as it goes)."""
    dev = sb.veth['snd']
    sb.tc_devs.add(dev)
    path = os.path.join(sb.rundir, 'tc-u32-%d.batch' % count)
    with open(path, 'w') as f:
        f.write('qdisc add dev %s clsact\n' % dev)
        for i in range(1, count + 1):
            f.write('filter add dev %s ingress prio 1 protocol ip u32 '
                    'match ip protocol 17 0xff match ip dport %d 0xffff '
                    'action mirred egress mirror dev %s\n'
                    % (dev, monitored_port(i, count), sb.veth['mon']))
    t0 = time.time()
    run(['tc', '-n', NS['sw'], '-batch', path], timeout=900)
    t = time.time() - t0
    return t, t


def remove_tc(sb):
    dev = sb.veth['snd']
    run(['tc', '-n', NS['sw'], 'qdisc', 'del', 'dev', dev, 'clsact'],
        check=False, timeout=300)
    sb.tc_devs.discard(dev)


def tc_filter_count(sb):
    out = run(['tc', '-n', NS['sw'], 'filter', 'show', 'dev',
               sb.veth['snd'], 'ingress'], check=False, timeout=300)
    return out.count('mirred')


PEERS = {
    # peer: (install(sb, count), remove(sb), what it is)
    'tc-u32': (install_tc_u32, remove_tc,
               'tc u32 filters + mirred on the sender\'s port'),
    'mirror': (install_mirrors, remove_mirrors,
               'OVS Mirrors (no filter in OVS 3.1: each selects all)'),
}
