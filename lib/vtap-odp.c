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
#include "odp-util.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "unaligned.h"
#include "util.h"
#include "vtap/capi/vtap_mbuf.h"

BUILD_ASSERT_DECL(VTAP_ODP_ZERO_COPY == (int) VTAP_MBUF_ZERO_COPY);
BUILD_ASSERT_DECL(VTAP_ODP_HEADER_COPY == (int) VTAP_MBUF_HEADER_COPY);
BUILD_ASSERT_DECL(VTAP_ODP_FULL_COPY == (int) VTAP_MBUF_FULL_COPY);

static bool
is_dpdk_mode(int mode)
{
    return mode <= VTAP_ODP_FULL_COPY;
}

size_t
vtap_odp_put_copy(struct ofpbuf *actions,
                  const struct ovs_action_vtap_copy *vc_,
                  enum vtap_odp_mode mode)
{
    size_t offset = actions->size;
    struct ovs_action_vtap_copy *vc;

    if (mode == VTAP_ODP_CLONE) {
        nl_msg_start_nested(actions, OVS_ACTION_ATTR_VTAP_COPY);
        vc = ofpbuf_put_uninit(actions, sizeof *vc);
    } else {
        vc = nl_msg_put_unspec_uninit(actions, OVS_ACTION_ATTR_VTAP_COPY,
                                      sizeof *vc);
    }
    *vc = *vc_;
    vc->mode = is_dpdk_mode(mode) ? VTAP_ODP_FULL_COPY : mode;
    return mode == VTAP_ODP_CLONE ? offset : SIZE_MAX;
}

void
vtap_odp_end_clone(struct ofpbuf *actions, size_t offset)
{
    nl_msg_end_nested(actions, offset);
}

const struct ovs_action_vtap_copy *
vtap_odp_get_copy(const struct nlattr *a, const struct nlattr **actions,
                  size_t *actions_len)
{
    const struct ovs_action_vtap_copy *vc = nl_attr_get(a);
    size_t size = nl_attr_get_size(a);

    if (size < sizeof *vc || vc->mode >= VTAP_ODP_N_MODES
        || (vc->mode != VTAP_ODP_CLONE && size != sizeof *vc)) {
        return NULL;
    }
    if (actions) {
        *actions = (const struct nlattr *) (vc + 1);
        *actions_len = size - sizeof *vc;
    }
    return vc;
}

/* Copy modes. */

const char *
vtap_odp_mode_to_string(int mode)
{
    switch (mode) {
    case VTAP_ODP_ZERO_COPY: return "zero";
    case VTAP_ODP_HEADER_COPY: return "header";
    case VTAP_ODP_FULL_COPY: return "full";
    case VTAP_ODP_SEND: return "send";
    case VTAP_ODP_CLONE: return "clone";
    }
    return "?";
}

static enum vtap_odp_mode
max_mode(enum vtap_odp_mode a, enum vtap_odp_mode b)
{
    return a > b ? a : b;
}

static enum vtap_odp_mode set_modes__(const struct nlattr *actions,
                                            size_t len,
                                            enum vtap_odp_mode later);

/* Returns what a datapath action 'a' that runs after a copy may do to the
 * packet's data, as the copy mode that stays safe; sets the modes of the
 * copies nested in 'a', which run before whatever 'later' says. */
static enum vtap_odp_mode
action_writes(const struct nlattr *a, enum vtap_odp_mode later)
{
    enum vtap_odp_mode mode = VTAP_ODP_ZERO_COPY;
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
        return VTAP_ODP_ZERO_COPY;

    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        /* An IPv6 neighbor discovery option (SLL, TLL) may lie anywhere
         * among the options, past what a header copy copies. */
        b = nl_attr_get(a);
        if (nl_attr_get_size(a) >= NLA_HDRLEN
            && (nl_attr_type(b) == OVS_KEY_ATTR_ND
                || nl_attr_type(b) == OVS_KEY_ATTR_ND_EXTENSIONS)) {
            return VTAP_ODP_FULL_COPY;
        }
        return VTAP_ODP_HEADER_COPY;

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
        return VTAP_ODP_HEADER_COPY;

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
        return VTAP_ODP_FULL_COPY;
    }
}

/* Sets the mode of every copy in 'actions', after which come actions that
 * need 'later'.  Returns the mode that a copy made before 'actions' needs
 * because of them. */
