"""Micro-benchmark of the SMTP DATA reader: MB/s, pure-Python reference vs compiled twin.

Run by hand (not a test): `.venv/bin/python benchmarks/micro_smtpline.py [--seconds S]`.
Feeds realistic 2 KB and 100 KB messages (headers, 76-column body lines, some
dot-stuffed lines) in 8 KB and 64 KB chunks and prints throughput per combination.
Touches no network and no files; prints "compiled twin not built" if it is missing.
"""

from __future__ import annotations

import argparse
import random
import time

from ecelerity._speedups.smtpline import _py_DataReader

try:
    from ecelerity._speedups._c_smtpline import DataReader as _c_DataReader
except ImportError:
    _c_DataReader = None


def make_message(size: int, seed: int = 7) -> bytes:
    """A wire-format DATA payload of about `size` bytes, ending in <CRLF>.<CRLF>."""
    rnd = random.Random(seed)
    head = (
        b"From: Sender <sender@example.com>\r\nTo: rcpt@example.net\r\n"
        b"Subject: benchmark message\r\nMessage-ID: <bench@example.com>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
    )
    letters = b"abcdefghijklmnopqrstuvwxyz     ABCDEFGHIJ0123456789"
    lines = [head]
    total = len(head)
    while total < size:
        line = bytes(rnd.choice(letters) for _ in range(rnd.randint(20, 76)))
        if rnd.random() < 0.02:
            line = b".." + line  # a stuffed dot on the wire
        lines.append(line + b"\r\n")
        total += len(line) + 2
    return b"".join(lines) + b".\r\n"


def chunked(payload: bytes, chunk: int) -> list[bytes]:
    return [payload[at : at + chunk] for at in range(0, len(payload), chunk)]


def measure(reader_class, chunks: list[bytes], payload_len: int, seconds: float) -> float:
    """MB/s of wire bytes through reader_class over at least `seconds`."""
    rounds = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        reader = reader_class(max_size=50_000_000, max_line=998)
        for piece in chunks:
            if reader.feed(piece) >= 0:
                break
            reader.take()
        reader.take()
        assert reader.done
        rounds += 1
        now = time.perf_counter()
        if now >= deadline:
            return rounds * payload_len / (now - started) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = parser.parse_args()
    if _c_DataReader is None:
        print("compiled twin not built: run `make setup` (only pure Python is measured)")
    print(f"{'message':>8} {'chunk':>6} {'python MB/s':>12} {'cython MB/s':>12} {'speedup':>8}")
    for size in (2_000, 100_000):
        payload = make_message(size)
        for chunk in (8 * 1024, 64 * 1024):
            pieces = chunked(payload, chunk)
            pure = measure(_py_DataReader, pieces, len(payload), args.seconds)
            if _c_DataReader is not None:
                fast = measure(_c_DataReader, pieces, len(payload), args.seconds)
                print(
                    f"{size // 1000:>6}KB {chunk // 1024:>4}KB {pure:>12.1f} {fast:>12.1f} "
                    f"{fast / pure:>7.1f}x"
                )
            else:
                print(f"{size // 1000:>6}KB {chunk // 1024:>4}KB {pure:>12.1f} {'-':>12} {'-':>8}")


if __name__ == "__main__":
    main()
