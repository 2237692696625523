#! /usr/bin/python3
# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The metrics system tests' client of Prometheus' HTTP API, and of the
exporter as a misbehaving client would be.

  vtap-metrics-client.py URL query EXPR
      One line per series of the instant query EXPR, sorted:
      "LABEL=VALUE,... VALUE" (labels sorted, __name__, job and instance
      left out unless --all-labels), values as integers where they are.
  vtap-metrics-client.py URL alerts [STATE]
      The alerts in STATE (default firing): "ALERTNAME LABEL=VALUE,...".
  vtap-metrics-client.py URL targets
      "JOB INSTANCE HEALTH" of each scrape target.
  vtap-metrics-client.py URL dashboard FILE
      Runs every query of the Grafana dashboard FILE ($instance, $bridge
      and $tap as ".*", $__rate_interval as 1m) and its variables'
      label_values() queries; prints "ok N" with the number of panels whose
      first query has data, or the queries Prometheus refused, and fails.
  vtap-metrics-client.py URL range-monotonic EXPR SECONDS
      Whether every series of EXPR never went down over the last SECONDS
      (a range query at 1 s steps): prints "monotonic N" (series) or the
      first decrease, and fails.
  vtap-metrics-client.py HOST:PORT abuse TIMEOUT
      Against the exporter: a wrong path, a wrong method, a huge request,
      a client slower than TIMEOUT, connections beyond the cap; then a
      good scrape.  One line each: "CASE RESULT".
