"""The systems a benchmark drives: start, find their processes, count what they received, stop.

Who calls it: scenarios.py. Peers: EcelerityPeer (the real daemon, fsync on), AiosmtpdPeer
(aiosmtpd_peer.py: write + fsync per message) and PostfixPeer (a private loopback-only
instance, postfix_conf.py). Every peer binds 127.0.0.1 on an ephemeral port and keeps
all its files under the work directory it is given. ``received()`` counts at the
receiver (spool / output directory / Postfix hold queue), never the sender's count.
It must never touch the system Postfix or anything outside its work directory, and
must always stop what it started (stop() is safe to call twice).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers.inject import wait_for_smtp

from . import postfix_conf, procstat

REPO = Path(__file__).resolve().parents[2]
CODE_ROOT = {"path": REPO}  # the ecelerity tree the peers run (__main__ --snapshot/--tree)
ECELERITY_SETTINGS = {"text": ""}  # global settings every ecelerity peer gets (__main__ --workers)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT["path"]), str(REPO),
                                                      env.get("PYTHONPATH", "")]))
    return env


class Peer:
    """A receiving system under test."""

    name = "peer"

    def __init__(self, workdir: Path, *, sessions: int = 20, sink_port: int | None = None,
                 env_extra: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sessions = sessions
        self.sink_port = sink_port          # None: accept only; else relay everything there
        self.env_extra = dict(env_extra or {})  # e.g. LD_PRELOAD of the fsync-delay shim
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @classmethod
    def available(cls) -> str | None:
        """None when this peer can run here, else why not."""
        return None

    @property
    def root_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def processes(self) -> list[procstat.ProcSample]:
        return procstat.tree(self.root_pid)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def received(self) -> int:
        """Messages the receiver holds (call after stop())."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Remove what lives outside the work directory (after received())."""

    def _wait_ready(self) -> None:
        try:
            wait_for_smtp("127.0.0.1", self.port, timeout=30)
        except TimeoutError:
            self.stop()
            raise


class EcelerityPeer(Peer):
    """The real daemon. ``conf_extra`` is appended to the config and ``files`` written
    beside it (policy scripts); with a sink_port everything goes to that gateway."""

    name = "ecelerity"

    def __init__(self, workdir: Path, *, conf_extra: str = "", files: dict[str, str] | None = None,
                 **kwargs) -> None:
        super().__init__(workdir, **kwargs)
        self.conf_extra = conf_extra
        self.files = dict(files or {})

    CONF = """\
Spoolbase = "var/spool"
Pidfile = "var/run/ecelerity.pid"
Force_Fsync = true
{delivery}
relay_domains = ( "example.com" )
ESMTP_Listener {{
  Listen "127.0.0.1:{port}" {{ }}
  Idle_Time = 300
}}
Control_Listener {{ Listen "{control}" {{ File_Mode = 0600 }} }}
"""

    def start(self) -> None:
        self._scratch = tempfile.mkdtemp(prefix="ecb-", dir="/tmp")  # short unix socket path
        conf = self.workdir / "ecelerity.conf"
        if self.sink_port is None:  # accept: reception only, every message stays in the spool
            delivery = "Suspend_Delivery = true"
        else:
            delivery = f'gateway = "127.0.0.1:{self.sink_port}"'
        conf.write_text(self.CONF.format(port=self.port, control=f"{self._scratch}/c.sock",
                                         delivery=delivery) + ECELERITY_SETTINGS["text"] + self.conf_extra)
        for name, text in self.files.items():
            (self.workdir / name).write_text(text)
        self._log = open(self.workdir / "daemon.out", "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "ecelerity.daemon.main", "-c", str(conf),
                                      "--foreground"], cwd=self.workdir, env=_env() | self.env_extra,
                                     stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self._wait_ready()

    @property
    def control_address(self) -> str:
        """The console socket of the running daemon (``policy cpu`` is read through it)."""
        return f"{self._scratch}/c.sock"

    def stop(self) -> None:
        super().stop()
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        shutil.rmtree(getattr(self, "_scratch", ""), ignore_errors=True)

    def received(self) -> int:
        # worker_processes = N keeps one spool partition per worker: <spoolbase>/w<index>
        code = ("import os, sys\nfrom ecelerity.core.spool import Spool\n"
                "base = sys.argv[1]\nparts = sorted(os.path.join(base, d) for d in os.listdir(base)\n"
                "               if d[:1] == 'w' and d[1:].isdigit()) or [base]\ntotal = 0\n"
                "for path in parts:\n    sp = Spool(path, fsync=False)\n    sp.load_all(repair=False)\n"
                "    total += len(sp.messages())\nprint(total)\n")
        out = subprocess.run([sys.executable, "-c", code, str(self.workdir / "var" / "spool")],
                             capture_output=True, text=True, env=_env(), timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"reading the ecelerity spool failed: {out.stderr[-2000:]}")
        return int(out.stdout.strip())


