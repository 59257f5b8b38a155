"""Benchmark: Spool.store() throughput with fsync on, and fsyncs per message.

Usage: .venv/bin/python benchmarks/spool_store.py [--dir DIR] [--size 2048] [--count 3000]
       [--concurrency 1,20,100] [--fsync-delay-ms 0]

For each concurrency level: N greenlets store ``count`` messages of ``size`` bytes in
total into a fresh spool under DIR (default: a temp dir on the working disk; pass a
directory on the disk you care about). Prints messages/s, MB/s, p50/p99 store latency,
commit cycles and fsyncs per message. ``--fsync-delay-ms`` adds a sleep next to every
fdatasync (in the threadpool, as a slow disk would) to show group commit absorbing it.
A benchmark, not a test: nothing is asserted.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import gevent  # noqa: E402

from ecelerity.core import spool_commit  # noqa: E402
from ecelerity.core.envelope import Envelope, Recipient  # noqa: E402
from ecelerity.core.spool import Spool  # noqa: E402


def run_level(directory: str, concurrency: int, count: int, size: int) -> dict:
    base = tempfile.mkdtemp(prefix="spoolbench-", dir=directory)
    spool = Spool(base)
    body = os.urandom(size)
    latencies: list[float] = []
    per_worker = max(1, count // concurrency)

    def worker(number: int) -> None:
        for index in range(per_worker):
            envelope = Envelope("bench@example.org", [Recipient(f"r{number}-{index}@example.com")])
            started = time.perf_counter()
            spool.store(envelope, body)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    gevent.joinall([gevent.spawn(worker, n) for n in range(concurrency)], raise_error=True)
    elapsed = time.perf_counter() - started
    stats = spool.stats
    spool.close()
    shutil.rmtree(base, ignore_errors=True)
    latencies.sort()
    stored = len(latencies)
    return {
        "concurrency": concurrency, "messages": stored, "seconds": elapsed,
        "msg_per_s": stored / elapsed, "mb_per_s": stored * size / elapsed / 1e6,
        "p50_ms": latencies[stored // 2] * 1e3, "p99_ms": latencies[int(stored * 0.99)] * 1e3,
        "cycles": stats.cycles, "fsyncs": stats.fsyncs, "fsyncs_per_msg": stats.fsyncs / stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join(os.getcwd(), "var"))
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--concurrency", default="1,20,100")
    parser.add_argument("--fsync-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if args.fsync_delay_ms:
        real_fdatasync = os.fdatasync

        def slow_fdatasync(fd: int) -> None:
            time.sleep(args.fsync_delay_ms / 1000)
            real_fdatasync(fd)

        spool_commit.os.fdatasync = slow_fdatasync  # type: ignore[attr-defined]
    print(f"size={args.size} B  fsync=on  extra fsync delay={args.fsync_delay_ms} ms  "
          f"dir={args.dir}")
    print(f"{'conc':>5} {'msgs':>6} {'msg/s':>9} {'MB/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'cycles':>7} {'fsyncs':>7} {'fsync/msg':>9}")
    for level in (int(item) for item in args.concurrency.split(",")):
        result = run_level(args.dir, level, args.count if level > 1 else args.count // 3,
                           args.size)
        print(f"{result['concurrency']:>5} {result['messages']:>6} {result['msg_per_s']:>9.0f} "
              f"{result['mb_per_s']:>7.1f} {result['p50_ms']:>7.2f} {result['p99_ms']:>7.2f} "
              f"{result['cycles']:>7} {result['fsyncs']:>7} {result['fsyncs_per_msg']:>9.3f}")


if __name__ == "__main__":
    main()
