# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""ovs-vtap-exporter's command line and main loop.

An Open vSwitch daemon (--pidfile, --detach, --log-file, -v, unixctl
"exit"): the main thread runs the IDL and the unixctl server in OVS's poll
loop; the HTTP server answers scrapes in threads of its own, which read the
IDL under a lock."""

import argparse
import getpass
import ipaddress
import sys
import threading

import ovs.daemon
import ovs.db.idl
import ovs.dirs
import ovs.poller
import ovs.unixctl
import ovs.unixctl.server
import ovs.util
import ovs.vlog

from prometheus_client.core import CollectorRegistry, CounterMetricFamily

from vtap_metrics import collector, httpd, ovsdb, webconfig

vlog = ovs.vlog.Vlog('ovs-vtap-exporter')

# Not taken by the Open vSwitch exporters in the field (ovs_exporter 9475,
# openvswitch_exporter 9310) nor by Prometheus' own (9090-9100).
DEFAULT_PORT = 9720
DEFAULT_LISTEN = '127.0.0.1:%d' % DEFAULT_PORT

_exiting = False


def parse_listen(text):
    """'ADDRESS:PORT', '[IPV6]:PORT' or ':PORT' -> (address, port)."""
    host, sep, port = text.rpartition(':')
    if not sep:
        raise ValueError('%s: expected ADDRESS:PORT' % text)
    host = host.strip('[]') or '127.0.0.1'
    try:
        ipaddress.ip_address(host)
        port = int(port)
    except ValueError:
        raise ValueError('%s: expected an IP address and a port number'
                         % text)
    if not 0 <= port <= 65535:
        raise ValueError('%s: port out of range' % text)
    return host, port


def is_loopback(address):
    return ipaddress.ip_address(address).is_loopback


def check_exposure(address, conf):
    """None if listening on 'address' with 'conf' is allowed, else why not:
    beyond loopback, clients must use TLS and prove who they are."""
    if is_loopback(address) or conf.secure:
        return None
    return ('listening on %s (beyond loopback) needs TLS and client '
            'authentication: give --web-config a tls_server_config and '
            'basic_auth_users, or client_auth_type '
            'RequireAndVerifyClientCert' % address)


def http_family(server):
    family = CounterMetricFamily(
        'ovs_vtap_exporter_http_responses_total', 'HTTP responses of the '
        'exporter by status code, and connections it gave up on (reset, '
        'closed, tls_error, too_many_connections).', labels=('code',))
    with server._counts_lock:
        counts = dict(server.counts)
    for code in sorted(counts):
        family.add_metric([code], counts[code])
    return [family]


class Registry(CollectorRegistry):
    """The collector's families, then the HTTP server's counts."""

    def __init__(self, coll, server_ref):
        super().__init__(auto_describe=False)
        self.coll = coll
        self.server_ref = server_ref

    def collect(self):
        for family in self.coll.collect():
            yield family
        if self.server_ref:
            for family in http_family(self.server_ref[0]):
                yield family


def build_parser():
    p = argparse.ArgumentParser(
        prog='ovs-vtap-exporter',
        description='Prometheus exporter of this host\'s OVS-vTAP taps.')
    p.add_argument('database', nargs='?',
                   default='unix:%s/db.sock' % ovs.dirs.RUNDIR,
                   help='the Open vSwitch database (default: %(default)s)')
    p.add_argument('--ovs-schema', metavar='FILE',
                   default='%s/vswitch.ovsschema' % ovs.dirs.PKGDATADIR,
                   help='its schema (default: %(default)s)')
    p.add_argument('--listen', metavar='ADDRESS:PORT', default=DEFAULT_LISTEN,
                   help='where to serve the metrics (default: %(default)s; '
                   'beyond loopback only with TLS and authentication)')
    p.add_argument('--web-config', metavar='FILE',
                   help='TLS and basic authentication settings, in the '
                   'format of Prometheus exporters\' --web.config.file')
    p.add_argument('--metrics-path', default='/metrics',
                   help='HTTP path of the metrics (default: %(default)s)')
    p.add_argument('--timeout', type=float, default=httpd.TIMEOUT,
                   metavar='SECONDS',
                   help='a client must send its request within this time, '
                   'and read the reply within as much again (default: '
                   '%(default)s)')
    p.add_argument('--max-connections', type=int,
                   default=httpd.MAX_CONNECTIONS, metavar='N',
                   help='connections served at once, more are closed '
                   '(default: %(default)s)')
    p.add_argument('--unixctl-timeout', type=float, default=5.0,
                   metavar='SECONDS',
                   help='how long to wait for ovs-vswitchd or the agent at '
                   'a scrape (default: %(default)s)')
    p.add_argument('--rundir', default=ovs.dirs.RUNDIR,
                   help='where ovs-vswitchd and ovs-vtap-agent keep their '
                   'pidfiles and control sockets (default: %(default)s)')
    p.add_argument('--unixctl', metavar='PATH',
                   help='this daemon\'s own control socket')
    p.add_argument('--hash-password', action='store_true',
                   help='read a password, print its bcrypt hash for the '
                   'web configuration\'s basic_auth_users, and exit')
    p.add_argument('-V', '--version', action='store_true')
    ovs.daemon.add_args(p)
    ovs.vlog.add_args(p)
    return p


def unixctl_exit(conn, unused_argv, unused_aux):
    global _exiting
    _exiting = True
    conn.reply(None)


def main(argv, version):
    global _exiting
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print('ovs-vtap-exporter (Open vSwitch) %s' % version)
        return 0
    if args.hash_password:
        password = (getpass.getpass('password: ') if sys.stdin.isatty()
                    else sys.stdin.readline().rstrip('\n'))
        print(webconfig.hash_password(password))
        return 0
    try:
        address, port = parse_listen(args.listen)
    except ValueError as e:
        parser.error('--listen: %s' % e)
    if args.max_connections < 1 or args.timeout <= 0:
        parser.error('--max-connections and --timeout must be positive')
    ovs.vlog.handle_args(args)
    try:
        conf = webconfig.WebConfig(args.web_config)
    except webconfig.ConfigError as e:
        ovs.util.ovs_fatal(0, 'web configuration: %s' % e, vlog)
    why_not = check_exposure(address, conf)
    if why_not:
        ovs.util.ovs_fatal(0, why_not, vlog)
    ovs.daemon.handle_args(args)

    ovs.daemon.daemonize_start()
    error, unixctl_server = ovs.unixctl.server.UnixctlServer.create(
        args.unixctl)
    if error:
        ovs.util.ovs_fatal(error, 'could not create unixctl server at %s'
                           % args.unixctl, vlog)
    ovs.unixctl.command_register('exit', '', 0, 0, unixctl_exit, None)

    idl = ovs.db.idl.Idl(args.database, ovsdb.schema_helper(args.ovs_schema),
                         leader_only=False)
    lock = threading.Lock()
    view = ovsdb.TapView(idl)
    coll = collector.Collector(
        collector.Sources(view, lock, args.rundir, args.unixctl_timeout),
        version)
    server_ref = []
    registry = Registry(coll, server_ref)
    try:
        server = httpd.Server(address, port, conf,
                              httpd.renderer(registry),
                              metrics_path=args.metrics_path,
                              timeout=args.timeout,
                              max_connections=args.max_connections)
    except OSError as e:
        ovs.util.ovs_fatal(e.errno, 'cannot listen on %s' % args.listen,
                           vlog)
    server_ref.append(server)
    thread = threading.Thread(target=server.serve_forever,
                              name='httpd', daemon=True)
    thread.start()
    ovs.daemon.daemonize_complete()
    vlog.info('serving %s on %s%s%s' % (
        args.metrics_path, args.listen, ' (TLS)' if conf.tls else '',
        ', basic authentication' if conf.users else ''))

    while not _exiting:
        with lock:
            idl.run()
        unixctl_server.run()
        poller = ovs.poller.Poller()
        with lock:
            idl.wait(poller)
        unixctl_server.wait(poller)
        if _exiting:
            poller.immediate_wake()
        poller.block()
    server.shutdown()
    server.server_close()
    unixctl_server.close()
    idl.close()
    return 0


def run(argv, version):
    """main(), with an unexpected exception logged before it ends the
    daemon."""
    try:
        return main(argv, version)
    except SystemExit:
        raise
    except Exception:
        vlog.exception("unexpected exception")
        raise
