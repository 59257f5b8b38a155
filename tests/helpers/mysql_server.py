"""A throw-away MariaDB server for datasource tests: mariadb-install-db + mariadbd.

    with start_mariadb() as db:       # a few seconds; killed and removed on exit
        db.sql("CREATE TABLE t (x int)")
        uri = db.uri                  # "mysql:host=127.0.0.1;port=...;dbname=test;user=root"

Data directory, socket and pid file in a temp dir; listens on 127.0.0.1 at a free
port; no grant tables (any user, no password) and no InnoDB fsync, so it starts fast.
A missing MariaDB skips the test (fails under CI=true) naming the Debian package.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .daemon import free_port
from .tools import find_tool, missing


def _bin(name: str) -> str:
    path = find_tool(name)
    if not path:
        missing(f"'{name}' not found: run `make setup` or `apt-get install mariadb-server`")
    return path


@dataclass
class MariaDb:
    base: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> str:
        return str(self.base / "mysqld.sock")

    @property
    def uri(self) -> str:
        return f"mysql:host=127.0.0.1;port={self.port};dbname=test;user=root"

    def sql(self, statement: str) -> str:
        done = subprocess.run([_bin("mariadb"), "--no-defaults", "-uroot", "-S", self.socket,
                               "-N", "-B", "-e", statement], capture_output=True, text=True,
                              timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        args = [_bin("mariadbd"), "--no-defaults", f"--datadir={self.base / 'data'}",
                f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
                f"--pid-file={self.base / 'mysqld.pid'}", "--skip-grant-tables",
                "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=16M",
                "--skip-log-bin", f"--log-error={self.base / 'error.log'}"]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("mariadbd exited: " + (self.base / "error.log").read_text())
            if os.path.exists(self.socket):
                done = subprocess.run([_bin("mariadb"), "--no-defaults", "-uroot", "-S",
                                       self.socket, "-e", "select 1"], capture_output=True)
                if done.returncode == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("mariadbd did not answer within 30s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def start_mariadb() -> Iterator[MariaDb]:
    install = _bin("mariadb-install-db")
    base = Path(tempfile.mkdtemp(prefix="ecds-my-"))
    server = MariaDb(base, free_port())
    try:
        args = [install, "--no-defaults", f"--datadir={base / 'data'}", "--skip-test-db",
                "--auth-root-authentication-method=normal"]
        if os.geteuid() == 0:
            args.append("--user=root")
        done = subprocess.run(args, capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stdout + done.stderr
        server.start()
        server.sql("CREATE DATABASE IF NOT EXISTS test")
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
