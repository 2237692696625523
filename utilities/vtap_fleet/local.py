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

"""The agent's reconciliation of the host's own Open_vSwitch database:
writes into a transaction what makes the host's Tap rows and tunnel ports
to collectors equal to what vtap_fleet.desired computed, touching only the
rows the agent owns (marked in their external_ids)."""

from vtap_fleet import schema
from vtap_fleet.desired import DesiredTunnel
from vtap_fleet.desired import OWNER_COLLECTOR

# Tap external_ids key that marks the agent's Tap rows (its value: the
# fleet tap's name).
OWNER_TAP = "vtap-fleet-tap"
# A fleet tap's Tap rows are named this and the fleet tap's name.
TAP_PREFIX = "fleet-"

# What the agent reads and writes in the host's database.
LOCAL_COLUMNS = {
    "Open_vSwitch": ["bridges", "external_ids", "next_cfg", "cur_cfg"],
    "Bridge": ["name", "ports", "taps"],
    "Port": ["name", "interfaces", "external_ids"],
    "Interface": ["name", "type", "options", "external_ids"],
    "Tap": list(schema.LOCAL_TAP_COLUMNS),
}


def reconcile(tables, txn, taps, tunnels):
    """Writes into 'txn' (of the host's database, whose IDL tables are
    'tables') what brings it to 'taps' and 'tunnels' (as desired.desired()
    returns them).  Sets each DesiredTap's and DesiredTunnel's 'row'; a
    DesiredTap that cannot have a Tap row gets a 'reason' and no output.
    Returns whether it wrote anything."""
    changed = False

    # Tunnel ports to collectors.
    for br in tables["Bridge"].rows.values():
        for port in br.ports:
            if OWNER_COLLECTOR not in port.external_ids:
                continue
            d = tunnels.get((br.uuid, port.name))
            if d is None or d.row is not None:
                br.delvalue("ports", port)
                changed = True
                continue
            d.row = port
            iface = port.interfaces[0] if port.interfaces else None
            if iface is None:
                continue
            if iface.type != d.type:
                iface.type = d.type
                changed = True
            if dict(iface.options) != d.options:
                iface.options = d.options
                changed = True
    for (br_uuid, name), d in sorted(tunnels.items()):
        if d.row is not None:
            continue
        iface = txn.insert(tables["Interface"])
        iface.name = d.name
        iface.type = d.type
        iface.options = d.options
        port = txn.insert(tables["Port"])
        port.name = d.name
        port.interfaces = [iface]
        port.external_ids = {OWNER_COLLECTOR: d.collector.name}
        d.bridge.addvalue("ports", port)
        d.row = port
        changed = True

    # Tap rows.
    for br in tables["Bridge"].rows.values():
        names = {}
        for tap in br.taps:
            names[tap.name] = tap
        for tap in br.taps:
            owner = tap.external_ids.get(OWNER_TAP)
            if owner is None:
                continue
            d = taps.get((br.uuid, owner))
            if d is None or d.output is None or d.row is not None:
                br.delvalue("taps", tap)    # Gone, or a duplicate.
                changed = True
                continue
            d.row = tap
            changed |= update_tap(tap, d)
        for (br_uuid, name), d in sorted(taps.items()):
            if br_uuid != br.uuid or d.output is None or d.row is not None:
                continue
            tap_name = TAP_PREFIX + name
            if tap_name in names:
                d.reason = ("a tap named %s that the agent does not own "
                            "is on bridge %s" % (tap_name, br.name))
                d.output = None
                continue
            tap = txn.insert(tables["Tap"])
            tap.name = tap_name
            tap.external_ids = {OWNER_TAP: name}
            update_tap(tap, d, new=True)
            br.addvalue("taps", tap)
            d.row = tap
            changed = True
    return changed


def tap_columns(d):
    """The columns of the Tap row of DesiredTap 'd', but its name and
    external_ids."""
    t = d.fleet_tap
    output = d.output.row if isinstance(d.output, DesiredTunnel) \
        else d.output
    src = d.ports if t.direction in ("from-lport", "both") else []
    dst = d.ports if t.direction in ("to-lport", "both") else []
    want = {
        "select_src_port": sorted(src, key=lambda p: p.name),
        "select_dst_port": sorted(dst, key=lambda p: p.name),
        "output_port": [output],
    }
    for column in schema.COPIED_COLUMNS:
        want[column] = getattr(t, column)
    # A fleet tap that is disabled has no Tap row at all.
    want["enabled"] = []
    return want


def same(current, value):
    """Whether a column's 'current' value is 'value' (rows by UUID)."""
    if isinstance(current, list) and isinstance(value, list):
        return (sorted(str(getattr(x, "uuid", x)) for x in current)
                == sorted(str(getattr(x, "uuid", x)) for x in value))
    return current == value


def update_tap(tap, d, new=False):
    """Sets the columns of Tap row 'tap' that differ from what DesiredTap
    'd' wants (all of them if the row is 'new'); returns whether any
    did."""
    changed = False
    for column, value in tap_columns(d).items():
        if new or not same(getattr(tap, column), value):
            setattr(tap, column, value)
            changed = True
    return changed
