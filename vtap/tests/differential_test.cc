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

/* Differential test of the two ways a tap selects packets: the TC program
 * (the eBPF backend, run on the packet with BPF_PROG_TEST_RUN) and the C++
 * classifier that the native backend uses (through the C ABI, on the flow
 * key that Open vSwitch would extract from the same packet).  Random and
 * mutated packets against random taps: the set of taps that copy must be
 * the same, except for the known limits, each of which has a named test
 * below and a line in ovs-vtap(7).
 *
 * Reproducible: the seed is printed with every failure, and the
 * environment variable VTAP_DIFF_SEED runs that seed again.  Root only
 * (like ebpf_program_test.cc): skipped otherwise. */

#include <arpa/inet.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "vtap/capi/vtap.h"
#include "vtap/policy/match.h"
#include "vtap/tests/ebpf_tester.h"

namespace vtap {
namespace test {
namespace {

/* The selected port's number on the classifier side and the first output
 * port's (each tap gets its own output). */
constexpr uint32_t kPort = 1;
constexpr uint32_t kFirstOutput = 100;

/* Selects the sentinel packets of kernel_ids_real() (a local
 * experimental ethertype) and nothing else. */
const char kSentinelMatch[] = "dl_type=0x88b5";

uint16_t
get16(const Bytes &p, size_t off)
{
    return static_cast<uint16_t>(p[off] << 8 | p[off + 1]);
}

/* The vtap_flow_key that ofproto-dpif-vtap.c's vtap_dpif_key_from_flow()
 * builds from the 'struct flow' that Open vSwitch 3.1's miniflow_extract()
 * gives 'p' (lib/flow.c): the same checks, in the same order, reduced to
 * the fields a tap matches. */
vtap_flow_key
ovs_key(const Bytes &p)
{
    vtap_flow_key key;
    memset(&key, 0, sizeof key);
    size_t size = p.size(), off = 0;

    if (size < 14) {
        return key;             /* No Ethernet header: nothing at all. */
    }
    memcpy(key.eth_dst, &p[0], 6);
    memcpy(key.eth_src, &p[6], 6);
    off = 12;
    size -= 12;

    /* parse_vlan(): at most 2 tags, each needing its TCI and the next
     * ethertype in the packet. */
    for (int n = 0; n < 2; n++) {
        uint16_t tpid = get16(p, off);
        if ((tpid != 0x8100 && tpid != 0x88a8) || size < 6) {
            break;
        }
        if (!n) {
            key.vlan_tci = htons(VTAP_VLAN_PRESENT
                                 | (get16(p, off + 2) & VTAP_VLAN_VID_MASK));
        }
        off += 4;
        size -= 4;
    }

    /* parse_ethertype(): 802.3 lengths mean LLC, of which only SNAP with
     * an Ethernet type counts; FLOW_DL_TYPE_NONE (0x05ff) otherwise. */
    uint16_t dl_type = get16(p, off);
    off += 2;
    size -= 2;
    if (dl_type < 0x600) {
        if (size >= 8 && p[off] == 0xaa && p[off + 1] == 0xaa
            && p[off + 2] == 0x03 && !p[off + 3] && !p[off + 4]
            && !p[off + 5]) {
            dl_type = get16(p, off + 6);
            off += 8;
            size -= 8;
            if (dl_type < 0x600) {
                dl_type = 0x05ff;
            }
        } else {
            dl_type = 0x05ff;
        }
    }
    key.eth_type = htons(dl_type);

    uint8_t proto;
    bool later_fragment = false;
    if (dl_type == 0x0800) {
        /* ipv4_sanity_check(). */
        if (size < 20) {
            return key;
        }
        size_t ihl = (p[off] & 0xf) * 4;
        size_t tot_len = get16(p, off + 2);
        if (ihl < 20 || size < ihl || tot_len > size || ihl > tot_len) {
            return key;
        }
        memcpy(&key.ipv4_src, &p[off + 12], 4);
        memcpy(&key.ipv4_dst, &p[off + 16], 4);
        proto = p[off + 9];
        later_fragment = get16(p, off + 6) & 0x1fff;
        size = tot_len - ihl;   /* Never the padding. */
        off += ihl;
    } else if (dl_type == 0x86dd) {
        /* ipv6_sanity_check(). */
        if (size < 40 || get16(p, off + 4) + 40u > size) {
            return key;
        }
        memcpy(key.ipv6_src, &p[off + 8], 16);
        memcpy(key.ipv6_dst, &p[off + 24], 16);
        proto = p[off + 6];
        size = get16(p, off + 4);
        off += 40;

        /* parse_ipv6_ext_hdrs__(): failing leaves nw_proto at 0. */
        for (;;) {
            if (proto != 0 && proto != 43 && proto != 60 && proto != 51
                && proto != 44) {
                break;
            }
            if (size < 8) {
                return key;
            }
            size_t len;
            uint8_t next = p[off];
            if (proto == 51) {
                len = (p[off + 1] + 2) * 4;
            } else if (proto == 44) {
                len = 8;
            } else {
                len = (p[off + 1] + 1) * 8;
            }
            if (size < len) {
                return key;
            }
            uint16_t offlg = get16(p, off + 2);
            bool fragment = proto == 44;
            proto = next;
            off += len;
            size -= len;
            if (fragment && (offlg & 0xfff8)) {
                proto = 44;     /* IPPROTO_FRAGMENT: a later fragment. */
                later_fragment = true;
                break;
            }
        }
    } else {
        return key;             /* ARP's fields are not in the key. */
    }

    key.ip_proto = proto;
    if (later_fragment) {
        return key;
    }
    bool ports = false;
    if (proto == 6) {
        size_t doff = size >= 20 ? (p[off + 12] >> 4) * 4 : 0;
        ports = size >= 20 && doff >= 20 && size >= doff;
    } else if (proto == 17) {
        ports = size >= 8;
    } else if (proto == 132) {
        ports = size >= 12;
    }
    if (ports) {
        memcpy(&key.tp_src, &p[off], 2);
        memcpy(&key.tp_dst, &p[off + 2], 2);
    }
    return key;
}

/* Random packets and taps, from small pools of values so that matches
 * hit often. */
class Generator {
public:
    explicit Generator(uint64_t seed) : rng_(seed) {}

