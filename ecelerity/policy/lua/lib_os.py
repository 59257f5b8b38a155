"""msys.os.statvfs_subscribe / statvfs_read: file system usage for scripts.

Installed by libraries.py.
  msys.os.statvfs_subscribe(path [, interval_seconds]) -> a stream handle (string);
      the path must exist (else nil, errmsg). interval (default 5 s, minimum 0.1)
      is how old a snapshot may get before a read takes a new one.
  msys.os.statvfs_read(stream) -> {path, bsize, frsize, blocks, bfree, bavail, files,
      ffree, favail, flag, namemax, total_bytes, free_bytes, avail_bytes, used_percent,
      taken (epoch seconds)}
The statvfs call runs in gevent's OS thread pool (a hung NFS mount stalls only the
calling greenlet, never the hub). Reads only file system metadata.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from .lib_sync import run_blocking


@dataclass
class Stream:
    path: str
    interval: float
    snapshot: dict | None = None
    taken: float = 0.0


def _streams(runtime: Any) -> dict[str, Stream]:
    return runtime.__dict__.setdefault("_statvfs", {})


def _snapshot(path: str) -> dict:
    st = os.statvfs(path)
    total, free, avail = st.f_blocks * st.f_frsize, st.f_bfree * st.f_frsize, st.f_bavail * st.f_frsize
    used = total - free
    return {"path": path, "bsize": st.f_bsize, "frsize": st.f_frsize, "blocks": st.f_blocks,
            "bfree": st.f_bfree, "bavail": st.f_bavail, "files": st.f_files,
            "ffree": st.f_ffree, "favail": st.f_favail, "flag": st.f_flag,
            "namemax": st.f_namemax, "total_bytes": total, "free_bytes": free,
            "avail_bytes": avail,
            "used_percent": round(100.0 * used / (used + avail), 2) if used + avail else 0.0,
            "taken": time.time()}


def statvfs_subscribe(runtime: Any, path: Any, interval: Any = 5) -> Any:
    text = path.decode("utf-8", "surrogateescape") if isinstance(path, bytes) else str(path)
    if not os.path.exists(text):
        return None, f"statvfs_subscribe: {text}: no such file or directory".encode()
    handle = f"statvfs:{os.path.realpath(text)}"
    _streams(runtime)[handle] = Stream(os.path.realpath(text), max(0.1, float(interval)))
    return handle.encode()


def statvfs_read(runtime: Any, handle: Any) -> Any:
    key = handle.decode("utf-8", "surrogateescape") if isinstance(handle, bytes) else str(handle)
    stream = _streams(runtime).get(key)
    if stream is None:
        raise KeyError(f"unknown statvfs stream {key!r} (msys.os.statvfs_subscribe first)")
    now = time.monotonic()
    if stream.snapshot is None or now - stream.taken >= stream.interval:
        stream.snapshot = run_blocking(_snapshot, stream.path)
        stream.taken = now
    return runtime.to_lua(stream.snapshot)


FUNCTIONS = {"msys.os.statvfs_subscribe": statvfs_subscribe,
             "msys.os.statvfs_read": statvfs_read}
