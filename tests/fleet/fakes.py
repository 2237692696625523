# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""Plain rows and an in-memory stand-in for OVS's Python IDL, for the
fleet's unit tests: tables with the real schemas' column types, rows whose
attributes are their columns, and a transaction that, like the IDL's, makes
inserted and deleted rows visible in the tables only once committed and
records every write (so that a test can tell that nothing was written)."""

import os
import uuid

import ovs.db.schema
import ovs.json

from conftest import OVS_PYTHON, TOP

FLEET_SCHEMA = os.path.join(TOP, "utilities", "vtap_fleet",
                            "vtap-fleet.ovsschema")
VSWITCH_SCHEMA = os.path.join(os.path.dirname(OVS_PYTHON), "vswitchd",
                              "vswitch.ovsschema")


def load_schema(path):
    return ovs.db.schema.DbSchema.from_json(ovs.json.from_file(path))


class Row(object):
    """A row: its columns are attributes.  Writes through a transaction
    are recorded in it."""

    def __init__(self, table=None, **columns):
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_txn", None)
        object.__setattr__(self, "uuid", columns.pop("uuid", uuid.uuid4()))
        for column, value in columns.items():
            object.__setattr__(self, column, value)

    def __setattr__(self, column, value):
        self._log("set", column, value)
        object.__setattr__(self, column, value)

    def __repr__(self):
        return "<%s %s>" % (getattr(self, "name", "row"), str(self.uuid)[:8])

    def addvalue(self, column, value):
        self._log("add", column, value)
        object.__setattr__(self, column, list(getattr(self, column))
                           + [value])

    def delvalue(self, column, value):
        self._log("del", column, value)
        object.__setattr__(self, column, [x for x in getattr(self, column)
                                          if x is not value])

    def increment(self, column):
        self._log("increment", column, None)
        object.__setattr__(self, column, getattr(self, column) + 1)

    def verify(self, column):
        pass

    def delete(self):
        self._log("delete", None, None)
        if self._txn is not None:
            self._txn.deleted.append(self)

    def _log(self, what, column, value):
        if self._txn is not None:
            self._txn.log.append((what, self, column, value))
            if column is not None:
                self._txn.undo.setdefault((self, column),
                                          getattr(self, column, None))


class Table(object):
    def __init__(self, name, columns=None):
        self.name = name
        self.rows = {}
        self.columns = columns or {}

    def add(self, **columns):
        row = Row(self, **columns)
        self.rows[row.uuid] = row
        return row


class Idl(object):
    """The tables of a schema, empty."""

    def __init__(self, path=FLEET_SCHEMA):
        schema = load_schema(path)
        self.tables = {name: Table(name, t.columns)
                       for name, t in schema.tables.items()}
        self.txns = []

    def attach(self, txn):
        """Rows of 'self' record their writes in 'txn' from now on."""
        for table in self.tables.values():
            for row in table.rows.values():
                object.__setattr__(row, "_txn", txn)


class Txn(object):
    """A transaction of an Idl (or of plain tables)."""

    SUCCESS, UNCHANGED, TRY_AGAIN, ERROR, ABORTED = (
        "success", "unchanged", "try again", "error", "aborted")

    def __init__(self, idl):
        self.idl = idl
        self.log = []
        self.undo = {}
        self.inserted = []
        self.deleted = []
        self.comments = []
        self.status = None
        if isinstance(idl, Idl):
            idl.attach(self)
            idl.txns.append(self)

    def insert(self, table):
        row = Row(table)
        object.__setattr__(row, "_txn", self)
        self.inserted.append(row)
        self.log.append(("insert", row, table.name, None))
        return row

    def add_comment(self, comment):
        self.comments.append(comment)

    def abort(self):
        self.status = self.ABORTED
        self.revert()

    def revert(self):
        """Undoes the changes to existing rows (as the IDL does when a
        transaction is aborted or fails)."""
        for (row, column), value in self.undo.items():
            object.__setattr__(row, column, value)

    def commit_block(self):
        """Makes the inserted rows appear in their tables and the deleted
        ones go."""
        for row in self.inserted:
            row._table.rows[row.uuid] = row
        for row in self.deleted:
            row._table.rows.pop(row.uuid, None)
        self.status = self.SUCCESS if self.log else self.UNCHANGED
        return self.status

    def get_error(self):
        return "fake error"


class Host(object):
    """A host's Open_vSwitch database (the tables the agent reads), built
    up by a test."""

    def __init__(self):
        self.tables = {name: Table(name) for name in
                       ("Open_vSwitch", "Bridge", "Port", "Interface",
                        "Tap")}

    def bridge(self, name):
        for br in self.tables["Bridge"].rows.values():
            if br.name == name:
                return br
        return self.tables["Bridge"].add(name=name, ports=[], taps=[])

    def port(self, bridge, name, type="", options=None, port_ids=None,
             **ids):
        """Port 'name' on 'bridge' with one interface whose external_ids
        are 'ids' (iface_id= for "iface-id", and so on)."""
        ids = {k.replace("_", "-"): v for k, v in ids.items()}
        iface = self.tables["Interface"].add(
            name=name, type=type, options=options or {}, external_ids=ids)
        port = self.tables["Port"].add(name=name, interfaces=[iface],
                                       external_ids=port_ids or {})
        self.bridge(bridge).ports.append(port)
        return port

    def tap(self, bridge, name, **columns):
        """A Tap row that someone else made."""
        tap = self.tables["Tap"].add(name=name, **columns)
        self.bridge(bridge).taps.append(tap)
        return tap

    def bridges(self):
        return list(self.tables["Bridge"].rows.values())

    def commit(self, txn):
        """The rows 'txn' inserted are now in the tables (the rows that
        the host's bridges lost stay, unreferenced, as garbage)."""
        for row in txn.inserted:
            self.tables[row._table.name].rows[row.uuid] = row
            if row._table.name == "Tap":
                # What ovs-vswitchd writes.
                object.__setattr__(row, "status", {})
                object.__setattr__(row, "statistics", {})


class Fleet(Idl):
    """A fleet database built up by a test."""

    def collector(self, name, type="gre", remote_ip="203.0.113.1",
                  port=None, **options):
        return self.tables["Collector"].add(
            name=name, type=type, port=[port] if port else [],
            remote_ip=[remote_ip] if type != "local" else [],
            options={k: str(v) for k, v in options.items()})

    def tap(self, name, target, collector, direction="both", match="",
            **columns):
        target_type, target = target.split("=", 1)
        values = {"output_vlan": [], "snaplen": [], "sampling": [],
                  "max_rate": [], "offload": [], "enabled": [],
                  "external_ids": {}}
        values.update(columns)
        return self.tables["Fleet_Tap"].add(
            name=name, target_type=target_type, target=target,
            collector=collector, direction=direction, match=match,
            **values)

    def taps(self):
        return list(self.tables["Fleet_Tap"].rows.values())
