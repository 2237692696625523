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

"""The REST API under /api/v1, which the console's page uses and an
orchestrator can too (openapi.json, beside this file, documents it; a unit
test holds the two together).

Reads are views (vtap_console.views) of the latest snapshot.  Changes are
vtap_fleet.edit calls, the checks and writes of ovs-vtap-fleetctl, run in
the database thread: bad input is refused with the CLI's message and the
field it is about, and nothing is written.  Every change asked for is
recorded (vtap_console.audit).  Bodies are JSON objects whose fields are
those of REQUESTS below, no others; so are query parameters."""

import asyncio
import json

from aiohttp import web

from vtap_fleet import edit
from vtap_fleet.rules import FleetError

from vtap_console import audit
from vtap_console import auth
from vtap_console import views
from vtap_console.fleetdb import NotConnected

PREFIX = "/api/v1"
SESSION_COOKIE = "vtap_console_session"
CSRF_HEADER = "X-CSRF-Token"

# Each request body: field -> (JSON type, required).
REQUESTS = {
    "login": {"token": (str, True)},
    "createTap": {"name": (str, True), "target": (str, True),
                  "collector": (str, True), "settings": (dict, False)},
    "updateTap": {"target": (str, False), "collector": (str, False),
                  "settings": (dict, False)},
    "createCollector": {"name": (str, True), "type": (str, True),
                        "port": (str, False), "remote_ip": (str, False),
                        "options": (dict, False)},
    "updateCollector": {"type": (str, True), "port": (str, False),
                        "remote_ip": (str, False), "options": (dict, False)},
}
# The query parameters of the operations that take some.
CHANGE_QUERY = ("wait", "timeout")
QUERIES = {
    "createTap": CHANGE_QUERY, "updateTap": CHANGE_QUERY,
    "deleteTap": CHANGE_QUERY, "createCollector": CHANGE_QUERY,
    "updateCollector": CHANGE_QUERY, "deleteCollector": CHANGE_QUERY,
    "getTap": ("history",), "getEvents": ("view", "name"),
    "getAudit": ("limit",),
}
MAX_WAIT = 120          # --wait=hv's longest timeout (s).
JSON_TYPES = {str: "a string", dict: "an object"}


class ApiError(Exception):
    def __init__(self, status, message, field=None):
        Exception.__init__(self, message)
        self.status = status
        self.field = field


class Missing(FleetError):
    """The tap or collector to change does not exist (404)."""


class Conflict(FleetError):
    """The name is taken, or the collector is in use (409)."""


def error_response(status, message, field=None):
    return web.json_response({"error": message, "field": field},
                             status=status)


def query(request, operation):
    """The request's query parameters, which must be the operation's."""
    allowed = QUERIES.get(operation, ())
    for key in request.query:
        if key not in allowed:
            raise ApiError(400, "%s: unknown query parameter" % key, key)
        if len(request.query.getall(key)) > 1:
            raise ApiError(400, "%s: given twice" % key, key)
    return request.query


async def read_body(request, operation):
    """The request's JSON object, with the fields of REQUESTS[operation]
    only, each of its type, the required ones present."""
    if request.content_type != "application/json":
        raise ApiError(415, "the body must be JSON (Content-Type: "
                       "application/json)")
    config = request.app["config"]
    try:
        raw = await asyncio.wait_for(request.read(), config.request_timeout)
    except asyncio.TimeoutError:
        raise ApiError(408, "the body took too long to arrive")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ApiError(400, "the body is not JSON: %s" % e)
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply")
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    fields = REQUESTS[operation]
    for key, value in body.items():
        if key not in fields:
            raise ApiError(400, "%s: unknown field (expected %s)"
                           % (key, ", ".join(fields)), key)
        jtype, _ = fields[key]
        if not isinstance(value, jtype):
            raise ApiError(400, "%s: must be %s" % (key, JSON_TYPES[jtype]),
                           key)
    for key, (_, required) in fields.items():
        if required and key not in body:
            raise ApiError(400, "%s: required" % key, key)
    return body


def principal_json(principal, with_csrf=False):
    doc = {"user": principal.name, "role": principal.role,
           "auth": principal.how if not principal.session
           else principal.session.how}
    if with_csrf and principal.session:
        doc["csrf_token"] = principal.session.csrf
    return doc


