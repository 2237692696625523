# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The exporter's HTTP(S) server.

It serves GET on the metrics path and a one-line page on "/"; every other
path is 404 and every other method 405.  What a client can make it spend
is bounded: at most 'max_connections' connections at once (more are closed
at once), a request head of at most 'max_request' bytes (431) that must
arrive whole within 'timeout' seconds, however slowly it trickles (408),
no request body, one request per connection.  TLS handshakes happen in
the connection's own thread, under the same timeout, so a client that
never finishes one holds up nobody else."""

import base64
import binascii
import collections
import gzip
import http.server
import io
import socket
import ssl
import threading
import time

from prometheus_client.exposition import choose_encoder

import ovs.vlog

vlog = ovs.vlog.Vlog('vtap_metrics_httpd')

MAX_REQUEST = 8192
TIMEOUT = 10.0
MAX_CONNECTIONS = 8


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'ovs-vtap-exporter'
    sys_version = ''
    protocol_version = 'HTTP/1.1'
    # Errors get a status line even when the request line is garbage (an
    # HTTP/0.9 request would get the bare body).
    default_request_version = 'HTTP/1.1'

    def setup(self):
        srv = self.server
        self.deadline = time.monotonic() + srv.timeout_s
        self.request.settimeout(srv.timeout_s)
        self.code = None
        if srv.webconfig.tls is not None:
            try:
                self.request = srv.webconfig.tls.wrap_socket(
                    self.request, server_side=True,
                    do_handshake_on_connect=False)
                self.request.do_handshake()
            except (OSError, ssl.SSLError) as e:
                srv.count('tls_error')
                vlog.dbg('%s: TLS handshake failed: %s'
                         % (self.client_address[0], e))
                self.request.close()
                raise _Dropped()
        self.connection = self.request
        super().setup()

    def handle(self):
        self.close_connection = True
        head = self.read_head()
        if head is None:
            return
        self.rfile = io.BytesIO(head)
        self.raw_requestline = self.rfile.readline(MAX_REQUEST + 1)
        if not self.parse_request():
            return
        if self.command != 'GET':
            self.send_error(405, explain='only GET',
                            headers={'Allow': 'GET'})
            return
        if (self.headers.get('Content-Length', '0').strip() not in ('', '0')
                or 'Transfer-Encoding' in self.headers):
            self.send_error(400, explain='a GET has no body')
            return
        path = self.path.split('?', 1)[0]
        if path not in (self.server.metrics_path, '/'):
            self.send_error(404)
            return
        if not self.authorized():
            return
        if path == '/':
            self.reply(200, b'ovs-vtap-exporter: metrics at %s\n'
                       % self.server.metrics_path.encode(),
                       'text/plain; charset=utf-8')
            return
        try:
            body, ctype = self.server.render(self.headers.get('Accept'))
        except Exception:
            vlog.exception('collecting the metrics failed')
            self.send_error(500)
            return
        # Collecting took some of the deadline: the reply gets a whole
        # timeout of its own to be read.
        self.connection.settimeout(self.server.timeout_s)
        encoding = None
        if 'gzip' in self.headers.get('Accept-Encoding', ''):
            # Level 1: with 10,000 taps a third of level 6's CPU time for
            # 2 % more bytes (the labels repeat, any level finds that).
            body = gzip.compress(body, compresslevel=1)
            encoding = 'gzip'
        self.reply(200, body, ctype, encoding)

    def read_head(self):
        """The request line and headers, read whole within the deadline and
        the size limit; None once an error was sent."""
        buf = b''
        while b'\r\n\r\n' not in buf and b'\n\n' not in buf:
            if len(buf) > MAX_REQUEST:
                self.fail_early(431, 'Request Header Fields Too Large')
                return None
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.fail_early(408, 'Request Timeout')
                return None
            self.connection.settimeout(left)
            try:
                chunk = self.connection.recv(4096)
            except socket.timeout:
                self.fail_early(408, 'Request Timeout')
                return None
            except (OSError, ssl.SSLError):
                self.server.count('reset')
                return None
            if not chunk:
                self.server.count('closed')
                return None
            buf += chunk
        if len(buf) > MAX_REQUEST:
            self.fail_early(431, 'Request Header Fields Too Large')
            return None
        return buf

    def fail_early(self, code, text):
        """An error before the request could be parsed."""
        self.code = code
        body = ('%d %s\n' % (code, text)).encode()
        try:
            self.connection.sendall(
                b'HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n'
                b'Content-Length: %d\r\nConnection: close\r\n\r\n%s'
                % (code, text.encode(), len(body), body))
        except (OSError, ssl.SSLError):
            pass

    def authorized(self):
        conf = self.server.webconfig
        if not conf.users:
            return True
        user = password = None
        auth = self.headers.get('Authorization', '')
        if auth[:6].lower() == 'basic ':
            try:
                text = base64.b64decode(auth[6:].strip(),
                                        validate=True).decode('utf-8')
                user, _, password = text.partition(':')
            except (binascii.Error, UnicodeDecodeError):
                pass
        if conf.authenticated(user, password):
            return True
        self.send_response(401)
        self.send_header('WWW-Authenticate',
                         'Basic realm="ovs-vtap-exporter", charset="UTF-8"')
        self.send_header('Content-Length', '0')
        self.send_header('Connection', 'close')
        self.end_headers()
        return False

    def reply(self, code, body, ctype, encoding=None):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        if encoding:
            self.send_header('Content-Encoding', encoding)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code, message=None, explain=None, headers=None):
        self.code = code
        body = ('%d %s%s\n' % (code, self.responses[code][0],
                               ': ' + explain if explain else '')).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header('Content-Type', 'text/plain; charset=utf-8')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def send_response(self, code, message=None):
        self.code = code
        super().send_response(code, message)

    def finish(self):
        try:
            super().finish()
        except (OSError, ssl.SSLError):
            pass
        if self.code is not None:
            self.server.count(str(self.code))

    def log_message(self, fmt, *args):
        vlog.dbg('%s: %s' % (self.client_address[0], fmt % args))


class _Dropped(Exception):
    """A connection given up before any request (a failed handshake)."""


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 16

    def __init__(self, address, port, webconfig, render,
                 metrics_path='/metrics', timeout=TIMEOUT,
                 max_connections=MAX_CONNECTIONS):
        """'render(accept)' returns (body, content type) of the metrics."""
        self.address_family = (socket.AF_INET6 if ':' in address
                               else socket.AF_INET)
        self.webconfig = webconfig
        self.render = render
        self.metrics_path = metrics_path
        self.timeout_s = timeout
        self.slots = threading.BoundedSemaphore(max_connections)
        self.counts = collections.Counter()
        self._counts_lock = threading.Lock()
        super().__init__((address, port), Handler)

    def count(self, what):
        with self._counts_lock:
            self.counts[what] += 1

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.count('too_many_connections')
            self.shutdown_request(request)
            return
        try:
            self.webconfig.reload_if_changed()
        except Exception as e:
            vlog.warn('web configuration: %s (the settings in force stay)'
                      % e)
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address):
        pass                    # Counted and logged where it happened.

    def finish_request(self, request, client_address):
        try:
            super().finish_request(request, client_address)
        except _Dropped:
            pass
        except (OSError, ssl.SSLError) as e:
            self.count('reset')
            vlog.dbg('%s: %s' % (client_address[0], e))


def renderer(registry):
    """render(accept) for Server: the registry's metrics in the format the
    client asked for (OpenMetrics or Prometheus text)."""
    def render(accept):
        encoder, ctype = choose_encoder(accept)
        return encoder(registry), ctype
    return render
