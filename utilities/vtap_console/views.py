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

"""What each page and API endpoint shows: a function of a snapshot
(vtap_console.model) per view, returning the JSON document that both the
REST API and the event stream send.  Each document has "fleet", the
hosts' progress, so that a page shows a change being applied wherever it
is."""


class NotFound(Exception):
    pass


def fleet(snap):
    """The policy generation and how far each host is with it."""
    return {"nb_cfg": snap["nb_cfg"], "database": snap["database"],
            "generation": snap["generation"], "time": snap["time"],
            "hosts": [{"name": h["name"], "nb_cfg": h["nb_cfg"],
                       "connected": h["connected"]}
                      for h in snap["hosts"]]}


def _doc(snap, **parts):
    parts["fleet"] = fleet(snap)
    return parts


def _without_history(tap):
    t = dict(tap)
    t["hosts"] = [{k: v for k, v in h.items() if k != "history"}
                  for h in tap["hosts"]]
    return t


def overview(snap):
    return _doc(snap, problems=snap["problems"], hosts=snap["hosts"],
                taps=[_summary(t) for t in snap["taps"]],
                collectors=[_collector_summary(c)
                            for c in snap["collectors"]],
                copies_per_s=snap["copies_per_s"],
                errors_per_s=snap["errors_per_s"],
                n_vms=len(snap["vms"]))


def _summary(t):
    return {"name": t["name"], "target": t["target"],
            "direction": t["direction"], "collector": t["collector"],
            "enabled": t["enabled"], "n_hosts": len(t["hosts"]),
            "backends": sorted(set(h["backend"] for h in t["hosts"]
                                   if h["backend"])),
            "copies_per_s": t["copies_per_s"],
            "errors_per_s": t["errors_per_s"],
            "tx_packets": t["totals"].get("tx_packets", 0)}


def _collector_summary(c):
    return {k: c[k] for k in ("name", "type", "port", "remote_ip",
                              "options", "taps", "hosts", "copies_per_s")}


def hosts(snap):
    return _doc(snap, hosts=snap["hosts"])


def taps(snap):
    return _doc(snap, taps=[_summary(t) for t in snap["taps"]])


def find(items, name, what):
    for item in items:
        if item["name"] == name:
            return item
    raise NotFound("no %s named %s" % (what, name))


def tap(snap, name, history=True):
    t = find(snap["taps"], name, "fleet tap")
    return _doc(snap, tap=t if history else _without_history(t))


def collectors(snap):
    return _doc(snap, collectors=[_collector_summary(c)
                                  for c in snap["collectors"]])


def collector(snap, name):
    return _doc(snap, collector=_collector_summary(
        find(snap["collectors"], name, "collector")))


def vms(snap):
    return _doc(snap, vms=snap["vms"], reported=snap["has_vms"])


def progress(snap, nb_cfg):
    """How far the hosts are with policy generation 'nb_cfg' (as
    ovs-vtap-fleetctl --wait=hv waits for it)."""
    behind = [h["name"] for h in snap["hosts"] if h["nb_cfg"] < nb_cfg]
    return _doc(snap, nb_cfg=nb_cfg, hosts=len(snap["hosts"]),
                applied=len(snap["hosts"]) - len(behind), behind=behind,
                done=not behind)


# The views the event stream serves: name -> (function, takes a name).
STREAMS = {
    "overview": (overview, False),
    "hosts": (hosts, False),
    "taps": (taps, False),
    "tap": (tap, True),
    "collectors": (collectors, False),
    "collector": (collector, True),
    "vms": (vms, False),
}
