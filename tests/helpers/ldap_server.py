"""A throw-away OpenLDAP server for datasource tests: slapd with a tiny config in a temp dir.

    with start_slapd() as ldap:        # well under a second; killed and removed on exit
        ldap.add(LDIF_TEXT)
        uri = ldap.uri                 # "ldap://127.0.0.1:PORT"

Suffix ``dc=example,dc=com``, root DN ``cn=admin,dc=example,dc=com`` / ``secret``,
mdb backend, core/cosine/inetorgperson schemas, listening on 127.0.0.1 at a free
port. Missing slapd or ldapadd skips the test (fails under CI=true) naming the
Debian packages.
"""
from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .daemon import free_port
from .tools import find_tool, missing

SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "secret"


def _bin(name: str) -> str:
    path = find_tool(name)
    if not path:
        missing(f"'{name}' not found: run `make setup` or `apt-get install slapd ldap-utils`")
    return path


@dataclass
class Slapd:
    base: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def add(self, ldif: str) -> None:
        done = subprocess.run([_bin("ldapadd"), "-x", "-H", self.uri, "-D", ROOT_DN, "-w",
                               ROOT_PW], input=ldif, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr

    def start(self) -> None:
        self.process = subprocess.Popen(
            [_bin("slapd"), "-f", str(self.base / "slapd.conf"), "-h", f"{self.uri}/", "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=open(self.base / "slapd.log", "wb"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("slapd exited: " + (self.base / "slapd.log").read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port),
                                                                         timeout=0.2):
                return
            time.sleep(0.02)
        raise AssertionError("slapd did not listen within 20s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _config(base: Path) -> str:
    schemas = "\n".join(f"include /etc/ldap/schema/{name}.schema"
                        for name in ("core", "cosine", "inetorgperson", "nis"))
    return f"""{schemas}
pidfile {base}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PW}
directory {base}/db
"""


@contextlib.contextmanager
def start_slapd() -> Iterator[Slapd]:
    _bin("slapd")
    _bin("ldapadd")
    base = Path(tempfile.mkdtemp(prefix="ecds-ldap-"))
    (base / "db").mkdir()
    (base / "slapd.conf").write_text(_config(base))
    server = Slapd(base, free_port())
    try:
        server.start()
        server.add(f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                   "o: Example\ndc: example\n")
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