# -- Sessions. --------------------------------------------------------------

def set_session_cookie(request, response, session):
    response.set_cookie(SESSION_COOKIE, session.id, httponly=True,
                        samesite="Strict", path="/",
                        secure=request.app["config"].tls)


async def get_session(request):
    """Who the caller is; a browser authenticated by its certificate or by
    loopback gets a session (cookie) and its CSRF token here."""
    principal = request["principal"]
    response_session = None
    if principal.how in (auth.BY_CERT, auth.LOCAL):
        response_session = request.app["sessions"].create(
            principal.name, principal.role, principal.how)
        principal = response_session.principal()
    response = web.json_response(principal_json(principal, True))
    if response_session:
        set_session_cookie(request, response, response_session)
    return response


async def login(request):
    """A browser trades a token for a session."""
    query(request, "login")
    remote = request.remote
    brake = request.app["brake"]
    if not brake.allowed(remote):
        raise ApiError(429, "too many failed logins: wait a minute")
    body = await read_body(request, "login")
    principal = request.app["users"].by_token(body["token"])
    if principal is None:
        brake.failed(remote)
        request.app["audit"].record(None, remote, "login", None, {},
                                    "refused: wrong token")
        raise ApiError(401, "wrong token", "token")
    session = request.app["sessions"].create(principal.name, principal.role,
                                             auth.BY_TOKEN)
    request.app["audit"].record(principal, remote, "login", principal.name,
                                {}, "ok")
    response = web.json_response(principal_json(session.principal(), True))
    set_session_cookie(request, response, session)
    return response


async def logout(request):
    query(request, "logout")
    principal = request["principal"]
    if principal.session:
        request.app["sessions"].drop(principal.session.id)
    response = web.json_response({})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


# -- Reads. -----------------------------------------------------------------

def snapshot(request):
    return request.app["hub"].snapshot


def view_handler(operation, view):
    async def handler(request):
        query(request, operation)
        return web.json_response(view(snapshot(request)))
    return handler


async def get_tap(request):
    q = query(request, "getTap")
    history = q.get("history", "true")
    if history not in ("true", "false"):
        raise ApiError(400, "history: expected true or false", "history")
    return web.json_response(views.tap(snapshot(request),
                                       request.match_info["name"],
                                       history == "true"))


async def get_collector(request):
    query(request, "getCollector")
    return web.json_response(views.collector(snapshot(request),
                                             request.match_info["name"]))


async def get_progress(request):
    query(request, "getProgress")
    try:
        nb_cfg = int(request.match_info["nb_cfg"])
    except ValueError:
        raise ApiError(400, "nb_cfg: not an integer", "nb_cfg")
    return web.json_response(views.progress(snapshot(request), nb_cfg))


async def get_audit(request):
    q = query(request, "getAudit")
    try:
        limit = int(q.get("limit", audit.KEPT))
    except ValueError:
        raise ApiError(400, "limit: not an integer", "limit")
    if limit < 1 or limit > audit.KEPT:
        raise ApiError(400, "limit: from 1 to %d" % audit.KEPT, "limit")
    return web.json_response({"records": request.app["audit"].last(limit)})


async def get_openapi(request):
    query(request, "getOpenapi")
    return web.json_response(request.app["openapi"])


async def get_events(request):
    """Server-sent events: the chosen view's document, each time it
    changes (and a comment every KEEPALIVE s, so that proxies and the
    browser see the stream alive)."""
    q = query(request, "getEvents")
    view = q.get("view", "overview")
    if view not in views.STREAMS:
        raise ApiError(400, "view: one of %s" % ", ".join(views.STREAMS),
                       "view")
    func, named = views.STREAMS[view]
    name = q.get("name")
    if named != (name is not None):
        raise ApiError(400, "name: %s" % ("required for view %s" % view
                                          if named else "not for this view"),
                       "name")
    hub = request.app["hub"]
    args = (name,) if named else ()
    func(hub.snapshot, *args)       # NotFound before the stream starts.

    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store"})
    await response.prepare(request)
    sessions = request.app["sessions"]
    principal = request["principal"]
    keepalive = request.app["config"].keepalive
    loop = asyncio.get_event_loop()
    last = None
    last_write = loop.time()
    while True:
        if principal.session and not sessions.get(principal.session.id):
            break                   # Logged out, or the session expired.
        snap = hub.snapshot
        try:
            doc = func(snap, *args)
        except views.NotFound as e:
            doc = {"error": str(e), "field": "name"}
        data = json.dumps(doc, sort_keys=True)
        try:
            if data != last:
                await response.write(b"event: view\ndata: "
                                     + data.encode() + b"\n\n")
                last = data
                last_write = loop.time()
            elif loop.time() - last_write >= keepalive:
                await response.write(b": alive\n\n")
                last_write = loop.time()
        except (ConnectionResetError, RuntimeError):
            break
        await hub.wait_newer(snap["generation"], keepalive)
    return response


