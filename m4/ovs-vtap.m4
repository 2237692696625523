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

dnl OVS_CHECK_VTAP
dnl
dnl Finds the OVS-vTAP module (a C++17 static library with a C ABI) that
dnl ovs-vswitchd and ovs-vsctl link.  The OVS-vTAP top-level build passes
dnl --with-vtap-lib; this tree cannot be built without it, because its
dnl patched sources call into the module.
AC_DEFUN([OVS_CHECK_VTAP], [
  AC_ARG_WITH([vtap-lib],
    [AS_HELP_STRING([--with-vtap-lib=FILE],
                    [the OVS-vTAP module library (libvtap.a) to link])],
    [VTAP_LIB=$withval], [VTAP_LIB=])
  AC_MSG_CHECKING([for the OVS-vTAP module])
  if test -z "$VTAP_LIB"; then
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([this Open vSwitch tree is patched by OVS-vTAP: build it
from the OVS-vTAP top level, which passes --with-vtap-lib])
  fi
  AC_MSG_RESULT([$VTAP_LIB])
  AC_ARG_WITH([vtap-ldadd],
    [AS_HELP_STRING([--with-vtap-ldadd=FLAGS],
                    [libraries the OVS-vTAP module needs (e.g. -lbpf)])],
    [VTAP_LDADD=$withval], [VTAP_LDADD=])
  AC_ARG_WITH([vtap-dpdk-lib],
    [AS_HELP_STRING([--with-vtap-dpdk-lib=FILE],
                    [the OVS-vTAP DPDK copy engine (libvtap-dpdk.a), for a
                     build with DPDK])],
    [VTAP_DPDK_LIBS="$withval -lstdc++"], [VTAP_DPDK_LIBS=])
  AC_SUBST([VTAP_DPDK_LIBS])
  AC_SUBST([VTAP_LIB])
  dnl The module is C++: the C programs that link it need its runtime.
  AC_SUBST([VTAP_LIBS], ["$VTAP_LIB $VTAP_LDADD -lstdc++"])
])
