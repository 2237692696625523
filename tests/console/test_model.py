# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_console.model: the snapshot of the fleet, copies/s from the
counters the agents copy, agents' liveness from their heartbeats, which
taps select which VM, and what is wrong, worst first."""

from vtap_console import model
from vtap_console import views

from consolefakes import FakeDB


class Hub(object):
    def publish(self, snap):
        self.snapshot = snap


def fleet():
    db = FakeDB(Hub())
    gre = db.fleet.collector("c-gre", key="2")
    mon = db.fleet.collector("mon", type="local", port="mon0")
    db.fleet.tap("by-ip", "ip=198.51.100.0/28", gre)
    db.fleet.tap("by-mac", "mac=00:00:5e:00:53:21", mon)
    db.fleet.tap("by-id", "iface-id=vm3", gre, enabled=[False])
    db.fleet.tap("nowhere", "iface-id=vm9", gre)
    return db


def snap(db, now):
    return model.snapshot(db.fleet.tables, now, db.tracker)


def by_ip(s):
    return [t for t in s["taps"] if t["name"] == "by-ip"][0]


def test_rates_from_counters_over_the_window():
    db = fleet()
    ch = db.host("hv1", status=[{"fleet_tap": "by-ip", "tap": "fleet-by-ip",
                                 "backend": "native",
                                 "statistics": {"tx_packets": 0}}])
    st = ch.status[0]
    s = snap(db, 100.0)
    assert by_ip(s)["copies_per_s"] == 0.0
    # The agent writes new counters every 5 s: 50 copies/s.
    for t in (105, 110, 115):
        st.statistics = {"tx_packets": (t - 100) * 50, "tx_errors": 0}
        s = snap(db, float(t))
    tap = by_ip(s)
    assert tap["copies_per_s"] == 50.0
    assert s["copies_per_s"] == 50.0
    assert s["hosts"][0]["copies_per_s"] == 50.0
    # Copies stop: within the window, the rate falls to zero.
    s = snap(db, 130.0)
    assert by_ip(s)["copies_per_s"] == 0.0
    # History: a point every 2 s at most, the last one the latest.
    points = by_ip(s)["hosts"][0]["history"]
    assert [p[0] for p in points] == [100.0, 105.0, 110.0, 115.0, 130.0]
    s = snap(db, 131.0)
    points = by_ip(s)["hosts"][0]["history"]
    assert [p[0] for p in points] == [100.0, 105.0, 110.0, 115.0, 131.0]
    # Counters that start again (a new tap row) are no negative rate.
    st.statistics = {"tx_packets": 10, "tx_errors": 0}
    s = snap(db, 131.0)
    assert by_ip(s)["copies_per_s"] == 0.0
    # Failed copies.
    st.statistics = {"tx_packets": 10, "tx_errors": 40}
    s = snap(db, 135.0)
    assert by_ip(s)["errors_per_s"] == 10.0
    assert [p["message"] for p in s["problems"]
            if p["name"] == "by-ip"] == ["on hv1: 10.0 copies/s fail"]


def test_liveness():
    db = fleet()
    db.host("fresh", heartbeat=99000)
    db.host("stale", heartbeat=50000)
    db.host("old-agent")
    s = snap(db, 100.0)
    alive = {h["name"]: (h["connected"], h["heartbeat_age"])
             for h in s["hosts"]}
    assert alive == {"fresh": (True, 1.0), "stale": (False, 50.0),
                     "old-agent": (None, None)}
    # Once seen, a heartbeat counts from when the console saw it change
    # (the agents' clocks may be off): the fresh one stops and goes.
    s = snap(db, 125.0)
    assert s["hosts"][0]["connected"] is True
    s = snap(db, 131.0)
    assert s["hosts"][0]["connected"] is False
    assert s["problems"][0] == {"severity": "error", "kind": "host",
                                "name": "fresh",
                                "message": "agent not heard from for 32 s"}


def test_vms_and_the_taps_that_select_them():
    db = fleet()
    db.host("hv1", vms=[("vm1", "vm1", "00:00:5e:00:53:11",
                         ["198.51.100.1"]),
                        ("vm2", "vm2", "00:00:5e:00:53:21",
                         ["198.51.100.21", "2001:db8::21"])])
    db.host("hv2", vms=[("vm3", "vm3", "00:00:5e:00:53:31",
                         ["198.51.100.3"])])
    s = snap(db, 1.0)
    assert [(v["iface_id"], v["chassis"], v["taps"]) for v in s["vms"]] == [
        ("vm1", "hv1", ["by-ip"]), ("vm2", "hv1", ["by-mac"]),
        ("vm3", "hv2", ["by-id", "by-ip"])]
    assert views.vms(s)["reported"] is True


def test_problems_worst_first():
    db = fleet()
    db.fleet.tables["Fleet"].rows.values().__iter__().__next__().nb_cfg = 4
    db.host("hv1", nb_cfg=3, heartbeat=1000, status=[
        {"fleet_tap": "by-ip", "reason": "collector mon: no port mon0 on "
         "bridge br-int"},
        {"fleet_tap": "by-mac", "tap": "fleet-by-mac", "backend": "ebpf",
         "copy_error": "device down"}])
    s = snap(db, 1.0)
    assert [(p["severity"], p["kind"], p["name"], p["message"])
            for p in s["problems"]] == [
        ("error", "tap", "by-ip", "on hv1 (br-int): collector mon: no port "
         "mon0 on bridge br-int"),
        ("error", "tap", "by-mac", "on hv1 (br-int): copies fail: device "
         "down"),
        ("warning", "host", "hv1", "has not applied the policy yet (nb_cfg "
         "3 of 4)"),
        ("warning", "tap", "nowhere", "selects no VM port on any host"),
        ("info", "tap", "by-id", "disabled")]
    host = s["hosts"][0]
    assert (host["lag"], host["taps"], host["errors"]) == (1, 1, 2)
    # The collector: which taps and hosts send to it.
    mon = [c for c in s["collectors"] if c["name"] == "mon"][0]
    assert (mon["taps"], mon["hosts"]) == (["by-mac"], ["hv1"])
    p = views.progress(s, 4)
    assert (p["done"], p["behind"]) == (False, ["hv1"])


def test_no_database_yet():
    s = model.snapshot(None, 1.0, model.Tracker(),
                       {"remote": "tcp:x", "connected": False})
    assert views.overview(s)["fleet"]["database"]["connected"] is False
    assert views.vms(s)["vms"] == []
