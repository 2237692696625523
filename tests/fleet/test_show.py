# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.show and ovs-vtap-fleetctl's help: the text an operator
reads."""

import pytest

from vtap_fleet import cli
from vtap_fleet import show

import fakes


def fleet_with_hosts():
    fleet = fakes.Fleet()
    gre = fleet.collector("c-gre", key=2)
    fleet.collector("mon", type="local", port="mon0")
    fleet.tap("t-ip", "ip=198.51.100.16/28", gre, direction="from-lport",
              match="icmp", offload=["native"], enabled=[True])
    fleet.tap("t-none", "iface-id=vm9", gre, snaplen=[64])
    fleet.tables["Fleet"].add(nb_cfg=3)
    status = fleet.tables["Tap_Status"]
    for host, n in (("hv3", 3), ("hv2", 2)):
        st = status.add(fleet_tap="t-ip", bridge="br-int",
                        tap="fleet-t-ip", ports=["vm%d" % n],
                        output_port="vtap-1234abcd", backend="native",
                        reason="", statistics={"tx_packets": 10 * n,
                                               "tx_bytes": 980 * n})
        fleet.tables["Chassis"].add(name=host, hostname=host + ".example",
                                    nb_cfg=n, status=[st])
    return fleet


def test_show():
    assert show.show(fleet_with_hosts()) == [
        "collector c-gre (gre to 203.0.113.1 key=2)",
        "collector mon (local port mon0)",
        'fleet tap t-ip: ip=198.51.100.16/28 from-lport -> c-gre '
        'match="icmp" offload=native enabled=true',
        "    hv2: br-int tap fleet-t-ip ports vm2 output vtap-1234abcd "
        "backend native tx_bytes=1960 tx_packets=20",
        "    hv3: br-int tap fleet-t-ip ports vm3 output vtap-1234abcd "
        "backend native tx_bytes=2940 tx_packets=30",
        "    fleet: 2 hosts tx_bytes=4900 tx_packets=50",
        "fleet tap t-none: iface-id=vm9 both -> c-gre snaplen=64",
        "    fleet: 0 hosts",
        "chassis hv2 (hv2.example): nb_cfg 2 (behind: nb_cfg 3), 1 tap",
        "chassis hv3 (hv3.example): nb_cfg 3, 1 tap",
    ]


def test_a_host_that_cannot_apply_a_tap():
    fleet = fleet_with_hosts()
    st = list(fleet.tables["Tap_Status"].rows.values())[0]
    st.tap = st.output_port = st.backend = ""
    st.statistics = {}
    st.reason = "collector mon: no port mon0 on bridge br-int"
    ch = [c for c in fleet.tables["Chassis"].rows.values()
          if st in c.status][0]
    assert show.status_text(ch, st) == (
        "    hv3: br-int ports vm3 (collector mon: no port mon0 on bridge "
        "br-int)")


def test_help_lists_the_tap_settings(capsys):
    with pytest.raises(SystemExit):
        cli.usage()
    out = capsys.readouterr().out
    assert """\
  tap-add TAP TARGET COLLECTOR [COLUMN[:KEY]=VALUE]...
                              add a fleet tap; TARGET is mac=MAC,
                              ip=IP[/PREFIX] or iface-id=ID; COLUMN is one
                              of direction, match, output_vlan, snaplen,
                              sampling, max_rate, offload, enabled,
                              external_ids
""" in out
