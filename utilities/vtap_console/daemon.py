# Copyright (c) 2026 The OVS-vTAP authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""ovs-vtap-console, the daemon: its command line, the refusal to listen
beyond loopback without TLS and authentication, Open vSwitch's daemon
conventions (--pidfile, --detach, --log-file, unixctl "exit"), and the two
threads: the database thread (vtap_console.fleetdb, with the unixctl
server) and the web server's event loop (vtap_console.web)."""

import argparse
import asyncio
import os
import re
import sys

import ovs.daemon
import ovs.dirs
import ovs.unixctl
import ovs.unixctl.server
import ovs.util
import ovs.vlog

from vtap_fleet import connection
from vtap_fleet import sslstream

from vtap_console import audit
from vtap_console import auth
from vtap_console import fleetdb
from vtap_console import web

PROG = "ovs-vtap-console"
DEFAULT_PORT = 6680
vlog = ovs.vlog.Vlog(PROG)


def parse_listen(text):
    """[ADDRESS:]PORT, ADDRESS an IPv4 address, [IPv6] or a name."""
    m = re.match(r"^(?:(\[[0-9a-fA-F:.]+\]|[^:\[\]]+):)?([0-9]+)$", text)
    if not m or int(m.group(2)) > 65535:
        raise argparse.ArgumentTypeError(
            "%s: expected [ADDRESS:]PORT" % text)
    host = (m.group(1) or "127.0.0.1").strip("[]")
    return host, int(m.group(2))


def parse_args(version, argv=None):
    parser = argparse.ArgumentParser(
        prog=PROG, description="OVS-vTAP fleet console: a web view of the "
        "fleet database (hosts, VMs, taps, collectors, live copies) in "
        "which operators also create, change and delete taps.")
    parser.add_argument("--db", default=os.environ.get(
        "OVS_VTAP_FLEET_DB", "unix:%s/vtap-fleet.sock" % ovs.dirs.RUNDIR),
        help="fleet database remote(s), comma-separated (default: "
        "$OVS_VTAP_FLEET_DB, else %(default)s)")
    parser.add_argument("--listen", type=parse_listen, metavar="[ADDR:]PORT",
                        default=("127.0.0.1", DEFAULT_PORT),
                        help="where to serve the console (default: "
                        "127.0.0.1:%d; beyond loopback, TLS and --users "
                        "are required)" % DEFAULT_PORT)
    parser.add_argument("--server-name", action="append", default=[],
                        metavar="NAME[:PORT]",
                        help="a name that clients reach the console by "
                        "(Host header); others are refused")
    parser.add_argument("--users", metavar="FILE",
                        help="users: 'token NAME ROLE SHA256' and 'cert "
                        "COMMON-NAME ROLE' lines, ROLE read-only or admin")
    parser.add_argument("--new-token", metavar="NAME:ROLE",
                        help="add a user with a new token to --users FILE, "
                        "print the token, and exit")
    parser.add_argument("--web-private-key", metavar="FILE",
                        help="the console's TLS private key")
    parser.add_argument("--web-certificate", metavar="FILE",
                        help="the console's TLS certificate")
    parser.add_argument("--web-ca-cert", metavar="FILE",
                        help="CA certificate that signs clients' "
                        "certificates (then users may log in with one)")
    connection.add_ssl_options(parser)
    parser.add_argument("--audit-log", metavar="FILE",
                        default="%s/%s-audit.log" % (ovs.dirs.LOGDIR, PROG),
                        help="where changes are recorded, one JSON object "
                        "a line (default: %(default)s)")
    parser.add_argument("--chartjs", metavar="FILE",
                        default=web.DEFAULT_CHARTJS,
                        help="Chart.js, served to the page (default: "
                        "%(default)s, package libjs-chart.js)")
    parser.add_argument("--max-body", type=int, default=65536,
                        metavar="BYTES", help="largest request body "
                        "(default: %(default)s)")
    parser.add_argument("--max-connections", type=int, default=64,
                        metavar="N", help="most connections at once "
                        "(default: %(default)s)")
    parser.add_argument("--request-timeout", type=float, default=30,
                        metavar="SECS", help="time a client has to send "
                        "a request (default: %(default)s)")
    parser.add_argument("--unixctl", help="unixctl socket location")
    parser.add_argument("-V", "--version", action="store_true")
    ovs.daemon.add_args(parser)
    ovs.vlog.add_args(parser)
    args = parser.parse_args(argv)
    if args.version:
        print("%s (Open vSwitch) %s" % (PROG, version))
        sys.exit(0)
    for option in ("max_body", "max_connections", "request_timeout"):
        if getattr(args, option) <= 0:
            parser.error("--%s: must be positive" % option.replace("_", "-"))
    return parser, args


