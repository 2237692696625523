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

"""The OVS-vTAP fleet console, ovs-vtap-console: a web view of the fleet
database in which operators watch every tap's copies live and create,
change and delete taps and collectors (with vtap_fleet.edit, the checks
of ovs-vtap-fleetctl).

- model: the fleet as a snapshot of plain data, with copies/s, their
  history, agents' liveness and what is wrong (pure);
- views: each page's and API endpoint's document, from a snapshot (pure);
- fleetdb: the thread that holds the fleet database's IDL, publishes
  snapshots and runs changes;
- auth: users (tokens, client certificates), roles, sessions, CSRF tokens;
- audit: the record of every change asked for;
- api: the REST API under /api/v1 (openapi.json documents it);
- web: the HTTP server: the page, the API, authentication, limits;
- daemon: the command line and the daemon.

The page itself is static/ (plain HTML, CSS and JavaScript; Chart.js
from libjs-chart.js).  Unit tests: tests/console/ in the source tree."""
