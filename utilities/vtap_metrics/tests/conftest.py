# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The unit tests of vtap_metrics run without daemons: they import the
package from this source tree and Open vSwitch's Python library from
$OVS_PYTHONPATH, else the patched tree's (ovs/python, after a build),
else the system's (python3-openvswitch)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))

for path in (os.environ.get('OVS_PYTHONPATH'),
             os.path.join(TOP, 'ovs', 'python')):
    if path and os.path.exists(os.path.join(path, 'ovs', 'dirs.py')):
        sys.path.insert(0, path)
        break
sys.path.insert(0, os.path.join(TOP, 'utilities'))