# -- Changes. ---------------------------------------------------------------

def change_options(request, operation):
    q = query(request, operation)
    wait = q.get("wait", "none")
    if wait not in ("none", "hv"):
        raise ApiError(400, "wait: none or hv", "wait")
    try:
        timeout = int(q.get("timeout", 30))
    except ValueError:
        raise ApiError(400, "timeout: not an integer", "timeout")
    if timeout < 1 or timeout > MAX_WAIT:
        raise ApiError(400, "timeout: from 1 to %d" % MAX_WAIT, "timeout")
    return wait, timeout


async def wait_applied(hub, nb_cfg, timeout):
    loop = asyncio.get_event_loop()
    deadline = loop.time() + timeout
    while True:
        snap = hub.snapshot
        progress = views.progress(snap, nb_cfg)
        left = deadline - loop.time()
        if progress["done"] or left <= 0:
            return progress
        await hub.wait_newer(snap["generation"], left)


async def run_change(request, operation, target, body, change, ok_status,
                     error_status=400):
    """Runs 'change(idl, txn)' in the database thread, records it, and
    answers with the nb_cfg that the hosts will reach and their
    progress (with ?wait=hv, once they all did, or 202 after the
    timeout)."""
    wait, timeout = change_options(request, operation)
    action = ACTIONS[operation]
    principal = request["principal"]
    remote = request.remote
    hub = request.app["hub"]
    record = request.app["audit"].record
    try:
        nb_cfg = await hub.change(change, audit.comment(principal, remote,
                                                        action, target))
    except FleetError as e:
        record(principal, remote, action, target, body, "refused: %s" % e)
        if isinstance(e, Missing):
            status = 404
        elif isinstance(e, Conflict):
            status = 409
        elif isinstance(e, NotConnected):
            status = 503
        else:
            status = error_status
        return error_response(status, str(e), e.field)
    record(principal, remote, action, target, body, "ok", nb_cfg)
    if wait == "hv":
        progress = await wait_applied(hub, nb_cfg, timeout)
    else:
        progress = views.progress(hub.snapshot, nb_cfg)
    progress.pop("fleet")
    status = ok_status if wait == "none" or progress["done"] else 202
    return web.json_response({"name": target, "nb_cfg": nb_cfg,
                              "progress": progress}, status=status)


def audited(handler):
    """A change handler whose refusals before the change (a bad body or
    query) are recorded too."""
    async def wrapped(request):
        try:
            return await handler(request)
        except (ApiError, web.HTTPException) as e:
            reason = e.reason if isinstance(e, web.HTTPException) \
                else str(e)
            request.app["audit"].record(
                request["principal"], request.remote,
                ACTIONS[request.match_info.route.name],
                request.match_info.get("name"), None, "refused: %s" % reason)
            raise
    return wrapped


def _must_exist(idl, table, name, what):
    if not edit.find(idl, table, name):
        raise Missing("no %s named %s" % (what, name), "name")


def _must_not_exist(idl, table, name, what):
    if edit.find(idl, table, name):
        raise Conflict("a %s named %s already exists" % (what, name), "name")


@audited
async def create_tap(request):
    body = await read_body(request, "createTap")
    name = body["name"]

    def change(idl, txn):
        _must_not_exist(idl, "Fleet_Tap", name, "fleet tap")
        edit.tap_add(idl, txn, name, body["target"], body["collector"],
                     body.get("settings", {}))
    return await run_change(request, "createTap", name, body,
                            change, 201)


