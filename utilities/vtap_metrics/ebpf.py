# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The run time of OVS-vTAP's eBPF TC programs.

ovs-vswitchd pins its two programs, vtap_tc_ingress and vtap_tc_egress, in
/sys/fs/bpf/ovs-vtap/v2/INSTANCE, where INSTANCE is its run directory made
of letters, digits, '-' and '_' (EbpfBackend::default_pin_dir()).  The
kernel counts each program's runs and run time while
kernel.bpf_stats_enabled is 1 (bpf_prog_info's run_cnt and run_time_ns):
the exporter reads them with two bpf(2) calls, BPF_OBJ_GET on the pin and
BPF_OBJ_GET_INFO_BY_FD, which needs CAP_BPF (or root)."""

import ctypes
import errno
import os
import re
import struct

from vtap_metrics.families import EbpfProgram

BPFFS = '/sys/fs/bpf'
ABI_VERSION = 2                 # VTAP_TC_ABI_VERSION, part of the path.
PROGRAMS = (('ingress', 'vtap_tc_ingress'), ('egress', 'vtap_tc_egress'))
STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled'

_SYS_BPF = {'x86_64': 321, 'aarch64': 280, 'ppc64le': 361, 's390x': 351}
_BPF_OBJ_GET = 7
_BPF_OBJ_GET_INFO_BY_FD = 15
# struct bpf_prog_info: its size, and where run_time_ns and run_cnt are
# (checked against linux/bpf.h with offsetof()).
_INFO_SIZE = 232
_RUN_TIME_OFFSET = 192


def pin_dir(rundir):
    """The pin directory of the ovs-vswitchd whose run directory is
    'rundir'."""
    instance = re.sub(r'[^A-Za-z0-9-]', '_', rundir).lstrip('_')
    if not instance:
        instance = 'default'
    elif len(instance) > 200:
        instance = instance[-200:]
    return '%s/ovs-vtap/v%d/%s' % (BPFFS, ABI_VERSION, instance)


def stats_enabled(path=STATS_SYSCTL):
    """kernel.bpf_stats_enabled as a bool, or None if it cannot be read."""
    try:
        with open(path) as f:
            return f.read().strip() != '0'
    except OSError:
        return None


_libc = None


def _bpf(cmd, attr):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    nr = _SYS_BPF.get(os.uname().machine)
    if nr is None:
        raise OSError(errno.ENOSYS, 'bpf(2) number unknown here')
    buf = ctypes.create_string_buffer(attr, len(attr))
    r = _libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf,
                      ctypes.c_uint(len(attr)))
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def program_stats(path):
    """(runs, run time in ns) of the program pinned at 'path'."""
    name = ctypes.create_string_buffer(os.fsencode(path))
    fd = _bpf(_BPF_OBJ_GET, struct.pack('=QII', ctypes.addressof(name), 0,
                                        0))
    try:
        info = ctypes.create_string_buffer(_INFO_SIZE)
        _bpf(_BPF_OBJ_GET_INFO_BY_FD,
             struct.pack('=IIQ', fd, _INFO_SIZE, ctypes.addressof(info)))
        run_time, runs = struct.unpack_from('=QQ', info.raw,
                                            _RUN_TIME_OFFSET)
    finally:
        os.close(fd)
    return runs, run_time


def read(rundir):
    """(kernel.bpf_stats_enabled, [EbpfProgram]) for the ovs-vswitchd of
    'rundir'; no programs while it has no offloaded tap (nothing pinned).
    Raises OSError if a pinned program cannot be read (no CAP_BPF)."""
    enabled = stats_enabled()
    programs = []
    directory = pin_dir(rundir)
    for label, pin in PROGRAMS:
        path = os.path.join(directory, pin)
        try:
            runs, run_time = program_stats(path)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        programs.append(EbpfProgram(name=label, runs=runs,
                                    run_time_ns=run_time))
    return enabled, programs
