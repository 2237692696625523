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

#ifndef VTAP_FUZZ_FUZZ_UTIL_H
#define VTAP_FUZZ_FUZZ_UTIL_H 1

/* What the fuzz targets share: how a broken invariant is reported.
 *
 * abort() rather than an exception or a return value, because libFuzzer
 * treats a crash as a finding: it stops, prints the message and saves the
 * input as crash-<sha1>, which then reproduces with 'TARGET crash-<sha1>'. */

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(COND, ...)                                           \
    do {                                                                \
        if (!(COND)) {                                                  \
            fprintf(stderr, "%s:%d: invariant broken: %s\n",            \
                    __FILE__, __LINE__, #COND);                         \
            fprintf(stderr, __VA_ARGS__);                               \
            fputc('\n', stderr);                                        \
            abort();                                                    \
        }                                                               \
    } while (0)

#endif /* vtap/fuzz/fuzz_util.h */
