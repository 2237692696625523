# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.status: what the agent writes back to the fleet database
(Chassis, Tap_Status), in batches, and when it reports nb_cfg."""

from vtap_fleet import desired
from vtap_fleet import local
from vtap_fleet import status

import fakes


def applied(n_taps=1):
    """A host on which fleet taps t0... (vm0...) to a GRE collector and
    t-away, to a local port the host lacks, were reconciled."""
    host, fleet = fakes.Host(), fakes.Fleet()
    gre = fleet.collector("c-gre")
    for i in range(n_taps):
        host.port("br-int", "vm%d" % i, iface_id="vm%d" % i)
        fleet.tap("t%d" % i, "iface-id=vm%d" % i, gre)
    fleet.tap("t-away", "iface-id=vm0", fleet.collector(
        "mon", type="local", port="mon9"))
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    txn = fakes.Txn(None)
    local.reconcile(host.tables, txn, taps, tunnels)
    host.commit(txn)
    fleet.tables["Fleet"].add(nb_cfg=7)
    return host, fleet, taps


def test_wanted():
    host, fleet, taps = applied()
    tap = [t for t in host.tables["Tap"].rows.values()][0]
    tap.status = {"backend": "ebpf", "reason": "kernel ports only"}
    tap.statistics = {"tx_packets": 10}
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    tunnel = [p.name for p in host.bridge("br-int").ports
              if p.name.startswith("vtap-")][0]
    assert want == {
        ("t0", "br-int"): {
            "chassis": "hv1", "fleet_tap": "t0", "bridge": "br-int",
            "tap": "fleet-t0", "ports": ["vm0"], "output_port": tunnel,
            "backend": "ebpf", "reason": "kernel ports only",
            "copy_error": "", "statistics": {"tx_packets": 10}},
        ("t-away", "br-int"): {
            "chassis": "hv1", "fleet_tap": "t-away", "bridge": "br-int",
            "tap": "", "ports": ["vm0"], "output_port": "",
            "backend": "", "reason": "collector mon: no port mon9 on "
            "bridge br-int", "copy_error": "", "statistics": {}}}
    # An error wins over the reason; a row not in the database yet (just
    # inserted) has no status.
    tap.status = {"backend": "native", "error": "no such port"}
    assert status.wanted("hv1", taps, host.tables["Tap"].rows)[
        ("t0", "br-int")]["reason"] == "no such port"
    assert status.wanted("hv1", taps, {})[("t0", "br-int")]["backend"] == ""
    # Copies that fail say why.
    tap.status = {"backend": "native", "copy_error": "device down"}
    assert status.wanted("hv1", taps, host.tables["Tap"].rows)[
        ("t0", "br-int")]["copy_error"] == "device down"


def write(fleet, want, converged=True, budget=100, vms=None,
          heartbeat=None):
    txn = fakes.Txn(fleet)
    changed, pending = status.reconcile(fleet.tables, txn, "hv1", "host1",
                                        want, converged, budget, vms,
                                        heartbeat)
    txn.commit_block()
    return changed, pending


def chassis(fleet):
    rows = list(fleet.tables["Chassis"].rows.values())
    assert len(rows) == 1
    return rows[0]


def test_a_new_host_then_nothing_more_to_do():
    host, fleet, taps = applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    assert write(fleet, want) == (True, False)
    ch = chassis(fleet)
    assert (ch.name, ch.hostname, ch.nb_cfg) == ("hv1", "host1", 7)
    assert sorted((st.fleet_tap, st.tap) for st in ch.status) == [
        ("t-away", ""), ("t0", "fleet-t0")]
    assert write(fleet, want) == (False, False)


def test_nb_cfg_only_once_converged():
    host, fleet, taps = applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    assert write(fleet, want, converged=False) == (True, False)
    assert chassis(fleet).nb_cfg == 0
    assert write(fleet, want) == (True, False)
    assert chassis(fleet).nb_cfg == 7


def test_batches():
    host, fleet, taps = applied(n_taps=4)
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    # Five rows, two per transaction: nb_cfg comes with the last batch.
    assert write(fleet, want, budget=2) == (True, True)
    assert (len(chassis(fleet).status), chassis(fleet).nb_cfg) == (2, 0)
    assert write(fleet, want, budget=2) == (True, True)
    assert (len(chassis(fleet).status), chassis(fleet).nb_cfg) == (4, 0)
    assert write(fleet, want, budget=2) == (True, False)
    assert (len(chassis(fleet).status), chassis(fleet).nb_cfg) == (5, 7)
    assert write(fleet, want, budget=2) == (False, False)


def test_changes_and_deletions_count_in_a_batch():
    host, fleet, taps = applied(n_taps=3)
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    write(fleet, want)
    ch = chassis(fleet)
    # t0 and t1 are gone, t2 has statistics now, and a stale duplicate of
    # t2's row is there.
    for key in (("t0", "br-int"), ("t1", "br-int")):
        del want[key]
    want[("t2", "br-int")]["statistics"] = {"tx_packets": 5}
    t2 = [st for st in ch.status if st.fleet_tap == "t2"][0]
    ch.status.append(fakes.Row(fleet.tables["Tap_Status"],
                               fleet_tap="t2", bridge="br-int"))
    assert write(fleet, want, budget=2) == (True, True)
    assert write(fleet, want, budget=2) == (True, False)
    assert sorted(st.fleet_tap for st in ch.status) == ["t-away", "t2"]
    assert t2 in ch.status and t2.statistics == {"tx_packets": 5}


def test_hostname():
    host, fleet, taps = applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    write(fleet, want)
    chassis(fleet).hostname = "old"
    assert write(fleet, want) == (True, False)
    assert chassis(fleet).hostname == "host1"


def vm_host():
    """A host with two VM ports (one by iface-id, MAC and IPs, one by MAC
    alone), a port nobody named, and the agent's tunnel port."""
    host = fakes.Host()
    host.port("br-int", "vm1", iface_id="vm1",
              attached_mac="00:00:5E:00:53:11",
              vtap_ip="198.51.100.11 2001:db8::11")
    host.port("br-int", "vm2", attached_mac="00:00:5e:00:53:21")
    host.port("br-int", "br-int")
    host.port("br-int", "vtap-12345678", type="gre",
              port_ids={"vtap-fleet-collector": "c-gre"})
    return host


