# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.rules: each rule's canonical values, and its errors: the
text ovs-vtap-fleetctl prints after the command's name, and the field."""

import os

import pytest

from vtap_fleet import rules
from vtap_fleet.rules import FleetError

import fakes

FLEET = fakes.load_schema(fakes.FLEET_SCHEMA)


def error(func, *args):
    with pytest.raises(FleetError) as e:
        func(*args)
    return e.value.field, str(e.value)


@pytest.mark.parametrize("text, want", [
    ("mac=00:00:5E:00:53:11", ("mac", "00:00:5e:00:53:11")),
    ("ip=198.51.100.0/24", ("ip", "198.51.100.0/24")),
    ("ip=198.51.100.1/32", ("ip", "198.51.100.1")),
    ("ip=198.51.100.1", ("ip", "198.51.100.1")),
    ("ip=2001:db8::/32", ("ip", "2001:db8::/32")),
    ("ip=2001:db8::1/128", ("ip", "2001:db8::1")),
    ("iface-id=f00d-1", ("iface-id", "f00d-1")),
    ("iface-id=a=b", ("iface-id", "a=b")),
])
def test_target(text, want):
    assert rules.parse_target(text) == want


@pytest.mark.parametrize("text, message", [
    ("ip=198.51.100.1/24", "target: 198.51.100.1/24 has host bits set"),
    ("mac=00:00:5e:00:53",
     "target: 00:00:5e:00:53 is not a MAC address (xx:xx:xx:xx:xx:xx)"),
    ("mac=01:00:5e:00:53:01",
     "target: 01:00:5e:00:53:01 is a multicast MAC address, not a VM's"),
    ("vm=1", "target: vm: unknown type (expected mac=, ip= or iface-id=)"),
    ("mac=", "mac=: expected TARGET as mac=MAC, ip=IP[/PREFIX] or "
     "iface-id=ID"),
    ("vm1", "vm1: expected TARGET as mac=MAC, ip=IP[/PREFIX] or "
     "iface-id=ID"),
])
def test_target_errors(text, message):
    assert error(rules.parse_target, text) == ("target", message)


def test_names():
    assert rules.check_name("tap", "web") == "web"
    assert error(rules.check_name, "tap", "") == (
        "name", "tap name must not be empty")
    assert error(rules.check_name, "collector", "") == (
        "name", "collector name must not be empty")


needs_match = pytest.mark.skipif(
    not os.access(os.environ.get("OVS_VTAP_MATCH", ""), os.X_OK),
    reason="ovs-vtap-match is not built")


@needs_match
def test_match():
    assert rules.check_match("tcp,tp_dst=80") == "tcp,tp_dst=80"
    assert rules.check_match("") == ""
    assert error(rules.check_match, "tp_dst=80") == (
        "match", 'match: tp_dst: requires tcp, udp or sctp (add "tcp" or '
        '"udp" first)')


def test_match_without_checker(monkeypatch):
    monkeypatch.setenv("OVS_VTAP_MATCH", "/nonexistent/ovs-vtap-match")
    assert error(rules.check_match, "icmp") == (
        "match", "match: cannot run /nonexistent/ovs-vtap-match to check "
        "it (No such file or directory)")


def fleet_tap(column):
    return FLEET.tables["Fleet_Tap"].columns[column].type


@pytest.mark.parametrize("column, key, value, want", [
    ("snaplen", None, "128", [128]),
    ("snaplen", None, 128, [128]),
    ("output_vlan", None, "4095", [4095]),
    ("sampling", None, "4294967295", [4294967295]),
    ("direction", None, "from-lport", "from-lport"),
    ("offload", None, "ebpf", ["ebpf"]),
    ("enabled", None, "false", [False]),
    ("enabled", None, True, [True]),
    ("match", None, "icmp", "icmp"),
    ("external_ids", "owner", "ci", {"owner": "ci"}),
    ("snaplen", None, None, []),
])
def test_column_value(column, key, value, want):
    assert rules.column_value(fleet_tap(column), column, key, value) == want


def test_column_value_merges_map_keys():
    ctype = fleet_tap("external_ids")
    assert rules.column_value(ctype, "external_ids", "b", "2",
                              {"a": "1"}) == {"a": "1", "b": "2"}


@pytest.mark.parametrize("column, key, value, message", [
    ("output_vlan", None, "4096", "output_vlan: constraint violation: 4096 "
     "is not in the valid range 1 to 4095 (inclusive)"),
    ("snaplen", None, "13", "snaplen: constraint violation: 13 is not in "
     "the valid range 14 to 65535 (inclusive)"),
    ("direction", None, "in", "direction: constraint violation: in is not "
     "one of the allowed values ([both, from-lport, to-lport])"),
    ("sampling", None, "1x", "sampling: 1x is not an integer"),
    ("sampling", None, "0x10", "sampling: 0x10 is not an integer"),
    ("sampling", None, True, "sampling: True is not an integer"),
    ("enabled", None, "yes", "enabled: yes is not true or false"),
    ("enabled", None, 1, "enabled: 1 is not true or false"),
    ("match", None, 5, "match: 5 is not a string"),
    ("snaplen", "k", "5", "snaplen: not a map column, takes no key"),
    ("external_ids", None, "x", "external_ids: a map column: give "
     "COLUMN:KEY=VALUE"),
    ("direction", None, None, "direction: must have a value"),
])
def test_column_value_errors(column, key, value, message):
    assert error(rules.column_value, fleet_tap(column), column, key,
                 value) == (column, message)


