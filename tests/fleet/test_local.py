# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.local: the agent's reconciliation of a host's Tap rows and
tunnel ports with what the fleet asks for there."""

from vtap_fleet import desired
from vtap_fleet import local
from vtap_fleet import schema

import fakes


def reconcile(host, fleet):
    """One recomputation: returns (whether it wrote, the DesiredTaps)."""
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    txn = fakes.Txn(None)
    changed = local.reconcile(host.tables, txn, taps, tunnels)
    host.commit(txn)
    return changed, taps


def names(rows):
    return sorted(r.name for r in rows)


def fleet_taps(br):
    return {t.name: t for t in br.taps}


def setup():
    host, fleet = fakes.Host(), fakes.Fleet()
    host.port("br-int", "vm1", iface_id="vm1")
    host.port("br-int", "vm2", iface_id="vm2")
    host.port("br-int", "mon0")
    return host, fleet


def test_a_tap_to_a_tunnel_then_nothing_more_to_do():
    host, fleet = setup()
    gre = fleet.collector("c-gre", key=2)
    fleet.tap("t", "iface-id=vm1", gre, match="icmp", snaplen=[128],
              offload=["native"])
    changed, taps = reconcile(host, fleet)
    assert changed
    br = host.bridge("br-int")
    tunnel = "vtap-" + str(gre.uuid)[:8]
    assert names(br.ports) == sorted(["mon0", "vm1", "vm2", tunnel])
    port = [p for p in br.ports if p.name == tunnel][0]
    assert port.external_ids == {"vtap-fleet-collector": "c-gre"}
    assert (port.interfaces[0].type, port.interfaces[0].options) == (
        "gre", {"key": "2", "remote_ip": "203.0.113.1"})
    tap = fleet_taps(br)["fleet-t"]
    assert tap.external_ids == {"vtap-fleet-tap": "t"}
    assert names(tap.select_src_port) == names(tap.select_dst_port) == \
        ["vm1"]
    assert tap.output_port == [port]
    assert (tap.match, tap.snaplen, tap.offload, tap.enabled) == (
        "icmp", [128], ["native"], [])
    assert list(taps.values())[0].row is tap
    # The host now has what the fleet asks for.
    assert reconcile(host, fleet)[0] is False


def test_every_copied_column_reaches_the_hosts_tap():
    host, fleet = setup()
    values = {"match": "udp", "output_vlan": [100], "snaplen": [64],
              "sampling": [3], "max_rate": [1000], "offload": ["ebpf"]}
    assert set(values) == set(schema.COPIED_COLUMNS)
    mon = fleet.collector("mon", type="local", port="mon0")
    t = fleet.tap("t", "iface-id=vm1", mon, **values)
    reconcile(host, fleet)
    tap = fleet_taps(host.bridge("br-int"))["fleet-t"]
    assert {c: getattr(tap, c) for c in values} == values
    # A change of one setting changes that column only.
    t.sampling = [7]
    txn = fakes.Txn(None)
    for row in host.tables["Tap"].rows.values():
        object.__setattr__(row, "_txn", txn)
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    assert local.reconcile(host.tables, txn, taps, tunnels)
    assert [(what, column, value) for what, row, column, value in txn.log] \
        == [("set", "sampling", [7])]


def test_directions():
    host, fleet = setup()
    mon = fleet.collector("mon", type="local", port="mon0")
    fleet.tap("from", "ip=0.0.0.0/0", mon, direction="from-lport")
    fleet.tap("to", "iface-id=vm2", mon, direction="to-lport")
    host.bridge("br-int").ports[0].interfaces[0].external_ids["vtap-ip"] = \
        "198.51.100.11"
    host.bridge("br-int").ports[1].interfaces[0].external_ids["vtap-ip"] = \
        "198.51.100.21"
    reconcile(host, fleet)
    taps = fleet_taps(host.bridge("br-int"))
    assert (names(taps["fleet-from"].select_src_port),
            names(taps["fleet-from"].select_dst_port)) == (["vm1", "vm2"],
                                                           [])
    assert (names(taps["fleet-to"].select_src_port),
            names(taps["fleet-to"].select_dst_port)) == ([], ["vm2"])


def test_gone_from_the_fleet_or_the_host():
    host, fleet = setup()
    gre = fleet.collector("c-gre")
    mon = fleet.collector("mon", type="local", port="mon0")
    t1 = fleet.tap("t1", "iface-id=vm1", gre)
    fleet.tap("t2", "iface-id=vm2", mon)
    host.tap("br-int", "mine", external_ids={})
    reconcile(host, fleet)
    br = host.bridge("br-int")
    assert names(br.taps) == ["fleet-t1", "fleet-t2", "mine"]
    # t1 goes from the fleet: its tap and its tunnel go; vm2 leaves the
    # host: t2's tap goes; the hand-made tap stays.
    del fleet.tables["Fleet_Tap"].rows[t1.uuid]
    br.ports = [p for p in br.ports if p.name != "vm2"]
    assert reconcile(host, fleet)[0]
    assert names(br.taps) == ["mine"]
    assert names(br.ports) == ["mon0", "vm1"]


def test_a_tap_name_taken_by_someone_else():
    host, fleet = setup()
    fleet.tap("t", "iface-id=vm1", fleet.collector("mon", type="local",
                                                   port="mon0"))
    host.tap("br-int", "fleet-t", external_ids={})
    changed, taps = reconcile(host, fleet)
    assert not changed
    d = list(taps.values())[0]
    assert (d.output, d.row) == (None, None)
    assert d.reason == ("a tap named fleet-t that the agent does not own is "
                        "on bridge br-int")


def test_duplicates_are_removed():
    host, fleet = setup()
    fleet.tap("t", "iface-id=vm1", fleet.collector("mon", type="local",
                                                   port="mon0"))
    reconcile(host, fleet)
    br = host.bridge("br-int")
    first = br.taps[0]
    host.tap("br-int", "fleet-t", external_ids={"vtap-fleet-tap": "t"},
             select_src_port=[], select_dst_port=[], output_port=[])
    assert reconcile(host, fleet)[0]
    assert br.taps == [first]


def test_a_collector_that_changed():
    host, fleet = setup()
    c = fleet.collector("c", type="erspan", key=1, erspan_idx=7)
    fleet.tap("t", "iface-id=vm1", c)
    reconcile(host, fleet)
    c.type = "gre"
    c.options = {"key": "9"}
    assert reconcile(host, fleet)[0]
    iface = [p for p in host.bridge("br-int").ports
             if p.name.startswith("vtap-")][0].interfaces[0]
    assert (iface.type, iface.options) == (
        "gre", {"key": "9", "remote_ip": "203.0.113.1"})
