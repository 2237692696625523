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
row (with its heartbeat), one Tap_Status row per fleet tap and bridge
(ports, output, backend or why there is none, copy errors, statistics),
one VM_Port row per VM port the host has (what a console shows as the
fleet's VMs), at most a batch of child rows per transaction, and the
policy generation (nb_cfg) the host applied."""

from vtap_fleet import desired
from vtap_fleet.local import TAP_PREFIX

# Chassis other_config key: the agent's heartbeat interval (ms), so that a
# reader knows how old a heartbeat may be before the agent counts as gone.
HEARTBEAT_INTERVAL_KEY = "heartbeat-interval"


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
              "copy_error": "", "statistics": {}}
        if d.row is not None and d.output is not None:
            st["tap"] = TAP_PREFIX + name
            st["output_port"] = d.output.name
            # A row just inserted is not in the IDL yet.
            row = local_taps.get(d.row.uuid)
            if row is not None:
                status = row.status
                st["backend"] = status.get("backend", "")
                st["reason"] = status.get("error", status.get("reason", ""))
                st["copy_error"] = status.get("copy_error", "")
                st["statistics"] = dict(row.statistics)
        want[(name, d.bridge.name)] = st
    return want


def vm_ports(system_id, bridges):
    """The VM_Port rows the host should have, as {(bridge name, port
    name): {column: value}}: every port of 'bridges' whose interface the
    compute service named (external_ids iface-id, attached-mac or
    vtap-ip, what fleet taps target), but the agent's tunnel ports."""
    want = {}
    for br, port, iface in desired.vm_interfaces(bridges):
        ids = iface.external_ids
        if (br.name, port.name) in want or not (
                "iface-id" in ids or "attached-mac" in ids
                or desired.IP_KEY in ids):
            continue
        want[(br.name, port.name)] = {
            "chassis": system_id, "bridge": br.name, "port": port.name,
            "iface_id": ids.get("iface-id", ""),
            "mac": ids.get("attached-mac", "").lower(),
            "ips": sorted(ids.get(desired.IP_KEY, "").split())}
    return want


def _key_status(row):
    return (row.fleet_tap, row.bridge)


def _key_vm_port(row):
    return (row.bridge, row.port)


def _sync_children(tables, txn, chassis, new_chassis, column, table, key_of,
                   want, budget):
    """Makes the rows that 'chassis' refers to in 'column' (of 'table')
    those of 'want' ({key: {column: value}}, 'key_of' a row's key),
    inserting, changing or deleting at most 'budget' rows.  Returns
    (whether it wrote anything, budget left, whether rows are left for a
    later transaction)."""
    changed = pending = False
    have = {}
    for row in [] if new_chassis else getattr(chassis, column):
        key = key_of(row)
        if key not in want or key in have:
            if budget <= 0:
                pending = True
                continue
            chassis.delvalue(column, row)
            budget -= 1
            changed = True
            continue
        have[key] = row
        diff = []
        for col, value in want[key].items():
            current = getattr(row, col)
            if isinstance(value, dict):
                current = dict(current)
            elif isinstance(value, list):
                current = sorted(current)
            if current != value:
                diff.append((col, value))
        if diff and budget <= 0:
            pending = True
        elif diff:
            for col, value in diff:
                setattr(row, col, value)
            budget -= 1
            changed = True
    new_rows = []
    for key, values in sorted(want.items()):
        if key in have:
            continue
        if budget <= 0:
            pending = True
            break
        row = txn.insert(tables[table])
        for col, value in values.items():
            setattr(row, col, value)
        new_rows.append(row)
        budget -= 1
        changed = True
    if new_chassis:
        setattr(chassis, column, new_rows)
    else:
        for row in new_rows:
            chassis.addvalue(column, row)
    return changed, budget, pending


def reconcile(tables, txn, system_id, hostname, want, converged, budget,
              vms=None, heartbeat=None):
    """Writes into 'txn' (of the fleet database, whose IDL tables are
    'tables') the host's Chassis row (name 'system_id', 'hostname') and its
    status rows 'want' (as wanted() returns them) and VM ports 'vms' (as
    vm_ports() returns them; None leaves them alone): at most 'budget'
    child rows inserted, changed or deleted, so that a host with many taps
    (or one that was away while the fleet changed) does not hold up the
    cluster and every other host's writes with one huge transaction.  Once
    the host is 'converged' (it applied the policy) and no status row is
    left for a later batch, reports the fleet's nb_cfg as applied.
    'heartbeat', if given, is (the time in ms, the interval in ms) to
    write.

    Returns (whether it wrote anything, whether rows are left for a later
    transaction)."""
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
    if heartbeat is not None:
        now, interval = heartbeat
        chassis.heartbeat = [now]
        other = {} if new_chassis else dict(chassis.other_config)
        if other.get(HEARTBEAT_INTERVAL_KEY) != str(interval):
            other[HEARTBEAT_INTERVAL_KEY] = str(interval)
            chassis.other_config = other
        changed = True

    wrote, budget, pending = _sync_children(
        tables, txn, chassis, new_chassis, "status", "Tap_Status",
        _key_status, want, budget)
    changed |= wrote
    vm_pending = False
    if vms is not None:
        wrote, budget, vm_pending = _sync_children(
            tables, txn, chassis, new_chassis, "vm_ports", "VM_Port",
            _key_vm_port, vms, budget)
        changed |= wrote

    # The VM ports are what the host has, not the policy: nb_cfg does not
    # wait for them.
    fleet = list(tables["Fleet"].rows.values())
    if (converged and fleet and not pending
            and (new_chassis or chassis.nb_cfg != fleet[0].nb_cfg)):
        chassis.nb_cfg = fleet[0].nb_cfg
        changed = True
    return changed, pending or vm_pending
