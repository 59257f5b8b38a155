"""A Sieve++ policy's cost per message in instructions and simulated cache misses (callgrind).

Run by hand (not a test): ``.venv/bin/python benchmarks/sieve_callgrind.py [--messages N]
[--interleave-kb K]``; needs valgrind (Debian ``valgrind``). CPU time on a shared machine
moves by more than the changes being compared; valgrind's counts do not. The script
re-runs itself under ``valgrind --tool=callgrind --cache-sim=yes`` (32 KB L1s, an 8 MB
last-level cache), where it runs benchmarks/sieve_in_daemon.py's plain and sieve loops
inside two named C frames (benchmarks/native_probe.py), and prints the sieve loop's
inclusive events minus the plain loop's, per message: Ir (instructions), D1/LL misses
and callgrind's cycle estimate CEst = Ir + 10 x L1 misses + 100 x LL misses.
``--interleave-kb`` touches K KB between messages in both loops (the daemon's cold
caches, sieve_in_daemon.cache_thrasher). One run is enough: the counts are exact, but
take a minute or two (valgrind runs Python ~50x slower, start-up included).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # modules/ and benchmarks/

CACHES = ["--D1=32768,8,64", "--I1=32768,8,64", "--LL=8388608,16,64"]
L1_EVENTS, LL_EVENTS = ("I1mr", "D1mr", "D1mw"), ("ILmr", "DLmr", "DLmw")


def inner(messages: int, interleave_kb: int) -> None:
    """Under valgrind: both loops, each inside its own C frame."""
    from benchmarks.native_probe import load
    from benchmarks.sieve_cost import make_messages
    from benchmarks.sieve_in_daemon import cache_thrasher, make_app, run_messages

    probe, raw, between = load(), make_messages(), cache_thrasher(interleave_kb)
    with tempfile.TemporaryDirectory(prefix="sieve-callgrind-") as tmp:
        plain, sieve = make_app(Path(tmp) / "plain", False), make_app(Path(tmp) / "sieve", True)
        try:
            for app in (plain, sieve):
                run_messages(app, raw, 100, 0, {}, between)
            probe.run_a(lambda: run_messages(plain, raw, messages, 0, {}, between))
            probe.run_b(lambda: run_messages(sieve, raw, messages, 0, {}, between))
        finally:
            plain.stop()
            sieve.stop()


def per_message(annotated: str, messages: int) -> dict[str, float]:
    """(sieve frame - plain frame) / messages for every event callgrind_annotate shows."""
    events = re.search(r"Events shown:\s+(.*)", annotated).group(1).split()
    frames: dict[str, list[int]] = {}
    for line in annotated.splitlines():
        # "  1,234 ( 0.5%)  .  ...  /path/_native_probe_x.c:probe_run_a [/path/x.so]" ("." is 0)
        found = re.match(r"\s*(.*?)\s+\S*native_probe\S*\.c:probe_run_([ab])(\s+\[.*\])?\s*$", line)
        if found and found.group(2) not in frames:
            numbers = re.sub(r"\([^)]*\)", " ", found.group(1)).split()
            frames[found.group(2)] = [0 if n == "." else int(n.replace(",", "")) for n in numbers]
    if set(frames) != {"a", "b"}:
        raise RuntimeError("callgrind_annotate did not show both probe frames")
    out = {e: (frames["b"][i] - frames["a"][i]) / messages for i, e in enumerate(events)}
    out["CEst"] = (out["Ir"] + 10 * sum(out.get(e, 0.0) for e in L1_EVENTS)
                   + 100 * sum(out.get(e, 0.0) for e in LL_EVENTS))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--interleave-kb", type=int, default=0, metavar="K")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.messages, args.interleave_kb)
        return
    from benchmarks.native_probe import load
    load()  # built outside valgrind (the compiler under valgrind would take minutes)
    with tempfile.TemporaryDirectory(prefix="sieve-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", *CACHES,
                   f"--callgrind-out-file={out}", sys.executable, str(Path(__file__).resolve()),
                   "--inner", "--messages", str(args.messages), "--interleave-kb", str(args.interleave_kb)]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0 or not out.exists():
            raise SystemExit(f"valgrind failed ({run.returncode}): {run.stderr[-800:]}")
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(out)],
                                   capture_output=True, text=True, check=True).stdout
    got = per_message(annotated, args.messages)
    cold = f", {args.interleave_kb} KB touched between messages" if args.interleave_kb else ""
    print(f"50-rule Sieve++ policy, daemon's hook path (callgrind{cold}), per message: "
          + " ".join(f"{event}={value:,.0f}" for event, value in got.items()))


if __name__ == "__main__":
    main()