    uint32_t below(uint32_t n)
    {
        return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_);
    }
    bool chance(uint32_t percent) { return below(100) < percent; }
    template <class T>
    const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }

    /* A random tap match (it may not parse: the caller tries again). */
    std::string match()
    {
        std::vector<std::string> parts;
        static const std::vector<std::string> protos = {
            "", "ip", "ipv6", "tcp", "udp", "sctp", "icmp", "tcp6", "udp6",
            "sctp6", "icmp6", "arp", "dl_type=0x88cc", "ip,nw_proto=47",
            "ipv6,nw_proto=44", "ipv6,nw_proto=59", "dl_type=0x05ff",
        };
        std::string proto = pick(protos);
        if (!proto.empty()) {
            parts.push_back(proto);
        }
        if (chance(25)) {
            parts.push_back("dl_src=" + pick(macs()));
        }
        if (chance(25)) {
            parts.push_back("dl_dst=" + pick(macs()));
        }
        if (chance(30)) {
            static const std::vector<std::string> vlans = {
                "10", "20", "0xffff",
            };
            parts.push_back("dl_vlan=" + pick(vlans));
        }
        bool v4 = proto == "ip" || proto == "tcp" || proto == "udp"
                  || proto == "sctp" || proto == "icmp"
                  || proto == "ip,nw_proto=47";
        bool v6 = proto.find("6") != std::string::npos
                  && proto.find("0x") == std::string::npos;
        if (v4 && chance(50)) {
            static const std::vector<std::string> nets = {
                "198.51.100.1", "198.51.100.0/24", "203.0.113.1",
                "198.51.100.2/31", "0.0.0.0/1",
            };
            parts.push_back(std::string(chance(50) ? "nw_src=" : "nw_dst=")
                            + pick(nets));
        }
        if (v6 && chance(50)) {
            static const std::vector<std::string> nets = {
                "2001:db8::1", "2001:db8::/32", "2001:db8:1::/48",
                "2001:db8::2/127",
            };
            parts.push_back(std::string(chance(50) ? "ipv6_src="
                                                   : "ipv6_dst=")
                            + pick(nets));
        }
        bool l4 = proto.find("tcp") == 0 || proto.find("udp") == 0
                  || proto.find("sctp") == 0;
        if (l4 && chance(60)) {
            static const std::vector<std::string> ports = {
                "80", "443", "2000", "0x0400/0xff00",
            };
            parts.push_back(std::string(chance(50) ? "tp_src=" : "tp_dst=")
                            + pick(ports));
        }
        std::string s;
        for (const std::string &part : parts) {
            s += (s.empty() ? "" : ",") + part;
        }
        return s;
    }

