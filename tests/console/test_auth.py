# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_console.auth (the users file, tokens, sessions) and the daemon's
refusal to serve beyond loopback without TLS and authentication."""

import os
import stat

import pytest

from vtap_console import auth
from vtap_console import daemon

from consolefakes import users_file


def test_users_file():
    digest = auth.hash_token("s3cret")
    with users_file(["# the fleet's operators",
                     "token alice admin %s" % digest,
                     "cert bob.example read-only  # a certificate",
                     ""]) as path:
        users = auth.Users.load(path)
    p = users.by_token("s3cret")
    assert (p.name, p.role, p.how, p.is_admin, p.ambient) == (
        "alice", "admin", "token", True, False)
    assert users.by_token("s3cret ") is None
    p = users.by_cert("bob.example")
    assert (p.name, p.role, p.how, p.ambient) == (
        "bob.example", "read-only", "certificate", True)
    assert users.by_cert("eve") is None


@pytest.mark.parametrize("line,error", [
    ("token alice root " + "0" * 64, "root: unknown role"),
    ("token alice admin 1234", "not a SHA-256"),
    ("token alice admin " + "G" * 64, "not a SHA-256"),
    ("password alice admin", "expected 'token NAME ROLE SHA256'"),
    ("cert bob", "expected"),
])
def test_bad_users_file(line, error):
    with users_file([line]) as path:
        with pytest.raises(auth.UsersError) as e:
            auth.Users.load(path)
    assert error in str(e.value)
    assert str(e.value).startswith(path + ":1: ")


def test_new_token(tmp_path):
    path = str(tmp_path / "users")
    token = auth.add_token(path, "carol", "read-only")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert token not in open(path).read()
    assert auth.Users.load(path).by_token(token).name == "carol"
    with pytest.raises(auth.UsersError):
        auth.add_token(path, "dave", "god")
    with pytest.raises(auth.UsersError):
        auth.add_token(path, "d ave", "admin")


def test_sessions_end():
    now = [1000.0]
    sessions = auth.Sessions(clock=lambda: now[0])
    s = sessions.create("alice", auth.ADMIN, auth.BY_TOKEN)
    assert sessions.get(s.id) is s
    assert s.check_csrf(s.csrf) and not s.check_csrf("") \
        and not s.check_csrf(None)
    now[0] += auth.SESSION_IDLE + 1
    assert sessions.get(s.id) is None
    s = sessions.create("alice", auth.ADMIN, auth.BY_TOKEN)
    for i in range(int(auth.SESSION_MAX / 3600)):
        now[0] += 3600
        assert sessions.get(s.id) is s
    now[0] += 3600
    assert sessions.get(s.id) is None
    assert sessions.get(None) is None and sessions.get("x") is None


def parse(*argv):
    return daemon.parse_args("test", list(argv))[1]


def test_listen():
    assert parse().listen == ("127.0.0.1", 6680)
    assert parse("--listen=8080").listen == ("127.0.0.1", 8080)
    assert parse("--listen=[::1]:80").listen == ("::1", 80)
    assert parse("--listen=0.0.0.0:443").listen == ("0.0.0.0", 443)
    for bad in ("x", "1.2.3.4:", "1.2.3.4:99999", "::1:80"):
        with pytest.raises(SystemExit):
            parse("--listen=" + bad)


def test_beyond_loopback_needs_tls_and_users():
    users = auth.Users([("a", auth.ADMIN, "0" * 64)])
    tls = ["--web-private-key=k", "--web-certificate=c"]
    assert daemon.security_errors(parse(), auth.Users()) == []
    assert daemon.security_errors(parse("--listen=[::1]:1"),
                                  auth.Users()) == []
    assert daemon.security_errors(parse("--listen=0.0.0.0:1"),
                                  auth.Users()) == [
        "listening on 0.0.0.0 needs TLS (--web-private-key, "
        "--web-certificate)",
        "listening on 0.0.0.0 needs authentication (--users)"]
    assert daemon.security_errors(parse("--listen=203.0.113.5:1", *tls),
                                  auth.Users()) == [
        "listening on 203.0.113.5 needs authentication (--users)"]
    assert daemon.security_errors(parse("--listen=203.0.113.5:1",
                                        "--users=u", *tls), users) == []
    assert daemon.security_errors(parse("--web-private-key=k"), users) == [
        "TLS needs both --web-private-key and --web-certificate"]
    assert daemon.security_errors(parse("--users=u"), auth.Users()) == [
        "u: no users"]


def test_allowed_hosts():
    assert daemon.allowed_hosts(parse(), 6680) == {
        "127.0.0.1:6680", "localhost:6680", "[::1]:6680"}
    assert daemon.allowed_hosts(parse("--listen=0.0.0.0:443"), 443) is None
    assert daemon.allowed_hosts(parse(
        "--listen=0.0.0.0:443", "--server-name=Console.example"), 443) == {
        "console.example:443", "console.example"}
