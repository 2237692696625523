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

#include "vtap/policy/match.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace vtap {

bool
flow_key_equal(const vtap_flow_key &a, const vtap_flow_key &b)
{
    return !memcmp(&a, &b, sizeof a);
}

bool
flow_key_is_zero(const vtap_flow_key &key)
{
    static const vtap_flow_key zero{};
    return flow_key_equal(key, zero);
}

/* The key is 64 bytes with no holes, so the bitwise operations work on it as
 * eight 64-bit words rather than field by field: simpler, and it is what the
 * classifier does on its fast path anyway. */
static constexpr size_t kKeyWords = sizeof(vtap_flow_key) / sizeof(uint64_t);
static_assert(sizeof(vtap_flow_key) % sizeof(uint64_t) == 0,
              "vtap_flow_key must be a whole number of 64-bit words");

vtap_flow_key
flow_key_and(const vtap_flow_key &key, const vtap_flow_key &mask)
{
    uint64_t k[kKeyWords], m[kKeyWords];
    memcpy(k, &key, sizeof k);
    memcpy(m, &mask, sizeof m);
    for (size_t i = 0; i < kKeyWords; i++) {
        k[i] &= m[i];
    }
    vtap_flow_key result;
    memcpy(&result, k, sizeof result);
    return result;
}

void
flow_key_or_into(vtap_flow_key *dst, const vtap_flow_key &src)
{
    uint64_t d[kKeyWords], s[kKeyWords];
    memcpy(d, dst, sizeof d);
    memcpy(s, &src, sizeof s);
    for (size_t i = 0; i < kKeyWords; i++) {
        d[i] |= s[i];
    }
    memcpy(dst, d, sizeof d);
}

bool
match_equal(const vtap_match &a, const vtap_match &b)
{
    return flow_key_equal(a.key, b.key) && flow_key_equal(a.mask, b.mask);
}

bool
match_matches_key(const vtap_match &match, const vtap_flow_key &key)
{
    return flow_key_equal(flow_key_and(key, match.mask), match.key);
}

