"""Allocations and bytes a Sieve++ policy costs per message on the daemon's hook path.

Run by hand (not a test): ``.venv/bin/python benchmarks/sieve_allocs.py [--messages N]``;
``ECELERITY_PURE_PYTHON=1`` for the pure-Python speedups. The same loops as
benchmarks/sieve_in_daemon.py (a real App with and without the sieve module, the 50-rule
script), with Python's object and mem allocators wrapped by counters
(benchmarks/native_probe.py): the figure is the difference between the two loops per
message. Unlike CPU time it does not move with the machine's load, and fewer, smaller
allocations are less memory touched per message (the cold-cache cost in the daemon).
Never touches the network or a spool.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # modules/ and benchmarks/

from benchmarks.native_probe import load  # noqa: E402
from benchmarks.sieve_cost import make_messages  # noqa: E402
from benchmarks.sieve_in_daemon import make_app, run_messages  # noqa: E402


def measure(messages: int = 2000, script: str | None = None) -> dict[str, float]:
    """Allocations and bytes per message: the plain loop, the sieve loop, their difference."""
    probe = load()
    raw = make_messages()
    with tempfile.TemporaryDirectory(prefix="sieve-allocs-") as tmp:
        plain = make_app(Path(tmp) / "plain", False)
        sieve = make_app(Path(tmp) / "sieve", True, script=script)
        try:
            for app in (plain, sieve):
                run_messages(app, raw, 200, 0, {})  # warm up: compile, caches, free lists
            probe.install()
            got: dict[str, tuple[float, float]] = {}
            for label, app in (("plain", plain), ("sieve", sieve)):
                before = probe.counts()
                run_messages(app, raw, messages, 0, {})
                after = probe.counts()
                got[label] = ((after[0] - before[0]) / messages, (after[1] - before[1]) / messages)
        finally:
            plain.stop()
            sieve.stop()
    return {"plain_allocs": got["plain"][0], "plain_bytes": got["plain"][1],
            "sieve_allocs": got["sieve"][0], "sieve_bytes": got["sieve"][1],
            "allocs": got["sieve"][0] - got["plain"][0], "bytes": got["sieve"][1] - got["plain"][1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    got = measure(args.messages)
    mode = "pure" if os.environ.get("ECELERITY_PURE_PYTHON") == "1" else "compiled speedups"
    print(f"50-rule Sieve++ policy, daemon's hook path ({mode}): +{got['allocs']:.1f} allocations, "
          f"+{got['bytes']:.0f} bytes requested per message (sieve loop {got['sieve_allocs']:.1f} / "
          f"{got['sieve_bytes']:.0f} B - plain {got['plain_allocs']:.1f} / {got['plain_bytes']:.0f} B) "
          f"over {args.messages} messages")


if __name__ == "__main__":
    main()