ALLOWED = ("direction", "match", "snaplen", "external_ids")


def test_settings_forms():
    want = [("snaplen", None, "100"), ("match", None, "tcp,tp_dst=80"),
            ("external_ids", "a", "1")]
    assert rules.settings_list(["snaplen=100", 'match="tcp,tp_dst=80"',
                                "external_ids:a=1"], ALLOWED) == want
    assert rules.settings_list(want, ALLOWED) == want
    assert rules.settings_list({"snaplen": "100", "match": "tcp,tp_dst=80",
                                "external_ids": {"a": "1"}},
                               ALLOWED) == want


@pytest.mark.parametrize("settings, field, message", [
    (["snaplen=100", "snaplen=200"], "snaplen", "snaplen: given twice"),
    (["external_ids:a=1", "external_ids:a=2"], "external_ids",
     "external_ids: given twice"),
    (["name=y"], "name", "name: unknown setting (expected one of "
     "direction, match, snaplen, external_ids)"),
    (["snaplen"], None, "snaplen: expected COLUMN[:KEY]=VALUE"),
    ({"name": "y"}, "name", "name: unknown setting (expected one of "
     "direction, match, snaplen, external_ids)"),
])
def test_settings_errors(settings, field, message):
    assert error(rules.settings_list, settings, ALLOWED) == (field, message)


def test_settings_checked_in_order():
    # The first bad one is reported, whatever its kind.
    assert error(rules.settings_list, ["name=y", "snaplen"], ALLOWED)[0] \
        == "name"
    assert error(rules.settings_list, ["snaplen", "name=y"], ALLOWED)[0] \
        is None


@pytest.mark.parametrize("args, want", [
    (("local", "mon0"), {"type": "local", "port": "mon0", "options": {}}),
    (("gre", "203.0.113.1", ["key=2"]),
     {"type": "gre", "remote_ip": "203.0.113.1", "options": {"key": "2"}}),
    (("vxlan", "2001:db8::1", {"key": 16777215}),
     {"type": "vxlan", "remote_ip": "2001:db8::1",
      "options": {"key": "16777215"}}),
    (("erspan", "203.0.113.1", ["key=7", "erspan_idx=0x3"]),
     {"type": "erspan", "remote_ip": "203.0.113.1",
      "options": {"key": "7", "erspan_idx": "3", "erspan_ver": "1"}}),
    (("erspan", "203.0.113.1", ["key=517", "erspan_ver=2", "erspan_dir=1",
                                "erspan_hwid=9"]),
     {"type": "erspan", "remote_ip": "203.0.113.1",
      "options": {"key": "517", "erspan_ver": "2", "erspan_dir": "1",
                  "erspan_hwid": "9"}}),
])
def test_collector(args, want):
    assert rules.collector_columns(*args) == want


@pytest.mark.parametrize("args, field, message", [
    (("vxlan", "203.0.113.1", ["key=16777216"]), "key",
     "key: 16777216 is out of range 0 to 16777215"),
    (("gre", "203.0.113.256"), "remote_ip",
     "203.0.113.256: not an IPv4 or IPv6 address"),
    (("erspan", "203.0.113.1", ["key=1", "erspan_ver=2", "erspan_idx=1"]),
     "erspan_idx", "erspan_idx: not an ERSPAN version 2 option"),
    (("erspan", "203.0.113.1", ["key=1", "erspan_hwid=1"]),
     "erspan_hwid", "erspan_hwid: not an ERSPAN version 1 option"),
    (("erspan", "203.0.113.1"), "key",
     "erspan: key (the session id) is required"),
    (("geneve", "203.0.113.1"), "type",
     "geneve: unknown type (expected local, gre, erspan or vxlan)"),
    (("local", "mon0", ["key=1"]), "options",
     "a local collector takes no options"),
    (("local", ""), "port", "local: the port name must not be empty"),
    (("gre", "203.0.113.1", ["erspan_ver=1"]), "erspan_ver",
     "erspan_ver: unknown setting (expected one of key)"),
    (("gre", "203.0.113.1", ["key=x"]), "key", "key: x is not an integer"),
])
def test_collector_errors(args, field, message):
    assert error(rules.collector_columns, *args) == (field, message)


def test_collector_checks_the_address_before_the_options():
    assert error(rules.collector_columns, "gre", "nowhere", ["bad"])[0] \
        == "remote_ip"


def test_remotes():
    assert rules.check_remotes(["pssl:6644", "ptcp:0:127.0.0.1",
                                "pssl:6644:[2001:db8::1]",
                                "punix:/run/x.sock"])
    assert error(rules.check_remotes, ["tcp6:1"]) == (
        "target", "tcp6:1: not a remote (expected ptcp:PORT[:IP], "
        "pssl:PORT[:IP], punix:FILE, tcp:, ssl: or unix:)")
    assert error(rules.check_remotes, ["ptcp:1", "ptcp:1"]) == (
        "target", "a target is given twice")
    assert error(rules.check_remotes, []) == ("target",
                                              "expected TARGET...")


def test_ssl_files():
    assert error(rules.check_ssl_files, ["/a", "b", "/c"]) == (
        "file", "b: give an absolute file name (the servers read it)")
