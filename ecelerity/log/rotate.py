"""ec_rotate: rotate the daemon's log files (rename, ask the daemon to reopen, compress, prune).

Run from cron (time-based rotation) or with ``min_size`` (size-based). Reads a config file
like Momentum's ``ec_rotate.conf``: ``key = value`` lines, ``#`` comments, a trailing
``\\`` continues a line. Keys:

- ``enabled`` yes/no (default yes): no makes ec_rotate exit 0 without doing anything;
- ``logfiles``: whitespace-separated log paths; ``logdirs``: directories whose ``*.log``
  and ``*.ec`` files are rotated too;
- ``retention`` (default 7): how many old generations of each log to keep;
- ``compress`` bzip2 (default), gzip or none; ``min_size`` (bytes, default 0): logs
  smaller than this are left alone (empty logs are never rotated);
- ``pidfile``: the daemon's pidfile; it gets SIGUSR1 (= ``reopen logs``) after the
  renames. ``control_socket`` and ``path_to_bzip`` are accepted for compatibility and
  ignored (compression uses Python's bz2/gzip).

One run, per log ``L``: delete ``L.<retention>``, shift ``L.N`` to ``L.N+1``, rename ``L``
to ``L.1``; then signal the daemon once and wait (up to ``--wait`` seconds) until it has
re-created each ``L``, which proves it flushed its buffers into ``L.1`` and switched.
Compression is delayed by one generation (``L.2`` and older), so a file the daemon may
still be finishing is never compressed. Nothing is lost or duplicated: the daemon's
LogWriter puts every line in exactly one of the two files (log/writer.py).

Never touches a file that is not one of the configured logs or their generations.
Exit status: 0 ok (or disabled), 1 a log could not be rotated or the daemon did not
reopen, 2 bad command line or config file.
"""
from __future__ import annotations

import argparse
import bz2
import glob
import gzip
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field

DEFAULT_CONF = "conf/ec_rotate.conf"
SUFFIXES = {"bzip2": ".bz2", "gzip": ".gz", "none": ""}


class RotateConfigError(Exception):
    """The ec_rotate config file is unreadable or wrong; str() says file:line and why."""


@dataclass
class RotateConfig:
    enabled: bool = True
    logfiles: list[str] = field(default_factory=list)
    logdirs: list[str] = field(default_factory=list)
    retention: int = 7
    compress: str = "bzip2"
    min_size: int = 0
    pidfile: str | None = None

    def all_logs(self) -> list[str]:
        found = list(self.logfiles)
        for directory in self.logdirs:
            for pattern in ("*.log", "*.ec"):
                found.extend(sorted(glob.glob(os.path.join(directory, pattern))))
        return list(dict.fromkeys(found))


def parse_rotate_config(text: str, filename: str = "<string>") -> RotateConfig:
    """Parse ec_rotate.conf text (see the module docstring for the keys)."""
    config = RotateConfig()
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        if pending.strip():
            logical.append((start, pending.strip()))
        pending = ""
    if pending.strip():
        logical.append((start, pending.strip()))
    for number, line in logical:
        key, equals, value = line.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        where = f"{filename}:{number}"
        if not equals:
            raise RotateConfigError(f"{where}: expected 'key = value', got '{line}'")
        if key == "enabled":
            if value.lower() not in ("yes", "no", "true", "false", "on", "off", "1", "0"):
                raise RotateConfigError(f"{where}: enabled must be yes or no, got '{value}'")
            config.enabled = value.lower() in ("yes", "true", "on", "1")
        elif key in ("logfiles", "logdirs"):
            setattr(config, key, value.split())
        elif key in ("retention", "min_size"):
            if not value.isdigit() or (key == "retention" and int(value) < 1):
                raise RotateConfigError(f"{where}: {key} must be a whole number"
                                        f"{' >= 1' if key == 'retention' else ''}, got '{value}'")
            setattr(config, key, int(value))
        elif key == "compress":
            if value.lower() not in SUFFIXES:
                raise RotateConfigError(f"{where}: compress must be bzip2, gzip or none, "
                                        f"got '{value}'")
            config.compress = value.lower()
        elif key == "pidfile":
            config.pidfile = value or None
        elif key in ("control_socket", "path_to_bzip"):
            pass
        else:
            raise RotateConfigError(f"{where}: unknown key '{key}' (enabled, logfiles, logdirs, "
                                    "retention, compress, min_size, pidfile)")
    return config


