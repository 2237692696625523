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

# The sanitizer builds, with clang, in $(S) (sanitize/ in the build
# directory), apart from the normal gcc build:
#
#   $(S)/vtap-unittests     the GoogleTest suite, module and tests built with
#                           -fsanitize=address,undefined
#   $(S)/match_fuzzer       libFuzzer targets (vtap/fuzz/*_fuzzer.*), with
#   $(S)/policy_fuzzer      the module and Open vSwitch's lib instrumented
#   $(S)/ofp_actions_fuzzer for coverage and the same sanitizers
#
# The top-level Makefile runs this file (GNU make) with the variables
# below; it is a separate file so that automake does not have to
# understand its pattern rules.  Everything goes through ccache, so a
# second tree with the same sources builds from the cache.

# Set by the caller.
srcdir ?= .
CLANG ?= clang
CLANGXX ?= clang++
PACKAGE_VERSION ?= 0.0.0
VTAP_HAVE_EBPF ?= 0
VTAP_EBPF_LIBS ?=
GTEST_LIBS ?= -lgtest -lgtest_main -lpthread
VTAP_SOURCES ?=                 # The module's .cc files.
GTEST_SOURCES ?=                # The GoogleTest suite's .cc files.
OVS_TARBALL ?=
OVS_OVERLAY ?=

S = sanitize
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The module is also instrumented for libFuzzer's coverage: the gtest
# binary links the same objects (the sanitizer runtime has default hooks
# for the coverage callbacks), so the module compiles once for both.
COV = -fsanitize=fuzzer-no-link
CFLAGS_COMMON = -g -O1 -fno-omit-frame-pointer $(SAN) -MMD -MP
CXXFLAGS = $(CFLAGS_COMMON) -std=c++17 -Wall -Wextra -Werror \
	-Wno-unused-parameter
CPPFLAGS = -I$(srcdir) -I. -DVTAP_VERSION='"$(PACKAGE_VERSION)"' \
	-DVTAP_HAVE_EBPF=$(VTAP_HAVE_EBPF)

VTAP_OBJS = $(patsubst %.cc,$(S)/%.o,$(filter %.cc,$(VTAP_SOURCES)))
GTEST_OBJS = $(patsubst %.cc,$(S)/%.o,$(filter %.cc,$(GTEST_SOURCES)))
FUZZERS = $(S)/match_fuzzer $(S)/policy_fuzzer $(S)/ofp_actions_fuzzer

all: $(S)/vtap-unittests $(FUZZERS)
unittests: $(S)/vtap-unittests
fuzzers: $(FUZZERS)
.PHONY: all unittests fuzzers

$(VTAP_OBJS): $(S)/%.o: $(srcdir)/%.cc
	@mkdir -p $(@D)
	$(CLANGXX) $(CPPFLAGS) $(CXXFLAGS) $(COV) -c $< -o $@

# The harnesses and tests themselves need no coverage instrumentation:
# only the code under test does, and leaving it out keeps runs fast.
$(GTEST_OBJS) $(S)/vtap/fuzz/match_fuzzer.o $(S)/vtap/fuzz/policy_fuzzer.o: \
		$(S)/%.o: $(srcdir)/%.cc
	@mkdir -p $(@D)
	$(CLANGXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(S)/libvtap.a: $(VTAP_OBJS)
	rm -f $@ && ar cr $@ $(VTAP_OBJS) && ranlib $@

$(S)/vtap-unittests: $(GTEST_OBJS) $(S)/libvtap.a
	$(CLANGXX) $(SAN) -o $@ $(GTEST_OBJS) $(S)/libvtap.a $(GTEST_LIBS) \
	    $(VTAP_EBPF_LIBS)

$(S)/match_fuzzer $(S)/policy_fuzzer: $(S)/%: $(S)/vtap/fuzz/%.o \
		$(S)/libvtap.a
	$(CLANGXX) $(SAN) -fsanitize=fuzzer -o $@ $< $(S)/libvtap.a \
	    $(VTAP_EBPF_LIBS)

# The tap action's decoder lives in Open vSwitch's lib/ofp-actions.c
# (patch 0005), so its fuzzer links a libopenvswitch built with the
# sanitizers: a patched tree of its own in $(S)/ovs, prepared like ./ovs
# and configured with clang, of which only lib/libopenvswitch.la (and the
# generated headers it needs) is built.
OVS_SAN_TREE = $(S)/ovs
OVS_SAN_CFLAGS = -g -O1 $(SAN) $(COV)
OVS_SAN_LIB = $(OVS_SAN_TREE)/lib/libopenvswitch.la

# Always runs; the sub-make decides what is out of date, and the fuzzer
# relinks only if the library's timestamp changed.
$(OVS_SAN_LIB): FORCE
	@ASAN_OPTIONS=detect_leaks=0 $(SHELL) \
	    $(srcdir)/build-aux/prepare-ovs-tree $(OVS_TARBALL) $(srcdir) \
	    $(OVS_SAN_TREE) -- $(OVS_OVERLAY) -- \
	    --with-vtap-lib=$(CURDIR)/vtap/libvtap.a \
	    CC="$(CLANG)" CFLAGS="$(OVS_SAN_CFLAGS)"
	@printf 'vtap-built-sources:\n\t@echo $$(BUILT_SOURCES)\n' \
	    > $(OVS_SAN_TREE)/.vtap/built-sources.mk
	@$(MAKE) -C $(OVS_SAN_TREE) V=0 `$(MAKE) -s --no-print-directory \
	    -C $(OVS_SAN_TREE) -f Makefile -f .vtap/built-sources.mk \
	    vtap-built-sources`
	@$(MAKE) -C $(OVS_SAN_TREE) V=0 lib/libopenvswitch.la
FORCE:

OVS_SAN_INCLUDES = -I$(OVS_SAN_TREE) -I$(OVS_SAN_TREE)/include \
	-I$(OVS_SAN_TREE)/lib -I$(srcdir)

$(S)/vtap/fuzz/ofp_actions_fuzzer.o: $(srcdir)/vtap/fuzz/ofp_actions_fuzzer.c \
		$(OVS_SAN_LIB)
	@mkdir -p $(@D)
	$(CLANG) $(OVS_SAN_INCLUDES) $(CFLAGS_COMMON) -Wall -Werror \
	    -c $< -o $@

$(S)/ofp_actions_fuzzer: $(S)/vtap/fuzz/ofp_actions_fuzzer.o $(OVS_SAN_LIB)
	$(OVS_SAN_TREE)/libtool --mode=link --tag=CC --silent $(CLANG) \
	    $(SAN) -fsanitize=fuzzer -o $@ $< $(OVS_SAN_LIB)

-include $(shell find $(S)/vtap -name '*.d' 2>/dev/null)
