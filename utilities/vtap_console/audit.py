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

"""The record of every change asked of the console, made or refused: who
(user, role, how authenticated, from which address), what (the action and
its input), when, and what came of it.  Each record is a line of JSON in
the audit log (--audit-log), a line in the daemon's log, and one of the
last records that GET /api/v1/audit shows.  A change that is made also
carries who asked in its transaction's comment, which the fleet database
keeps in its log ("ovsdb-tool show-log -m")."""

import collections
import json
import os
import time

import ovs.vlog

vlog = ovs.vlog.Vlog("vtap_console_audit")

KEPT = 200      # Records that the API shows.


def comment(principal, remote, action, name):
    """The fleet database transaction's comment for a change."""
    return ("ovs-vtap-console: %s (%s) from %s: %s %s"
            % (principal.name, principal.role, remote, action, name))


def _how(principal):
    """How the user authenticated (a session: how it began)."""
    if principal is None:
        return None
    if principal.session is not None:
        return "session:%s" % principal.session.how
    return principal.how


class Audit(object):
    def __init__(self, path=None, clock=time.time):
        self.path = path
        self.clock = clock
        self.recent = collections.deque(maxlen=KEPT)
        if path:
            # Only its owner reads what operators did.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                         0o600)
            os.close(fd)

    def record(self, principal, remote, action, target, request, result,
               nb_cfg=None):
        """Records that 'principal' (None: not authenticated) from address
        'remote' asked for 'action' on 'target' with 'request' (its
        input), and 'result' ("ok", or why it was refused)."""
        now = self.clock()
        entry = collections.OrderedDict([
            ("time", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
             + ".%03dZ" % (int(now * 1000) % 1000)),
            ("user", principal.name if principal else None),
            ("role", principal.role if principal else None),
            ("auth", _how(principal)),
            ("remote", remote),
            ("action", action),
            ("target", target),
            ("request", request),
            ("result", result),
            ("nb_cfg", nb_cfg)])
        line = json.dumps(entry, sort_keys=False)
        self.recent.append(entry)
        vlog.info("audit: %s" % line)
        if self.path:
            try:
                with open(self.path, "a") as f:
                    f.write(line + "\n")
            except OSError as e:
                vlog.err("%s: cannot write the audit record (%s)"
                         % (self.path, e.strerror))
        return entry

    def last(self, n=KEPT):
        return list(self.recent)[-n:]
