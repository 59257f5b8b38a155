"""Core console commands: version, pid, help, shutdown, config eval/get/reload, reopen logs, paniclog.

``register_core_commands(registry)`` is called by the App at construction. The queue,
spool, binding and module commands belong to their own subsystems and register
themselves the same way; ``help`` lists whatever is registered.

``config eval <scope path...> <option>`` follows scope fallback (resolver explain
variants); ``config get <scope path...> <option>`` looks only in the named scope
(resolver.scope_get). A scope path is written as Momentum's console writes it: scope
words each followed by the instance name when the scope takes one, e.g.
``config eval Binding b1 Domain example.com max_outbound_connections`` or
``config get ESMTP_Listener Listen 127.0.0.1:2525 concurrency``.
Handlers only read ``ctx.app``; they never block the hub.
"""
from __future__ import annotations

import os
import platform
from typing import Any

import ecelerity
from ecelerity.config.errors import ConfigError
from ecelerity.config.scopes import LISTENER_KINDS, scope_kind

from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

PANICLOG_DEFAULT_LINES = 20


# -- scope paths ----------------------------------------------------------------------
def _module_takes_name(kind: str) -> bool | None:
    """True/False for a known module (instance name or singleton), None when unknown."""
    try:
        from ecelerity.modules import module_spec
    except ImportError:
        return None
    spec = module_spec(kind)
    return None if spec is None else not spec.singleton


def parse_scope_path(words: list[str]) -> list[tuple[str, str | None]]:
    """``["Binding", "b1", "Domain", "x.com"]`` -> ``[("binding", "b1"), ("domain", "x.com")]``."""
    path: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        kind = words[index].lower()
        known = scope_kind(kind)
        if known is not None:
            takes_name = known.name == "required" or (
                known.name == "optional" and index + 1 < len(words)
                and scope_kind(words[index + 1]) is None)
        else:
            takes_name = _module_takes_name(kind)
            if takes_name is None:
                raise CommandError(400, f"unknown scope '{words[index]}'")
        if takes_name:
            if index + 1 >= len(words):
                raise CommandError(400, f"scope '{words[index]}' needs a name")
            path.append((kind, words[index + 1]))
            index += 2
        else:
            path.append((kind, None))
            index += 1
    return path


def path_string(path: list[tuple[str, str | None]]) -> str:
    return "::".join(kind if name is None else f"{kind}:{name}" for kind, name in path)


def render_value(option: str, value: Any) -> str:
    try:
        from ecelerity.config import registry

        spec = registry.lookup(option)
        if spec is not None and value is not None:
            return spec.type.render(value)
    except Exception:  # noqa: BLE001 - fall back to a plain rendering
        pass
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _split_option(ctx: CommandContext) -> tuple[list[tuple[str, str | None]], str]:
    if not ctx.args or _is_scope_word(ctx.args[-1]):
        raise CommandError(400, f"usage: {ctx.command.usage}")
    return parse_scope_path(ctx.args[:-1]), ctx.args[-1]


def _is_scope_word(word: str) -> bool:
    """A scope name where the option should be (``config get Binding``)."""
    if scope_kind(word) is None:
        return False
    from ecelerity.config import registry

    spec = registry.lookup(word)
    return spec is None or bool(getattr(spec, "is_scope", False))


def _explain(cfg: Any, path: list[tuple[str, str | None]], option: str) -> tuple[Any, str, Any]:
    """Fallback lookup for a scope path: pick the resolver chain the path's scopes imply."""
    named = {kind: name for kind, name in path}
    kinds = [kind for kind, _ in path]
    listener = next((k for k in kinds if k in LISTENER_KINDS), None)
    if listener is not None:
        peer = named.get("peer")
        if peer is not None and "/" in peer:
            peer = peer.split("/", 1)[0]  # a CIDR: evaluate for its first address
        return cfg.explain_inbound(option, listener=listener, listen=named.get("listen"),
                                   peer_ip=peer)
    if "pathway" in named:
        return cfg.explain_pathway(option, pathway=named["pathway"])
    sending = {"binding_group", "binding", "domain", "host"}
    if set(kinds) <= sending and (not kinds or kinds != ["binding_group"]):
        if "host" in named:
            return cfg.explain_host(option, host=named["host"], binding=named.get("binding"),
                                    domain=named.get("domain"))
        return cfg.explain(option, binding=named.get("binding"), domain=named.get("domain"))
    # Scopes without a fallback chain (modules, security, threadpool, a lone binding_group):
    # the scope itself, then global.
    try:
        return cfg.scope_get(path, option), path_string(path), None
    except KeyError:
        return cfg.explain(option)


# -- handlers -------------------------------------------------------------------------
def cmd_config_eval(ctx: CommandContext) -> CommandResult:
    path, option = _split_option(ctx)
    try:
        value, where, loc = _explain(ctx.app.config, path, option)
    except KeyError as exc:
        raise CommandError(400, str(exc.args[0] if exc.args else exc)) from None
    except ConfigError as exc:
        raise CommandError(550, "configuration value error", str(exc)) from None
    data = {"option": option, "scope": path_string(path), "value": value, "from": where,
            "location": str(loc) if loc is not None else None}
    return CommandResult(data, lambda d: f"{d['option']} = {render_value(d['option'], d['value'])}")


