/*
 * Copyright (c) 2026 The OVS-vTAP authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

/* libFuzzer target: OpenFlow action lists that contain the tap action (NX
 * subtype 52, patches/ovs-3.1.0/0005), decoded by the patched
 * lib/ofp-actions.c, linked from a sanitizer-instrumented
 * libopenvswitch (see vtap/fuzz/sanitize.mk).
 *
 * The first input byte chooses the OpenFlow version (bits 0-2: 1.0 to 1.5)
 * and the mode (bit 7):
 *
 *   - binary (bit 7 clear): the rest is a whole action list, any bytes, so
 *     that tap actions meet other actions, bad lengths, truncation.  If it
 *     decodes, encoding the ofpacts and decoding them again must succeed,
 *     keep the tap actions (a list of tap actions alone must come back
 *     identical) and encode again to the same bytes, and every tap action
 *     must format as "tap(id=N)" and parse back to itself.
 *
 *   - text (bit 7 set): the rest is an action string for
 *     ofpacts_parse_actions(), which reaches our parser of "tap(...)"
 *     (lib/vtap-ofp-actions.c).  If it parses and the version can express
 *     the actions and they are tap actions only, they must pass the same
 *     round trip; every tap action must have a valid id and round-trip as
 *     text. */

#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "vtap/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum ofp_version versions[] = {
    OFP10_VERSION, OFP11_VERSION, OFP12_VERSION,
    OFP13_VERSION, OFP14_VERSION, OFP15_VERSION,
};

static char *
format_ofpacts(const struct ofpact *ofpacts, size_t len)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpact_format_params fp = { .s = &s };
    ofpacts_format(ofpacts, len, &fp);
    return ds_steal_cstr(&s);
}

/* Parses 's' into 'ofpacts' (initialized here) as ovs-ofctl does, and
 * stores in '*usable' the protocols that can express the result.  Returns
 * NULL or a malloc()'d error. */
static char *
parse_actions(const char *s, struct ofpbuf *ofpacts,
              enum ofputil_protocol *usable)
{
    *usable = OFPUTIL_P_ANY;
    ofpbuf_init(ofpacts, 0);
    struct ofpact_parse_params pp = {
        .ofpacts = ofpacts,
        .usable_protocols = usable,
    };
    return ofpacts_parse_actions(s, &pp);
}

/* Checks every tap action in 'ofpacts': a valid id, and the text round
 * trip "tap(id=N)" -> the same single action. */
static void
check_taps(const struct ofpbuf *ofpacts)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH_FLATTENED (a, ofpacts->data, ofpacts->size) {
        if (a->type != OFPACT_TAP) {
            continue;
        }
        const struct ofpact_tap *tap = ofpact_get_TAP(a);
        FUZZ_CHECK(tap->tap_id != 0, "tap action with id 0");

        char *text = format_ofpacts(a, OFPACT_ALIGN(a->len));
        char expected[32];
        snprintf(expected, sizeof expected, "tap(id=%"PRIu32")",
                 tap->tap_id);
        FUZZ_CHECK(!strcmp(text, expected), "tap formats as \"%s\"", text);

        struct ofpbuf parsed;
        enum ofputil_protocol usable;
        char *error = parse_actions(text, &parsed, &usable);
        FUZZ_CHECK(!error, "\"%s\" does not parse: %s", text, error);
        FUZZ_CHECK(ofpacts_equal(a, OFPACT_ALIGN(a->len),
                                 parsed.data, parsed.size),
                   "\"%s\" parses to another action", text);
        ofpbuf_uninit(&parsed);
        free(text);
    }
}

/* Appends to '*s' the ids of the tap actions in 'ofpacts', nested ones
 * (in clone(), ...) included, in order. */
static void
tap_ids(const struct ofpbuf *ofpacts, struct ds *s)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH_FLATTENED (a, ofpacts->data, ofpacts->size) {
        if (a->type == OFPACT_TAP) {
            ds_put_format(s, "%"PRIu32",", ofpact_get_TAP(a)->tap_id);
        }
    }
}

static bool
only_taps(const struct ofpbuf *ofpacts)
{
    const struct ofpact *a;

    OFPACT_FOR_EACH (a, ofpacts->data, ofpacts->size) {
        if (a->type != OFPACT_TAP) {
            return false;
        }
    }
    return true;
}

/* Encodes 'ofpacts' for 'version' and decodes the result, which must keep
 * every tap action as it was and, encoded again, give the same bytes.  A
 * list of tap actions alone must decode, and come back identical.
 *
 * Upstream actions in general need not come back identical: decoding
 * takes OpenFlow 1.1 actions in any later version too, and encoding writes
 * them in the version's own form (set_vlan_pcp as set_field in 1.2+), and
 * text may have another wire form ("mod_vlan_vid" is push_vlan and
 * set_field in 1.2).  Nor need they decode at all: Open vSwitch 3.1
 * decodes an OpenFlow 1.1 set_mpls_label with a label beyond 20 bits, then
 * encodes it for 1.2+ as a set_field that its decoder rejects. */
