# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The alert rules, the dashboard and the metrics reference name only
metrics that the exporter writes (a rename must update them all); the
rules pass promtool's checks and their unit tests (ovs-vtap.rules.test.yml,
promtool test rules), where Debian's prometheus package is installed."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from vtap_metrics import cli, families as f
from conftest import TOP

NAME_RE = re.compile(r'(?<![:\w])(ovs_vtap_[a-z0-9_]+)')


class FakeServer(object):
    import threading
    _counts_lock = threading.Lock()
    counts = {'200': 1}


def exported_names():
    tap = f.TapRecord(bridge='b', name='t', status={'backend': 'ebpf'},
                      statistics=dict((k, 1) for k in f.STATISTICS_HELP),
                      fleet_tap='', offload='auto', output='m', enabled=True)
    fams = (f.tap_families([tap])
            + f.vswitchd_families(f.VswitchdFigures(True, {}, (1, 2), 1.0))
            + f.ebpf_families(True, [f.EbpfProgram('ingress', 1, 1)])
            + f.agent_families(f.AgentFigures(True, 'h', 'r', 1, 1, 1, 1, 1,
                                              2, 1))
            + f.exporter_families('v', True, {'ovsdb': 0}, {'ovsdb': 0})
            + cli.http_family(FakeServer()))
    names = set()
    for family in fams:
        for s in family.samples:
            names.add(s.name)
    return names


def used_in(text):
    return set(NAME_RE.findall(text))


def test_rules_use_exported_metrics():
    with open(os.path.join(TOP, 'monitoring', 'ovs-vtap.rules.yml')) as fh:
        rules = yaml.safe_load(fh)
    exprs = ' '.join(r['expr'] for g in rules['groups'] for r in g['rules'])
    used = used_in(exprs)
    assert used and used <= exported_names(), used - exported_names()


def test_dashboard_uses_exported_metrics():
    with open(os.path.join(TOP, 'monitoring',
                           'ovs-vtap-dashboard.json')) as fh:
        dash = json.load(fh)
    exprs = [t['expr'] for p in dash['panels'] for t in p['targets']]
    exprs += [v['definition'] for v in dash['templating']['list']
              if 'definition' in v]
    used = used_in(' '.join(exprs))
    assert used and used <= exported_names(), used - exported_names()
    ids = [p['id'] for p in dash['panels']]
    assert len(ids) == len(set(ids))


def test_reference_lists_every_metric():
    """doc/metrics.rst's table has a row for each metric and no other."""
    with open(os.path.join(TOP, 'doc', 'metrics.rst')) as fh:
        text = fh.read()
    table = set(re.findall(r'^ *\* - ``(ovs_vtap_[a-z0-9_]+)``', text,
                           re.M))
    assert table == exported_names()


@pytest.mark.parametrize('command', [
    ['check', 'rules', 'ovs-vtap.rules.yml'],
    ['test', 'rules', 'ovs-vtap.rules.test.yml']], ids=['check', 'test'])
def test_promtool(command):
    promtool = shutil.which('promtool')
    if promtool is None:
        pytest.skip('no promtool (Debian\'s prometheus package)')
    r = subprocess.run([promtool] + command,
                       cwd=os.path.join(TOP, 'monitoring'),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=120)
    assert r.returncode == 0, r.stdout
