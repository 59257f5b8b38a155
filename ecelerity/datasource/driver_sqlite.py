"""SQLite datasource driver: stdlib sqlite3, called only from gevent's thread pool.

``sqlite:/path/to/file.db`` (or ``sqlite::memory:``). Placeholders become ``?``;
statements run in autocommit mode. core.py calls connect/run/close in pool threads,
one thread at a time per connection. Never called on the hub.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from .core import Result
from .dbapi import cursor_result
from .params import bind


def connect(settings: dict, timeout: float) -> sqlite3.Connection:
    path = settings["path"]
    if path != ":memory:":
        # mode=rw: a missing file is an error, not a new empty database
        return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout,
                               isolation_level=None, check_same_thread=False)
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


def run(conn: sqlite3.Connection, text: str, params: Any, max_rows: int, fetch: bool) -> Result:
    query, values = bind(text, params, "?")
    cursor = conn.execute(query, values)
    try:
        return cursor_result(cursor, max_rows, fetch)
    finally:
        cursor.close()


def still_usable(conn: sqlite3.Connection, exc: BaseException) -> bool:
    return isinstance(exc, (sqlite3.ProgrammingError, sqlite3.OperationalError,
                            sqlite3.IntegrityError))


def close(conn: sqlite3.Connection) -> None:
    conn.close()


def interrupt(conn: sqlite3.Connection) -> None:
    conn.interrupt()
