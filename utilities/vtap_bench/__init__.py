# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The modules of ovs-vtap-bench, each of which reads on its own.

- common: names, addresses, running commands, small helpers every part uses;
- topology: the sandboxed Open vSwitch and its namespaces and veths, on
  kernel (netdev-linux) ports or on DPDK ports;
- traffic: trafgen's load, crafted frames and pcaps (scapy), captures;
- modes: the copy mechanisms compared, and the peers at scale;
- measure: one measured window, the interleaved matrix, scale, latency;
- replay: the byte-for-byte check of the copies of replayed traffic;
- report: the Markdown report, its headline table of targets, the checks;
- plot: the figure;
- cli: the command line, which ties the parts together.
"""
