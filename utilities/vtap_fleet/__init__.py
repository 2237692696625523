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

"""The OVS-vTAP fleet: the modules of ovs-vtap-fleetctl and ovs-vtap-agent,
each of which reads on its own.

The fleet database and what is allowed in it:
- schema: the database's name, and the one table of a fleet tap's columns
  (which the CLI accepts as settings, which the agent copies to a host);
- rules: validation of names, targets, matches, settings, collectors and
  remotes, as pure functions raising FleetError (with the bad field);
- edit: checked changes in a transaction, and commit(): the API of the
  CLI and of any other client (a web console);
- connection: the IDL of a client of the fleet database;
- show: the database as text.

The programs:
- cli: ovs-vtap-fleetctl's options and commands;
- desired: what the policy asks for on one host (pure);
- local: the agent's reconciliation of the host's Tap rows and tunnels;
- status: what the agent writes back (Chassis, Tap_Status);
- sslstream: an ssl: stream that logs why a connection failed;
- agent: ovs-vtap-agent's connections, main loop and command line.

The fleet database's schema, vtap-fleet.ovsschema, is beside them (and
installed in pkgdatadir).  Unit tests: tests/fleet/ in the source tree
(pytest).
"""
