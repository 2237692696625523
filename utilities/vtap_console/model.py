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

"""The fleet as the console shows it: a snapshot, plain data built from
the fleet database's tables (IDL rows, or anything with their
attributes), with what the database does not hold itself: copies and
errors per second, their recent history, whether each agent is alive, and
what is wrong, worst first.

The Tracker remembers, from one snapshot to the next, the counters and
heartbeats it saw and when: rates are the counters' growth over the last
RATE_WINDOW seconds of the console's own clock, so that they fall to zero
once copies stop even though the agents only write counters that
changed."""

import collections

from vtap_fleet import desired
from vtap_fleet import schema
from vtap_fleet.status import HEARTBEAT_INTERVAL_KEY

# Copies/s are the growth of the counters over this many seconds.
RATE_WINDOW = 10.0
# A point of each tap and host's history every HISTORY_STEP seconds, for
# HISTORY_POINTS points (five minutes), the last one the latest rates.
HISTORY_STEP = 2.0
HISTORY_POINTS = 150
# An agent is gone after this many heartbeat intervals without one.
HEARTBEAT_MISSES = 3
DEFAULT_HEARTBEAT_INTERVAL = 10000

# The counters of a tap on a host that make its copies and its errors.
COPIES = "tx_packets"
ERRORS = ("tx_errors", "tx_dropped")

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


def _opt(value):
    """An optional column's value, or None."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


class Series(object):
    """The samples of one tap on one host: (time, copies, errors)."""

    def __init__(self):
        self.samples = collections.deque()
        self.history = collections.deque(maxlen=HISTORY_POINTS)
        self.next_point = 0.0

    def add(self, now, copies, errors):
        if self.samples and (copies < self.samples[-1][1]
                             or errors < self.samples[-1][2]):
            self.samples.clear()        # The counters started again.
        self.samples.append((now, copies, errors))
        while len(self.samples) > 2 and \
                self.samples[1][0] <= now - RATE_WINDOW:
            self.samples.popleft()

    def rates(self):
        """(copies/s, errors/s) over the window."""
        if len(self.samples) < 2:
            return 0.0, 0.0
        t0, c0, e0 = self.samples[0]
        t1, c1, e1 = self.samples[-1]
        if t1 <= t0:
            return 0.0, 0.0
        return (c1 - c0) / (t1 - t0), (e1 - e0) / (t1 - t0)

    def point(self, now, rates):
        point = (round(now, 3), round(rates[0], 3), round(rates[1], 3))
        if now >= self.next_point or not self.history:
            self.history.append(point)
            self.next_point = now + HISTORY_STEP
        else:
            self.history[-1] = point


class Tracker(object):
    """What the console saw of the fleet over time."""

    def __init__(self):
        self.series = {}        # (tap, chassis, bridge) -> Series
        self.heartbeats = {}    # chassis -> (heartbeat, time first seen)
        self.generation = 0

    def rates(self, key, now, statistics):
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = Series()
        s.add(now, statistics.get(COPIES, 0),
              sum(statistics.get(k, 0) for k in ERRORS))
        rates = s.rates()
        s.point(now, rates)
        return rates, list(s.history)

    def alive(self, chassis, heartbeat, interval, now):
        """(whether the agent of 'chassis' is alive, seconds since its
        last heartbeat), or (None, None) if it writes none."""
        if heartbeat is None:
            return None, None
        seen = self.heartbeats.get(chassis)
        if seen is None or seen[0] != heartbeat:
            # A heartbeat seen for the first time counts from when the
            # agent wrote it, unless its clock is ahead of ours.
            first = now if seen is not None else min(now,
                                                     heartbeat / 1000.0)
            seen = self.heartbeats[chassis] = (heartbeat, first)
        age = max(0.0, now - seen[1])
        return age < HEARTBEAT_MISSES * interval / 1000.0, age

    def forget(self, keys, chassis):
        """Drops what is no longer in the database."""
        for key in set(self.series) - keys:
            del self.series[key]
        for name in set(self.heartbeats) - chassis:
            del self.heartbeats[name]


def collector_json(c):
    return {"name": c.name, "type": c.type, "port": _opt(c.port),
            "remote_ip": _opt(c.remote_ip), "options": dict(c.options)}


def tap_settings(t):
    """A fleet tap's settings, as the API takes them."""
    settings = {}
    for column in schema.TAP_SETTINGS:
        value = getattr(t, column)
        settings[column] = dict(value) if column == "external_ids" \
            else _opt(value)
    return settings


class _Iface(object):
    """A VM port as desired.target_matches() looks at an interface."""

    def __init__(self, vm):
        self.external_ids = {"iface-id": vm["iface_id"],
                             "attached-mac": vm["mac"],
                             desired.IP_KEY: " ".join(vm["ips"])}


