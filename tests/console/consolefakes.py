# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""A console without daemons: the fleet database is the fleet tests'
in-memory stand-in (fakes.Fleet), changes run at once in the test's thread
as the database thread would run them, and the web server is aiohttp's
test server on loopback."""

import asyncio
import concurrent.futures
import contextlib
import os
import tempfile

import ovs.db.types
from aiohttp import test_utils

from vtap_console import audit
from vtap_console import auth
from vtap_console import model
from vtap_console import web

import fakes

ADMIN_TOKEN = "admin-token-0123456789"
READER_TOKEN = "reader-token-0123456789"


def default(ctype):
    """A column's value when a transaction did not set it."""
    if ctype.is_map():
        return {}
    if ctype.n_min == 0 or ctype.n_max > 1:
        return []
    return {ovs.db.types.StringType: "", ovs.db.types.IntegerType: 0,
            ovs.db.types.BooleanType: False}.get(ctype.key.type)


class FakeDB(object):
    """The database thread, on a fakes.Fleet."""

    def __init__(self, hub):
        self.hub = hub
        self.fleet = fakes.Fleet()
        self.fleet.tables["Fleet"].add(nb_cfg=0)
        self.tracker = model.Tracker()
        self.now = 1000.0
        self.comments = []
        self.connected = True
        hub.submit = self.submit

    def publish(self):
        self.hub.publish(model.snapshot(self.fleet.tables, self.now,
                                        self.tracker,
                                        {"remote": "fake",
                                         "connected": self.connected}))

    def submit(self, change, comment):
        future = concurrent.futures.Future()
        txn = fakes.Txn(self.fleet)
        try:
            change(self.fleet, txn)
        except Exception as e:
            txn.abort()
            future.set_exception(e)
            return future
        self.comments.append(comment)
        txn.commit_block()
        for row in txn.inserted:
            for name, column in row._table.columns.items():
                if not hasattr(row, name):
                    object.__setattr__(row, name, default(column.type))
        fleet = list(self.fleet.tables["Fleet"].rows.values())[0]
        fleet.nb_cfg += 1
        future.set_result(fleet.nb_cfg)
        self.publish()
        return future

    def state(self):
        """The database's contents, to tell that nothing changed."""
        out = {}
        for name, table in self.fleet.tables.items():
            rows = []
            for row in table.rows.values():
                values = {}
                for column in table.columns:
                    v = getattr(row, column, None)
                    if hasattr(v, "uuid"):
                        v = str(v.uuid)
                    elif isinstance(v, list):
                        v = [str(x.uuid) if hasattr(x, "uuid") else x
                             for x in v]
                    values[column] = repr(v)
                rows.append(tuple(sorted(values.items())))
            out[name] = sorted(rows)
        return out

    def host(self, name, nb_cfg=0, heartbeat=None, vms=(), status=()):
        """A host as its agent writes it."""
        vm_rows = [self.fleet.tables["VM_Port"].add(
            chassis=name, bridge="br-int", port=port, iface_id=iface_id,
            mac=mac, ips=list(ips)) for port, iface_id, mac, ips in vms]
        st_rows = [self.fleet.tables["Tap_Status"].add(**dict(
            {"chassis": name, "bridge": "br-int", "ports": [],
             "output_port": "", "backend": "", "reason": "", "tap": "",
             "copy_error": "", "statistics": {}}, **st)) for st in status]
        return self.fleet.tables["Chassis"].add(
            name=name, hostname=name, nb_cfg=nb_cfg,
            heartbeat=[] if heartbeat is None else [heartbeat],
            other_config={}, status=st_rows, vm_ports=vm_rows)


@contextlib.contextmanager
def users_file(lines):
    fd, path = tempfile.mkstemp()
    with os.fdopen(fd, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    try:
        yield path
    finally:
        os.unlink(path)


def make_users():
    return auth.Users([("alice", auth.ADMIN, auth.hash_token(ADMIN_TOKEN)),
                       ("bob", auth.READ_ONLY,
                        auth.hash_token(READER_TOKEN))])


class Console(object):
    """An app on aiohttp's test server, with its FakeDB: 'open_access' for
    a console on loopback without users, else alice (admin) and bob
    (read-only)."""

    def __init__(self, open_access=False, allowed_hosts=None, **config):
        self.hub = web.Hub()
        self.db = FakeDB(self.hub)
        self.audit = audit.Audit()
        self.config = web.Config(open_access=open_access,
                                 allowed_hosts=allowed_hosts, **config)
        self.users = auth.Users() if open_access else make_users()

    async def __aenter__(self):
        self.hub.attach(asyncio.get_event_loop())
        self.db.publish()
        self.app = web.make_app(self.hub, self.config, self.users,
                                self.audit)
        self.client = test_utils.TestClient(test_utils.TestServer(self.app))
        await self.client.start_server()
        return self

    async def __aexit__(self, *exc):
        await self.client.close()

    def request(self, method, path, token=None, json=None, headers=None,
                **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.client.request(method, "/api/v1" + path, json=json,
                                   headers=headers, **kwargs)

    async def login(self, token=ADMIN_TOKEN):
        """Logs the test client's cookie jar in; returns the CSRF token."""
        r = await self.request("POST", "/login", json={"token": token})
        assert r.status == 200, await r.text()
        return (await r.json())["csrf_token"]


def run(coro):
    return asyncio.run(coro)
