# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""Who may do what, tried as an intruder would: no credentials, a wrong
token, a read-only user changing the fleet, a session without its CSRF
token, a foreign Origin or Host, guessing tokens; each refused, the
database unchanged.  (TLS, and plain HTTP where TLS is required, are in
the console's system tests, with a real daemon.)"""

import asyncio

from vtap_console import web

from consolefakes import ADMIN_TOKEN, READER_TOKEN, Console, run

NEW_TAP = {"name": "x", "target": "iface-id=vm1", "collector": "mon"}


def seed(c):
    c.db.fleet.collector("mon", type="local", port="mon0")
    c.db.publish()


def test_no_credentials():
    async def t():
        async with Console() as c:
            seed(c)
            before = c.db.state()
            for method, path in (("GET", "/overview"), ("GET", "/vms"),
                                 ("GET", "/events"), ("GET", "/session"),
                                 ("GET", "/audit"), ("POST", "/taps"),
                                 ("DELETE", "/collectors/mon")):
                r = await c.request(method, path, json=NEW_TAP
                                    if method == "POST" else None)
                assert r.status == 401, (method, path)
                assert (await r.json())["error"] == "authentication required"
            assert c.db.state() == before
            # The page itself and the API's description are public.
            r = await c.client.get("/")
            assert r.status == 200
            assert "<!DOCTYPE html>" in await r.text()
            assert (await c.request("GET", "/openapi.json")).status == 200
    run(t())


def test_wrong_token():
    async def t():
        async with Console() as c:
            seed(c)
            before = c.db.state()
            for header in ("Bearer nope", "Bearer " + ADMIN_TOKEN + "x",
                           "Basic YWxpY2U6eA==", "Bearer "):
                r = await c.request("POST", "/taps", json=NEW_TAP,
                                    headers={"Authorization": header})
                assert r.status == 401, header
            r = await c.request("POST", "/login", json={"token": "nope"})
            assert (r.status, (await r.json())["field"]) == (401, "token")
            assert c.db.state() == before
            records = c.audit.last()
            assert [(x["action"], x["result"]) for x in records] == [
                ("login", "refused: wrong token")]
    run(t())


def test_guessing_tokens_is_braked():
    async def t():
        async with Console() as c:
            for i in range(10):
                r = await c.request("GET", "/overview", token="guess%d" % i)
                assert r.status == 401
            r = await c.request("GET", "/overview", token=ADMIN_TOKEN)
            assert r.status == 429
            r = await c.request("POST", "/login",
                                json={"token": ADMIN_TOKEN})
            assert r.status == 429
    run(t())


def test_read_only_user_creating_a_tap():
    async def t():
        async with Console() as c:
            seed(c)
            before = c.db.state()
            r = await c.request("GET", "/overview", token=READER_TOKEN)
            assert r.status == 200
            r = await c.request("POST", "/taps", token=READER_TOKEN,
                                json=NEW_TAP)
            assert r.status == 403
            assert (await r.json())["error"] == \
                "user bob (read-only) may not change the fleet"
            # Logged in through the page, with its CSRF token: the same.
            csrf = await c.login(READER_TOKEN)
            r = await c.request("POST", "/taps", json=NEW_TAP,
                                headers={"X-CSRF-Token": csrf})
            assert r.status == 403
            r = await c.request("DELETE", "/collectors/mon",
                                headers={"X-CSRF-Token": csrf})
            assert r.status == 403
            assert c.db.state() == before
            assert [(x["user"], x["action"], x["result"])
                    for x in c.audit.last()] == [
                ("bob", "tap-add", "refused: user bob (read-only) may not "
                 "change the fleet"),
                ("bob", "login", "ok"),
                ("bob", "tap-add", "refused: user bob (read-only) may not "
                 "change the fleet"),
                ("bob", "collector-del", "refused: user bob (read-only) may "
                 "not change the fleet")]
    run(t())


def test_session_needs_its_csrf_token():
    async def t():
        async with Console() as c:
            seed(c)
            before = c.db.state()
            r = await c.request("POST", "/login",
                                json={"token": ADMIN_TOKEN})
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            csrf = (await r.json())["csrf_token"]
            for headers in ({}, {"X-CSRF-Token": "x" + csrf},
                            {"X-CSRF-Token": ""}):
                r = await c.request("POST", "/taps", json=NEW_TAP,
                                    headers=headers)
                assert r.status == 403, headers
                assert "CSRF" in (await r.json())["error"]
            assert c.db.state() == before
            # A foreign page that knows the token is still refused.
            r = await c.request("POST", "/taps", json=NEW_TAP, headers={
                "X-CSRF-Token": csrf, "Origin": "http://evil.example"})
            assert r.status == 403
            assert c.db.state() == before
            r = await c.request("POST", "/taps", json=NEW_TAP,
                                headers={"X-CSRF-Token": csrf})
            assert r.status == 201
            # Logged out, the cookie is worth nothing.
            r = await c.request("POST", "/logout",
                                headers={"X-CSRF-Token": csrf})
            assert r.status == 200
            r = await c.request("DELETE", "/taps/x",
                                headers={"X-CSRF-Token": csrf})
            assert r.status == 401
    run(t())


def test_loopback_without_users():
    async def t():
        hosts = {"127.0.0.1:6680"}
        async with Console(open_access=True, allowed_hosts=hosts) as c:
            seed(c)
            before = c.db.state()
            h = {"Host": "127.0.0.1:6680"}
            # Anyone on the host reads; changes need the session's CSRF
            # token (a web page the operator visits cannot post here).
            r = await c.request("GET", "/overview", headers=h)
            assert r.status == 200
            r = await c.request("POST", "/taps", json=NEW_TAP, headers=h)
            assert r.status == 403
            # DNS rebinding: a site's name pointed at 127.0.0.1.
            r = await c.request("GET", "/overview",
                                headers={"Host": "evil.example:6680"})
            assert r.status == 421
            assert c.db.state() == before
            r = await c.request("GET", "/session", headers=h)
            csrf = (await r.json())["csrf_token"]
            r = await c.request("POST", "/taps", json=NEW_TAP, headers=dict(
                h, **{"X-CSRF-Token": csrf}))
            assert r.status == 201
    run(t())


def test_security_headers():
    async def t():
        async with Console() as c:
            for path in ("/", "/static/app.js", "/api/v1/overview"):
                r = await c.client.get(path)
                assert "script-src 'self'" in \
                    r.headers["Content-Security-Policy"], path
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert r.headers["X-Frame-Options"] == "DENY"
                assert r.headers["Connection"] == "close"
            r = await c.client.get("/static/../web.py")
            assert r.status == 404
    run(t())


def test_slow_and_too_many_connections():
    async def t():
        c = Console(request_timeout=0.5, max_connections=2)
        c.hub.attach(asyncio.get_event_loop())
        c.db.publish()
        app = web.make_app(c.hub, c.config, c.users, c.audit)
        runner, server, port = await web.start(app, "127.0.0.1", 0)

        async def closed(reader, timeout):
            try:
                return await asyncio.wait_for(reader.read(), timeout) == b""
            except (asyncio.TimeoutError, ConnectionError):
                return False
        try:
            # A client that sends half a request and waits: cut off.
            r1, w1 = await asyncio.open_connection("127.0.0.1", port)
            w1.write(b"GET /api/v1/overview HTTP/1.1\r\nHost: x\r\n")
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            # A third connection while two are open: refused at once.
            r3, w3 = await asyncio.open_connection("127.0.0.1", port)
            assert await closed(r3, 0.3)
            assert await closed(r1, 2) and await closed(r2, 2)
            for w in (w1, w2, w3):
                w.close()
            # Then it serves again.
            await asyncio.sleep(0.1)
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /api/v1/overview HTTP/1.1\r\nHost: x\r\n"
                    b"Authorization: Bearer " + ADMIN_TOKEN.encode()
                    + b"\r\n\r\n")
            assert (await r.readline()).startswith(b"HTTP/1.1 200")
            w.close()
        finally:
            await web.stop(runner, server)
    run(t())