def snapshot(tables, now, tracker, database=None):
    """The fleet at time 'now' (seconds) from the fleet database's IDL
    'tables' ('database' says where it is and whether the console is
    connected to it)."""
    tracker.generation += 1
    fleet_rows = list(tables["Fleet"].rows.values()) if tables else []
    nb_cfg = fleet_rows[0].nb_cfg if fleet_rows else 0
    snap = {"generation": tracker.generation, "time": now,
            "database": database or {}, "nb_cfg": nb_cfg,
            "hosts": [], "taps": [], "collectors": [], "vms": [],
            "problems": [], "copies_per_s": 0.0, "errors_per_s": 0.0,
            "has_vms": bool(tables) and "VM_Port" in tables}
    if not tables:
        return snap

    problems = snap["problems"]
    taps = {}
    for t in sorted(tables["Fleet_Tap"].rows.values(),
                    key=lambda r: r.name):
        taps[t.name] = {
            "name": t.name, "target": "%s=%s" % (t.target_type, t.target),
            "target_type": t.target_type, "direction": t.direction,
            "collector": t.collector.name, "settings": tap_settings(t),
            "enabled": t.enabled != [False], "hosts": [], "totals": {},
            "copies_per_s": 0.0, "errors_per_s": 0.0, "vms": []}
    collectors = {}
    for c in sorted(tables["Collector"].rows.values(),
                    key=lambda r: r.name):
        d = collector_json(c)
        d.update({"taps": sorted(t["name"] for t in taps.values()
                                 if t["collector"] == c.name),
                  "hosts": [], "copies_per_s": 0.0})
        collectors[c.name] = d

    keys = set()
    for ch in sorted(tables["Chassis"].rows.values(), key=lambda r: r.name):
        heartbeat = _opt(getattr(ch, "heartbeat", None))
        try:
            interval = int(ch.other_config.get(HEARTBEAT_INTERVAL_KEY,
                                               DEFAULT_HEARTBEAT_INTERVAL))
        except ValueError:
            interval = DEFAULT_HEARTBEAT_INTERVAL
        connected, age = tracker.alive(ch.name, heartbeat, interval, now)
        host = {"name": ch.name, "hostname": ch.hostname,
                "nb_cfg": ch.nb_cfg, "lag": max(0, nb_cfg - ch.nb_cfg),
                "connected": connected,
                "heartbeat_age": None if age is None else round(age, 1),
                "taps": 0, "errors": 0, "vms": 0, "copies_per_s": 0.0}
        if connected is False:
            problems.append({"severity": ERROR, "kind": "host",
                             "name": ch.name,
                             "message": "agent not heard from for %d s"
                             % age})
        elif host["lag"]:
            problems.append({"severity": WARNING, "kind": "host",
                             "name": ch.name,
                             "message": "has not applied the policy yet "
                             "(nb_cfg %d of %d)" % (ch.nb_cfg, nb_cfg)})
        for st in sorted(ch.status, key=lambda r: (r.fleet_tap, r.bridge)):
            key = (st.fleet_tap, ch.name, st.bridge)
            keys.add(key)
            statistics = dict(st.statistics)
            (copies, errors), history = tracker.rates(key, now, statistics)
            copy_error = getattr(st, "copy_error", "")
            entry = {"chassis": ch.name, "bridge": st.bridge, "tap": st.tap,
                     "ports": sorted(st.ports),
                     "output_port": st.output_port, "backend": st.backend,
                     "reason": st.reason, "copy_error": copy_error,
                     "statistics": statistics, "copies_per_s": copies,
                     "errors_per_s": errors, "history": history}
            if st.tap:
                host["taps"] += 1
            wrong = None
            if not st.tap:
                wrong = st.reason or "no tap"
            elif copy_error:
                wrong = "copies fail: %s" % copy_error
            if wrong:
                host["errors"] += 1
                problems.append({"severity": ERROR, "kind": "tap",
                                 "name": st.fleet_tap,
                                 "message": "on %s (%s): %s"
                                 % (ch.name, st.bridge, wrong)})
            elif errors > 0:
                problems.append({"severity": WARNING, "kind": "tap",
                                 "name": st.fleet_tap,
                                 "message": "on %s: %.1f copies/s fail"
                                 % (ch.name, errors)})
            host["copies_per_s"] += copies
            snap["copies_per_s"] += copies
            snap["errors_per_s"] += errors
            tap = taps.get(st.fleet_tap)
            if tap is None:
                continue
            tap["hosts"].append(entry)
            tap["copies_per_s"] += copies
            tap["errors_per_s"] += errors
            for k, v in statistics.items():
                tap["totals"][k] = tap["totals"].get(k, 0) + v
            c = collectors.get(tap["collector"])
            if c is not None and st.tap:
                if ch.name not in c["hosts"]:
                    c["hosts"].append(ch.name)
                c["copies_per_s"] += copies
        for vm in sorted(getattr(ch, "vm_ports", []),
                         key=lambda r: (r.bridge, r.port)):
            host["vms"] += 1
            snap["vms"].append({"iface_id": vm.iface_id, "mac": vm.mac,
                                "ips": sorted(vm.ips), "chassis": ch.name,
                                "bridge": vm.bridge, "port": vm.port,
                                "taps": []})
        snap["hosts"].append(host)
    tracker.forget(keys, set(h["name"] for h in snap["hosts"]))

    # Which taps select each VM: the agents' own rule.
    fleet_taps = list(tables["Fleet_Tap"].rows.values())
    for vm in snap["vms"]:
        iface = _Iface(vm)
        for t in fleet_taps:
            if desired.target_matches(t, iface):
                vm["taps"].append(t.name)
                taps[t.name]["vms"].append(vm["iface_id"] or vm["port"])
        vm["taps"].sort()
    for tap in taps.values():
        if not tap["enabled"]:
            problems.append({"severity": INFO, "kind": "tap",
                             "name": tap["name"], "message": "disabled"})
        elif not tap["hosts"]:
            problems.append({"severity": WARNING, "kind": "tap",
                             "name": tap["name"],
                             "message": "selects no VM port on any host"})
    snap["taps"] = list(taps.values())
    snap["collectors"] = list(collectors.values())
    problems.sort(key=lambda p: (SEVERITY_ORDER[p["severity"]], p["kind"],
                                 p["name"]))
    return snap
