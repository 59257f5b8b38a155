"""Scenario helpers for the SMTP listener: run it as a real process, talk raw SMTP, read the spool.

    with smtp_listener(tmp_path, 'ESMTP_Listener { Listen "127.0.0.1:0" { } }') as lst:
        c = RawClient(lst.port)
        assert c.read_reply().code == 220
    batches = read_spool(lst.spool_dir)      # after the block: the process has stopped

``smtp_listener`` writes the config, runs ``python -m ecelerity.smtp.standalone`` (the
real loader, the real Spool with fsync, the real SMTPService) in ``tmp_path`` and
stops it with SIGTERM on exit. Only loopback; Listen ports are 0 (the kernel picks).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Listener:
    proc: subprocess.Popen
    listens: dict
    spool_dir: Path

    @property
    def port(self) -> int:
        return next(addr[1] for addr in self.listens.values() if "." in str(addr[0]))

    @property
    def port6(self) -> int | None:
        return next((addr[1] for addr in self.listens.values() if ":" in str(addr[0])), None)


@contextmanager
def smtp_listener(tmp_path: Path, conf_text: str, *, hooks: str | None = None, fsync: bool = True,
                  env: dict | None = None):
    conf = tmp_path / "ecelerity.conf"
    conf.write_text(conf_text)
    spool_dir = tmp_path / "spool"
    cmd = [sys.executable, "-m", "ecelerity.smtp.standalone", "-c", str(conf), "--spool", str(spool_dir)]
    if not fsync:
        cmd.append("--no-fsync")
    if hooks:
        cmd += ["--hooks", hooks]
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH", "")]))
    full_env.update(env or {})
    proc = subprocess.Popen(cmd, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=full_env, text=True)
    try:
        line = proc.stdout.readline()
        if not line:
            proc.wait(timeout=10)
            raise AssertionError(f"listener did not start: {proc.stderr.read()}")
        yield Listener(proc, json.loads(line)["listens"], spool_dir)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def read_spool(spool_dir: Path) -> list[tuple[dict, bytes, list[str]]]:
    """(envelope dict + "batch_id", message bytes, recipient addresses) per batch, in store order."""
    code = (
        "import json, sys\n"
        "from ecelerity.core.spool import Spool\n"
        "sp = Spool(sys.argv[1], fsync=False)\n"
        "sp.load_all(repair=False)\n"
        "seen = {}\n"
        "for m in sorted(sp.messages(), key=lambda m: (m.segment, m.data_offset)):\n"
        "    b = seen.setdefault(m.batch_id, {'env': m.envelope.to_dict(), 'rcpts': [],\n"
        "        'data': sp.read_body(m).decode('latin-1'), 'id': m.batch_id})\n"
        "    b['rcpts'].append(m.recipient.address)\n"
        "print(json.dumps(list(seen.values())))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT)
    out = subprocess.run([sys.executable, "-c", code, str(spool_dir)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return [({**b["env"], "batch_id": b["id"]}, b["data"].encode("latin-1"), b["rcpts"])
            for b in json.loads(out.stdout)]


@dataclass
class SMTPReply:
    code: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class RawClient:
    """A plain blocking socket client that reads replies exactly as sent."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = b""

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed by server; buffered {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def read_reply(self) -> SMTPReply:
        lines = []
        while True:
            line = self._line().decode("utf-8", "replace")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return SMTPReply(int(line[:3]), lines)

    def cmd(self, line: str) -> SMTPReply:
        self.send(line + "\r\n")
        return self.read_reply()

    def is_closed(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False
