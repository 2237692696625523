# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""vtap_fleet.schema, the one table of a fleet tap's columns, against the
two schemas it describes."""

import os

import pytest

from vtap_fleet import schema

import fakes

FLEET = fakes.load_schema(fakes.FLEET_SCHEMA)


def test_every_fleet_tap_column_in_the_schemas_order():
    assert [c for c, role in schema.FLEET_TAP_COLUMNS] == \
        list(FLEET.tables["Fleet_Tap"].columns)


def test_tap_add_settings():
    assert schema.TAP_SETTINGS == (
        "direction", "match", "output_vlan", "snaplen", "sampling",
        "max_rate", "offload", "enabled", "external_ids")


def test_the_schema_file_is_beside_the_package():
    assert schema.source_schema_path() == os.path.abspath(
        fakes.FLEET_SCHEMA)
    assert FLEET.name == schema.DB_NAME


@pytest.mark.skipif(not os.path.exists(fakes.VSWITCH_SCHEMA),
                    reason="no built vswitch.ovsschema")
def test_copied_columns_are_the_same_in_a_hosts_tap():
    tap = fakes.load_schema(fakes.VSWITCH_SCHEMA).tables["Tap"].columns
    for column in schema.COPIED_COLUMNS:
        assert column in tap
        assert (tap[column].type.to_json()
                == FLEET.tables["Fleet_Tap"].columns[column].type.to_json())
    for column in schema.LOCAL_TAP_COLUMNS:
        assert column in tap
