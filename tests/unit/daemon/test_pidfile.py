"""ecelerity/daemon/pidfile.py: live holders refuse, stale files are replaced, release removes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecelerity.daemon.pidfile import PidFile, PidFileError, pid_is_alive, read_pid

REPO_ROOT = Path(__file__).resolve().parents[3]


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_acquire_writes_our_pid_and_release_removes_it(tmp_path):
    path = tmp_path / "run/ecelerity.pid"
    pidfile = PidFile(str(path))
    pidfile.acquire()
    assert path.read_text() == f"{os.getpid()}\n"
    assert pidfile.held
    pidfile.release()
    assert not path.exists() and not pidfile.held


@pytest.mark.parametrize("content", [lambda: f"{dead_pid()}\n", lambda: "garbage", lambda: ""])
def test_stale_or_garbage_pidfile_is_replaced(tmp_path, content):
    path = tmp_path / "ecelerity.pid"
    path.write_text(content())
    pidfile = PidFile(str(path))
    pidfile.acquire()
    assert read_pid(str(path)) == os.getpid()
    pidfile.release()


def test_a_live_process_named_in_the_file_refuses(tmp_path):
    path = tmp_path / "ecelerity.pid"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        path.write_text(f"{sleeper.pid}\n")
        with pytest.raises(PidFileError, match=f"names running process {sleeper.pid}"):
            PidFile(str(path)).acquire()
        assert path.read_text() == f"{sleeper.pid}\n"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_lock_held_by_another_process_refuses(tmp_path):
    path = tmp_path / "ecelerity.pid"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, sys.argv[2]);"
         "from ecelerity.daemon.pidfile import PidFile; p = PidFile(sys.argv[1]); p.acquire();"
         "print('held', flush=True); sys.stdin.read()", str(path), str(REPO_ROOT)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PidFileError, match=f"is held by running process {holder.pid}"):
            PidFile(str(path)).acquire()
    finally:
        holder.stdin.close()
        holder.wait(10)
    pidfile = PidFile(str(path))  # the holder exited without release: stale now
    pidfile.acquire()
    pidfile.release()


def test_unopenable_path_is_a_clean_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(PidFileError, match="cannot open pidfile"):
        PidFile(str(tmp_path / "file/ecelerity.pid")).acquire()


def test_release_leaves_a_file_that_is_no_longer_ours(tmp_path):
    path = tmp_path / "ecelerity.pid"
    pidfile = PidFile(str(path))
    pidfile.acquire()
    path.write_text("1\n")  # an operator overwrote it
    pidfile.release()
    assert path.read_text() == "1\n"


def test_pid_is_alive():
    assert pid_is_alive(os.getpid())
    assert not pid_is_alive(dead_pid())
    assert not pid_is_alive(0)