namespace {

constexpr uint16_t kEthTypeIp = 0x0800;
constexpr uint16_t kEthTypeIpv6 = 0x86dd;
constexpr uint16_t kEthTypeArp = 0x0806;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;
constexpr uint8_t kProtoSctp = 132;

/* A protocol shorthand such as "tcp6": a fixed eth_type, optionally with a
 * fixed ip_proto. */
struct Shorthand {
    const char *name;
    uint16_t eth_type;
    int ip_proto;               /* -1 if the shorthand leaves it alone. */
};

const Shorthand kShorthands[] = {
    {"ip", kEthTypeIp, -1},
    {"ipv6", kEthTypeIpv6, -1},
    {"arp", kEthTypeArp, -1},
    {"tcp", kEthTypeIp, kProtoTcp},
    {"udp", kEthTypeIp, kProtoUdp},
    {"sctp", kEthTypeIp, kProtoSctp},
    {"icmp", kEthTypeIp, kProtoIcmp},
    {"tcp6", kEthTypeIpv6, kProtoTcp},
    {"udp6", kEthTypeIpv6, kProtoUdp},
    {"sctp6", kEthTypeIpv6, kProtoSctp},
    {"icmp6", kEthTypeIpv6, kProtoIcmpv6},
};

/* The fields that take a value.  Aliases share a FieldId, which is what
 * "given twice" is about. */
enum class FieldId {
    kDlSrc, kDlDst, kDlType, kDlVlan, kNwSrc, kNwDst, kIpv6Src, kIpv6Dst,
    kNwProto, kTpSrc, kTpDst,
};
constexpr size_t kNumFieldIds = static_cast<size_t>(FieldId::kTpDst) + 1;

struct FieldName {
    const char *name;
    FieldId id;
    /* For the L4 port fields: 0 if any of TCP, UDP and SCTP will do (tp_*),
     * otherwise the one protocol that the name implies (tcp_*, ...). */
    uint8_t required_proto;
};

const FieldName kFieldNames[] = {
    {"dl_src", FieldId::kDlSrc, 0},
    {"eth_src", FieldId::kDlSrc, 0},
    {"dl_dst", FieldId::kDlDst, 0},
    {"eth_dst", FieldId::kDlDst, 0},
    {"dl_type", FieldId::kDlType, 0},
    {"eth_type", FieldId::kDlType, 0},
    {"dl_vlan", FieldId::kDlVlan, 0},
    {"vlan_vid", FieldId::kDlVlan, 0},
    {"nw_src", FieldId::kNwSrc, 0},
    {"ip_src", FieldId::kNwSrc, 0},
    {"nw_dst", FieldId::kNwDst, 0},
    {"ip_dst", FieldId::kNwDst, 0},
    {"ipv6_src", FieldId::kIpv6Src, 0},
    {"ipv6_dst", FieldId::kIpv6Dst, 0},
    {"nw_proto", FieldId::kNwProto, 0},
    {"ip_proto", FieldId::kNwProto, 0},
    {"tp_src", FieldId::kTpSrc, 0},
    {"tcp_src", FieldId::kTpSrc, kProtoTcp},
    {"udp_src", FieldId::kTpSrc, kProtoUdp},
    {"sctp_src", FieldId::kTpSrc, kProtoSctp},
    {"tp_dst", FieldId::kTpDst, 0},
    {"tcp_dst", FieldId::kTpDst, kProtoTcp},
    {"udp_dst", FieldId::kTpDst, kProtoUdp},
    {"sctp_dst", FieldId::kTpDst, kProtoSctp},
};

const Shorthand *
find_shorthand(std::string_view name)
{
    for (const Shorthand &sh : kShorthands) {
        if (name == sh.name) {
            return &sh;
        }
    }
    return nullptr;
}

// Open vSwitch match fields (ovs-fields(7)) that a tap cannot match.  They
// get a clearer error than a typo does: the operator asked for something
// real that taps do not do.
bool
is_untappable_ovs_field(std::string_view name)
{
    static const char *const kFields[] = {
        "in_port", "in_port_oxm", "metadata", "skb_priority", "pkt_mark",
        "actset_output", "packet_type", "conj_id", "recirc_id", "dp_hash",
        "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_src",
        "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "ct_nw_proto",
        "ct_tp_src", "ct_tp_dst", "tun_id", "tunnel_id", "tun_src",
        "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_flags", "tun_gbp_id",
        "tun_gbp_flags", "tun_erspan_ver", "vlan_tci", "dl_vlan_pcp",
        "vlan_pcp", "mpls_label", "mpls_tc", "mpls_bos", "mpls_ttl",
        "nw_tos", "ip_dscp", "nw_ecn", "ip_ecn", "nw_ttl", "nw_frag",
        "ip_frag", "ipv6_label", "tcp_flags", "icmp_type", "icmp_code",
        "icmpv6_type", "icmpv6_code", "arp_op", "arp_spa", "arp_tpa",
        "arp_sha", "arp_tha", "nd_target", "nd_sll", "nd_tll", "nsh_spi",
        "nsh_si",
    };
    if (name.size() > 3 && name.substr(0, 3) == "reg") {
        return true;
    }
    if (name.size() > 4 && name.substr(0, 4) == "xreg") {
        return true;
    }
    for (const char *field : kFields) {
        if (name == field) {
            return true;
        }
    }
    return false;
}

const FieldName *
find_field(std::string_view name)
{
    for (const FieldName &field : kFieldNames) {
        if (name == field.name) {
            return &field;
        }
    }
    return nullptr;
}

bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
           || c == '\v';
}

