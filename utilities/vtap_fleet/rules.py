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

"""The fleet's validation rules, as functions of their input alone (no
database): names, targets, matches (by ovs-vtap-match, the parser of
ovs-vsctl add-tap), settings against the schema's types and ranges,
collectors and their tunnel options, the servers' remotes.

Each rule returns the canonical value or raises FleetError, whose 'field'
names the part of the input that is wrong and whose text is what
ovs-vtap-fleetctl prints after the command's name."""

import ipaddress
import os
import re
import subprocess

import ovs.db.data
import ovs.db.error
import ovs.db.types


class FleetError(Exception):
    """A change the fleet database refuses.  str() is the message;
    'field' is the column (or a collector's option) it is about ("target",
    "match", "snaplen", "key"...), or None when it is about the request as
    a whole."""

    def __init__(self, message, field=None):
        Exception.__init__(self, message)
        self.field = field


# Tunnel options a remote collector may have, per type, with their ranges.
TUNNEL_OPTIONS = {
    "gre": {"key": (0, 0xffffffff)},
    "vxlan": {"key": (0, 0xffffff)},
    "erspan": {"key": (0, 1023), "erspan_ver": (1, 2),
               "erspan_idx": (0, 0xfffff), "erspan_dir": (0, 1),
               "erspan_hwid": (0, 63)},
}
COLLECTOR_TYPES = ("local",) + tuple(TUNNEL_OPTIONS)

MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")

# A setting on the command line.
SETTING_RE = re.compile(r"^([a-z_-]+)(?::([^=]+))?=(.*)$", re.S)

# The servers' remotes, as ovsdb-server --remote takes them.
REMOTE_RE = re.compile(r"^(p?(tcp|ssl):[0-9]*(:[0-9a-fA-F.:\[\]]+)?"
                       r"|p?unix:.+)$")


def check_name(kind, name):
    """A tap's or collector's name ('kind' says which)."""
    if not name:
        raise FleetError("%s name must not be empty" % kind, "name")
    return name


def check_integer(what, value, lo, hi, field=None):
    """'value' (text) as an integer from 'lo' to 'hi'; 'what' names it in
    the error."""
    try:
        n = int(value, 0)
    except ValueError:
        raise FleetError("%s: %s is not an integer" % (what, value), field)
    if n < lo or n > hi:
        raise FleetError("%s: %d is out of range %d to %d"
                         % (what, n, lo, hi), field)
    return n


def parse_target(target):
    """Parses a fleet tap's target, one of mac=MAC, ip=ADDRESS[/PREFIX],
    iface-id=ID.  Returns (target_type, canonical target)."""
    kind, sep, value = target.partition("=")
    if not sep or not value:
        raise FleetError("%s: expected TARGET as mac=MAC, ip=IP[/PREFIX] or "
                         "iface-id=ID" % target, "target")
    if kind == "mac":
        if not MAC_RE.match(value):
            raise FleetError("target: %s is not a MAC address "
                             "(xx:xx:xx:xx:xx:xx)" % value, "target")
        if int(value[:2], 16) & 1:
            raise FleetError("target: %s is a multicast MAC address, not a "
                             "VM's" % value, "target")
        return "mac", value.lower()
    elif kind == "ip":
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as e:
            raise FleetError("target: %s" % e, "target")
        if net.prefixlen == net.max_prefixlen:
            return "ip", str(net.network_address)
        return "ip", str(net)
    elif kind == "iface-id":
        return "iface-id", value
    raise FleetError("target: %s: unknown type (expected mac=, ip= or "
                     "iface-id=)" % kind, "target")


