# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""Traffic: trafgen's load from the sender (as fast as it can, or paced),
the frames that teach the bridge where the MACs are, the crafted mixed
traffic of the replay check and its pcaps (built and read with scapy, not
by hand), and tcpdump captures in a namespace."""

import os
import signal
import time

from .common import (IP4, IP6, MAC, NS, TRAFGEN_CPU, UDP_DPORT, UDP_SPORT,
                     Failure, netns_cmd, run)


def learn(sb):
    """The receiver and the sender send a frame each, so that the bridge
    knows where their MACs are (no flooding in measurements)."""
    for src, dst in (('rcv', 'snd'), ('snd', 'rcv')):
        cfg = '{ eth(da=%s, sa=%s, type=0x88b5), fill(0x00, 46) }' % (
            MAC[dst], MAC[src])
        run(netns_cmd(src) + ['trafgen', '-o', 'eth0', '-n', '1', '-P',
                              '1', '-C', '--no-sock-mem', cfg],
            timeout=20)


def trafgen_cfg(sb, size, pinned, daddr=None):
    """UDP from the sender to the receiver, SIZE bytes on the wire with the
    FCS (SIZE - 4 in the veth), an incrementing IPv4 id; to the receiver's
    MAC and DADDR (default its address)."""
    payload = size - 4 - 14 - 20 - 8
    daddr = daddr or IP4['rcv']
    path = os.path.join(sb.rundir, 'tg-%d-%s-%s.cfg' % (size, pinned, daddr))
    with open(path, 'w') as f:
        f.write('%s{\n  eth(da=%s, sa=%s),\n'
                '  ipv4(saddr=%s, daddr=%s, ttl=64, id=dinc()),\n'
                '  udp(sport=%d, dport=%d),\n  fill(0x00, %d)\n}\n'
                % ('cpu(%d): ' % TRAFGEN_CPU if pinned else '',
                   MAC['rcv'], MAC['snd'], IP4['snd'], daddr,
                   UDP_SPORT, UDP_DPORT, payload))
    return path


def start_traffic(sb, size, gap_us=None, daddr=None):
    """trafgen in the sender namespace, in a session of its own (it
    ignores SIGINT when started from a script).  Without GAP_US, as fast as
    it can (its ring, pinned to one CPU); with it, one packet every GAP_US
    microseconds plus the cost of a send (trafgen's --rate is not used: it
    sends each second's packets in one burst).  DADDR: see trafgen_cfg."""
    cmd = netns_cmd('snd') + ['trafgen', '-o', 'eth0', '-i',
                              trafgen_cfg(sb, size, gap_us is None,
                                          daddr),
                              '-P', '1', '-C', '--no-sock-mem']
    if gap_us:
        cmd += ['-t', '%dus' % gap_us]
    return sb.spawn(cmd)


# -- crafted traffic and pcaps ----------------------------------------------

def scapy():
    """scapy's layers, imported on first use: only the replay check needs
    them, and an import error then says what to install."""
    try:
        from scapy import all as sc
    except ImportError as e:
        raise Failure('the replay check needs scapy (apt-get install '
                      'python3-scapy): %s' % e)
    return sc


def craft_frames():
    """Mixed traffic from the sender: UDP, TCP, ICMP over IPv4 and IPv6,
    ARP, of many sizes; each frame (bytes, with every checksum computed by
    scapy) with its metadata for the matches."""
    sc = scapy()
    d6s = [IP6['rcv'], '2001:db8:0:2::102']
    d4s = [IP4['rcv'], '198.51.100.202']
    frames = []
    sizes = [0, 1, 18, 100, 200, 512, 1000, 1400, 1472 - 20]
    seq = 0
    for rnd in range(4):
        for n in sizes:
            for kind in ('udp4', 'tcp4', 'icmp4', 'udp6', 'tcp6', 'icmp6',
                         'arp'):
                seq += 1
                dport = (5001, 5002, 80, 443)[seq % 4]
                sport = 20000 + seq
                meta = {'kind': kind, 'dport': dport, 'sport': sport}
                eth = sc.Ether(src=MAC['snd'], dst=MAC['rcv'])
                if kind == 'arp':
                    if n not in (0, 512):
                        continue
                    pkt = sc.Ether(src=MAC['snd'], dst='ff:ff:ff:ff:ff:ff') \
                        / sc.ARP(op=1, hwsrc=MAC['snd'], psrc=IP4['snd'],
                                 hwdst='00:00:00:00:00:00', pdst=IP4['rcv'])
                    frames.append((pad(bytes(pkt)), meta))
                    continue
                six = kind.endswith('6')
                m = min(n, 1500 - 40 - 20) if six else min(n, 1480 - 20 - 8)
                body = bytes((seq + i) & 0xff for i in range(m))
                if six:
                    dst = d6s[seq % 2]
                    l3 = sc.IPv6(src=IP6['snd'], dst=dst, hlim=64)
                    meta['ipv6_dst'] = dst
                else:
                    dst = d4s[seq % 2]
                    l3 = sc.IP(src=IP4['snd'], dst=dst, ttl=64,
                               id=seq & 0xffff)
                    meta['nw_dst'] = dst
                if kind.startswith('udp'):
                    l4 = sc.UDP(sport=sport, dport=dport)
                elif kind.startswith('tcp'):
                    l4 = sc.TCP(sport=sport, dport=dport, seq=seq,
                                flags='PA', window=65535)
                elif six:
                    l4 = sc.ICMPv6EchoRequest(id=0x1234, seq=seq & 0xffff)
                else:
                    l4 = sc.ICMP(type=8, id=0x1234, seq=seq & 0xffff)
                frames.append((pad(bytes(eth / l3 / l4 / sc.Raw(body))),
                               meta))
    return frames


def pad(frame):
    """The minimum Ethernet frame without FCS is 60 bytes."""
    return frame + b'\0' * (60 - len(frame)) if len(frame) < 60 else frame


def add_vlan(frame, vid):
    """FRAME with an 802.1Q tag VID after the MACs, as output_vlan adds."""
    sc = scapy()
    e = sc.Ether(frame)
    return bytes(sc.Ether(src=e.src, dst=e.dst)
                 / sc.Dot1Q(vlan=vid, type=e.type) / e.payload)


def write_pcap(path, frames, gap_us=500):
    sc = scapy()
    pkts = []
    t = 1_700_000_000.0
    for data in frames:
        t += gap_us / 1e6
        p = sc.Ether(data)
        p.time = t
        pkts.append(p)
    sc.wrpcap(path, pkts)


def read_pcap(path):
    """The frames of an Ethernet capture, as bytes."""
    sc = scapy()
    if os.path.getsize(path) < 24:
        return []
    out = []
    r = sc.RawPcapReader(path)
    try:
        if r.linktype != 1:
            raise Failure('%s: link type %d, not Ethernet'
                          % (path, r.linktype))
        for data, _ in r:
            out.append(bytes(data))
    finally:
        r.close()
    return out


# -- captures ----------------------------------------------------------------

def capture_start(sb, role, path):
    """tcpdump on ROLE's eth0, received packets only; returns once it
    listens.  --immediate-mode -B 16384, or the last ring block is lost
    when the capture is stopped."""
    err = open(path + '.err', 'w')
    p = sb.spawn(netns_cmd(role) + ['tcpdump', '-i', 'eth0', '-nn', '-U',
                                    '--immediate-mode', '-B', '16384',
                                    '-s', '0', '-Q', 'in', '-w', path],
                 stderr=err)
    deadline = time.time() + 10
    while time.time() < deadline:
        if 'listening on' in open(path + '.err').read():
            return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise Failure('tcpdump in %s did not start: %s'
                  % (NS[role], open(path + '.err').read()))


def capture_stop(sb, p):
    time.sleep(0.5)
    sb.stop(p, sig=signal.SIGINT, grace=5.0)
