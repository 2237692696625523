/*
 * Copyright (c) 2026 The OVS-vTAP authors.
 * Licensed under the Apache License, Version 2.0.
 *
 * vhost-pktgen: the three "VMs" of the benchmark's vhost-user topology
 * (sender, receiver, monitor) in one DPDK process, each a virtio-user port
 * whose vhost-user socket an Open vSwitch dpdkvhostuserclient port connects
 * to.  One thread polls the three ports in turn: it sends on the sender's
 * port (as fast as it can, or paced by the TSC), drains the receiver's and
 * the monitor's and counts, per port, exactly what each got.  It can also
 * run a ping-pong (one request in flight: the sender's port sends, the
 * receiver's port reflects, the sender's port times the round trip with
 * the TSC) beside that load.
 *
 * Why not three dpdk-testpmd processes: on a 2-core machine whose second
 * core is the switch's PMD, three busy-polling processes share one core in
 * scheduler slices of milliseconds, so each VM runs a third of the time
 * and the rates measure the scheduler, not the switch.  One loop keeps
 * every port served every few microseconds.
 *
 * Build (the benchmark does it): cc -O2 -o vhost-pktgen vhost-pktgen.c
 *     $(pkg-config --cflags --libs libdpdk)
 * Run: vhost-pktgen EAL-ARGS --vdev net_virtio_user0,path=SOCK,server=1,...
 *     (user0: sender, user1: receiver, user2: monitor) -- MAC0 MAC1 MAC2
 *
 * Commands, one per line on stdin; each answers one line of JSON on stdout:
 *   links                 whether each port's link is up
 *   learn                 each port sends one broadcast frame from its MAC
 *   load SIZE PPS         the sender sends UDP to the receiver (port 9),
 *                         SIZE bytes with the FCS; PPS 0: as fast as it can
 *   halt                  stops the load
 *   stats                 counters of every port since the start
 *   pingpong SIZE SECS    a ping-pong for SECS seconds (the load goes on);
 *                         answers the half round trips' percentiles
 *   quit
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#define N_PORTS 3
#define SND 0
#define RCV 1
#define MON 2
#define BURST 32
#define RING 1024
#define LOAD_DPORT 9
#define PING_DPORT 7
#define PONG_DPORT 8
#define PP_MAGIC 0x76746170u            /* "vtap" */
#define PP_TIMEOUT_US 10000

static const char *port_name[N_PORTS] = {
    "net_virtio_user0", "net_virtio_user1", "net_virtio_user2"
};
static uint16_t port_id[N_PORTS];
static struct rte_ether_addr mac[N_PORTS];
static struct rte_mempool *pool;
static uint64_t hz;

struct port_stats {
    uint64_t tx, tx_fail, rx, rx_bytes, rx_flow, rx_ping, rx_pong, rx_other;
};
static struct port_stats st[N_PORTS];

/* The load. */
static int load_size;
static uint64_t load_pps;
static uint64_t load_last;
static double load_budget;

/* The ping-pong. */
struct pingpong {
    int active;
    int size;
    uint64_t end, warm_until;
    int inflight;
    uint32_t seq;
    uint64_t sent;
    uint64_t lost;
    uint64_t requests;          /* Sent, the warm-up's included. */
    uint64_t *samples;
    size_t n, cap;
};
static struct pingpong pp;

static void
die(const char *msg)
{
    fprintf(stderr, "vhost-pktgen: %s\n", msg);
    exit(1);
}

/* Writes an Ethernet + IPv4 + UDP header for SIZE bytes on the wire (with
 * the FCS) at DATA; returns the frame's length without the FCS. */
