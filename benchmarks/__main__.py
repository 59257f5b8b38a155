"""``python -m benchmarks run [scenario...] [--quick] [--peers a,b] [--out DIR]``.

Runs the named scenarios (default: all written ones) against ecelerity and its peers in
the same run, prints progress, and writes JSON + Markdown under benchmarks/results/
(or --out). --quick is a tiny load (seconds) for checking the harness itself. Exit
status 0 when every run completed and no acknowledged message went missing; numbers
never decide the exit status. Must never run as part of the test suite's pass/fail
(the smoke test runs it on a tiny load only to see that it works).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.harness import report  # noqa: E402
from benchmarks.harness.peers import PEERS  # noqa: E402
from benchmarks.harness.scenarios import FULL_LOADS, QUICK_LOADS, SCENARIOS, run_scenario  # noqa: E402


def progress(text: str) -> None:
    if text.endswith("\n"):
        sys.stderr.write("\r\x1b[K" + text)
    elif sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K" + text)
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run scenarios and write results")
    run.add_argument("scenarios", nargs="*", default=list(SCENARIOS), metavar="scenario",
                     help=f"one of: {', '.join(SCENARIOS)} (default: all)")
    run.add_argument("--quick", action="store_true", help="tiny load, to check the harness")
    run.add_argument("--peers", default=",".join(PEERS),
                     help=f"comma-separated, from: {', '.join(PEERS)}")
    run.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="results directory")
    run.add_argument("--keep", action="store_true", help="keep the peers' work directories")
    args = parser.parse_args(argv)

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers + args.scenarios if p not in PEERS and p not in SCENARIOS]
    if unknown:
        parser.error(f"unknown peer or scenario: {', '.join(unknown)}")
    workdir = Path(tempfile.mkdtemp(prefix="ecbench-"))
    failed = False
    try:
        for scenario in args.scenarios:
            rows = run_scenario(scenario, peers, QUICK_LOADS if args.quick else FULL_LOADS,
                                workdir, progress)
            written = report.write(scenario, rows, Path(args.out), quick=args.quick)
            print(written["text"])
            print(f"results: {written['json']} {written['markdown']}")
            failed |= any("error" in r or r["lost"] or r["smtp_source_exit"] != 0 for r in rows)
    finally:
        if args.keep:
            print(f"work directories kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
