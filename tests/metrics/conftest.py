# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The exporter's unit tests run without daemons.  As the fleet's, they
find the packages in utilities/ (vtap_metrics, and vtap_fleet, whose agent
they check the exporter against) and Open vSwitch's "ovs" package in the
build tree ($OVS_PYTHON, else ovs/python at the top)."""

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OVS_PYTHON = os.environ.get("OVS_PYTHON",
                            os.path.join(TOP, "ovs", "python"))
sys.path[0:0] = [os.path.join(TOP, "utilities"), OVS_PYTHON,
                 os.path.dirname(os.path.abspath(__file__))]
