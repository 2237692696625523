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

#ifndef UTILITIES_OVS_VSCTL_TAP_H
#define UTILITIES_OVS_VSCTL_TAP_H 1

/* ovs-vsctl's Tap table commands: add-tap, del-tap and list-taps. */

/* Registers the Tap commands with the db-ctl-base command table.  Called
 * from ovs-vsctl's main() next to its own ctl_register_commands(). */
void vsctl_tap_register_commands(void);

#endif /* utilities/ovs-vsctl-tap.h */
