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

"""Who may use the console, and as what: the users file (tokens, stored as
their SHA-256, and client certificates' common names, each with a role),
the browser's sessions, their CSRF tokens, and a brake on guessing
tokens.

The users file has one user per line ('#' starts a comment):

    token NAME ROLE SHA256-OF-THE-TOKEN
    cert COMMON-NAME ROLE

ROLE is "read-only" (sees everything, changes nothing) or "admin"."""

import collections
import hashlib
import hmac
import os
import secrets
import time

READ_ONLY = "read-only"
ADMIN = "admin"
ROLES = (READ_ONLY, ADMIN)

# How users authenticated: a bearer token in the request, a session
# cookie, a client certificate, or nothing (a console on loopback without
# a users file, whose every user is the local administrator).
BY_TOKEN, BY_SESSION, BY_CERT, LOCAL = "token", "session", "certificate", \
    "local"

SESSION_IDLE = 8 * 3600         # A session ends after this long unused (s)
SESSION_MAX = 24 * 3600         # or this long after it began.
MAX_SESSIONS = 1000

# At most this many failed logins per client address per window.
FAILED_LOGINS = 10
FAILED_WINDOW = 60.0


class UsersError(Exception):
    pass


class Principal(object):
    """Who a request comes from."""

    def __init__(self, name, role, how, session=None):
        self.name = name
        self.role = role
        self.how = how
        self.session = session

    @property
    def is_admin(self):
        return self.role == ADMIN

    @property
    def ambient(self):
        """Whether the browser sends these credentials by itself (a
        cookie, a certificate, loopback): then a change also needs the
        session's CSRF token."""
        return self.how != BY_TOKEN


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token():
    return secrets.token_urlsafe(32)


class Users(object):
    def __init__(self, tokens=(), certs=()):
        self.tokens = list(tokens)      # (name, role, sha256 hex)
        self.certs = dict(certs)        # common name -> role

    @classmethod
    def load(cls, path):
        tokens, certs = [], {}
        with open(path) as f:
            for n, line in enumerate(f, 1):
                words = line.split("#", 1)[0].split()
                if not words:
                    continue
                where = "%s:%d" % (path, n)
                if words[0] == "token" and len(words) == 4:
                    _, name, role, digest = words
                    if len(digest) != 64 or \
                            digest.strip("0123456789abcdef"):
                        raise UsersError("%s: not a SHA-256 in hex" % where)
                elif words[0] == "cert" and len(words) == 3:
                    _, name, role = words
                else:
                    raise UsersError("%s: expected 'token NAME ROLE SHA256' "
                                     "or 'cert COMMON-NAME ROLE'" % where)
                if role not in ROLES:
                    raise UsersError("%s: %s: unknown role (expected %s)"
                                     % (where, role, " or ".join(ROLES)))
                if words[0] == "token":
                    tokens.append((name, role, digest))
                else:
                    certs[name] = role
        return cls(tokens, certs)

    def __bool__(self):
        return bool(self.tokens or self.certs)

    def by_token(self, token):
        """The Principal whose token is 'token', or None.  Compares with
        every entry, in constant time each."""
        digest = hash_token(token)
        found = None
        for name, role, want in self.tokens:
            if hmac.compare_digest(digest, want):
                found = Principal(name, role, BY_TOKEN)
        return found

    def by_cert(self, common_name):
        role = self.certs.get(common_name)
        return Principal(common_name, role, BY_CERT) if role else None


def add_token(path, name, role):
    """Adds a user with a new token to the users file at 'path' (made
    readable by its owner only); returns the token, which is not stored."""
    if role not in ROLES:
        raise UsersError("%s: unknown role (expected %s)"
                         % (role, " or ".join(ROLES)))
    if not name or any(c.isspace() or c == "#" for c in name):
        raise UsersError("%s: a user name has no spaces and no '#'" % name)
    token = new_token()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write("token %s %s %s\n" % (name, role, hash_token(token)))
    return token


class Session(object):
    def __init__(self, name, role, how, now):
        self.id = secrets.token_urlsafe(32)
        self.csrf = secrets.token_urlsafe(32)
        self.name = name
        self.role = role
        self.how = how          # How the user logged in.
        self.started = self.used = now

    def principal(self):
        return Principal(self.name, self.role, BY_SESSION, self)

    def check_csrf(self, token):
        return bool(token) and hmac.compare_digest(token, self.csrf)


class Sessions(object):
    """The browsers' sessions, in memory: a restart logs everyone out."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.sessions = collections.OrderedDict()

    def create(self, name, role, how):
        now = self.clock()
        s = Session(name, role, how, now)
        self.sessions[s.id] = s
        while len(self.sessions) > MAX_SESSIONS:
            self.sessions.popitem(last=False)
        return s

    def get(self, sid):
        s = self.sessions.get(sid) if sid else None
        if s is None:
            return None
        now = self.clock()
        if now - s.used > SESSION_IDLE or now - s.started > SESSION_MAX:
            del self.sessions[sid]
            return None
        s.used = now
        self.sessions.move_to_end(sid)
        return s

    def drop(self, sid):
        self.sessions.pop(sid, None)


class LoginBrake(object):
    """Refuses logins from an address that failed too often lately."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.failures = {}

    def allowed(self, addr):
        now = self.clock()
        recent = [t for t in self.failures.get(addr, [])
                  if now - t < FAILED_WINDOW]
        if recent:
            self.failures[addr] = recent
        else:
            self.failures.pop(addr, None)
        return len(recent) < FAILED_LOGINS

    def failed(self, addr):
        if len(self.failures) > 10000:
            self.failures.clear()
        self.failures.setdefault(addr, []).append(self.clock())
