"""``python -m benchmarks run [scenario...] [--quick] [--peers a,b] [--out DIR] [--repeat N]``.

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
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.harness import profile, report  # noqa: E402
from benchmarks.harness.peers import CODE_ROOT, ECELERITY_SETTINGS, PEERS  # noqa: E402
from benchmarks.harness.scenarios import FULL_LOADS, QUICK_LOADS, SCENARIOS, Load, run_scenario  # noqa: E402


def progress(text: str) -> None:
    if text.endswith("\n"):
        sys.stderr.write("\r\x1b[K" + text)
    elif sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K" + text)
    sys.stderr.flush()


def describe(repo: Path, *, head_only: bool = False) -> str:
    """The commit (and whether the working tree differs from it), for the results."""
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "?"
    if head_only:
        return head
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def snapshot(target: Path) -> Path:
    """HEAD's files in ``target`` (read-only git use: git archive), plus the built speedups."""
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    for built in (REPO / "ecelerity" / "_speedups").glob("*.so"):
        shutil.copy2(built, target / "ecelerity" / "_speedups" / built.name)
    return target


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    # SIGTERM (and SIGINT, which a shell ignores in background jobs) must still run the
    # finally blocks that stop every peer and sink
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
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
    run.add_argument("--load", action="append", metavar="BYTES:SESSIONS:MESSAGES",
                     help="replace the accept/relay loads (repeatable), e.g. 102400:20:2000")
    run.add_argument("--profile", action="store_true",
                     help="py-spy the ecelerity daemon during relay/policy loads (OUT/profiles/)")
    run.add_argument("--repeat", type=int, default=3,
                     help="policy: interleaved rounds of plain / sieve / lua (median + spread)")
    run.add_argument("--workers", type=int, default=1,
                     help="ecelerity worker_processes (2 uses both cores, like Postfix does)")
    code = run.add_mutually_exclusive_group()
    code.add_argument("--snapshot", action="store_true",
                      help="run the committed HEAD (git archive + this checkout's built speedups), "
                           "not the working tree other people may be editing")
    code.add_argument("--tree", help="run the ecelerity source tree in this directory")
    args = parser.parse_args(argv)

    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers + args.scenarios if p not in PEERS and p not in SCENARIOS]
    if unknown:
        parser.error(f"unknown peer or scenario: {', '.join(unknown)}")
    if args.workers > 1:
        ECELERITY_SETTINGS["text"] = f"worker_processes = {args.workers}\n"
    workdir = Path(tempfile.mkdtemp(prefix="ecbench-"))
    failed = False
    try:
        code = "working tree " + describe(REPO)
        if args.snapshot:
            CODE_ROOT["path"] = snapshot(workdir / "tree")
            code = "HEAD " + describe(REPO, head_only=True)
        elif args.tree:
            CODE_ROOT["path"] = Path(args.tree).resolve()
            code = f"tree {CODE_ROOT['path']}"
        progress(f"running: {code}\n")
        for scenario in args.scenarios:
            loads = [Load(*map(int, spec.split(":"))) for spec in args.load] if args.load else \
                (QUICK_LOADS if args.quick else FULL_LOADS)
            rows = run_scenario(scenario, peers, loads,
                                workdir, progress, quick=args.quick, repeat=args.repeat,
                                profile_dir=Path(args.out) / "profiles" if args.profile else None)
            written = report.write(scenario, rows, Path(args.out), quick=args.quick, code=code)
            print(written["text"])
            print(f"results: {written['json']} {written['markdown']}")
            for row in rows:
                if row.get("profile") and Path(row["profile"]).exists():
                    title = f"{scenario} {row['peer']} {row['size'] // 1024} KB x {row['sessions']}"
                    hooks = profile.hook_samples(Path(row["profile"])) if scenario == "policy" else None
                    text = profile.markdown(title, profile.summarize(Path(row["profile"])), hooks)
                    Path(row["profile"]).with_suffix(".md").write_text(text)
                    print(text)
            failed |= not rows or any("error" in r or r["lost"] or r["smtp_source_exit"] != 0
                                    for r in rows)
    finally:
        if args.keep:
            print(f"work directories kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
