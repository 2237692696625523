# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The fleet's unit tests find the package in utilities/ and Open vSwitch's
"ovs" package in the build tree ($OVS_PYTHON, else ovs/python at the top),
and the match checker ovs-vtap-match beside it, if it was built."""

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OVS_PYTHON = os.environ.get("OVS_PYTHON",
                            os.path.join(TOP, "ovs", "python"))
sys.path[0:0] = [os.path.join(TOP, "utilities"), OVS_PYTHON,
                 os.path.dirname(os.path.abspath(__file__))]

MATCH = os.path.join(os.path.dirname(OVS_PYTHON), "utilities",
                     "ovs-vtap-match")
if "OVS_VTAP_MATCH" not in os.environ and os.access(MATCH, os.X_OK):
    os.environ["OVS_VTAP_MATCH"] = MATCH
