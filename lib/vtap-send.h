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

#ifndef VTAP_SEND_H
#define VTAP_SEND_H 1

/* OVS-vTAP's socket copy path in the userspace datapath.
 *
 * A userspace datapath sends to a Linux network device (an Interface of
 * type "system": a veth, a physical NIC) through an AF_PACKET socket, whose
 * sendmmsg() copies each frame into a new socket buffer.  OVS's own copy of
 * a packet for a second output (dp_packet_clone(): two allocations and a
 * memcpy, then two frees) is thus a copy made only to be copied again.
 *
 * A tap copy whose monitor is such a device is therefore sent at once, from
 * the packet's own buffer, as it is where the tap takes it: the kernel's
 * copy is the only one.  The tag of 'output_vlan' and the cut of 'snaplen'
 * are made with the message's iovecs, without touching the packet.  What
 * happens to the packet afterwards cannot reach the copy, which was made
 * before the action returned.
 *
 * Translation emits the vtap_copy action in mode "send" for this
 * (vtap_send_supported() says when it may), and lib/vtap-exec.c, which
 * executes it, calls vtap_send_copies(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_packet;
struct netdev;
struct ovs_action_vtap_copy;

/* Returns true if copies to 'netdev' may be sent by the socket copy path:
 * it is a Linux network device sent to with an AF_PACKET socket.  (Whether
 * a tap takes the path at all, with userspace TSO or the path turned off,
 * is the offload plan's decision: vtap_plan_path().) */
bool vtap_send_netdev_supported(const struct netdev *netdev);

/* Sends to 'netdev' a copy of each of the 'n' 'packets' (left unchanged),
 * 'lens[i]' bytes long, tagged as 'vc' asks (lib/vtap-exec.c computed
 * 'lens' from the cut, the tag and the snap length).  Returns how many the
 * device took, and adds their bytes to '*bytes'.  Any thread. */
size_t vtap_send_copies(const struct ovs_action_vtap_copy *vc,
                        const struct netdev *netdev,
                        const struct dp_packet *packets[],
                        const uint32_t lens[], size_t n, uint64_t *bytes);

/* Turns the socket copy path on (the default) or off; off, copies are
 * clones that OVS's own output sends.  The taps' plan reads it (taps must
 * be configured again).  For tests and benchmarks that compare the two. */
void vtap_send_set_enabled(bool enabled);
bool vtap_send_enabled(void);

#endif /* lib/vtap-send.h */
