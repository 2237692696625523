# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The console's unit tests: the packages in utilities/, Open vSwitch's
"ovs" package of the build tree, the fleet tests' stand-ins (tests/fleet)
and ovs-vtap-match, found as the fleet's tests find them (its conftest
sets the paths; fakes.py takes TOP and OVS_PYTHON from "conftest", which
this module is when pytest runs tests/console)."""

import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_fleet = runpy.run_path(os.path.join(os.path.dirname(HERE), "fleet",
                                     "conftest.py"))
TOP = _fleet["TOP"]
OVS_PYTHON = _fleet["OVS_PYTHON"]
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fleet"))
