"""Runtime configuration from the console: config set/unset/show/showrecurse/locate/writeback.

Who calls it: the command registry (``register_config_commands``). ``config set
[scope [name]]... option value`` copies the running tree, applies the change,
validates the whole tree with the same validator as a file load (so a bad value is
refused with the validator's message) and swaps the new Config in as a reload does:
services get ``reload(old, new)``, the old Config stays in force when anything fails.
While ``config begin`` has a transaction open (config_transaction.py) set/unset are
staged there and ``config commit`` applies them in one swap. Changes live until the next reload from disk unless ``config writeback`` writes them
to Local_Changes_File (read last at every load). ``write config`` prints the running
configuration. Never edits the main configuration file.
"""
from __future__ import annotations

import copy
import os
from typing import Any

from ecelerity.config.dump import raw_text
from ecelerity.config.errors import ConfigError
from ecelerity.config.lexer import is_bare_word
from ecelerity.config.parser import parse_file, parse_text
from ecelerity.config.render import render_config
from ecelerity.config.resolver import Config
from ecelerity.config.tree import Location, Scalar, Setting, Stanza, Value
from ecelerity.config.validate import validate

from .commands_core import _explain, parse_scope_path, path_string, render_value
from .commands_util import unavailable, usage
from .config_transaction import open_transaction, register_config_transaction_commands, stage
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult

CONSOLE_FILE = "<console>"
Path = list[tuple[str, str | None]]


# -- the running tree -----------------------------------------------------------------------
def find_stanzas(root: Stanza, path: Path) -> list[Stanza]:
    """Stanzas matching a scope path (instance names: domains case-insensitive, others exact)."""
    level = [root]
    for kind, name in path:
        level = [child for stanza in level for child in stanza.child_stanzas(kind)
                 if _same_name(kind, child.name, name)]
    return level


def _same_name(kind: str, have: str | None, want: str | None) -> bool:
    if have is None or want is None:
        return have is want
    return have.lower() == want.lower() if kind in ("domain", "host") else have == want


def _ensure_stanza(root: Stanza, path: Path, spellings: list[str]) -> Stanza:
    node = root
    for (kind, name), spelling in zip(path, spellings, strict=True):
        found = [c for c in node.child_stanzas(kind) if _same_name(kind, c.name, name)]
        if found:
            node = found[-1]
            continue
        child = Stanza(kind, spelling, name, Location(CONSOLE_FILE, 1, 1), parent=node)
        node.children.append(child)
        node = child
    return node


def _value_from_words(words: list[str]) -> Value:
    loc = Location(CONSOLE_FILE, 1, 1)
    if len(words) == 1 and not words[0].startswith(("(", "[")):
        return Scalar(words[0], not is_bare_word(words[0]), loc)
    try:
        root = parse_text(f"x = {' '.join(words)}\n", CONSOLE_FILE)
    except ConfigError as exc:
        raise CommandError(400, f"config set: {exc.first.message}", [str(p) for p in exc.problems]) from None
    return root.settings[0].value


def apply_change(root: Stanza, path: Path, spellings: list[str], option: str,
                 value: Value | None) -> None:
    """Set (``value``) or remove (None) ``option`` in the scope ``path`` of ``root``, in place."""
    if value is None:
        for stanza in find_stanzas(root, path):
            stanza.settings = [s for s in stanza.settings if s.key != option.lower()]
        return
    stanza = _ensure_stanza(root, path, spellings)
    stanza.settings = [s for s in stanza.settings if s.key != option.lower()]
    stanza.settings.append(Setting(option, value, Location(CONSOLE_FILE, 1, 1)))


def build_config(old: Any, root: Stanza) -> Any:
    """Validate ``root`` and build a Config; CommandError with the validator's messages."""
    problems = validate(root)
    if problems.errors:
        first = problems.errors[0]
        raise CommandError(400, f"config: {first.message}", [str(p) for p in problems.errors])
    try:
        return Config(root, files=list(getattr(old, "files", [])), warnings=problems.warnings)
    except ConfigError as exc:
        raise CommandError(400, f"config: {exc.first.message}", [str(p) for p in exc.problems]) from None


