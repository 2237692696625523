#! /usr/bin/python3
# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""An intruder, and the users, at a console that listens with TLS and
users (the console's security system test):

    vtap-console-client.py HOST PORT CACERT DIR ADMIN-TOKEN READER-TOKEN

DIR has the client certificates of ovs-pki: operator-{privkey,cert}.pem
(signed by the CA that the console trusts, common name "operator", an
admin in the users file) and rogue-* (self-signed).  Prints one line per
attempt: what was tried and the HTTP status, or how the connection
ended."""

import http.client
import json
import os
import socket
import ssl
import sys

host, port, cacert, pki, admin, reader = sys.argv[1:7]
port = int(port)
TAP = {"name": "stolen", "target": "ip=198.51.100.0/24",
       "collector": "c-gre"}


def context(cert=None):
    ctx = ssl.create_default_context(cafile=cacert)
    # ovs-pki's certificates name their holder, not the host.
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(os.path.join(pki, cert + "-cert.pem"),
                            os.path.join(pki, cert + "-privkey.pem"))
    return ctx


def request(what, method, path, body=None, token=None, cert=None,
            headers=None, cookie=None):
    h = dict(headers or {})
    if body is not None:
        h["Content-Type"] = "application/json"
        body = json.dumps(body)
    if token:
        h["Authorization"] = "Bearer " + token
    if cookie:
        h["Cookie"] = cookie
    h["Host"] = "127.0.0.1:%d" % port
    conn = http.client.HTTPSConnection(host, port, timeout=10,
                                       context=context(cert))
    try:
        conn.request(method, "/api/v1" + path, body=body, headers=h)
        r = conn.getresponse()
        doc = json.loads(r.read() or b"{}")
        print("%s: %d%s" % (what, r.status, " (%s)" % doc["error"]
                            if r.status >= 400 else ""))
        return r, doc
    except (ssl.SSLError, http.client.HTTPException, OSError):
        # (With TLS 1.3, a refused client certificate ends the connection
        # after the client's side of the handshake.)
        print("%s: refused, no answer" % what)
        return None, None
    finally:
        conn.close()


def plain_http():
    """Plain HTTP to the TLS port: no HTTP answer."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET /api/v1/overview HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        answer = s.recv(1024)
    except OSError:
        answer = b""
    s.close()
    print("plain HTTP: %s" % ("answered" if answer.startswith(b"HTTP/")
                              else "no HTTP answer"))


plain_http()
request("no credentials, read", "GET", "/overview")
request("no credentials, create a tap", "POST", "/taps", TAP)
request("wrong token, create a tap", "POST", "/taps", TAP, token="x" * 43)
request("read-only token, read", "GET", "/overview", token=reader)
request("read-only token, create a tap", "POST", "/taps", TAP, token=reader)
request("read-only token, delete a collector", "DELETE", "/collectors/c-gre",
        token=reader)
r, doc = request("admin login", "POST", "/login", {"token": admin})
cookie = r.getheader("Set-Cookie").split(";")[0]
print("session cookie: %s" % " ".join(
    sorted(a.strip().split("=")[0] for a in
           r.getheader("Set-Cookie").split(";")[1:])))
request("admin session without CSRF token, create a tap", "POST", "/taps",
        TAP, cookie=cookie)
request("admin session with a foreign Origin, create a tap", "POST", "/taps",
        TAP, cookie=cookie, headers={"X-CSRF-Token": doc["csrf_token"],
                                     "Origin": "https://evil.example"})
request("rogue certificate, read", "GET", "/overview", cert="rogue")
request("operator certificate, read", "GET", "/overview", cert="operator")
request("operator certificate without CSRF token, create a tap", "POST",
        "/taps", TAP, cert="operator")
request("admin token, bad match", "POST", "/taps",
        dict(TAP, settings={"match": "tp_dst=80"}), token=admin)
request("admin token, unknown field", "POST", "/taps",
        dict(TAP, owner="eve"), token=admin)
request("admin token, oversized body", "POST", "/taps",
        dict(TAP, settings={"match": "x" * 100000}), token=admin)
r, doc = request("operator certificate, session", "GET", "/session",
                 cert="operator")
request("operator certificate with its CSRF token, create a tap", "POST",
        "/taps", TAP, cert="operator",
        cookie=r.getheader("Set-Cookie").split(";")[0],
        headers={"X-CSRF-Token": doc["csrf_token"]})
request("admin token, delete it", "DELETE", "/taps/stolen", token=admin)
