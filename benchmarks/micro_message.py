"""Micro-benchmark of the message model: µs per operation, pure vs compiled vs stdlib email.

Run by hand (not a test): `.venv/bin/python benchmarks/micro_message.py [--seconds S]`.
For 2 KB, 100 KB and 10 MB multipart messages it times: parse + one header read,
a full MIME walk (content types and decoded leaf bodies), and a streaming body regex
that does not match (the worst case: the whole body is scanned). The "pure" column
reloads the modules with ECELERITY_PURE_PYTHON=1 semantics (reference scanners);
"email" is `email.message_from_bytes(policy=email.policy.default)` doing the same.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import random
import re
import time

from ecelerity._speedups import mimescan
from ecelerity.core import headers as headers_module
from ecelerity.core import mime as mime_module
from ecelerity.core.message import Message
from ecelerity.core.pcre_stream import body_match


def make_message(size: int, seed: int = 7) -> bytes:
    """A multipart/mixed message of about size bytes: text, html and a base64 blob."""
    rnd = random.Random(seed)
    words = [b"lorem", b"ipsum", b"dolor", b"sit", b"amet", b"mail", b"relay"]
    text = b"\r\n".join(b" ".join(rnd.choice(words) for _ in range(12)) for _ in range(size // 160 + 1))
    blob = base64.encodebytes(rnd.randbytes(size // 3)).replace(b"\n", b"\r\n")
    return (b"From: a@example.com\r\nTo: b@example.net\r\nSubject: bench\r\n"
            b"Received: from x by y\r\n\tfor z\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text +
            b"\r\n--BB\r\nContent-Type: text/html\r\n\r\n<p>" + text[: size // 4] +
            b"</p>\r\n--BB\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--BB--\r\n")


def per_op(function, seconds: float) -> float:
    """Microseconds per call of function over at least `seconds` (at least 3 calls)."""
    calls = 0
    started = time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and calls >= 3:
            return elapsed / calls * 1e6


def ours(raw: bytes) -> dict:
    return {
        "header": lambda: Message(raw).get("subject"),
        "mime walk": lambda: [(p.content_type, p.body()) for p in Message(raw).mime().walk()
                              if not p.is_multipart],
        "body regex": lambda: body_match(Message(raw), rb"no such (phrase|words)"),
    }


def stdlib(raw: bytes) -> dict:
    parse = lambda: email.message_from_bytes(raw, policy=email.policy.default)  # noqa: E731
    pattern = re.compile(rb"no such (phrase|words)")
    return {
        "header": lambda: str(parse()["subject"]),
        "mime walk": lambda: [(p.get_content_type(), p.get_payload(decode=True))
                              for p in parse().walk() if not p.is_multipart()],
        "body regex": lambda: pattern.search(parse().as_bytes()),
    }


def use_scanners(pure: bool) -> None:
    """Point the model at the reference (pure) or the active (compiled) scanners."""
    if pure:
        scanners = (mimescan._py_split_headers, mimescan._py_unfold, mimescan._py_find_boundaries)
    else:
        scanners = (mimescan.split_headers, mimescan.unfold, mimescan.find_boundaries)
    headers_module.split_headers, headers_module.unfold, mime_module.find_boundaries = scanners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    args = parser.parse_args()
    print(f"scanners in use: {mimescan.IMPLEMENTATION}")
    print(f"{'size':>6} {'operation':<11} {'pure µs':>12} {'compiled µs':>12} {'email µs':>12}")
    for size in (2_000, 100_000, 10_000_000):
        raw = make_message(size)
        reference = stdlib(raw)
        for name in ("header", "mime walk", "body regex"):
            use_scanners(pure=True)
            pure = per_op(ours(raw)[name], args.seconds)
            use_scanners(pure=False)
            compiled = per_op(ours(raw)[name], args.seconds)
            baseline = per_op(reference[name], args.seconds)
            label = f"{size // 1000}KB" if size < 1_000_000 else f"{size // 1_000_000}MB"
            print(f"{label:>6} {name:<11} {pure:>12.1f} {compiled:>12.1f} {baseline:>12.1f}")


if __name__ == "__main__":
    main()
