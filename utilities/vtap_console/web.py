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

"""The console's web server (aiohttp): the page and its assets, the API
(vtap_console.api), and what stands between them and a client:

- the Host header must name the console (on loopback: against DNS
  rebinding, a web site's name pointed at 127.0.0.1);
- authentication: a bearer token, a session cookie, a client certificate,
  or nothing on loopback without a users file (vtap_console.auth);
- a change needs the admin role, and, when the browser sends the
  credentials by itself, the session's CSRF token in X-CSRF-Token and no
  foreign Origin;
- bounded bodies and connections, a deadline for a request's headers and
  body, one request per connection; security headers on every answer.

The Hub is the web side of the database thread: the latest snapshot,
waiting for a newer one, and changes handed to the thread."""

import asyncio
import ipaddress
import json
import os
import ssl
import time

from aiohttp import web

import ovs.vlog

from vtap_console import api
from vtap_console import auth
from vtap_console import model
from vtap_console import views

vlog = ovs.vlog.Vlog("vtap_console_web")

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC_DIR = os.path.join(HERE, "static")
OPENAPI_FILE = os.path.join(HERE, "openapi.json")
DEFAULT_CHARTJS = "/usr/share/javascript/chart.js/chart.min.js"

# The page's files: URL path -> (file name in the static directory, type).
STATIC = {
    "/": ("index.html", "text/html"),
    "/static/app.js": ("app.js", "application/javascript"),
    "/static/style.css": ("style.css", "text/css"),
}
CHARTJS_PATH = "/static/chart.js"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Config(object):
    """The server's settings (the daemon's options)."""

    def __init__(self, tls=False, allowed_hosts=None, max_body=65536,
                 max_connections=64, request_timeout=30.0, keepalive=15.0,
                 static_dir=STATIC_DIR, chartjs=DEFAULT_CHARTJS,
                 open_access=False):
        self.tls = tls
        # Host header values accepted (None: any).
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body
        self.max_connections = max_connections
        self.request_timeout = request_timeout
        self.keepalive = keepalive
        self.static_dir = static_dir
        self.chartjs = chartjs
        # Everyone is the local administrator (loopback, no users file).
        self.open_access = open_access


class Hub(object):
    """The latest snapshot for the web side, and changes for the database
    thread ('submit(change, comment)' returns a concurrent Future)."""

    def __init__(self, submit=None):
        self.submit = submit
        self.snapshot = model.snapshot(None, time.time(), model.Tracker())
        self.loop = None
        self.changed = None

    def attach(self, loop):
        self.loop = loop
        self.changed = asyncio.Event()

    def publish_threadsafe(self, snap):
        """From the database thread."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.publish, snap)

    def publish(self, snap):
        self.snapshot = snap
        if self.changed is not None:
            self.changed.set()
            self.changed = asyncio.Event()

    async def wait_newer(self, generation, timeout):
        """Waits up to 'timeout' s for a snapshot newer than 'generation';
        returns whether there is one."""
        if self.snapshot["generation"] > generation:
            return True
        if timeout > 0 and self.changed is not None:
            try:
                await asyncio.wait_for(self.changed.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return self.snapshot["generation"] > generation

    async def change(self, change, comment):
        return await asyncio.wrap_future(self.submit(change, comment))


# -- Middlewares, outermost first. ------------------------------------------

@web.middleware
async def guard_mw(request, handler):
    """Marks the connection as having a request (its header deadline is
    over) and ends it after the answer."""
    request.app["guard"].started(request.transport)
    response = await handler(request)
    response.force_close()
    return response


def _is_api(request):
    return request.path == api.PREFIX or \
        request.path.startswith(api.PREFIX + "/")


@web.middleware
async def errors_mw(request, handler):
    """Security headers on every answer; errors of the API as JSON."""
    try:
        response = await handler(request)
    except api.ApiError as e:
        response = api.error_response(e.status, str(e), e.field)
    except views.NotFound as e:
        response = api.error_response(404, str(e), "name")
    except web.HTTPException as e:
        if _is_api(request) or e.status >= 400:
            response = api.error_response(e.status, e.reason)
            for key in ("Allow",):
                if key in e.headers:
                    response.headers[key] = e.headers[key]
        else:
            response = e
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
        if request.app["config"].tls:
            response.headers["Strict-Transport-Security"] = \
                "max-age=31536000"
        if _is_api(request):
            response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def host_mw(request, handler):
    allowed = request.app["config"].allowed_hosts
    if allowed is not None and request.host.lower() not in allowed:
        raise api.ApiError(421, "%s: not this console's name (see "
                           "--server-name)" % request.host)
    return await handler(request)


def _cert_principal(request):
    ssl_object = request.transport.get_extra_info("ssl_object")
    cert = ssl_object.getpeercert() if ssl_object else None
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return request.app["users"].by_cert(value)
    return None


def authenticate(request):
    """Who the request comes from, or None."""
    app = request.app
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise api.ApiError(401, "Authorization: expected Bearer TOKEN")
        if not app["brake"].allowed(request.remote):
            raise api.ApiError(429, "too many failed logins: wait a minute")
        principal = app["users"].by_token(token.strip())
        if principal is None:
            app["brake"].failed(request.remote)
            raise api.ApiError(401, "wrong token")
        return principal
    session = app["sessions"].get(request.cookies.get(api.SESSION_COOKIE))
    if session is not None:
        return session.principal()
    principal = _cert_principal(request)
    if principal is not None:
        return principal
    if app["config"].open_access:
        return auth.Principal("local", auth.ADMIN, auth.LOCAL)
    return None


def _refuse(request, principal, status, message):
    """Records a refused change and raises its error."""
    operation = request.match_info.route.name
    request.app["audit"].record(
        principal, request.remote,
        api.ACTIONS.get(operation, operation or request.path),
        request.match_info.get("name"), None, "refused: %s" % message)
    raise api.ApiError(status, message)


@web.middleware
async def auth_mw(request, handler):
    if not _is_api(request):
        return await handler(request)
    operation = request.match_info.route.name
    unsafe = request.method in UNSAFE_METHODS
    if operation in api.PUBLIC:
        principal = None
    else:
        principal = authenticate(request)
        if principal is None:
            # (Not recorded: anyone could fill the audit log.)
            raise api.ApiError(401, "authentication required")
    request["principal"] = principal
    if unsafe:
        origin = request.headers.get("Origin")
        own = "%s://%s" % ("https" if request.app["config"].tls else "http",
                           request.host)
        if origin is not None and origin != own:
            _refuse(request, principal, 403, "Origin %s is not this console"
                    % origin)
        if principal is not None and operation not in api.ANY_ROLE \
                and not principal.is_admin:
            _refuse(request, principal, 403, "user %s (%s) may not change "
                    "the fleet" % (principal.name, principal.role))
        if principal is not None and principal.ambient:
            token = request.headers.get(api.CSRF_HEADER)
            if principal.session is None \
                    or not principal.session.check_csrf(token):
                _refuse(request, principal, 403,
                        "missing or wrong CSRF token (%s: get it from GET "
                        "%s/session)" % (api.CSRF_HEADER, api.PREFIX))
    return await handler(request)


# -- The page. --------------------------------------------------------------

def static_handler(path):
    async def handler(request):
        config = request.app["config"]
        if path == CHARTJS_PATH:
            name, ctype = config.chartjs, "application/javascript"
        else:
            name, ctype = STATIC[path]
            name = os.path.join(config.static_dir, name)
        if not os.path.isfile(name):
            raise web.HTTPNotFound()
        response = web.FileResponse(name, headers={"Content-Type": ctype})
        response.headers["Cache-Control"] = "no-cache"
        return response
    return handler


async def no_icon(request):
    return web.Response(status=204)


# -- Connections. -----------------------------------------------------------

class Guard(object):
    """Bounds the connections: at most 'max_connections' at once, and each
    must have sent a request's headers within 'timeout' seconds."""

    def __init__(self, max_connections, timeout):
        self.max_connections = max_connections
        self.timeout = timeout
        self.pending = {}       # transport -> timer handle
        self.active = 0

    def wrap(self, protocol):
        return _GuardedProtocol(self, protocol)

    def started(self, transport):
        handle = self.pending.pop(transport, None)
        if handle is not None:
            handle.cancel()


