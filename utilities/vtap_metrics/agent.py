# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""What ovs-vtap-agent tells of itself: its unixctl command
connection-status, one "key: value" line each:

    system-id: hv1
    local database: unix:/run/openvswitch/db.sock (connected)
    fleet database: tcp:203.0.113.21:6644,... (connected)
    fleet remote: tcp:203.0.113.21:6644, inactivity probe 5000 ms, ...
    recomputes: 12
    local transactions: 3
    nb_cfg: 8
    applied nb_cfg: 8

"nb_cfg" is the fleet's policy generation (Fleet nb_cfg) the agent has
seen, "applied nb_cfg" the one this host applied (its Chassis nb_cfg);
each only once the agent has seen it."""

import re

from vtap_metrics import unixctl
from vtap_metrics.families import AgentFigures

TARGET = 'ovs-vtap-agent'
_STATE_RE = re.compile(r'^(.*) \((connected|not connected|not configured)\)$')


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_status(text):
    """AgentFigures from connection-status's output."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(': ')
        if sep:
            fields[key.strip()] = value.strip()

    def state(key):
        m = _STATE_RE.match(fields.get(key, ''))
        return (m.group(1), m.group(2)) if m else (None, None)

    fleet_remote, fleet_state = state('fleet database')
    _, local_state = state('local database')
    system_id = fields.get('system-id')
    return AgentFigures(
        up=True,
        system_id=None if system_id in (None, 'None') else system_id,
        fleet_remote=None if fleet_remote in (None, 'none') else fleet_remote,
        fleet_configured=None if fleet_state is None
        else int(fleet_state != 'not configured'),
        fleet_connected=None if fleet_state is None
        else int(fleet_state == 'connected'),
        local_connected=None if local_state is None
        else int(local_state == 'connected'),
        recomputes=_int(fields.get('recomputes')),
        local_transactions=_int(fields.get('local transactions')),
        nb_cfg=_int(fields.get('nb_cfg')),
        applied_nb_cfg=_int(fields.get('applied nb_cfg')))


def read(rundir=None, timeout=5.0):
    """(AgentFigures or None where no agent runs here, whether it
    answered)."""
    if unixctl.read_pid(TARGET, rundir) is None:
        return None, True           # A stale pidfile: the agent died.
    try:
        path = unixctl.target_socket(TARGET, rundir)
        text = unixctl.call(path, 'connection-status', timeout=timeout)
    except unixctl.UnixctlError:
        return AgentFigures(up=False, system_id=None, fleet_remote=None,
                            fleet_configured=None, fleet_connected=None,
                            local_connected=None, recomputes=None,
                            local_transactions=None, nb_cfg=None,
                            applied_nb_cfg=None), False
    return parse_status(text), True
