"""MySQL/MariaDB datasource driver: PyMySQL, called only from gevent's thread pool.

``mysql:host=127.0.0.1;port=3306;dbname=mail;user=u;password=p`` (or
``unix_socket=/path``). PyMySQL is pure Python (no client library to install);
its blocking socket calls run in pool threads with connect/read/write timeouts
from the datasource's timeout. Autocommit; placeholders become ``%s``.
"""
from __future__ import annotations

from typing import Any

from .core import Result
from .dbapi import cursor_result
from .params import bind

try:
    import pymysql
except ImportError:  # pragma: no cover - depends on the installation
    pymysql = None


def connect(settings: dict, timeout: float) -> Any:
    if pymysql is None:
        raise RuntimeError("the mysql driver needs PyMySQL (pip install pymysql)")
    database = settings.get("dbname") or settings.get("database") or settings.get("db")
    seconds = max(1, int(timeout))
    return pymysql.connect(host=settings.get("host", "localhost"),
                           port=int(settings.get("port", 3306)),
                           user=settings.get("user"), password=settings.get("password", ""),
                           database=database,
                           unix_socket=settings.get("unix_socket") or settings.get("socket"),
                           charset=settings.get("charset", "utf8mb4"), autocommit=True,
                           connect_timeout=seconds, read_timeout=seconds, write_timeout=seconds)


def run(conn: Any, text: str, params: Any, max_rows: int, fetch: bool) -> Result:
    query, values = bind(text, params, "%s")
    with conn.cursor() as cursor:
        cursor.execute(query, values)
        return cursor_result(cursor, max_rows, fetch)


def still_usable(conn: Any, exc: BaseException) -> bool:
    errors = (pymysql.err.ProgrammingError, pymysql.err.IntegrityError, pymysql.err.DataError)
    return bool(conn.open) and isinstance(exc, errors)


def close(conn: Any) -> None:
    conn.close()


def connection_lost(conn: Any, exc: BaseException) -> bool:
    return not conn.open or isinstance(exc, (pymysql.err.OperationalError,
                                             pymysql.err.InterfaceError))
