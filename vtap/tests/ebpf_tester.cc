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

#include "vtap/tests/ebpf_tester.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace vtap {
namespace test {

namespace {

const char *const kPairs[][2] = {
    {"sel0", "sel0p"}, {"sel1", "sel1p"}, {"mon0", "mon0p"},
    {"mon1", "mon1p"},
};

void
put16(Bytes *b, uint16_t v)
{
    b->push_back(v >> 8);
    b->push_back(v & 0xff);
}

uint16_t
ip_checksum(const uint8_t *data, size_t n)
{
    uint32_t sum = 0;

    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += data[i] << 8 | data[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

}  // namespace

void
EbpfTest::SetUp()
{
    std::string why;

    tester_ = EbpfTester::get(&why);
    if (!tester_) {
        GTEST_SKIP() << why;
    }
    tester_->set_taps({});
    tester_->captured("mon0p");
    tester_->captured("mon1p");
}

void
EbpfTest::TearDown()
{
    if (tester_) {
        tester_->set_taps({});
        tester_->captured("mon0p");
        tester_->captured("mon1p");
    }
}

Bytes
make_packet(const PacketSpec &spec)
{
    Bytes b(spec.eth_dst, spec.eth_dst + 6);
    b.insert(b.end(), spec.eth_src, spec.eth_src + 6);
    for (const auto &tag : spec.tags) {
        put16(&b, tag.first);
        put16(&b, tag.second);
    }
    put16(&b, spec.ipv6 ? ETH_P_IPV6 : ETH_P_IP);

    Bytes l4;
    if (spec.proto == 6 || spec.proto == 17 || spec.proto == 132) {
        put16(&l4, spec.sport);
        put16(&l4, spec.dport);
        size_t hdr = spec.proto == 6 ? 20 : spec.proto == 17 ? 8 : 12;
        l4.resize(hdr);
        if (spec.proto == 17) {
            l4[4] = (hdr + spec.payload) >> 8;
            l4[5] = (hdr + spec.payload) & 0xff;
        } else if (spec.proto == 6) {
            l4[12] = 5 << 4;
        }
    } else {
        l4 = {8, 0, 0, 0, 0, 1, 0, 1};  /* ICMP echo request. */
    }
    l4.resize(l4.size() + spec.payload, 0xab);

    if (!spec.ipv6) {
        Bytes ip(spec.ipv4_options ? 28 : 20);
        ip[0] = 0x40 | (ip.size() / 4);
        uint16_t total = ip.size() + l4.size();
        ip[2] = total >> 8;
        ip[3] = total & 0xff;
        uint16_t frag = spec.frag_offset | (spec.more_fragments ? 0x2000 : 0);
        ip[6] = frag >> 8;
        ip[7] = frag & 0xff;
        ip[8] = 64;
        ip[9] = spec.proto;
        inet_pton(AF_INET, spec.src.c_str(), &ip[12]);
        inet_pton(AF_INET, spec.dst.c_str(), &ip[16]);
        for (size_t i = 20; i < ip.size(); i++) {
            ip[i] = 1;          /* NOP options. */
        }
        uint16_t sum = ip_checksum(ip.data(), ip.size());
        ip[10] = sum >> 8;
        ip[11] = sum & 0xff;
        b.insert(b.end(), ip.begin(), ip.end());
    } else {
        Bytes ip(40);
        ip[0] = 0x60;
        uint16_t plen = spec.ipv6_ext.size() * 8 + l4.size();
        ip[4] = plen >> 8;
        ip[5] = plen & 0xff;
        ip[6] = spec.ipv6_ext.empty() ? spec.proto : spec.ipv6_ext[0];
        ip[7] = 64;
        inet_pton(AF_INET6, spec.src.c_str(), &ip[8]);
        inet_pton(AF_INET6, spec.dst.c_str(), &ip[24]);
        b.insert(b.end(), ip.begin(), ip.end());
        /* Each extension header is 8 bytes; fragment headers carry
         * 'frag_offset'. */
        for (size_t i = 0; i < spec.ipv6_ext.size(); i++) {
            uint8_t next = (i + 1 < spec.ipv6_ext.size()
                            ? spec.ipv6_ext[i + 1] : spec.proto);
            Bytes ext(8, 0);
            ext[0] = next;
            if (spec.ipv6_ext[i] == 44) {
                uint16_t off = spec.frag_offset << 3
                               | (spec.more_fragments ? 1 : 0);
                ext[2] = off >> 8;
                ext[3] = off & 0xff;
            } else if (spec.ipv6_ext[i] == 51) {
                ext[1] = 0;     /* AH: (0 + 2) * 4 = 8 bytes. */
            }
            b.insert(b.end(), ext.begin(), ext.end());
        }
    }
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

EbpfTester *
EbpfTester::get(std::string *why)
{
    static EbpfTester *tester;
    static std::string error;

    if (!tester && error.empty()) {
        EbpfTester *t = new EbpfTester;
        error = t->init();
        if (error.empty()) {
            tester = t;
        } else {
            delete t;
        }
    }
    *why = error;
    return tester;
}

std::string
EbpfTester::init()
{
    if (geteuid()) {
        return "needs root (BPF programs and a network namespace)";
    }
    if (unshare(CLONE_NEWNET)) {
        return std::string("unshare(CLONE_NEWNET): ") + strerror(errno);
    }
    for (const auto &pair : kPairs) {
        /* A large MTU, so that a test can send packets that the kernel
         * does not keep linear (AF_PACKET puts all but the Ethernet header
         * of a packet over a page in page fragments). */
        std::string cmd = std::string("ip link add ") + pair[0]
                          + " mtu 9000 type veth peer name " + pair[1]
                          + " mtu 9000"
                          + " && ip link set " + pair[0] + " up"
                          + " && ip link set " + pair[1] + " up"
                          + " && sysctl -qw net.ipv6.conf." + pair[0]
                          + ".disable_ipv6=1 net.ipv6.conf." + pair[1]
                          + ".disable_ipv6=1";
        if (system(cmd.c_str())) {
            return "could not run: " + cmd;
        }
    }
    std::string error;
    backend_ = EbpfBackend::create("", EbpfBackend::AttachMode::kAuto,
                                   &error);
    if (!backend_) {
        return error;
    }
    /* Open the capture sockets now, so that nothing is missed later. */
    socket_for("mon0p");
    socket_for("mon1p");
    return "";
}

uint32_t
EbpfTester::ifindex(const std::string &name)
{
    return if_nametoindex(name.c_str());
}

RunResult
EbpfTester::run(int prog_fd, const std::string &dev, const Bytes &packet,
                uint32_t mark)
{
    RunResult result;
    struct __sk_buff ctx;

    memset(&ctx, 0, sizeof ctx);
    ctx.ifindex = ifindex(dev);
    ctx.mark = mark;
    result.packet.resize(packet.size() + 256);

    LIBBPF_OPTS(bpf_test_run_opts, opts,
                .data_in = packet.data(),
                .data_out = result.packet.data(),
                .data_size_in = static_cast<uint32_t>(packet.size()),
                .data_size_out = static_cast<uint32_t>(result.packet.size()),
                .ctx_in = &ctx,
                .ctx_out = &ctx,
                .ctx_size_in = sizeof ctx,
                .ctx_size_out = sizeof ctx,
                .repeat = 1);
    int r = bpf_prog_test_run_opts(prog_fd, &opts);
    if (r) {
        result.verdict = -1000 + r;
        result.packet.clear();
        return result;
    }
    result.verdict = static_cast<int>(opts.retval);
    result.packet.resize(opts.data_size_out);
    result.mark = ctx.mark;
    return result;
}

RunResult
EbpfTester::run_ingress(const std::string &dev, const Bytes &packet,
                        uint32_t mark)
{
    return run(backend_->ingress_prog_fd(), dev, packet, mark);
}

RunResult
EbpfTester::run_egress(const std::string &dev, const Bytes &packet,
                       uint32_t mark)
{
    return run(backend_->egress_prog_fd(), dev, packet, mark);
}

int
EbpfTester::socket_for(const std::string &dev)
{
    for (const auto &entry : sockets_) {
        if (entry.first == dev) {
            return entry.second;
        }
    }
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex(dev);
    bind(fd, reinterpret_cast<struct sockaddr *>(&sll), sizeof sll);
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
    /* Room for every copy of the longest test (thousands of packets). */
    int bufsize = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof bufsize);
    sockets_.emplace_back(dev, fd);
    return fd;
}

void
EbpfTester::send_to(const std::string &dev, const Bytes &packet)
{
    /* The peer of "sel0" is "sel0p". */
    int fd = socket_for(dev + "p");
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex(dev + "p");
    sll.sll_halen = 6;
    sendto(fd, packet.data(), packet.size(), 0,
           reinterpret_cast<struct sockaddr *>(&sll), sizeof sll);
}

std::vector<Capture>
EbpfTester::captured(const std::string &monitor)
{
    int fd = socket_for(monitor);
    std::vector<Capture> copies;

    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) {
            break;
        }
        uint8_t buf[65536];
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } control;
        struct iovec iov = {buf, sizeof buf};
        struct sockaddr_ll from;
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = &control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
        if (n < 0) {
            break;
        }
        if (from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }
        Capture c;
        c.data.assign(buf, buf + n);
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
             cm = CMSG_NXTHDR(&msg, cm)) {
            if (cm->cmsg_level == SOL_PACKET
                && cm->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;
                memcpy(&aux, CMSG_DATA(cm), sizeof aux);
                if (aux.tp_status & TP_STATUS_VLAN_VALID) {
                    c.vlan_tci = aux.tp_vlan_tci | 0x1000;
                    /* Put the tag back where it was on the wire. */
                    uint8_t tag[4] = {0x81, 0x00,
                                      static_cast<uint8_t>(aux.tp_vlan_tci
                                                           >> 8),
                                      static_cast<uint8_t>(aux.tp_vlan_tci)};
                    c.data.insert(c.data.begin() + 12, tag, tag + 4);
                }
            }
        }
        copies.push_back(std::move(c));
    }
    return copies;
}

std::vector<std::string>
EbpfTester::set_taps(const std::vector<TcTap> &taps)
{
    return backend_->set_group(1, taps);
}

vtap_tc_stats
EbpfTester::stats(uint64_t owner)
{
    vtap_tc_stats s;
    backend_->get_stats(owner, &s);
    return s;
}

uint32_t
EbpfTester::mark_magic()
{
    return backend_->mark_magic();
}

}  // namespace test
}  // namespace vtap
