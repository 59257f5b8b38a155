"""Start a real ``ecelerity`` daemon process for a scenario test, talk to it, stop it.

    from tests.helpers.daemon import start_daemon, free_port

    port = free_port()
    with start_daemon(f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}', tmp_path) as d:
        assert d.command("config eval max_outbound_connections").body == [...]
        d.console("pid")                   # the real ec_console, as a subprocess
    # leaving the block: SIGTERM, wait (SIGKILL after a timeout), socket dir removed

``start_daemon`` writes ``tmp_path/ecelerity.conf`` and runs
``python -m ecelerity.daemon.main -c ecelerity.conf --foreground`` with the working
directory ``tmp_path`` (so relative paths in the config land there). Unless the text
says otherwise it adds ``Spoolbase = "var/spool"``, ``Pidfile = "var/run/ecelerity.pid"``
and a ``Control_Listener`` on a unix socket under a short /tmp directory (unix socket
paths are limited to ~107 bytes; pytest's tmp_path can be longer). The paths the
daemon will use are read from the config with the real loader, so the helper and the
daemon never disagree. It returns once the control channel answers ``pid`` with the
process's pid; if the daemon exits or does not answer within ``timeout`` it raises
DaemonStartError carrying stderr and the paniclog.

``run_ecelerity(args, cwd)`` runs the command to completion, for start-up failures.
The ``daemon_factory`` fixture (tests/conftest.py, available to every test without an
import) starts daemons through ``start_daemon`` and always stops them at teardown.
Everything binds loopback only; use ``free_port()`` for TCP listeners.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_NAME = "ecelerity.conf"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
MAX_UNIX_PATH = 100


class DaemonStartError(AssertionError):
    """The daemon died or never answered; str() holds its stderr and paniclog."""


def free_port(host: str = "127.0.0.1") -> int:
    """An ephemeral TCP port that was free a moment ago."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def daemon_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def ecelerity_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecelerity.daemon.main", *args]


def console_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ecelerity.control.console", *args]


