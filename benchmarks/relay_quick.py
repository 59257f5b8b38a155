"""Quick end-to-end relay benchmark: smtp-source -> ecelerity (spool, fsync on) -> smtp-sink.

    .venv/bin/python benchmarks/relay_quick.py [--sessions 20] [--messages 4000] [--size 2048]
                                               [--profile SECONDS]

Starts Postfix's ``smtp-sink`` (``-u nobody`` so it runs as root, ``-c`` counters) on
127.0.0.2:<free port>, a real ``ecelerity`` daemon (tests/helpers/daemon.py) whose
``gateway`` is that sink, with ``force_fsync = true``, and drives it with Postfix's
``smtp-source`` (N sessions, one recipient per message, ``-l`` bytes). The count is
the sink's own message counter; the rate is messages delivered at the sink divided by
the wall time from the first injection to the last delivery. Also prints the
inbound-only phase (smtp-source's run time). ``--profile S`` runs ``py-spy record``
(if installed) on the daemon for S seconds during the load and prints where the time
goes. Not a test: it prints a few lines and a JSON summary; only loopback is used.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers.daemon import free_port, start_daemon  # noqa: E402

SINK_HOST = "127.0.0.2"
_COUNTER = re.compile(r"mesg=(\d+)")


class SinkCounter:
    """Reads ``smtp-sink -c`` output (``sess=N quit=N mesg=N`` separated by CR)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc, self.count = proc, 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = self.proc.stdout.read1(4096) if self.proc.stdout else b""
            if not chunk:
                return
            buffer = (buffer + chunk)[-256:]
            found = _COUNTER.findall(buffer.decode("ascii", "replace"))
            if found:
                self.count = max(self.count, int(found[-1]))


def _tool(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        sys.exit(f"relay_quick: {name} not found (apt-get install postfix)")
    return path


def _py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not os.path.exists(spy):
        print("relay_quick: py-spy not installed; no profile")
        return None
    return subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                             "--format", "raw", "--output", str(out), "--rate", "200", "--gil",
                             "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _top_frames(raw: Path, limit: int = 15) -> list[tuple[str, float]]:
    """Self time per function from py-spy's collapsed-stack output, as % of samples."""
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        leaf = re.sub(r"\s*\(.*?:\d+\)$", "", frames[-1]) + " " + \
            (re.search(r"\(([^()]*?)(?::\d+)?\)$", frames[-1]) or [None, ""])[1]
        own[leaf] = own.get(leaf, 0) + int(count)
        total += int(count)
    ranked = sorted(own.items(), key=lambda item: -item[1])[:limit]
    return [(name, 100.0 * n / max(1, total)) for name, n in ranked]


PACKAGES = ("ecelerity/smtp/", "ecelerity/delivery/", "ecelerity/queue/", "ecelerity/core/",
            "ecelerity/bounce/", "ecelerity/policy/")


def _by_package(raw: Path) -> list[tuple[str, float]]:
    """Inclusive time per ecelerity package (a sample counts for every package on its stack)."""
    inclusive = dict.fromkeys(PACKAGES, 0)
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for package in PACKAGES:
            if package in stack:
                inclusive[package] += int(count)
    return [(name, 100.0 * n / max(1, total)) for name, n in inclusive.items()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--profile", type=float, default=0.0, help="py-spy seconds (0: none)")
    args = parser.parse_args()
    sink_port = free_port(SINK_HOST)
    sink = subprocess.Popen([_tool("smtp-sink"), "-u", "nobody", "-c", f"{SINK_HOST}:{sink_port}",
                             "256"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = SinkCounter(sink)
    smtp_port = free_port()
    conf = (f'gateway = "{SINK_HOST}:{sink_port}"\nrelay_domains = ( "example.com" )\n'
            "force_fsync = true\nmax_outbound_connections = 20\nhostname = \"bench.test\"\n"
            f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n')
    with tempfile.TemporaryDirectory(prefix="relay-quick-") as tmp:
        daemon = start_daemon(conf, tmp)
        spy = None
        try:
            start = time.monotonic()
            source = subprocess.Popen([_tool("smtp-source"), "-s", str(args.sessions), "-m",
                                       str(args.messages), "-l", str(args.size), "-f",
                                       "bench@b.test", "-t", "x@example.com",
                                       f"127.0.0.1:{smtp_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if args.profile:
                time.sleep(0.5)
                spy = _py_spy(daemon.pid, args.profile, Path(tmp) / "profile.txt")
            source.wait(600)
            inbound = time.monotonic() - start
            deadline = time.monotonic() + 120
            while counter.count < args.messages and time.monotonic() < deadline:
                time.sleep(0.01)
            total = time.monotonic() - start
            delivered = counter.count
            top, packages = [], []
            if spy is not None:
                spy.wait(args.profile + 30)
                if (Path(tmp) / "profile.txt").exists():
                    top = _top_frames(Path(tmp) / "profile.txt")
                    packages = _by_package(Path(tmp) / "profile.txt")
        finally:
            daemon.stop()
            sink.terminate()
            sink.wait(5)
    result = {
        "sessions": args.sessions, "messages": args.messages, "size": args.size,
        "fsync": True, "injected_in_s": round(inbound, 3),
        "inbound_msg_per_s": round(args.messages / inbound, 1),
        "delivered_at_sink": delivered, "end_to_end_s": round(total, 3),
        "relay_msg_per_s": round(delivered / total, 1),
        "smtp_source_errors": source.stderr.read().decode(errors="replace")[-300:] if source.stderr else "",
    }
    print(f"relay: {delivered}/{args.messages} x {args.size} B, {args.sessions} sessions, fsync on: "
          f"{result['relay_msg_per_s']} msg/s end to end ({total:.2f} s); "
          f"inbound phase {result['inbound_msg_per_s']} msg/s ({inbound:.2f} s)")
    if packages:
        print("inclusive share of GIL-holding samples per package:")
    for name, share in packages:
        print(f"  {share:5.1f}%  {name}")
    if top:
        print("self time, top functions:")
    for name, share in top:
        print(f"  {share:5.1f}%  {name}")
    print(json.dumps(result))
    return 0 if delivered == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