def test_vm_ports():
    host = vm_host()
    assert status.vm_ports("hv1", host.bridges()) == {
        ("br-int", "vm1"): {
            "chassis": "hv1", "bridge": "br-int", "port": "vm1",
            "iface_id": "vm1", "mac": "00:00:5e:00:53:11",
            "ips": ["198.51.100.11", "2001:db8::11"]},
        ("br-int", "vm2"): {
            "chassis": "hv1", "bridge": "br-int", "port": "vm2",
            "iface_id": "", "mac": "00:00:5e:00:53:21", "ips": []}}


def test_vm_ports_written_after_status_rows_and_do_not_hold_nb_cfg():
    host, fleet, taps = applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    vms = status.vm_ports("hv1", vm_host().bridges())
    # Two status rows take the budget of 3; one VM port is left for the
    # next transaction, but nb_cfg is reported already.
    assert write(fleet, want, budget=3, vms=vms) == (True, True)
    ch = chassis(fleet)
    assert (len(ch.status), len(ch.vm_ports), ch.nb_cfg) == (2, 1, 7)
    assert write(fleet, want, budget=3, vms=vms) == (True, False)
    assert sorted(p.port for p in ch.vm_ports) == ["vm1", "vm2"]
    assert write(fleet, want, vms=vms) == (False, False)
    # A VM leaves, another's addresses change.
    del vms[("br-int", "vm2")]
    vms[("br-int", "vm1")]["ips"] = ["198.51.100.12"]
    assert write(fleet, want, vms=vms) == (True, False)
    assert [(p.port, p.ips) for p in ch.vm_ports] == [
        ("vm1", ["198.51.100.12"])]
    # None: the agent leaves them alone.
    assert write(fleet, want, vms=None) == (False, False)
    assert len(ch.vm_ports) == 1


def test_heartbeat():
    host, fleet, taps = applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    assert write(fleet, want, heartbeat=(1000, 10000)) == (True, False)
    ch = chassis(fleet)
    assert ch.heartbeat == [1000]
    assert ch.other_config == {status.HEARTBEAT_INTERVAL_KEY: "10000"}
    assert write(fleet, want) == (False, False)
    assert write(fleet, want, heartbeat=(2000, 10000)) == (True, False)
    assert ch.heartbeat == [2000]
