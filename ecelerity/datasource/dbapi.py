"""What every DB-API 2 driver (sqlite, pgsql, mysql) does with a cursor after execute():
the rows as Momentum hands them to scripts (every non-NULL value as text), bounded by
max_rows, or the row count of a statement that returns none.

Who calls it: the driver_*.py ``run`` functions, in gevent's thread pool. Never opens,
commits or closes anything.
"""
from __future__ import annotations

from typing import Any

from .core import Result


def cell(value: Any) -> Any:
    """Momentum hands scripts strings: every non-NULL value as text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def cursor_result(cursor: Any, max_rows: int, fetch: bool) -> Result:
    """The Result of an executed cursor (``max_rows`` < 0: every row)."""
    if not fetch or cursor.description is None:
        return Result(rowcount=max(cursor.rowcount, 0))
    columns = [d[0] for d in cursor.description]
    raw = cursor.fetchall() if max_rows < 0 else cursor.fetchmany(max_rows)
    return Result(columns, [[cell(v) for v in row] for row in raw], len(raw))