    /* 'n' random tap matches that parse. */
    std::vector<std::string> matches(size_t n)
    {
        std::vector<std::string> v;
        while (v.size() < n) {
            std::string m = match();
            vtap_match parsed;
            if (parse_match(m, &parsed).empty()) {
                v.push_back(m);
            }
        }
        return v;
    }

    /* A random packet; headers valid or broken, lengths right or wrong. */
    Bytes packet()
    {
        Bytes p;
        append_mac(&p);
        append_mac(&p);
        int tags = chance(60) ? 0 : chance(60) ? 1 : chance(70) ? 2 : 3;
        for (int i = 0; i < tags; i++) {
            put16(&p, chance(60) ? 0x8100 : 0x88a8);
            static const std::vector<uint16_t> tcis = {
                10, 20, 0x2000 | 10, 0x1000 | 20, 0, 4095,
            };
            put16(&p, pick(tcis));
        }
        switch (below(12)) {
        case 0:
            put16(&p, 0x0806);
            append_arp(&p);
            break;
        case 1: {
            static const std::vector<uint16_t> odd = {
                0x88cc, 0x8847, 0x0600, 0x05ff, 0x0000, 0x05dc, 0x88a8,
                0x8100,
            };
            put16(&p, pick(odd));
            append_random(&p, below(60));
            break;
        }
        case 2:
            /* 802.3 with LLC: SNAP (with an Ethernet type, or not) or
             * another SAP. */
            put16(&p, 0x05dc);
            p.insert(p.end(), {0xaa, 0xaa, 0x03, 0, 0, 0});
            if (chance(20)) {
                p[p.size() - 1] = 1;
            }
            put16(&p, chance(70) ? 0x0800 : 0x0042);
            if (chance(50)) {
                append_ipv4(&p);
            } else {
                append_random(&p, below(40));
            }
            break;
        case 3:
        case 4:
        case 5:
        case 6:
            put16(&p, 0x0800);
            append_ipv4(&p);
            break;
        default:
            put16(&p, 0x86dd);
            append_ipv6(&p);
            break;
        }
        if (chance(10)) {
            append_random(&p, below(30));       /* Ethernet padding. */
        }
        return p;
    }

    /* Flips a few random bytes (after the MACs). */
    void mutate(Bytes *p)
    {
        int n = 1 + below(3);
        for (int i = 0; i < n && p->size() > 12; i++) {
            (*p)[12 + below(p->size() - 12)] = below(256);
        }
    }

private:
    static const std::vector<std::string> &macs()
    {
        static const std::vector<std::string> m = {
            "00:00:5e:00:53:01", "00:00:5e:00:53:02", "00:00:5e:00:53:03",
        };
        return m;
    }

    static void put16(Bytes *p, uint16_t v)
    {
        p->push_back(v >> 8);
        p->push_back(v & 0xff);
    }

    void append_mac(Bytes *p)
    {
        uint8_t mac[6] = {0x00, 0x00, 0x5e, 0x00, 0x53,
                          static_cast<uint8_t>(1 + below(3))};
        p->insert(p->end(), mac, mac + 6);
    }

