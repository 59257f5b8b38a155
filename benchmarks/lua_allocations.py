"""Instructions and Python allocations per message that a 5-hook Lua policy adds, by callgrind.

Run by hand (not a test; needs valgrind): ``.venv/bin/python benchmarks/lua_allocations.py
[--messages N] [--engine luajit|lua54] [--tree DIR] [--by-caller K]``.
``ECELERITY_PURE_PYTHON=1`` selects the pure-Python speedups.

Counts do not depend on the machine's load (the box is shared: timings move by more
than the policy costs), so they settle a before/after that timings cannot. Runs
benchmarks/lua_in_daemon.py's per-message loop (1 message per connection, ``--tree``'s
code: a copy of an older tree gives the "before") under ``valgrind --tool=callgrind``
for 0 and N messages, with and without the policy, PYTHONHASHSEED=0; per message:
  * instructions: (Lua N - Lua 0 - (plain N - plain 0)) / N;
  * allocations: calls into pymalloc (PyObject_Malloc/Calloc, PyMem_Malloc/Calloc, and
    _PyObject_Malloc/Calloc called directly), the same difference -- every Python
    object, bytes/str buffer and list/dict storage; free lists (small tuples, floats)
    are not allocations and are not counted. ``--by-caller K`` lists the K C functions
    calling the allocator most (PyLong_FromSsize_t, PyBytes_FromStringAndSize...).
Lua's own heap is not counted. Never touches the network; writes only in a temp dir.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOCATORS = {"PyObject_Malloc", "PyObject_Calloc", "PyMem_Malloc", "PyMem_Calloc",
              "_PyObject_Malloc", "_PyObject_Calloc"}
PASS_THROUGH = {"PyObject_Malloc", "PyObject_Calloc", "PyMem_Malloc", "PyMem_Calloc"}
WORKLOAD = """
import sys, tempfile
from pathlib import Path
tree, engine, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path[:0] = [tree, tree + "/benchmarks"]
import benchmarks.lua_in_daemon as bench
messages = bench.make_messages()
with tempfile.TemporaryDirectory() as tmp:
    app = bench.make_app(Path(tmp), None if engine == "plain" else engine)
    bench.run_messages(app, messages, 200, 0, 1, {})  # warm up (also in the 0 run)
    bench.run_messages(app, messages, count, 0, 1, {})
    app.stop()
"""


def callgrind(tree: str, engine: str, count: int, workdir: Path) -> tuple[int, collections.Counter]:
    """(instructions, allocator calls by calling function) of one workload run."""
    out = workdir / f"cg.{engine}.{count}"
    script = workdir / "workload.py"
    script.write_text(WORKLOAD)
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                           sys.executable, str(script), tree, engine, str(count)],
                          env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"callgrind run failed ({engine}, {count}):\n{done.stderr[-2000:]}")
    return int(found.group(1)), allocator_calls(out)


def allocator_calls(path: Path) -> collections.Counter:
    """Calls into the allocator per calling function, from a callgrind out file."""
    names: dict[str, str] = {}
    calls: collections.Counter = collections.Counter()
    caller = callee = None
    with open(path, errors="replace") as lines:
        for line in lines:
            if line.startswith(("fn=", "cfn=")):
                key, rest = line.rstrip("\n").split("=", 1)
                found = re.match(r"\((\d+)\)(?: (.*))?", rest)
                if found is None:
                    continue
                if found.group(2):
                    names[found.group(1)] = found.group(2)
                if key == "fn":
                    caller = names.get(found.group(1))
                else:
                    callee = names.get(found.group(1))
            elif line.startswith("calls=") and callee in ALLOCATORS \
                    and caller not in PASS_THROUGH:
                calls[caller] += int(line.split("=", 1)[1].split()[0])
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--engine", default="luajit")
    parser.add_argument("--tree", default=str(ROOT), help="the source tree to measure")
    parser.add_argument("--by-caller", type=int, default=0, metavar="K")
    args = parser.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory(prefix="lua-allocations-") as tmp:
        # one run outside valgrind first: every module compiled and its .pyc written, so
        # no measured run pays for compiling (it would count as per-message cost)
        script = Path(tmp) / "workload.py"
        script.write_text(WORKLOAD)
        subprocess.run([sys.executable, str(script), args.tree, args.engine, "1"], check=True)
        for engine in ("plain", args.engine):
            for count in (0, args.messages):
                runs[engine, count] = callgrind(args.tree, engine, count, Path(tmp))
    n = args.messages

    def per_message(engine: str) -> tuple[float, collections.Counter]:
        (ins0, calls0), (ins1, calls1) = runs[engine, 0], runs[engine, n]
        calls = collections.Counter(calls1)
        calls.subtract(calls0)
        return (ins1 - ins0) / n, calls
    plain_ins, plain_calls = per_message("plain")
    lua_ins, lua_calls = per_message(args.engine)
    added = collections.Counter(lua_calls)
    added.subtract(plain_calls)
    mode = "pure Python" if os.environ.get("ECELERITY_PURE_PYTHON", "0") not in ("", "0") \
        else "compiled speedups"
    print(f"{args.engine} {mode} ({args.tree}): the policy adds {(lua_ins - plain_ins) / 1000:.1f}k "
          f"instructions and {sum(added.values()) / n:.1f} allocations per message "
          f"(plain relay loop: {plain_ins / 1000:.1f}k, {sum(plain_calls.values()) / n:.1f})")
    for caller, count in added.most_common(args.by_caller):
        print(f"  {count / n:7.2f}  {caller}")


if __name__ == "__main__":
    main()