static uint16_t
write_udp(uint8_t *data, int size, int from, int to, uint16_t dport)
{
    struct rte_ether_hdr *eth = (struct rte_ether_hdr *) data;
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *) (eth + 1);
    struct rte_udp_hdr *udp = (struct rte_udp_hdr *) (ip + 1);
    uint16_t len = size - RTE_ETHER_CRC_LEN;
    /* 198.51.100.101 + role, documentation addresses only. */
    uint32_t base = RTE_IPV4(198, 51, 100, 101);

    rte_ether_addr_copy(&mac[to], &eth->dst_addr);
    rte_ether_addr_copy(&mac[from], &eth->src_addr);
    eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    memset(ip, 0, sizeof *ip);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(len - sizeof *eth);
    ip->time_to_live = 64;
    ip->next_proto_id = IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(base + from);
    ip->dst_addr = rte_cpu_to_be_32(base + to);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    udp->src_port = rte_cpu_to_be_16(1024);
    udp->dst_port = rte_cpu_to_be_16(dport);
    udp->dgram_len = rte_cpu_to_be_16(len - sizeof *eth - sizeof *ip);
    udp->dgram_cksum = 0;
    return len;
}

static struct rte_mbuf *
udp_mbuf(int size, int from, int to, uint16_t dport)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

    if (m) {
        uint16_t len = write_udp(rte_pktmbuf_mtod(m, uint8_t *), size, from,
                                 to, dport);
        m->data_len = m->pkt_len = len;
    }
    return m;
}

static void
send_one(int p, struct rte_mbuf *m)
{
    if (rte_eth_tx_burst(port_id[p], 0, &m, 1) == 1) {
        st[p].tx++;
    } else {
        st[p].tx_fail++;
        rte_pktmbuf_free(m);
    }
}

/* The load's share of this turn of the loop: every packet the budget
 * allows (at most a burst), or a burst when unpaced. */
static void
run_load(uint64_t now)
{
    struct rte_mbuf *m[BURST];
    unsigned int n = BURST, sent;

    if (!load_size) {
        return;
    }
    if (load_pps) {
        load_budget += (double) (now - load_last) * load_pps / hz;
        load_last = now;
        /* Whatever a short stall of the loop (another process on its
         * core) held back is caught up a burst per turn, so that the rate
         * holds; a longer one is not. */
        if (load_budget > 8 * BURST) {
            load_budget = 8 * BURST;
        }
        n = load_budget < BURST ? (unsigned int) load_budget : BURST;
        if (!n) {
            return;
        }
    }
    if (rte_pktmbuf_alloc_bulk(pool, m, n)) {
        return;
    }
    /* The payload is left as the pool has it: only the headers count. */
    for (unsigned int i = 0; i < n; i++) {
        uint16_t len = write_udp(rte_pktmbuf_mtod(m[i], uint8_t *),
                                 load_size, SND, RCV, LOAD_DPORT);
        m[i]->data_len = m[i]->pkt_len = len;
    }
    sent = rte_eth_tx_burst(port_id[SND], 0, m, n);
    st[SND].tx += sent;
    st[SND].tx_fail += n - sent;
    if (sent < n) {
        rte_pktmbuf_free_bulk(m + sent, n - sent);
    }
    if (load_pps) {
        /* What the ring refused is sent at the next turn. */
        load_budget -= sent;
    }
}

struct pp_payload {
    uint32_t magic;
    uint32_t seq;
};

static struct pp_payload *
pp_payload(struct rte_mbuf *m)
{
    if (m->data_len < sizeof(struct rte_ether_hdr)
        + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr)
        + sizeof(struct pp_payload)) {
        return NULL;
    }
    return rte_pktmbuf_mtod_offset(m, struct pp_payload *,
                                   sizeof(struct rte_ether_hdr)
                                   + sizeof(struct rte_ipv4_hdr)
                                   + sizeof(struct rte_udp_hdr));
}

static void
pp_send(uint64_t now)
{
    struct rte_mbuf *m = udp_mbuf(pp.size, SND, RCV, PING_DPORT);
    struct pp_payload *pl;

    if (!m) {
        return;
    }
    pl = pp_payload(m);
    pl->magic = PP_MAGIC;
    pl->seq = pp.seq;
    if (rte_eth_tx_burst(port_id[SND], 0, &m, 1) != 1) {
        rte_pktmbuf_free(m);
        st[SND].tx_fail++;
        return;
    }
    st[SND].tx++;
    pp.requests++;
    pp.inflight = 1;
    pp.sent = now;
}