std::string_view
trim(std::string_view s)
{
    while (!s.empty() && is_space(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

int
hex_digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string
concat(std::initializer_list<std::string_view> pieces)
{
    std::string s;
    for (std::string_view piece : pieces) {
        s.append(piece);
    }
    return s;
}

enum class NumberStatus { kOk, kMalformed, kOutOfRange };

/* Parses 'text' as an unsigned integer, decimal or (if 'allow_hex') with a
 * 0x prefix, no larger than 'max'.  Signs, spaces and trailing characters
 * are malformed: "80x" is more likely a typo than 80. */
NumberStatus
parse_number(std::string_view text, uint64_t max, bool allow_hex,
             uint64_t *value)
{
    unsigned int base = 10;
    if (allow_hex && text.size() > 2 && text[0] == '0'
        && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) {
        return NumberStatus::kMalformed;
    }

    /* Saturates just above 'max' rather than stopping, so that a malformed
     * huge number is reported as malformed rather than out of range. */
    uint64_t n = 0;
    for (char c : text) {
        int digit = hex_digit_value(c);
        if (digit < 0 || static_cast<unsigned int>(digit) >= base) {
            return NumberStatus::kMalformed;
        }
        if (n <= max) {
            n = n * base + digit;
        }
    }
    if (n > max) {
        return NumberStatus::kOutOfRange;
    }
    *value = n;
    return NumberStatus::kOk;
}

/* Parses the value 'text' of the field called 'name' as a number in
 * 0..'max'.  Returns an error message or "". */
std::string
parse_field_number(std::string_view name, std::string_view text,
                   uint64_t max, uint64_t *value)
{
    switch (parse_number(text, max, true, value)) {
    case NumberStatus::kOk:
        return "";
    case NumberStatus::kMalformed:
        return concat({name, ": ", text, " is not a valid number"});
    case NumberStatus::kOutOfRange:
    default:
        return concat({name, ": ", text, " is out of range 0..",
                       std::to_string(max)});
    }
}

/* Parses exactly 6 colon-separated octets of 1 or 2 hex digits. */
bool
parse_mac(std::string_view text, uint8_t *mac)
{
    for (int i = 0; i < 6; i++) {
        if (i > 0) {
            if (text.empty() || text[0] != ':') {
                return false;
            }
            text.remove_prefix(1);
        }
        size_t n_digits = 0;
        unsigned int octet = 0;
        while (n_digits < text.size()
               && hex_digit_value(text[n_digits]) >= 0) {
            octet = octet * 16 + hex_digit_value(text[n_digits]);
            n_digits++;
        }
        if (n_digits < 1 || n_digits > 2) {
            return false;
        }
        mac[i] = static_cast<uint8_t>(octet);
        text.remove_prefix(n_digits);
    }
    return text.empty();
}

std::string
format_mac(const uint8_t *mac)
{
    char s[18];
    snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return s;
}

/* Parses exactly 4 dot-separated decimal octets.  Written by hand rather
 * than with inet_aton(), which accepts "1.2.3" and octal. */
bool
parse_ipv4(std::string_view text, uint8_t *addr)
{
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            if (text.empty() || text[0] != '.') {
                return false;
            }
            text.remove_prefix(1);
        }
        size_t n_digits = 0;
        unsigned int octet = 0;
        while (n_digits < text.size() && n_digits < 4
               && text[n_digits] >= '0' && text[n_digits] <= '9') {
            octet = octet * 10 + (text[n_digits] - '0');
            n_digits++;
        }
        if (n_digits < 1 || n_digits > 3 || octet > 255) {
            return false;
        }
        addr[i] = static_cast<uint8_t>(octet);
        text.remove_prefix(n_digits);
    }
    return text.empty();
}

std::string
format_ipv4(const uint8_t *addr)
{
    char s[16];
    snprintf(s, sizeof s, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
    return s;
}

bool
parse_ipv6(std::string_view text, uint8_t *addr)
{
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return false;
    }
    std::string nul_terminated(text);
    return inet_pton(AF_INET6, nul_terminated.c_str(), addr) == 1;
}

std::string
format_ipv6(const uint8_t *addr)
{
    char s[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, addr, s, sizeof s)) {
        return "::";            /* Cannot happen with a valid buffer. */
    }
    return s;
}

/* Returns the length of the prefix that the 'n' bytes of 'mask' express, or
 * -1 if 'mask' is not a prefix (some 0-bit precedes a 1-bit). */
int
prefix_length(const uint8_t *mask, size_t n)
{
    int length = 0;
    size_t i = 0;
    for (; i < n && mask[i] == 0xff; i++) {
        length += 8;
    }
    if (i < n) {
        uint8_t partial = mask[i++];
        /* A partial prefix byte is some 1-bits followed only by 0-bits, so
         * its complement plus one is a power of two. */
        uint8_t inverted = ~partial;
        if (inverted & (inverted + 1)) {
            return -1;
        }
        for (; partial & 0x80; partial <<= 1) {
            length++;
        }
        for (; i < n; i++) {
            if (mask[i]) {
                return -1;
            }
        }
    }
    return length;
}

void
make_prefix_mask(unsigned int length, uint8_t *mask, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (length >= 8) {
            mask[i] = 0xff;
            length -= 8;
        } else {
            mask[i] = length ? static_cast<uint8_t>(0xff << (8 - length)) : 0;
            length = 0;
        }
    }
}