def cmd_config_get(ctx: CommandContext) -> CommandResult:
    path, option = _split_option(ctx)
    try:
        value = ctx.app.config.scope_get(path, option)
    except KeyError as exc:
        message = str(exc.args[0] if exc.args else exc)
        if not message.startswith("Option "):
            raise CommandError(404, message) from None
        data = {"option": option, "scope": path_string(path), "set": False, "value": None}
        return CommandResult(data, lambda d: message)
    except ConfigError as exc:
        raise CommandError(550, "configuration value error", str(exc)) from None
    data = {"option": option, "scope": path_string(path), "set": True, "value": value}
    return CommandResult(data, lambda d: f"{d['option']} = {render_value(d['option'], d['value'])}")


def cmd_config_reload(ctx: CommandContext) -> CommandResult:
    outcome = ctx.app.reload("console")
    if not outcome.ok:
        raise CommandError(550, "Reconfigure failed", ["Reconfigure failed", *outcome.errors])
    data = {"ok": True, "warnings": outcome.warnings}
    return CommandResult(data, lambda d: ["reload ok", *d["warnings"]], text="reload ok")


def cmd_config(ctx: CommandContext) -> None:
    have = sorted(c.name.split(" ", 1)[1] for c in ctx.registry.commands()
                  if c.name.startswith("config "))
    sub = ctx.args[0] if ctx.args else ""
    what = f"'config {sub}' is not implemented yet" if sub else "config needs a subcommand"
    raise CommandError(501 if sub else 400, f"{what}; available: {', '.join(have)}")


def cmd_version(ctx: CommandContext) -> CommandResult:
    import gevent

    data = {"version": ecelerity.__version__, "python": platform.python_version(),
            "gevent": gevent.__version__}
    return CommandResult(data, lambda d: [f"ecelerity version: {d['version']}",
                                          f"python {d['python']}, gevent {d['gevent']}"])


def cmd_pid(ctx: CommandContext) -> CommandResult:
    return CommandResult({"pid": os.getpid()}, lambda d: str(d["pid"]))


def cmd_help(ctx: CommandContext) -> CommandResult:
    commands = ctx.registry.commands()
    if ctx.args:
        found = ctx.registry.resolve(ctx.args)
        if found is None:
            raise CommandError(404, f"no help for unknown command '{' '.join(ctx.args)}'")
        commands = [found[0]]
    data = [{"name": c.name, "help": c.help, "usage": c.usage} for c in commands]
    width = max((len(c["name"]) for c in data), default=0)

    def render(rows: list[dict[str, str]]) -> list[str]:
        if len(rows) == 1 and ctx.args:
            return [f"usage: {rows[0]['usage']}", rows[0]["help"]]
        return [f"{row['name']:<{width}}  {row['help']}" for row in rows]

    return CommandResult(data, render)


def cmd_shutdown(ctx: CommandContext) -> str:
    ctx.app.request_shutdown(f"console {ctx.peer}".strip())
    return "shutting down"


def cmd_reopen_logs(ctx: CommandContext) -> str:
    ctx.app.reopen_logs()
    return "logs reopened"


def cmd_paniclog(ctx: CommandContext) -> CommandResult:
    count = PANICLOG_DEFAULT_LINES
    if ctx.args:
        if len(ctx.args) != 1 or not ctx.args[0].isdigit():
            raise CommandError(400, f"usage: {ctx.command.usage}")
        count = int(ctx.args[0])
    return CommandResult(ctx.app.paniclog.tail(count), lambda lines: lines)


def register_core_commands(registry: CommandRegistry) -> None:
    """Add (or replace) the core commands in ``registry``."""
    for name, handler, help_text, usage in [
        ("version", cmd_version, "show version information", "version"),
        ("pid", cmd_pid, "show the process id of the daemon", "pid"),
        ("help", cmd_help, "list commands, or show one command's usage", "help [command]"),
        ("shutdown", cmd_shutdown, "stop the daemon (as SIGTERM)", "shutdown"),
        ("config", cmd_config, "online configuration: eval, get, reload", "config <subcommand> ..."),
        ("config eval", cmd_config_eval, "value of an option in a scope, with fallback",
         "config eval [scope [name]]... option"),
        ("config get", cmd_config_get, "value of an option set in exactly that scope",
         "config get [scope [name]]... option"),
        ("config reload", cmd_config_reload, "reload the configuration file (as SIGHUP)",
         "config reload"),
        ("reopen logs", cmd_reopen_logs, "close and reopen log files (as SIGUSR1)", "reopen logs"),
        ("paniclog", cmd_paniclog, "show the last entries written to the paniclog",
         f"paniclog [lines, default {PANICLOG_DEFAULT_LINES}]"),
    ]:
        registry.register(name, handler, help_text, usage=usage, replace=True)
