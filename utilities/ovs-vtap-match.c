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

/* ovs-vtap-match: checks tap matches with the parser that ovs-vsctl add-tap
 * and ovs-vswitchd use (vtap_match_parse()), for programs that are not
 * written in C, such as ovs-vtap-fleetctl. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vtap/capi/vtap.h"

static void
usage(void)
{
    printf("%s: checks OVS-vTAP tap matches\n"
           "usage: %s MATCH...\n"
           "Prints the canonical form of each MATCH, one per line, or the\n"
           "first error on stderr (exit status 1).\n",
           "ovs-vtap-match", "ovs-vtap-match");
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "ovs-vtap-match: at least one MATCH is required "
                "(use --help for help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("ovs-vtap-match (OVS-vTAP) %s\n", vtap_version());
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        struct vtap_match match;
        char *error = vtap_match_parse(argv[i], &match);

        if (error) {
            fprintf(stderr, "%s\n", error);
            free(error);
            return 1;
        }
        char *s = vtap_match_format(&match);
        printf("%s\n", s);
        free(s);
    }
    return 0;
}
