"""LDAP datasource driver: ldap3, called only from gevent's thread pool.

The datasource URI names the server (``ldap://127.0.0.1:389`` or
``ldap:uri=ldap://host:port;binddn=cn=x,dc=y;password=p``); each query is an RFC 4516
LDAP URL, as Momentum writes them: ``ldap:///ou=people,dc=example,dc=com?mail,cn?sub?
(uid=$user)`` (host part ignored: the datasource's server is used; scope base, one or
sub, default base; filter default ``(objectClass=*)``). ``$name`` / ``:name`` in the
base DN and filter are replaced by the params, RFC 4515-escaped. One row per entry,
one column per requested attribute (every attribute when none is named); a
multi-valued attribute is a list cell. Read-only: execute is refused.
"""
from __future__ import annotations

import math
import urllib.parse
from typing import Any

from .core import Result
from .params import inline_ldap

try:
    import ldap3
except ImportError:  # pragma: no cover - depends on the installation
    ldap3 = None

SCOPES = {"base": "BASE", "one": "LEVEL", "onelevel": "LEVEL", "sub": "SUBTREE",
          "subtree": "SUBTREE"}


def connect(settings: dict, timeout: float) -> Any:
    if ldap3 is None:
        raise RuntimeError("the ldap driver needs ldap3 (pip install ldap3)")
    server = ldap3.Server(settings["uri"], connect_timeout=timeout, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=settings.get("binddn"),
                            password=settings.get("password"),
                            receive_timeout=max(1, math.ceil(timeout)),  # setsockopt wants an int
                            raise_exceptions=True, read_only=True)
    if settings.get("start_tls", "").lower() in ("1", "true", "yes"):
        conn.open()
        conn.start_tls()
    conn.bind()
    return conn


def parse_ldap_url(url: str) -> tuple[str, list[str], str, str]:
    """(base DN, attributes, scope, filter) of an LDAP URL (host part ignored)."""
    text = url.strip()
    lowered = text.lower()
    if not lowered.startswith(("ldap://", "ldaps://")):
        raise ValueError(f"LDAP query must be an LDAP URL (ldap:///base?attrs?scope?filter), "
                         f"not {url!r}")
    rest = text.split("://", 1)[1]
    _, _, rest = rest.partition("/")
    parts = (rest.split("?") + ["", "", "", ""])[:4]
    base, attrs, scope, filt = (urllib.parse.unquote(p) for p in parts)
    scope_name = SCOPES.get(scope.strip().lower() or "base")
    if scope_name is None:
        raise ValueError(f"LDAP scope {scope!r} is not base, one or sub")
    attributes = [a.strip() for a in attrs.split(",") if a.strip()]
    return base, attributes, scope_name, filt.strip() or "(objectClass=*)"


def run(conn: Any, text: str, params: Any, max_rows: int, fetch: bool) -> Result:
    if not fetch:
        raise ValueError("LDAP datasources are read-only (use a fetch/query function)")
    base, attributes, scope, filt = parse_ldap_url(text)
    base, filt = inline_ldap(base, params), inline_ldap(filt, params)
    conn.search(base, filt, search_scope=getattr(ldap3, scope),
                attributes=attributes or ldap3.ALL_ATTRIBUTES,
                size_limit=0 if max_rows < 0 else max_rows)
    columns = list(attributes)
    entries = []
    for entry in conn.response or []:
        if entry.get("type") != "searchResEntry":
            continue
        values = {k.lower(): v for k, v in entry.get("raw_attributes", {}).items()}
        if not attributes:
            for key in entry.get("raw_attributes", {}):
                if key not in columns:
                    columns.append(key)
        entries.append(values)
    rows = []
    for values in entries:
        row = []
        for column in columns:
            found = [_text(v) for v in values.get(column.lower(), [])]
            row.append(None if not found else found[0] if len(found) == 1 else found)
        rows.append(row)
    return Result(columns, rows, len(rows))


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def still_usable(conn: Any, exc: BaseException) -> bool:
    return bool(conn.bound) and ldap3 is not None and isinstance(
        exc, (ldap3.core.exceptions.LDAPInvalidFilterError, ValueError,
              ldap3.core.exceptions.LDAPNoSuchObjectResult))


def close(conn: Any) -> None:
    conn.unbind()


def connection_lost(conn: Any, exc: BaseException) -> bool:
    return ldap3 is not None and isinstance(exc, ldap3.core.exceptions.LDAPCommunicationError)
