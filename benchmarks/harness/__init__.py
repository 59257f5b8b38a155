"""The harness pieces: peers.py (start/stop/count the systems), procstat.py (/proc
metrics), scenarios.py (loads and how they are driven), report.py (JSON/Markdown).
Only the benchmarks entry point (benchmarks/__main__.py) and the smoke test use them."""
