"""ecelerity/log/rotate.py (ec_rotate): config file, generations, compression, rotation under load.

The load test runs a real writer process (LogWriter, SIGUSR1 -> reopen, as the daemon
does) and rotates its log 20 times while it writes; the union of all generations must
hold every line exactly once.
"""
from __future__ import annotations

import bz2
import gzip
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecelerity.log.rotate import (RotateConfig, RotateConfigError, main, parse_rotate_config,
                                  rotate)

REPO = Path(__file__).resolve().parents[3]

WRITER_PROCESS = r'''
import os, signal, sys
import gevent, gevent.event
from ecelerity.log.writer import LogWriter

path, pidfile = sys.argv[1], sys.argv[2]
writer = LogWriter(path, flush_interval=0.005)
writer.start()
stop = gevent.event.Event()
gevent.signal_handler(signal.SIGUSR1, lambda: gevent.spawn(writer.reopen))
gevent.signal_handler(signal.SIGTERM, stop.set)
with open(pidfile + ".tmp", "w") as handle:
    handle.write(str(os.getpid()))
os.replace(pidfile + ".tmp", pidfile)
count = 0
while not stop.is_set():
    writer.write_line(f"record-{count}")
    count += 1
    if count % 25 == 0:
        gevent.sleep(0.0005)
writer.close()
print(count, flush=True)
'''


def test_parse_momentum_style_file():
    config = parse_rotate_config(
        "# comment\n"
        "enabled=yes\n"
        "logfiles =  /var/log/ecelerity/mainlog.ec \\\n"
        "            /var/log/ecelerity/paniclog.ec   # trailing comment\n"
        "logdirs = /var/log/ecelerity/adaptive\n"
        "retention = 7\n"
        "control_socket = /tmp/2025\n"
        "compress = gzip\n"
        'pidfile = "/var/run/ecelerity.pid"\n', "ec_rotate.conf")
    assert config.logfiles == ["/var/log/ecelerity/mainlog.ec", "/var/log/ecelerity/paniclog.ec"]
    assert config.logdirs == ["/var/log/ecelerity/adaptive"]
    assert (config.retention, config.compress, config.enabled) == (7, "gzip", True)
    assert config.pidfile == "/var/run/ecelerity.pid"


@pytest.mark.parametrize("text, message", [
    ("retention = seven\n", "ec_rotate.conf:1: retention must be a whole number >= 1"),
    ("\nlogfile = x\n", "ec_rotate.conf:2: unknown key 'logfile'"),
    ("compress = zip\n", "ec_rotate.conf:1: compress must be bzip2, gzip or none"),
    ("just words\n", "ec_rotate.conf:1: expected 'key = value'"),
])
def test_config_errors_name_file_and_line(text, message):
    with pytest.raises(RotateConfigError) as caught:
        parse_rotate_config(text, "ec_rotate.conf")
    assert str(caught.value).startswith(message)


def test_generations_shift_prune_and_compress_one_behind(tmp_path):
    log = tmp_path / "mainlog.ec"
    config = RotateConfig(logfiles=[str(log)], retention=3, compress="bzip2")
    for run in range(5):
        log.write_text(f"run {run}\n")
        assert rotate(config, err=io.StringIO()) == 0
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["mainlog.ec.1", "mainlog.ec.2.bz2", "mainlog.ec.3.bz2"]
    assert (tmp_path / "mainlog.ec.1").read_text() == "run 4\n"
    assert bz2.decompress((tmp_path / "mainlog.ec.2.bz2").read_bytes()) == b"run 3\n"
    assert bz2.decompress((tmp_path / "mainlog.ec.3.bz2").read_bytes()) == b"run 2\n"


def test_empty_small_and_missing_logs_are_left_alone(tmp_path):
    empty, small = tmp_path / "empty.ec", tmp_path / "small.ec"
    empty.write_text("")
    small.write_text("tiny\n")
    config = RotateConfig(logfiles=[str(empty), str(small), str(tmp_path / "missing.ec")],
                          min_size=100, compress="gzip")
    assert rotate(config, err=io.StringIO()) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["empty.ec", "small.ec"]


def test_disabled_does_nothing_and_dead_daemon_is_an_error(tmp_path):
    log = tmp_path / "mainlog.ec"
    log.write_text("x\n")
    assert rotate(RotateConfig(enabled=False, logfiles=[str(log)])) == 0
    assert log.exists()
    pidfile = tmp_path / "ecelerity.pid"
    pidfile.write_text("")
    err = io.StringIO()
    assert rotate(RotateConfig(logfiles=[str(log)], pidfile=str(pidfile)), err=err) == 1
    assert "cannot signal the daemon" in err.getvalue()


def _wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def _read_generation(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.suffix == ".bz2":
        data = bz2.decompress(data)
    elif path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode().splitlines()


def test_rotation_under_load_keeps_every_line_exactly_once(tmp_path):
    log, pidfile = tmp_path / "log" / "mainlog.ec", tmp_path / "ecelerity.pid"
    conf = tmp_path / "ec_rotate.conf"
    conf.write_text(f"logfiles = {log}\nretention = 30\ncompress = bzip2\npidfile = {pidfile}\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", WRITER_PROCESS, str(log), str(pidfile)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        _wait_until(lambda: pidfile.exists() and log.exists() and log.stat().st_size > 0)
        # once through the real command line, then in-process (same code, faster)
        cli = subprocess.run([sys.executable, "-m", "ecelerity.log.rotate", "-c", str(conf)],
                             env=env, capture_output=True, text=True, timeout=30)
        assert cli.returncode == 0, cli.stderr
        for _ in range(19):
            _wait_until(lambda: log.exists() and log.stat().st_size > 0)
            assert main(["-c", str(conf)]) == 0
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    produced = int(out.strip())
    generations = sorted(tmp_path.joinpath("log").iterdir(),
                         key=lambda path: -int(path.name.split(".")[2]) if path.name.count(".") >= 2 else 0)
    assert len(generations) == 21  # 20 rotated generations + the live file
    assert sum(1 for path in generations if path.suffix == ".bz2") == 19
    lines = [line for path in generations for line in _read_generation(path)]
    assert len(lines) == produced > 1000
    assert lines == [f"record-{number}" for number in range(produced)]