def check_match(match):
    """Checks 'match' with the parser that ovs-vsctl add-tap and
    ovs-vswitchd use ($OVS_VTAP_MATCH, else ovs-vtap-match in PATH)."""
    helper = os.environ.get("OVS_VTAP_MATCH", "ovs-vtap-match")
    try:
        p = subprocess.run([helper, match], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
    except OSError as e:
        raise FleetError("match: cannot run %s to check it (%s)"
                         % (helper, e.strerror), "match")
    if p.returncode:
        raise FleetError("match: %s" % p.stderr.strip(), "match")
    return match


def to_atom(base, value):
    """'value' as a value of OVSDB base type 'base', checked against the
    schema's constraints (ranges, enumerations) by OVSDB's own code.  Text
    (the command line's) is parsed; a Python value (JSON's) must already
    have the type."""
    if isinstance(value, str):
        if base.type == ovs.db.types.IntegerType:
            try:
                value = int(value, 10)
            except ValueError:
                raise ValueError("%s is not an integer" % value)
        elif base.type == ovs.db.types.BooleanType:
            if value not in ("true", "false"):
                raise ValueError("%s is not true or false" % value)
            value = value == "true"
    elif base.type == ovs.db.types.IntegerType:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("%s is not an integer" % value)
    elif base.type == ovs.db.types.BooleanType:
        if not isinstance(value, bool):
            raise ValueError("%s is not true or false" % value)
    else:
        raise ValueError("%s is not a string" % value)
    return ovs.db.data.Atom.from_python(base, value).value


def column_value(ctype, column, key, value, current=None):
    """The new value of 'column' (of type 'ctype') when its 'key' (None for
    the column itself) is set to 'value'; 'current' is a map column's value
    so far.  None clears an optional column (the API's; the command line
    has no way to say it)."""
    try:
        if key is not None:
            if not ctype.is_map():
                raise ValueError("not a map column, takes no key")
            new = dict(current or {})
            new[to_atom(ctype.key, key)] = to_atom(ctype.value, value)
            return new
        elif ctype.is_map():
            raise ValueError("a map column: give COLUMN:KEY=VALUE")
        elif value is None:
            if ctype.n_min != 0:
                raise ValueError("must have a value")
            return []
        elif ctype.n_max == 1 and ctype.n_min == 0:
            return [to_atom(ctype.key, value)]
        return to_atom(ctype.key, value)
    except (ValueError, ovs.db.error.Error) as e:
        raise FleetError("%s: %s" % (column, e), column)


def settings_list(settings, allowed):
    """'settings' as a list of (column, key, value), checked in the order
    given: each a column in 'allowed', none twice (nor a map column's key).
    They come as text, COLUMN[:KEY]=VALUE (the command line's), as
    (column, key, value) triples, or as a mapping of columns to values in
    which a map column's value is a mapping of its keys (JSON's)."""
    if hasattr(settings, "items"):
        items = []
        for column, value in settings.items():
            if isinstance(value, dict):
                items += [(column, k, v) for k, v in value.items()]
            else:
                items.append((column, None, value))
    else:
        items = settings
    result = []
    seen = set()
    for setting in items:
        if isinstance(setting, str):
            m = SETTING_RE.match(setting)
            if not m:
                raise FleetError("%s: expected COLUMN[:KEY]=VALUE" % setting)
            column, key, value = m.groups()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
        else:
            column, key, value = setting
        if column not in allowed:
            raise FleetError("%s: unknown setting (expected one of %s)"
                             % (column, ", ".join(allowed)), column)
        if (column, key) in seen or (column in seen and not key):
            raise FleetError("%s: given twice" % column, column)
        seen.add((column, key))
        seen.add(column)
        result.append((column, key, value))
    return result


def collector_columns(ctype, where, options=()):
    """The columns of a collector of type 'ctype' ("local", "gre", "erspan"
    or "vxlan") whose port (local) or remote IP (tunnels) is 'where', with
    tunnel 'options' (NAME=VALUE text, or a mapping).  Returns a dict:
    type, port or remote_ip, options."""
    if ctype == "local":
        if options:
            raise FleetError("a local collector takes no options", "options")
        if not where:
            raise FleetError("local: the port name must not be empty",
                             "port")
        return {"type": ctype, "port": where, "options": {}}
    elif ctype not in TUNNEL_OPTIONS:
        raise FleetError("%s: unknown type (expected local, gre, erspan or "
                         "vxlan)" % ctype, "type")
    try:
        remote_ip = str(ipaddress.ip_address(where))
    except ValueError:
        raise FleetError("%s: not an IPv4 or IPv6 address" % where,
                         "remote_ip")
    allowed = TUNNEL_OPTIONS[ctype]
    opts = {}
    for name, key, value in settings_list(options, list(allowed)):
        lo, hi = allowed[name]
        opts[name] = str(check_integer(name, str(value), lo, hi, name))
    if ctype == "erspan":
        ver = opts.setdefault("erspan_ver", "1")
        v1 = {"erspan_idx"}
        v2 = {"erspan_dir", "erspan_hwid"}
        wrong = (v2 if ver == "1" else v1) & set(opts)
        if wrong:
            name = sorted(wrong)[0]
            raise FleetError("%s: not an ERSPAN version %s option"
                             % (name, ver), name)
        if "key" not in opts:
            raise FleetError("erspan: key (the session id) is required",
                             "key")
    return {"type": ctype, "remote_ip": remote_ip, "options": opts}


def check_remotes(targets):
    """The servers' remotes (Connection targets): each as ovsdb-server's
    --remote takes it, none twice."""
    if not targets:
        raise FleetError("expected TARGET...", "target")
    for target in targets:
        if not REMOTE_RE.match(target):
            raise FleetError("%s: not a remote (expected ptcp:PORT[:IP], "
                             "pssl:PORT[:IP], punix:FILE, tcp:, ssl: or "
                             "unix:)" % target, "target")
    if len(set(targets)) != len(targets):
        raise FleetError("a target is given twice", "target")
    return targets


def check_ssl_files(files):
    """The servers' SSL files: absolute names (the servers read them,
    wherever they run)."""
    for f in files:
        if not f.startswith("/"):
            raise FleetError("%s: give an absolute file name (the servers "
                             "read it)" % f, "file")
    return files
