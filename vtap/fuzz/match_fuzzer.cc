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

/* libFuzzer target: the match parser, through the C ABI that OVS uses.
 *
 * The input is a match string (up to its first NUL).  Whatever it is,
 * vtap_match_parse() must return without a crash or a sanitizer report,
 * with either a non-empty error or a match.  A match that parses must be
 * self-consistent (key & mask == key, padding zero) and must survive the
 * round trip that ovs-vsctl and Tap.status rely on: its canonical form
 * parses back to the identical key and mask, and formats again to the
 * identical string. */

#include "vtap/capi/vtap.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "vtap/fuzz/fuzz_util.h"

namespace {

bool
key_within_mask(const vtap_flow_key &key, const vtap_flow_key &mask)
{
    const uint8_t *k = reinterpret_cast<const uint8_t *>(&key);
    const uint8_t *m = reinterpret_cast<const uint8_t *>(&mask);
    for (size_t i = 0; i < sizeof key; i++) {
        if (k[i] & ~m[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string input(reinterpret_cast<const char *>(data), size);
    const char *s = input.c_str();  /* Up to the first NUL, as C sees it. */

    vtap_match match;
    char *error = vtap_match_parse(s, &match);
    if (error) {
        FUZZ_CHECK(error[0], "empty error message for \"%s\"", s);
        free(error);
        return 0;
    }

    FUZZ_CHECK(key_within_mask(match.key, match.mask),
               "\"%s\": key has bits outside its mask", s);
    static const uint8_t zero[3] = {0, 0, 0};
    FUZZ_CHECK(!memcmp(match.key.pad, zero, 3)
               && !memcmp(match.mask.pad, zero, 3),
               "\"%s\": nonzero padding", s);

    char *formatted = vtap_match_format(&match);
    FUZZ_CHECK(formatted, "\"%s\": format returned NULL", s);

    vtap_match again;
    error = vtap_match_parse(formatted, &again);
    FUZZ_CHECK(!error, "\"%s\" formats as \"%s\", which does not parse: %s",
               s, formatted, error);
    FUZZ_CHECK(!memcmp(&match, &again, sizeof match),
               "\"%s\" formats as \"%s\", which parses to another match",
               s, formatted);

    char *reformatted = vtap_match_format(&again);
    FUZZ_CHECK(reformatted && !strcmp(formatted, reformatted),
               "\"%s\" formats as \"%s\", then as \"%s\"", s, formatted,
               reformatted ? reformatted : "(null)");

    free(formatted);
    free(reformatted);
    return 0;
}