static enum vtap_odp_mode
set_modes__(const struct nlattr *actions, size_t len,
            enum vtap_odp_mode later)
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
    enum vtap_odp_mode *after = xmalloc(n * sizeof *after);

    i = 0;
    NL_ATTR_FOR_EACH_UNSAFE (a, left, actions, len) {
        list[i++] = a;
    }
    enum vtap_odp_mode need = later;
    for (i = n; i-- > 0;) {
        after[i] = need;
        need = max_mode(need, action_writes(list[i], need));
    }
    for (i = 0; i < n; i++) {
        const struct ovs_action_vtap_copy *vc;

        if (nl_attr_type(list[i]) == OVS_ACTION_ATTR_VTAP_COPY
            && (vc = vtap_odp_get_copy(list[i], NULL, NULL))
            && is_dpdk_mode(vc->mode)) {
            struct ovs_action_vtap_copy *w = CONST_CAST(void *, vc);

            w->mode = after[i];
            if (w->flags & VTAP_ODP_F_SINGLE_SEG
                && (w->mode == VTAP_ODP_HEADER_COPY
                    || (w->mode == VTAP_ODP_ZERO_COPY && w->vlan_tci))) {
                /* Both make a chain: a header mbuf before the shared
                 * data. */
                w->mode = VTAP_ODP_FULL_COPY;
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
    set_modes__(actions->data, actions->size, VTAP_ODP_ZERO_COPY);
}

/* Text form. */

void
vtap_odp_format_copy(struct ds *ds, const struct nlattr *a)
{
    const struct ovs_action_vtap_copy *vc;
    const struct nlattr *actions;
    size_t actions_len;

    vc = vtap_odp_get_copy(a, &actions, &actions_len);
    if (!vc) {
        ds_put_format(ds, "vtap_copy(bad length %"PRIuSIZE")",
                      nl_attr_get_size(a));
        return;
    }
    ds_put_format(ds, "vtap_copy(owner=%#"PRIx64",port=%"PRIu32",mode=%s",
                  get_32aligned_u64(&vc->owner), vc->port,
                  vtap_odp_mode_to_string(vc->mode));
    if (vc->probability != UINT32_MAX) {
        ds_put_format(ds, ",probability=%"PRIu32, vc->probability);
    }
    if (vc->max_rate) {
        ds_put_format(ds, ",max_rate=%"PRIu32, vc->max_rate);
    }
    if (vc->snaplen) {
        ds_put_format(ds, ",snaplen=%"PRIu32, vc->snaplen);
    }
    if (vc->vlan_tci) {
        ds_put_format(ds, ",vlan=%"PRIu16, vc->vlan_tci);
    }
    if (vc->flags & VTAP_ODP_F_SINGLE_SEG) {
        ds_put_cstr(ds, ",single_seg");
    }
    if (vc->mode == VTAP_ODP_CLONE) {
        ds_put_cstr(ds, ",actions(");
        if (actions_len) {
            format_odp_actions(ds, actions, actions_len, NULL);
        }
        ds_put_char(ds, ')');
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

/* Returns the length of the text in parentheses that starts at 's' (just
 * after the opening one), or 0 if they do not close. */
static size_t
parenthesized_len(const char *s)
{
    int depth = 1;

    for (const char *p = s; *p; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')' && !--depth) {
            return p - s;
        }
    }
    return 0;
}

int
vtap_odp_parse_copy(const char *s, struct ofpbuf *actions)
{
    const char *p = s + strlen("vtap_copy(");
    uint64_t owner = 0, port = UINT64_MAX, probability = UINT32_MAX;
    uint64_t max_rate = 0, snaplen = 0, vlan = 0;
    const char *nested = NULL;
    size_t nested_len = 0;
    uint8_t flags = 0;
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
        } else if (!strncmp(p, "max_rate=", (n = 9))) {
            value = &max_rate;
        } else if (!strncmp(p, "snaplen=", (n = 8))) {
            value = &snaplen;
        } else if (!strncmp(p, "vlan=", (n = 5))) {
            value = &vlan;
            max = UINT16_MAX;
        } else if (!strncmp(p, "single_seg", (n = 10))
                   && (p[n] == ',' || p[n] == ')')) {
            flags |= VTAP_ODP_F_SINGLE_SEG;
            p += n;
        } else if (!strncmp(p, "actions(", (n = 8))) {
            nested = p + n;
            nested_len = parenthesized_len(nested);
            if (!nested_len && *nested != ')') {
                return -EINVAL;
            }
            p = nested + nested_len + 1;
        } else if (!strncmp(p, "mode=", (n = 5))) {
            p += n;
            mode = -1;
            for (int m = 0; m < VTAP_ODP_N_MODES; m++) {
                const char *name = vtap_odp_mode_to_string(m);

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
        || (nested != NULL) != (mode == VTAP_ODP_CLONE)) {
        return -EINVAL;
    }

    struct ovs_action_vtap_copy vc = {
        .port = port,
        .probability = probability,
        .max_rate = max_rate,
        .snaplen = snaplen,
        .vlan_tci = vlan,
        .flags = flags,
    };
    put_32aligned_u64(&vc.owner, owner);

    size_t ofs = actions->size;
    size_t clone = vtap_odp_put_copy(actions, &vc, mode);
    if (mode == VTAP_ODP_CLONE) {
        char *text = xmemdup0(nested, nested_len);
        int error = odp_actions_from_string(text, NULL, actions);

        free(text);
        if (error) {
            actions->size = ofs;
            return -EINVAL;
        }
        vtap_odp_end_clone(actions, clone);
    } else {
        struct nlattr *attr = ofpbuf_at_assert(actions, ofs, NLA_HDRLEN);
        struct ovs_action_vtap_copy *w = CONST_CAST(void *, nl_attr_get(attr));

        w->mode = mode;
    }
    return p + 1 - s;
}