    void append_random(Bytes *p, size_t n)
    {
        for (size_t i = 0; i < n; i++) {
            p->push_back(below(256));
        }
    }

    void append_arp(Bytes *p)
    {
        p->insert(p->end(), {0, 1, 8, 0, 6, 4, 0, 1});
        append_random(p, 20);
    }

    /* The L4 header and payload of 'proto'. */
    Bytes l4(uint8_t proto)
    {
        static const std::vector<uint16_t> ports = {80, 443, 2000, 1024,
                                                    1100};
        Bytes b;
        put16(&b, pick(ports));
        put16(&b, pick(ports));
        size_t hdr = proto == 6 ? 20 : proto == 17 ? 8 : proto == 132 ? 12
                                                                     : 8;
        b.resize(hdr, 0);
        if (proto == 6) {
            b[12] = (chance(85) ? 5 : below(16)) << 4;
        }
        append_random(&b, chance(50) ? below(4) : below(40));
        return b;
    }

    uint8_t l4_proto()
    {
        static const std::vector<uint8_t> protos = {6, 17, 132, 1, 58, 47,
                                                    6, 17};
        return pick(protos);
    }

    void append_ipv4(Bytes *p)
    {
        uint8_t proto = l4_proto();
        Bytes payload = l4(proto);
        size_t ihl = chance(80) ? 5 : 5 + below(11);
        Bytes ip(ihl * 4, 1);   /* NOP options. */
        ip[0] = chance(95) ? 0x40 | ihl : below(256);
        size_t tot = ip.size() + payload.size();
        if (chance(10)) {
            tot = below(tot + 30);
        }
        ip[2] = tot >> 8;
        ip[3] = tot & 0xff;
        uint16_t frag = 0;
        if (chance(20)) {
            frag = (chance(50) ? 0x2000 : 0) | (chance(60) ? 1 + below(200)
                                                           : 0);
        }
        ip[6] = frag >> 8;
        ip[7] = frag & 0xff;
        ip[8] = 64;
        ip[9] = proto;
        static const std::vector<std::string> addrs = {
            "198.51.100.1", "198.51.100.2", "198.51.100.3", "203.0.113.1",
        };
        inet_pton(AF_INET, pick(addrs).c_str(), &ip[12]);
        inet_pton(AF_INET, pick(addrs).c_str(), &ip[16]);
        p->insert(p->end(), ip.begin(), ip.end());
        p->insert(p->end(), payload.begin(), payload.end());
    }

    void append_ipv6(Bytes *p)
    {
        uint8_t proto = l4_proto();
        Bytes ext;
        /* Extension headers: at most VTAP_TC_MAX_IPV6_EXT_HEADERS here;
         * more is a known limit with a test of its own. */
        size_t n_ext = chance(40) ? 0 : below(VTAP_TC_MAX_IPV6_EXT_HEADERS
                                              + 1);
        std::vector<uint8_t> types;
        for (size_t i = 0; i < n_ext; i++) {
            static const std::vector<uint8_t> t = {0, 43, 44, 51, 60};
            types.push_back(pick(t));
        }
        for (size_t i = 0; i < n_ext; i++) {
            uint8_t next = i + 1 < n_ext ? types[i + 1] : proto;
            size_t units = chance(70) ? 0 : 1 + below(2);
            Bytes h;
            if (types[i] == 44) {
                h.assign(8, 0);
                uint16_t offlg = chance(50) ? 0
                                 : ((chance(50) ? below(100) : 0) << 3
                                    | (chance(50) ? 1 : 0));
                h[2] = offlg >> 8;
                h[3] = offlg & 0xff;
            } else if (types[i] == 51) {
                h.assign((units * 2 + 2) * 4, 0);
                h[1] = units * 2;
            } else {
                h.assign((units + 1) * 8, 0);
                h[1] = units;
            }
            h[0] = next;
            ext.insert(ext.end(), h.begin(), h.end());
        }
        Bytes payload = l4(proto);
        Bytes ip(40, 0);
        ip[0] = 0x60;
        size_t plen = ext.size() + payload.size();
        if (chance(10)) {
            plen = below(plen + 30);
        }
        ip[4] = plen >> 8;
        ip[5] = plen & 0xff;
        ip[6] = n_ext ? types[0] : proto;
        ip[7] = 64;
        static const std::vector<std::string> addrs = {
            "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8:1::1",
        };
        inet_pton(AF_INET6, pick(addrs).c_str(), &ip[8]);
        inet_pton(AF_INET6, pick(addrs).c_str(), &ip[24]);
        p->insert(p->end(), ip.begin(), ip.end());
        p->insert(p->end(), ext.begin(), ext.end());
        p->insert(p->end(), payload.begin(), payload.end());
    }

