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


def test_what_the_agent_writes_back_are_the_schemas_columns():
    """Each Tap_Status and VM_Port column is one the agent writes."""
    from vtap_fleet import status
    import test_status
    host, fleet, taps = test_status.applied()
    want = status.wanted("hv1", taps, host.tables["Tap"].rows)
    for row in want.values():
        assert set(row) == set(FLEET.tables["Tap_Status"].columns)
    vms = status.vm_ports("hv1", test_status.vm_host().bridges())
    for row in vms.values():
        assert set(row) == set(FLEET.tables["VM_Port"].columns)
    assert FLEET.version == "1.2.0"


def _c_delivery_settings():
    """The names in vtap/policy/types.h's VTAP_DELIVERY_SETTINGS list."""
    import re
    path = os.path.join(os.path.dirname(fakes.FLEET_SCHEMA), os.pardir,
                        os.pardir, "vtap", "policy", "types.h")
    text = open(path).read()
    block = text[text.index("#define VTAP_DELIVERY_SETTINGS(X)"):]
    block = block[:block.index("\n\n")]
    return re.findall(r"X\((\w+)\)", block)


def test_c_delivery_settings_are_integer_columns_of_both_schemas():
    # vswitchd loads a host's Tap row's integer settings from that list:
    # each is an optional integer column of the fleet's taps, copied as it
    # is into the host's.
    names = _c_delivery_settings()
    assert names == ["output_vlan", "snaplen", "sampling", "max_rate"]
    for name in names:
        column = FLEET.tables["Fleet_Tap"].columns[name]
        assert column.type.key.type.to_string() == "integer"
        assert column.type.n_min == 0 and column.type.n_max == 1
        assert name in schema.COPIED_COLUMNS