def swap_config(app: Any, new_cfg: Any, reason: str) -> None:
    """Put ``new_cfg`` in force the way App.reload does (services see reload(old, new))."""
    apply = getattr(app, "apply_config", None)
    if callable(apply):
        apply(new_cfg, reason)
        return
    with app._reload_lock:
        old_cfg = app.config
        app.config = new_cfg
        app.reloads += 1
        for svc in list(app._running):
            try:
                svc.reload(old_cfg, new_cfg)
            except Exception as exc:  # noqa: BLE001 - the other services still reload
                app.log_exception("config", f"service {getattr(svc, 'name', svc)} failed to reload", exc)
        app.log("config", f"configuration changed ({reason})")


def changes_in_force(app: Any) -> list[tuple[Path, list[str], str, Value | None]]:
    """Console changes made to the Config in force (forgotten when a reload replaced it)."""
    record = getattr(app, "console_changes", None)
    if record is None or record[0] is not app.config:
        return []
    return list(record[1])


# -- handlers -------------------------------------------------------------------------------
def _split(ctx: CommandContext, *, with_value: bool) -> tuple[Path, list[str], str, list[str]]:
    args = list(ctx.args)
    if with_value:
        index = _option_index(args)
        if index is None or index == len(args) - 1:
            raise usage(ctx)
        scope_words, option, value_words = args[:index], args[index], args[index + 1:]
    else:
        if not args:
            raise usage(ctx)
        scope_words, option, value_words = args[:-1], args[-1], []
    path = parse_scope_path(scope_words)
    spellings = _spellings(scope_words, path)
    return path, spellings, option, value_words


def _spellings(words: list[str], path: Path) -> list[str]:
    """The scope words as typed (``Domain``), one per path element, in order."""
    found, index = [], 0
    for kind, name in path:
        while index < len(words) and words[index].lower() != kind:
            index += 1
        found.append(words[index] if index < len(words) else kind)
        index += 2 if name is not None else 1
    return found


def _option_index(args: list[str]) -> int | None:
    """Where the option name is: the first word that is a registered option and not a scope."""
    from ecelerity.config import registry
    from ecelerity.config.scopes import scope_kind

    for index, word in enumerate(args):
        if registry.lookup(word) is not None and (scope_kind(word) is None or index == len(args) - 2):
            return index
    return len(args) - 2 if len(args) >= 2 else None


def _change(ctx: CommandContext, value_words: list[str] | None) -> CommandResult:
    path, spellings, option, words = _split(ctx, with_value=value_words is not None)
    value = _value_from_words(words) if value_words is not None else None
    app = ctx.app
    where = path_string(path) or "global"
    shown = raw_text(value) if value is not None else None
    text = (f"{option} = {shown} in {where}" if value is not None else f"{option} unset in {where}")
    data = {"option": option, "scope": where, "value": shown, "action": ctx.command.name,
            "staged": False}
    if open_transaction(app) is not None:
        stage(app, (path, spellings, option, value))
        data["staged"] = True
        return CommandResult(data, lambda d: f"{text} (staged: 'config commit' applies it)")
    root = copy.deepcopy(app.config.root)
    apply_change(root, path, spellings, option, value)
    new_cfg = build_config(app.config, root)
    before = changes_in_force(app)
    swap_config(app, new_cfg, f"console: {ctx.command.name} {' '.join(ctx.args)}")
    app.console_changes = (new_cfg, before + [(path, spellings, option, value)])
    return CommandResult(data, lambda d: text)


def cmd_config_set(ctx: CommandContext) -> CommandResult:
    return _change(ctx, [])


def cmd_config_unset(ctx: CommandContext) -> CommandResult:
    return _change(ctx, None)


