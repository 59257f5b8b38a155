"""PostgreSQL datasource driver: psycopg 3, called only from gevent's thread pool.

``pgsql:host=127.0.0.1;port=5432;dbname=mail;user=u;password=p`` (``host`` may be a
unix-socket directory). psycopg 3 is the maintained PostgreSQL adapter (psycopg2 is
in maintenance only, and its gevent support needs a wait callback and a patched
hub); running its blocking calls in the thread pool keeps the hub free without
monkey-patching. Autocommit; ``statement_timeout`` is set from the datasource's
timeout so a slow query is cancelled by the server too. Placeholders become ``%s``.
"""
from __future__ import annotations

from typing import Any

from .core import Result
from .dbapi import cursor_result
from .params import bind

try:
    import psycopg
except ImportError:  # pragma: no cover - depends on the installation
    psycopg = None


def connect(settings: dict, timeout: float) -> Any:
    if psycopg is None:
        raise RuntimeError("the pgsql driver needs psycopg (pip install 'psycopg[binary]')")
    kwargs = {k: v for k, v in settings.items() if k != "connect_timeout"}
    return psycopg.connect(**kwargs, autocommit=True,
                           connect_timeout=max(1, int(float(settings.get("connect_timeout",
                                                                         timeout)))),
                           options=f"-c statement_timeout={int(timeout * 1000)}")


def run(conn: Any, text: str, params: Any, max_rows: int, fetch: bool) -> Result:
    query, values = bind(text, params, "%s")
    with conn.cursor() as cursor:
        cursor.execute(query, values)
        return cursor_result(cursor, max_rows, fetch)


def still_usable(conn: Any, exc: BaseException) -> bool:
    return not conn.closed and not conn.broken and isinstance(exc, psycopg.Error)


def close(conn: Any) -> None:
    conn.close()


def interrupt(conn: Any) -> None:
    conn.cancel()


def connection_lost(conn: Any, exc: BaseException) -> bool:
    return conn.closed or conn.broken or isinstance(exc, psycopg.OperationalError)
