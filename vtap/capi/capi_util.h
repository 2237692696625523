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

#ifndef VTAP_CAPI_CAPI_UTIL_H
#define VTAP_CAPI_CAPI_UTIL_H 1

/* Helpers shared by the C ABI's implementation files: strings handed to C
 * callers, and the catch-all that keeps C++ exceptions out of C. */

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace vtap {
namespace capi {

/* Returns a malloc()'d copy of 's', as the C caller frees it with free(), or
 * NULL if memory ran out. */
inline char *
malloc_string(const std::string &s)
{
    char *copy = static_cast<char *>(malloc(s.size() + 1));
    if (copy) {
        memcpy(copy, s.c_str(), s.size() + 1);
    }
    return copy;
}

/* Returns an error for an exception caught at the ABI boundary.  Copying a
 * literal with malloc() may still fail, and then the caller gets NULL, but
 * that is the best the ABI allows. */
inline char *
error_for_exception(const char *prefix)
{
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return malloc_string(std::string(prefix) + "out of memory");
    } catch (const std::exception &e) {
        return malloc_string(std::string(prefix) + "internal error: "
                             + e.what());
    } catch (...) {
        return malloc_string(std::string(prefix) + "internal error");
    }
}

/* Runs 'body' and returns its result, or 'fallback' if it throws: for the
 * entry points whose only way to report a failure is a null, a zero or
 * false.  Every extern "C" function goes through this or catches by itself
 * (to turn the exception into an error string), so that no exception ever
 * reaches C, whatever a later change makes 'body' throw. */
template <class T, class F>
T
call_or(T fallback, F &&body) noexcept
{
    try {
        return body();
    } catch (...) {
        return fallback;
    }
}

/* The same for entry points that return nothing. */
template <class F>
void
call_void(F &&body) noexcept
{
    try {
        body();
    } catch (...) {
    }
}

}  // namespace capi
}  // namespace vtap
#endif /* vtap/capi/capi_util.h */
