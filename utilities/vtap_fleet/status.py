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

"""What the agent writes back to the fleet database: the host's Chassis
row and one Tap_Status row per fleet tap and bridge (ports, output,
backend or why there is none, statistics), at most a batch of status rows
per transaction, and the policy generation (nb_cfg) the host applied."""

from vtap_fleet.local import TAP_PREFIX


def wanted(system_id, taps, local_taps):
    """The Tap_Status rows the host should have, as {(fleet tap name,
    bridge name): {column: value}}, from the DesiredTaps 'taps' (after the
    local reconciliation set their rows) and the host's Tap rows
    'local_taps' (by UUID), which have the datapath's status and
    statistics."""
    want = {}
    for (br_uuid, name), d in taps.items():
        st = {"chassis": system_id,
              "fleet_tap": name, "bridge": d.bridge.name,
              "tap": "", "ports": sorted(p.name for p in d.ports),
              "output_port": "", "backend": "", "reason": d.reason,
              "statistics": {}}
        if d.row is not None and d.output is not None:
            st["tap"] = TAP_PREFIX + name
            st["output_port"] = d.output.name
            # A row just inserted is not in the IDL yet.
            row = local_taps.get(d.row.uuid)
            if row is not None:
                status = row.status
                st["backend"] = status.get("backend", "")
                st["reason"] = status.get("error", status.get("reason", ""))
                st["statistics"] = dict(row.statistics)
        want[(name, d.bridge.name)] = st
    return want


def reconcile(tables, txn, system_id, hostname, want, converged, budget):
    """Writes into 'txn' (of the fleet database, whose IDL tables are
    'tables') the host's Chassis row (name 'system_id', 'hostname') and its
    status rows 'want' (as wanted() returns them): at most 'budget' status
    rows inserted, changed or deleted, so that a host with many taps (or
    one that was away while the fleet changed) does not hold up the
    cluster and every other host's writes with one huge transaction.  Once
    the host is 'converged' (it applied the policy) and no status row is
    left for a later batch, reports the fleet's nb_cfg as applied.

    Returns (whether it wrote anything, whether status rows are left for
    a later transaction)."""
    chassis = None
    for ch in tables["Chassis"].rows.values():
        if ch.name == system_id:
            chassis = ch
    changed = False
    new_chassis = chassis is None
    if new_chassis:
        chassis = txn.insert(tables["Chassis"])
        chassis.name = system_id
        chassis.nb_cfg = 0
        changed = True
    if getattr(chassis, "hostname", None) != hostname:
        chassis.hostname = hostname
        changed = True

    pending = False
    have = {}
    for row in [] if new_chassis else chassis.status:
        key = (row.fleet_tap, row.bridge)
        if key not in want or key in have:
            if budget <= 0:
                pending = True
                continue
            chassis.delvalue("status", row)
            budget -= 1
            changed = True
            continue
        have[key] = row
        diff = []
        for column, value in want[key].items():
            current = getattr(row, column)
            if column == "statistics":
                current = dict(current)
            elif column == "ports":
                current = sorted(current)
            if current != value:
                diff.append((column, value))
        if diff and budget <= 0:
            pending = True
        elif diff:
            for column, value in diff:
                setattr(row, column, value)
            budget -= 1
            changed = True
    new_rows = []
    for key, st in sorted(want.items()):
        if key in have:
            continue
        if budget <= 0:
            pending = True
            break
        row = txn.insert(tables["Tap_Status"])
        for column, value in st.items():
            setattr(row, column, value)
        new_rows.append(row)
        budget -= 1
        changed = True
    if new_chassis:
        chassis.status = new_rows
    else:
        for row in new_rows:
            chassis.addvalue("status", row)

    fleet = list(tables["Fleet"].rows.values())
    if (converged and fleet and not pending
            and (new_chassis or chassis.nb_cfg != fleet[0].nb_cfg)):
        chassis.nb_cfg = fleet[0].nb_cfg
        changed = True
    return changed, pending


def nb_cfgs(tables, system_id):
    """(the fleet's nb_cfg, the one host 'system_id' applied: its Chassis
    row's), from the fleet database's IDL 'tables' as the agent sees them;
    None for one it has not seen (no Fleet row yet, no Chassis row yet)."""
    seen = applied = None
    for fleet in tables["Fleet"].rows.values():
        seen = fleet.nb_cfg
    for ch in tables["Chassis"].rows.values():
        if ch.name == system_id:
            applied = ch.nb_cfg
    return seen, applied
