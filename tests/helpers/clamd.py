"""A real clamd for antivirus tests, in a tmp dir, with a one-signature database we write.

    with start_clamd(tmp_path) as clamd:
        clamd.socket_path      # unix socket to give the daemon: daemon = "<path>"
        clamd.stop() / clamd.pause() / clamd.resume()   # kill it, or SIGSTOP it (a hung clamd)

The database is ``ecelerity-test.ndb``: one body signature, the hex of the EICAR test
string, named SIGNATURE (clamd reports it as ``Ecelerity.Test.EICAR.UNOFFICIAL``).
No freshclam, no internet, no system config: clamd runs in the foreground with a
clamd.conf written here (``Foreground``, ``LocalSocket`` under a short /tmp dir since
unix socket paths are limited to ~107 bytes, ``User`` = the current user) and
starts in well under a second. Missing clamd skips the test (fails under CI=true)
with how to install it (Debian package clamav-daemon).
"""
from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers.tools import find_tool, missing

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Ecelerity.Test.EICAR"
REPORTED = f"{SIGNATURE}.UNOFFICIAL"
START_TIMEOUT = 15.0


def need_clamd() -> str:
    path = find_tool("clamd")
    if path is None:
        missing("'clamd' not found: run `make setup` or `apt-get install clamav-daemon`")
    return path


class Clamd:
    """A clamd process started by start_clamd()."""

    def __init__(self, proc: subprocess.Popen, socket_path: str, workdir: Path, sockdir: str):
        self.proc = proc
        self.socket_path = socket_path
        self.workdir = workdir
        self._sockdir = sockdir

    def ping(self, timeout: float = 2.0) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(self.socket_path)
                sock.sendall(b"zPING\0")
                return sock.recv(16).startswith(b"PONG")
        except OSError:
            return False

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(timeout=10)
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass

    def log(self) -> str:
        path = self.workdir / "clamd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Clamd:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self._sockdir, ignore_errors=True)


def write_database(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "ecelerity-test.ndb"
    path.write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    return path


def start_clamd(workdir: Path) -> Clamd:
    binary = need_clamd()
    workdir = Path(workdir)
    database = workdir / "clamdb"
    write_database(database)
    sockdir = tempfile.mkdtemp(prefix="clamd-", dir="/tmp")
    socket_path = os.path.join(sockdir, "clamd.sock")
    conf = workdir / "clamd.conf"
    conf.write_text("\n".join([
        f"LocalSocket {socket_path}", f"DatabaseDirectory {database}", "Foreground yes",
        f"LogFile {workdir / 'clamd.log'}", f"TemporaryDirectory {workdir}",
        f"User {getpass.getuser()}", "MaxThreads 4", "ReadTimeout 5", "CommandReadTimeout 5",
        "SelfCheck 3600", "StreamMaxLength 10M", "",
    ]))
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=str(workdir))
    clamd = Clamd(proc, socket_path, workdir, sockdir)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            clamd.__exit__(None, None, None)
            raise RuntimeError(f"clamd exited with {proc.returncode}: {err}\n{clamd.log()}")
        if os.path.exists(socket_path) and clamd.ping():
            return clamd
        time.sleep(0.02)
    clamd.__exit__(None, None, None)
    raise RuntimeError(f"clamd did not answer PING within {START_TIMEOUT}s\n{clamd.log()}")
