# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The readers of figures outside the database: unixctl (against a
stand-in daemon on a Unix socket), ovs-vswitchd's and the agent's output,
/proc, the eBPF pin directory."""

import json
import os
import socket
import threading
import time

import pytest

from vtap_metrics import agent, ebpf, unixctl, vswitchd

COVERAGE = """\
Event coverage, avg rate over last: 5 seconds, last minute, last hour,  \
hash=2a5a6e43:
bridge_reconfigure         0.0/sec     0.000/sec        0.0003/sec   total: 1
vtap_send_copy             4.0/sec     0.333/sec        0.0056/sec   total: 20
vtap_send_failed           0.0/sec     0.017/sec        0.0003/sec   total: 1
netdev_sent               10.0/sec     1.000/sec        0.0300/sec   total: 108
111 events never hit
"""

VTAP_SHOW = """\
br0: 1 tap
  t (id 1): backend dpdk
    select: ingress dpdk-p1
    stats: tx_packets:10 tx_bytes:980 selected_packets:10
dpdk copy pool: 3 of 16383 mbufs in use
"""

DPDK_POOL = 'dpdk copy pool: 3 of 16383 mbufs in use\n'

# As vtap_fleet.agent writes it (tests/fleet/test_agent.py).
AGENT_STATUS = """\
system-id: hv1
local database: unix:/tmp/hv1/db.sock (connected)
fleet database: tcp:127.0.0.1:1,tcp:127.0.0.1:2 (not connected)
fleet remote: tcp:127.0.0.1:1, inactivity probe 5000 ms, max backoff 8000 ms
recomputes: 12
local transactions: 3
nb_cfg: 8
applied nb_cfg: 7
"""


def test_parse_coverage():
    assert vswitchd.parse_coverage(COVERAGE) == {
        'bridge_reconfigure': 1, 'vtap_send_copy': 20,
        'vtap_send_failed': 1, 'netdev_sent': 108}


def test_parse_pool():
    assert vswitchd.parse_pool(DPDK_POOL) == (3, 16383)
    assert vswitchd.parse_pool(VTAP_SHOW) == (3, 16383)
    assert vswitchd.parse_pool('dpdk copy pool: none\n') is None
    assert vswitchd.parse_pool('br0: 0 taps\n') is None


def test_parse_agent_status():
    a = agent.parse_status(AGENT_STATUS)
    assert a.up and a.system_id == 'hv1'
    assert a.fleet_remote == 'tcp:127.0.0.1:1,tcp:127.0.0.1:2'
    assert (a.fleet_configured, a.fleet_connected, a.local_connected) == (
        1, 0, 1)
    assert (a.recomputes, a.local_transactions) == (12, 3)
    assert (a.nb_cfg, a.applied_nb_cfg) == (8, 7)
    # Idle (no fleet database), or before the host's first report: no
    # figure, or only the fleet's.
    idle = agent.parse_status(
        'system-id: None\nlocal database: unix:x (connected)\n'
        'fleet database: none (not configured)\nidle: no fleet database\n'
        'recomputes: 0\nlocal transactions: 0\n')
    assert idle.system_id is None and idle.fleet_remote is None
    assert (idle.fleet_configured, idle.fleet_connected) == (0, 0)
    assert idle.nb_cfg is None and idle.applied_nb_cfg is None
    early = agent.parse_status(AGENT_STATUS.replace('applied nb_cfg: 7\n',
                                                    ''))
    assert (early.nb_cfg, early.applied_nb_cfg) == (8, None)


def test_pin_dir_as_the_backend_names_it():
    assert ebpf.pin_dir('/var/run/openvswitch') == \
        '/sys/fs/bpf/ovs-vtap/v2/var_run_openvswitch'
    assert ebpf.pin_dir('/tmp/a.b/x-1') == \
        '/sys/fs/bpf/ovs-vtap/v2/tmp_a_b_x-1'
    assert ebpf.pin_dir('/') == '/sys/fs/bpf/ovs-vtap/v2/default'
    assert ebpf.pin_dir('/' + 'x' * 300).endswith('/' + 'x' * 200)


def test_ebpf_read_without_pins(tmp_path, monkeypatch):
    monkeypatch.setattr(ebpf, 'BPFFS', str(tmp_path))
    enabled, programs = ebpf.read('/nonexistent/run')
    assert programs == []


def test_process_start_time(tmp_path):
    (tmp_path / '42').mkdir()
    # A command name with spaces and a parenthesis.
    fields = ['42', '(ovs vswitchd) x)', 'S'] + ['0'] * 18 + ['250']
    (tmp_path / '42' / 'stat').write_text(' '.join(fields) + ' 0 0\n')
    (tmp_path / 'stat').write_text('cpu 1 2\nbtime 1700000000\n')
    got = vswitchd.process_start_time(42, proc=str(tmp_path))
    assert got == 1700000000 + 250 / os.sysconf('SC_CLK_TCK')
    assert vswitchd.process_start_time(43, proc=str(tmp_path)) is None


class FakeDaemon(object):
    """A unixctl server on a Unix socket that answers each request with
    'replies[method]': a string, ('error', text), or 'hang'."""

    def __init__(self, path, replies):
        self.replies = replies
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            req = json.loads(conn.recv(65536).decode())
            reply = self.replies[req['method']]
            if reply == 'hang':
                time.sleep(2)
                conn.close()
                continue
            if isinstance(reply, tuple):
                msg = {'id': req['id'], 'result': None, 'error': reply[1]}
            else:
                msg = {'id': req['id'], 'result': reply, 'error': None}
            data = json.dumps(msg).encode()
            # In pieces, as a large reply comes.
            for i in range(0, len(data), 7):
                conn.sendall(data[i:i + 7])
            conn.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def rundir(tmp_path):
    return str(tmp_path)


def start(rundir, target, replies):
    pid = os.getpid()
    with open('%s/%s.pid' % (rundir, target), 'w') as f:
        f.write('%d\n' % pid)
    return FakeDaemon('%s/%s.%d.ctl' % (rundir, target, pid), replies)


def test_unixctl(rundir):
    d = start(rundir, 'ovs-vswitchd', {'coverage/show': COVERAGE,
                                       'vtap/show': ('error', 'no such '
                                                     'bridge\n'),
                                       'slow': 'hang'})
    try:
        path = unixctl.target_socket('ovs-vswitchd', rundir)
        assert unixctl.call(path, 'coverage/show') == COVERAGE
        with pytest.raises(unixctl.UnixctlError, match='no such bridge'):
            unixctl.call(path, 'vtap/show', ['x'])
        start_t = time.monotonic()
        with pytest.raises(unixctl.UnixctlError, match='no answer'):
            unixctl.call(path, 'slow', timeout=0.3)
        assert time.monotonic() - start_t < 1.5
    finally:
        d.close()


def test_pidfiles(rundir):
    assert unixctl.read_pid('ovs-vtap-agent', rundir) is None
    with open('%s/ovs-vtap-agent.pid' % rundir, 'w') as f:
        f.write('999999999\n')
    assert unixctl.read_pid('ovs-vtap-agent', rundir) == 0
    with pytest.raises(unixctl.UnixctlError, match='not running'):
        unixctl.target_socket('ovs-vtap-agent', rundir)


def test_vswitchd_read(rundir):
    fig, ok = vswitchd.read(rundir)
    assert not ok and not fig.up
    d = start(rundir, 'ovs-vswitchd', {'coverage/show': COVERAGE,
                                       'vtap/dpdk-pool': DPDK_POOL})
    try:
        fig, ok = vswitchd.read(rundir, pool=True)
        assert ok and fig.up
        assert fig.coverage['vtap_send_copy'] == 20
        assert fig.pool == (3, 16383)
        assert fig.start_time is not None
        fig, ok = vswitchd.read(rundir)     # No DPDK: not asked.
        assert ok and fig.pool is None
    finally:
        d.close()


def test_agent_read(rundir):
    assert agent.read(rundir) == (None, True)      # No agent here.
    with open('%s/ovs-vtap-agent.pid' % rundir, 'w') as f:
        f.write('999999999\n')
    fig, ok = agent.read(rundir)                    # It died.
    assert not ok and fig.up is False
    d = start(rundir, 'ovs-vtap-agent', {'connection-status': AGENT_STATUS})
    try:
        fig, ok = agent.read(rundir)
        assert ok and fig.system_id == 'hv1' and fig.fleet_connected == 0
    finally:
        d.close()