def _generation(path: str, number: int) -> list[str]:
    """The existing files of generation ``number`` of ``path`` (plain or compressed)."""
    base = f"{path}.{number}"
    return [name for name in (base + suffix for suffix in ("", ".bz2", ".gz"))
            if os.path.exists(name)]


def shift_and_rename(path: str, retention: int, min_size: int = 0) -> bool:
    """Shift the old generations up by one and rename ``path`` to ``path.1``.

    Returns False (doing nothing) when the log is missing, empty or below ``min_size``."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return False
    if size == 0 or size < min_size:
        return False
    for stale in _generation(path, retention):
        os.unlink(stale)
    for number in range(retention - 1, 0, -1):
        for name in _generation(path, number):
            suffix = name[len(f"{path}.{number}"):]
            os.replace(name, f"{path}.{number + 1}{suffix}")
    os.replace(path, f"{path}.1")
    return True


def compress_old(path: str, retention: int, method: str) -> None:
    """Compress ``path.2`` .. ``path.<retention>`` that are still plain."""
    if method == "none":
        return
    opener = bz2.open if method == "bzip2" else gzip.open
    for number in range(2, retention + 1):
        plain = f"{path}.{number}"
        if not os.path.exists(plain):
            continue
        target = plain + SUFFIXES[method]
        partial = target + ".partial"
        with open(plain, "rb") as source, opener(partial, "wb") as sink:
            shutil.copyfileobj(source, sink, 1024 * 1024)
        os.replace(partial, target)
        os.unlink(plain)


def signal_daemon(pidfile: str) -> int:
    """Send SIGUSR1 to the pid in ``pidfile``; returns the pid. OSError/ValueError if not."""
    from ecelerity.daemon.pidfile import read_pid

    pid = read_pid(pidfile)
    if pid is None:
        raise ValueError(f"no pid in '{pidfile}'")
    os.kill(pid, signal.SIGUSR1)
    return pid


def wait_for_files(paths: list[str], timeout: float) -> list[str]:
    """Wait until every path exists again; returns those that did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    missing = [path for path in paths if not os.path.exists(path)]
    while missing and time.monotonic() < deadline:
        time.sleep(0.01)
        missing = [path for path in missing if not os.path.exists(path)]
    return missing


def rotate(config: RotateConfig, *, wait: float = 10.0, err=sys.stderr) -> int:
    """One ec_rotate run; returns the exit status (messages go to ``err``)."""
    if not config.enabled:
        return 0
    status = 0
    rotated = []
    for path in config.all_logs():
        try:
            if shift_and_rename(path, config.retention, config.min_size):
                rotated.append(path)
        except OSError as exc:
            err.write(f"ec_rotate: cannot rotate '{path}': {exc.strerror or exc}\n")
            status = 1
    if rotated and config.pidfile:
        try:
            signal_daemon(config.pidfile)
        except (OSError, ValueError) as exc:
            err.write(f"ec_rotate: cannot signal the daemon (pidfile '{config.pidfile}'): "
                      f"{getattr(exc, 'strerror', None) or exc}\n")
            return 1
        for path in wait_for_files(rotated, wait):
            err.write(f"ec_rotate: the daemon did not reopen '{path}' within {wait:g}s\n")
            status = 1
    for path in config.all_logs():
        try:
            compress_old(path, config.retention, config.compress)
        except OSError as exc:
            err.write(f"ec_rotate: cannot compress '{path}': {exc.strerror or exc}\n")
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ec_rotate", description="rotate ecelerity's logs")
    parser.add_argument("-c", "--config", default=DEFAULT_CONF, help="ec_rotate.conf path")
    parser.add_argument("--pidfile", help="override the pidfile key")
    parser.add_argument("--wait", type=float, default=10.0,
                        help="seconds to wait for the daemon to reopen (default 10)")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = parse_rotate_config(handle.read(), args.config)
    except OSError as exc:
        sys.stderr.write(f"ec_rotate: cannot read '{args.config}': {exc.strerror or exc}\n")
        return 2
    except RotateConfigError as exc:
        sys.stderr.write(f"ec_rotate: {exc}\n")
        return 2
    if args.pidfile:
        config.pidfile = args.pidfile
    return rotate(config, wait=args.wait)


if __name__ == "__main__":
    sys.exit(main())
