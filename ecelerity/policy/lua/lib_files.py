"""msys.readfile, require, dofile, loadfile: the only file access scripts get.

Installed by libraries.py.
  msys.readfile(path) -> contents, or nil, err. Only files under the runtime's
      readable directories (default: the script path) after resolving symlinks.
  require(name) -> "msys.*" names (msys.core, msys.extended.message...) and "json"
      return the built-in tables (everything is preloaded); any other name is a
      script on the script path (dotted, no .lua), run once and cached. C modules
      are never loaded.
  dofile(path) / loadfile(path) -> only .lua files under the script path.
Relative paths are taken from the first script-path directory.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class FileAccessError(PermissionError):
    pass


def _inside(path: Path, directories: list[str]) -> bool:
    return any(path == Path(d) or Path(d) in path.parents for d in directories)


def _allowed(runtime: Any, raw_path: bytes, directories: list[str]) -> Path:
    text = os.fsdecode(bytes(raw_path))
    base = Path(runtime.script_path[0]) if runtime.script_path else Path.cwd()
    path = (base / text).resolve()
    if not _inside(path, directories):
        raise FileAccessError(f"{text}: outside the directories scripts may read")
    return path


def readfile(runtime: Any, raw_path: bytes) -> Any:
    try:
        path = _allowed(runtime, raw_path, runtime.readable_dirs)
        return path.read_bytes()
    except (OSError, FileAccessError) as exc:
        return None, f"msys.readfile: {exc}".encode()


def _script_dirs(runtime: Any) -> list[str]:
    return [str(Path(d).resolve()) for d in runtime.script_path]


def loadfile(runtime: Any, raw_path: bytes) -> Any:
    try:
        path = _allowed(runtime, raw_path, _script_dirs(runtime))
        source = path.read_bytes()
    except (OSError, FileAccessError) as exc:
        return None, f"loadfile: {exc}".encode()
    env = runtime.sandbox.new_env(str(path).encode())
    return runtime.sandbox.load_in(env, source, ("@" + str(path)).encode())


def dofile(runtime: Any, raw_path: bytes) -> Any:
    loaded = loadfile(runtime, raw_path)
    chunk = loaded[0] if isinstance(loaded, tuple) else loaded
    if chunk is None:
        raise FileAccessError(loaded[1].decode("utf-8", "replace"))
    result = runtime.call(chunk, what=f"dofile {os.fsdecode(bytes(raw_path))}")
    if not result.ok:
        raise FileAccessError(result.error)
    return result.values


def require(runtime: Any, raw_name: bytes) -> Any:
    name = bytes(raw_name).decode("utf-8", "replace")
    if name == "json":
        return runtime.sandbox.base[b"json"]
    if name == "msys" or name.startswith("msys."):
        return runtime.sandbox.base[b"msys"]
    cache = runtime.__dict__.setdefault("_required", {})
    if name not in cache:
        env = runtime.load_file(runtime.resolve(name))
        cache[name] = env[b"_MODULE"] if env[b"_MODULE"] is not None else True
    return cache[name]


FUNCTIONS = {"msys.readfile": readfile, "require": require, "dofile": dofile,
             "loadfile": loadfile}
