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

/* "ovstest test-vtap-odp set-modes": reads datapath actions, one list per
 * line, and prints them back after vtap_odp_set_copy_modes(), so that
 * tests can check the copy mode it gives each vtap_copy() action. */

#include <config.h>
#undef NDEBUG

#include <stdio.h>
#include <string.h>

#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "ovstest.h"
#include "util.h"
#include "vtap-odp.h"

static void
test_vtap_odp_main(int argc, char *argv[])
{
    struct ds in = DS_EMPTY_INITIALIZER;

    if (argc != 2 || strcmp(argv[1], "set-modes")) {
        ovs_fatal(0, "usage: %s set-modes < ACTIONS", argv[0]);
    }
    while (!ds_get_test_line(&in, stdin)) {
        struct ofpbuf actions;
        struct ds out = DS_EMPTY_INITIALIZER;

        ofpbuf_init(&actions, 0);
        if (odp_actions_from_string(ds_cstr(&in), NULL, &actions)) {
            printf("error: %s\n", ds_cstr(&in));
        } else {
            vtap_odp_set_copy_modes(&actions);
            format_odp_actions(&out, actions.data, actions.size, NULL);
            puts(ds_cstr(&out));
        }
        ds_destroy(&out);
        ofpbuf_uninit(&actions);
    }
    ds_destroy(&in);
}

OVSTEST_REGISTER("test-vtap-odp", test_vtap_odp_main);