    std::mt19937_64 rng_;
};

std::string
hex(const Bytes &p)
{
    std::string s;
    char buf[4];
    for (uint8_t b : p) {
        snprintf(buf, sizeof buf, "%02x", b);
        s += buf;
    }
    return s;
}

std::string
ids_string(const std::set<uint32_t> &ids)
{
    std::string s = "{";
    for (uint32_t id : ids) {
        s += (s.size() > 1 ? "," : "") + std::to_string(id);
    }
    return s + "}";
}

class Differential : public EbpfTest {
protected:
    void TearDown() override
    {
        EbpfTest::TearDown();
        vtap_classifier_destroy(cls_);
    }

    /* Installs 'matches' as taps 1..N on both sides: ingress of sel0 in
     * the kernel, port kPort in the classifier. */
    void install(std::vector<std::string> matches)
    {
        /* The last tap is the sentinel of kernel_ids_real(). */
        matches.push_back(kSentinelMatch);
        matches_ = matches;
        std::vector<TcTap> taps;
        struct vtap_policy *policy = vtap_policy_create();
        for (size_t i = 0; i < matches.size(); i++) {
            TcTap t;
            t.owner = i + 1;
            ASSERT_EQ(parse_match(matches[i], &t.match), "") << matches[i];
            t.src_ifindexes.push_back(EbpfTester::ifindex("sel0"));
            t.out_ifindex = EbpfTester::ifindex("mon0");
            taps.push_back(t);

            uint32_t src = kPort, out = kFirstOutput + i;
            std::string name = "t" + std::to_string(i + 1);
            struct vtap_tap_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.name = name.c_str();
            cfg.id = i + 1;
            cfg.enabled = true;
            cfg.src_ports = &src;
            cfg.n_src_ports = 1;
            cfg.match = matches[i].c_str();
            cfg.output_ports = &out;
            cfg.n_output_ports = 1;
            char *error = vtap_policy_add_tap(policy, &cfg);
            ASSERT_EQ(error, nullptr) << error;
        }
        vtap_classifier_destroy(cls_);
        cls_ = vtap_policy_compile(policy);
        vtap_policy_destroy(policy);
        ASSERT_NE(cls_, nullptr);
        for (const std::string &r : tester_->set_taps(taps)) {
            ASSERT_EQ(r, "");
        }
        before_.assign(matches.size(), 0);
        for (size_t i = 0; i < matches.size(); i++) {
            before_[i] = copies(i + 1);
        }
    }

    uint64_t copies(uint64_t owner)
    {
        vtap_tc_stats s = tester_->stats(owner);
        return s.packets + s.failed;
    }

    /* The taps that the kernel copied 'p' for, or false if the kernel did
     * not run the program on it. */
    bool kernel_ids(const Bytes &p, std::set<uint32_t> *ids)
    {
        RunResult r = tester_->run_ingress("sel0", p);
        if (r.verdict != VTAP_TC_NEXT) {
            return false;
        }
        EXPECT_EQ(r.packet, p) << "the original changed";
        collect(ids);
        return true;
    }

