# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The replay check: crafted mixed traffic (traffic.craft_frames) replayed
by tcpreplay from the sender, captured at the receiver and the monitor;
the monitor must get exactly the selected packets, byte for byte (or their
first snaplen bytes, with the VLAN tag where asked), nothing else, in order
within each flow, and the receiver every packet unchanged.  Run for each
tap backend the topology has (the dpdk tap too: a tap that makes no
copies fails it, and says so)."""

import os
import time

from .common import BR, IP4, MAC, log, netns_cmd, run
from .traffic import (add_vlan, capture_start, capture_stop, craft_frames,
                      learn, read_pcap, write_pcap)

REPLAY_CASES = [
    # name, tap options, predicate on the metadata, snaplen, vlan
    ('udp4-5001', ['match=udp,tp_dst=5001'],
     lambda m: m['kind'] == 'udp4' and m['dport'] == 5001, None, None),
    ('ipv6-prefix-snaplen', ['match=ipv6,ipv6_dst=2001:db8:0:2::/64',
                             'snaplen=100'],
     lambda m: m['kind'].endswith('6')
     and m['ipv6_dst'] == '2001:db8:0:2::102', 100, None),
    ('icmp4-vlan', ['match=icmp', 'output_vlan=100'],
     lambda m: m['kind'] == 'icmp4', None, 100),
    ('tcp-nw_dst-snaplen', ['match=tcp,nw_dst=198.51.100.102',
                            'snaplen=64'],
     lambda m: m['kind'] == 'tcp4' and m['nw_dst'] == IP4['rcv'], 64, None),
]


def run_replay(sb, modes, backends, results, workdir, cases=None):
    """For each backend and case (CASES: their names; default all): replay
    the crafted pcap from the sender, capture at the receiver and the
    monitor, compare."""
    frames = craft_frames()
    pcap = os.path.join(workdir, 'replay-input.pcap')
    write_pcap(pcap, [f for f, _ in frames])
    ok = True
    snd_mac = bytes(int(x, 16) for x in MAC['snd'].split(':'))
    for backend in backends:
        for name, opts, pred, snaplen, vlan in REPLAY_CASES:
            if cases and name not in cases:
                continue
            sb.vsctl('add-tap', BR, 'vtb-r', sb.port['mon'],
                     'select_src_port=' + sb.port['snd'],
                     'offload=' + backend, *opts)
            st = modes.wait_status('vtb-r')
            sb.purge()
            learn(sb)
            tag = '%s-%s-%s' % (sb.kind, backend, name)
            mon_path = os.path.join(workdir, 'replay-%s-mon.pcap' % tag)
            rcv_path = os.path.join(workdir, 'replay-%s-rcv.pcap' % tag)
            pm = capture_start(sb, 'mon', mon_path)
            pr = capture_start(sb, 'rcv', rcv_path)
            try:
                # Twice: the first pass makes the datapath cache every flow
                # (a packet that misses the cache is executed on the upcall
                # path and may overtake the packets of its batch that hit);
                # the second pass must come out exactly, in order.
                for _ in range(2):
                    run(netns_cmd('snd') + ['tcpreplay', '-q', '-i', 'eth0',
                                            '--pps=2000', pcap], timeout=120)
                    time.sleep(0.5)
            finally:
                capture_stop(sb, pm)
                capture_stop(sb, pr)
                sb.vsctl('--if-exists', 'del-tap', BR, 'vtb-r')
            expect = []
            for f, m in frames:
                if pred(m):
                    c = add_vlan(f, vlan) if vlan else f
                    expect.append(c[:snaplen] if snaplen else c)
            got = read_pcap(mon_path)
            got_rcv = [g for g in read_pcap(rcv_path) if g[6:12] == snd_mac]
            allf = [f for f, _ in frames]
            problems = compare_flows(expect + expect, got, 'monitor')
            problems += compare_flows(allf + allf, got_rcv, 'receiver')
            if st.get('backend') != backend:
                problems.insert(0, 'tap status %s' % st)
            e = {'topology': sb.kind, 'backend': backend, 'case': name,
                 'tap': opts, 'replayed': 2 * len(frames),
                 'selected': 2 * len(expect), 'monitor_captured': len(got),
                 'receiver_captured': len(got_rcv), 'status': st,
                 'expected_to_copy': modes.expects_copies(backend),
                 'ok': not problems, 'problems': problems[:10],
                 'monitor_pcap': mon_path}
            results['replay'].append(e)
            ok = ok and not problems
            log('%s replay %s %-20s: %d replayed, %d selected, monitor got '
                '%d, receiver got %d: %s'
                % (sb.kind, backend, name, 2 * len(frames), 2 * len(expect),
                   len(got), len(got_rcv), 'OK' if not problems else
                   'MISMATCH: ' + '; '.join(problems[:3])))
    return ok


def flow_key(frame):
    """(ethertype, destination address, protocol, destination port or
    ICMP type and code) of a frame, after a VLAN tag if any."""
    off, et = 14, frame[12:14]
    if et == b'\x81\x00':
        off, et = 18, frame[16:18]
    # The source port is left out: nothing here matches on it, so packets
    # that differ only there share a datapath flow.
    if et == b'\x08\x00':
        ihl = (frame[off] & 15) * 4
        proto, l4 = frame[off + 9], off + ihl
    elif et == b'\x86\xdd':
        proto, l4 = frame[off + 6], off + 40
    else:
        return (et, frame[:6])
    dst = frame[off + 16:off + 20] if et == b'\x08\x00' \
        else frame[off + 24:off + 40]
    ports = frame[l4 + 2:l4 + 4] if proto in (6, 17) else frame[l4:l4 + 2]
    return (et, dst, proto, ports)


def compare_flows(expect, got, where):
    """Every expected packet, byte for byte, nothing else, and in order
    within each flow.  (The userspace datapath executes a batch of received
    packets flow by flow, so packets of different flows that arrive in one
    batch may leave in another order; packets of one flow never do.)"""
    problems = []
    if len(expect) != len(got):
        problems.append('%s: %d packets, expected %d'
                        % (where, len(got), len(expect)))
    if sorted(expect) != sorted(got):
        missing = len([1 for x in expect if x not in got])
        extra = len([1 for x in got if x not in expect])
        problems.append('%s: %d expected packets missing or different, %d '
                        'unexpected' % (where, missing, extra))
    by_e, by_g = {}, {}
    for x in expect:
        by_e.setdefault(flow_key(x), []).append(x)
    for x in got:
        by_g.setdefault(flow_key(x), []).append(x)
    for k, seq in by_e.items():
        if by_g.get(k, []) != seq and sorted(by_g.get(k, [])) == sorted(seq):
            problems.append('%s: a flow\'s packets came out of order' % where)
            break
    return problems
