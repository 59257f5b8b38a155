"""Benchmark harness (issue 9): ecelerity against its peers on this machine, same run.

Who calls it: people, through ``python -m benchmarks run [scenario...] [--quick]``, and the
smoke test tests/unit/benchmarks/test_harness_smoke.py (a tiny load). It must never be
part of the test suite's pass/fail on numbers: it measures and reports, nothing more.
Results go to benchmarks/results/ (JSON + Markdown). The loose scripts next to this
package (accept_quick.py, spool_store.py, ...) are older single-purpose micro-benchmarks.
"""