    /* The same, with 'p' received for real on sel0: for packets that
     * BPF_PROG_TEST_RUN refuses (an IP header cut short), and for VLAN
     * tags that the kernel moves into skb metadata.  A sentinel packet
     * that only the sentinel tap selects follows 'p' on the same device:
     * once it is counted, 'p' was seen. */
    void kernel_ids_real(const Bytes &p, std::set<uint32_t> *ids)
    {
        uint64_t sentinel = matches_.size();
        uint64_t before = copies(sentinel);
        Bytes s(p.begin(), p.begin() + 12);
        s.insert(s.end(), {0x88, 0xb5, 0, 0});
        tester_->send_to("sel0", p);
        tester_->send_to("sel0", s);
        for (int i = 0; i < 1000 && copies(sentinel) == before; i++) {
            usleep(1000);
        }
        ASSERT_NE(copies(sentinel), before) << "the sentinel never came";
        collect(ids);
        ids->erase(sentinel);
    }

    /* The taps whose counters moved since the last call. */
    void collect(std::set<uint32_t> *ids)
    {
        ids->clear();
        for (size_t i = 0; i < matches_.size(); i++) {
            uint64_t now = copies(i + 1);
            if (now != before_[i]) {
                ids->insert(i + 1);
                before_[i] = now;
            }
        }
    }

    std::set<uint32_t> classifier_ids(const Bytes &p)
    {
        vtap_flow_key key = ovs_key(p);
        uint32_t ids[64];
        size_t n = vtap_classifier_lookup(cls_, kPort, VTAP_DIR_INGRESS,
                                          &key, NULL, ids, 64);
        return std::set<uint32_t>(ids, ids + std::min<size_t>(n, 64));
    }

    /* Compares both sides on 'p'.  Returns false (and reports) on a
     * difference. */
    bool agree(const Bytes &p, const std::string &context,
               bool real = false)
    {
        std::set<uint32_t> kernel;
        if (real) {
            kernel_ids_real(p, &kernel);
        } else if (!kernel_ids(p, &kernel)) {
            skipped_++;
            return true;
        }
        checked_++;
        std::set<uint32_t> native = classifier_ids(p);
        /* A mutation may make a sentinel; the sentinel tap is no tap under
         * test. */
        kernel.erase(matches_.size());
        native.erase(matches_.size());
        if (kernel == native) {
            return true;
        }
        std::ostringstream taps;
        for (size_t i = 0; i < matches_.size(); i++) {
            taps << "  tap " << i + 1 << ": \"" << matches_[i] << "\"\n";
        }
        vtap_match m;
        m.key = ovs_key(p);
        memset(&m.mask, 0xff, sizeof m.mask);
        ADD_FAILURE() << context << "\n  packet (" << p.size() << " bytes): "
                      << hex(p) << "\n  OVS key: " << format_match(m)
                      << "\n  eBPF copies for " << ids_string(kernel)
                      << ", classifier for " << ids_string(native) << "\n"
                      << taps.str();
        return false;
    }