@audited
async def update_tap(request):
    body = await read_body(request, "updateTap")
    name = request.match_info["name"]

    def change(idl, txn):
        _must_exist(idl, "Fleet_Tap", name, "fleet tap")
        edit.tap_set(idl, txn, name, body.get("settings", {}),
                     body.get("target"), body.get("collector"))
    return await run_change(request, "updateTap", name, body,
                            change, 200)


@audited
async def delete_tap(request):
    name = request.match_info["name"]

    def change(idl, txn):
        _must_exist(idl, "Fleet_Tap", name, "fleet tap")
        edit.tap_del(idl, txn, name)
    return await run_change(request, "deleteTap", name, {},
                            change, 200)


def _where(body):
    """A collector's port (local) or remote IP (tunnels), as edit takes
    it."""
    local = body["type"] == "local"
    wrong = "remote_ip" if local else "port"
    if wrong in body:
        raise FleetError("%s: a %s collector has a %s, not a %s"
                         % (wrong, body["type"],
                            "port" if local else "remote_ip", wrong), wrong)
    return body.get("port" if local else "remote_ip", "")


@audited
async def create_collector(request):
    body = await read_body(request, "createCollector")
    name = body["name"]

    def change(idl, txn):
        _must_not_exist(idl, "Collector", name, "collector")
        edit.collector_add(idl, txn, name, body["type"], _where(body),
                           body.get("options", {}))
    return await run_change(request, "createCollector", name, body, change,
                            201)


@audited
async def update_collector(request):
    body = await read_body(request, "updateCollector")
    name = request.match_info["name"]

    def change(idl, txn):
        _must_exist(idl, "Collector", name, "collector")
        edit.collector_set(idl, txn, name, body["type"], _where(body),
                           body.get("options", {}))
    return await run_change(request, "updateCollector", name, body, change,
                            200)


@audited
async def delete_collector(request):
    name = request.match_info["name"]

    def change(idl, txn):
        _must_exist(idl, "Collector", name, "collector")
        edit.collector_del(idl, txn, name)
    # What is left to refuse: the collector is in use.
    return await run_change(request, "deleteCollector", name, {}, change,
                            200, error_status=409)


# The routes: (method, path, operationId, handler).  Changes need the admin
# role; PUBLIC ones no authentication.
ROUTES = [
    ("GET", "/session", "getSession", get_session),
    ("POST", "/login", "login", login),
    ("POST", "/logout", "logout", logout),
    ("GET", "/overview", "getOverview",
     view_handler("getOverview", views.overview)),
    ("GET", "/hosts", "listHosts", view_handler("listHosts", views.hosts)),
    ("GET", "/taps", "listTaps", view_handler("listTaps", views.taps)),
    ("POST", "/taps", "createTap", create_tap),
    ("GET", "/taps/{name}", "getTap", get_tap),
    ("PATCH", "/taps/{name}", "updateTap", update_tap),
    ("DELETE", "/taps/{name}", "deleteTap", delete_tap),
    ("GET", "/collectors", "listCollectors",
     view_handler("listCollectors", views.collectors)),
    ("POST", "/collectors", "createCollector", create_collector),
    ("GET", "/collectors/{name}", "getCollector", get_collector),
    ("PUT", "/collectors/{name}", "updateCollector", update_collector),
    ("DELETE", "/collectors/{name}", "deleteCollector", delete_collector),
    ("GET", "/vms", "listVms", view_handler("listVms", views.vms)),
    ("GET", "/progress/{nb_cfg}", "getProgress", get_progress),
    ("GET", "/audit", "getAudit", get_audit),
    ("GET", "/events", "getEvents", get_events),
    ("GET", "/openapi.json", "getOpenapi", get_openapi),
]
PUBLIC = {"login", "getOpenapi"}
# What the audit records name each change (ovs-vtap-fleetctl's commands).
ACTIONS = {"createTap": "tap-add", "updateTap": "tap-set",
           "deleteTap": "tap-del", "createCollector": "collector-add",
           "updateCollector": "collector-set",
           "deleteCollector": "collector-del", "login": "login",
           "logout": "logout"}
# Changes that any authenticated user may make (their own session).
ANY_ROLE = {"login", "logout"}


def add_routes(app):
    for method, path, operation, handler in ROUTES:
        app.router.add_route(method, PREFIX + path, handler, name=operation)
