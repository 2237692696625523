# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The topology: a sandboxed Open vSwitch (its own database and run
directory, in the namespace vtbench-sw) whose bridge connects a sender, a
receiver and a monitor namespace through veths.

Two kinds of switch ports:
- kernel: the veths' switch ends are netdev-linux ports of a netdev bridge;
- dpdk: ovs-vswitchd runs with dpdk-init=true and one PMD thread (on the
  second core), its hugepages on a hugetlbfs mount of its own, and each
  veth's switch end is served by a `type=dpdk` port on net_af_packetN.

Everything is removed on exit, also after a failure, and a run that was
killed is cleaned up by the next one (see stale_cleanup)."""

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from .common import (BR, Failure, MAC, NS, ROLES, VETH, VSWITCHD_CPU,
                     log, netns_cmd, run)

BINARIES = ('ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl', 'ovs-appctl',
            'ovsdb-server', 'ovsdb-tool')
# DPDK: what the run changes outside its run directory, so that a killed
# run can be undone by the next one.
HUGEPAGES = '/proc/sys/vm/nr_hugepages'
HUGEPAGES_SAVED = '/run/lock/ovs-vtap-bench.nr_hugepages'
DPDK_HUGEPAGES = 512
DPDK_SOCKET_MEM = 512          # MB, of the 1 GB above
DPDK_PREFIX = 'vtbench'
DPDK_PORT = {r: 'vtb-d' + r for r in ROLES}


class Unavailable(Failure):
    """The machine cannot give what a topology needs (hugepages): an
    automatic DPDK topology is then skipped with the reason, not failed."""


def find_binaries(top, script):
    """Open vSwitch's binaries and schema: those of the built tree TOP if it
    has them; else those installed with this script (its own bin/ and
    sbin/, its prefix's share/openvswitch), else PATH's."""
    ovs = os.path.join(top, 'ovs')
    tree = {
        'ovs-vswitchd': os.path.join(ovs, 'vswitchd', 'ovs-vswitchd'),
        'ovs-vsctl': os.path.join(ovs, 'utilities', 'ovs-vsctl'),
        'ovs-ofctl': os.path.join(ovs, 'utilities', 'ovs-ofctl'),
        'ovs-appctl': os.path.join(ovs, 'utilities', 'ovs-appctl'),
        'ovsdb-server': os.path.join(ovs, 'ovsdb', 'ovsdb-server'),
        'ovsdb-tool': os.path.join(ovs, 'ovsdb', 'ovsdb-tool'),
    }
    schema = os.path.join(ovs, 'vswitchd', 'vswitch.ovsschema')
    if all(os.access(p, os.X_OK) for p in tree.values()) \
            and os.path.exists(schema):
        return tree, schema, 'built tree ' + ovs
    bindirs = []
    for resolve in (os.path.abspath, os.path.realpath):
        d = os.path.dirname(resolve(script))
        bindirs += [d, os.path.join(os.path.dirname(d), 'sbin')]
    found = {}
    for name in BINARIES:
        path = next((os.path.join(d, name) for d in bindirs
                     if os.access(os.path.join(d, name), os.X_OK)), None) \
            or shutil.which(name)
        if not path:
            raise Failure('%s: not in %s, nor beside %s, nor in PATH '
                          '(build first: make)' % (name, ovs, script))
        found[name] = path
    # The schema is installed with the binaries: PREFIX/share/openvswitch
    # for the prefix of the ovs-vsctl found and of this script itself.
    prefixes = [os.path.dirname(os.path.dirname(resolve(p)))
                for p in (found['ovs-vsctl'], script)
                for resolve in (os.path.abspath, os.path.realpath)]
    dirs = [os.path.join(p, 'share', 'openvswitch') for p in prefixes]
    dirs += ['/usr/local/share/openvswitch', '/usr/share/openvswitch']
    dirs = list(dict.fromkeys(dirs))
    for d in dirs:
        if os.path.exists(os.path.join(d, 'vswitch.ovsschema')):
            return found, os.path.join(d, 'vswitch.ovsschema'), \
                'installed ' + os.path.dirname(found['ovs-vswitchd'])
    raise Failure('vswitch.ovsschema not found in %s' % ', '.join(dirs))


def parse_ovsdb_map(text):
    """Parses ovs-vsctl's text for a string map: {a=b, c="d, e"}."""
    st, items, cur, inq, esc = {}, [], '', False, False
    for ch in text.strip().strip('{}'):
        if esc:
            cur += ch
            esc = False
        elif ch == '\\' and inq:
            cur += ch
            esc = True
        elif ch == '"':
            inq = not inq
            cur += ch
        elif ch == ',' and not inq:
            items.append(cur)
            cur = ''
        else:
            cur += ch
    if cur.strip():
        items.append(cur)
    for it in items:
        k, _, v = it.strip().partition('=')
        v = v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = json.loads(v)
        st[k.strip().strip('"')] = v
    return st


def stale_cleanup():
    """Removes what a killed earlier run left behind (we hold the lock, so
    no other run of ours is using it): namespaces, hugetlbfs mounts, DPDK
    runtime files, the hugepage count it changed."""
    names = run(['ip', 'netns', 'list'], check=False)
    for line in names.splitlines():
        ns = line.split()[0] if line.split() else ''
        if ns in NS.values():
            log('removing stale namespace %s' % ns)
            pids = run(['ip', 'netns', 'pids', ns], check=False).split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.3)
            run(['ip', 'netns', 'del', ns], check=False)
    # ovsdb-server runs outside the namespaces: found by its socket in a
    # run directory of ours.
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            cmd = open('/proc/%s/cmdline' % pid, 'rb').read().split(b'\0')
        except OSError:
            continue
        if any(a.startswith(b'--remote=punix:/tmp/vtbench-') for a in cmd):
            log('killing stale %s (%s)' % (cmd[0].decode(errors='replace'),
                                           pid))
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    with open('/proc/mounts') as f:
        mounts = [line.split()[1] for line in f
                  if line.split()[2] == 'hugetlbfs']
    for m in mounts:
        if m.startswith('/tmp/vtbench-'):
            log('removing stale hugetlbfs mount %s' % m)
            run(['umount', '-l', m], check=False)
    # Run directories of killed runs (their hugetlbfs is unmounted above).
    for d in glob.glob('/tmp/vtbench-*'):
        if not os.path.ismount(os.path.join(d, 'hugepages')):
            shutil.rmtree(d, ignore_errors=True)
    for d in glob.glob('/var/run/dpdk/%s*' % DPDK_PREFIX):
        shutil.rmtree(d, ignore_errors=True)
    restore_hugepages()


