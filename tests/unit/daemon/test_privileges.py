"""Tests for ecelerity/daemon/privileges.py and its place in start-up (main.py, workers.py).

Identity resolution and the chown plan are checked directly; the drop itself in real
processes started as root (skipped otherwise): a bare interpreter, a single-process
daemon on a privileged port, and a daemon with two workers.
"""
from __future__ import annotations

import grp
import os
import pwd
import random
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from ecelerity.config.loader import load_config
from ecelerity.daemon.privileges import Identity, chown_targets, resolve_identity
from ecelerity.daemon.service import StartupError
from tests.helpers.daemon import REPO_ROOT, daemon_env, free_port, run_ecelerity, start_daemon

NOBODY = pwd.getpwnam("nobody")
NOGROUP = grp.getgrnam("nogroup").gr_gid
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")


def config(tmp_path: Path, text: str):
    path = tmp_path / "ecelerity.conf"
    path.write_text(text + "\n")
    return load_config(str(path))


def uid_gid_of(pid: int) -> tuple[set[str], set[str]]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    field = {line.split(":")[0]: line.split()[1:] for line in status}
    return set(field["Uid"]), set(field["Gid"])


# -- resolving the identity ---------------------------------------------------------------------
def test_user_group_and_supplemental_groups_resolve_by_name_and_number(tmp_path):
    cfg = config(tmp_path, 'Security { user = "nobody" group = "nogroup" '
                           'supplemental_groups = ( "nogroup" "0" "nogroup" ) }')
    identity, note = resolve_identity(cfg, euid=0)
    assert identity == Identity("nobody", NOBODY.pw_uid, NOGROUP, (NOGROUP, 0)) and note == ""
    numeric = config(tmp_path, f'Security {{ user = "{NOBODY.pw_uid}" }}')
    identity, _ = resolve_identity(numeric, euid=0)
    assert (identity.user, identity.uid, identity.gid, identity.groups) == (
        "nobody", NOBODY.pw_uid, NOBODY.pw_gid, ())  # no group: the user's primary group


def test_not_root_means_nothing_to_drop_even_with_a_bad_user(tmp_path):
    cfg = config(tmp_path, 'Security { user = "no-such-user-ecelerity" }')
    assert resolve_identity(cfg, euid=1000) == (None, "")


def test_unknown_user_or_group_is_a_start_up_error_naming_it(tmp_path):
    with pytest.raises(StartupError, match="Security user 'no-such-user-ecelerity' does not exist"):
        resolve_identity(config(tmp_path, 'Security { user = "no-such-user-ecelerity" }'), euid=0)
    with pytest.raises(StartupError, match="Security group 'no-such-group-ec' does not exist"):
        resolve_identity(config(tmp_path, 'Security { user = "nobody" group = "no-such-group-ec" }'),
                         euid=0)


def test_without_a_user_the_default_ecuser_is_used_when_it_exists(tmp_path):
    identity, note = resolve_identity(config(tmp_path, 'Spoolbase = "var/spool"'), euid=0)
    try:
        ecuser = pwd.getpwnam("ecuser")
    except KeyError:
        assert identity is None and "'ecuser' does not exist" in note
    else:
        assert (identity.uid, identity.gid, note) == (ecuser.pw_uid, ecuser.pw_gid, "")


# -- what gets handed over ----------------------------------------------------------------------
def test_relative_paths_hand_over_their_top_directory_absolute_ones_only_the_file(tmp_path):
    trees, files = chown_targets(
        ["var/spool", "./var/log/paniclog.ec", "ecelerity.pid", "../outside/x.log",
         "/abs/dir/mainlog.ec", "/spool/elsewhere/sub/file", ""],
        ["/spool/elsewhere"], start_dir=str(tmp_path))
    assert trees == ["/spool/elsewhere", str(tmp_path / "var"), str(tmp_path / "ecelerity.pid")]
    assert files == [str(tmp_path.parent / "outside" / "x.log"), "/abs/dir/mainlog.ec"]


