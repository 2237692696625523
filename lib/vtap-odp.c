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

#include "vtap-odp.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "unaligned.h"
#include "util.h"
#include "vtap/capi/vtap_dpdk.h"

static struct ovs_action_vtap_copy *
put_copy__(struct ofpbuf *actions, uint64_t owner, odp_port_t port,
           uint32_t probability, uint32_t meter_id, uint32_t snaplen,
           uint16_t vlan_tci, uint8_t mode)
{
    struct ovs_action_vtap_copy *vc;

    vc = nl_msg_put_unspec_zero(actions, OVS_ACTION_ATTR_VTAP_COPY,
                                sizeof *vc);
    put_32aligned_u64(&vc->owner, owner);
    vc->port = odp_to_u32(port);
    vc->probability = probability;
    vc->meter_id = meter_id;
    vc->snaplen = snaplen;
    vc->vlan_tci = vlan_tci;
    vc->mode = mode;
    return vc;
}

void
vtap_odp_put_copy(struct ofpbuf *actions, uint64_t owner, odp_port_t port,
                  uint32_t probability, uint32_t meter_id, uint32_t snaplen,
                  uint16_t vlan_tci)
{
    put_copy__(actions, owner, port, probability, meter_id, snaplen,
               vlan_tci, VTAP_DPDK_FULL_COPY);
}

void
vtap_odp_put_send(struct ofpbuf *actions, uint64_t owner, odp_port_t port,
                  uint32_t probability, uint32_t snaplen, uint16_t vlan_tci)
{
    put_copy__(actions, owner, port, probability, UINT32_MAX, snaplen,
               vlan_tci, VTAP_ODP_SEND_COPY);
}

/* Copy modes. */

const char *
vtap_odp_copy_mode_to_string(int mode)
{
    switch (mode) {
    case VTAP_DPDK_ZERO_COPY: return "zero";
    case VTAP_DPDK_HEADER_COPY: return "header";
    case VTAP_DPDK_FULL_COPY: return "full";
    case VTAP_ODP_SEND_COPY: return "send";
    }
    return "?";
}

static enum vtap_dpdk_copy_mode
max_mode(enum vtap_dpdk_copy_mode a, enum vtap_dpdk_copy_mode b)
{
    return a > b ? a : b;
}

static enum vtap_dpdk_copy_mode set_modes__(const struct nlattr *actions,
                                            size_t len,
                                            enum vtap_dpdk_copy_mode later);

/* Returns what a datapath action 'a' that runs after a copy may do to the
 * packet's data, as the copy mode that stays safe; sets the modes of the
 * copies nested in 'a', which run before whatever 'later' says. */
static enum vtap_dpdk_copy_mode
action_writes(const struct nlattr *a, enum vtap_dpdk_copy_mode later)
{
    enum vtap_dpdk_copy_mode mode = VTAP_DPDK_ZERO_COPY;
    const struct nlattr *b;
    size_t left;

    enum ovs_action_attr type = nl_attr_type(a);

    switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_LB_OUTPUT:
    case OVS_ACTION_ATTR_VTAP_COPY:
    case OVS_ACTION_ATTR_TRUNC:
    case OVS_ACTION_ATTR_METER:
    case OVS_ACTION_ATTR_HASH:
    case OVS_ACTION_ATTR_CT_CLEAR:
    case OVS_ACTION_ATTR_DROP:
        return VTAP_DPDK_ZERO_COPY;

    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
    case OVS_ACTION_ATTR_PUSH_VLAN:
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_PUSH_MPLS:
    case OVS_ACTION_ATTR_POP_MPLS:
    case OVS_ACTION_ATTR_ADD_MPLS:
    case OVS_ACTION_ATTR_PUSH_ETH:
    case OVS_ACTION_ATTR_POP_ETH:
    case OVS_ACTION_ATTR_PUSH_NSH:
    case OVS_ACTION_ATTR_POP_NSH:
    case OVS_ACTION_ATTR_TUNNEL_PUSH:
        return VTAP_DPDK_HEADER_COPY;

    case OVS_ACTION_ATTR_SAMPLE:
        /* The nested actions run on the packet itself when the sample is
         * the last action: count them as if they did. */
        NL_NESTED_FOR_EACH (b, left, a) {
            if (nl_attr_type(b) == OVS_SAMPLE_ATTR_ACTIONS) {
                mode = max_mode(mode, set_modes__(nl_attr_get(b),
                                                  nl_attr_get_size(b),
                                                  later));
            }
        }
        return mode;

    case OVS_ACTION_ATTR_CLONE:
        return set_modes__(nl_attr_get(a), nl_attr_get_size(a), later);

    case OVS_ACTION_ATTR_CHECK_PKT_LEN:
        NL_NESTED_FOR_EACH (b, left, a) {
            if (nl_attr_type(b) == OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER
                || (nl_attr_type(b)
                    == OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL)) {
                mode = max_mode(mode, set_modes__(nl_attr_get(b),
                                                  nl_attr_get_size(b),
                                                  later));
            }
        }
        return mode;

    case OVS_ACTION_ATTR_USERSPACE:
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_CT:
    case OVS_ACTION_ATTR_TUNNEL_POP:
    case OVS_ACTION_ATTR_UNSPEC:
    case __OVS_ACTION_ATTR_MAX:
    default:
        return VTAP_DPDK_FULL_COPY;
    }
}

/* Sets the mode of every copy in 'actions', after which come actions that
 * need 'later'.  Returns the mode that a copy made before 'actions' needs
 * because of them. */
static enum vtap_dpdk_copy_mode
set_modes__(const struct nlattr *actions, size_t len,
            enum vtap_dpdk_copy_mode later)
{
    const struct nlattr *a;
    size_t n = 0, left, i;

