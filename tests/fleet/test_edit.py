# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.edit, the API of ovs-vtap-fleetctl and of a console: what
each change writes, and that a refused change writes nothing."""

import ovs.db.idl
import pytest

from vtap_fleet import edit
from vtap_fleet import rules
from vtap_fleet.rules import FleetError

import fakes


@pytest.fixture
def idl(monkeypatch):
    """A fleet database with collectors c1 (GRE) and mon (local), and fleet
    tap web on c1; matches are taken as they are."""
    monkeypatch.setattr(rules, "check_match", lambda match: match)
    idl = fakes.Idl()
    c1 = idl.tables["Collector"].add(name="c1", type="gre", port=[],
                                     remote_ip=["203.0.113.1"],
                                     options={"key": "2"})
    idl.tables["Collector"].add(name="mon", type="local", port=["mon0"],
                                remote_ip=[], options={})
    idl.tables["Fleet_Tap"].add(
        name="web", target_type="ip", target="198.51.100.0/24",
        collector=c1, direction="from-lport", match="tcp,tp_dst=80",
        output_vlan=[], snaplen=[128], sampling=[], max_rate=[], offload=[],
        enabled=[], external_ids={"owner": "ci"})
    return idl


def change(idl, func, *args, **kwargs):
    """Runs a change in a transaction of its own, committed; returns the
    transaction."""
    txn = fakes.Txn(idl)
    func(idl, txn, *args, **kwargs)
    txn.commit_block()
    return txn


def refused(idl, func, *args, **kwargs):
    """Runs a change that must be refused: returns (field, message) and
    checks that nothing was written."""
    txn = fakes.Txn(idl)
    with pytest.raises(FleetError) as e:
        func(idl, txn, *args, **kwargs)
    assert txn.log == []
    return e.value.field, str(e.value)


def row(idl, table, name):
    return edit.find(idl, table, name)


def test_tap_add(idl):
    change(idl, edit.tap_add, "vm1", "mac=00:00:5E:00:53:11", "mon",
           ["direction=to-lport", "snaplen=100", "external_ids:a=1",
            "external_ids:b=2", "enabled=false"])
    t = row(idl, "Fleet_Tap", "vm1")
    assert (t.target_type, t.target, t.collector.name, t.direction,
            t.match) == ("mac", "00:00:5e:00:53:11", "mon", "to-lport", "")
    assert t.snaplen == [100]
    assert t.enabled == [False]
    assert t.external_ids == {"a": "1", "b": "2"}


def test_tap_add_from_json(idl):
    change(idl, edit.tap_add, "t", "iface-id=f00d", "c1",
           {"match": "icmp", "sampling": 2, "offload": "native",
            "external_ids": {"owner": "console"}})
    t = row(idl, "Fleet_Tap", "t")
    assert (t.direction, t.match, t.sampling, t.offload, t.external_ids) \
        == ("both", "icmp", [2], ["native"], {"owner": "console"})


def test_tap_add_may_exist(idl):
    txn = change(idl, edit.tap_add, "web", "iface-id=a", "mon",
                 may_exist=True)
    assert txn.log == []
    assert row(idl, "Fleet_Tap", "web").target == "198.51.100.0/24"


@pytest.mark.parametrize("args, field, message", [
    (("web", "iface-id=a", "c1"), "name",
     "a fleet tap named web already exists"),
    (("", "iface-id=a", "c1"), "name", "tap name must not be empty"),
    (("x", "ip=198.51.100.1/24", "c1"), "target",
     "target: 198.51.100.1/24 has host bits set"),
    (("x", "iface-id=a", "c9"), "collector",
     "no collector named c9 (add it with collector-add)"),
    (("x", "iface-id=a", "c1", ["output_vlan=4096"]), "output_vlan",
     "output_vlan: constraint violation: 4096 is not in the valid range 1 "
     "to 4095 (inclusive)"),
    (("x", "iface-id=a", "c1", ["snaplen=100", "snaplen=200"]), "snaplen",
     "snaplen: given twice"),
    (("x", "iface-id=a", "c1", ["name=y"]), "name",
     "name: unknown setting (expected one of direction, match, "
     "output_vlan, snaplen, sampling, max_rate, offload, enabled, "
     "external_ids)"),
    (("x", "iface-id=a", "c1", {"snaplen": "1x"}), "snaplen",
     "snaplen: 1x is not an integer"),
    (("x", "iface-id=a", "c1", ["external_ids:a=1", "offload=fast"]),
     "offload", "offload: constraint violation: fast is not one of the "
     "allowed values ([auto, dpdk, ebpf, native])"),
])
def test_tap_add_refused(idl, args, field, message):
    assert refused(idl, edit.tap_add, *args) == (field, message)
    assert row(idl, "Fleet_Tap", "x") is None


def test_tap_add_bad_match_writes_nothing(idl, monkeypatch):
    def bad(match):
        raise FleetError("match: %s: bad" % match, "match")
    monkeypatch.setattr(rules, "check_match", bad)
    assert refused(idl, edit.tap_add, "x", "iface-id=a", "c1",
                   ["snaplen=100", "match=tp_dst=80"]) == (
        "match", "match: tp_dst=80: bad")


def test_tap_set(idl):
    change(idl, edit.tap_set, "web",
           {"snaplen": None, "sampling": 4, "external_ids": {"team": "x"}},
           target="iface-id=f00d", collector="mon")
    t = row(idl, "Fleet_Tap", "web")
    assert (t.target_type, t.target, t.collector.name) == (
        "iface-id", "f00d", "mon")
    assert (t.snaplen, t.sampling, t.match, t.direction) == (
        [], [4], "tcp,tp_dst=80", "from-lport")
    assert t.external_ids == {"owner": "ci", "team": "x"}


@pytest.mark.parametrize("args, kwargs, field, message", [
    (("nope",), {}, "name", "no fleet tap named nope"),
    (("web", {"snaplen": 13}), {}, "snaplen",
     "snaplen: constraint violation: 13 is not in the valid range 14 to "
     "65535 (inclusive)"),
    (("web", {"direction": None}), {}, "direction",
     "direction: must have a value"),
    (("web", {"match": "icmp"}), {"target": "vm=1"}, "target",
     "target: vm: unknown type (expected mac=, ip= or iface-id=)"),
    (("web", {"match": "icmp"}), {"collector": "c9"}, "collector",
     "no collector named c9 (add it with collector-add)"),
])
def test_tap_set_refused(idl, args, kwargs, field, message):
    assert refused(idl, edit.tap_set, *args, **kwargs) == (field, message)
    assert row(idl, "Fleet_Tap", "web").snaplen == [128]


def test_tap_del(idl):
    change(idl, edit.tap_del, "web")
    assert row(idl, "Fleet_Tap", "web") is None
    assert change(idl, edit.tap_del, "web", if_exists=True).log == []
    assert refused(idl, edit.tap_del, "web") == (
        "name", "no fleet tap named web")


def test_collector_add(idl):
    change(idl, edit.collector_add, "ids", "erspan", "203.0.113.1",
           ["key=1", "erspan_idx=7"])
    c = row(idl, "Collector", "ids")
    assert (c.type, c.remote_ip, c.port, c.options) == (
        "erspan", ["203.0.113.1"], [],
        {"key": "1", "erspan_idx": "7", "erspan_ver": "1"})
    change(idl, edit.collector_add, "mon2", "local", "mon2")
    c = row(idl, "Collector", "mon2")
    assert (c.type, c.port, c.remote_ip, c.options) == (
        "local", ["mon2"], [], {})


@pytest.mark.parametrize("args, field, message", [
    (("c1", "gre", "203.0.113.2"), "name",
     "a collector named c1 already exists"),
    (("", "local", "mon0"), "name", "collector name must not be empty"),
    (("c2", "vxlan", "203.0.113.1", ["key=16777216"]), "key",
     "key: 16777216 is out of range 0 to 16777215"),
    (("c2", "geneve", "203.0.113.1"), "type",
     "geneve: unknown type (expected local, gre, erspan or vxlan)"),
])
def test_collector_add_refused(idl, args, field, message):
    assert refused(idl, edit.collector_add, *args) == (field, message)


def test_collector_add_may_exist(idl):
    assert change(idl, edit.collector_add, "c1", "vxlan", "203.0.113.9",
                  may_exist=True).log == []
    assert row(idl, "Collector", "c1").type == "gre"


def test_collector_set(idl):
    web = row(idl, "Fleet_Tap", "web")
    change(idl, edit.collector_set, "c1", "vxlan", "203.0.113.9",
           {"key": 3})
    c = row(idl, "Collector", "c1")
    assert (c.type, c.remote_ip, c.port, c.options) == (
        "vxlan", ["203.0.113.9"], [], {"key": "3"})
    assert web.collector is c
    assert refused(idl, edit.collector_set, "c1", "local", "") == (
        "port", "local: the port name must not be empty")
    assert refused(idl, edit.collector_set, "c9", "local", "p") == (
        "name", "no collector named c9")


def test_collector_del(idl):
    assert refused(idl, edit.collector_del, "c1") == (
        "name", "collector c1 is used by fleet tap web")
    change(idl, edit.collector_del, "mon")
    assert row(idl, "Collector", "mon") is None
    assert refused(idl, edit.collector_del, "mon") == (
        "name", "no collector named mon")
    assert change(idl, edit.collector_del, "mon", if_exists=True).log == []


def test_connection(idl):
    change(idl, edit.set_connection, ["pssl:6644", "punix:/run/f.sock"],
           ["inactivity_probe=30000"])
    fleet = list(idl.tables["Fleet"].rows.values())[0]
    assert sorted((c.target, c.inactivity_probe)
                  for c in fleet.connections) == [
        ("pssl:6644", [30000]), ("punix:/run/f.sock", [30000])]
    change(idl, edit.del_connection)
    assert fleet.connections == []


@pytest.mark.parametrize("targets, settings, field, message", [
    (["ptcp:0"], ["inactivity_probe=x"], "inactivity_probe",
     "inactivity_probe: x is not an integer"),
    (["ptcp:0"], ["max_backoff=999"], "max_backoff",
     "max_backoff: constraint violation: 999 is less than minimum allowed "
     "value 1000"),
    (["ptcp:0"], ["max_backoff:k=1000"], "max_backoff",
     "max_backoff: takes no key"),
    (["tcp6:1"], [], "target", "tcp6:1: not a remote (expected "
     "ptcp:PORT[:IP], pssl:PORT[:IP], punix:FILE, tcp:, ssl: or unix:)"),
])
def test_connection_refused(idl, targets, settings, field, message):
    assert refused(idl, edit.set_connection, targets, settings) == (
        field, message)


def test_ssl(idl):
    change(idl, edit.set_ssl, "/k.pem", "/c.pem", "/ca.pem", "TLSv1.2")
    fleet = list(idl.tables["Fleet"].rows.values())[0]
    ssl = fleet.ssl[0]
    assert (ssl.private_key, ssl.certificate, ssl.ca_cert,
            ssl.ssl_protocols, ssl.ssl_ciphers, ssl.bootstrap_ca_cert) == (
        "/k.pem", "/c.pem", "/ca.pem", "TLSv1.2", "", False)
    assert refused(idl, edit.set_ssl, "k.pem", "/c.pem", "/ca.pem") == (
        "file", "k.pem: give an absolute file name (the servers read it)")
    change(idl, edit.del_ssl)
    assert fleet.ssl == []


class Transactions(object):
    """Stands in for ovs.db.idl.Transaction: commits end with 'statuses'
    in turn."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.made = []

    def __call__(self, idl):
        txn = fakes.Txn(idl)
        status = self.statuses.pop(0)

        def commit_block():
            if status != txn.SUCCESS:
                txn.revert()
            return status
        txn.commit_block = commit_block
        self.made.append(txn)
        return txn