def run_ecelerity(args: list[str], cwd: Path | str, *, timeout: float = 30.0,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``ecelerity ARGS`` to completion (for start-up failures and --check)."""
    return subprocess.run(ecelerity_command(*args), cwd=str(cwd), env=daemon_env(env),
                          capture_output=True, text=True, timeout=timeout)


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE | re.MULTILINE) is not None


def complete_config(config_text: str, socket_path: str) -> str:
    """The config with the test defaults added where the text does not set them."""
    head = []
    if not _has(r"^\s*spoolbase\b", config_text):
        head.append('Spoolbase = "var/spool"')
    if not _has(r"^\s*pidfile\b", config_text):
        head.append('Pidfile = "var/run/ecelerity.pid"')
    tail = []
    if not _has(r"\bcontrol_listener\b", config_text):
        tail.append(f'Control_Listener {{\n  Listen "{socket_path}" {{ File_Mode = 0600 }}\n}}')
    return "\n".join(head + [config_text] + tail) + "\n"


class DaemonProcess:
    """A running daemon started by start_daemon()."""

    def __init__(self, proc: subprocess.Popen, cwd: Path, *, control_address: str,
                 pidfile: Path, paniclog: Path, stderr_path: Path, cleanup_dirs: list[str]):
        self.proc = proc
        self.cwd = cwd
        self.config_path = cwd / CONFIG_NAME
        self.control_address = control_address  # what clients connect to (may be a short alias)
        self.pidfile = pidfile
        self.paniclog = paniclog
        self.stderr_path = stderr_path
        self._cleanup_dirs = cleanup_dirs

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def control_path(self) -> str:
        return self.control_address

    # -- talking to it -----------------------------------------------------------------
    def command(self, line: str, *, timeout: float = 10.0):
        """Run one console command through the control channel; returns a protocol Reply."""
        from ecelerity.control.client import run_command

        return run_command(self.control_address, line, timeout=timeout)

    def console(self, *args: str, stdin: str | None = None,
                timeout: float = 20.0) -> subprocess.CompletedProcess:
        """Run the real ``ec_console ADDRESS ARGS`` as a subprocess."""
        return subprocess.run(console_command(self.control_address, *args), cwd=str(self.cwd),
                              env=daemon_env(), input=stdin if stdin is not None else "",
                              capture_output=True, text=True, timeout=timeout)

    def write_config(self, config_text: str) -> None:
        """Replace the config file (atomically, as an operator's editor would)."""
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(config_text)
        os.replace(tmp, self.config_path)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def alive(self) -> bool:
        return self.proc.poll() is None

    # -- what it wrote -----------------------------------------------------------------
    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def paniclog_text(self, path: Path | None = None) -> str:
        try:
            return (path or self.paniclog).read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_paniclog(self, needle: str | re.Pattern[str], *, path: Path | None = None,
                          timeout: float = 10.0) -> str:
        """Poll the paniclog until ``needle`` (text or regex) appears; return the log."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.paniclog_text(path)
            found = needle.search(text) if isinstance(needle, re.Pattern) else needle in text
            if found:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not in the paniclog after {timeout}s\n{self.diagnostics()}")
            if not self.alive():
                raise AssertionError(f"daemon exited while waiting for {needle!r}\n{self.diagnostics()}")
            time.sleep(0.05)

    def diagnostics(self) -> str:
        status = self.proc.poll()
        state = "running" if status is None else f"exited with {status}"
        return (f"--- daemon pid {self.pid} in {self.cwd}: {state}\n"
                f"--- stderr:\n{self.stderr_text()[-4000:]}\n"
                f"--- paniclog {self.paniclog}:\n{self.paniclog_text()[-4000:]}")

    # -- stopping ----------------------------------------------------------------------
    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        return self.proc.wait(timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; SIGKILL (and AssertionError) if it does not exit in time."""
        try:
            if self.alive():
                self.proc.send_signal(signal.SIGTERM)
                try:
                    return self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.kill()
                    raise AssertionError(f"daemon ignored SIGTERM for {timeout}s\n{self.diagnostics()}") from None
            return self.proc.returncode
        finally:
            self._cleanup()

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(5)
        self._cleanup()

    def _cleanup(self) -> None:
        if self.alive():
            return
        for directory in self._cleanup_dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._cleanup_dirs = []

    def __enter__(self) -> "DaemonProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.alive():
            try:
                self.stop()
            except AssertionError:
                pass
        self._cleanup()


def _client_address(spec, cwd: Path, scratch: str) -> str:
    """Where a test connects for this ListenSpec (a short symlink for long unix paths)."""
    if spec.kind != "unix":
        host = spec.host if spec.host not in ("", "0.0.0.0") else "127.0.0.1"
        host = "::1" if host == "::" else host
        return f"[{host}]:{spec.port}" if ":" in host else f"{host}:{spec.port}"
    path = spec.path if os.path.isabs(spec.path) else str(cwd / spec.path)
    if len(path) <= MAX_UNIX_PATH:
        return path
    alias = os.path.join(scratch, "d")
    os.symlink(os.path.dirname(path), alias)
    return os.path.join(alias, os.path.basename(path))


def start_daemon(config_text: str, tmp_path: Path | str, *, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, timeout: float = START_TIMEOUT,
                 complete: bool = True) -> DaemonProcess:
    """Write the config into tmp_path, start the daemon there, wait until it answers."""
    from ecelerity.config.loader import load_config
    from ecelerity.daemon.main import runtime_paths

    cwd = Path(tmp_path)
    cwd.mkdir(parents=True, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="ec-", dir="/tmp")
    text = complete_config(config_text, os.path.join(scratch, "control.sock")) if complete else config_text
    (cwd / CONFIG_NAME).write_text(text)
    cfg = load_config(str(cwd / CONFIG_NAME))  # a bad config fails here, with its errors
    listens = [s for s in cfg.listens("control_listener") if s.enabled]
    if not listens:
        shutil.rmtree(scratch, ignore_errors=True)
        raise ValueError("the config has no enabled Control_Listener Listen; the helper needs one")
    if listens[0].kind == "tcp" and not listens[0].port:
        raise ValueError("a TCP control Listen needs a fixed port here (use free_port())")
    address = _client_address(listens[0], cwd, scratch)
    pidfile_override = None
    if "--pidfile" in args:
        pidfile_override = args[list(args).index("--pidfile") + 1]
    paths = runtime_paths(cfg, pidfile_override)
    stderr_path = cwd / "daemon.stderr"
    with open(stderr_path, "wb") as stderr_file:
        proc = subprocess.Popen(ecelerity_command("-c", CONFIG_NAME, "--foreground", *args),
                                cwd=str(cwd), env=daemon_env(env), stdin=subprocess.DEVNULL,
                                stdout=stderr_file, stderr=stderr_file, start_new_session=True)
    daemon = DaemonProcess(proc, cwd, control_address=address,
                           pidfile=cwd / paths.pidfile, paniclog=cwd / paths.paniclog,
                           stderr_path=stderr_path, cleanup_dirs=[scratch])
    _wait_ready(daemon, timeout)
    return daemon


def _wait_ready(daemon: DaemonProcess, timeout: float) -> None:
    from ecelerity.control.client import run_command
    from ecelerity.control.protocol import ProtocolError

    deadline = time.monotonic() + timeout
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if not daemon.alive():
            daemon._cleanup()
            raise DaemonStartError(f"daemon exited during start-up\n{daemon.diagnostics()}")
        try:
            reply = run_command(daemon.control_address, "pid", timeout=2.0)
            if reply.ok and reply.body == [str(daemon.pid)]:
                return
            last_error = f"pid answered {reply.status} {reply.body}"
        except (OSError, ProtocolError) as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.05)
    daemon.kill()
    raise DaemonStartError(f"daemon not ready after {timeout}s ({last_error})\n{daemon.diagnostics()}")