"""

import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HIDDEN = ('__name__', 'job', 'instance')


def api(url, path, **params):
    q = urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen('%s/api/v1/%s?%s' % (url, path, q),
                                    timeout=10) as r:
            doc = json.load(r)
    except urllib.error.HTTPError as e:
        doc = json.load(e)
    if doc.get('status') != 'success':
        raise RuntimeError('%s: %s' % (params, doc.get('error')))
    return doc['data']


def fmt_value(v):
    f = float(v)
    return str(int(f)) if f == int(f) else repr(f)


def fmt_labels(labels, all_labels=False):
    return ','.join('%s=%s' % (k, v) for k, v in sorted(labels.items())
                    if all_labels or k not in HIDDEN)


def query(url, expr, all_labels=False):
    data = api(url, 'query', query=expr)
    lines = []
    for r in data['result']:
        lines.append('%s %s' % (fmt_labels(r['metric'], all_labels),
                                fmt_value(r['value'][1])))
    return sorted(lines)


def alerts(url, state='firing'):
    lines = []
    for a in api(url, 'alerts')['alerts']:
        if a['state'] == state:
            labels = dict(a['labels'])
            name = labels.pop('alertname')
            lines.append('%s %s' % (name, fmt_labels(labels)))
    return sorted(lines)


def targets(url):
    return sorted('%s %s %s' % (t['labels'].get('job'),
                                t['labels'].get('instance'), t['health'])
                  for t in api(url, 'targets')['activeTargets'])


def dashboard_queries(path):
    with open(path) as f:
        dash = json.load(f)
    subst = [('$__rate_interval', '1m'), ('${datasource}', ''),
             ('$instance', '.*'), ('$bridge', '.*'), ('$tap', '.*')]

    def expand(expr):
        for k, v in subst:
            expr = expr.replace(k, v)
        return expr
    panels = [(p['title'], [expand(t['expr']) for t in p['targets']])
              for p in dash['panels']]
    variables = []
    for v in dash['templating']['list']:
        m = re.match(r'label_values\((.*), *(\w+)\)$',
                     v.get('definition', ''))
        if m:
            variables.append((v['name'], expand(m.group(1)), m.group(2)))
    return panels, variables


def dashboard(url, path):
    panels, variables = dashboard_queries(path)
    errors, with_data = [], []
    for title, exprs in panels:
        for i, expr in enumerate(exprs):
            try:
                result = api(url, 'query', query=expr)['result']
            except RuntimeError as e:
                errors.append('%s: %s' % (title, e))
                continue
            if i == 0 and result:
                with_data.append(title)
    for name, selector, label in variables:
        try:
            data = api(url, 'series', **{'match[]': selector})
        except RuntimeError as e:
            errors.append('variable %s: %s' % (name, e))
            continue
        if not any(label in s for s in data):
            errors.append('variable %s: no %s values' % (name, label))
    for e in errors:
        print(e)
    print('ok %d' % len(with_data))
    for title in with_data:
        print('  with data: %s' % title)
    return not errors


def range_monotonic(url, expr, seconds):
    end = time.time()
    data = api(url, 'query_range', query=expr, start=end - seconds,
               end=end, step=1)
    for r in data['result']:
        last = None
        for t, v in r['values']:
            v = float(v)
            if last is not None and v < last:
                print('decrease: %s %s -> %s at %s'
                      % (fmt_labels(r['metric']), last, v, t))
                return False
            last = v
    print('monotonic %d' % len(data['result']))
    return True


def raw(addr, chunks, wait=15.0):
    """Sends 'chunks' ((bytes, pause) pairs) and returns the status line of
    what comes back, or "closed"."""
    host, port = addr.rsplit(':', 1)
    s = socket.create_connection((host, int(port)), timeout=wait)
    try:
        for chunk, pause in chunks:
            s.sendall(chunk)
            time.sleep(pause)
        out = b''
        while b'\r\n' not in out:
            b = s.recv(4096)
            if not b:
                break
            out += b
    except OSError:
        out = b''
    finally:
        s.close()
    return out.split(b'\r\n')[0].decode() or 'closed'


def abuse(addr, timeout):
    get = b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'
    cases = [
        ('wrong-path', [(b'GET /admin HTTP/1.1\r\n\r\n', 0)]),
        ('wrong-method', [(b'POST /metrics HTTP/1.1\r\nContent-Length: 3'
                           b'\r\n\r\nabc', 0)]),
        ('huge-request', [(b'GET /metrics HTTP/1.1\r\nX: ' + b'a' * (64 << 10)
                           + b'\r\n\r\n', 0)]),
        ('slow-client', [(get[:1], timeout / 2), (get[1:2], timeout / 2),
                         (get[2:3], timeout)]),
    ]
    for name, chunks in cases:
        start = time.monotonic()
        status = raw(addr, chunks)
        took = time.monotonic() - start
        print('%s %s%s' % (name, status,
                           ' (within the timeout)' if name == 'slow-client'
                           and took < 3 * timeout else ''))
    # Idle connections beyond the cap (8): those beyond it are closed at
    # once.  (Prometheus' own scrapes take a slot now and then: counted
    # loosely.)
    host, port = addr.rsplit(':', 1)
    idle = [socket.create_connection((host, int(port))) for _ in range(12)]
    closed = 0
    for s in idle:
        s.settimeout(0.5)
        try:
            closed += s.recv(1) == b''
        except OSError:
            pass
    print('too-many %s' % ('closed' if closed >= 4 else 'open %d' % closed))
    for s in idle:
        s.close()
    time.sleep(timeout + 1)
    print('good-scrape %s' % raw(addr, [(get, 0)]))


def main(argv):
    url, cmd, args = argv[1], argv[2], argv[3:]
    ok = True
    if cmd == 'query':
        lines = query(url, args[0], '--all-labels' in args)
    elif cmd == 'alerts':
        lines = alerts(url, *args)
    elif cmd == 'targets':
        lines = targets(url)
    elif cmd == 'dashboard':
        return 0 if dashboard(url, args[0]) else 1
    elif cmd == 'abuse':
        abuse(url, float(args[0]))
        return 0
    elif cmd == 'range-monotonic':
        return 0 if range_monotonic(url, args[0], float(args[1])) else 1
    else:
        sys.exit('%s: unknown command %s' % (argv[0], cmd))
    for line in lines:
        print(line)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
