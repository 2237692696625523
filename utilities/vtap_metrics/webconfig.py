# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""TLS and basic authentication settings: the web configuration file of
Prometheus' own exporters (exporter-toolkit), the subset below, so that an
operator writes it as for node_exporter's --web.config.file:

    tls_server_config:
      cert_file: /etc/openvswitch/exporter-cert.pem
      key_file: /etc/openvswitch/exporter-privkey.pem
      # Optional: clients must show a certificate signed by this CA.
      client_ca_file: /var/lib/openvswitch/pki/switchca/cacert.pem
      client_auth_type: RequireAndVerifyClientCert
      min_version: TLS12
    basic_auth_users:
      prometheus: $2b$12$...      # a bcrypt hash (htpasswd -nB, or
                                  # ovs-vtap-exporter --hash-password)

ovs-pki's files fit as they are (NAME-privkey.pem, NAME-cert.pem, a CA's
cacert.pem).  An unknown key is an error, as in exporter-toolkit: a typo
must not leave the exporter open."""

import hashlib
import hmac
import os
import ssl
import threading

import yaml

try:
    import bcrypt
except ImportError:             # Only needed with basic_auth_users.
    bcrypt = None

CLIENT_AUTH_TYPES = {
    'NoClientCert': ssl.CERT_NONE,
    'VerifyClientCertIfGiven': ssl.CERT_OPTIONAL,
    'RequireAndVerifyClientCert': ssl.CERT_REQUIRED,
}
TLS_VERSIONS = {'TLS12': ssl.TLSVersion.TLSv1_2,
                'TLS13': ssl.TLSVersion.TLSv1_3}
TLS_KEYS = ('cert_file', 'key_file', 'client_ca_file', 'client_auth_type',
            'min_version')
TOP_KEYS = ('tls_server_config', 'basic_auth_users')


class ConfigError(Exception):
    pass


def _mapping(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError('%s: expected a mapping' % where)
    return value


class WebConfig(object):
    """The parsed file: 'tls' (an ssl.SSLContext, or None for plain HTTP)
    and 'users' ({name: bcrypt hash}, empty for no authentication)."""

    def __init__(self, path=None):
        self.path = path
        self.tls = None
        self.users = {}
        self.client_cert_required = False
        self._good = set()      # Digests of credentials checked already.
        self._dummy = None
        self._lock = threading.Lock()
        self._stamp = None
        if path:
            self._load()

    def _files(self):
        files = [self.path]
        if self.tls is not None:
            files += self._tls_files
        return files

    def _stamps(self):
        stamps = []
        for f in self._files():
            try:
                st = os.stat(f)
                stamps.append((f, st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append((f, None, None))
        return stamps

    def reload_if_changed(self):
        """Reads the file again, and the certificates, if one changed
        (certificates are renewed without a restart).  A file that became
        bad keeps the settings in force and raises ConfigError."""
        if not self.path:
            return
        with self._lock:
            if self._stamps() != self._stamp:
                self._load()

    def _load(self):
        try:
            with open(self.path) as f:
                doc = yaml.safe_load(f)
        except OSError as e:
            raise ConfigError('%s: %s' % (self.path, e.strerror))
        except yaml.YAMLError as e:
            raise ConfigError('%s: not YAML: %s' % (self.path, e))
        doc = _mapping(doc, self.path)
        for key in doc:
            if key not in TOP_KEYS:
                raise ConfigError('%s: unknown key "%s" (expected %s)'
                                  % (self.path, key, ', '.join(TOP_KEYS)))
        tls, tls_files, required = self._tls(
            _mapping(doc.get('tls_server_config'), 'tls_server_config'))
        users = _mapping(doc.get('basic_auth_users'), 'basic_auth_users')
        for user, hashed in users.items():
            if not isinstance(hashed, str) or not hashed.startswith('$2'):
                raise ConfigError('%s: basic_auth_users: %s: expected a '
                                  'bcrypt hash ($2b$...)' % (self.path, user))
        if users and bcrypt is None:
            raise ConfigError('basic_auth_users needs Python\'s bcrypt '
                              'module (python3-bcrypt)')
        self.tls, self._tls_files = tls, tls_files
        self.client_cert_required = required
        self.users = dict((str(u), h.encode()) for u, h in users.items())
        self._good = set()
        self._dummy = None
        self._stamp = self._stamps()

    def _tls(self, conf):
        if not conf:
            return None, [], False
        for key in conf:
            if key not in TLS_KEYS:
                raise ConfigError('%s: tls_server_config: unknown key "%s"'
                                  % (self.path, key))
        for key in ('cert_file', 'key_file'):
            if not conf.get(key):
                raise ConfigError('%s: tls_server_config: %s is required'
                                  % (self.path, key))
        auth = conf.get('client_auth_type', 'NoClientCert')
        if auth not in CLIENT_AUTH_TYPES:
            raise ConfigError('%s: client_auth_type: %s is not one of %s'
                              % (self.path, auth,
                                 ', '.join(CLIENT_AUTH_TYPES)))
        ca = conf.get('client_ca_file')
        if auth != 'NoClientCert' and not ca:
            raise ConfigError('%s: client_auth_type %s needs client_ca_file'
                              % (self.path, auth))
        version = conf.get('min_version', 'TLS12')
        if version not in TLS_VERSIONS:
            raise ConfigError('%s: min_version: %s is not one of %s'
                              % (self.path, version, ', '.join(TLS_VERSIONS)))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = TLS_VERSIONS[version]
        try:
            ctx.load_cert_chain(conf['cert_file'], conf['key_file'])
            if ca:
                ctx.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError('%s: tls_server_config: %s'
                              % (self.path, e.strerror or e))
        ctx.verify_mode = CLIENT_AUTH_TYPES[auth]
        files = [conf['cert_file'], conf['key_file']] + ([ca] if ca else [])
        return ctx, files, auth == 'RequireAndVerifyClientCert'

    def authenticated(self, user, password):
        """Whether 'user' and 'password' are good (always, without
        basic_auth_users).  A bcrypt check takes tens of milliseconds: a
        pair found good once is remembered (as a salted digest)."""
        if not self.users:
            return True
        if user is None or password is None:
            return False
        digest = hashlib.sha256(b'%s\0%s\0%s' % (
            id(self).to_bytes(8, 'little'), user.encode(),
            password.encode())).digest()
        with self._lock:
            if any(hmac.compare_digest(digest, d) for d in self._good):
                return True
        hashed = self.users.get(user)
        if hashed is None:
            # An unknown user takes as long as a known one: checked against
            # the hash of a random password at the first user's cost.
            if self._dummy is None:
                cost = int(next(iter(self.users.values())).split(b'$')[2])
                self._dummy = bcrypt.hashpw(os.urandom(16).hex().encode(),
                                            bcrypt.gensalt(cost))
        try:
            good = bcrypt.checkpw(password.encode(), hashed or self._dummy)
        except ValueError:
            good = False
        good = good and hashed is not None
        if good:
            with self._lock:
                self._good.add(digest)
        return good

    @property
    def secure(self):
        """Whether a client must prove who it is: a password or a
        certificate, over TLS."""
        return self.tls is not None and (bool(self.users)
                                         or self.client_cert_required)


def hash_password(password, rounds=12):
    """A bcrypt hash of 'password' for basic_auth_users."""
    if bcrypt is None:
        raise ConfigError('hashing needs Python\'s bcrypt module '
                          '(python3-bcrypt)')
    return bcrypt.hashpw(password.encode(),
                         bcrypt.gensalt(rounds)).decode()