bool
bytes_are_zero(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (bytes[i]) {
            return false;
        }
    }
    return true;
}

bool
bytes_are_ones(const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (bytes[i] != 0xff) {
            return false;
        }
    }
    return true;
}

/* How to read and write one kind of address. */
struct AddressSyntax {
    const char *description;    /* e.g. "an IPv4 address" */
    size_t n_bytes;             /* At most 16. */
    bool allows_prefix_length;  /* "/24" besides "/255.255.255.0". */
    bool (*parse)(std::string_view, uint8_t *);
    std::string (*format)(const uint8_t *);
};

const AddressSyntax kMacSyntax = {
    "an Ethernet address", 6, false, parse_mac, format_mac,
};
const AddressSyntax kIpv4Syntax = {
    "an IPv4 address", 4, true, parse_ipv4, format_ipv4,
};
const AddressSyntax kIpv6Syntax = {
    "an IPv6 address", 16, true, parse_ipv6, format_ipv6,
};

/* Parses 'text', the value of field 'name', as "ADDRESS", "ADDRESS/MASK" or
 * (where 'syntax' allows) "ADDRESS/LENGTH", into the 'syntax.n_bytes' bytes
 * at 'key' and 'mask'.  Returns an error message or "". */
std::string
parse_masked_address(std::string_view name, std::string_view text,
                     const AddressSyntax &syntax, uint8_t *key, uint8_t *mask)
{
    size_t slash = text.find('/');
    std::string_view address = text.substr(0, slash);
    if (!syntax.parse(address, key)) {
        return concat({name, ": ", address, " is not ",
                       syntax.description});
    }
    if (slash == std::string_view::npos) {
        memset(mask, 0xff, syntax.n_bytes);
        return "";
    }

    std::string_view mask_text = text.substr(slash + 1);
    if (mask_text.empty()) {
        return concat({name, ": missing mask after \"/\""});
    }
    uint64_t length;
    NumberStatus status = (syntax.allows_prefix_length
                           ? parse_number(mask_text, syntax.n_bytes * 8,
                                          false, &length)
                           : NumberStatus::kMalformed);
    if (status == NumberStatus::kOk) {
        make_prefix_mask(static_cast<unsigned int>(length), mask,
                         syntax.n_bytes);
    } else if (status == NumberStatus::kOutOfRange) {
        return concat({name, ": prefix length ", mask_text,
                       " is out of range 0..",
                       std::to_string(syntax.n_bytes * 8)});
    } else if (!syntax.parse(mask_text, mask)) {
        return concat({name, ": ", mask_text, " is not a valid mask (",
                       syntax.allows_prefix_length
                       ? "expected a prefix length or " : "expected ",
                       syntax.description, ")"});
    }

    /* Bits set beyond the mask would be silently ignored by the datapath;
     * much more likely the user typed a host address for a network. */
    uint8_t masked[16];
    for (size_t i = 0; i < syntax.n_bytes; i++) {
        masked[i] = key[i] & mask[i];
    }
    if (memcmp(masked, key, syntax.n_bytes) != 0) {
        return concat({name, ": ", text,
                       " has bits set outside its mask (did you mean ",
                       syntax.format(masked), "/", mask_text, "?)"});
    }
    return "";
}

/* Appends "name=ADDRESS[/MASK]" to 'parts' unless 'mask' is all-zero. */
void
format_masked_address(const char *name, const AddressSyntax &syntax,
                      const uint8_t *key, const uint8_t *mask,
                      std::vector<std::string> *parts)
{
    size_t n = syntax.n_bytes;
    if (bytes_are_zero(mask, n)) {
        return;
    }
    std::string s = concat({name, "=", syntax.format(key)});
    if (!bytes_are_ones(mask, n)) {
        int length = (syntax.allows_prefix_length
                      ? prefix_length(mask, n) : -1);
        s += "/";
        s += length >= 0 ? std::to_string(length) : syntax.format(mask);
    }
    parts->push_back(s);
}

std::string
format_hex16(uint16_t value)
{
    char s[8];
    snprintf(s, sizeof s, "0x%04x", value);
    return s;
}

/* Reads one match string into a vtap_match, collecting what it needs to
 * check the prerequisites once the whole string is read (so that
 * "tp_dst=80,tcp" is as good as "tcp,tp_dst=80"). */
class MatchParser {
public:
    explicit MatchParser(vtap_match *match) : match_(match) {}

