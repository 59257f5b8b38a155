"""SQLite datasource driver: stdlib sqlite3, called only from gevent's thread pool.

``sqlite:/path/to/file.db`` (or ``sqlite::memory:``). Placeholders become ``?``;
statements run in autocommit mode. core.py calls connect/run/close in pool threads,
one thread at a time per connection. Never called on the hub.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from .core import Result
from .params import bind


def connect(settings: dict, timeout: float) -> sqlite3.Connection:
    path = settings["path"]
    if path != ":memory:":
        # mode=rw: a missing file is an error, not a new empty database
        return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout,
                               isolation_level=None, check_same_thread=False)
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


def cell(value: Any) -> Any:
    """Momentum hands scripts strings: every non-NULL value as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def run(conn: sqlite3.Connection, text: str, params: Any, max_rows: int, fetch: bool) -> Result:
    query, values = bind(text, params, "?")
    cursor = conn.execute(query, values)
    try:
        if not fetch or cursor.description is None:
            return Result(rowcount=max(cursor.rowcount, 0))
        columns = [d[0] for d in cursor.description]
        raw = cursor.fetchall() if max_rows < 0 else cursor.fetchmany(max_rows)
        return Result(columns, [[cell(v) for v in row] for row in raw], len(raw))
    finally:
        cursor.close()


def still_usable(conn: sqlite3.Connection, exc: BaseException) -> bool:
    return isinstance(exc, (sqlite3.ProgrammingError, sqlite3.OperationalError,
                            sqlite3.IntegrityError))


def close(conn: sqlite3.Connection) -> None:
    conn.close()


def interrupt(conn: sqlite3.Connection) -> None:
    conn.interrupt()
