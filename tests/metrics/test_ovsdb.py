# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""TapView over a stand-in for the OVS Python IDL: the records it gives,
and that it rebuilds only what the IDL reported changed or replaced."""

import uuid

import ovs.db.idl

from vtap_metrics import ovsdb


class Table(object):
    def __init__(self, name):
        self.name = name
        self.rows = {}


class Row(object):
    builds = 0                  # How many times a Tap row was read whole.

    def __init__(self, table, **columns):
        self.__dict__['_table'] = table
        self.__dict__['uuid'] = uuid.uuid4()
        self.__dict__.update(columns)

    def __getattribute__(self, name):
        if name == 'status' and object.__getattribute__(
                self, '_table').name == 'Tap':
            Row.builds += 1
        return object.__getattribute__(self, name)


class Session(object):
    connected = True

    def is_connected(self):
        return self.connected


class Idl(object):
    IDL_S_MONITORING = ovs.db.idl.Idl.IDL_S_MONITORING

    def __init__(self):
        self.tables = dict((n, Table(n)) for n in
                           ('Open_vSwitch', 'Bridge', 'Port', 'Tap'))
        self._session = Session()
        self.state = self.IDL_S_MONITORING

    def notify(self, event, row, updates=None):
        pass

    def add(self, table, **columns):
        row = Row(self.tables[table], **columns)
        self.tables[table].rows[row.uuid] = row
        self.notify(ovs.db.idl.ROW_CREATE, row)
        return row

    def update(self, row, **columns):
        row.__dict__.update(columns)
        self.notify(ovs.db.idl.ROW_UPDATE, row, row)

    def delete(self, row):
        del self.tables[row._table.name].rows[row.uuid]
        self.notify(ovs.db.idl.ROW_DELETE, row)


def add_tap(idl, name, output=None, **kw):
    columns = dict(name=name, status={'backend': 'native', 'id': '1'},
                   statistics={}, external_ids={}, offload=[],
                   output_port=[output] if output else [], enabled=[])
    columns.update(kw)
    return idl.add('Tap', **columns)


def setup():
    idl = ovs_idl = Idl()
    view = ovsdb.TapView(ovs_idl)
    mon = idl.add('Port', name='mon0')
    a = add_tap(idl, 'a', mon, statistics={'tx_packets': 1},
                external_ids={'vtap-fleet-tap': 'web'}, offload=['ebpf'])
    b = add_tap(idl, 'b', enabled=[False])
    br = idl.add('Bridge', name='br0', taps=[a, b])
    return idl, view, mon, a, b, br


def by_name(records):
    return dict((r.name, r) for r in records)


def test_records():
    idl, view, mon, a, b, br = setup()
    got = by_name(view.snapshot())
    assert got['a'] == ovsdb.TapRecord(
        bridge='br0', name='a', status={'backend': 'native', 'id': '1'},
        statistics={'tx_packets': 1}, fleet_tap='web', offload='ebpf',
        output='mon0', enabled=True)
    assert got['b'].offload == 'auto'
    assert got['b'].output == ''
    assert got['b'].enabled is False


def test_only_changed_rows_are_read_again():
    idl, view, mon, a, b, br = setup()
    view.snapshot()
    Row.builds = 0
    view.snapshot()
    assert Row.builds == 0
    idl.update(a, statistics={'tx_packets': 5})
    got = by_name(view.snapshot())
    assert Row.builds == 1
    assert got['a'].statistics == {'tx_packets': 5}


def test_rows_replaced_without_notice():
    """After a reconnection, the IDL may hold new row objects for the same
    rows without a notice for the old ones."""
    idl, view, mon, a, b, br = setup()
    view.snapshot()
    new_a = Row(idl.tables['Tap'], **dict(
        (k, v) for k, v in a.__dict__.items() if k not in ('_table', 'uuid')))
    new_a.__dict__['uuid'] = a.uuid
    new_a.__dict__['statistics'] = {'tx_packets': 9}
    idl.tables['Tap'].rows[a.uuid] = new_a
    assert by_name(view.snapshot())['a'].statistics == {'tx_packets': 9}


def test_taps_move_and_go():
    idl, view, mon, a, b, br = setup()
    view.snapshot()
    c = add_tap(idl, 'c')
    br1 = idl.add('Bridge', name='br1', taps=[b, c])
    idl.update(br, taps=[a])
    got = by_name(view.snapshot())
    assert got['b'].bridge == 'br1' and got['c'].bridge == 'br1'
    idl.update(br1, taps=[c])
    idl.delete(b)
    assert sorted(by_name(view.snapshot())) == ['a', 'c']
    idl.delete(br1)
    assert sorted(by_name(view.snapshot())) == ['a']


def test_a_tap_in_no_bridge_is_left_out():
    idl, view, mon, a, b, br = setup()
    add_tap(idl, 'orphan')
    assert sorted(by_name(view.snapshot())) == ['a', 'b']


def test_output_port_renamed():
    idl, view, mon, a, b, br = setup()
    view.snapshot()
    idl.update(mon, name='mon1')
    assert by_name(view.snapshot())['a'].output == 'mon1'


def test_connected_and_dpdk():
    idl, view, mon, a, b, br = setup()
    assert view.connected()
    idl._session.connected = False
    assert not view.connected()
    assert not view.dpdk_initialized()
    idl.add('Open_vSwitch', dpdk_initialized=True)
    assert view.dpdk_initialized()


def test_notify_chains_to_the_idl_own():
    idl = Idl()
    seen = []
    idl.notify = lambda event, row, updates=None: seen.append(event)
    ovsdb.TapView(idl)
    add_tap(idl, 'a')
    assert seen == [ovs.db.idl.ROW_CREATE]