/* The receiver turns a ping into its pong in place and sends it back. */
static void
pp_reflect(struct rte_mbuf *m)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *) (eth + 1);
    struct rte_udp_hdr *udp = (struct rte_udp_hdr *) (ip + 1);
    uint32_t a = ip->src_addr;

    rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
    rte_ether_addr_copy(&mac[RCV], &eth->src_addr);
    ip->src_addr = ip->dst_addr;
    ip->dst_addr = a;           /* The checksum does not change. */
    udp->dst_port = rte_cpu_to_be_16(PONG_DPORT);
    send_one(RCV, m);
}

static void
pp_record(uint64_t now)
{
    if (now < pp.warm_until) {
        return;
    }
    if (pp.n == pp.cap) {
        pp.cap = pp.cap ? 2 * pp.cap : 1 << 16;
        pp.samples = realloc(pp.samples, pp.cap * sizeof *pp.samples);
        if (!pp.samples) {
            die("out of memory");
        }
    }
    pp.samples[pp.n++] = now - pp.sent;
}

/* Counts what port P got; the ping-pong's frames go on from here. */
static void
receive(int p)
{
    struct rte_mbuf *m[BURST];
    uint16_t n = rte_eth_rx_burst(port_id[p], 0, m, BURST);

    for (uint16_t i = 0; i < n; i++) {
        struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[i],
                                                     struct rte_ether_hdr *);
        struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *) (eth + 1);
        struct rte_udp_hdr *udp = (struct rte_udp_hdr *) (ip + 1);
        int reused = 0;

        st[p].rx++;
        st[p].rx_bytes += m[i]->pkt_len;
        if (m[i]->data_len < sizeof *eth + sizeof *ip + sizeof *udp
            || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)
            || ip->next_proto_id != IPPROTO_UDP) {
            st[p].rx_other++;
        } else if (udp->dst_port == rte_cpu_to_be_16(LOAD_DPORT)
                   && rte_is_same_ether_addr(&eth->src_addr, &mac[SND])) {
            st[p].rx_flow++;
        } else if (udp->dst_port == rte_cpu_to_be_16(PING_DPORT)) {
            struct pp_payload *pl = pp_payload(m[i]);

            st[p].rx_ping++;
            if (p == RCV && pl && pl->magic == PP_MAGIC) {
                pp_reflect(m[i]);
                reused = 1;
            }
        } else if (udp->dst_port == rte_cpu_to_be_16(PONG_DPORT)) {
            struct pp_payload *pl = pp_payload(m[i]);

            st[p].rx_pong++;
            if (p == SND && pp.active && pp.inflight && pl
                && pl->magic == PP_MAGIC && pl->seq == pp.seq) {
                pp_record(rte_rdtsc());
                pp.inflight = 0;
                pp.seq++;
            }
        } else {
            st[p].rx_other++;
        }
        if (!reused) {
            rte_pktmbuf_free(m[i]);
        }
    }
}

static int
cmp_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* Half a round trip in microseconds, as sockperf reports "latency". */
static double
half_us(uint64_t cycles)
{
    return cycles / 2.0 / hz * 1e6;
}

static double
percentile(double q)
{
    size_t i = (size_t) (q * (pp.n - 1) + 0.5);

    return half_us(pp.samples[i < pp.n ? i : pp.n - 1]);
}

