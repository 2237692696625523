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

"""ovs-vtap-fleetctl's command line: its options, its commands (each a
call to vtap_fleet.edit or vtap_fleet.show), and one run: connect, change
or read, wait for the hosts."""

import argparse
import os
import sys
import textwrap

import ovs.dirs
import ovs.vlog

from vtap_fleet import connection
from vtap_fleet import edit
from vtap_fleet import schema
from vtap_fleet import show
from vtap_fleet.rules import FleetError

PROG = "ovs-vtap-fleetctl"
DEFAULT_DB = "unix:%s/vtap-fleet.sock" % ovs.dirs.RUNDIR

vlog = ovs.vlog.Vlog(PROG)


class Context(object):
    """What a command works on: the IDL, the transaction (None for a
    command that only reads) and the options; it appends its output."""

    def __init__(self, idl, txn, options):
        self.idl = idl
        self.txn = txn
        self.may_exist = options.may_exist
        self.if_exists = options.if_exists
        self.output = []


def cmd_init(ctx, args):
    edit.init(ctx.idl, ctx.txn)


def cmd_collector_add(ctx, args):
    edit.collector_add(ctx.idl, ctx.txn, args[0], args[1], args[2],
                       args[3:], ctx.may_exist)


def cmd_collector_del(ctx, args):
    edit.collector_del(ctx.idl, ctx.txn, args[0], ctx.if_exists)


def cmd_collector_list(ctx, args):
    ctx.output += show.collectors(ctx.idl)


def cmd_tap_add(ctx, args):
    edit.tap_add(ctx.idl, ctx.txn, args[0], args[1], args[2], args[3:],
                 ctx.may_exist)


def cmd_tap_del(ctx, args):
    edit.tap_del(ctx.idl, ctx.txn, args[0], ctx.if_exists)


def cmd_tap_list(ctx, args):
    ctx.output += show.taps(ctx.idl)


def cmd_show(ctx, args):
    ctx.output += show.show(ctx.idl)


def cmd_sync(ctx, args):
    """Does nothing but, with --wait=hv, waits for every host."""
    pass


def cmd_set_connection(ctx, args):
    targets = [a for a in args if "=" not in a]
    settings = [a for a in args if "=" in a]
    edit.set_connection(ctx.idl, ctx.txn, targets, settings)


def cmd_get_connection(ctx, args):
    ctx.output += show.connections(ctx.idl)


def cmd_del_connection(ctx, args):
    edit.del_connection(ctx.idl, ctx.txn)


def cmd_set_ssl(ctx, args):
    edit.set_ssl(ctx.idl, ctx.txn, *args)


def cmd_get_ssl(ctx, args):
    ctx.output += show.ssl(ctx.idl)


def cmd_del_ssl(ctx, args):
    edit.del_ssl(ctx.idl, ctx.txn)


COMMANDS = {
    # name: (function, min args, max args, read-write, usage)
    "init": (cmd_init, 0, 0, True, ""),
    "collector-add": (cmd_collector_add, 3, 99, True,
                      "COLLECTOR TYPE PORT|REMOTE_IP [OPTION=VALUE]..."),
    "collector-del": (cmd_collector_del, 1, 1, True, "COLLECTOR"),
    "collector-list": (cmd_collector_list, 0, 0, False, ""),
    "tap-add": (cmd_tap_add, 3, 99, True,
                "TAP TARGET COLLECTOR [COLUMN[:KEY]=VALUE]..."),
    "tap-del": (cmd_tap_del, 1, 1, True, "TAP"),
    "tap-list": (cmd_tap_list, 0, 0, False, ""),
    "show": (cmd_show, 0, 0, False, ""),
    "sync": (cmd_sync, 0, 0, True, ""),
    "set-connection": (cmd_set_connection, 1, 99, True,
                       "TARGET... [inactivity_probe=MSEC] "
                       "[max_backoff=MSEC]"),
    "get-connection": (cmd_get_connection, 0, 0, False, ""),
    "del-connection": (cmd_del_connection, 0, 0, True, ""),
    "set-ssl": (cmd_set_ssl, 3, 5, True,
                "PRIVATE-KEY CERTIFICATE CA-CERT [PROTOCOLS [CIPHERS]]"),
    "get-ssl": (cmd_get_ssl, 0, 0, False, ""),
    "del-ssl": (cmd_del_ssl, 0, 0, True, ""),
}


