"""The ``Datasource "name" { uri = ( ... ) }`` stanza: one named, cached datasource.

Stanza (Momentum's ds_core; the ds_core module itself loads implicitly)::

    Datasource "users" {
      uri = ( "pgsql:host=127.0.0.1;port=5432;dbname=mail;user=mta;password=x"
              "pgsql:host=10.0.0.2;dbname=mail;user=mta;password=x" )  # later = fail-over
      cache_size = 1000   # distinct queries kept (LRU)
      cache_life = 3600   # seconds a cached answer is served
      max_rows = 100      # rows fetched per query (-1: all)
      no_cache = false    # true: every query goes to the server
      max_connections = 4 # pooled connections to the server (ecelerity extension)
      timeout = 10        # seconds for connect and for each query (ecelerity extension)
    }

URIs: ``pgsql:`` (psycopg 3), ``mysql:`` (PyMySQL), ``sqlite:/path`` and ``ldap:``
(ldap3): see ecelerity/datasource/uri.py. A URI no driver accepts is a config error
at file:line:col (validate_config and the daemon refuse the file). ``load(ctx)``
registers the datasource in ecelerity.datasource.core (Lua msys.db.*, Sieve++ ds_*),
plus the console commands ``ds_core list``, ``ds_core stats`` and ``ds_core flush
[name]``; unload (reload, stop) unregisters it and closes its connections. Importing
this file only defines MODULE; no connection is opened before the first query.
"""
from __future__ import annotations

from typing import Any

from ecelerity.config.types import BOOLEAN, INTEGER, SECONDS, ConfigValueError, ListType, StringType
from ecelerity.datasource import core
from ecelerity.datasource.uri import UriError, parse_uri
from ecelerity.modules import ModuleSpec, module_option


class DatasourceUriType(StringType):
    """One datasource URI, checked by the driver table when the config is read."""

    name = "datasource_uri"
    doc = "a datasource URI (pgsql:key=value;..., mysql:..., sqlite:/path, ldap://host)"

    def parse(self, value: Any) -> str:
        text = super().parse(value)
        try:
            parse_uri(text)
        except UriError as exc:
            raise ConfigValueError(str(exc)) from None
        return text


URI_LIST = ListType(DatasourceUriType())


def settings_of(name: str, settings: dict[str, Any]) -> core.DatasourceSettings:
    uris = [parse_uri(text) for text in settings.get("uri") or []]
    if not uris:
        raise ValueError(f"datasource {name!r} has no uri")
    return core.DatasourceSettings(
        name=name, uris=uris, cache_size=int(settings.get("cache_size", 1000)),
        cache_life=float(settings.get("cache_life", 3600)),
        max_rows=int(settings.get("max_rows", 100)),
        no_cache=bool(settings.get("no_cache", False)),
        max_connections=int(settings.get("max_connections", 4)),
        timeout=float(settings.get("timeout", 10)))


def _register_commands(ctx: Any) -> None:
    from ecelerity.control.registry import CommandError, CommandResult

    def listing(cmd: Any) -> CommandResult:
        data = {s.name: {"uri": [u.redacted() for u in s.settings.uris],
                         "cache_size": s.settings.cache_size, "cache_life": s.settings.cache_life,
                         "max_rows": s.settings.max_rows, "no_cache": s.settings.no_cache}
                for s in core.all_datasources()}
        return CommandResult(data, lambda d: [f"{k}: {', '.join(v['uri'])} cache {v['cache_size']}"
                                              f"/{v['cache_life']:g}s" for k, v in d.items()]
                             or ["no datasources"])

    def stats(cmd: Any) -> CommandResult:
        data = {s.name: {**vars(s.stats), "cached": len(s.cache.entries)}
                for s in core.all_datasources()}
        return CommandResult(data, lambda d: [
            f"{k}: " + " ".join(f"{key}={value}" for key, value in v.items())
            for k, v in d.items()] or ["no datasources"])

    def flush(cmd: Any) -> str:
        try:
            sources = [core.get(cmd.args[0])] if cmd.args else core.all_datasources()
        except core.DatasourceError as exc:
            raise CommandError(404, str(exc)) from None
        return f"flushed {sum(s.flush() for s in sources)} cached queries"

    ctx.register_command("ds_core list", listing, "configured datasources (passwords hidden)")
    ctx.register_command("ds_core stats", stats, "queries, cache hits/misses, errors per datasource")
    ctx.register_command("ds_core flush", flush, "empty the query cache of one or every datasource",
                         usage="ds_core flush [name]")


def load(ctx: Any) -> core.Datasource:
    name = ctx.instance.instance
    if not name:
        raise ValueError(f"{ctx.instance.loc}: a Datasource stanza needs a name")
    source = core.register(settings_of(name, ctx.settings))
    ctx.on_unload(lambda: core.unregister(source))
    _register_commands(ctx)
    return None


def _o(name: str, type_: Any, default: Any, doc: str) -> Any:
    return module_option(name, type_, default, doc, implemented=True)


MODULE = ModuleSpec(
    name="datasource", singleton=False, implemented=True, load=load,
    doc="a named datasource for msys.db.* and ds_fetch* (Momentum's ds_core)",
    options={
        "uri": _o("uri", URI_LIST, [], "driver URIs, tried in order (later ones are fail-overs)"),
        "cache_size": _o("cache_size", INTEGER, 1000, "distinct query results kept (LRU)"),
        "cache_life": _o("cache_life", SECONDS, 3600, "seconds a cached result is served"),
        "max_rows": _o("max_rows", INTEGER, 100, "rows fetched per query; -1 for all"),
        "no_cache": _o("no_cache", BOOLEAN, False, "true: never cache query results"),
        "max_connections": _o("max_connections", INTEGER, 4, "pooled server connections"),
        "timeout": _o("timeout", SECONDS, 10, "seconds for a connect and for each query"),
    },
)
