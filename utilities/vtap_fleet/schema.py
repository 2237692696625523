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

"""What the fleet's code knows of the schemas: the database's name, and the
one description of a fleet tap's columns, from which the CLI takes the
settings it accepts and the agent the columns it copies into a host's Tap
rows.

A new Tap column that fleet taps should carry is one line in
FLEET_TAP_COLUMNS (and the column in vtap-fleet.ovsschema, beside this
file): the unit tests check the table against both schemas."""

import os

DB_NAME = "OVS_VTAP_Fleet"
SCHEMA_FILE = "vtap-fleet.ovsschema"

# What each column of Fleet_Tap is for:
#
#   IDENTITY  the tap's name, target and collector: tap-add's positional
#             arguments, never COLUMN=VALUE;
#   SETTING   a COLUMN=VALUE setting that the agent interprets (direction,
#             enabled) or leaves alone (external_ids);
#   COPIED    a setting that the agent copies as it is into the host's Tap
#             row: the same column, of the same type, in vswitch.ovsschema.
IDENTITY = "identity"
SETTING = "setting"
COPIED = "copied"

# Fleet_Tap's columns in the schema's order, which is the order in which
# tap-add names its settings.
FLEET_TAP_COLUMNS = (
    ("name", IDENTITY),
    ("target_type", IDENTITY),
    ("target", IDENTITY),
    ("direction", SETTING),
    ("match", COPIED),
    ("collector", IDENTITY),
    ("output_vlan", COPIED),
    ("snaplen", COPIED),
    ("sampling", COPIED),
    ("max_rate", COPIED),
    ("offload", COPIED),
    ("enabled", SETTING),
    ("external_ids", SETTING),
)

# The settings tap-add takes as COLUMN[:KEY]=VALUE.
TAP_SETTINGS = tuple(c for c, role in FLEET_TAP_COLUMNS if role != IDENTITY)

# The columns the agent copies from a fleet tap into the host's Tap row.
COPIED_COLUMNS = tuple(c for c, role in FLEET_TAP_COLUMNS if role == COPIED)

# The columns "tap-list" shows after the target, direction and collector.
SHOWN_COLUMNS = COPIED_COLUMNS + ("enabled",)

# The agent's columns of a host's Tap rows: what it writes and what it
# reports back (status, statistics).
LOCAL_TAP_COLUMNS = (("name", "select_src_port", "select_dst_port",
                      "output_port")
                     + COPIED_COLUMNS
                     + ("enabled", "status", "statistics", "external_ids"))

# The Connection columns that set-connection takes.
CONNECTION_SETTINGS = ("inactivity_probe", "max_backoff")


def source_schema_path():
    """The fleet schema beside this file (in the source and build trees;
    installed, it is in pkgdatadir instead, where ovs.dirs.PKGDATADIR
    says)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        SCHEMA_FILE)
