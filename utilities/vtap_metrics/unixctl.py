# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""A unixctl client that gives up after a timeout.

ovs.unixctl.client blocks until the daemon answers: an ovs-vswitchd that
hangs would hang every scrape, and with it the HTTP threads.  Here each
command is one JSON-RPC request on a fresh connection with a deadline, as
ovs-appctl --timeout does."""

import json
import os
import socket
import time

import ovs.dirs

# The most a reply may hold (coverage/show is a few kB).
MAX_REPLY = 64 << 20


class UnixctlError(Exception):
    pass


def read_pid(target, rundir=None):
    """The pid of daemon 'target' (e.g. "ovs-vswitchd") from its pidfile
    in 'rundir' (default: OVS's run directory): a positive pid if it runs,
    None if there is no pidfile, 0 if the pidfile is stale (the daemon
    died).  Unlike ovs.daemon.read_pidfile(), it neither locks the file
    nor logs: it runs at every scrape."""
    pidfile = '%s/%s.pid' % (rundir or ovs.dirs.RUNDIR, target)
    try:
        with open(pidfile) as f:
            pid = int(f.readline())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return 0
    if pid <= 0 or not os.path.exists('/proc/%d' % pid):
        return 0
    return pid


def target_socket(target, rundir=None):
    """The control socket of daemon 'target', from its pidfile, or
    'target' itself if it is a path.  Raises UnixctlError if the daemon
    does not run."""
    if target.startswith('/'):
        return target
    rundir = rundir or ovs.dirs.RUNDIR
    pid = read_pid(target, rundir)
    if not pid:
        raise UnixctlError('%s is not running (no pidfile in %s, or a '
                           'stale one)' % (target, rundir))
    return '%s/%s.%d.ctl' % (rundir, target, pid)


def call(path, command, args=(), timeout=5.0):
    """Runs unixctl 'command' with 'args' on the daemon whose control
    socket is 'path'; returns its reply text.  Raises UnixctlError if the
    daemon cannot be reached, answers with an error, or does not answer
    within 'timeout' seconds."""
    deadline = time.monotonic() + timeout
    request = json.dumps({'method': command, 'params': list(args),
                          'id': 0}).encode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(request)
            buf = b''
            decoder = json.JSONDecoder()
            while True:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise UnixctlError('%s: connection closed' % path)
                buf += chunk
                if len(buf) > MAX_REPLY:
                    raise UnixctlError('%s: reply too long' % path)
                try:
                    reply, _ = decoder.raw_decode(buf.decode('utf-8'))
                    break
                except (ValueError, UnicodeDecodeError):
                    continue        # Not all of it yet.
        except socket.timeout:
            raise UnixctlError('%s: no answer to "%s" within %g s'
                               % (path, command, timeout))
        except OSError as e:
            raise UnixctlError('%s: %s' % (path, os.strerror(e.errno)
                                           if e.errno else e))
    finally:
        sock.close()
    if not isinstance(reply, dict):
        raise UnixctlError('%s: not a JSON-RPC reply' % path)
    if reply.get('error') is not None:
        raise UnixctlError('%s: %s: %s' % (path, command,
                                           str(reply['error']).strip()))
    result = reply.get('result')
    return '' if result is None else str(result)
