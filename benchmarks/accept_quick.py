"""Quick accept-rate benchmark: messages/s the SMTP listener accepts, spooled with fsync on.

    .venv/bin/python benchmarks/accept_quick.py [--sessions 20] [--messages 2000] [--size 2048]

Starts the listener as its own process (python -m ecelerity.smtp.standalone, real
Spool, fsync on unless --no-fsync) on 127.0.0.1 with an ephemeral port, then drives it
with N raw-socket client threads (one session each, MAIL/RCPT/DATA per message,
waiting for each reply as smtplib does). Prints one line with the rate. Not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONF = 'relay_domains = ( "example.com" )\nESMTP_Listener { Listen "127.0.0.1:0" { } }\n'


def client(port: int, count: int, body: bytes, errors: list) -> None:
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")

    def reply() -> bytes:
        while True:
            line = f.readline()
            if line[3:4] != b"-":
                return line

    try:
        reply()
        sock.sendall(b"EHLO bench.test\r\n")
        reply()
        for _ in range(count):
            for cmd in (b"MAIL FROM:<bench@b.org>\r\n", b"RCPT TO:<x@example.com>\r\n", b"DATA\r\n"):
                sock.sendall(cmd)
                reply()
            sock.sendall(body + b".\r\n")
            line = reply()
            if not line.startswith(b"250"):
                errors.append(line)
        sock.sendall(b"QUIT\r\n")
        reply()
    finally:
        sock.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args()
    line = b"x" * 76 + b"\r\n"
    body = b"From: bench@b.org\r\nSubject: bench\r\n\r\n" + line * max(1, args.size // len(line))
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "ecelerity.conf")
        with open(conf, "w") as fh:
            fh.write(CONF)
        cmd = [sys.executable, "-m", "ecelerity.smtp.standalone", "-c", conf, "--spool",
               os.path.join(tmp, "spool")] + (["--no-fsync"] if args.no_fsync else [])
        env = dict(os.environ, PYTHONPATH=REPO)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
        try:
            port = next(iter(json.loads(proc.stdout.readline())["listens"].values()))[1]
            per = args.messages // args.sessions
            errors: list = []
            threads = [threading.Thread(target=client, args=(port, per, body, errors))
                       for _ in range(args.sessions)]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - start
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    total = per * args.sessions
    print(f"accepted {total - len(errors)}/{total} messages of {len(body)} B over {args.sessions} "
          f"sessions in {elapsed:.2f}s: {total / elapsed:.0f} msg/s "
          f"(fsync {'off' if args.no_fsync else 'on'}, errors {len(errors)})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
