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

#ifndef VTAP_OFP_ACTIONS_H
#define VTAP_OFP_ACTIONS_H 1

/* The text form of OVS-vTAP's "tap" OpenFlow action, for ofp-actions.c. */

#include <stdint.h>

#include "compiler.h"

/* Parses 'arg', the argument of "tap(...)": "id=N" with N in
 * 1..4294967295.  Stores N in '*tap_id' and returns NULL, or returns a
 * malloc()'d error message. */
char *vtap_ofpact_parse_tap(char *arg, uint32_t *tap_id)
    OVS_WARN_UNUSED_RESULT;

#endif /* lib/vtap-ofp-actions.h */
