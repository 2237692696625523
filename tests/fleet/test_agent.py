# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The agent's connection-status, whose "key: value" lines
ovs-vtap-exporter reads (vtap_metrics.agent.parse_status)."""

import types

from vtap_fleet import agent
from vtap_fleet import status

import fakes


class Reconnect(object):
    def get_name(self):
        return "tcp:203.0.113.21:6644"

    def get_probe_interval(self):
        return 5000

    def get_max_backoff(self):
        return 8000


def connected(idl, up=True):
    """'idl' with the session that is_connected() and the status ask."""
    idl._session = types.SimpleNamespace(is_connected=lambda: up,
                                         reconnect=Reconnect())
    return idl


def stand_in(central, system_id="hv1"):
    """An Agent's state without its daemon."""
    return types.SimpleNamespace(
        system_id=system_id,
        options=types.SimpleNamespace(ovs_db="unix:/run/openvswitch/db.sock"),
        local=connected(types.SimpleNamespace()), central=central,
        central_remote=central and "tcp:203.0.113.21:6644", idle=None,
        n_recomputes=4, n_local_txns=2)


def test_connection_status_with_nb_cfgs():
    fleet = connected(fakes.Fleet())
    fleet.tables["Fleet"].add(nb_cfg=8)
    fleet.tables["Chassis"].add(name="hv1", hostname="host1", nb_cfg=7,
                                status=[])
    assert agent.Agent.status_text(stand_in(fleet)) == """\
system-id: hv1
local database: unix:/run/openvswitch/db.sock (connected)
fleet database: tcp:203.0.113.21:6644 (connected)
fleet remote: tcp:203.0.113.21:6644, inactivity probe 5000 ms, \
max backoff 8000 ms
recomputes: 4
local transactions: 2
nb_cfg: 8
applied nb_cfg: 7
"""


def test_connection_status_before_the_host_reported():
    """No Chassis row yet: no applied nb_cfg (the exporter then has no
    lag to give); disconnected, the last figures seen."""
    fleet = connected(fakes.Fleet(), up=False)
    fleet.tables["Fleet"].add(nb_cfg=3)
    text = agent.Agent.status_text(stand_in(fleet))
    assert "fleet database: tcp:203.0.113.21:6644 (not connected)\n" in text
    assert text.endswith("local transactions: 2\nnb_cfg: 3\n")
    assert status.nb_cfgs(fleet.tables, "hv1") == (3, None)


def test_connection_status_idle():
    """No fleet database: neither figure."""
    text = agent.Agent.status_text(stand_in(None, system_id=None))
    assert "fleet database: none (not configured)\n" in text
    assert "nb_cfg" not in text
