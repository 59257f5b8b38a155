"""The harness pieces: peers.py (start/stop/count the systems), sink.py (smtp-sink counting
at the receiver), probe.py (latency probe, idle sessions), relay.py / idle.py / fanout.py
(one run each), slow_fsync.py (the slowdisk shim), profile.py (py-spy), procstat.py
(/proc metrics), scenarios.py + extra_scenarios.py (loads and variants), report.py +
report_tables.py (JSON/Markdown/PNG). Only benchmarks/__main__.py and the tests use them."""
