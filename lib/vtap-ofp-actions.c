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

#include "vtap-ofp-actions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/ofp-parse.h"
#include "util.h"

char *
vtap_ofpact_parse_tap(char *arg, uint32_t *tap_id)
{
    char *key, *value;
    bool have_id = false;

    while (ofputil_parse_key_value(&arg, &key, &value)) {
        if (!strcmp(key, "id")) {
            char *end;
            unsigned long long int id;

            if (have_id) {
                return xstrdup("tap: id given twice");
            }
            errno = 0;
            id = strtoull(value, &end, 0);
            if (!value[0] || *end || errno || value[0] == '-'
                || id < 1 || id > UINT32_MAX) {
                return xasprintf("tap: id=%s: not a tap id "
                                 "(1 to 4294967295)", value);
            }
            *tap_id = id;
            have_id = true;
        } else {
            return xasprintf("tap: unknown argument %s (tap takes id=N)",
                             key);
        }
    }
    return have_id ? NULL : xstrdup("tap: id=N is required");
}
