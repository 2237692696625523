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

"""The fleet database as ovs-vtap-fleetctl prints it: collectors, fleet
taps, per-host status with fleet-wide counters, hosts, and the servers'
settings.  Each function takes the IDL (or a row) and returns lines."""

from vtap_fleet import schema


def by_name(idl, table):
    return sorted(idl.tables[table].rows.values(), key=lambda r: r.name)


def collector_text(c):
    if c.type == "local":
        return "%s (local port %s)" % (c.name, c.port[0] if c.port else "")
    opts = "".join(" %s=%s" % (k, c.options[k]) for k in sorted(c.options))
    return "%s (%s to %s%s)" % (c.name, c.type,
                                c.remote_ip[0] if c.remote_ip else "", opts)


def tap_text(t):
    text = "%s: %s=%s %s -> %s" % (t.name, t.target_type, t.target,
                                   t.direction, t.collector.name)
    for column in schema.SHOWN_COLUMNS:
        value = getattr(t, column)
        if value not in ("", []):
            value = value[0] if isinstance(value, list) else value
            if column == "enabled":
                value = str(value).lower()
            text += ' %s=%s' % (column, '"%s"' % value
                                if column == "match" else value)
    return text


def collectors(idl):
    return [collector_text(c) for c in by_name(idl, "Collector")]


def taps(idl):
    return [tap_text(t) for t in by_name(idl, "Fleet_Tap")]


def status_text(ch, st):
    """One host's line of a fleet tap's status row."""
    line = "    %s: %s" % (ch.name, st.bridge)
    if st.tap:
        line += " tap %s" % st.tap
    if st.ports:
        line += " ports %s" % ",".join(sorted(st.ports))
    if st.output_port:
        line += " output %s" % st.output_port
    if st.backend:
        line += " backend %s" % st.backend
    if st.reason:
        line += " (%s)" % st.reason
    for k in sorted(st.statistics):
        line += " %s=%d" % (k, st.statistics[k])
    return line


def show(idl):
    """Collectors; each fleet tap with one line per host that has it and
    the fleet-wide sum of each counter; each host and the policy
    generation it applied."""
    chassis = by_name(idl, "Chassis")
    fleet = list(idl.tables["Fleet"].rows.values())
    nb_cfg = fleet[0].nb_cfg if fleet else 0
    statuses = {}
    for ch in chassis:
        for st in ch.status:
            statuses.setdefault(st.fleet_tap, []).append((ch, st))

    out = ["collector " + line for line in collectors(idl)]
    for t in by_name(idl, "Fleet_Tap"):
        out.append("fleet tap " + tap_text(t))
        totals = {}
        n_hosts = 0
        for ch, st in sorted(statuses.get(t.name, []),
                             key=lambda x: (x[0].name, x[1].bridge)):
            if st.tap:
                n_hosts += 1
            for k in st.statistics:
                totals[k] = totals.get(k, 0) + st.statistics[k]
            out.append(status_text(ch, st))
        out.append("    fleet: %d host%s%s" % (
            n_hosts, "" if n_hosts == 1 else "s",
            "".join(" %s=%d" % (k, totals[k]) for k in sorted(totals))))
    for ch in chassis:
        lag = "" if ch.nb_cfg >= nb_cfg else " (behind: nb_cfg %d)" % nb_cfg
        out.append("chassis %s (%s): nb_cfg %d%s, %d tap%s" % (
            ch.name, ch.hostname, ch.nb_cfg, lag, len(ch.status),
            "" if len(ch.status) == 1 else "s"))
    return out


def connections(idl):
    out = []
    for row in sorted(idl.tables["Connection"].rows.values(),
                      key=lambda r: r.target):
        line = row.target
        for column in schema.CONNECTION_SETTINGS:
            if getattr(row, column):
                line += " %s=%d" % (column, getattr(row, column)[0])
        out.append(line)
    return out


def ssl(idl):
    rows = list(idl.tables["SSL"].rows.values())
    if not rows:
        return ["SSL is not configured"]
    row = rows[0]
    out = ["Private key: %s" % row.private_key,
           "Certificate: %s" % row.certificate,
           "CA Certificate: %s" % row.ca_cert]
    if row.ssl_protocols:
        out.append("SSL protocols: %s" % row.ssl_protocols)
    if row.ssl_ciphers:
        out.append("SSL ciphers: %s" % row.ssl_ciphers)
    return out
