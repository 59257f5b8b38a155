"""ecelerity/daemon/detach.py: how start-up ended reaches whoever started the daemon --
stderr in the foreground, "<code> <reason>" on the pipe of a detached daemon."""
from __future__ import annotations

import os

from ecelerity.daemon import detach, main


def test_a_failure_goes_down_the_pipe_once_with_its_exit_code():
    read_fd, write_fd = os.pipe()
    reporter = detach.StartupReporter(write_fd)
    assert reporter.fail(detach.EXIT_STARTUP_FAILED, "spool not writable") == 1
    assert os.read(read_fd, 100) == b"1 spool not writable\n"
    assert reporter.pipe_fd is None
    os.close(read_fd)


def test_in_the_foreground_a_failure_is_one_stderr_line(capsys):
    assert detach.StartupReporter().fail(detach.EXIT_BAD_CONFIG, "bad --worker") == 2
    assert capsys.readouterr().err == "ecelerity: bad --worker\n"


def test_main_keeps_the_old_names():
    assert main.StartupReporter is detach.StartupReporter and main.daemonize is detach.daemonize
    assert (main.EXIT_OK, main.EXIT_STARTUP_FAILED, main.EXIT_BAD_CONFIG) == (0, 1, 2)