static void
pp_finish(void)
{
    double sum = 0;

    pp.active = 0;
    if (!pp.n) {
        printf("{\"n\": 0, \"lost\": %" PRIu64 ", \"requests\": %" PRIu64
               "}\n", pp.lost, pp.requests);
        return;
    }
    qsort(pp.samples, pp.n, sizeof *pp.samples, cmp_u64);
    for (size_t i = 0; i < pp.n; i++) {
        sum += half_us(pp.samples[i]);
    }
    printf("{\"n\": %zu, \"lost\": %" PRIu64 ", \"requests\": %" PRIu64
           ", \"mean\": %.3f, "
           "\"min\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
           "\"p999\": %.3f, \"p9999\": %.3f, \"max\": %.3f}\n",
           pp.n, pp.lost, pp.requests, sum / pp.n, half_us(pp.samples[0]),
           percentile(0.5), percentile(0.9), percentile(0.99),
           percentile(0.999), percentile(0.9999),
           half_us(pp.samples[pp.n - 1]));
}

static void
run_pingpong(uint64_t now)
{
    if (!pp.active) {
        return;
    }
    if (now >= pp.end) {
        pp_finish();
        fflush(stdout);
        return;
    }
    if (pp.inflight && now - pp.sent > hz / 1000000 * PP_TIMEOUT_US) {
        pp.lost++;
        pp.inflight = 0;
        pp.seq++;
    }
    if (!pp.inflight) {
        pp_send(now);
    }
}

static void
print_stats(void)
{
    printf("{\"tsc_hz\": %" PRIu64 ", \"tsc\": %" PRIu64 ", \"ports\": [",
           hz, rte_rdtsc());
    for (int p = 0; p < N_PORTS; p++) {
        printf("%s{\"tx\": %" PRIu64 ", \"tx_fail\": %" PRIu64
               ", \"rx\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
               ", \"rx_flow\": %" PRIu64 ", \"rx_ping\": %" PRIu64
               ", \"rx_pong\": %" PRIu64 ", \"rx_other\": %" PRIu64 "}",
               p ? ", " : "", st[p].tx, st[p].tx_fail, st[p].rx,
               st[p].rx_bytes, st[p].rx_flow, st[p].rx_ping, st[p].rx_pong,
               st[p].rx_other);
    }
    printf("]}\n");
}

static int
valid_size(int size)
{
    return size >= RTE_ETHER_MIN_LEN && size <= RTE_ETHER_MAX_LEN;
}

/* Returns 0 to go on, 1 to quit. */
static int
command(char *line, uint64_t now)
{
    char cmd[32];
    int size = 0;
    double arg = 0;
    int n = sscanf(line, "%31s %d %lf", cmd, &size, &arg);

    if (n < 1) {
        return 0;
    }
    if (!strcmp(cmd, "links")) {
        printf("{\"links\": [");
        for (int p = 0; p < N_PORTS; p++) {
            struct rte_eth_link link;

            memset(&link, 0, sizeof link);
            rte_eth_link_get_nowait(port_id[p], &link);
            printf("%s%d", p ? ", " : "", link.link_status);
        }
        printf("]}\n");
    } else if (!strcmp(cmd, "learn")) {
        for (int p = 0; p < N_PORTS; p++) {
            struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
            struct rte_ether_hdr *eth;

            if (!m) {
                continue;
            }
            eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
            memset(eth, 0, 60);
            memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
            rte_ether_addr_copy(&mac[p], &eth->src_addr);
            eth->ether_type = rte_cpu_to_be_16(0x88b5);
            m->data_len = m->pkt_len = 60;
            send_one(p, m);
        }
        printf("{\"learn\": 1}\n");
    } else if (!strcmp(cmd, "load") && n == 3 && valid_size(size)
               && arg >= 0) {
        load_size = size;
        load_pps = (uint64_t) arg;
        load_last = now;
        load_budget = 0;
        printf("{\"load\": [%d, %" PRIu64 "]}\n", load_size, load_pps);
    } else if (!strcmp(cmd, "halt")) {
        load_size = 0;
        printf("{\"load\": [0, 0]}\n");
    } else if (!strcmp(cmd, "stats")) {
        print_stats();
    } else if (!strcmp(cmd, "pingpong") && n == 3 && valid_size(size)
               && arg > 0 && !pp.active) {
        pp.active = 1;
        pp.size = size;
        pp.inflight = 0;
        pp.lost = 0;
        pp.requests = 0;
        pp.n = 0;
        /* The first tenth of a second warms caches and flows up. */
        pp.warm_until = now + hz / 10;
        pp.end = now + (uint64_t) (arg * hz) + hz / 10;
        return 0;               /* Answers when it is over. */
    } else if (!strcmp(cmd, "quit")) {
        printf("{\"quit\": 1}\n");
        fflush(stdout);
        return 1;
    } else {
        printf("{\"error\": \"bad command\"}\n");
    }
    fflush(stdout);
    return 0;
}

