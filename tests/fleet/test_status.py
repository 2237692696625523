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
            "statistics": {"tx_packets": 10}},
        ("t-away", "br-int"): {
            "chassis": "hv1", "fleet_tap": "t-away", "bridge": "br-int",
            "tap": "", "ports": ["vm0"], "output_port": "",
            "backend": "", "reason": "collector mon: no port mon9 on "
            "bridge br-int", "statistics": {}}}
    # An error wins over the reason; a row not in the database yet (just
    # inserted) has no status.
    tap.status = {"backend": "native", "error": "no such port"}
    assert status.wanted("hv1", taps, host.tables["Tap"].rows)[
        ("t0", "br-int")]["reason"] == "no such port"
    assert status.wanted("hv1", taps, {})[("t0", "br-int")]["backend"] == ""


def write(fleet, want, converged=True, budget=100):
    txn = fakes.Txn(fleet)
    changed, pending = status.reconcile(fleet.tables, txn, "hv1", "host1",
                                        want, converged, budget)
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


def test_nb_cfgs():
    """What connection-status tells of the policy generations: the
    fleet's nb_cfg as soon as the agent sees it, the host's applied one
    once its Chassis row exists."""
    host, fleet, taps = applied()
    assert status.nb_cfgs(fleet.tables, "hv1") == (7, None)
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    write(fleet, want)
    assert status.nb_cfgs(fleet.tables, "hv1") == (7, 7)
    list(fleet.tables["Fleet"].rows.values())[0].nb_cfg = 8
    write(fleet, want, converged=False)
    assert status.nb_cfgs(fleet.tables, "hv1") == (8, 7)
    assert status.nb_cfgs(fleet.tables, "hv2") == (8, None)
    assert status.nb_cfgs(fakes.Fleet().tables, "hv1") == (None, None)


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
