# Copyright (c) 2026 The OVS-vTAP authors.
# Licensed under the Apache License, Version 2.0.
"""The modules of ovs-vtap-exporter, the Prometheus exporter of a host's
taps, each with one job:

- families: what the metrics are: plain figures in, the Prometheus client
  library's metric families out (no daemon, no I/O; unit-tested);
- ovsdb: the Tap rows, their bridges and output ports, followed through
  the OVS Python IDL (only the columns the metrics need);
- unixctl: a unixctl client that gives up after a timeout;
- vswitchd: the figures of ovs-vswitchd that the rows lack (coverage
  counters, the DPDK copy pool, its start time);
- ebpf: the run time of the eBPF TC programs (kernel.bpf_stats_enabled);
- agent: what ovs-vtap-agent tells of its connections;
- collector: one scrape: the sources above, read, into the families;
- webconfig: TLS and basic authentication settings (the exporter-toolkit
  web configuration file that Prometheus' own exporters read);
- httpd: the HTTP(S) server: GET on the metrics path only, bounded
  requests, timeouts, a cap on connections;
- cli: the daemon: options, OVS daemon conventions, the main loop.
"""
