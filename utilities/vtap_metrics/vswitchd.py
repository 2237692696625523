# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The figures of ovs-vswitchd that the Tap rows lack, from its unixctl:
OVS-vTAP's coverage counters (coverage/show) and the DPDK copy pool's use
(vtap/dpdk-pool), and its start time (/proc)."""

import os
import re

from vtap_metrics import unixctl
from vtap_metrics.families import VswitchdFigures

_COVERAGE_RE = re.compile(r'^(\S+)\s.*\stotal: (\d+)\s*$')
_POOL_RE = re.compile(r'^dpdk copy pool: (\d+) of (\d+) mbufs in use\s*$',
                      re.M)


def parse_coverage(text):
    """coverage/show's output -> {counter name: total}.  Counters never
    hit are not listed there."""
    totals = {}
    for line in text.splitlines():
        m = _COVERAGE_RE.match(line)
        if m:
            totals[m.group(1)] = int(m.group(2))
    return totals


def parse_pool(text):
    """(in use, size) from vtap/dpdk-pool's output (or vtap/show's last
    line), or None where there is no pool."""
    m = _POOL_RE.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def process_start_time(pid, proc='/proc'):
    """When process 'pid' started, in seconds since the epoch, or None."""
    try:
        with open('%s/%d/stat' % (proc, pid)) as f:
            # The command name may hold spaces and parentheses: fields
            # are counted after its closing parenthesis.
            fields = f.read().rsplit(')', 1)[1].split()
        with open('%s/stat' % proc) as f:
            btime = next(int(line.split()[1]) for line in f
                         if line.startswith('btime '))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    # Field 22 of stat(5) is the start time in clock ticks after boot; it
    # is the 20th after the name.
    return btime + int(fields[19]) / os.sysconf('SC_CLK_TCK')


def read(rundir=None, pool=False, timeout=5.0):
    """VswitchdFigures of the running ovs-vswitchd; with 'pool' (DPDK is
    initialized), the use of the DPDK copy pool too."""
    pid = unixctl.read_pid('ovs-vswitchd', rundir)
    start = process_start_time(pid) if pid else None
    try:
        path = unixctl.target_socket('ovs-vswitchd', rundir)
        coverage = parse_coverage(unixctl.call(path, 'coverage/show',
                                               timeout=timeout))
        pool = (parse_pool(unixctl.call(path, 'vtap/dpdk-pool',
                                        timeout=timeout))
                if pool else None)
    except unixctl.UnixctlError:
        return VswitchdFigures(up=False, coverage={}, pool=None,
                               start_time=start), False
    return VswitchdFigures(up=True, coverage=coverage, pool=pool,
                           start_time=start), True
