"""msys.core.io_wrapper_open: Momentum's IO wrapper, a file handle confined to allowed roots.

Installed by libraries.py.
  msys.core.io_wrapper_open(path, flags [, mode]) -> handle, or nil, errmsg.
      ``flags``: msys.core.O_RDONLY / O_WRONLY / O_RDWR combined (``|`` on Lua 5.4,
      ``bit.bor`` or ``+`` on LuaJIT) with O_CREAT, O_APPEND, O_TRUNC, O_EXCL
      (O_BINARY is 0, accepted). ``mode``: permission bits for O_CREAT (default 0640).
      ``path``: a plain path or ``file://`` URI; relative paths are taken from the first
      script-path directory, symlinks are resolved before the check. Opening for
      reading needs the file under the runtime's readable directories (the same rule
      as msys.readfile, lib_files._allowed); opening for writing needs it under
      ``runtime.writable_dirs`` (none unless the embedder sets some: scripts cannot
      write anywhere by default). Other URI schemes (jlog://...) are refused.
  handle:read([n | "*a" | "*l"]) -> bytes (nil at end of file), handle:write(data [, len])
      -> true, handle:seek([whence [, offset]]) -> position, handle:close() -> true.
      A handle is closed when the script drops it and Lua collects it, or at close().
File system calls run in gevent's threadpool, so a slow disk blocks only the calling
session's greenlet. Never opens anything outside the allowed roots, never follows a
symlink out of them, never hands Lua a Python file object.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gevent

from .lib_files import FileAccessError, _allowed

O_FLAGS = {"O_RDONLY": os.O_RDONLY, "O_WRONLY": os.O_WRONLY, "O_RDWR": os.O_RDWR,
           "O_CREAT": os.O_CREAT, "O_APPEND": os.O_APPEND, "O_TRUNC": os.O_TRUNC,
           "O_EXCL": os.O_EXCL, "O_BINARY": getattr(os, "O_BINARY", 0)}
CONSTANTS = {f"msys.core.{name}": value for name, value in O_FLAGS.items()}
_KNOWN_FLAGS = 0
for _value in O_FLAGS.values():
    _KNOWN_FLAGS |= _value
DEFAULT_MODE = 0o640
READ_CHUNK = 65536
MAX_READ = 64 * 1024 * 1024  # one read("*a") returns at most this much


def _blocking(function: Any, *args: Any) -> Any:
    return gevent.get_hub().threadpool.apply(function, args)


class IoHandle:
    """An open file descriptor owned by one Lua handle."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd: int | None = fd
        self.path = path
        self.pending = b""  # read ahead past a line end

    def _fd(self) -> int:
        if self.fd is None:
            raise OSError(f"{self.path}: handle is closed")
        return self.fd

    def read(self, what: Any = b"*l") -> bytes | None:
        fd = self._fd()
        if isinstance(what, (int, float)):
            return self._take(max(0, int(what)), fd)
        form = bytes(what or b"*l").lstrip(b"*")[:1]
        if form == b"a":
            return self._take(MAX_READ, fd, until_eof=True) or b""
        if form in (b"l", b"L"):
            return self._line(fd, keep=form == b"L")
        raise ValueError(f"read format {bytes(what)!r} (use a number, '*a' or '*l')")

    def _take(self, size: int, fd: int, until_eof: bool = False) -> bytes | None:
        data = self.pending
        while len(data) < size:
            chunk = _blocking(os.read, fd, min(READ_CHUNK, size - len(data)))
            if not chunk:
                break
            data += chunk
            if not until_eof and data:
                break
        self.pending = data[size:]
        data = data[:size]
        return data if data or size == 0 else None

    def _line(self, fd: int, keep: bool) -> bytes | None:
        data = self.pending
        while b"\n" not in data and len(data) < MAX_READ:
            chunk = _blocking(os.read, fd, READ_CHUNK)
            if not chunk:
                break
            data += chunk
        if not data:
            self.pending = b""
            return None
        line, newline, self.pending = data.partition(b"\n")
        return line + newline if keep else line

    def write(self, data: Any, length: Any = None) -> bool:
        fd = self._fd()
        payload = data if isinstance(data, bytes) else str(data).encode()
        if length is not None:
            payload = payload[:max(0, int(length))]
        view = memoryview(payload)
        while view:
            written = _blocking(os.write, fd, view)
            view = view[written:]
        return True

    def seek(self, whence: Any = b"cur", offset: Any = 0) -> int:
        where = {b"set": os.SEEK_SET, b"cur": os.SEEK_CUR, b"end": os.SEEK_END}.get(bytes(whence or b"cur"))
        if where is None:
            raise ValueError("seek: whence must be 'set', 'cur' or 'end'")
        position = os.lseek(self._fd(), int(offset) - (len(self.pending) if where == os.SEEK_CUR else 0),
                            where)
        self.pending = b""
        return position

    def close(self) -> bool:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)
        return True

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


def _handle_class(runtime: Any) -> Any:
    found = runtime.__dict__.get("_io_handle_class")
    if found is None:
        found = runtime.__dict__["_io_handle_class"] = runtime.sandbox.make_class(
            b"io_wrapper", runtime.table({
                "read": IoHandle.read, "write": IoHandle.write, "seek": IoHandle.seek,
                "close": IoHandle.close}))
    return found


def _path_text(raw: bytes) -> bytes:
    text = bytes(raw)
    if text.startswith(b"file://"):
        return text[len(b"file://"):]
    scheme, sep, _ = text.partition(b"://")
    if sep and scheme.isalnum():
        raise FileAccessError(f"{scheme.decode(errors='replace')}:// resources are not supported "
                              "(plain files only)")
    return text


def io_wrapper_open(runtime: Any, raw_path: bytes, flags: Any = 0, mode: Any = DEFAULT_MODE) -> Any:
    flags = int(flags or 0)
    if flags & ~_KNOWN_FLAGS:
        raise ValueError(f"unsupported open flags {flags & ~_KNOWN_FLAGS:#o} (use msys.core.O_*)")
    writing = (flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC)) != 0
    try:
        text = _path_text(raw_path)
        roots = list(getattr(runtime, "writable_dirs", None) or []) if writing else runtime.readable_dirs
        if writing and not roots:
            raise FileAccessError(f"{os.fsdecode(text)}: scripts may not write files here "
                                  "(no writable directories configured)")
        path = _allowed(runtime, text, [str(Path(d).resolve()) for d in roots])
        fd = _blocking(os.open, str(path), flags | os.O_NOFOLLOW | os.O_CLOEXEC,
                       int(mode if mode is not None else DEFAULT_MODE) & 0o777)
    except (OSError, FileAccessError) as exc:
        return None, f"msys.core.io_wrapper_open: {exc}".encode()
    return _handle_class(runtime)(IoHandle(fd, path))


FUNCTIONS = {"msys.core.io_wrapper_open": io_wrapper_open}