    struct vtap_classifier *cls_ = nullptr;
    std::vector<std::string> matches_;
    std::vector<uint64_t> before_;
    size_t checked_ = 0, skipped_ = 0;
};

uint64_t
seed()
{
    const char *env = getenv("VTAP_DIFF_SEED");
    if (env && *env) {
        return strtoull(env, nullptr, 0);
    }
    return std::chrono::steady_clock::now().time_since_epoch().count();
}

TEST_F(Differential, RandomPacketsAndTaps)
{
    const uint64_t s = seed();
    SCOPED_TRACE("seed " + std::to_string(s)
                 + " (rerun with VTAP_DIFF_SEED=" + std::to_string(s) + ")");
    Generator gen(s);
    int failures = 0;

    for (int round = 0; round < 40 && failures < 5; round++) {
        install(gen.matches(8));
        if (HasFatalFailure()) {
            return;
        }
        for (int i = 0; i < 120 && failures < 5; i++) {
            Bytes p = gen.packet();
            std::string what = "round " + std::to_string(round)
                               + ", packet " + std::to_string(i);
            failures += !agree(p, what);
            if (gen.chance(30)) {
                Bytes m = p;
                gen.mutate(&m);
                failures += !agree(m, what + " mutated");
            }
            if (gen.chance(20) && p.size() > 14) {
                Bytes cut(p.begin(), p.begin() + 14 + gen.below(p.size()
                                                                - 14));
                failures += !agree(cut, what + " truncated");
            }
        }
        /* Every truncation of a few packets, at every offset. */
        for (int i = 0; i < 3 && failures < 5; i++) {
            Bytes p = gen.packet();
            for (size_t len = 14; len <= p.size() && failures < 5; len++) {
                failures += !agree(Bytes(p.begin(), p.begin() + len),
                                   "round " + std::to_string(round)
                                   + ", truncated at " + std::to_string(len));
            }
        }
        tester_->captured("mon0p");
    }
    printf("differential: %zu packets compared, %zu not run by the kernel "
           "(seed %llu)\n", checked_, skipped_,
           static_cast<unsigned long long>(s));
    EXPECT_GT(checked_, 4000u);
}

/* The differences that the random test found in the TC program, one
 * packet each, so that they stay fixed whatever the seed. */
TEST_F(Differential, FoundDifferences)
{
    install({"tcp6", "ipv6,nw_proto=44", "ip", "udp,tp_dst=2000",
             "tcp,tp_dst=2000", "dl_type=0x05ff", "dl_type=0x8100",
             "tcp6,tp_dst=2000"});
    PacketSpec v6;
    v6.ipv6 = true;
    v6.src = "2001:db8::1";
    v6.dst = "2001:db8::2";
    v6.proto = 6;

    /* IPv6: a first fragment's header is followed by more extension
     * headers, which Open vSwitch skips too. */
    v6.ipv6_ext = {44, 60};
    v6.more_fragments = true;
    EXPECT_TRUE(agree(make_packet(v6), "first fragment, then options"));
    /* A later fragment: protocol IPPROTO_FRAGMENT (44), not TCP. */
    v6.frag_offset = 10;
    EXPECT_TRUE(agree(make_packet(v6), "later fragment"));
    /* An extension header longer than the payload length says. */
    v6.ipv6_ext = {60};
    v6.frag_offset = 0;
    v6.more_fragments = false;
    Bytes p = make_packet(v6);
    p[14 + 40 + 1] = 200;
    EXPECT_TRUE(agree(p, "extension header beyond the payload"));
    /* Payload length beyond the packet: no L3 fields at all. */
    p = make_packet(v6);
    p[14 + 4] = 0x7f;
    EXPECT_TRUE(agree(p, "IPv6 payload length too long"));

    /* IPv4 total length beyond the packet, or shorter than the header. */
    PacketSpec v4;
    v4.dport = 2000;
    p = make_packet(v4);
    p[14 + 2] = 0x7f;
    EXPECT_TRUE(agree(p, "IPv4 total length too long"));
    p = make_packet(v4);
    p[14 + 2] = 0;
    p[14 + 3] = 16;
    EXPECT_TRUE(agree(p, "IPv4 total length below the header"));
    /* The total length ends inside the UDP header: no ports. */
    p = make_packet(v4);
    p[14 + 3] = 20 + 6;
    EXPECT_TRUE(agree(p, "UDP header beyond the total length"));
    /* TCP: a data offset below 5, or beyond the segment: no ports. */
    v4.proto = 6;
    p = make_packet(v4);
    p[14 + 20 + 12] = 4 << 4;
    EXPECT_TRUE(agree(p, "TCP data offset 4"));
    p[14 + 20 + 12] = 15 << 4;
    EXPECT_TRUE(agree(p, "TCP data offset beyond the segment"));

    /* 802.3 with LLC/SNAP carrying IPv4 is IPv4; other LLC is 0x05ff. */
    v4.proto = 17;
    p = make_packet(v4);
    uint8_t snap[8] = {0x05, 0xdc, 0xaa, 0xaa, 0x03, 0, 0, 0};
    p.insert(p.begin() + 12, snap, snap + 8);
    EXPECT_TRUE(agree(p, "SNAP IPv4"));
    p[12 + 2] = 0x42;
    EXPECT_TRUE(agree(p, "LLC, not SNAP"));

    /* A VLAN tag cut short: its TPID is the type. */
    p = make_packet(v4);
    uint8_t tag[4] = {0x81, 0x00, 0x00, 10};
    p.insert(p.begin() + 12, tag, tag + 4);
    p.resize(17);
    EXPECT_TRUE(agree(p, "cut VLAN tag"));
    tester_->captured("mon0p");
}

/* Random taps against the packets that BPF_PROG_TEST_RUN refuses (an IPv4
 * or IPv6 header cut short), received for real. */
TEST_F(Differential, IpHeadersCutShortReceivedForReal)
{
    const uint64_t s = seed();
    SCOPED_TRACE("seed " + std::to_string(s));
    Generator gen(s);
    int failures = 0;

    for (int round = 0; round < 4 && failures < 5; round++) {
        install(gen.matches(8));
        for (int i = 0; i < 4 && failures < 5; i++) {
            Bytes p;
            do {
                p = gen.packet();
            } while (get16(p, 12) != 0x0800 && get16(p, 12) != 0x86dd);
            size_t l3 = get16(p, 12) == 0x0800 ? 20 : 40;
            for (size_t len = 14; len < std::min(p.size(), 14 + l3 + 1)
                                  && failures < 5; len++) {
                failures += !agree(Bytes(p.begin(), p.begin() + len),
                                   "cut at " + std::to_string(len), true);
            }
        }
    }
    tester_->captured("mon0p");
}

/* Open vSwitch's netdev-linux puts a tag that the kernel moved into skb
 * metadata back in front of the packet, then reads at most two tags: a
 * metadata tag counts as the first of the two in the TC program too. */
TEST_F(Differential, TagInMetadataIsTheFirstOfTwo)
{
    install({"dl_vlan=10", "ip", "udp", "dl_type=0x8100", "dl_vlan=20"});
    Bytes p = make_packet(PacketSpec());
    uint8_t tags[12] = {0x81, 0x00, 0x00, 10, 0x88, 0xa8, 0x00, 20,
                        0x81, 0x00, 0x00, 30};
    for (size_t n = 1; n <= 3; n++) {
        Bytes tagged = p;
        tagged.insert(tagged.begin() + 12, tags, tags + 4 * n);
        agree(tagged, std::to_string(n) + " tags, received", true);
        agree(tagged, std::to_string(n) + " tags, test run");
    }
    tester_->captured("mon0p");
}

/* Known limit: the TC program follows at most
 * VTAP_TC_MAX_IPV6_EXT_HEADERS IPv6 extension headers (a verifier bound);
 * behind more, it finds no L4 protocol and no ports, where Open vSwitch
 * keeps going.  L3 fields still match.  (ovs-vtap(7), "eBPF backend".) */
TEST_F(Differential, KnownLimitIpv6ExtensionHeaders)
{
    install({"tcp6", "tcp6,tp_dst=2000", "ipv6,ipv6_dst=2001:db8::/32",
             "ipv6"});
    PacketSpec spec;
    spec.ipv6 = true;
    spec.src = "2001:db8::1";
    spec.dst = "2001:db8::2";
    spec.proto = 6;
    spec.ipv6_ext.assign(VTAP_TC_MAX_IPV6_EXT_HEADERS, 60);
    EXPECT_TRUE(agree(make_packet(spec), "at the limit"));

    spec.ipv6_ext.push_back(60);
    Bytes p = make_packet(spec);
    std::set<uint32_t> kernel;
    ASSERT_TRUE(kernel_ids(p, &kernel));
    EXPECT_EQ(kernel, (std::set<uint32_t>{3, 4}));
    std::set<uint32_t> native = classifier_ids(p);
    EXPECT_EQ(native, (std::set<uint32_t>{1, 2, 3, 4}));
    tester_->captured("mon0p");
}

}  // namespace
}  // namespace test
}  // namespace vtap
