"""Where the relay's CPU goes: smtp-source -> ecelerity (under cProfile) -> smtp-sink.

    .venv/bin/python benchmarks/relay_cprofile.py [--sessions 20] [--messages 4000]
        [--size 2048] [--top 40] [--sort tottime] [--no-profile] [--out FILE.prof] [--trace]

Like relay_quick.py (same sink, same daemon config) but the daemon runs in-process under
``cProfile`` (deterministic: every call counted, robust to other load on the machine)
and the script reports the daemon's CPU seconds per 1,000 messages read from
/proc/PID/stat between the first injection and the last delivery. ``--no-profile``
measures the CPU cost without cProfile's overhead; ``--journal-io python`` runs
the spool's journal I/O on the reference (Python thread) worker instead of the compiled one (A/B);
``--trace`` has the daemon stamp every message between "." and 250
(core/spool_latency.py) and prints per-interval histograms
(benchmarks/eod_trace_report.py). Who calls it: engineers working on issue 9, by hand. Not a test; it never decides pass/fail and uses loopback only.
"""
from __future__ import annotations

import argparse
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import procstat  # noqa: E402
from benchmarks.harness.probe import Probe  # noqa: E402
from benchmarks.harness.probe_process import ProbeProcess  # noqa: E402
from benchmarks.relay_quick import SINK_HOST, SinkCounter, _tool  # noqa: E402
from tests.helpers.daemon import free_port, start_daemon  # noqa: E402

