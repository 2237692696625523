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

#include <config.h>

#include "vtap-send.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_packet.h>
#endif

#include "coverage.h"
#include "dp-packet.h"
#include "netdev.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "packets.h"
#include "socket-util.h"
#include "util.h"
#include "vtap-odp.h"

VLOG_DEFINE_THIS_MODULE(vtap_send);

COVERAGE_DEFINE(vtap_send_copy);
COVERAGE_DEFINE(vtap_send_failed);

static atomic_bool vtap_send_on = ATOMIC_VAR_INIT(true);

void
vtap_send_set_enabled(bool enabled)
{
    atomic_store_relaxed(&vtap_send_on, enabled);
}

bool
vtap_send_enabled(void)
{
    bool on;

    atomic_read_relaxed(&vtap_send_on, &on);
    return on;
}

bool
vtap_send_netdev_supported(const struct netdev *netdev)
{
#ifdef __linux__
    /* netdev-linux's "system" class is the one that sends with an
     * AF_PACKET socket; its "tap" and "internal" classes write to a tap
     * device's file descriptor instead. */
    return netdev && !strcmp(netdev_get_type(netdev), "system");
#else
    return false;
#endif
}

#ifdef __linux__
/* Returns the socket that sends every copy, or a negative errno value.  Like
 * netdev-linux's own, it receives nothing (protocol 0) and never blocks: a
 * copy that finds the socket's buffer full is dropped and counted, and the
 * thread goes on. */
static int
vtap_send_socket(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    static int sock;

    if (ovsthread_once_start(&once)) {
        sock = socket(AF_PACKET, SOCK_RAW, 0);
        if (sock < 0) {
            sock = -errno;
            VLOG_ERR("failed to create the tap copies' packet socket: %s",
                     ovs_strerror(errno));
        } else {
            int error = set_nonblocking(sock);

            if (error) {
                close(sock);
                sock = -error;
            }
        }
        ovsthread_once_done(&once);
    }
    return sock;
}

/* Points 'iov' at the copy of 'packet' that 'vc' asks for: with 'tag'
 * after the MAC addresses if 'vc' has one, 'len' bytes long.  Returns the
 * number of iovecs used. */
static size_t
vtap_send_frame(const struct ovs_action_vtap_copy *vc,
                const struct dp_packet *packet, const ovs_be16 tag[2],
                size_t len, struct iovec iov[3])
{
    const uint8_t *data = dp_packet_data(packet);
    size_t size = dp_packet_size(packet);
    size_t n = 0;

    if (vc->vlan_tci && size >= 2 * ETH_ADDR_LEN) {
        iov[n++] = (struct iovec) { CONST_CAST(uint8_t *, data),
                                    2 * ETH_ADDR_LEN };
        iov[n++] = (struct iovec) { CONST_CAST(ovs_be16 *, tag),
                                    VLAN_HEADER_LEN };
        iov[n++] = (struct iovec) { CONST_CAST(uint8_t *,
                                               data + 2 * ETH_ADDR_LEN),
                                    size - 2 * ETH_ADDR_LEN };
    } else {
        iov[n++] = (struct iovec) { CONST_CAST(uint8_t *, data), size };
    }

    /* The cut applies to the copy as sent, tag included, as the native
     * path's push_vlan then output(max_len=snaplen) does. */
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + iov[i].iov_len >= len) {
            iov[i].iov_len = len - used;
            return i + 1;
        }
        used += iov[i].iov_len;
    }
    return n;
}

size_t
vtap_send_copies(const struct ovs_action_vtap_copy *vc,
                 const struct netdev *netdev,
                 const struct dp_packet *packets[], const uint32_t lens[],
                 size_t n, uint64_t *bytes)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct mmsghdr mmsg[NETDEV_MAX_BURST];
    struct iovec iov[NETDEV_MAX_BURST][3];
    ovs_be16 tag[2] = { htons(ETH_TYPE_VLAN), htons(vc->vlan_tci) };
    int sock = vtap_send_socket();
    int ifindex = netdev_get_ifindex(netdev);
    size_t n_sent = 0;

    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_ifindex = ifindex };

    ovs_assert(n <= NETDEV_MAX_BURST);
    if (sock < 0 || ifindex <= 0) {
        VLOG_WARN_RL(&rl, "%s: cannot send tap copies: %s",
                     netdev_get_name(netdev),
                     ovs_strerror(sock < 0 ? -sock : -ifindex));
        COVERAGE_ADD(vtap_send_failed, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        mmsg[i].msg_hdr = (struct msghdr) {
            .msg_name = &sll,
            .msg_namelen = sizeof sll,
            .msg_iov = iov[i],
            .msg_iovlen = vtap_send_frame(vc, packets[i], tag, lens[i],
                                          iov[i]),
        };
    }

    /* Like netdev-linux's own batch send, except that one frame the device
     * refuses is skipped rather than ending the batch. */
    for (size_t ofs = 0; ofs < n;) {
        int retval, error;

        do {
            retval = sendmmsg(sock, mmsg + ofs, n - ofs, 0);
            error = retval < 0 ? errno : 0;
        } while (error == EINTR);
        if (error) {
            VLOG_WARN_RL(&rl, "%s: sending a tap copy failed: %s",
                         netdev_get_name(netdev), ovs_strerror(error));
            ofs++;
        } else {
            for (int i = 0; i < retval; i++) {
                *bytes += lens[ofs + i];
            }
            n_sent += retval;
            ofs += retval;
        }
    }
    COVERAGE_ADD(vtap_send_copy, n_sent);
    COVERAGE_ADD(vtap_send_failed, n - n_sent);
    return n_sent;
}
#else  /* !__linux__ */
size_t
vtap_send_copies(const struct ovs_action_vtap_copy *vc OVS_UNUSED,
                 const struct netdev *netdev OVS_UNUSED,
                 const struct dp_packet *packets[] OVS_UNUSED,
                 const uint32_t lens[] OVS_UNUSED, size_t n OVS_UNUSED,
                 uint64_t *bytes OVS_UNUSED)
{
    /* vtap_send_netdev_supported() is false: no copy takes this path. */
    return 0;
}
#endif /* !__linux__ */