def usage():
    print("""\
%(prog)s: OVS-vTAP fleet database utility
usage: %(prog)s [OPTIONS] COMMAND [ARG...]

General commands:
  init                        create the fleet's global row
  show                        fleet taps, per-host status and fleet-wide
                              counters, hosts
  sync                        with --wait=hv, wait until every host caught up

Collector commands:
  collector-add COLLECTOR local PORT
  collector-add COLLECTOR gre|vxlan|erspan REMOTE_IP [OPTION=VALUE]...
                              add a collector (OPTION: key, erspan_ver,
                              erspan_idx, erspan_dir, erspan_hwid)
  collector-del COLLECTOR     delete a collector no fleet tap uses
  collector-list              list the collectors

Fleet tap commands:
  tap-add TAP TARGET COLLECTOR [COLUMN[:KEY]=VALUE]...
%(tap_add)s
  tap-del TAP                 delete a fleet tap
  tap-list                    list the fleet taps

Server commands (ovsdb-server --remote=db:OVS_VTAP_Fleet,Fleet,connections,
--private-key=db:OVS_VTAP_Fleet,SSL,private_key, and so on):
  set-connection TARGET... [inactivity_probe=MSEC] [max_backoff=MSEC]
                              the servers listen on TARGET (pssl:6644...)
  get-connection              print the servers' remotes
  del-connection              delete them
  set-ssl PRIVATE-KEY CERTIFICATE CA-CERT [PROTOCOLS [CIPHERS]]
                              the servers' SSL files
  get-ssl                     print them
  del-ssl                     delete them

Options:
  --db=DATABASE               connect to DATABASE (default: %(db)s);
                              a comma-separated list for a cluster
  --may-exist                 add: do nothing if the row exists
  --if-exists                 del: do nothing if the row does not exist
  --wait=none|hv              hv: wait until every host applied the change
  -t, --timeout=SECS          give up after SECS seconds (default: 30)
  -p, --private-key=FILE      for ssl: remotes: this client's private key,
  -c, --certificate=FILE      its certificate,
  -C, --ca-cert=FILE          and the CA certificate the server's must have
  -h, --help                  display this help message
  -V, --version               display version information""" % {
        "prog": PROG, "db": DEFAULT_DB,
        "tap_add": textwrap.fill(
            "add a fleet tap; TARGET is mac=MAC, ip=IP[/PREFIX] or "
            "iface-id=ID; COLUMN is one of %s"
            % ", ".join(schema.TAP_SETTINGS), width=76,
            initial_indent=" " * 30, subsequent_indent=" " * 30,
            break_on_hyphens=False)})
    sys.exit(0)


def run(options):
    name = options.command[0]
    args = options.command[1:]
    if name not in COMMANDS:
        raise FleetError("unknown command '%s'; use --help for help" % name)
    func, lo, hi, rw, syntax = COMMANDS[name]
    if len(args) < lo or len(args) > hi:
        raise FleetError("'%s' command requires arguments %s"
                         % (name, syntax or "(none)"))

    idl = connection.connect(options.db, options.timeout)
    if rw:
        def change(idl, txn):
            try:
                func(Context(idl, txn, options), args)
            except FleetError as e:
                raise FleetError("%s: %s" % (name, e), e.field)
        _, next_cfg = edit.commit(idl, change,
                                  "%s: %s" % (PROG,
                                              " ".join(options.command)),
                                  options.wait == "hv", options.timeout)
        if next_cfg is not None:
            edit.wait_hosts(idl, next_cfg, options.timeout)
        output = []
    else:
        ctx = Context(idl, None, options)
        func(ctx, args)
        output = ctx.output
    idl.close()
    for line in output:
        print(line)


def main(version):
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db", default=os.environ.get("OVS_VTAP_FLEET_DB",
                                                       DEFAULT_DB))
    parser.add_argument("--may-exist", action="store_true")
    parser.add_argument("--if-exists", action="store_true")
    parser.add_argument("--wait", choices=["none", "hv"], default="none")
    parser.add_argument("-t", "--timeout", type=int, default=30)
    parser.add_argument("-h", "--help", action="store_true")
    connection.add_ssl_options(parser)
    parser.add_argument("-V", "--version", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    ovs.vlog.add_args(parser)
    options = parser.parse_args()
    if options.help:
        usage()
    if options.version:
        print("%s (Open vSwitch) %s" % (PROG, version))
        sys.exit(0)
    # Like ovn-nbctl: errors are reported once, by the command itself.
    # (Python's vlog logs a message to every destination once one wants
    # it, so the console stays quiet only if no destination wants it.)
    if options.verbose is None and not options.log_file:
        options.verbose = ["any:any:emer"]
    ovs.vlog.handle_args(options)
    connection.set_ssl_files(options)
    if any(r.startswith("ssl:") for r in options.db.split(",")):
        missing = [opt for opt, f in (("--private-key", options.private_key),
                                      ("--certificate", options.certificate),
                                      ("--ca-cert", options.ca_cert))
                   if not f]
        if missing:
            sys.stderr.write("%s: %s: an ssl: remote needs %s\n"
                             % (PROG, options.db, ", ".join(missing)))
            sys.exit(1)
    if not options.command:
        sys.stderr.write("%s: missing command name (use --help for help)\n"
                         % PROG)
        sys.exit(1)
    try:
        run(options)
    except FleetError as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        sys.exit(1)
