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

"""Checked changes to the fleet database: the API that ovs-vtap-fleetctl's
commands use, for any program that holds an IDL of the fleet database (a
web console too).

Each change function takes the IDL and an open transaction, checks its
whole input (the rules of vtap_fleet.rules, then what the database holds:
names taken, collectors that exist or are in use), and only then writes
into the transaction.  On bad input it raises rules.FleetError, whose
'field' names the bad part, and has written nothing.  commit() runs one or
more of them in a transaction, again if another client's transaction came
first, and aborts it on error:

    def change(idl, txn):
        edit.tap_add(idl, txn, "web", "ip=198.51.100.0/24", "ids",
                     {"match": "tcp,tp_dst=80", "snaplen": 128})
    try:
        _, next_cfg = edit.commit(idl, change, comment="console: admin",
                                  wait=True)
    except rules.FleetError as e:
        ...     # e.field, str(e)
    # Then edit.hosts_behind(idl, next_cfg) until it is empty, or
    # edit.wait_hosts(idl, next_cfg, timeout) (ovs-vtap-fleetctl --wait=hv).

Settings are given as the command line has them (COLUMN[:KEY]=VALUE text),
as (column, key, value) triples, or as a mapping such as {"snaplen": 128,
"external_ids": {"owner": "ci"}}."""

import ovs.db.idl

from vtap_fleet import connection
from vtap_fleet import rules
from vtap_fleet import schema
from vtap_fleet.rules import FleetError


def find(idl, table, name):
    """The row of 'table' named 'name', or None."""
    for row in idl.tables[table].rows.values():
        if row.name == name:
            return row
    return None


def existing(idl, table, name, what, if_exists=False):
    """The row of 'table' named 'name'; if there is none, None with
    'if_exists', else an error ('what' names the table's rows)."""
    row = find(idl, table, name)
    if not row and not if_exists:
        raise FleetError("no %s named %s" % (what, name), "name")
    return row


def may_add(idl, table, name, kind, what, may_exist):
    """Whether a row named 'name' is to be added to 'table': not if there
    is one and 'may_exist', an error if there is one otherwise ('kind' and
    'what' name the rows in errors)."""
    rules.check_name(kind, name)
    if find(idl, table, name):
        if may_exist:
            return False
        raise FleetError("a %s named %s already exists" % (what, name),
                         "name")
    return True


def column_type(idl, table, column):
    return idl.tables[table].columns[column].type


def fleet_row(idl, txn):
    """The Fleet row, inserted into 'txn' if there is none."""
    rows = list(idl.tables["Fleet"].rows.values())
    if rows:
        return rows[0]
    row = txn.insert(idl.tables["Fleet"])
    row.nb_cfg = 0
    return row


def init(idl, txn):
    fleet_row(idl, txn)


# -- Collectors. ------------------------------------------------------------

def collector_add(idl, txn, name, ctype, where, options=(),
                  may_exist=False):
    """Adds collector 'name' of type 'ctype' (local, gre, erspan, vxlan)
    with 'where' its port (local) or remote IP (tunnels) and 'options' its
    tunnel options (key, erspan_ver...).  With 'may_exist', a collector of
    that name is left as it is.  Returns the new row, or None."""
    if not may_add(idl, "Collector", name, "collector", "collector",
                   may_exist):
        return None
    columns = rules.collector_columns(ctype, where, options)
    row = txn.insert(idl.tables["Collector"])
    row.name = name
    _set_collector(row, columns)
    return row


def collector_set(idl, txn, name, ctype, where, options=()):
    """Changes collector 'name' to what collector_add() would make of the
    other arguments; the fleet taps that use it follow."""
    row = existing(idl, "Collector", name, "collector")
    _set_collector(row, rules.collector_columns(ctype, where, options))
    return row


def _set_collector(row, columns):
    row.type = columns["type"]
    row.port = [columns["port"]] if "port" in columns else []
    row.remote_ip = [columns["remote_ip"]] if "remote_ip" in columns else []
    row.options = columns["options"]


def collector_del(idl, txn, name, if_exists=False):
    """Deletes collector 'name', which no fleet tap may use."""
    row = existing(idl, "Collector", name, "collector", if_exists)
    if not row:
        return
    users = sorted(t.name for t in idl.tables["Fleet_Tap"].rows.values()
                   if t.collector.uuid == row.uuid)
    if users:
        raise FleetError("collector %s is used by fleet tap %s"
                         % (name, ", ".join(users)), "name")
    row.delete()


# -- Fleet taps. ------------------------------------------------------------

def tap_add(idl, txn, name, target, collector, settings=(),
            may_exist=False):
    """Adds fleet tap 'name' on 'target' (mac=MAC, ip=IP[/PREFIX] or
    iface-id=ID) to collector 'collector' (a name), with 'settings'
    (schema.TAP_SETTINGS: direction, match, output_vlan...).  With
    'may_exist', a tap of that name is left as it is.  Returns the new row,
    or None."""
    if not may_add(idl, "Fleet_Tap", name, "tap", "fleet tap", may_exist):
        return None
    target_type, target = rules.parse_target(target)
    collector_row = _collector(idl, collector)
    values = _tap_settings(idl, settings, {"external_ids": {}})

    row = txn.insert(idl.tables["Fleet_Tap"])
    row.name = name
    row.target_type = target_type
    row.target = target
    row.collector = collector_row
    row.direction = "both"
    row.match = ""
    row.external_ids = {}
    for column, value in values.items():
        setattr(row, column, value)
    return row