static void
check_binary_round_trip(const struct ofpbuf *ofpacts,
                        enum ofp_version version)
{
    struct ofpbuf encoded, decoded, reencoded;

    ofpbuf_init(&encoded, 0);
    ofpbuf_init(&decoded, 0);
    ofpbuf_init(&reencoded, 0);
    ofpacts_put_openflow_actions(ofpacts->data, ofpacts->size, &encoded,
                                 version);
    struct ofpbuf wire = encoded;
    /* An empty buffer has a null data pointer, which ofpbuf_try_pull()
     * takes for "too short": decode nothing into nothing instead. */
    enum ofperr error = (encoded.size
                         ? ofpacts_pull_openflow_actions(&wire, encoded.size,
                                                         version, NULL,
                                                         NULL, &decoded)
                         : 0);
    char *text = format_ofpacts(ofpacts->data, ofpacts->size);
    if (error && !only_taps(ofpacts)) {
        /* Upstream's problem, not ours: see the comment above. */
        goto out;
    }
    FUZZ_CHECK(!error, "OpenFlow 0x%02x: \"%s\" encodes to %"PRIu32" bytes "
               "that do not decode: %s", version, text, encoded.size,
               ofperr_to_string(error));

    struct ds before = DS_EMPTY_INITIALIZER;
    struct ds after = DS_EMPTY_INITIALIZER;
    tap_ids(ofpacts, &before);
    tap_ids(&decoded, &after);
    FUZZ_CHECK(!strcmp(ds_cstr(&before), ds_cstr(&after)),
               "OpenFlow 0x%02x: \"%s\": tap ids %s, after a round trip "
               "%s", version, text, ds_cstr(&before), ds_cstr(&after));
    ds_destroy(&before);
    ds_destroy(&after);

    if (only_taps(ofpacts)) {
        FUZZ_CHECK(ofpacts_equal(ofpacts->data, ofpacts->size,
                                 decoded.data, decoded.size),
                   "OpenFlow 0x%02x: \"%s\" encodes and decodes as \"%s\"",
                   version, text, format_ofpacts(decoded.data,
                                                 decoded.size));
    }

    ofpacts_put_openflow_actions(decoded.data, decoded.size, &reencoded,
                                 version);
    FUZZ_CHECK(reencoded.size == encoded.size
               && (!encoded.size
                   || !memcmp(reencoded.data, encoded.data, encoded.size)),
               "OpenFlow 0x%02x: \"%s\" encodes differently once decoded",
               version, text);
out:
    free(text);
    ofpbuf_uninit(&encoded);
    ofpbuf_uninit(&decoded);
    ofpbuf_uninit(&reencoded);
}

static void
fuzz_binary(const uint8_t *data, size_t size, enum ofp_version version)
{
    struct ofpbuf in, ofpacts;

    ofpbuf_use_const(&in, data, size);
    ofpbuf_init(&ofpacts, 0);
    if (!ofpacts_pull_openflow_actions(&in, size, version, NULL, NULL,
                                       &ofpacts)) {
        check_taps(&ofpacts);
        check_binary_round_trip(&ofpacts, version);
    }
    ofpbuf_uninit(&ofpacts);
}

static void
fuzz_text(const uint8_t *data, size_t size, enum ofp_version version)
{
    char *s = xmemdup0((const char *) data, size);
    struct ofpbuf ofpacts;
    enum ofputil_protocol usable;
    char *error = parse_actions(s, &ofpacts, &usable);
    if (!error) {
        check_taps(&ofpacts);
        /* A list of tap actions alone, if the version can express it and
         * it passes the checks that a flow's actions get after parsing,
         * must survive being encoded.  Other upstream actions are not
         * held to it: some parse as usable in versions whose decoder then
         * rejects their encoding ("decap()" in OpenFlow 1.1), and
         * ofpacts_check() only catches some of those ("output:ANY"). */
        struct match match;
        match_init_catchall(&match);
        struct ofpact_check_params cp = {
            .match = &match,
            .max_ports = OFPP_MAX,
            .table_id = 0,
            .n_tables = 255,
        };
        if (only_taps(&ofpacts)
            && usable & ofputil_protocols_from_ofp_version(version)
            && !ofpacts_check(ofpacts.data, ofpacts.size, &cp)
            && cp.usable_protocols
               & ofputil_protocols_from_ofp_version(version)) {
            check_binary_round_trip(&ofpacts, version);
        }
    }
    free(error);
    ofpbuf_uninit(&ofpacts);
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool initialized;
    if (!initialized) {
        vlog_set_verbosity("off");
        initialized = true;
    }
    if (!size) {
        return 0;
    }

    enum ofp_version version = versions[(data[0] & 7) % 6];
    if (data[0] & 0x80) {
        fuzz_text(data + 1, size - 1, version);
    } else {
        fuzz_binary(data + 1, size - 1, version);
    }
    return 0;
}