    std::string parse(std::string_view s);

private:
    /* A field that needs some protocol, checked after the whole string. */
    struct Prerequisite {
        FieldId id;
        std::string name;       /* As the user wrote it, e.g. "tcp_dst". */
        uint8_t required_proto; /* See FieldName. */
    };

    std::string parse_token(std::string_view token);
    std::string parse_shorthand(const Shorthand &, std::string_view token);
    std::string parse_field(const FieldName &, std::string_view name,
                            std::string_view value, std::string_view token);
    std::string parse_field_value(FieldId, std::string_view name,
                                  std::string_view value,
                                  std::string_view token);
    std::string parse_l4_port(std::string_view name, std::string_view value,
                              uint16_t *key, uint16_t *mask);
    std::string constrain_eth_type(uint16_t eth_type, std::string_view name,
                                   std::string_view token);
    std::string constrain_ip_proto(uint8_t ip_proto, std::string_view name,
                                   std::string_view token);
    std::string check_prerequisite(const Prerequisite &) const;
    std::string unmet(const std::string &name, const char *requirement,
                      const char *hint, const std::string &culprit) const;

    vtap_match *match_;

    /* The tokens that fixed eth_type and ip_proto, e.g. "tcp" or
     * "dl_type=0x86dd", to name them when something contradicts them. */
    std::string eth_type_source_;
    std::string ip_proto_source_;

    /* The name under which each field was given, empty if it was not. */
    std::string given_as_[kNumFieldIds];
    std::vector<const Shorthand *> shorthands_given_;
    std::vector<Prerequisite> prerequisites_;
};

