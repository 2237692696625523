# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The REST API on the in-memory fleet database: every endpoint, changes
through vtap_fleet.edit with its checks (the error names the field;
nothing is written), the audit of each change, ?wait=hv."""

import asyncio
import json
import os

import pytest

from consolefakes import ADMIN_TOKEN, Console, run

MATCH = pytest.mark.skipif("OVS_VTAP_MATCH" not in os.environ,
                           reason="ovs-vtap-match is not built")


def seed(c):
    """Two collectors, a tap on vm1, hosts hv1 (vm1, the tap applied) and
    hv2 (vm2), as agents write them."""
    db = c.db
    gre = db.fleet.collector("c-gre", key="2")
    db.fleet.collector("mon", type="local", port="mon0")
    db.fleet.tap("t1", "iface-id=vm1", gre, match="icmp")
    db.host("hv1", heartbeat=int(db.now * 1000),
            vms=[("vm1", "vm1", "00:00:5e:00:53:11", ["198.51.100.11"])],
            status=[{"fleet_tap": "t1", "tap": "fleet-t1",
                     "ports": ["vm1"], "output_port": "vtap-1",
                     "backend": "native",
                     "statistics": {"tx_packets": 20, "tx_errors": 0}}])
    db.host("hv2", heartbeat=int(db.now * 1000),
            vms=[("vm2", "vm2", "00:00:5e:00:53:21", ["198.51.100.21"])])
    db.publish()


def test_reads():
    async def t():
        async with Console(open_access=True) as c:
            seed(c)
            r = await c.request("GET", "/overview")
            assert r.status == 200
            doc = await r.json()
            assert [h["name"] for h in doc["hosts"]] == ["hv1", "hv2"]
            assert doc["hosts"][0]["connected"] is True
            assert doc["taps"][0]["tx_packets"] == 20
            assert doc["fleet"]["nb_cfg"] == 0
            assert r.headers["Cache-Control"] == "no-store"

            doc = await (await c.request("GET", "/hosts")).json()
            assert [h["vms"] for h in doc["hosts"]] == [1, 1]
            doc = await (await c.request("GET", "/taps")).json()
            assert [t["name"] for t in doc["taps"]] == ["t1"]
            doc = await (await c.request("GET", "/taps/t1")).json()
            assert doc["tap"]["settings"]["match"] == "icmp"
            assert doc["tap"]["hosts"][0]["backend"] == "native"
            assert "history" in doc["tap"]["hosts"][0]
            doc = await (await c.request("GET",
                                         "/taps/t1?history=false")).json()
            assert "history" not in doc["tap"]["hosts"][0]
            r = await c.request("GET", "/taps/nope")
            assert (r.status, (await r.json())["field"]) == (404, "name")
            doc = await (await c.request("GET", "/collectors")).json()
            assert [(x["name"], x["taps"], x["hosts"])
                    for x in doc["collectors"]] == [
                ("c-gre", ["t1"], ["hv1"]), ("mon", [], [])]
            doc = await (await c.request("GET", "/collectors/mon")).json()
            assert doc["collector"]["port"] == "mon0"
            assert (await c.request("GET", "/collectors/x")).status == 404
            doc = await (await c.request("GET", "/vms")).json()
            assert [(v["iface_id"], v["chassis"], v["taps"])
                    for v in doc["vms"]] == [("vm1", "hv1", ["t1"]),
                                             ("vm2", "hv2", [])]
            doc = await (await c.request("GET", "/progress/0")).json()
            assert (doc["done"], doc["applied"]) == (True, 2)
            assert (await c.request("GET", "/progress/x")).status == 400
            doc = await (await c.request("GET", "/audit")).json()
            assert doc == {"records": []}
            assert (await c.request("GET", "/audit?limit=0")).status == 400
            doc = await (await c.request("GET", "/openapi.json")).json()
            assert doc["openapi"].startswith("3.")
            r = await c.request("GET", "/overview?x=1")
            assert (r.status, (await r.json())["field"]) == (400, "x")
            assert (await c.request("GET", "/nothing")).status == 404
    run(t())


def test_events_push_each_change():
    async def t():
        async with Console(open_access=True, keepalive=0.2) as c:
            seed(c)
            r = await c.request("GET", "/events?view=tap&name=t1")
            assert r.status == 200
            assert r.headers["Content-Type"] == "text/event-stream"

            async def event():
                lines = []
                while True:
                    line = (await asyncio.wait_for(r.content.readline(),
                                                   5)).decode()
                    if line == "\n" and lines:
                        return lines
                    if line.strip():
                        lines.append(line.strip())
            lines = await event()
            assert lines[0] == "event: view"
            doc = json.loads(lines[1][len("data: "):])
            assert doc["tap"]["totals"]["tx_packets"] == 20
            # The agent copies new counters: the page gets them.
            st = c.db.fleet.tables["Tap_Status"].rows
            list(st.values())[0].statistics = {"tx_packets": 30}
            c.db.now += 5
            c.db.publish()
            while True:
                lines = await event()
                if lines[0] == "event: view":
                    break
            doc = json.loads(lines[1][len("data: "):])
            assert doc["tap"]["totals"]["tx_packets"] == 30
            assert doc["tap"]["copies_per_s"] == 2.0
            r.close()
            for query in ("view=tap", "view=x", "view=vms&name=x",
                          "view=overview&view=vms"):
                r = await c.request("GET", "/events?" + query)
                assert r.status == 400, query
            r = await c.request("GET", "/events?view=tap&name=nope")
            assert r.status == 404
    run(t())


@MATCH
def test_create_change_delete_a_tap():
    async def t():
        async with Console(open_access=True) as c:
            seed(c)
            csrf = (await (await c.request("GET", "/session")).json())[
                "csrf_token"]
            h = {"X-CSRF-Token": csrf}
            r = await c.request("POST", "/taps", headers=h, json={
                "name": "t2", "target": "iface-id=vm2", "collector": "mon",
                "settings": {"match": "tcp,tp_dst=80", "snaplen": 128,
                             "direction": "from-lport"}})
            assert r.status == 201, await r.text()
            doc = await r.json()
            assert doc["nb_cfg"] == 1
            assert doc["progress"]["behind"] == ["hv1", "hv2"]
            t2 = [t for t in c.db.fleet.taps() if t.name == "t2"][0]
            assert (t2.match, t2.snaplen, t2.direction) == (
                "tcp,tp_dst=80", [128], "from-lport")
            assert c.db.comments == [
                "ovs-vtap-console: local (admin) from 127.0.0.1: tap-add t2"]

            r = await c.request("PATCH", "/taps/t2", headers=h, json={
                "settings": {"snaplen": None, "max_rate": 100},
                "collector": "c-gre"})
            assert r.status == 200, await r.text()
            assert (t2.snaplen, t2.max_rate, t2.collector.name) == (
                [], [100], "c-gre")
            r = await c.request("PATCH", "/taps/nope", headers=h, json={})
            assert r.status == 404

            r = await c.request("DELETE", "/taps/t2", headers=h)
            assert r.status == 200
            assert [t.name for t in c.db.fleet.taps()] == ["t1"]
            r = await c.request("DELETE", "/taps/t2", headers=h)
            assert r.status == 404

            records = (await (await c.request("GET", "/audit")).json())[
                "records"]
            assert [(x["user"], x["action"], x["target"], x["result"])
                    for x in records] == [
                ("local", "tap-add", "t2", "ok"),
                ("local", "tap-set", "t2", "ok"),
                ("local", "tap-set", "nope", "refused: no fleet tap named "
                 "nope"),
                ("local", "tap-del", "t2", "ok"),
                ("local", "tap-del", "t2",
                 "refused: no fleet tap named t2")]
            assert records[0]["request"]["settings"]["snaplen"] == 128
            assert records[0]["auth"] == "session:local"
    run(t())


# (body or raw text, content type, status, field, message part)
BAD_TAPS = [
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"match": "tp_dst=80"}}, None, 400, "match",
     "requires tcp, udp or sctp"),
    ({"name": "x", "target": "iface-id=a", "collector": "c9"}, None, 400,
     "collector", "no collector named c9"),
    ({"name": "t1", "target": "iface-id=a", "collector": "mon"}, None, 409,
     "name", "a fleet tap named t1 already exists"),
    ({"name": "x", "target": "ip=198.51.100.1/24", "collector": "mon"},
     None, 400, "target", "has host bits set"),
    ({"name": "x", "target": "mac=01:00:5e:00:53:01", "collector": "mon"},
     None, 400, "target", "multicast"),
    ({"name": "", "target": "iface-id=a", "collector": "mon"}, None, 400,
     "name", "must not be empty"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"snaplen": 13}}, None, 400, "snaplen",
     "not in the valid range 14 to 65535"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"snaplen": "many"}}, None, 400, "snaplen",
     "not an integer"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"name": "y"}}, None, 400, "name", "unknown setting"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"enabled": "yes"}}, None, 400, "enabled",
     "not true or false"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": {"offload": "gpu"}}, None, 400, "offload",
     "not one of the allowed values"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "color": "red"}, None, 400, "color", "unknown field"),
    ({"name": "x", "target": "iface-id=a"}, None, 400, "collector",
     "required"),
    ({"name": 5, "target": "iface-id=a", "collector": "mon"}, None, 400,
     "name", "must be a string"),
    ({"name": "x", "target": "iface-id=a", "collector": "mon",
      "settings": [1]}, None, 400, "settings", "must be an object"),
    ('["x"]', "application/json", 400, None, "must be a JSON object"),
    ('{"name": ', "application/json", 400, None, "not JSON"),
    ('name=x', "application/x-www-form-urlencoded", 415, None, "JSON"),
    ('{"name": "x"}', "text/plain", 415, None, "JSON"),
    ("{" + " " * 70000 + "}", "application/json", 413, None, ""),
    ('{"settings": ' + "[" * 30000 + "]" * 30000 + "}", "application/json",
     400, None, "nested too deeply"),
]


@MATCH
@pytest.mark.parametrize("body,ctype,status,field,message", BAD_TAPS)
def test_bad_taps_change_nothing(body, ctype, status, field, message):
    async def t():
        async with Console(open_access=True) as c:
            seed(c)
            csrf = (await (await c.request("GET", "/session")).json())[
                "csrf_token"]
            before = c.db.state()
            headers = {"X-CSRF-Token": csrf}
            if ctype:
                headers["Content-Type"] = ctype
                r = await c.request("POST", "/taps", headers=headers,
                                    data=body)
            else:
                r = await c.request("POST", "/taps", headers=headers,
                                    json=body)
            doc = await r.json()
            assert r.status == status, doc
            assert doc["field"] == field
            assert message in doc["error"]
            assert c.db.state() == before
            assert c.db.comments == []
    run(t())


def test_change_options():
    async def t():
        async with Console(open_access=True) as c:
            seed(c)
            csrf = (await (await c.request("GET", "/session")).json())[
                "csrf_token"]
            h = {"X-CSRF-Token": csrf}
            for query, field in (("wait=always", "wait"),
                                 ("timeout=0", "timeout"),
                                 ("timeout=x", "timeout"),
                                 ("nope=1", "nope")):
                r = await c.request("DELETE", "/taps/t1?" + query, headers=h)
                assert (r.status, (await r.json())["field"]) == (400, field)
            assert len(c.db.fleet.taps()) == 1

            # --wait=hv: hv1 applies it at once, hv2 a moment later.
            async def apply(name, delay):
                await asyncio.sleep(delay)
                for ch in c.db.fleet.tables["Chassis"].rows.values():
                    if ch.name == name:
                        ch.nb_cfg = 1
                c.db.publish()
            task = asyncio.ensure_future(apply("hv2", 0.3))
            for ch in c.db.fleet.tables["Chassis"].rows.values():
                if ch.name == "hv1":
                    ch.nb_cfg = 1
            r = await c.request("DELETE", "/taps/t1?wait=hv&timeout=5",
                                headers=h)
            await task
            doc = await r.json()
            assert r.status == 200
            assert doc["progress"] == {"nb_cfg": 1, "hosts": 2,
                                       "applied": 2, "behind": [],
                                       "done": True}
            # Nobody applies it: 202 after the timeout.
            r = await c.request("POST", "/collectors?wait=hv&timeout=1",
                                headers=h, json={"name": "c2", "type": "gre",
                                                 "remote_ip": "203.0.113.2"})
            doc = await r.json()
            assert r.status == 202
            assert doc["progress"]["behind"] == ["hv1", "hv2"]
    run(t())


BAD_COLLECTORS = [
    ({"name": "c2", "type": "vxlan", "remote_ip": "203.0.113.1",
      "options": {"key": 16777216}}, 400, "key", "out of range"),
    ({"name": "c2", "type": "gre", "remote_ip": "203.0.113.256"}, 400,
     "remote_ip", "not an IPv4 or IPv6 address"),
    ({"name": "c2", "type": "erspan", "remote_ip": "203.0.113.1",
      "options": {"key": 1, "erspan_ver": 2, "erspan_idx": 1}}, 400,
     "erspan_idx", "not an ERSPAN version 2 option"),
    ({"name": "c2", "type": "erspan", "remote_ip": "203.0.113.1"}, 400,
     "key", "key (the session id) is required"),
    ({"name": "c2", "type": "geneve", "remote_ip": "203.0.113.1"}, 400,
     "type", "unknown type"),
    ({"name": "c2", "type": "local", "remote_ip": "203.0.113.1"}, 400,
     "remote_ip", "a local collector has a port"),
    ({"name": "c2", "type": "gre", "port": "p"}, 400, "port",
     "a gre collector has a remote_ip"),
    ({"name": "c2", "type": "gre", "remote_ip": "203.0.113.1",
      "options": {"ttl": 1}}, 400, "ttl", "unknown setting"),
    ({"name": "mon", "type": "local", "port": "p"}, 409, "name",
     "already exists"),
    ({"name": "c2", "type": "local"}, 400, "port", "must not be empty"),
]


@pytest.mark.parametrize("body,status,field,message", BAD_COLLECTORS)
def test_bad_collectors_change_nothing(body, status, field, message):
    async def t():
        async with Console() as c:
            seed(c)
            before = c.db.state()
            r = await c.request("POST", "/collectors", token=ADMIN_TOKEN,
                                json=body)
            doc = await r.json()
            assert (r.status, doc["field"]) == (status, field), doc
            assert message in doc["error"]
            assert c.db.state() == before
    run(t())


def test_collectors():
    async def t():
        async with Console() as c:
            seed(c)

            def req(*a, **k):
                return c.request(*a, token=ADMIN_TOKEN, **k)
            r = await req("POST", "/collectors", json={
                "name": "ids", "type": "erspan", "remote_ip": "2001:db8::1",
                "options": {"key": 5, "erspan_ver": "2",
                            "erspan_hwid": 3}})
            assert r.status == 201, await r.text()
            doc = await (await req("GET", "/collectors/ids")).json()
            assert doc["collector"]["options"] == {
                "key": "5", "erspan_ver": "2", "erspan_hwid": "3"}
            r = await req("PUT", "/collectors/ids",
                          json={"type": "local", "port": "mon9"})
            assert r.status == 200
            doc = await (await req("GET", "/collectors/ids")).json()
            assert (doc["collector"]["type"], doc["collector"]["port"],
                    doc["collector"]["remote_ip"]) == ("local", "mon9", None)
            r = await req("PUT", "/collectors/nope",
                          json={"type": "local", "port": "p"})
            assert r.status == 404
            r = await req("PUT", "/collectors/ids", json={"port": "p"})
            assert (r.status, (await r.json())["field"]) == (400, "type")
            before = c.db.state()
            r = await req("DELETE", "/collectors/c-gre")
            doc = await r.json()
            assert (r.status, doc["error"]) == (
                409, "collector c-gre is used by fleet tap t1")
            assert c.db.state() == before
            assert (await req("DELETE", "/collectors/ids")).status == 200
            assert (await req("DELETE", "/collectors/ids")).status == 404
    run(t())


def test_not_connected():
    async def t():
        async with Console() as c:
            seed(c)
            from vtap_console.fleetdb import NotConnected

            def submit(change, comment):
                import concurrent.futures
                f = concurrent.futures.Future()
                f.set_exception(NotConnected("not connected to the fleet "
                                             "database fake"))
                return f
            c.hub.submit = submit
            r = await c.request("DELETE", "/taps/t1", token=ADMIN_TOKEN)
            assert r.status == 503
    run(t())
