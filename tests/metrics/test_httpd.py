# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The HTTP server as a client, well-behaved or not, sees it: on loopback,
with a stand-in for the metrics."""

import base64
import gzip
import http.client
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from vtap_metrics import httpd, webconfig

BODY = b'# HELP x y\n# TYPE x gauge\nx 1\n'


def render(accept):
    return BODY, 'text/plain; version=0.0.4; charset=utf-8'


@pytest.fixture
def serve(request):
    servers = []

    def start(conf=None, **kw):
        server = httpd.Server('127.0.0.1', 0, conf or webconfig.WebConfig(),
                              render, **kw)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def get(server, path='/metrics', method='GET', headers=None, body=None,
        context=None):
    port = server.server_address[1]
    if context is None:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=5)
    else:
        conn = http.client.HTTPSConnection('127.0.0.1', port, timeout=5,
                                           context=context)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def raw(server, data, wait=5.0):
    """Sends 'data' (bytes, or a list of (bytes, pause)) and returns what
    comes back until the server closes."""
    s = socket.create_connection(server.server_address, timeout=wait)
    try:
        for chunk, pause in data if isinstance(data, list) else [(data, 0)]:
            s.sendall(chunk)
            time.sleep(pause)
        out = b''
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()


def eventually(cond, timeout=3.0):
    """The server counts a reply once it is sent: the client may see it
    first."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_metrics_and_landing_page(serve):
    server = serve()
    status, headers, data = get(server)
    assert status == 200 and data == BODY
    assert headers['Content-Type'].startswith('text/plain')
    status, _, data = get(server, '/')
    assert status == 200 and b'/metrics' in data
    status, headers, data = get(server, headers={'Accept-Encoding': 'gzip'})
    assert headers['Content-Encoding'] == 'gzip'
    assert gzip.decompress(data) == BODY
    assert eventually(lambda: server.counts['200'] == 3)


def test_wrong_path_and_method(serve):
    server = serve()
    assert get(server, '/metricsx')[0] == 404
    assert get(server, '/../etc/passwd')[0] == 404
    status, headers, _ = get(server, method='POST', body=b'x' * 100)
    assert status == 405 and headers['Allow'] == 'GET'
    assert get(server, method='HEAD')[0] == 405
    assert get(server, method='DELETE')[0] == 405
    # A body on a GET.
    assert get(server, body=b'hello')[0] == 400
    # Not HTTP at all.
    assert raw(server, b'\x16\x03\x01garbage\r\n\r\n').startswith(
        b'HTTP/1.1 400')
    assert get(server)[0] == 200


def test_huge_request(serve):
    server = serve()
    reply = raw(server, b'GET /metrics HTTP/1.1\r\nX: ' + b'a' * 100000
                + b'\r\n\r\n')
    assert reply.startswith(b'HTTP/1.1 431')
    reply = raw(server, b'GET /' + b'a' * 9000 + b' HTTP/1.1\r\n\r\n')
    assert reply.startswith(b'HTTP/1.1 431')
    assert get(server)[0] == 200
    assert eventually(lambda: server.counts['431'] == 2)


def test_slow_client_is_cut_off(serve):
    server = serve(timeout=1.0)
    start = time.monotonic()
    # A byte every 0.3 s: each read is quick, the whole is too slow.
    reply = raw(server, [(b'G', 0.3), (b'E', 0.3), (b'T', 0.3), (b' ', 0.3),
                         (b'/', 0.3)])
    assert reply.startswith(b'HTTP/1.1 408')
    assert time.monotonic() - start < 4
    assert get(server)[0] == 200


def test_connections_are_capped(serve):
    server = serve(timeout=2.0, max_connections=2)
    idle = [socket.create_connection(server.server_address)
            for _ in range(2)]
    time.sleep(0.2)
    # The third is closed at once, without an answer.
    assert raw(server, b'GET /metrics HTTP/1.1\r\n\r\n') == b''
    for s in idle:
        s.close()
    time.sleep(2.5)
    assert get(server)[0] == 200
    assert eventually(lambda: server.counts['too_many_connections'] == 1)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_basic_auth(serve, tmp_path):
    h = webconfig.hash_password('s3cret', rounds=4)
    conf = webconfig.WebConfig(write(tmp_path, 'web.yml',
                                     'basic_auth_users:\n  prom: %s\n' % h))
    server = serve(conf)

    def auth(user, password):
        token = base64.b64encode(('%s:%s' % (user, password)).encode())
        return {'Authorization': 'Basic ' + token.decode()}
    status, headers, _ = get(server)
    assert status == 401 and 'Basic' in headers['WWW-Authenticate']
    assert get(server, headers=auth('prom', 'wrong'))[0] == 401
    assert get(server, headers=auth('eve', 's3cret'))[0] == 401
    assert get(server, headers={'Authorization': 'Basic %%%'})[0] == 401
    assert get(server, headers=auth('prom', 's3cret'))[0] == 200
    assert get(server, headers=auth('prom', 's3cret'))[0] == 200
    # Bad paths are 404 before authentication, as everywhere.
    assert get(server, '/x')[0] == 404


