"""Datasource URIs: ``driver:key=value;key=value`` (or ``sqlite:/path``) -> DriverUri.

Momentum writes a datasource's ``uri`` as ``"odbc:DSN=x;UID=u;PWD=p"``; we accept the
same shape for ``pgsql:`` / ``postgresql:``, ``mysql:`` / ``mariadb:``, ``sqlite:``
(the rest is a file path, or ``:memory:``) and ``ldap:`` (``ldap:uri=ldap://host:port;
binddn=...;password=...`` or directly ``ldap://host:port``). Called by the config type
of the ``uri`` option (so a bad URI is a config error with file:line:col) and by
core.py. Pure parsing: never connects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DRIVER_ALIASES = {"pgsql": "pgsql", "postgresql": "pgsql", "postgres": "pgsql",
                  "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite", "sqlite3": "sqlite",
                  "ldap": "ldap", "ldaps": "ldap"}
DRIVER_KEYS = {
    "pgsql": {"host", "port", "dbname", "user", "password", "sslmode", "connect_timeout",
              "application_name"},
    "mysql": {"host", "port", "dbname", "database", "db", "user", "password", "unix_socket",
              "socket", "charset"},
    "sqlite": set(),
    "ldap": {"uri", "binddn", "password", "start_tls"},
}


class UriError(ValueError):
    """A datasource URI that no driver accepts; the message says why."""


@dataclass(frozen=True)
class DriverUri:
    driver: str                       # pgsql | mysql | sqlite | ldap
    settings: dict = field(default_factory=dict)
    text: str = ""                    # the URI as written (passwords included: never log it)

    def redacted(self) -> str:
        """The URI with any password replaced, for logs and console output."""
        if self.driver == "sqlite":
            return self.text
        parts = [f"{k}=***" if k in ("password", "pwd") else f"{k}={v}"
                 for k, v in self.settings.items()]
        return f"{self.driver}:" + ";".join(parts)


def parse_uri(text: str) -> DriverUri:
    """Parse one datasource URI; raises UriError naming what is wrong."""
    raw = text.strip()
    if raw.lower().startswith(("ldap://", "ldaps://")):
        return DriverUri("ldap", {"uri": raw}, raw)
    scheme, sep, rest = raw.partition(":")
    driver = DRIVER_ALIASES.get(scheme.strip().lower())
    if not sep or driver is None:
        known = ", ".join(sorted({*DRIVER_ALIASES}))
        raise UriError(f"datasource uri {raw!r}: unknown driver {scheme!r} (known: {known})")
    if driver == "sqlite":
        path = rest.strip()
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise UriError(f"datasource uri {raw!r}: sqlite needs a file path (sqlite:/path/db)")
        return DriverUri("sqlite", {"path": path}, raw)
    settings: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in rest.replace(" ", ";").split(";"))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or not key:
            raise UriError(f"datasource uri {raw!r}: {item!r} is not key=value")
        if key not in DRIVER_KEYS[driver]:
            known = ", ".join(sorted(DRIVER_KEYS[driver]))
            raise UriError(f"datasource uri {raw!r}: unknown {driver} key {key!r} (known: {known})")
        settings[key] = value.strip()
    if driver == "ldap":
        settings.setdefault("uri", "ldap://127.0.0.1")
        if not settings["uri"].lower().startswith(("ldap://", "ldaps://")):
            raise UriError(f"datasource uri {raw!r}: ldap uri= must start with ldap:// or ldaps://")
    if "port" in settings and not settings["port"].isdigit():
        raise UriError(f"datasource uri {raw!r}: port {settings['port']!r} is not a number")
    return DriverUri(driver, settings, raw)