def _scope_nodes(ctx: CommandContext) -> tuple[Path, list[Stanza]]:
    path = parse_scope_path(list(ctx.args))
    nodes = find_stanzas(ctx.app.config.root, path)
    if not nodes:
        raise CommandError(404, f"{ctx.command.name}: no scope {path_string(path)} in the configuration")
    return path, nodes


def cmd_config_show(ctx: CommandContext) -> CommandResult:
    path, nodes = _scope_nodes(ctx)
    data = [{"option": s.name, "value": raw_text(s.value), "location": str(s.loc)}
            for node in nodes for s in node.settings]
    return CommandResult(data, lambda rows: [f"{r['option']} = {r['value']}" for r in rows])


def cmd_config_showrecurse(ctx: CommandContext) -> CommandResult:
    path, nodes = _scope_nodes(ctx)
    text = "".join(render_config(node) for node in nodes)
    return CommandResult({"scope": path_string(path) or "global", "text": text},
                         lambda d: d["text"].splitlines())


def cmd_config_locate(ctx: CommandContext) -> CommandResult:
    if not ctx.args:
        raise usage(ctx)
    path = parse_scope_path(ctx.args[:-1])
    option = ctx.args[-1]
    try:
        value, where, loc = _explain(ctx.app.config, path, option)
    except KeyError as exc:
        raise CommandError(400, str(exc.args[0] if exc.args else exc)) from None
    data = {"option": option, "value": value, "from": where or "default",
            "location": str(loc) if loc is not None else None}
    return CommandResult(data, lambda d: f"{d['option']} = {render_value(option, d['value'])} "
                                         f"(from {d['from']}"
                                         + (f", {d['location']})" if d["location"] else ", built-in default)"))


def local_changes_file(app: Any) -> str:
    from ecelerity.config import registry

    configured = app.config.scope_get([], "local_changes_file") if _is_set(app) else None
    if configured is None:
        spec = registry.lookup("local_changes_file")
        configured = spec.default if spec is not None else ""
    base = os.path.dirname(os.path.abspath(app.config_path))
    return os.path.join(base, str(configured))


def _is_set(app: Any) -> bool:
    try:
        app.config.scope_get([], "local_changes_file")
        return True
    except KeyError:
        return False


def cmd_config_writeback(ctx: CommandContext) -> CommandResult:
    changes = changes_in_force(ctx.app)
    target = local_changes_file(ctx.app)
    if not os.path.isdir(os.path.dirname(target)):
        raise unavailable(ctx, f"Local_Changes_File directory of '{target}' does not exist")
    root = parse_file(target) if os.path.isfile(target) else Stanza("global", "global", None,
                                                                   Location(target, 1, 1))
    for path, spellings, option, value in changes:
        apply_change(root, path, spellings, option, value)
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(render_config(root))
    os.replace(tmp, target)
    return CommandResult({"file": target, "changes": len(changes)},
                         lambda d: f"{d['changes']} change(s) written to {d['file']}")


def cmd_write_config(ctx: CommandContext) -> CommandResult:
    if ctx.args:
        raise usage(ctx)
    text = render_config(ctx.app.config.root)
    return CommandResult({"text": text, "files": list(ctx.app.config.files)},
                         lambda d: d["text"].splitlines())


def register_config_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("config set", cmd_config_set, "change an option in the running configuration",
         "config set [scope [name]]... option value"),
        ("config unset", cmd_config_unset, "remove an option from a scope of the running configuration",
         "config unset [scope [name]]... option"),
        ("config show", cmd_config_show, "options set in a scope", "config show [scope [name]]..."),
        ("config showrecurse", cmd_config_showrecurse, "a scope with everything inside it",
         "config showrecurse [scope [name]]..."),
        ("config locate", cmd_config_locate, "where an option's value comes from",
         "config locate [scope [name]]... option"),
        ("config writeback", cmd_config_writeback,
         "write the console's changes to Local_Changes_File", "config writeback"),
        ("write config", cmd_write_config, "display current running configuration", "write config"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
    register_config_transaction_commands(registry)