def security_errors(args, users):
    """Why the console may not serve as 'args' say, if it may not."""
    host, port = args.listen
    tls = bool(args.web_private_key or args.web_certificate)
    errors = []
    if tls and not (args.web_private_key and args.web_certificate):
        errors.append("TLS needs both --web-private-key and "
                      "--web-certificate")
    if args.web_ca_cert and not tls:
        errors.append("--web-ca-cert needs TLS (--web-private-key, "
                      "--web-certificate)")
    if args.users is not None and not users:
        errors.append("%s: no users" % args.users)
    if not web.is_loopback(host):
        if not tls:
            errors.append("listening on %s needs TLS (--web-private-key, "
                          "--web-certificate)" % host)
        if not users:
            errors.append("listening on %s needs authentication (--users)"
                          % host)
    return errors


def allowed_hosts(args, port):
    names = set()
    for name in args.server_name:
        names.add(name.lower() if ":" in name.strip("[]").rsplit("]", 1)[-1]
                  else "%s:%d" % (name.lower(), port))
        if port in (80, 443):
            names.add(name.lower())
    if web.is_loopback(args.listen[0]):
        return names | web.loopback_hosts(port)
    return names or None


def fatal(message):
    """Before the daemon runs: the error on stderr, exit status 1."""
    sys.stderr.write("%s: %s\n" % (PROG, message))
    sys.exit(1)


def new_token(parser, args):
    if not args.users:
        parser.error("--new-token needs --users FILE")
    name, _, role = args.new_token.rpartition(":")
    try:
        print(auth.add_token(args.users, name, role))
    except (auth.UsersError, OSError) as e:
        fatal(e)
    sys.exit(0)


class Console(object):
    """The daemon's state, for its unixctl commands."""

    def __init__(self, loop, url):
        self.loop = loop
        self.url = url
        self.exiting = loop.create_future()

    def exit(self):
        if not self.exiting.done():
            self.exiting.set_result(None)


def unixctl_exit(conn, unused_argv, console):
    console.loop.call_soon_threadsafe(console.exit)
    conn.reply(None)


def unixctl_url(conn, unused_argv, console):
    conn.reply(console.url)


def main(version):
    parser, args = parse_args(version)
    ovs.vlog.handle_args(args)
    if args.new_token:
        new_token(parser, args)
    try:
        users = auth.Users.load(args.users) if args.users else auth.Users()
    except (auth.UsersError, OSError) as e:
        fatal(e)
    errors = security_errors(args, users)
    if errors:
        fatal("; ".join(errors))
    ssl_ctx = None
    if args.web_private_key:
        try:
            ssl_ctx = web.ssl_context(args.web_private_key,
                                      args.web_certificate, args.web_ca_cert)
        except (OSError, ValueError) as e:
            fatal("TLS: %s" % e)
    sslstream.register(vlog)
    connection.set_ssl_files(args)
    ovs.daemon.handle_args(args)

    ovs.daemon.daemonize_start()
    error, unixctl = ovs.unixctl.server.UnixctlServer.create(args.unixctl)
    if error:
        ovs.util.ovs_fatal(error, "could not create unixctl server at %s"
                           % args.unixctl, vlog)
    try:
        audit_log = audit.Audit(args.audit_log)
    except OSError as e:
        ovs.util.ovs_fatal(0, "%s: %s" % (args.audit_log, e.strerror), vlog)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    hub = web.Hub()
    hub.attach(loop)
    host, port = args.listen
    config = web.Config(tls=ssl_ctx is not None,
                        max_body=args.max_body,
                        max_connections=args.max_connections,
                        request_timeout=args.request_timeout,
                        chartjs=args.chartjs,
                        open_access=not users)
    app = web.make_app(hub, config, users, audit_log)
    try:
        runner, server, port = loop.run_until_complete(
            web.start(app, host, port, ssl_ctx))
    except OSError as e:
        ovs.util.ovs_fatal(0, "cannot listen on %s:%d (%s)"
                           % (host, port, e.strerror), vlog)
    config.allowed_hosts = allowed_hosts(args, port)
    url = "%s://%s:%d/" % ("https" if ssl_ctx else "http",
                           "[%s]" % host if ":" in host else host, port)
    console = Console(loop, url)
    ovs.unixctl.command_register("exit", "", 0, 0, unixctl_exit, console)
    ovs.unixctl.command_register("console/url", "", 0, 0, unixctl_url,
                                 console)
    db = fleetdb.FleetDB(args.db, hub.publish_threadsafe, unixctl)
    hub.submit = db.submit
    db.start()
    ovs.daemon.daemonize_complete()
    vlog.info("serving the console at %s (%s)" % (
        url, "users of %s" % args.users if users
        else "no authentication: loopback only"))

    loop.run_until_complete(console.exiting)
    vlog.info("exiting")
    db.stop()
    db.join(10)
    loop.run_until_complete(web.stop(runner, server))
    unixctl.close()
    loop.close()


def run(version):
    """main(), with an unexpected exception logged before it ends the
    daemon."""
    try:
        main(version)
    except SystemExit:
        raise
    except Exception:
        vlog.exception("unexpected exception")
        raise