std::string
MatchParser::parse(std::string_view s)
{
    *match_ = vtap_match{};
    if (trim(s).empty()) {
        return "";
    }

    for (;;) {
        size_t comma = s.find(',');
        std::string_view token = trim(s.substr(0, comma));
        if (token.empty()) {
            return "empty field (stray \",\")";
        }
        std::string error = parse_token(token);
        if (!error.empty()) {
            return error;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        s.remove_prefix(comma + 1);
    }

    for (const Prerequisite &prerequisite : prerequisites_) {
        std::string error = check_prerequisite(prerequisite);
        if (!error.empty()) {
            return error;
        }
    }
    return "";
}

std::string
MatchParser::parse_token(std::string_view token)
{
    size_t equals = token.find('=');
    std::string_view name = trim(token.substr(0, equals));
    if (name.empty()) {
        return concat({token, ": missing field name"});
    }

    const Shorthand *shorthand = find_shorthand(name);
    if (shorthand) {
        if (equals != std::string_view::npos) {
            return concat({name, ": takes no value (it is a protocol, "
                           "not a field)"});
        }
        return parse_shorthand(*shorthand, token);
    }

    const FieldName *field = find_field(name);
    if (!field) {
        return (is_untappable_ovs_field(name)
                ? concat({name, ": a tap cannot match on this field (taps "
                          "match Ethernet, VLAN, IP and L4 port fields; "
                          "ports are selected with select_src_port and "
                          "select_dst_port)"})
                : concat({name, ": unknown field"}));
    }
    std::string_view value = (equals == std::string_view::npos
                              ? std::string_view()
                              : trim(token.substr(equals + 1)));
    if (value.empty()) {
        return concat({name, ": missing value (expected ", name,
                       "=VALUE)"});
    }
    return parse_field(*field, name, value, token);
}

std::string
MatchParser::parse_shorthand(const Shorthand &shorthand,
                             std::string_view token)
{
    for (const Shorthand *given : shorthands_given_) {
        if (given == &shorthand) {
            return concat({shorthand.name, ": given twice"});
        }
    }
    shorthands_given_.push_back(&shorthand);

    std::string error = constrain_eth_type(shorthand.eth_type,
                                           shorthand.name, token);
    if (error.empty() && shorthand.ip_proto >= 0) {
        error = constrain_ip_proto(static_cast<uint8_t>(shorthand.ip_proto),
                                   shorthand.name, token);
    }
    return error;
}

std::string
MatchParser::parse_field(const FieldName &field, std::string_view name,
                         std::string_view value, std::string_view token)
{
    std::string &given_as = given_as_[static_cast<size_t>(field.id)];
    if (!given_as.empty()) {
        return (given_as == name
                ? concat({name, ": given twice"})
                : concat({name, ": given twice (already given as ",
                          given_as, ")"}));
    }
    given_as = std::string(name);

    switch (field.id) {
    case FieldId::kNwSrc: case FieldId::kNwDst:
    case FieldId::kIpv6Src: case FieldId::kIpv6Dst:
    case FieldId::kNwProto: case FieldId::kTpSrc: case FieldId::kTpDst:
        prerequisites_.push_back({field.id, std::string(name),
                                  field.required_proto});
        break;
    case FieldId::kDlSrc: case FieldId::kDlDst: case FieldId::kDlType:
    case FieldId::kDlVlan:
        break;
    }
    return parse_field_value(field.id, name, value, token);
}

std::string
MatchParser::parse_field_value(FieldId id, std::string_view name,
                               std::string_view value,
                               std::string_view token)
{
    vtap_flow_key &key = match_->key;
    vtap_flow_key &mask = match_->mask;
    uint64_t n;
    std::string error;

    switch (id) {
    case FieldId::kDlSrc:
        return parse_masked_address(name, value, kMacSyntax,
                                    key.eth_src, mask.eth_src);
    case FieldId::kDlDst:
        return parse_masked_address(name, value, kMacSyntax,
                                    key.eth_dst, mask.eth_dst);

    case FieldId::kDlType:
        error = parse_field_number(name, value, 0xffff, &n);
        return (error.empty()
                ? constrain_eth_type(static_cast<uint16_t>(n), name, token)
                : error);

    case FieldId::kDlVlan:
        /* Only "tagged with this VID" and "untagged" make sense to a tap;
         * OpenFlow 1.0's dl_vlan has the same two meanings. */
        switch (parse_number(value, 0xffff, true, &n)) {
        case NumberStatus::kOk:
            if (n <= VTAP_VLAN_VID_MASK || n == 0xffff) {
                break;
            }
            [[fallthrough]];
        case NumberStatus::kOutOfRange:
            return concat({name, ": ", value, " is out of range 0..4095 "
                           "(or 0xffff for untagged)"});
        case NumberStatus::kMalformed:
            return concat({name, ": ", value, " is not a valid number"});
        }
        if (n == 0xffff) {
            key.vlan_tci = 0;
            mask.vlan_tci = htons(0xffff);
        } else {
            key.vlan_tci = htons(VTAP_VLAN_PRESENT | n);
            mask.vlan_tci = htons(VTAP_VLAN_PRESENT | VTAP_VLAN_VID_MASK);
        }
        return "";

    case FieldId::kNwSrc:
        return parse_masked_address(
            name, value, kIpv4Syntax,
            reinterpret_cast<uint8_t *>(&key.ipv4_src),
            reinterpret_cast<uint8_t *>(&mask.ipv4_src));
    case FieldId::kNwDst:
        return parse_masked_address(
            name, value, kIpv4Syntax,
            reinterpret_cast<uint8_t *>(&key.ipv4_dst),
            reinterpret_cast<uint8_t *>(&mask.ipv4_dst));
    case FieldId::kIpv6Src:
        return parse_masked_address(name, value, kIpv6Syntax,
                                    key.ipv6_src, mask.ipv6_src);
    case FieldId::kIpv6Dst:
        return parse_masked_address(name, value, kIpv6Syntax,
                                    key.ipv6_dst, mask.ipv6_dst);

    case FieldId::kNwProto:
        error = parse_field_number(name, value, 0xff, &n);
        return (error.empty()
                ? constrain_ip_proto(static_cast<uint8_t>(n), name, token)
                : error);

    case FieldId::kTpSrc:
        return parse_l4_port(name, value, &key.tp_src, &mask.tp_src);
    case FieldId::kTpDst:
        return parse_l4_port(name, value, &key.tp_dst, &mask.tp_dst);
    }
    return concat({name, ": unknown field"});
}

/* Parses "PORT" or "PORT/MASK" into network byte order. */
std::string
MatchParser::parse_l4_port(std::string_view name, std::string_view value,
                           uint16_t *key, uint16_t *mask)
{
    size_t slash = value.find('/');
    uint64_t port, port_mask = 0xffff;
    std::string error = parse_field_number(name, value.substr(0, slash),
                                           0xffff, &port);
    if (error.empty() && slash != std::string_view::npos) {
        std::string_view mask_text = value.substr(slash + 1);
        error = (mask_text.empty()
                 ? concat({name, ": missing mask after \"/\""})
                 : parse_field_number(name, mask_text, 0xffff, &port_mask));
    }
    if (!error.empty()) {
        return error;
    }
    if (port & ~port_mask) {
        uint16_t masked = static_cast<uint16_t>(port & port_mask);
        return concat({name, ": ", value, " has bits set outside its mask ",
                       "(did you mean ", format_hex16(masked), "/",
                       value.substr(slash + 1), "?)"});
    }
    *key = htons(static_cast<uint16_t>(port));
    *mask = htons(static_cast<uint16_t>(port_mask));
    return "";
}

std::string
MatchParser::constrain_eth_type(uint16_t eth_type, std::string_view name,
                                std::string_view token)
{
    vtap_match &m = *match_;
    if (m.mask.eth_type) {
        if (m.key.eth_type != htons(eth_type)) {
            return concat({name, ": contradicts \"", eth_type_source_,
                           "\""});
        }
        return "";
    }
    m.key.eth_type = htons(eth_type);
    m.mask.eth_type = htons(0xffff);
    eth_type_source_ = std::string(token);
    return "";
}

std::string
MatchParser::constrain_ip_proto(uint8_t ip_proto, std::string_view name,
                                std::string_view token)
{
    vtap_match &m = *match_;
    if (m.mask.ip_proto) {
        if (m.key.ip_proto != ip_proto) {
            return concat({name, ": contradicts \"", ip_proto_source_,
                           "\""});
        }
        return "";
    }
    m.key.ip_proto = ip_proto;
    m.mask.ip_proto = 0xff;
    ip_proto_source_ = std::string(token);
    return "";
}

/* Returns the message for field 'name' whose 'requirement' is not met:
 * either nothing says which protocol the match is about, and 'hint' tells
 * what to add, or the token 'culprit' says it is about another one. */
std::string
MatchParser::unmet(const std::string &name, const char *requirement,
                   const char *hint, const std::string &culprit) const
{
    if (culprit.empty()) {
        return concat({name, ": requires ", requirement, " (add ", hint,
                       " first)"});
    }
    return concat({name, ": requires ", requirement,
                   ", which contradicts \"", culprit, "\""});
}

std::string
MatchParser::check_prerequisite(const Prerequisite &p) const
{
    const vtap_match &m = *match_;
    bool has_eth_type = m.mask.eth_type != 0;
    uint16_t eth_type = ntohs(m.key.eth_type);
    bool is_ip = has_eth_type && (eth_type == kEthTypeIp
                                  || eth_type == kEthTypeIpv6);

    switch (p.id) {
    case FieldId::kNwSrc: case FieldId::kNwDst:
        if (!has_eth_type || eth_type != kEthTypeIp) {
            return unmet(p.name, "IPv4", "\"ip\"", eth_type_source_);
        }
        return "";

    case FieldId::kIpv6Src: case FieldId::kIpv6Dst:
        if (!has_eth_type || eth_type != kEthTypeIpv6) {
            return unmet(p.name, "IPv6", "\"ipv6\"", eth_type_source_);
        }
        return "";

    case FieldId::kNwProto:
        if (!is_ip) {
            return unmet(p.name, "IPv4 or IPv6", "\"ip\" or \"ipv6\"",
                         eth_type_source_);
        }
        return "";

    case FieldId::kTpSrc: case FieldId::kTpDst: {
        bool has_proto = m.mask.ip_proto != 0;
        uint8_t proto = m.key.ip_proto;
        bool ok = (has_proto && is_ip
                   && (p.required_proto
                       ? proto == p.required_proto
                       : (proto == kProtoTcp || proto == kProtoUdp
                          || proto == kProtoSctp)));
        if (ok) {
            return "";
        }

        /* Blame whatever ruled the protocol out, if anything did. */
        const std::string &culprit = (has_proto ? ip_proto_source_
                                      : has_eth_type && !is_ip
                                      ? eth_type_source_
                                      : std::string());
        switch (p.required_proto) {
        case kProtoTcp:
            return unmet(p.name, "tcp", "\"tcp\"", culprit);
        case kProtoUdp:
            return unmet(p.name, "udp", "\"udp\"", culprit);
        case kProtoSctp:
            return unmet(p.name, "sctp", "\"sctp\"", culprit);
        default:
            return unmet(p.name, "tcp, udp or sctp", "\"tcp\" or \"udp\"",
                         culprit);
        }
    }

    case FieldId::kDlSrc: case FieldId::kDlDst: case FieldId::kDlType:
    case FieldId::kDlVlan:
        break;
    }
    return "";
}

}  // namespace

