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

"""Connecting to the fleet database through OVS's Python IDL: SSL options,
and for a client that edits it (ovs-vtap-fleetctl, a console) the schema
from the server, an IDL of every table, running it until something is
true."""

import os
import time

import ovs.db.idl
import ovs.jsonrpc
import ovs.poller
import ovs.stream

from vtap_fleet.rules import FleetError
from vtap_fleet.schema import DB_NAME


def add_ssl_options(parser):
    """The options that give a program its key and certificates for ssl:
    remotes, as every Open vSwitch program has them."""
    parser.add_argument("-p", "--private-key", metavar="FILE",
                        help="SSL private key, for ssl: remotes")
    parser.add_argument("-c", "--certificate", metavar="FILE",
                        help="SSL certificate, for ssl: remotes")
    parser.add_argument("-C", "--ca-cert", metavar="FILE",
                        help="SSL CA certificate, for ssl: remotes")


def set_ssl_files(options):
    """Hands the files of add_ssl_options() to ovs.stream."""
    if options.private_key:
        ovs.stream.Stream.ssl_set_private_key_file(options.private_key)
    if options.certificate:
        ovs.stream.Stream.ssl_set_certificate_file(options.certificate)
    if options.ca_cert:
        ovs.stream.Stream.ssl_set_ca_cert_file(options.ca_cert)


def is_connected(idl):
    """Whether 'idl' has a connection to its database now."""
    return idl._session.is_connected()


def get_schema(remotes, timeout):
    """Fetches the fleet schema from the first server in 'remotes' that
    answers; returns an ovs.db.idl.SchemaHelper."""
    last_error = "no remote"
    for remote in remotes:
        error, stream = ovs.stream.Stream.open_block(
            ovs.stream.Stream.open(remote), timeout * 1000)
        if error:
            last_error = "%s: %s" % (remote, os.strerror(error))
            continue
        rpc = ovs.jsonrpc.Connection(stream)
        request = ovs.jsonrpc.Message.create_request("get_schema", [DB_NAME])
        error, reply = rpc.transact_block(request)
        rpc.close()
        if error:
            last_error = "%s: %s" % (remote, os.strerror(error))
        elif reply.error:
            last_error = "%s: %s" % (remote, reply.error)
        else:
            return ovs.db.idl.SchemaHelper(schema_json=reply.result)
    raise FleetError("cannot read the database schema (%s)" % last_error)


def idl_block(idl, done, timeout, what):
    """Runs 'idl' until done() is true or 'timeout' seconds passed ('what'
    says what for, in the error)."""
    deadline = time.time() + timeout
    while True:
        idl.run()
        if done():
            return
        if time.time() >= deadline:
            raise FleetError("timeout (%d s) while %s" % (timeout, what))
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(100)
        poller.block()


def connect(db, timeout):
    """An IDL of every table of the fleet database at 'db' (remotes,
    comma-separated: the cluster's leader is used), once it has the
    database's contents."""
    helper = get_schema(db.split(","), timeout)
    helper.register_all()
    idl = ovs.db.idl.Idl(db, helper, leader_only=True)
    idl_block(idl, idl.has_ever_connected, timeout, "connecting to %s" % db)
    return idl