_WRAPPER = """\
import cProfile, sys
from ecelerity.daemon.main import main
profiler = cProfile.Profile()
profiler.enable()
try:
    main(sys.argv[2:])
finally:
    profiler.disable()
    profiler.dump_stats(sys.argv[1])
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants (workers), in seconds."""
    return sum(sample.cpu for sample in procstat.tree(pid))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--extra", default="", help="config text appended")
    parser.add_argument("--out", default="", help="keep the .prof file here")
    parser.add_argument("--wrapper", default="", help="run the daemon as: python WRAPPER ARGS")
    parser.add_argument("--spy", type=float, default=0.0,
                        help="py-spy the (last) worker for this many seconds during the load")
    parser.add_argument("--strace", action="store_true", help="count the daemon's syscalls")
    parser.add_argument("--trace", action="store_true",
                        help="ECELERITY_EOD_TRACE: per-interval EOD->250 histograms")
    parser.add_argument("--probe", choices=["processes", "threads"], default="processes",
                        help="the 2 probe sessions: one process each (as the harness does), "
                             "or two threads in this process (the old probe; A/B)")
    parser.add_argument("--journal-io", choices=["worker", "python"], default="",
                        help="ECELERITY_JOURNAL_IO for the daemon (spool cycle I/O; A/B)")
    args = parser.parse_args()
    if args.journal_io:
        os.environ["ECELERITY_JOURNAL_IO"] = args.journal_io
    sink_port = free_port(SINK_HOST)
    sink = subprocess.Popen([_tool("smtp-sink"), "-u", "nobody", "-c", f"{SINK_HOST}:{sink_port}",
                             "256"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = SinkCounter(sink)
    smtp_port = free_port()
    conf = (f'gateway = "{SINK_HOST}:{sink_port}"\nrelay_domains = ( "example.com" )\n'
            "force_fsync = true\nmax_outbound_connections = 20\nhostname = \"bench.test\"\n"
            f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n' + args.extra)
    with tempfile.TemporaryDirectory(prefix="relay-cprof-") as tmp:
        prof = Path(tmp) / "daemon.prof"
        wrapper = Path(tmp) / "wrapper.py"
        wrapper.write_text(_WRAPPER)
        from tests.helpers import daemon as helper
        saved = helper.ecelerity_command
        if args.wrapper:
            helper.ecelerity_command = lambda *a: [sys.executable, args.wrapper, *a]
        elif not args.no_profile:  # start_daemon runs ecelerity_command(): run it under cProfile
            helper.ecelerity_command = lambda *a: [sys.executable, str(wrapper), str(prof), *a]
        if args.trace:
            os.environ["ECELERITY_EOD_TRACE"] = f"{tmp}/eod-trace"
        try:
            daemon = start_daemon(conf, tmp)
        finally:
            helper.ecelerity_command = saved
        try:
            per0 = {sample.pid: sample.cpu for sample in procstat.tree(daemon.pid)}
            cpu0, start = cpu_seconds(daemon.pid), time.monotonic()
            tracer = None
            if args.strace:
                tracer = subprocess.Popen(["strace", *(os.environ.get("STRACE_ARGS", "-c").split()), "-f", "-p", str(daemon.pid)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                time.sleep(0.5)
            probe_class = Probe if args.probe == "threads" else ProbeProcess
            probe = probe_class("127.0.0.1", smtp_port, sessions=2, size=args.size)
            probe.start()
            sink0, children0 = cpu_seconds(sink.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
            spy = None
            if args.spy:
                worker = max(sample.pid for sample in procstat.tree(daemon.pid))
                spy = subprocess.Popen(
                    ["sh", "-c", f"sleep 1; exec {Path(sys.executable).parent / 'py-spy'} record "
                     f"--pid {worker} --duration {int(args.spy)} --format raw --rate 200 --gil "
                     f"--nonblocking --output {tmp}/spy.txt"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            source = subprocess.run([_tool("smtp-source"), "-s", str(args.sessions), "-m",
                                     str(args.messages), "-l", str(args.size), "-f",
                                     "bench@b.test", "-t", "x@example.com",
                                     f"127.0.0.1:{smtp_port}"], capture_output=True, timeout=600)
            deadline = time.monotonic() + 120
            while counter.count - len(probe.acked) < args.messages and time.monotonic() < deadline:
                time.sleep(0.005)
            wall, cpu = time.monotonic() - start, cpu_seconds(daemon.pid) - cpu0
            per_process = {sample.pid: sample.cpu - per0.get(sample.pid, 0.0)
                           for sample in procstat.tree(daemon.pid)}
            probe.stop()
            eod = probe.eod_latencies()
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            peers = (cpu_seconds(sink.pid) - sink0, children.ru_utime + children.ru_stime
                     - children0.ru_utime - children0.ru_stime)
            if spy is not None:
                spy.wait(60)
                from benchmarks.harness import profile
                print(profile.markdown("worker", profile.summarize(Path(tmp) / "spy.txt")))
            if tracer is not None:
                tracer.terminate()
                print(tracer.communicate(timeout=30)[1].decode()[:3000])
            try:  # the journal's batching: records per fdatasync
                commit = daemon.command("unlink stats")
                print("journal: " + "; ".join(line.strip() for line in commit.body))
            except Exception as exc:  # noqa: BLE001 - a report line, never the measurement
                print(f"journal: (unlink stats failed: {exc})")
        finally:
            daemon.stop()
            sink.terminate()
            sink.wait(5)
        delivered = counter.count - len(probe.acked)
        if len(per_process) > 1:
            print("CPU s/1000 by process (supervisor first): " + ", ".join(
                f"{pid}: {1000 * seconds / max(1, delivered):.3f}"
                for pid, seconds in sorted(per_process.items())))
        if eod:
            at = lambda q: 1000 * eod[min(len(eod) - 1, int(q * len(eod)))]  # noqa: E731
            print(f"EOD->250 ms p50 {at(0.5):.2f} p90 {at(0.9):.2f} p99 {at(0.99):.2f} "
                  f"({len(eod)} probe messages)")
        print(f"{delivered}/{args.messages} at sink, {delivered / wall:.1f} msg/s, "
              f"daemon CPU {1000 * cpu / max(1, delivered):.3f} s/1000 msgs"
              f"{' (under cProfile)' if not args.no_profile else ''}; smtp-sink "
              f"{1000 * peers[0] / max(1, delivered):.3f}, smtp-source {1000 * peers[1] / max(1, delivered):.3f}"
              f"{'; smtp-source: ' + source.stderr.decode()[-200:] if source.returncode else ''}")
        print("journal I/O: " + " ".join(f"{name}={os.environ.get(name, '')!r}" for name in (
            "ECELERITY_JOURNAL_IO", "ECELERITY_JOURNAL_IO_PRIORITY", "ECELERITY_SWITCH_INTERVAL",
            "ECELERITY_PURE_PYTHON")))
        if args.trace:
            from benchmarks.eod_trace_report import report
            print(report(f"{tmp}/eod-trace"))
        if not args.no_profile and prof.exists():
            stats = pstats.Stats(str(prof))
            stats.sort_stats(args.sort).print_stats(args.top)
            if args.out:
                stats.dump_stats(args.out)
    return 0 if delivered == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())
