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

"""An ssl: stream for a daemon, which logs why an SSL connection failed
(the agent's: an operator reads its log to learn that the servers refused
the host's certificate, or it theirs).  register(vlog) puts it in place of
ovs.stream's own."""

import errno
import re
import socket

try:
    import ssl
except ImportError:
    ssl = None

import ovs.socket_util
import ovs.stream


# The daemon's log, once register() was called.
vlog = None


def register(daemon_vlog):
    """ssl: remotes opened from now on log their errors to 'daemon_vlog'.
    Does nothing if Python has no ssl module."""
    global vlog
    if ssl:
        vlog = daemon_vlog
        ovs.stream.Stream.register_method("ssl", LoggingSSLStream)


class LoggingSSLStream(ovs.stream.SSLStream if ssl else object):
    """ovs.stream's ssl: stream, which says why an SSL connection
    failed.  The Python library lets an SSL error other than a system
    call's escape from connect() (the server's certificate is not
    signed by our CA), and turns a TLS alert on receive (the server
    refused our certificate) into errno 1, "Operation not permitted":
    here both become EPROTO with the reason in the log."""

    @staticmethod
    def _open(suffix, dscp):
        missing = [opt for opt, f in (
            ("--private-key", ovs.stream.Stream._SSL_private_key_file),
            ("--certificate", ovs.stream.Stream._SSL_certificate_file),
            ("--ca-cert", ovs.stream.Stream._SSL_ca_cert_file)) if not f]
        if missing:
            vlog.err("ssl:%s: an ssl: remote needs %s"
                     % (suffix, ", ".join(missing)))
            return errno.EPROTO, None
        try:
            return ovs.stream.SSLStream._open(suffix, dscp)
        except (ssl.SSLError, OSError) as e:
            vlog.err("ssl:%s: %s" % (suffix, e))
            return errno.EPROTO, None

    def ssl_error(self, e):
        text = e.args[1] if len(e.args) > 1 else str(e)
        text = re.sub(r" \(_ssl\.c:[0-9]+\)$", "",
                      re.sub(r"^\[[^]]*\] ", "", str(text)))
        hint = ""
        if "alert unknown ca" in text or "alert bad certificate" in text:
            hint = (" (the server refused this host's certificate: "
                    "is it signed by the CA the server trusts?)")
        elif "certificate verify failed" in text:
            hint = (" (the server's certificate is not signed by the "
                    "CA of --ca-cert)")
        vlog.warn("%s: SSL error: %s%s" % (self.name, text, hint))
        return errno.EPROTO

    def pending_alert(self):
        """The TLS alert the peer sent before it closed the connection
        (why it did), if any."""
        try:
            self.socket.recv(1)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError,
                ssl.SSLZeroReturnError, ssl.SSLEOFError,
                ssl.SSLSyscallError):
            pass
        except ssl.SSLError as e:
            return e
        except (OSError, ValueError):
            pass
        return None

    def connect(self):
        # The library calls connect(), and so a handshake, before each
        # send and receive; once the server has refused our certificate
        # and closed the connection, that fails with ENOTCONN, and the
        # server's reason is the alert waiting in the socket.
        try:
            return super(LoggingSSLStream, self).connect()
        except ssl.SSLError as e:
            return self.ssl_error(e)
        except OSError as e:
            alert = self.pending_alert()
            if alert is not None:
                return self.ssl_error(alert)
            return ovs.socket_util.get_exception_errno(e)

    def recv(self, n):
        try:
            return self._recv(n)
        except ssl.SSLWantReadError:
            return (errno.EAGAIN, "")
        except ssl.SSLZeroReturnError:
            return (0, "")
        except ssl.SSLSyscallError as e:
            return (ovs.socket_util.get_exception_errno(e), "")
        except ssl.SSLError as e:
            return (self.ssl_error(e), "")
        except socket.error as e:
            return (ovs.socket_util.get_exception_errno(e), "")