def restore_hugepages():
    try:
        old = open(HUGEPAGES_SAVED).read().strip()
    except OSError:
        return
    try:
        with open(HUGEPAGES, 'w') as f:
            f.write(old)
    except OSError as e:
        log('could not restore nr_hugepages to %s: %s' % (old, e))
    os.unlink(HUGEPAGES_SAVED)


def dpdk_unavailable(version_text):
    """Why this machine or build cannot run the DPDK topology, or None."""
    if os.geteuid() != 0:
        return 'needs root'
    if 'DPDK' not in version_text:
        return 'ovs-vswitchd has no DPDK (built without libdpdk)'
    if not os.path.exists(HUGEPAGES):
        return 'no hugepage support in this kernel'
    return None


class Sandbox:
    """The switch and its three namespaces.  `port[role]` is the name of
    ROLE's port on the bridge (the veth's switch end, or its DPDK port),
    `veth[role]` the kernel device behind it."""

    def __init__(self, top, script, dpdk=False):
        self.top = top
        self.dpdk = dpdk
        self.kind = 'dpdk' if dpdk else 'kernel'
        self.bin, self.schema, self.bin_origin = find_binaries(top, script)
        self.veth = dict(VETH)
        self.port = dict(DPDK_PORT) if dpdk else dict(VETH)
        self.rundir = None
        self.sleepers = {}      # role -> pid of a process in that netns
        self.pgroups = set()    # process groups we started (trafgen...)
        self.procs = []         # Popen objects we started
        self.vswitchd_pid = None
        self.tc_devs = set()
        self.hugetlbfs = None
        self.up = False
        self.sync_n = 0
        self.logs_to = None

    # -- processes ---------------------------------------------------------
    def env(self):
        e = dict(os.environ)
        for v in ('OVS_RUNDIR', 'OVS_LOGDIR', 'OVS_DBDIR', 'OVS_SYSCONFDIR'):
            e[v] = self.rundir
        e['OVS_PKGDATADIR'] = os.path.dirname(self.schema)
        return e

    def vsctl(self, *a, timeout=60, check=True, wait=True):
        cmd = [self.bin['ovs-vsctl'], '--timeout=%d' % timeout]
        if not wait:
            cmd.append('--no-wait')
        return run(cmd + list(a), env=self.env(), timeout=timeout + 30,
                   check=check)

    def ofctl(self, *a, check=True):
        return run([self.bin['ovs-ofctl']] + list(a), env=self.env(),
                   check=check)

    def appctl(self, *a, check=True, timeout=30):
        return run([self.bin['ovs-appctl'], '--timeout=%d' % timeout]
                   + list(a), env=self.env(), check=check,
                   timeout=timeout + 10)

    def spawn(self, cmd, stdout=None, stderr=None):
        """Starts CMD in a session (process group) of its own."""
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                             stdout=stdout or subprocess.DEVNULL,
                             stderr=stderr or subprocess.DEVNULL,
                             start_new_session=True, env=self.env())
        self.pgroups.add(p.pid)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=2.0):
        """Stops process group P (SIGTERM, then SIGKILL)."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        # Whatever else is left in its group (children).
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.pgroups.discard(p.pid)
        if p in self.procs:
            self.procs.remove(p)

    # -- set up ------------------------------------------------------------
    def start(self):
        stale_cleanup()
        self.rundir = tempfile.mkdtemp(prefix='vtbench-', dir='/tmp')
        log('%s sandbox in %s (binaries: %s)'
            % (self.kind, self.rundir, self.bin_origin))
        self.up = True
        self._namespaces()
        if self.dpdk:
            self._hugepages()
        e = self.env()
        db = os.path.join(self.rundir, 'conf.db')
        run([self.bin['ovsdb-tool'], 'create', db, self.schema], env=e)
        run([self.bin['ovsdb-server'], '--detach', '--no-chdir', '--pidfile',
             '--log-file', '--remote=punix:%s/db.sock' % self.rundir, db],
            env=e)
        self.vsctl('init', wait=False)
        if self.dpdk:
            self.vsctl('set', 'Open_vSwitch', '.',
                       'other_config:dpdk-extra="--file-prefix=%s%d '
                       '--huge-dir=%s --no-pci --log-level=pmd.*:error"'
                       % (DPDK_PREFIX, os.getpid(), self.hugetlbfs),
                       'other_config:dpdk-socket-mem=%d'
                       % DPDK_SOCKET_MEM,
                       'other_config:pmd-cpu-mask=0x%x'
                       % (1 << VSWITCHD_CPU[0]),
                       'other_config:per-port-memory=true',
                       'other_config:dpdk-init=true', wait=False)
        self._start_vswitchd()
        ports = []
        for r in ROLES:
            ports += ['--', 'add-port', BR, self.port[r]]
            ports += self._port_options(r)
        self.vsctl('add-br', BR, '--', 'set', 'bridge', BR,
                   'datapath_type=netdev', 'fail_mode=standalone',
                   'other_config:mac-aging-time=3600', *ports, timeout=120)
        self._ports_up()

    def _port_options(self, role):
        """What ovs-vsctl sets on ROLE's Interface (its type and options)."""
        if not self.dpdk:
            return []
        return ['--', 'set', 'Interface', self.port[role], 'type=dpdk',
                'options:dpdk-devargs=net_af_packet%d,iface=%s'
                % (ROLES.index(role), self.veth[role])]

    def _ports_up(self):
        """Returns once every port of the bridge can carry traffic."""
        if self.dpdk:
            for r in ROLES:
                self._wait(lambda: self.vsctl(
                    'get', 'Interface', self.port[r], 'link_state').strip()
                    == 'up', 30, 'DPDK port %s up' % self.port[r])

    def _start_vswitchd(self):
        if self.dpdk:
            # The PMD thread takes CPU 1; the main thread may go anywhere.
            pin = []
        else:
            pin = ['taskset', '-c', ','.join(map(str, VSWITCHD_CPU))]
        run(netns_cmd('sw') + pin + [self.bin['ovs-vswitchd'], '--detach',
                                     '--no-chdir', '--pidfile', '--log-file',
                                     '-vconsole:off', '-vsyslog:off'],
            env=self.env(), timeout=120)
        self.vswitchd_pid = int(open(os.path.join(
            self.rundir, 'ovs-vswitchd.pid')).read())
        if self.dpdk:
            self._wait(lambda: self.vsctl('get', 'Open_vSwitch', '.',
                                          'dpdk_initialized').strip()
                       == 'true', 60, 'DPDK initialised')

    def restart_vswitchd(self):
        """Stops ovs-vswitchd and starts it again on the same database and
        ports, so that what its memory grows by starts from a fresh process:
        glibc keeps much of what a process frees, and a peer measured after
        another would reuse what that one left."""
        pid = self.vswitchd_pid
        self.appctl('exit', timeout=30)
        self._wait(lambda: not os.path.exists('/proc/%d' % pid), 30,
                   'ovs-vswitchd %d gone' % pid)
        self._start_vswitchd()
        for r in ROLES:
            self._wait(lambda: self.vsctl(
                'get', 'Interface', self.port[r], 'link_state').strip()
                == 'up', 30, 'port %s up' % self.port[r])
        self.sync()

    def _namespaces(self):
        for role in ('sw',) + ROLES:
            run(['ip', 'netns', 'add', NS[role]])
            ns = netns_cmd(role)
            # No IPv6 chatter (router solicitations, MLD) on our wires.
            for k in ('all', 'default'):
                run(ns + ['sysctl', '-qw',
                          'net.ipv6.conf.%s.disable_ipv6=1' % k])
            run(['ip', '-n', NS[role], 'link', 'set', 'lo', 'up'])
            p = subprocess.Popen(ns + ['sleep', '1000000'],
                                 stdin=subprocess.DEVNULL,
                                 start_new_session=True)
            self.sleepers[role] = p.pid
            self.pgroups.add(p.pid)
        for role in ROLES:
            run(['ip', 'link', 'add', self.veth[role], 'netns', NS['sw'],
                 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS[role]])
            run(['ip', '-n', NS[role], 'link', 'set', 'eth0', 'address',
                 MAC[role], 'up'])
            run(['ip', '-n', NS['sw'], 'link', 'set', self.veth[role], 'up'])
        # The receiver has no address: the kernel drops the UDP silently
        # (no ICMP port unreachable going back through the switch).

    def _hugepages(self):
        """DPDK_HUGEPAGES pages of 2 MB on a hugetlbfs mount of our own;
        the old count is saved where a later run finds it if this one is
        killed."""
        old = open(HUGEPAGES).read().strip()
        if not os.path.exists(HUGEPAGES_SAVED):
            with open(HUGEPAGES_SAVED, 'w') as f:
                f.write(old)
        if int(old) < DPDK_HUGEPAGES:
            with open(HUGEPAGES, 'w') as f:
                f.write(str(DPDK_HUGEPAGES))
        got = int(open(HUGEPAGES).read())
        if got < DPDK_HUGEPAGES // 2:
            raise Unavailable('only %d hugepages of 2 MB could be had (%d '
                              'wanted)' % (got, DPDK_HUGEPAGES))
        self.hugetlbfs = os.path.join(self.rundir, 'hugepages')
        os.mkdir(self.hugetlbfs)
        run(['mount', '-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev',
             self.hugetlbfs])

    def _wait(self, cond, timeout, what):
        deadline = time.time() + timeout
        while not cond():
            if time.time() > deadline:
                raise Failure('timed out waiting for: ' + what)
            time.sleep(0.2)

    def purge(self):
        """Drops every cached datapath flow so that the next packet is
        translated with the configuration in place (Mirror changes in OVS
        3.1 do not revalidate cached flows)."""
        self.appctl('revalidator/purge')

    def sync(self):
        """Returns once ovs-vswitchd has applied every committed change."""
        self.sync_n += 1
        self.vsctl('set', 'Open_vSwitch', '.',
                   'external_ids:vtb-sync=%d' % self.sync_n, timeout=900)

    # -- counters ----------------------------------------------------------
    def netdev(self, role, dev='eth0'):
        """(rx_packets, rx_bytes, tx_packets, tx_bytes, tx_dropped) of DEV
        in ROLE's namespace, read through a process that lives there."""
        with open('/proc/%d/net/dev' % self.sleepers[role]) as f:
            for line in f:
                name, _, rest = line.partition(':')
                if name.strip() == dev:
                    v = [int(x) for x in rest.split()]
                    return v[1], v[0], v[9], v[8], v[11]
        raise Failure('%s: no %s' % (NS[role], dev))

    def mon_rx(self):
        return self.netdev('mon')[0]

    def vswitchd_ticks(self):
        with open('/proc/%d/stat' % self.vswitchd_pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return int(fields[11]) + int(fields[12])     # utime + stime

    def vswitchd_rss_kb(self):
        with open('/proc/%d/status' % self.vswitchd_pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
        return 0

    # -- tear down ---------------------------------------------------------
    def cleanup(self):
        if not self.up:
            return
        self.up = False
        for p in list(self.procs):
            try:
                self.stop(p, grace=1.0)
            except Exception:
                pass
        for pg in list(self.pgroups):
            try:
                os.killpg(pg, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for dev in list(self.tc_devs):
            run(['tc', '-n', NS['sw'], 'qdisc', 'del', 'dev', dev, 'clsact'],
                check=False)
        if self.rundir and os.path.exists(os.path.join(self.rundir,
                                                       'ovs-vswitchd.pid')):
            try:
                # Deleting the bridge makes ovs-vswitchd remove its devices
                # (the bridge's and, with the last bridge, ovs-netdev).
                self.vsctl('--if-exists', 'del-br', BR, timeout=20,
                           check=False)
                self.appctl('exit', '--cleanup', check=False, timeout=20)
            except Exception:
                pass
        for name in ('ovs-vswitchd', 'ovsdb-server'):
            pidfile = os.path.join(self.rundir or '/nonexistent',
                                   name + '.pid')
            try:
                pid = int(open(pidfile).read())
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    os.kill(pid, 0)
                    time.sleep(0.1)
                os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
            except (OSError, ValueError):
                pass
        for role in ROLES + ('sw',):
            run(['ip', 'netns', 'del', NS[role]], check=False)
        if self.hugetlbfs:
            # Unmounting frees the hugepage files DPDK left in it.
            run(['umount', self.hugetlbfs], check=False)
            shutil.rmtree('/var/run/dpdk/%s%d' % (DPDK_PREFIX, os.getpid()),
                          ignore_errors=True)
            restore_hugepages()
        if self.rundir:
            if self.logs_to:
                for f in ('ovs-vswitchd.log', 'ovsdb-server.log'):
                    try:
                        shutil.copy(os.path.join(self.rundir, f),
                                    os.path.join(self.logs_to, '%s-%s'
                                                 % (self.kind, f)))
                    except OSError:
                        pass
            if self.hugetlbfs and os.path.ismount(self.hugetlbfs):
                run(['umount', '-l', self.hugetlbfs], check=False)
            shutil.rmtree(self.rundir, ignore_errors=True)
