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

"""What the fleet's policy asks for on one host: from the fleet taps and
the host's bridges, ports and interfaces, which tap goes on which bridge
with which VM ports, and which tunnel ports to collectors it needs.

A pure function of rows (anything with the IDL rows' attributes): the
agent's reconciliation then makes the host's database match it."""

import ipaddress

# Interface external_ids key that declares a VM port's IP addresses.
IP_KEY = "vtap-ip"
# Port external_ids key that marks the agent's tunnel ports to collectors
# (its value: the collector's name).
OWNER_COLLECTOR = "vtap-fleet-collector"
TUNNEL_TYPES = ("gre", "erspan", "vxlan")


class DesiredTap(object):
    """A fleet tap on one bridge: the VM ports it selects there, its output
    (a Port row or a DesiredTunnel; None if it cannot have one, and then
    'reason' says why)."""

    def __init__(self, fleet_tap, bridge):
        self.fleet_tap = fleet_tap
        self.bridge = bridge
        self.ports = []
        self.output = None
        self.reason = ""
        self.row = None             # The host's Tap row, once known.


class DesiredTunnel(object):
    """A tunnel port to a remote collector on one bridge."""

    def __init__(self, collector, bridge):
        self.collector = collector
        self.bridge = bridge
        self.name = tunnel_name(collector)
        self.type = collector.type
        self.options = dict(collector.options)
        self.options["remote_ip"] = collector.remote_ip[0]
        self.row = None             # The Port row, once there is one.


def tunnel_name(collector):
    return "vtap-" + str(collector.uuid)[:8]


def enabled_taps(fleet_taps):
    return [t for t in fleet_taps if t.enabled != [False]]


def target_matches(t, iface):
    """Whether fleet tap 't' targets interface 'iface'."""
    ids = iface.external_ids
    if t.target_type == "iface-id":
        return ids.get("iface-id") == t.target
    if t.target_type == "mac":
        return ids.get("attached-mac", "").lower() == t.target
    if t.target_type == "ip":
        try:
            net = ipaddress.ip_network(t.target)
            for addr in ids.get(IP_KEY, "").split():
                ip = ipaddress.ip_address(addr.split("/")[0])
                if ip.version == net.version and ip in net:
                    return True
        except ValueError:
            pass
    return False


def vm_interfaces(bridges):
    """(bridge, port, interface) for each interface of the ports of
    'bridges' that may be VMs' (all but the agent's tunnel ports)."""
    for br in bridges:
        for port in br.ports:
            if OWNER_COLLECTOR in port.external_ids:
                continue
            for iface in port.interfaces:
                yield br, port, iface


def desired(bridges, fleet_taps):
    """Returns ({(bridge uuid, fleet tap name): DesiredTap},
    {(bridge uuid, tunnel name): DesiredTunnel}) for the host's 'bridges'
    and the fleet's 'fleet_taps' (disabled ones are left out)."""
    taps, tunnels = {}, {}
    # The VM ports by what targets name them by: a recomputation costs
    # O(ports + fleet taps), not their product.
    by_id, by_mac, with_ips = {}, {}, []
    for br, port, iface in vm_interfaces(bridges):
        ids = iface.external_ids
        if "iface-id" in ids:
            by_id.setdefault(ids["iface-id"], []).append((br, port))
        if "attached-mac" in ids:
            by_mac.setdefault(ids["attached-mac"].lower(),
                              []).append((br, port))
        if IP_KEY in ids:
            with_ips.append((br, port, iface))
    for t in enabled_taps(fleet_taps):
        if t.target_type == "iface-id":
            matches = by_id.get(t.target, [])
        elif t.target_type == "mac":
            matches = by_mac.get(t.target, [])
        else:
            matches = [(br, port) for br, port, iface in with_ips
                       if target_matches(t, iface)]
        for br, port in matches:
            key = (br.uuid, t.name)
            d = taps.get(key)
            if not d:
                d = taps[key] = DesiredTap(t, br)
            if port not in d.ports:
                d.ports.append(port)
    for (br_uuid, name), d in taps.items():
        c = d.fleet_tap.collector
        if c.type == "local":
            port_name = c.port[0] if c.port else ""
            for port in d.bridge.ports:
                if port.name == port_name:
                    d.output = port
            if not d.output:
                d.reason = ("collector %s: no port %s on bridge %s"
                            % (c.name, port_name, d.bridge.name))
            elif d.output in d.ports:
                d.reason = ("collector port %s is also a target port"
                            % port_name)
                d.output = None
        elif c.type in TUNNEL_TYPES and c.remote_ip:
            tkey = (br_uuid, tunnel_name(c))
            if tkey not in tunnels:
                tunnels[tkey] = DesiredTunnel(c, d.bridge)
            d.output = tunnels[tkey]
        else:
            d.reason = "collector %s: unusable" % c.name
    return taps, tunnels
