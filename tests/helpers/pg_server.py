"""A throw-away PostgreSQL server for datasource tests: initdb + pg_ctl in a temp dir.

    with start_postgres() as pg:      # a few seconds; stopped and removed on exit
        pg.psql("CREATE TABLE t (x int)")
        uri = pg.uri                  # "pgsql:host=127.0.0.1;port=...;dbname=postgres;user=postgres"

Listens on 127.0.0.1 at a free port and on a unix socket in its directory, trust
authentication, fsync off. As root the server runs as the ``postgres`` user (it
refuses root). A missing PostgreSQL skips the test (fails under CI=true) naming the
Debian package. Only ever started by tests.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .daemon import free_port
from .tools import find_tool, missing


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else find_tool(name)
    if not path:
        missing(f"'{name}' not found: run `make setup` or `apt-get install postgresql`")
    return path


@dataclass
class PgServer:
    base: Path
    port: int
    run_as: list[str]

    @property
    def uri(self) -> str:
        return f"pgsql:host=127.0.0.1;port={self.port};dbname=postgres;user=postgres"

    def psql(self, sql: str) -> str:
        done = subprocess.run([*self.run_as, _pg_bin("psql"), "-h", "127.0.0.1", "-p",
                               str(self.port), "-U", "postgres", "-d", "postgres", "-v",
                               "ON_ERROR_STOP=1", "-qAtc", sql],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        subprocess.run([*self.run_as, _pg_bin("pg_ctl"), "-D", str(self.base / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=30)

    def start(self) -> None:
        done = subprocess.run(
            [*self.run_as, _pg_bin("pg_ctl"), "-D", str(self.base / "data"), "-w", "-t", "30",
             "-l", str(self.base / "log"), "-o",
             f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c full_page_writes=off -c synchronous_commit=off", "start"],
            capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = (self.base / "log").read_text() if (self.base / "log").exists() else ""
            raise AssertionError(f"postgres did not start: {done.stderr}\n{log}")


@contextlib.contextmanager
def start_postgres() -> Iterator[PgServer]:
    initdb = _pg_bin("initdb")
    base = Path(tempfile.mkdtemp(prefix="ecds-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PgServer(base, free_port(), run_as)
    try:
        done = subprocess.run([*run_as, initdb, "-D", str(base / "data"), "-U", "postgres",
                               "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