@needs_root
def test_a_process_keeps_its_bound_socket_and_writes_only_what_was_handed_over(tmp_path):
    tree = tmp_path / "var"
    (tree / "spool" / "segments").mkdir(parents=True)
    (tree / "spool" / "segments" / "1.seg").write_bytes(b"x")
    (tree / "someone").write_text("owned by uid 4242")
    os.chown(tree / "someone", 4242, 4242)
    outside = tmp_path / "outside.txt"
    outside.write_text("root's")
    os.symlink(outside, tree / "link")
    os.chmod(tmp_path, 0o755)  # the process's cwd; nobody must be allowed in it
    script = textwrap.dedent(f"""
        import os, socket
        from ecelerity.daemon.privileges import Identity, drop_privileges, hand_over
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        ident = Identity("nobody", {NOBODY.pw_uid}, {NOGROUP}, ())
        changed = hand_over(ident, [{str(tree)!r}], [])
        os.chdir({str(tmp_path)!r})  # its parents may be closed to nobody, as in a daemon
        drop_privileges(ident)
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        client.sendall(b"ping")
        got = server.recv(4)
        open("var/spool/new", "w").write("written as nobody")
        try:
            os.setuid(0)
            back = "root came back"
        except PermissionError:
            back = "no way back"
        print(changed, got.decode(), back, os.getuid(), os.getgid(), os.getgroups(), sep="|")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=str(REPO_ROOT), env=daemon_env(),
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    changed, got, back, uid, gid, groups = done.stdout.strip().split("|")
    assert (got, back, int(uid), int(gid), groups) == (
        "ping", "no way back", NOBODY.pw_uid, NOGROUP, "[]")
    assert int(changed) == 5  # var, spool, segments, 1.seg, the symlink itself
    assert (tree / "spool" / "new").stat().st_uid == NOBODY.pw_uid
    assert (tree / "someone").stat().st_uid == 4242 and outside.stat().st_uid == 0


# -- the order in a real daemon -------------------------------------------------------------------
def privileged_port() -> int:
    for port in random.sample(range(600, 1024), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port below 1024 on 127.0.0.1")


MESSAGE = (b"From: s@b.test\r\nTo: a@x.test\r\nSubject: as nobody\r\n"
           b"Date: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@b.test>\r\n\r\nhi\r\n")
DAEMON_CONF = ('Security {{ user = "nobody" group = "nogroup" }}\nSuspend_Delivery = true\n'
               'relay_domains = ( "x.test" )\n{extra}'
               'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')


@pytest.fixture
def open_dir():
    """A directory nobody can reach (pytest's tmp_path sits under a 0700 directory)."""
    path = tempfile.mkdtemp(prefix="ec-priv-", dir="/tmp")
    os.chmod(path, 0o755)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@needs_root
def test_daemon_binds_a_privileged_port_then_drops_before_serving(open_dir):
    port = privileged_port()
    with start_daemon(DAEMON_CONF.format(port=port, extra=""), open_dir) as daemon:
        assert uid_gid_of(daemon.pid) == ({str(NOBODY.pw_uid)}, {str(NOGROUP)})
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("s@b.test", ["a@x.test"], MESSAGE)  # spooled as nobody
        log = daemon.wait_for_paniclog("ecelerity: started")
        listening, dropped, started = (log.index(s) for s in (
            "control: listening on", "privileges dropped to user nobody", "ecelerity: started"))
        assert listening < dropped < started, log
        assert "out of reach" not in log, log
        segments = list((daemon.cwd / "var" / "spool").rglob("*.seg"))
        assert segments and {p.stat().st_uid for p in segments} == {NOBODY.pw_uid}
        assert daemon.stop() == 0
        assert not daemon.pidfile.exists()  # removed by nobody: var/run was handed over


@needs_root
def test_workers_drop_and_the_supervisor_keeps_root(daemon_factory):
    port = free_port()
    daemon = daemon_factory(DAEMON_CONF.format(port=port, extra="worker_processes = 2\n"))
    children = Path(f"/proc/{daemon.pid}/task/{daemon.pid}/children").read_text().split()
    assert len(children) == 2
    assert uid_gid_of(daemon.pid) == ({"0"}, {"0"})
    assert all(uid_gid_of(int(pid)) == ({str(NOBODY.pw_uid)}, {str(NOGROUP)}) for pid in children)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        assert client.ehlo("c.test")[0] == 250
    for index in (0, 1):  # tmp_path's parents are closed to nobody: each worker says so
        daemon.wait_for_paniclog(re.compile(rf"worker {index}/2: privileges dropped to user nobody "
                                            rf".*'[^']*/var/spool' is out of reach of nobody"))
    assert daemon.stop() == 0


@needs_root
def test_unknown_user_fails_start_up_with_one_clear_line(tmp_path):
    (tmp_path / "ecelerity.conf").write_text('Security { user = "no-such-user-ecelerity" }\n'
                                             'Spoolbase = "var/spool"\n')
    done = run_ecelerity(["-c", "ecelerity.conf", "--foreground"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == ("ecelerity: Security user 'no-such-user-ecelerity' "
                                   "does not exist on this system")