def openssl(*args):
    subprocess.run(('openssl',) + args, check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path):
    if not shutil.which('openssl'):
        pytest.skip('no openssl')
    d = tmp_path
    for name in ('ca', 'client-ca'):
        openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                '-subj', '/CN=%s' % name, '-keyout', str(d / (name + '.key')),
                '-out', str(d / (name + '.pem')))
    for name, ca in (('server', 'ca'), ('client', 'client-ca')):
        openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj',
                '/CN=127.0.0.1', '-keyout', str(d / (name + '.key')),
                '-out', str(d / (name + '.csr')))
        ext = d / 'ext'
        ext.write_text('subjectAltName=IP:127.0.0.1\n')
        openssl('x509', '-req', '-in', str(d / (name + '.csr')), '-CA',
                str(d / (ca + '.pem')), '-CAkey', str(d / (ca + '.key')),
                '-CAcreateserial', '-days', '1', '-extfile', str(ext),
                '-out', str(d / (name + '.pem')))
    return d


def test_tls_with_client_certificates(serve, pki):
    conf = webconfig.WebConfig(write(pki, 'web.yml', """\
tls_server_config:
  cert_file: %(d)s/server.pem
  key_file: %(d)s/server.key
  client_ca_file: %(d)s/client-ca.pem
  client_auth_type: RequireAndVerifyClientCert
""" % {'d': pki}))
    assert conf.secure
    server = serve(conf)
    ctx = ssl.create_default_context(cafile=str(pki / 'ca.pem'))
    ctx.load_cert_chain(str(pki / 'client.pem'), str(pki / 'client.key'))
    status, _, data = get(server, context=ctx)
    assert (status, data) == (200, BODY)
    # No client certificate: refused in the handshake.
    bare = ssl.create_default_context(cafile=str(pki / 'ca.pem'))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        get(server, context=bare)
    # Plain HTTP to the TLS port gets nothing.
    assert not raw(server, b'GET /metrics HTTP/1.1\r\n\r\n',
                   wait=3).startswith(b'HTTP/1.1 200')
    # A client that never finishes its handshake holds up nobody.
    stuck = socket.create_connection(server.server_address)
    assert get(server, context=ctx)[0] == 200
    stuck.close()
    assert eventually(lambda: server.counts['tls_error'] >= 1)


def test_web_config_errors(tmp_path, pki):
    def bad(text, match):
        with pytest.raises(webconfig.ConfigError, match=match):
            webconfig.WebConfig(write(tmp_path, 'bad.yml', text))
    bad('tls_server_confg: {}\n', 'unknown key "tls_server_confg"')
    bad('tls_server_config:\n  cert_file: x\n', 'key_file is required')
    bad('tls_server_config:\n  cert_file: /nonexistent\n'
        '  key_file: /nonexistent\n', 'tls_server_config')
    bad('basic_auth_users:\n  a: plain\n', 'bcrypt hash')
    bad('tls_server_config:\n  cert_file: %s/server.pem\n'
        '  key_file: %s/server.key\n'
        '  client_auth_type: RequireAndVerifyClientCert\n' % (pki, pki),
        'needs client_ca_file')
    bad('- a\n', 'expected a mapping')
    with pytest.raises(webconfig.ConfigError, match='No such file'):
        webconfig.WebConfig(str(tmp_path / 'none.yml'))
    # TLS without a client check is not "secure" (anyone may scrape).
    ok = webconfig.WebConfig(write(
        tmp_path, 'ok.yml', 'tls_server_config:\n  cert_file: %s/server.pem'
        '\n  key_file: %s/server.key\n' % (pki, pki)))
    assert ok.tls is not None and not ok.secure


def test_web_config_reload(serve, tmp_path):
    path = write(tmp_path, 'web.yml', '{}\n')
    conf = webconfig.WebConfig(path)
    server = serve(conf)
    assert get(server)[0] == 200
    time.sleep(0.01)
    write(tmp_path, 'web.yml', 'basic_auth_users:\n  a: %s\n'
          % webconfig.hash_password('b', rounds=4))
    assert get(server)[0] == 401
    # A file that became bad: the settings in force stay.
    write(tmp_path, 'web.yml', 'nonsense: 1\n')
    assert get(server)[0] == 401
