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

#ifndef VTAP_POLICY_MATCH_H
#define VTAP_POLICY_MATCH_H 1

/* Matches: parsing and formatting of the ovs-fields(7) subset that taps use,
 * plus the few key/mask operations that the rest of the module shares.
 *
 * The parser is deliberately stricter than ovs-ofctl.  A tap's match is
 * written once by an operator and then silently applied to traffic, so
 * anything that ovs-ofctl would quietly drop or "fix" (an unmet
 * prerequisite, a field given twice, host bits beyond a prefix) is far more
 * likely to be a mistake than an intention, and is reported instead. */

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vtap/policy/types.h"
#include "vtap/policy/flow_key.h"

namespace vtap {

/* Returns true if 'a' and 'b' are bytewise identical (including padding,
 * which is always zero in keys built by this module). */
bool flow_key_equal(const vtap_flow_key &a, const vtap_flow_key &b);

/* Returns true if every byte of 'key' is zero. */
bool flow_key_is_zero(const vtap_flow_key &key);

/* Returns 'key' & 'mask'. */
vtap_flow_key flow_key_and(const vtap_flow_key &key,
                           const vtap_flow_key &mask);

/* Sets 'dst' to 'dst' | 'src'. */
void flow_key_or_into(vtap_flow_key *dst, const vtap_flow_key &src);

/* Returns true if 'a' and 'b' have identical keys and masks. */
bool match_equal(const vtap_match &a, const vtap_match &b);

/* Returns true if 'key', a packet's flow key, is selected by 'match'. */
bool match_matches_key(const vtap_match &match, const vtap_flow_key &key);

/* Parses 's', in the syntax that vtap.h describes, into '*match'.
 *
 * Returns an empty string on success.  Otherwise returns an error message
 * that starts with the name of the bad field or shorthand, as written by the
 * user, e.g. "tp_dst: requires tcp, udp or sctp (add "tcp" or "udp"
 * first)"; '*match' is then unspecified. */
std::string parse_match(std::string_view s, vtap_match *match);

/* Returns the canonical form of 'match': fields in a fixed order, prefixes
 * as /len, exact values without a mask, so that equal matches always format
 * identically and parse_match() reads the result back to 'match'.
 *
 * That round trip holds for every match that parse_match() can produce.
 * Other matches (built by hand with masks that no syntax expresses, such as
 * a partial mask on eth_type) are formatted as closely as possible. */
std::string format_match(const vtap_match &match);

}  // namespace vtap

#endif /* vtap/policy/match.h */
