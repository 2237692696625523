# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The Tap rows of the local Open vSwitch database, through the OVS Python
IDL, as TapRecords.

Only the columns the metrics need are monitored.  Reading a column of an
IDL row converts it anew each time, which for 10,000 taps at every scrape
would cost more than the rest of the scrape: TapView keeps each row's
record and rebuilds only the rows that the IDL reported changed (its
notify() hook) or that it replaced (after a reconnection it may build new
row objects without a notice for the old ones)."""

import ovs.db.idl

from vtap_metrics.families import TapRecord

# What the exporter monitors.  An IDL that already follows these columns
# (ovs-vtap-agent's) can attach a TapView too.
COLUMNS = {
    'Open_vSwitch': ['dpdk_initialized'],
    'Bridge': ['name', 'taps'],
    'Port': ['name'],
    'Tap': ['name', 'status', 'statistics', 'external_ids', 'offload',
            'output_port', 'enabled'],
}

# Tap external_ids key naming the fleet tap a row was made for (by
# ovs-vtap-agent).
FLEET_TAP_KEY = 'vtap-fleet-tap'


def schema_helper(schema_file):
    helper = ovs.db.idl.SchemaHelper(location=schema_file)
    for table, columns in COLUMNS.items():
        helper.register_columns(table, columns)
    return helper


def tap_record(row, bridge, port_names):
    """The TapRecord of IDL row 'row' of bridge 'bridge'."""
    output = ''
    for port in row.output_port:
        output = port_names.get(port.uuid, '')
    offload = row.offload[0] if row.offload else 'auto'
    return TapRecord(bridge=bridge, name=row.name, status=dict(row.status),
                     statistics=dict(row.statistics),
                     fleet_tap=row.external_ids.get(FLEET_TAP_KEY, ''),
                     offload=offload, output=output,
                     enabled=row.enabled != [False])


class TapView(object):
    """The Tap rows of 'idl' as TapRecords, kept up to date at a cost
    proportional to the rows that changed.  Call snapshot() from the
    thread that runs the IDL, or under the same lock."""

    def __init__(self, idl):
        self.idl = idl
        self._records = {}      # Tap uuid -> (row object, TapRecord)
        self._dirty = set()     # Tap uuids whose record must be rebuilt.
        self._bridges = {}      # Bridge uuid -> (row object, name, taps)
        self._dirty_bridges = set()
        self._ports_changed = True
        self._port_names = {}
        previous = idl.notify

        def notify(event, row, updates=None):
            previous(event, row, updates)
            self._notify(event, row)
        idl.notify = notify

    def _notify(self, event, row):
        table = row._table.name
        if table == 'Tap':
            self._dirty.add(row.uuid)
        elif table == 'Bridge':
            self._dirty_bridges.add(row.uuid)
        elif table == 'Port':
            self._ports_changed = True

    def connected(self):
        """Whether the IDL is connected and has the database's contents."""
        return (self.idl._session.is_connected()
                and self.idl.state == self.idl.IDL_S_MONITORING)

    def dpdk_initialized(self):
        for row in self.idl.tables['Open_vSwitch'].rows.values():
            return row.dpdk_initialized is True
        return False

    def _tap_bridges(self):
        """Tap uuid -> bridge name, from each bridge's 'taps'."""
        rows = self.idl.tables['Bridge'].rows
        for uuid, row in rows.items():
            known = self._bridges.get(uuid)
            if known is None or known[0] is not row \
                    or uuid in self._dirty_bridges:
                taps = [t.uuid for t in row.taps]
                self._bridges[uuid] = (row, row.name, taps)
                # A tap that moved between bridges gets its new label.
                self._dirty.update(taps)
        for uuid in list(self._bridges):
            if uuid not in rows:
                del self._bridges[uuid]
        self._dirty_bridges.clear()
        bridge_of = {}
        for _, name, taps in self._bridges.values():
            for tap in taps:
                bridge_of[tap] = name
        return bridge_of

    def snapshot(self):
        """The TapRecords of every Tap row that belongs to a bridge."""
        if self._ports_changed:
            self._port_names = dict(
                (uuid, row.name)
                for uuid, row in self.idl.tables['Port'].rows.items())
            self._ports_changed = False
            self._dirty.update(self._records)    # Output names may change.
        bridge_of = self._tap_bridges()
        rows = self.idl.tables['Tap'].rows
        records = []
        for uuid, row in rows.items():
            bridge = bridge_of.get(uuid)
            if bridge is None:
                continue            # Not (yet) in a bridge: not a tap.
            known = self._records.get(uuid)
            if known is None or known[0] is not row or uuid in self._dirty:
                known = (row, tap_record(row, bridge, self._port_names))
                self._records[uuid] = known
            records.append(known[1])
        for uuid in list(self._records):
            if uuid not in rows or uuid not in bridge_of:
                del self._records[uuid]
        self._dirty.clear()
        return records
