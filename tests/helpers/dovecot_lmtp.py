"""A real LMTP server for delivery tests: Debian's Dovecot (dovecot-lmtpd), started per test.

    with start_dovecot_lmtp({"alice": None, "bob": 1}) as server:   # bob: 1-byte quota
        ... deliver with delivery_method = LMTP to server.host:server.port ...
        server.delivered("alice")  -> list of message bytes in alice's maildir

Users come from a passwd-file userdb (the local part names the user, any domain);
mail goes to maildirs in a private temporary directory readable by ``nobody`` (Dovecot
refuses uid 0 for mail). A user with a quota in bytes gets the quota plugin's rule, so
a message bigger than that is refused after DATA (``552 5.2.2``) while the others in
the same transaction are saved: real per-recipient LMTP replies (RFC 2033).

Skips the calling test when Dovecot's lmtp binary is absent. Never binds a fixed port
(picks a free one) and never touches the system's Dovecot configuration.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Iterator


from tests.helpers.tools import missing

LMTP_BINARY = "/usr/lib/dovecot/lmtp"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_login_user = nobody
default_internal_user = root
default_internal_group = root
auth_username_format = %Ln
mail_location = maildir:{root}/mail/%n
mail_plugins = quota
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=1G
}}
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
  default_fields = uid=nobody gid=nogroup home={root}/mail/%n
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
  user = root
}}
"""


@dataclass
class DovecotLmtp:
    root: str
    host: str
    port: int

    def delivered(self, user: str) -> list[bytes]:
        """The messages saved in ``user``'s INBOX (maildir new/ and cur/), oldest first."""
        found = []
        for sub in ("new", "cur"):
            folder = os.path.join(self.root, "mail", user, sub)
            if os.path.isdir(folder):
                found += [os.path.join(folder, name) for name in os.listdir(folder)]
        found.sort(key=os.path.getmtime)
        messages = []
        for path in found:
            with open(path, "rb") as handle:
                messages.append(handle.read())
        return messages

    def log(self) -> str:
        with contextlib.suppress(OSError), open(os.path.join(self.root, "dovecot.log")) as handle:
            return handle.read()
        return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_listening(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as conn:
            conn.settimeout(2)
            return conn.recv(64).startswith(b"220")
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def start_dovecot_lmtp(users: dict[str, int | None]) -> Iterator[DovecotLmtp]:
    """Run Dovecot's LMTP service for ``users`` (name -> quota bytes or None)."""
    if not (os.path.exists(LMTP_BINARY) and shutil.which("dovecot")):
        missing("dovecot-lmtpd is not installed: run `make setup` or `apt-get install dovecot-lmtpd`")
    root = tempfile.mkdtemp(prefix="ecelerity-lmtp-")
    os.chmod(root, 0o755)
    os.makedirs(os.path.join(root, "mail"))
    os.chmod(os.path.join(root, "mail"), 0o777)
    with open(os.path.join(root, "users"), "w") as handle:
        for name, quota in users.items():
            extra = "" if quota is None else f"userdb_quota_rule=*:storage={quota}B"
            handle.write(f"{name}:{{PLAIN}}x::::::{extra}\n")
    process = None
    try:
        for _ in range(3):  # the free port can be taken between probe and bind: try again
            port = _free_port()
            with open(os.path.join(root, "dovecot.conf"), "w") as handle:
                handle.write(_CONFIG.format(root=root, port=port))
            process = subprocess.Popen(["dovecot", "-F", "-c", os.path.join(root, "dovecot.conf")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if _wait_listening(port, time.monotonic() + 10):
                break
            _stop(process)
            process = None
        if process is None:
            raise RuntimeError(f"dovecot LMTP did not start; see {root}/dovecot.log")
        yield DovecotLmtp(root, "127.0.0.1", port)
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