/* Reads whatever stdin has (it does not block); runs each whole line. */
static int
commands(uint64_t now)
{
    static char buf[4096];
    static size_t len;
    ssize_t n = read(STDIN_FILENO, buf + len, sizeof buf - 1 - len);
    char *line, *nl;

    if (n == 0) {
        return 1;               /* stdin closed: the harness is gone. */
    }
    if (n < 0) {
        return errno == EAGAIN || errno == EINTR ? 0 : 1;
    }
    len += n;
    buf[len] = '\0';
    line = buf;
    while ((nl = strchr(line, '\n'))) {
        *nl = '\0';
        if (command(line, now)) {
            return 1;
        }
        line = nl + 1;
    }
    len -= line - buf;
    memmove(buf, line, len);
    if (len == sizeof buf - 1) {
        len = 0;                /* A line too long to be a command. */
    }
    return 0;
}

static void
port_init(int p)
{
    struct rte_eth_conf conf;
    int sock;

    if (rte_eth_dev_get_port_by_name(port_name[p], &port_id[p])) {
        fprintf(stderr, "vhost-pktgen: no port %s\n", port_name[p]);
        exit(1);
    }
    sock = rte_eth_dev_socket_id(port_id[p]);
    memset(&conf, 0, sizeof conf);
    if (rte_eth_dev_configure(port_id[p], 1, 1, &conf)
        || rte_eth_rx_queue_setup(port_id[p], 0, RING, sock < 0 ? 0 : sock,
                                  NULL, pool)
        || rte_eth_tx_queue_setup(port_id[p], 0, RING, sock < 0 ? 0 : sock,
                                  NULL)
        || rte_eth_dev_start(port_id[p])) {
        fprintf(stderr, "vhost-pktgen: cannot start %s\n", port_name[p]);
        exit(1);
    }
    rte_eth_macaddr_get(port_id[p], &mac[p]);
}

int
main(int argc, char *argv[])
{
    int n = rte_eal_init(argc, argv);

    if (n < 0) {
        die("rte_eal_init failed");
    }
    argc -= n;
    argv += n;
    /* Optional MACs of the three ports (else the ports' own). */
    hz = rte_get_tsc_hz();
    pool = rte_pktmbuf_pool_create("vtb_pktgen", 16383, 256, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_socket_id());
    if (!pool) {
        die("cannot create the mbuf pool");
    }
    for (int p = 0; p < N_PORTS; p++) {
        port_init(p);
        if (argc > 1 + p
            && rte_ether_unformat_addr(argv[1 + p], &mac[p]) == 0) {
            rte_eth_dev_default_mac_addr_set(port_id[p], &mac[p]);
        }
    }
    fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
    printf("{\"ready\": 1, \"tsc_hz\": %" PRIu64 "}\n", hz);
    fflush(stdout);

    uint64_t next_cmd = 0;
    for (;;) {
        uint64_t now = rte_rdtsc();

        /* Commands every millisecond: a system call per turn would cost
         * more than the turn. */
        if (now >= next_cmd) {
            if (commands(now)) {
                break;
            }
            next_cmd = now + hz / 1000;
        }
        run_load(now);
        run_pingpong(now);
        for (int p = 0; p < N_PORTS; p++) {
            receive(p);
        }
    }
    for (int p = 0; p < N_PORTS; p++) {
        rte_eth_dev_stop(port_id[p]);
        rte_eth_dev_close(port_id[p]);
    }
    rte_eal_cleanup();
    return 0;
}
