"""Benchmark: logging cost per message, in ns per record (built + formatted + buffered).

Usage: .venv/bin/python benchmarks/log_cost.py [--count 100000] [--dir DIR]

Measures, for one SpooledMessage and one delivery result:
  facts       building the facts dict (log/facts.py)
  mainlog R   EcLogger.log_reception (facts + format + LogWriter.write_line)
  mainlog D   EcLogger.log_delivery
  bouncelog   BounceLogger.log_bounce (includes classification)
  json        JsonLog.record of prebuilt facts
  custom      a custom_logger delivery_format with 8 macros, prebuilt facts
  flush       the disk write (threadpool) amortized per line, for 1 KB of lines per flush
  daemon path LogHub (the daemon's app.loggers) with ec_logger + bounce_logger sinks, per
              message: reception (R) then a delivery outcome through the queue-observer
              path with the engine tap's memo (D), or a permanent failure (P + B)
A benchmark, not a test: nothing is asserted.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ecelerity.core.envelope import Envelope, Recipient  # noqa: E402
from ecelerity.core.spool_records import SpooledMessage  # noqa: E402
from ecelerity.log import facts as event_facts  # noqa: E402
from ecelerity.log.bounce_logger import BounceLogger  # noqa: E402
from ecelerity.log.custom_logger import CustomLogger  # noqa: E402
from ecelerity.log.ec_logger import EcLogger  # noqa: E402
from ecelerity.log.jsonlog import JsonLog  # noqa: E402
from ecelerity.log.service import LogHub  # noqa: E402


class Result:
    message_id, outcome, code, enhanced, text = "m", "delivered", 250, "2.0.0", "ok queued as 1234"
    stage, remote_ip, bytes_sent, conn_id = 9, "192.0.2.7", 4321, "00/00-00001-0000000C"


def message() -> SpooledMessage:
    envelope = Envelope("news@example.org", [Recipient("ann@example.com")], peer_ip="192.0.2.1",
                        conn_id="00/00-00001-00000001", received_at=time.time())
    return SpooledMessage(id="10/00-00001-00000001", batch_id="00/00-00001-00000002",
                          recipient=envelope.recipients[0], domain="example.com",
                          envelope=envelope, created=time.time(), size=4321)


class Batch:
    """A StoredBatch of one recipient-message, as the spool hands it to log_reception."""

    def __init__(self, message: SpooledMessage):
        self.messages = [message]


def per_record(func, count: int, writers) -> float:
    started = time.perf_counter_ns()
    for _ in range(count):
        func()
    elapsed = time.perf_counter_ns() - started
    for writer in writers:
        writer._lines.clear()  # drop the buffer: this measures the hub's share only
        writer._pending_chars = 0
    return elapsed / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="logbench-", dir=args.dir)
    msg, result = message(), Result()
    logger = EcLogger({"mainlog": f"{base}/mainlog.ec"}, log_dir=base)
    bounces = BounceLogger({"bouncelog": f"{base}/bouncelog.ec"})
    json_log = JsonLog(f"{base}/events.json")
    custom = CustomLogger({"delivery_format": "%t@%i@%r@%R@%m@%M@%b@%H@%n",
                           "delivery_logfile": f"{base}/custom.log"})
    for writer in list(logger.writers.values()) + [bounces.writer, json_log.writer]:
        writer.wake_at_chars = 1 << 62  # keep everything in memory while timing
    for writer in custom.writers.values():
        writer.wake_at_chars = 1 << 62
    delivered = event_facts.attempt_facts(msg, result, "D", now=time.time())
    results = {
        "facts": per_record(lambda: event_facts.attempt_facts(msg, result, "D", now=1.0),
                            args.count, []),
        "mainlog R": per_record(lambda: logger.log_reception(msg), args.count,
                                logger.writers.values()),
        "mainlog D": per_record(lambda: logger.log_delivery(msg, result), args.count,
                                logger.writers.values()),
        "bouncelog": per_record(lambda: bounces.log_bounce(msg, result), args.count,
                                [bounces.writer]),
        "json": per_record(lambda: json_log.record(delivered), args.count, [json_log.writer]),
        "custom": per_record(lambda: custom.record(delivered), args.count,
                             custom.writers.values()),
    }
    hub, batch = LogHub(), Batch(msg)
    hub.add(logger)
    hub.add(bounces)
    hub_writers = list(logger.writers.values()) + [bounces.writer]

    def delivered_message() -> None:
        hub.reception(batch, "00/00-00001-00000001")
        hub._memo[msg.id] = (result, 0)  # what the engine tap remembers of the attempt
        hub.observe("delivered", msg, "250 2.0.0 ok queued as 1234")

    def failed_message() -> None:
        hub.reception(batch, "00/00-00001-00000001")
        hub._memo[msg.id] = (result, 0)
        hub.observe("failed", msg, "550 5.1.1 user unknown")

    results["daemon path: R + D per message"] = per_record(delivered_message, args.count,
                                                           hub_writers)
    results["daemon path: R + P + B per message"] = per_record(failed_message, args.count,
                                                               hub_writers)
    writer = logger.writers["mainlog"]
    line = "x" * 150
    flushes = max(1, args.count // 7)
    started = time.perf_counter_ns()
    for _ in range(flushes):
        for _ in range(7):
            writer.write_line(line)
        writer.flush()
    results["flush (threadpool write, per line)"] = (time.perf_counter_ns() - started) / (flushes * 7)
    calibration = per_record(lambda: dict(a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9, j=10),
                             args.count, [])
    print(f"{'(calibration: a 10-key dict literal)':40s} {calibration:10.0f} ns")
    for name, nanoseconds in results.items():
        print(f"{name:40s} {nanoseconds:10.0f} ns/record")
    for closing in (logger, bounces, json_log, custom):
        closing.close()


if __name__ == "__main__":
    main()
