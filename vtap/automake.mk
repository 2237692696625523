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

# OVS-vTAP's part of the patched Open vSwitch build, included last by the
# top-level Makefile.am.  The module itself (libvtap.a) is built by the
# OVS-vTAP top level; this tree has only its C ABI headers.

noinst_HEADERS += \
	vtap/capi/vtap.h \
	vtap/capi/vtap_mbuf.h \
	vtap/policy/flow_key.h \
	vtap/policy/types.h

# The tap() OpenFlow action's text form; the userspace datapath's tap copy
# action and its executor, with its deliveries: the DPDK clone path, which
# needs the module's DPDK copy engine, and the socket copy path that sends
# copies to kernel devices.
lib_libopenvswitch_la_SOURCES += \
	lib/vtap-dpdk.c \
	lib/vtap-dpdk.h \
	lib/vtap-exec.c \
	lib/vtap-exec.h \
	lib/vtap-odp.c \
	lib/vtap-odp.h \
	lib/vtap-send.c \
	lib/vtap-send.h \
	lib/vtap-ofp-actions.c \
	lib/vtap-ofp-actions.h
# libtool leaves a plain archive out of libopenvswitch.la, so every program
# links the engine after it (a program that does not copy pulls in nothing).
LIBS += $(VTAP_DPDK_LIBS)

# The native backend lives in libofproto, which then needs the module.
ofproto_libofproto_la_SOURCES += \
	ofproto/ofproto-dpif-vtap.c \
	ofproto/ofproto-dpif-vtap.h
ofproto_libofproto_la_LIBADD += $(VTAP_LIBS)

vswitchd_ovs_vswitchd_SOURCES += \
	vswitchd/vtap-bridge.c \
	vswitchd/vtap-bridge.h \
	vswitchd/vtap-bridge-private.h \
	vswitchd/vtap-stats.c \
	vswitchd/vtap-unixctl.c
vswitchd_ovs_vswitchd_LDADD += $(VTAP_LIBS)
EXTRA_vswitchd_ovs_vswitchd_DEPENDENCIES = $(VTAP_LIB)
MAN_FRAGMENTS += vswitchd/vtap-unixctl.man

utilities_ovs_vsctl_SOURCES += \
	utilities/ovs-vsctl-tap.c \
	utilities/ovs-vsctl-tap.h
utilities_ovs_vsctl_LDADD += $(VTAP_LIBS)
EXTRA_utilities_ovs_vsctl_DEPENDENCIES = $(VTAP_LIB)

man_MANS += utilities/ovs-vtap.7
EXTRA_DIST += utilities/ovs-vtap.7

# ovstest test-vtap-odp: the copy modes that translation gives.
tests_ovstest_SOURCES += tests/test-vtap-odp.c

TESTSUITE_AT += \
	tests/vtap.at \
	tests/vtap-vsctl.at \
	tests/vtap-vswitchd.at \
	tests/vtap-native.at \
	tests/vtap-exact.at \
	tests/vtap-ofp-actions.at

SYSTEM_USERSPACE_TESTSUITE_AT += \
	tests/system-vtap.at \
	tests/system-vtap-ebpf.at \
	tests/system-vtap-dpdk.at \
	tests/system-vtap-fleet.at \
	tests/system-vtap-console.at \
	tests/system-vtap-exact.at

# The fleet: the central database's schema, the agent of each host, the
# CLI, and the helper through which the CLI checks matches with the same
# parser as ovs-vsctl add-tap.
pkgdata_DATA += utilities/vtap_fleet/vtap-fleet.ovsschema
EXTRA_DIST += utilities/vtap_fleet/vtap-fleet.ovsschema

# The agent's and the CLI's modules, the package vtap_fleet: installed
# beside Open vSwitch's own "ovs" package, where the two entry scripts look
# for both.
vtapfleetdir = $(pkgdatadir)/python/vtap_fleet
VTAP_FLEET_PYFILES = \
	utilities/vtap_fleet/__init__.py \
	utilities/vtap_fleet/agent.py \
	utilities/vtap_fleet/cli.py \
	utilities/vtap_fleet/connection.py \
	utilities/vtap_fleet/desired.py \
	utilities/vtap_fleet/edit.py \
	utilities/vtap_fleet/local.py \
	utilities/vtap_fleet/rules.py \
	utilities/vtap_fleet/schema.py \
	utilities/vtap_fleet/show.py \
	utilities/vtap_fleet/sslstream.py \
	utilities/vtap_fleet/status.py
vtapfleet_DATA = $(VTAP_FLEET_PYFILES)
EXTRA_DIST += $(VTAP_FLEET_PYFILES)
FLAKE8_PYFILES += $(VTAP_FLEET_PYFILES)

bin_PROGRAMS += utilities/ovs-vtap-match
utilities_ovs_vtap_match_SOURCES = utilities/ovs-vtap-match.c
utilities_ovs_vtap_match_LDADD = $(VTAP_LIBS)
EXTRA_utilities_ovs_vtap_match_DEPENDENCIES = $(VTAP_LIB)

bin_SCRIPTS += \
	utilities/ovs-vtap-agent \
	utilities/ovs-vtap-console \
	utilities/ovs-vtap-fleetctl
CLEANFILES += \
	utilities/ovs-vtap-agent \
	utilities/ovs-vtap-console \
	utilities/ovs-vtap-fleetctl
EXTRA_DIST += \
	utilities/ovs-vtap-agent.in \
	utilities/ovs-vtap-console.in \
	utilities/ovs-vtap-fleetctl.in
FLAKE8_PYFILES += \
	utilities/ovs-vtap-agent.in \
	utilities/ovs-vtap-console.in \
	utilities/ovs-vtap-fleetctl.in

# The console (ovs-vtap-console): its package beside vtap_fleet, with its
# page and its API's OpenAPI document.
vtapconsoledir = $(pkgdatadir)/python/vtap_console
VTAP_CONSOLE_PYFILES = \
	utilities/vtap_console/__init__.py \
	utilities/vtap_console/api.py \
	utilities/vtap_console/audit.py \
	utilities/vtap_console/auth.py \
	utilities/vtap_console/daemon.py \
	utilities/vtap_console/fleetdb.py \
	utilities/vtap_console/model.py \
	utilities/vtap_console/views.py \
	utilities/vtap_console/web.py
vtapconsole_DATA = $(VTAP_CONSOLE_PYFILES) \
	utilities/vtap_console/openapi.json
vtapconsolestaticdir = $(vtapconsoledir)/static
vtapconsolestatic_DATA = \
	utilities/vtap_console/static/app.js \
	utilities/vtap_console/static/index.html \
	utilities/vtap_console/static/style.css
EXTRA_DIST += $(vtapconsole_DATA) $(vtapconsolestatic_DATA) \
	tests/vtap-console-browser.py tests/vtap-console-client.py
FLAKE8_PYFILES += $(VTAP_CONSOLE_PYFILES)

man_MANS += \
	utilities/ovs-vtap-agent.8 \
	utilities/ovs-vtap-console.8 \
	utilities/ovs-vtap-fleetctl.8 \
	utilities/ovs-vtap-match.8
EXTRA_DIST += \
	utilities/ovs-vtap-agent.8 \
	utilities/ovs-vtap-console.8 \
	utilities/ovs-vtap-fleetctl.8 \
	utilities/ovs-vtap-match.8