def tap_set(idl, txn, name, settings=(), target=None, collector=None):
    """Changes fleet tap 'name': its 'target' and 'collector' if given,
    and 'settings' (as tap_add's; a map column's keys are added to those
    it has; a value None clears an optional column)."""
    row = existing(idl, "Fleet_Tap", name, "fleet tap")
    if target is not None:
        target = rules.parse_target(target)
    collector_row = _collector(idl, collector) if collector is not None \
        else None
    values = _tap_settings(idl, settings, {"external_ids":
                                           dict(row.external_ids)})
    if target is not None:
        row.target_type, row.target = target
    if collector_row is not None:
        row.collector = collector_row
    for column, value in values.items():
        setattr(row, column, value)
    return row


def _collector(idl, name):
    row = find(idl, "Collector", name)
    if not row:
        raise FleetError("no collector named %s (add it with "
                         "collector-add)" % name, "collector")
    return row


def _tap_settings(idl, settings, maps):
    """The columns that 'settings' set, in the order given, with their
    values; 'maps' has the map columns' values so far."""
    settings = rules.settings_list(settings, schema.TAP_SETTINGS)
    for column, key, value in settings:
        if column == "match":
            rules.check_match(value)
    values = {}
    for column, key, value in settings:
        values[column] = rules.column_value(
            column_type(idl, "Fleet_Tap", column), column, key, value,
            values.get(column, maps.get(column)))
    return values


def tap_del(idl, txn, name, if_exists=False):
    row = existing(idl, "Fleet_Tap", name, "fleet tap", if_exists)
    if row:
        row.delete()


# -- The servers' own settings (ovsdb-server --remote=db:..., as OVN's
#    databases are configured with ovn-nbctl set-connection and set-ssl).

def set_connection(idl, txn, targets, settings=()):
    """The servers listen on 'targets' (ptcp:PORT[:IP], pssl:...), with
    'settings' (inactivity_probe, max_backoff) for each."""
    rules.check_remotes(targets)
    values = {}
    for column, key, value in rules.settings_list(settings,
                                                  schema.CONNECTION_SETTINGS):
        if key is not None:
            raise FleetError("%s: takes no key" % column, column)
        values[column] = value
    for column in sorted(values):
        values[column] = rules.column_value(
            column_type(idl, "Connection", column), column, None,
            values[column])
    fleet = fleet_row(idl, txn)
    rows = []
    for target in targets:
        row = txn.insert(idl.tables["Connection"])
        row.target = target
        for column, value in sorted(values.items()):
            setattr(row, column, value)
        rows.append(row)
    fleet.connections = rows


def del_connection(idl, txn):
    fleet_row(idl, txn).connections = []


def set_ssl(idl, txn, private_key, certificate, ca_cert, protocols="",
            ciphers=""):
    """The servers' SSL files (absolute names) and settings."""
    rules.check_ssl_files([private_key, certificate, ca_cert])
    fleet = fleet_row(idl, txn)
    row = txn.insert(idl.tables["SSL"])
    row.private_key, row.certificate, row.ca_cert = \
        private_key, certificate, ca_cert
    row.bootstrap_ca_cert = False
    row.ssl_protocols = protocols
    row.ssl_ciphers = ciphers
    fleet.ssl = [row]


def del_ssl(idl, txn):
    fleet_row(idl, txn).ssl = []


# -- Transactions and the hosts. --------------------------------------------

def bump_nb_cfg(idl, txn):
    """As ovn-nbctl --wait=hv: a new nb_cfg for the hosts to reach (the
    verify makes concurrent clients each get a value of their own).
    Returns it."""
    fleet = fleet_row(idl, txn)
    if fleet.uuid in idl.tables["Fleet"].rows:
        fleet.verify("nb_cfg")
    next_cfg = fleet.nb_cfg + 1
    fleet.nb_cfg = next_cfg
    return next_cfg


def commit(idl, change, comment=None, wait=False, timeout=30):
    """Calls change(idl, txn), which checks and writes, and commits the
    transaction; if another client changed the database first, does it
    again on the new contents.  With 'wait', also raises nb_cfg.  Returns
    (what change() returned, the nb_cfg that the hosts will report once
    they applied the change, or None).  Raises FleetError, and then
    nothing was written."""
    while True:
        txn = ovs.db.idl.Transaction(idl)
        try:
            result = change(idl, txn)
        except FleetError:
            txn.abort()
            raise
        if comment:
            txn.add_comment(comment)
        next_cfg = bump_nb_cfg(idl, txn) if wait else None
        status = txn.commit_block()
        if status in (txn.SUCCESS, txn.UNCHANGED):
            return result, next_cfg
        if status != txn.TRY_AGAIN:
            raise FleetError("transaction error: %s" % txn.get_error())
        # The database changed under us: check everything again.
        connection.idl_block(idl, lambda: True, timeout, "retrying")


def hosts_behind(idl, next_cfg):
    """The hosts (Chassis names) that have not applied nb_cfg 'next_cfg'
    yet."""
    return sorted(ch.name for ch in idl.tables["Chassis"].rows.values()
                  if ch.nb_cfg < next_cfg)


def wait_hosts(idl, next_cfg, timeout):
    """Waits until every host applied nb_cfg 'next_cfg'."""
    connection.idl_block(idl, lambda: not hosts_behind(idl, next_cfg),
                         timeout, "waiting for every host to apply nb_cfg %d"
                         % next_cfg)