class AiosmtpdPeer(Peer):
    name = "aiosmtpd"

    @classmethod
    def available(cls) -> str | None:
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            return "aiosmtpd not installed (.venv/bin/pip install aiosmtpd)"
        return None

    def start(self) -> None:
        self.outdir = self.workdir / "messages"
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("aiosmtpd_peer.py")),
                                      str(self.outdir), str(self.port)], cwd=self.workdir,
                                     env=_env(), stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready()

    def received(self) -> int:
        return sum(1 for name in os.listdir(self.outdir) if name.endswith(".eml"))


class PostfixPeer(Peer):
    """A private Postfix: config in WORK/etc, queue in WORK/queue; accept puts all on hold."""

    name = "postfix"

    def __init__(self, workdir: Path, **kwargs) -> None:
        super().__init__(workdir, **kwargs)
        # accept (no sink): every message on hold; relay: to the sink, nothing held
        self.extra = postfix_conf.ACCEPT_EXTRA if self.sink_port is None else ""
        if "LD_PRELOAD" in self.env_extra:  # master only passes on what it is told to
            self.extra += f"import_environment = {postfix_conf.IMPORT_ENVIRONMENT} " \
                          f"LD_PRELOAD={self.env_extra['LD_PRELOAD']}\n"
        self.base: Path | None = None  # under /tmp, world-traversable (not the 0700 workdir)
        self.master_pid: int | None = None

    @classmethod
    def available(cls) -> str | None:
        if not (shutil.which("postfix") or os.path.exists("/usr/sbin/postfix")):
            return "postfix not installed (apt-get install postfix)"
        if os.geteuid() != 0:
            return "a private Postfix instance needs root"
        return None

    def _postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["/usr/sbin/postfix", "-c", str(self.base / "etc"), *args],
                              capture_output=True, text=True, timeout=60,
                              env=dict(os.environ) | self.env_extra)

    def start(self) -> None:
        # the postfix user must reach the queue: pytest's and mkdtemp's dirs are 0700
        self.base = Path(tempfile.mkdtemp(prefix="ecpf-", dir="/tmp"))
        os.chmod(self.base, 0o755)
        for sub in ("etc", "queue", "data"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        shutil.chown(self.base / "data", "postfix")
        (self.base / "etc" / "main.cf").write_text(postfix_conf.main_cf(
            str(self.base), sink_port=self.sink_port or 9, sessions=self.sessions, extra=self.extra))
        (self.base / "etc" / "master.cf").write_text(postfix_conf.master_cf(self.port, sessions=self.sessions))
        result = self._postfix("start")
        if result.returncode != 0:
            raise RuntimeError(f"postfix start failed: {result.stdout}{result.stderr}"
                               f"{self._maillog_tail()}")
        pidfile = self.base / "queue" / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while not pidfile.exists() or not pidfile.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError("postfix master.pid never appeared" + self._maillog_tail())
            time.sleep(0.05)
        self.master_pid = int(pidfile.read_text().split()[0])
        self._wait_ready()

    def _maillog_tail(self) -> str:
        try:
            return "\n" + (self.base / "maillog").read_text()[-2000:]
        except OSError:
            return ""

    @property
    def root_pid(self) -> int:
        assert self.master_pid is not None
        return self.master_pid

    def stop(self) -> None:
        if self.master_pid is None:
            return
        self._postfix("stop")
        deadline = time.monotonic() + 15
        while os.path.exists(f"/proc/{self.master_pid}") and time.monotonic() < deadline:
            time.sleep(0.1)
        if os.path.exists(f"/proc/{self.master_pid}"):
            self._postfix("abort")
        self.master_pid = None

    def cleanup(self) -> None:
        if self.base is not None and self.master_pid is None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    def received(self) -> int:
        """Messages in the queue (accept: the hold queue; relay: what is left undelivered)."""
        queue = self.base / "queue"
        return sum(len(files) for sub in ("hold", "incoming", "active", "deferred")
                   for _root, _dirs, files in os.walk(queue / sub))


PEERS = {cls.name: cls for cls in (EcelerityPeer, AiosmtpdPeer, PostfixPeer)}
