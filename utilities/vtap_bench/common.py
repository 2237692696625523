# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""What every part of the benchmark shares: the names and addresses of what
it creates (so that cleanup and the report agree on them), running a
command, and small formatting helpers."""

import os
import re
import statistics
import subprocess
import sys
import time

PROG = 'ovs-vtap-bench'
# Everything the benchmark creates carries one of these prefixes, so that a
# killed run's leftovers can be recognised and removed by the next one.
NS = {r: 'vtbench-' + r for r in ('sw', 'snd', 'rcv', 'mon')}
VETH = {r: 'vtb-' + r for r in ('snd', 'rcv', 'mon')}
ROLES = ('snd', 'rcv', 'mon')
BR = 'vtb-br0'
# Documentation addresses only (never 192.0.2.0/24: the machines' own).
MAC = {'snd': '00:00:5e:00:53:b1', 'rcv': '00:00:5e:00:53:b2',
       'mon': '00:00:5e:00:53:b3'}
IP4 = {'snd': '198.51.100.101', 'rcv': '198.51.100.102'}
IP6 = {'snd': '2001:db8:0:1::101', 'rcv': '2001:db8:0:1::102'}
# The latency phase's second flow: to the receiver's MAC and an address
# nobody has, which its kernel (not a router) drops without an ICMP reply.
LOAD_DADDR = '198.51.100.202'
UDP_SPORT, UDP_DPORT = 1024, 9
# trafgen sends on CPU 0, ovs-vswitchd (or its PMD thread) runs on CPU 1
# (trafgen pins its worker N to CPU N: "-P 1" puts its only worker on
# CPU 0).
TRAFGEN_CPU = 0
VSWITCHD_CPU = [1]              # a list so that --no-pin can change it

LOCK = '/run/lock/ovs-vtap-bench.lock'
CLK_TCK = os.sysconf('SC_CLK_TCK')


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr,
          flush=True)


class Failure(Exception):
    """A setup or measurement step that failed: the run stops, cleans up
    and reports it."""


def run(cmd, check=True, capture=True, timeout=120, env=None, input=None):
    """Runs CMD (a list); returns its stdout as text."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None,
                       text=True, timeout=timeout, env=env,
                       stdin=subprocess.DEVNULL if input is None else None,
                       input=input)
    if check and p.returncode != 0:
        raise Failure('%s failed (%d): %s' % (' '.join(cmd[:6]), p.returncode,
                                              (p.stderr or '').strip()[-800:]))
    return p.stdout if capture else ''


def netns_cmd(role):
    """The prefix that runs a command in ROLE's namespace.  nsenter, not
    "ip netns exec": the latter remounts /sys and hides /sys/fs/bpf from
    what it runs (the eBPF backend needs bpffs)."""
    return ['nsenter', '--net=/run/netns/' + NS[role]]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b else None


def fmt(v, spec='%.0f', none='-'):
    return none if v is None else spec % v


def fmt_ms(v):
    return '-' if v is None else '%.2f ms' % (v * 1e3)


def table(out, head, rows):
    """A Markdown table onto OUT."""
    out.append('| %s |' % ' | '.join(head))
    out.append('|' + '---|' * len(head))
    for r in rows:
        out.append('| %s |' % ' | '.join(r))
    out.append('')


def parse_fields(text, fields):
    """{key: value} of what TEXT says: FIELDS is {key: (regexp whose first
    group is the value, conversion)}; a key not found is left out."""
    r = {}
    for key, (rx, conv) in fields.items():
        m = re.search(rx, text)
        if m:
            r[key] = conv(m.group(1))
    return r
