"""Sampling profiles of the ecelerity peer during a load (``--profile``), with py-spy.

Who calls it: relay.py when the run asks for a profile. ``start(pid, path)`` attaches
``py-spy record --nonblocking --format raw`` (collapsed stacks, loadable in speedscope
or flamegraph.pl) to the running daemon; ``stop()`` ends it with SIGINT so py-spy writes
the file; ``summarize(path)`` gives the functions with the largest inclusive and self
share of the sampled (non-idle) time, of every thread; ``hook_samples(path)`` the hub
thread's samples and those under the Sieve++ / Lua hooks (the policy scenario's view:
a share of all threads' samples is not a share of the hub's CPU). It must never change
the daemon (sampling from outside only) and must degrade to "no profile" when py-spy
is missing.
"""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def py_spy() -> str | None:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


def start(pid: int, path: Path, *, rate: int = 200) -> subprocess.Popen | None:
    binary = py_spy()
    if binary is None:
        return None
    # --subprocesses: with worker_processes = N the pid is the supervisor; the work is in
    # its workers (their samples are merged into one profile)
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking",
                             "--subprocesses", "--format", "raw", "--output", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match["file"]
    for marker in ("/ecelerity/", "/modules/", "site-packages/", "/lib/python3"):
        if marker in file:
            file = file[file.index(marker) + 1:]
            break
    return f"{match['func']} ({file})"


def summarize(path: Path, *, top: int = 25) -> dict:
    """{"samples": N, "inclusive": [(name, share)], "self": [(name, share)]}, shares in %."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_name(f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    share = (lambda c: [(name, round(100.0 * n / total, 1)) for name, n in c.most_common(top)]) \
        if total else (lambda c: [])
    return {"samples": total, "inclusive": share(inclusive), "self": share(own)}


HOOK_SHARE_NOTE = ("share of the hub thread's non-idle samples below HookRegistry.run -> the "
                   "engine's hook (any file); py-spy counts a runnable-but-waiting hub as busy, "
                   "so this understates the hooks' share of the hub's CPU (policy_cost.py)")


def markdown(title: str, summary: dict, hooks: dict[str, int] | None = None) -> str:
    lines = [f"### {title}", "", f"{summary['samples']} samples (non-idle, every thread).", ""]
    if hooks and hooks.get("hub"):
        shares = ", ".join(f"{engine} {100.0 * n / hooks['hub']:.1f}%"
                           for engine, n in sorted(hooks.items()) if engine != "hub")
        lines += [f"Hub thread: {hooks['hub']} samples; policy hooks: {shares or 'none'} "
                  f"({HOOK_SHARE_NOTE}).", ""]
    lines += ["| inclusive % | function (file) | | self % | function (file) |", "|---:|---|---|---:|---|"]
    for (inc_name, inc), (own_name, own) in zip(summary["inclusive"], summary["self"], strict=False):
        lines.append(f"| {inc} | {inc_name} | | {own} | {own_name} |")
    return "\n".join(lines) + "\n"


_ENGINE_DIRS = {"/policy/sieve/": "sieve", "/policy/lua/": "lua"}


def hook_samples(path: Path) -> dict[str, int]:
    """py-spy raw stacks -> {"hub": non-idle samples of the main thread, "sieve"/"lua":
    those with a policy hook of that engine on the stack below HookRegistry.run}."""
    counts: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if any("threading.py" in f for f in frames[:3]):
            continue  # a threadpool thread (the journal's fdatasync cycle), not the hub
        n = int(count)
        counts["hub"] += n
        for i, frame in enumerate(frames):
            if frame.startswith("HookRegistry.run (") and "policy/phases.py" in frame:
                rest = [f for f in frames[i + 1:] if "cpu_accounting.py" not in f]
                if rest:
                    engine = next((e for d, e in _ENGINE_DIRS.items() if d in rest[0]), "other")
                    counts[engine] += n
                break
    return dict(counts)