    NL_ATTR_FOR_EACH_UNSAFE (a, left, actions, len) {
        n++;
    }
    if (!n) {
        return later;
    }

    /* 'after[i]': what the actions after the i'th one (and 'later') need,
     * computed from the end.  Nested copies are set on the way. */
    const struct nlattr **list = xmalloc(n * sizeof *list);
    enum vtap_dpdk_copy_mode *after = xmalloc(n * sizeof *after);

    i = 0;
    NL_ATTR_FOR_EACH_UNSAFE (a, left, actions, len) {
        list[i++] = a;
    }
    enum vtap_dpdk_copy_mode need = later;
    for (i = n; i-- > 0;) {
        after[i] = need;
        need = max_mode(need, action_writes(list[i], need));
    }
    for (i = 0; i < n; i++) {
        if (nl_attr_type(list[i]) == OVS_ACTION_ATTR_VTAP_COPY
            && nl_attr_get_size(list[i])
               == sizeof(struct ovs_action_vtap_copy)) {
            struct ovs_action_vtap_copy *vc;

            vc = CONST_CAST(void *, nl_attr_get(list[i]));
            if (vc->mode != VTAP_ODP_SEND_COPY) {
                vc->mode = after[i];
            }
        }
    }
    free(after);
    free(list);
    return need;
}

void
vtap_odp_set_copy_modes(struct ofpbuf *actions)
{
    set_modes__(actions->data, actions->size, VTAP_DPDK_ZERO_COPY);
}

/* Text form. */

void
vtap_odp_format_copy(struct ds *ds, const struct nlattr *a)
{
    const struct ovs_action_vtap_copy *vc;

    if (nl_attr_get_size(a) != sizeof *vc) {
        ds_put_format(ds, "vtap_copy(bad length %"PRIuSIZE")",
                      nl_attr_get_size(a));
        return;
    }
    vc = nl_attr_get(a);
    ds_put_format(ds, "vtap_copy(owner=%#"PRIx64",port=%"PRIu32",mode=%s",
                  get_32aligned_u64(&vc->owner), vc->port,
                  vtap_odp_copy_mode_to_string(vc->mode));
    if (vc->probability != UINT32_MAX) {
        ds_put_format(ds, ",probability=%"PRIu32, vc->probability);
    }
    if (vc->meter_id != UINT32_MAX) {
        ds_put_format(ds, ",meter=%"PRIu32, vc->meter_id);
    }
    if (vc->snaplen) {
        ds_put_format(ds, ",snaplen=%"PRIu32, vc->snaplen);
    }
    if (vc->vlan_tci) {
        ds_put_format(ds, ",vlan=%"PRIu16, vc->vlan_tci);
    }
    ds_put_char(ds, ')');
}

/* Parses an unsigned number of at most 'max' at '*s', advancing '*s'. */
static bool
parse_number(const char **s, uint64_t max, uint64_t *value)
{
    char *end;

    if (!isdigit((unsigned char) **s)) {
        return false;
    }
    errno = 0;
    unsigned long long int v = strtoull(*s, &end, 0);
    if (errno || v > max) {
        return false;
    }
    *value = v;
    *s = end;
    return true;
}

int
vtap_odp_parse_copy(const char *s, struct ofpbuf *actions)
{
    const char *p = s + strlen("vtap_copy(");
    uint64_t owner = 0, port = UINT64_MAX, probability = UINT32_MAX;
    uint64_t meter = UINT32_MAX, snaplen = 0, vlan = 0;
    int mode = -1;

    while (*p != ')') {
        uint64_t *value = NULL, max = UINT32_MAX;
        size_t n;

        if (!strncmp(p, "owner=", (n = 6))) {
            value = &owner;
            max = UINT64_MAX;
        } else if (!strncmp(p, "port=", (n = 5))) {
            value = &port;
        } else if (!strncmp(p, "probability=", (n = 12))) {
            value = &probability;
        } else if (!strncmp(p, "meter=", (n = 6))) {
            value = &meter;
        } else if (!strncmp(p, "snaplen=", (n = 8))) {
            value = &snaplen;
        } else if (!strncmp(p, "vlan=", (n = 5))) {
            value = &vlan;
            max = UINT16_MAX;
        } else if (!strncmp(p, "mode=", (n = 5))) {
            p += n;
            mode = -1;
            for (int m = 0; m < VTAP_ODP_N_MODES; m++) {
                const char *name = vtap_odp_copy_mode_to_string(m);

                if (!strncmp(p, name, strlen(name))
                    && (p[strlen(name)] == ',' || p[strlen(name)] == ')')) {
                    mode = m;
                    p += strlen(name);
                    break;
                }
            }
            if (mode < 0) {
                return -EINVAL;
            }
        } else {
            return -EINVAL;
        }
        if (value) {
            p += n;
            if (!parse_number(&p, max, value)) {
                return -EINVAL;
            }
        }
        if (*p == ',') {
            p++;
        } else if (*p != ')') {
            return -EINVAL;
        }
    }
    if (port == UINT64_MAX || mode < 0
        || (mode == VTAP_ODP_SEND_COPY && meter != UINT32_MAX)) {
        return -EINVAL;
    }

    size_t ofs = actions->size;
    vtap_odp_put_copy(actions, owner, u32_to_odp(port), probability, meter,
                      snaplen, vlan);
    struct nlattr *attr = ofpbuf_at_assert(actions, ofs, NLA_HDRLEN);
    struct ovs_action_vtap_copy *vc = CONST_CAST(void *, nl_attr_get(attr));
    vc->mode = mode;
    return p + 1 - s;
}
