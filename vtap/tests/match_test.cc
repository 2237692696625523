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
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace vtap {
namespace {

/* Parses 's', which must be valid, and checks the invariant that every key
 * bit outside the mask is zero. */
vtap_match
parse_ok(const std::string &s)
{
    vtap_match match;
    std::string error = parse_match(s, &match);
    EXPECT_EQ(error, "") << "parsing \"" << s << "\"";
    EXPECT_TRUE(flow_key_equal(flow_key_and(match.key, match.mask),
                               match.key)) << s;
    return match;
}

/* Parses 's', which must be invalid, and returns the error. */
std::string
parse_error(const std::string &s)
{
    vtap_match match;
    std::string error = parse_match(s, &match);
    EXPECT_NE(error, "") << "\"" << s << "\" should not parse";
    return error;
}

bool
starts_with(const std::string &s, const std::string &prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

vtap_flow_key
zero_key()
{
    return vtap_flow_key{};
}

uint32_t
ipv4(const char *s)
{
    uint32_t addr;
    EXPECT_EQ(inet_pton(AF_INET, s, &addr), 1) << s;
    return addr;
}

void
ipv6(const char *s, uint8_t *addr)
{
    EXPECT_EQ(inet_pton(AF_INET6, s, addr), 1) << s;
}

TEST(MatchParse, EmptyMatchesEverything)
{
    for (const char *s : {"", " ", " \t\n "}) {
        vtap_match match = parse_ok(s);
        EXPECT_TRUE(flow_key_is_zero(match.key));
        EXPECT_TRUE(flow_key_is_zero(match.mask));
        EXPECT_EQ(format_match(match), "");
    }
}

TEST(MatchParse, Shorthands)
{
    const struct {
        const char *name;
        uint16_t eth_type;
        int ip_proto;
    } cases[] = {
        {"ip", 0x0800, -1}, {"ipv6", 0x86dd, -1}, {"arp", 0x0806, -1},
        {"tcp", 0x0800, 6}, {"udp", 0x0800, 17}, {"sctp", 0x0800, 132},
        {"icmp", 0x0800, 1}, {"tcp6", 0x86dd, 6}, {"udp6", 0x86dd, 17},
        {"sctp6", 0x86dd, 132}, {"icmp6", 0x86dd, 58},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.name);
        vtap_match match = parse_ok(c.name);
        vtap_match expected{};
        expected.key.eth_type = htons(c.eth_type);
        expected.mask.eth_type = 0xffff;
        if (c.ip_proto >= 0) {
            expected.key.ip_proto = c.ip_proto;
            expected.mask.ip_proto = 0xff;
        }
        EXPECT_TRUE(match_equal(match, expected));
        EXPECT_EQ(format_match(match), c.name);
    }
}

TEST(MatchParse, EthernetAddresses)
{
    vtap_match m = parse_ok("dl_src=00:11:22:33:44:55");
    const uint8_t mac[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    EXPECT_EQ(memcmp(m.key.eth_src, mac, 6), 0);
    EXPECT_EQ(memcmp(m.mask.eth_src, "\xff\xff\xff\xff\xff\xff", 6), 0);
    EXPECT_EQ(memcmp(m.mask.eth_dst, "\0\0\0\0\0\0", 6), 0);

    vtap_match alias = parse_ok("eth_src=0:11:22:33:44:55");
    EXPECT_TRUE(match_equal(m, alias));

    m = parse_ok("dl_dst=AA:BB:CC:00:00:00/ff:ff:ff:00:00:00");
    EXPECT_EQ(memcmp(m.key.eth_dst, "\xaa\xbb\xcc\0\0\0", 6), 0);
    EXPECT_EQ(memcmp(m.mask.eth_dst, "\xff\xff\xff\0\0\0", 6), 0);
    EXPECT_TRUE(match_equal(m, parse_ok("eth_dst=aa:bb:cc:0:0:0/"
                                        "ff:ff:ff:0:0:0")));

    /* Arbitrary masks, e.g. the multicast bit. */
    m = parse_ok("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00");
    EXPECT_EQ(m.mask.eth_dst[0], 0x01);
    EXPECT_EQ(format_match(m), "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00");
}

TEST(MatchParse, EthType)
{
    EXPECT_TRUE(match_equal(parse_ok("dl_type=0x0800"), parse_ok("ip")));
    EXPECT_TRUE(match_equal(parse_ok("eth_type=2048"), parse_ok("ip")));
    EXPECT_TRUE(match_equal(parse_ok("dl_type=0x86DD"), parse_ok("ipv6")));
    vtap_match m = parse_ok("dl_type=0x88cc");
    EXPECT_EQ(m.key.eth_type, htons(0x88cc));
    EXPECT_EQ(m.mask.eth_type, 0xffff);
    EXPECT_EQ(format_match(m), "dl_type=0x88cc");
    EXPECT_EQ(format_match(parse_ok("dl_type=0x0806")), "arp");
}

TEST(MatchParse, Vlan)
{
    vtap_match m = parse_ok("dl_vlan=100");
    EXPECT_EQ(m.key.vlan_tci, htons(VTAP_VLAN_PRESENT | 100));
    EXPECT_EQ(m.mask.vlan_tci, htons(0x1fff));
    EXPECT_TRUE(match_equal(m, parse_ok("vlan_vid=0x64")));
    EXPECT_EQ(format_match(m), "dl_vlan=100");

    m = parse_ok("dl_vlan=0");
    EXPECT_EQ(m.key.vlan_tci, htons(VTAP_VLAN_PRESENT));
    m = parse_ok("dl_vlan=4095");
    EXPECT_EQ(m.key.vlan_tci, htons(VTAP_VLAN_PRESENT | 4095));

    m = parse_ok("dl_vlan=0xffff");
    EXPECT_EQ(m.key.vlan_tci, 0);
    EXPECT_EQ(m.mask.vlan_tci, 0xffff);
    EXPECT_EQ(format_match(m), "dl_vlan=0xffff");
    EXPECT_TRUE(match_equal(m, parse_ok("dl_vlan=65535")));
}

TEST(MatchParse, Ipv4)
{
    vtap_match m = parse_ok("ip,nw_src=192.0.2.1");
    EXPECT_EQ(m.key.ipv4_src, ipv4("192.0.2.1"));
    EXPECT_EQ(m.mask.ipv4_src, 0xffffffffu);
    EXPECT_TRUE(match_equal(m, parse_ok("ip,ip_src=192.0.2.1")));
    EXPECT_TRUE(match_equal(m, parse_ok("ip,nw_src=192.0.2.1/32")));

    m = parse_ok("ip,nw_dst=10.1.0.0/16");
    EXPECT_EQ(m.key.ipv4_dst, ipv4("10.1.0.0"));
    EXPECT_EQ(m.mask.ipv4_dst, ipv4("255.255.0.0"));
    EXPECT_TRUE(match_equal(m, parse_ok("ip,ip_dst=10.1.0.0/255.255.0.0")));
    EXPECT_EQ(format_match(m), "ip,nw_dst=10.1.0.0/16");

    m = parse_ok("ip,nw_dst=0.0.0.0/0");
    EXPECT_EQ(m.mask.ipv4_dst, 0u);
    EXPECT_EQ(format_match(m), "ip");

    /* Arbitrary (non-CIDR) masks. */
    m = parse_ok("ip,nw_src=10.0.0.1/255.0.0.255");
    EXPECT_EQ(m.mask.ipv4_src, ipv4("255.0.0.255"));
    EXPECT_EQ(format_match(m), "ip,nw_src=10.0.0.1/255.0.0.255");

    EXPECT_TRUE(match_equal(parse_ok("tcp,nw_src=192.0.2.0/24"),
                            parse_ok("dl_type=0x0800,nw_proto=6,"
                                     "nw_src=192.0.2.0/24")));
    for (const char *proto : {"tcp", "udp", "sctp", "icmp"}) {
        parse_ok(std::string(proto) + ",nw_src=1.2.3.4,nw_dst=5.6.7.8");
    }
}

TEST(MatchParse, Ipv6)
{
    vtap_match m = parse_ok("ipv6,ipv6_src=2001:db8::1");
    uint8_t addr[16];
    ipv6("2001:db8::1", addr);
    EXPECT_EQ(memcmp(m.key.ipv6_src, addr, 16), 0);
    EXPECT_EQ(memcmp(m.mask.ipv6_src, std::string(16, '\xff').data(), 16),
              0);
    EXPECT_EQ(format_match(m), "ipv6,ipv6_src=2001:db8::1");

    m = parse_ok("ipv6,ipv6_dst=2001:DB8:0:1::/64");
    ipv6("2001:db8:0:1::", addr);
    EXPECT_EQ(memcmp(m.key.ipv6_dst, addr, 16), 0);
    ipv6("ffff:ffff:ffff:ffff::", addr);
    EXPECT_EQ(memcmp(m.mask.ipv6_dst, addr, 16), 0);
    EXPECT_EQ(format_match(m), "ipv6,ipv6_dst=2001:db8:0:1::/64");
    EXPECT_TRUE(match_equal(
        m, parse_ok("ipv6,ipv6_dst=2001:db8:0:1::/ffff:ffff:ffff:ffff::")));

    m = parse_ok("ipv6,ipv6_dst=2001:db8::/29");
    EXPECT_EQ(m.mask.ipv6_dst[3], 0xf8);
    EXPECT_EQ(format_match(m), "ipv6,ipv6_dst=2001:db8::/29");

    /* Arbitrary masks, e.g. the interface identifier only. */
    m = parse_ok("ipv6,ipv6_src=::1:2:3:4/::ffff:ffff:ffff:ffff");
    EXPECT_EQ(format_match(m), "ipv6,ipv6_src=::1:2:3:4/"
                               "::ffff:ffff:ffff:ffff");

    for (const char *proto : {"tcp6", "udp6", "sctp6", "icmp6"}) {
        parse_ok(std::string(proto) + ",ipv6_src=::1,ipv6_dst=::2");
    }
    parse_ok("dl_type=0x86dd,ipv6_dst=fe80::/10");
}

TEST(MatchParse, NwProto)
{
    vtap_match m = parse_ok("ip,nw_proto=47");
    EXPECT_EQ(m.key.ip_proto, 47);
    EXPECT_EQ(m.mask.ip_proto, 0xff);
    EXPECT_EQ(format_match(m), "ip,nw_proto=47");
    EXPECT_TRUE(match_equal(m, parse_ok("ip,ip_proto=0x2f")));
    EXPECT_EQ(format_match(parse_ok("ipv6,nw_proto=0")), "ipv6,nw_proto=0");
    EXPECT_EQ(format_match(parse_ok("ipv6,nw_proto=255")),
              "ipv6,nw_proto=255");

    /* nw_proto that a shorthand implies folds into the shorthand. */
    EXPECT_EQ(format_match(parse_ok("ip,nw_proto=6")), "tcp");
    EXPECT_EQ(format_match(parse_ok("ipv6,nw_proto=58")), "icmp6");
    EXPECT_EQ(format_match(parse_ok("ipv6,nw_proto=1")),
              "ipv6,nw_proto=1");
    EXPECT_EQ(format_match(parse_ok("ip,nw_proto=58")), "ip,nw_proto=58");
}

TEST(MatchParse, L4Ports)
{
    vtap_match m = parse_ok("tcp,tp_dst=80");
    EXPECT_EQ(m.key.tp_dst, htons(80));
    EXPECT_EQ(m.mask.tp_dst, 0xffff);
    EXPECT_EQ(format_match(m), "tcp,tp_dst=80");

    m = parse_ok("udp,tp_src=0x0050/0xfff0");
    EXPECT_EQ(m.key.tp_src, htons(0x50));
    EXPECT_EQ(m.mask.tp_src, htons(0xfff0));
    EXPECT_EQ(format_match(m), "udp,tp_src=0x0050/0xfff0");
    EXPECT_TRUE(match_equal(m, parse_ok("udp,tp_src=80/65520")));

    EXPECT_EQ(format_match(parse_ok("sctp,tp_src=0,tp_dst=65535")),
              "sctp,tp_src=0,tp_dst=65535");

    /* Aliases, which require their own protocol. */
    EXPECT_TRUE(match_equal(parse_ok("tcp,tcp_dst=80"),
                            parse_ok("tcp,tp_dst=80")));
    EXPECT_TRUE(match_equal(parse_ok("udp,udp_src=53"),
                            parse_ok("udp,tp_src=53")));
    EXPECT_TRUE(match_equal(parse_ok("sctp6,sctp_dst=9"),
                            parse_ok("sctp6,tp_dst=9")));
    parse_ok("tcp6,tcp_src=1,tcp_dst=2");
    parse_ok("udp6,udp_dst=53");
    parse_ok("ip,nw_proto=17,udp_dst=53");
}

TEST(MatchParse, WhitespaceAndOrder)
{
    vtap_match expected = parse_ok("tcp,nw_src=192.0.2.0/24,tp_dst=80");
    EXPECT_TRUE(match_equal(
        expected, parse_ok("  tcp , nw_src = 192.0.2.0/24 ,\ttp_dst=80 ")));
    /* Prerequisites are checked once the whole string is read. */
    EXPECT_TRUE(match_equal(expected,
                            parse_ok("tp_dst=80,nw_src=192.0.2.0/24,tcp")));
}

TEST(MatchParse, RedundantButConsistent)
{
    EXPECT_TRUE(match_equal(parse_ok("ip,tcp"), parse_ok("tcp")));
    EXPECT_TRUE(match_equal(parse_ok("tcp,ip"), parse_ok("tcp")));
    EXPECT_TRUE(match_equal(parse_ok("tcp,nw_proto=6"), parse_ok("tcp")));
    EXPECT_TRUE(match_equal(parse_ok("ip,dl_type=0x0800"), parse_ok("ip")));
    EXPECT_TRUE(match_equal(parse_ok("ipv6,tcp6,dl_type=0x86dd"),
                            parse_ok("tcp6")));
}

/* Every invalid string must be rejected with a message that starts with the
 * name of the bad token. */
TEST(MatchParse, Errors)
{
    const struct {
        const char *input;
        const char *prefix;     /* The message must start with this. */
    } cases[] = {
        /* Syntax. */
        {"foo", "foo: unknown field"},
        {"tcp,foo=1", "foo: unknown field"},
        {"TCP", "TCP: unknown field"},
        {"tp_dst", "tp_dst: missing value"},
        {"tcp,tp_dst=", "tp_dst: missing value"},
        {"tcp=1", "tcp: takes no value"},
        {"ip=", "ip: takes no value"},
        {"=80", "=80: missing field name"},
        {"tcp,,tp_dst=80", "empty field"},
        {"tcp,", "empty field"},

        /* Given twice. */
        {"tcp,tp_dst=80,tp_dst=81", "tp_dst: given twice"},
        {"tcp,tp_dst=80,tcp_dst=80", "tcp_dst: given twice (already given "
                                     "as tp_dst)"},
        {"dl_src=00:00:00:00:00:01,eth_src=00:00:00:00:00:01",
         "eth_src: given twice (already given as dl_src)"},
        {"dl_type=0x0800,eth_type=0x0800", "eth_type: given twice"},
        {"ip,nw_src=1.1.1.1,ip_src=1.1.1.1", "ip_src: given twice"},
        {"dl_vlan=1,vlan_vid=1", "vlan_vid: given twice"},
        {"ip,nw_proto=1,ip_proto=1", "ip_proto: given twice"},
        {"tcp,tcp", "tcp: given twice"},

        /* Contradictions. */
        {"tcp,udp", "udp: contradicts \"tcp\""},
        {"tcp,nw_proto=17", "nw_proto: contradicts \"tcp\""},
        {"nw_proto=17,tcp", "tcp: contradicts \"nw_proto=17\""},
        {"ip,ipv6", "ipv6: contradicts \"ip\""},
        {"tcp,tcp6", "tcp6: contradicts \"tcp\""},
        {"arp,ip", "ip: contradicts \"arp\""},
        {"dl_type=0x86dd,tcp", "tcp: contradicts \"dl_type=0x86dd\""},
        {"tcp,dl_type=0x86dd", "dl_type: contradicts \"tcp\""},
        {"ip,ipv6_src=::1", "ipv6_src: requires IPv6, which contradicts "
                            "\"ip\""},
        {"ipv6,nw_src=1.2.3.4", "nw_src: requires IPv4, which contradicts "
                                "\"ipv6\""},
        {"arp,tp_dst=1", "tp_dst: requires tcp, udp or sctp, which "
                         "contradicts \"arp\""},
        {"icmp,tp_dst=1", "tp_dst: requires tcp, udp or sctp, which "
                          "contradicts \"icmp\""},
        {"udp,tcp_dst=80", "tcp_dst: requires tcp, which contradicts "
                           "\"udp\""},
        {"tcp,udp_src=53", "udp_src: requires udp, which contradicts"},
        {"tcp6,sctp_dst=1", "sctp_dst: requires sctp, which contradicts"},
        {"arp,nw_proto=6", "nw_proto: requires IPv4 or IPv6, which "
                           "contradicts \"arp\""},

        /* Unmet prerequisites. */
        {"tp_dst=80", "tp_dst: requires tcp, udp or sctp (add \"tcp\" or "
                      "\"udp\" first)"},
        {"ip,tp_src=80", "tp_src: requires tcp, udp or sctp (add"},
        {"tcp_dst=80", "tcp_dst: requires tcp (add \"tcp\" first)"},
        {"nw_src=1.2.3.4", "nw_src: requires IPv4 (add \"ip\" first)"},
        {"nw_dst=1.2.3.4", "nw_dst: requires IPv4"},
        {"ip_dst=1.2.3.4", "ip_dst: requires IPv4"},
        {"ipv6_src=::1", "ipv6_src: requires IPv6 (add \"ipv6\" first)"},
        {"ipv6_dst=::1", "ipv6_dst: requires IPv6"},
        {"nw_proto=6", "nw_proto: requires IPv4 or IPv6"},
        {"nw_proto=6,tp_dst=80", "nw_proto: requires IPv4 or IPv6"},

        /* Malformed or out-of-range values. */
        {"ip,nw_src=300.1.1.1", "nw_src: 300.1.1.1 is not an IPv4 address"},
        {"ip,nw_src=1.2.3", "nw_src: 1.2.3 is not an IPv4 address"},
        {"ip,nw_src=1.2.3.4.5", "nw_src: 1.2.3.4.5 is not an IPv4"},
        {"ip,nw_src=1.2.3.x", "nw_src: 1.2.3.x is not an IPv4"},
        {"ip,nw_src=192.0.2.1/33", "nw_src: prefix length 33 is out of "
                                   "range 0..32"},
        {"ip,nw_src=192.0.2.0/-1", "nw_src: -1 is not a valid mask"},
        {"ip,nw_src=192.0.2.0/", "nw_src: missing mask after \"/\""},
        {"tcp,tp_dst=80/", "tp_dst: missing mask after \"/\""},
        {"ip,nw_dst=10.0.0.0/255.0.0", "nw_dst: 255.0.0 is not a valid "
                                       "mask"},
        {"ipv6,ipv6_src=2001:db8::/129", "ipv6_src: prefix length 129 is "
                                         "out of range 0..128"},
        {"ipv6,ipv6_src=2001:db8:::1", "ipv6_src: 2001:db8:::1 is not an "
                                       "IPv6 address"},
        {"ipv6,ipv6_src=1.2.3.4", "ipv6_src: 1.2.3.4 is not an IPv6"},
        {"dl_src=00:11:22:33:44", "dl_src: 00:11:22:33:44 is not an "
                                  "Ethernet address"},
        {"dl_src=00:11:22:33:44:55:66", "dl_src: 00:11:22:33:44:55:66 is "
                                        "not an Ethernet address"},
        {"dl_dst=000:11:22:33:44:55", "dl_dst: 000:11:22:33:44:55 is not"},
        {"dl_dst=gg:11:22:33:44:55", "dl_dst: gg:11:22:33:44:55 is not"},
        {"dl_dst=00:11:22:33:44:55/24", "dl_dst: 24 is not a valid mask"},
        {"tcp,tp_dst=70000", "tp_dst: 70000 is out of range 0..65535"},
        {"tcp,tp_dst=80x", "tp_dst: 80x is not a valid number"},
        {"tcp,tp_dst=-1", "tp_dst: -1 is not a valid number"},
        {"tcp,tp_dst=0x", "tp_dst: 0x is not a valid number"},
        {"tcp,tp_dst=80/0x1ffff", "tp_dst: 0x1ffff is out of range"},
        {"tcp,tp_dst=99999999999999999999999",
         "tp_dst: 99999999999999999999999 is out of range"},
        {"tcp,tp_dst=99999999999999999999999x", "tp_dst: "
         "99999999999999999999999x is not a valid number"},
        {"ip,nw_proto=256", "nw_proto: 256 is out of range 0..255"},
        {"ip,nw_proto=-6", "nw_proto: -6 is not a valid number"},
        {"dl_vlan=4096", "dl_vlan: 4096 is out of range 0..4095"},
        {"dl_vlan=-1", "dl_vlan: -1 is not a valid number"},
        {"dl_vlan=0xfffe", "dl_vlan: 0xfffe is out of range"},
        {"vlan_vid=x", "vlan_vid: x is not a valid number"},
        {"dl_type=0x10000", "dl_type: 0x10000 is out of range 0..65535"},
        {"dl_type=ip", "dl_type: ip is not a valid number"},

        /* Bits set beyond the mask. */
        {"ip,nw_src=192.0.2.5/24",
         "nw_src: 192.0.2.5/24 has bits set outside its mask (did you mean "
         "192.0.2.0/24?)"},
        {"ip,nw_dst=10.0.0.1/255.0.0.0",
         "nw_dst: 10.0.0.1/255.0.0.0 has bits set outside its mask (did "
         "you mean 10.0.0.0/255.0.0.0?)"},
        {"ipv6,ipv6_dst=2001:db8::1/64",
         "ipv6_dst: 2001:db8::1/64 has bits set outside its mask (did you "
         "mean 2001:db8::/64?)"},
        {"dl_src=01:02:03:04:05:06/ff:ff:ff:00:00:00",
         "dl_src: 01:02:03:04:05:06/ff:ff:ff:00:00:00 has bits set outside "
         "its mask (did you mean 01:02:03:00:00:00/ff:ff:ff:00:00:00?)"},
        {"tcp,tp_dst=0x0051/0xfff0",
         "tp_dst: 0x0051/0xfff0 has bits set outside its mask (did you "
         "mean 0x0050/0xfff0?)"},
    };
    for (const auto &c : cases) {
        std::string error = parse_error(c.input);
        EXPECT_TRUE(starts_with(error, c.prefix))
            << "input:    " << c.input << "\n"
            << "error:    " << error << "\n"
            << "expected: " << c.prefix << "...";
    }
}

TEST(MatchFormat, CanonicalOrder)
{
    const struct {
        const char *input;
        const char *canonical;
    } cases[] = {
        {"tp_dst=80,tp_src=1000,tcp", "tcp,tp_src=1000,tp_dst=80"},
        {"nw_dst=10.0.0.0/8,nw_src=192.0.2.1,dl_vlan=7,"
         "dl_dst=00:00:00:00:00:02,dl_src=00:00:00:00:00:01,udp",
         "udp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,dl_vlan=7,"
         "nw_src=192.0.2.1,nw_dst=10.0.0.0/8"},
        {"ipv6_dst=::2,ipv6_src=::1,nw_proto=6,dl_type=0x86dd",
         "tcp6,ipv6_src=::1,ipv6_dst=::2"},
        {"nw_proto=47,nw_src=1.0.0.0/8,dl_type=0x800",
         "ip,nw_src=1.0.0.0/8,nw_proto=47"},
        {"eth_dst=00:00:00:00:00:00/01:00:00:00:00:00,arp",
         "arp,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00"},
        {"vlan_vid=0xffff,dl_type=0x1234", "dl_type=0x1234,dl_vlan=0xffff"},
        {"udp_dst=53,udp", "udp,tp_dst=53"},
        {"tcp,tp_dst=0/0", "tcp"},
        {"dl_src=ff:ff:ff:ff:ff:ff/ff:ff:ff:ff:ff:ff",
         "dl_src=ff:ff:ff:ff:ff:ff"},
        {"ip,nw_src=1.2.3.4/255.255.255.255", "ip,nw_src=1.2.3.4"},
        {"ip,nw_src=1.2.0.0/255.255.128.0", "ip,nw_src=1.2.0.0/17"},
    };
    for (const auto &c : cases) {
        vtap_match match = parse_ok(c.input);
        std::string canonical = format_match(match);
        EXPECT_EQ(canonical, c.canonical) << c.input;
        EXPECT_TRUE(match_equal(match, parse_ok(canonical))) << c.input;
    }
}

/* Builds a random match that parse_match() can produce, from a small enough
 * set of choices that every field and mask style shows up often. */
class RandomMatchGenerator {
public:
    explicit RandomMatchGenerator(uint32_t seed) : rng_(seed) {}

    vtap_match next()
    {
        vtap_match m{};
        vtap_flow_key &k = m.key;
        vtap_flow_key &mask = m.mask;

        bool is_ipv4 = false, is_ipv6 = false;
        switch (pick(5)) {
        case 0:
            break;
        case 1:
            is_ipv4 = true;
            set_eth_type(&m, 0x0800);
            break;
        case 2:
            is_ipv6 = true;
            set_eth_type(&m, 0x86dd);
            break;
        case 3:
            set_eth_type(&m, 0x0806);
            break;
        case 4:
            set_eth_type(&m, 0x8000 + pick(0x1000));
            break;
        }

        bool is_l4 = false;
        if ((is_ipv4 || is_ipv6) && pick(4)) {
            static const uint8_t protos[] = {1, 6, 17, 58, 132, 47, 0, 255};
            k.ip_proto = protos[pick(sizeof protos)];
            mask.ip_proto = 0xff;
            is_l4 = k.ip_proto == 6 || k.ip_proto == 17 || k.ip_proto == 132;
        }

        maybe_bytes(k.eth_src, mask.eth_src, 6, false);
        maybe_bytes(k.eth_dst, mask.eth_dst, 6, false);
        switch (pick(3)) {
        case 1:
            k.vlan_tci = htons(VTAP_VLAN_PRESENT | pick(4096));
            mask.vlan_tci = htons(0x1fff);
            break;
        case 2:
            mask.vlan_tci = 0xffff;
            break;
        }
        if (is_ipv4) {
            maybe_bytes(reinterpret_cast<uint8_t *>(&k.ipv4_src),
                        reinterpret_cast<uint8_t *>(&mask.ipv4_src), 4, true);
            maybe_bytes(reinterpret_cast<uint8_t *>(&k.ipv4_dst),
                        reinterpret_cast<uint8_t *>(&mask.ipv4_dst), 4, true);
        }
        if (is_ipv6) {
            maybe_bytes(k.ipv6_src, mask.ipv6_src, 16, true);
            maybe_bytes(k.ipv6_dst, mask.ipv6_dst, 16, true);
        }
        if (is_l4) {
            maybe_bytes(reinterpret_cast<uint8_t *>(&k.tp_src),
                        reinterpret_cast<uint8_t *>(&mask.tp_src), 2, true);
            maybe_bytes(reinterpret_cast<uint8_t *>(&k.tp_dst),
                        reinterpret_cast<uint8_t *>(&mask.tp_dst), 2, true);
        }
        return m;
    }

private:
    uint32_t pick(uint32_t n) { return rng_() % n; }

    void set_eth_type(vtap_match *m, uint16_t eth_type)
    {
        m->key.eth_type = htons(eth_type);
        m->mask.eth_type = 0xffff;
    }

    /* Leaves the field wildcarded, or sets it exact, to a prefix, or (for
     * every kind but prefixes-only) to an arbitrary mask. */
    void maybe_bytes(uint8_t *key, uint8_t *mask, size_t n, bool prefixes)
    {
        uint32_t style = pick(prefixes ? 4 : 3);
        if (style == 0) {
            return;
        }
        for (size_t i = 0; i < n; i++) {
            key[i] = pick(256);
            mask[i] = 0xff;
        }
        if (style == 2) {
            for (size_t i = 0; i < n; i++) {
                mask[i] = pick(256);
            }
        } else if (style == 3) {
            size_t length = pick(n * 8 + 1);
            for (size_t i = 0; i < n; i++) {
                size_t bits = length > i * 8 ? length - i * 8 : 0;
                mask[i] = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
            }
        }
        for (size_t i = 0; i < n; i++) {
            key[i] &= mask[i];
        }
    }

    std::mt19937 rng_;
};

TEST(MatchFormat, RandomRoundTrip)
{
    RandomMatchGenerator generator(12345);
    for (int i = 0; i < 20000; i++) {
        vtap_match match = generator.next();
        std::string s = format_match(match);
        vtap_match reparsed;
        std::string error = parse_match(s, &reparsed);
        ASSERT_EQ(error, "") << s;
        ASSERT_TRUE(match_equal(match, reparsed)) << s;
        ASSERT_EQ(format_match(reparsed), s);
    }
}

TEST(Match, MatchesKey)
{
    vtap_match m = parse_ok("tcp,nw_dst=10.0.0.0/8,tp_dst=0x0050/0xfff0");
    vtap_flow_key key{};
    key.eth_type = htons(0x0800);
    key.ip_proto = 6;
    key.ipv4_dst = ipv4("10.9.8.7");
    key.ipv4_src = ipv4("1.1.1.1");
    key.tp_dst = htons(0x5f);
    EXPECT_TRUE(match_matches_key(m, key));
    key.tp_dst = htons(0x60);
    EXPECT_FALSE(match_matches_key(m, key));
    key.tp_dst = htons(0x50);
    key.ipv4_dst = ipv4("11.0.0.0");
    EXPECT_FALSE(match_matches_key(m, key));

    vtap_match all = parse_ok("");
    EXPECT_TRUE(match_matches_key(all, key));
}

TEST(Match, KeyHelpers)
{
    vtap_flow_key a{}, b{};
    memset(&a, 0xf0, sizeof a);
    memset(&b, 0x3c, sizeof b);
    vtap_flow_key anded = flow_key_and(a, b);
    for (size_t i = 0; i < sizeof anded; i++) {
        EXPECT_EQ(reinterpret_cast<uint8_t *>(&anded)[i], 0x30);
    }
    flow_key_or_into(&a, b);
    for (size_t i = 0; i < sizeof a; i++) {
        EXPECT_EQ(reinterpret_cast<uint8_t *>(&a)[i], 0xfc);
    }
    EXPECT_FALSE(flow_key_is_zero(a));
    EXPECT_TRUE(flow_key_is_zero(zero_key()));
}

}  // namespace
}  // namespace vtap