std::string
parse_match(std::string_view s, vtap_match *match)
{
    MatchParser parser(match);
    return parser.parse(s);
}

std::string
format_match(const vtap_match &match)
{
    const vtap_flow_key &key = match.key;
    const vtap_flow_key &mask = match.mask;
    std::vector<std::string> parts;

    /* Protocol first, as a shorthand that also covers ip_proto when one
     * exists. */
    uint16_t eth_type = ntohs(key.eth_type);
    uint16_t eth_type_mask = ntohs(mask.eth_type);
    bool ip_proto_done = false;
    if (eth_type_mask == 0xffff) {
        const Shorthand *best = nullptr;
        for (const Shorthand &sh : kShorthands) {
            if (sh.eth_type != eth_type) {
                continue;
            }
            if (sh.ip_proto < 0 && !best) {
                best = &sh;
            } else if (sh.ip_proto >= 0 && mask.ip_proto == 0xff
                       && sh.ip_proto == key.ip_proto) {
                best = &sh;
                ip_proto_done = true;
                break;
            }
        }
        parts.push_back(best ? best->name
                        : "dl_type=" + format_hex16(eth_type));
    } else if (eth_type_mask) {
        /* No syntax for this; see format_match() in match.h. */
        parts.push_back("dl_type=" + format_hex16(eth_type) + "/"
                        + format_hex16(eth_type_mask));
    }

    format_masked_address("dl_src", kMacSyntax, key.eth_src, mask.eth_src,
                          &parts);
    format_masked_address("dl_dst", kMacSyntax, key.eth_dst, mask.eth_dst,
                          &parts);

    uint16_t tci = ntohs(key.vlan_tci);
    uint16_t tci_mask = ntohs(mask.vlan_tci);
    if (tci_mask == (VTAP_VLAN_PRESENT | VTAP_VLAN_VID_MASK)
        && tci & VTAP_VLAN_PRESENT) {
        parts.push_back("dl_vlan="
                        + std::to_string(tci & VTAP_VLAN_VID_MASK));
    } else if (tci_mask == 0xffff && !tci) {
        parts.push_back("dl_vlan=0xffff");
    } else if (tci_mask) {
        parts.push_back("vlan_tci=" + format_hex16(tci) + "/"
                        + format_hex16(tci_mask));
    }

    format_masked_address("nw_src", kIpv4Syntax,
                          reinterpret_cast<const uint8_t *>(&key.ipv4_src),
                          reinterpret_cast<const uint8_t *>(&mask.ipv4_src),
                          &parts);
    format_masked_address("nw_dst", kIpv4Syntax,
                          reinterpret_cast<const uint8_t *>(&key.ipv4_dst),
                          reinterpret_cast<const uint8_t *>(&mask.ipv4_dst),
                          &parts);
    format_masked_address("ipv6_src", kIpv6Syntax, key.ipv6_src,
                          mask.ipv6_src, &parts);
    format_masked_address("ipv6_dst", kIpv6Syntax, key.ipv6_dst,
                          mask.ipv6_dst, &parts);

    if (mask.ip_proto && !ip_proto_done) {
        std::string s = "nw_proto=" + std::to_string(key.ip_proto);
        if (mask.ip_proto != 0xff) {
            s += "/" + std::to_string(mask.ip_proto);
        }
        parts.push_back(s);
    }

    const struct {
        const char *name;
        uint16_t key, mask;
    } l4_ports[] = {
        {"tp_src", ntohs(key.tp_src), ntohs(mask.tp_src)},
        {"tp_dst", ntohs(key.tp_dst), ntohs(mask.tp_dst)},
    };
    for (const auto &port : l4_ports) {
        if (port.mask == 0xffff) {
            parts.push_back(concat({port.name, "=",
                                    std::to_string(port.key)}));
        } else if (port.mask) {
            parts.push_back(concat({port.name, "=", format_hex16(port.key),
                                    "/", format_hex16(port.mask)}));
        }
    }

    std::string s;
    for (const std::string &part : parts) {
        if (!s.empty()) {
            s += ',';
        }
        s += part;
    }
    return s;
}

}  // namespace vtap