class _GuardedProtocol(object):
    """An aiohttp connection's protocol, with the Guard's checks around
    it; everything else goes to it."""

    def __init__(self, guard, protocol):
        self._guard = guard
        self._protocol = protocol
        self._refused = False
        self._transport = None

    def __getattr__(self, name):
        return getattr(self._protocol, name)

    def connection_made(self, transport):
        guard = self._guard
        if guard.active >= guard.max_connections:
            self._refused = True
            transport.abort()
            return
        guard.active += 1
        self._transport = transport
        guard.pending[transport] = asyncio.get_event_loop().call_later(
            guard.timeout, self._too_slow)
        self._protocol.connection_made(transport)

    def _too_slow(self):
        self._guard.pending.pop(self._transport, None)
        self._transport.abort()

    def connection_lost(self, exc):
        if self._refused:
            return
        self._guard.active -= 1
        self._guard.started(self._transport)
        self._protocol.connection_lost(exc)


def ssl_context(private_key, certificate, ca_cert=None):
    """The server's TLS: its key and certificate (ovs-pki's, or any); with
    'ca_cert', clients may authenticate with a certificate it signed."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(certificate, private_key)
    if ca_cert:
        ctx.load_verify_locations(ca_cert)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


def is_loopback(address):
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def loopback_hosts(port):
    """The Host headers of a console on loopback port 'port'."""
    return set("%s:%d" % (h, port) for h in ("127.0.0.1", "localhost",
                                             "[::1]"))


def make_app(hub, config, users, audit_log):
    app = web.Application(client_max_size=config.max_body,
                          middlewares=[guard_mw, errors_mw, host_mw,
                                       auth_mw])
    app["hub"] = hub
    app["config"] = config
    app["users"] = users
    app["audit"] = audit_log
    app["sessions"] = auth.Sessions()
    app["brake"] = auth.LoginBrake()
    app["guard"] = Guard(config.max_connections, config.request_timeout)
    with open(OPENAPI_FILE) as f:
        app["openapi"] = json.load(f)
    api.add_routes(app)
    for path in list(STATIC) + [CHARTJS_PATH]:
        app.router.add_get(path, static_handler(path))
    app.router.add_get("/favicon.ico", no_icon)
    return app


async def start(app, host, port, ssl_ctx=None):
    """Starts serving 'app' on 'host':'port' (0: any free port); returns
    the runner, the server and the port."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    guard = app["guard"]
    loop = asyncio.get_event_loop()
    server = await loop.create_server(lambda: guard.wrap(runner.server()),
                                      host, port, ssl=ssl_ctx,
                                      reuse_address=True)
    return runner, server, server.sockets[0].getsockname()[1]


async def stop(runner, server, timeout=2.0):
    """Stops listening, ends the connections (event streams never end by
    themselves), then the app."""
    server.close()
    await runner.server.shutdown(timeout)
    try:
        await asyncio.wait_for(server.wait_closed(), timeout)
    except asyncio.TimeoutError:
        pass
    await runner.cleanup()