def test_commit(idl, monkeypatch):
    txns = Transactions([fakes.Txn.SUCCESS])
    monkeypatch.setattr(ovs.db.idl, "Transaction", txns)
    result, next_cfg = edit.commit(
        idl, lambda idl, txn: edit.tap_del(idl, txn, "web"), "who: what")
    assert (result, next_cfg) == (None, None)
    assert txns.made[0].comments == ["who: what"]


def test_commit_again_when_the_database_changed(idl, monkeypatch):
    txns = Transactions([fakes.Txn.TRY_AGAIN, fakes.Txn.SUCCESS])
    monkeypatch.setattr(ovs.db.idl, "Transaction", txns)
    monkeypatch.setattr(idl, "run", lambda: None, raising=False)
    fleet = idl.tables["Fleet"].add(nb_cfg=4)
    calls = []

    def tap_del(idl, txn):
        calls.append(txn)
        edit.tap_del(idl, txn, "web")
    _, next_cfg = edit.commit(idl, tap_del, wait=True)
    assert calls == txns.made
    assert next_cfg == 5 and fleet.nb_cfg == 5


def test_commit_refused(idl, monkeypatch):
    txns = Transactions([fakes.Txn.SUCCESS])
    monkeypatch.setattr(ovs.db.idl, "Transaction", txns)
    with pytest.raises(FleetError):
        edit.commit(idl, lambda idl, txn: edit.tap_add(
            idl, txn, "x", "iface-id=a", "c1", {"snaplen": 13}), wait=True)
    assert txns.made[0].status == fakes.Txn.ABORTED
    assert txns.made[0].log == []


def test_commit_error(idl, monkeypatch):
    monkeypatch.setattr(ovs.db.idl, "Transaction",
                        Transactions([fakes.Txn.ERROR]))
    with pytest.raises(FleetError) as e:
        edit.commit(idl, edit.init)
    assert str(e.value) == "transaction error: fake error"


def test_hosts_behind(idl):
    for name, nb_cfg in (("hv1", 3), ("hv2", 5), ("hv0", 4)):
        idl.tables["Chassis"].add(name=name, nb_cfg=nb_cfg)
    assert edit.hosts_behind(idl, 5) == ["hv0", "hv1"]
    assert edit.hosts_behind(idl, 3) == []
