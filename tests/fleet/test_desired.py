# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.desired: which fleet tap goes on which of a host's bridges,
with which VM ports and which output."""

from vtap_fleet import desired
from vtap_fleet.desired import DesiredTunnel

import fakes


def setup():
    host, fleet = fakes.Host(), fakes.Fleet()
    host.port("br-int", "vm1", iface_id="vm1",
              attached_mac="00:00:5E:00:53:11", vtap_ip="198.51.100.11/24")
    host.port("br-int", "vm2", iface_id="vm2",
              attached_mac="00:00:5e:00:53:21",
              vtap_ip="198.51.100.21 2001:db8::21")
    host.port("br-int", "mon0")
    host.port("br-ex", "vm3", iface_id="vm3", vtap_ip="203.0.113.31")
    return host, fleet


def ports(taps):
    return {(d.bridge.name, name): sorted(p.name for p in d.ports)
            for (br, name), d in taps.items()}


def test_targets():
    host, fleet = setup()
    gre = fleet.collector("c-gre", key=2)
    fleet.tap("by-id", "iface-id=vm1", gre)
    fleet.tap("by-mac", "mac=00:00:5e:00:53:11", gre)
    fleet.tap("by-net", "ip=198.51.100.0/24", gre)
    fleet.tap("by-ip", "ip=198.51.100.21", gre)
    fleet.tap("by-v6", "ip=2001:db8::/64", gre)
    fleet.tap("nothing", "iface-id=vm9", gre)
    fleet.tap("anywhere", "ip=0.0.0.0/0", gre)
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    assert ports(taps) == {
        ("br-int", "by-id"): ["vm1"],
        ("br-int", "by-mac"): ["vm1"],
        ("br-int", "by-net"): ["vm1", "vm2"],
        ("br-int", "by-ip"): ["vm2"],
        ("br-int", "by-v6"): ["vm2"],
        ("br-int", "anywhere"): ["vm1", "vm2"],
        ("br-ex", "anywhere"): ["vm3"],
    }


def test_disabled_taps_are_left_out():
    host, fleet = setup()
    gre = fleet.collector("c-gre")
    fleet.tap("off", "iface-id=vm1", gre, enabled=[False])
    fleet.tap("on", "iface-id=vm1", gre, enabled=[True])
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    assert ports(taps) == {("br-int", "on"): ["vm1"]}


def test_one_tunnel_per_bridge_and_collector():
    host, fleet = setup()
    gre = fleet.collector("c-gre", key=2)
    erspan = fleet.collector("c-erspan", type="erspan", key=1, erspan_idx=7)
    fleet.tap("t1", "ip=0.0.0.0/0", gre)
    fleet.tap("t2", "iface-id=vm1", gre)
    fleet.tap("t3", "iface-id=vm2", erspan)
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    gre_name = "vtap-" + str(gre.uuid)[:8]
    erspan_name = "vtap-" + str(erspan.uuid)[:8]
    want = [
        ("br-int", gre_name, "gre", {"key": "2", "remote_ip": "203.0.113.1"}),
        ("br-ex", gre_name, "gre", {"key": "2", "remote_ip": "203.0.113.1"}),
        ("br-int", erspan_name, "erspan",
         {"key": "1", "erspan_idx": "7", "remote_ip": "203.0.113.1"}),
    ]
    assert sorted((d.bridge.name, name, d.type, d.options)
                  for (br, name), d in tunnels.items()) == sorted(want)
    br_int = host.bridge("br-int").uuid
    assert taps[(br_int, "t1")].output is taps[(br_int, "t2")].output
    assert isinstance(taps[(br_int, "t3")].output, DesiredTunnel)


def test_local_collector():
    host, fleet = setup()
    mon = fleet.collector("mon", type="local", port="mon0")
    fleet.tap("t-int", "iface-id=vm1", mon)
    fleet.tap("t-ex", "iface-id=vm3", mon)
    fleet.tap("t-self", "ip=0.0.0.0/0", mon)
    host.bridge("br-int").ports[2].interfaces[0].external_ids["vtap-ip"] = \
        "198.51.100.99"         # mon0 is a VM port too, then.
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    assert tunnels == {}
    br_int, br_ex = host.bridge("br-int").uuid, host.bridge("br-ex").uuid
    assert taps[(br_int, "t-int")].output.name == "mon0"
    assert taps[(br_ex, "t-ex")].output is None
    assert taps[(br_ex, "t-ex")].reason == \
        "collector mon: no port mon0 on bridge br-ex"
    assert taps[(br_int, "t-self")].output is None
    assert taps[(br_int, "t-self")].reason == \
        "collector port mon0 is also a target port"


def test_unusable_collector():
    host, fleet = setup()
    bad = fleet.collector("bad", remote_ip=None)
    bad.remote_ip = []
    fleet.tap("t", "iface-id=vm1", bad)
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    d = taps[(host.bridge("br-int").uuid, "t")]
    assert (d.output, d.reason) == (None, "collector bad: unusable")


def test_the_agents_tunnel_ports_are_not_vm_ports():
    host, fleet = setup()
    host.port("br-int", "vtap-12345678", iface_id="vm1",
              port_ids={desired.OWNER_COLLECTOR: "c"})
    fleet.tap("t", "iface-id=vm1", fleet.collector("c"))
    taps, tunnels = desired.desired(host.bridges(), fleet.taps())
    assert ports(taps) == {("br-int", "t"): ["vm1"]}
