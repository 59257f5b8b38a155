"""The console command registry: command names -> handlers, and running one command line.

Core commands (commands_core.py), later the queue/spool/module commands and Lua's
``msys.registerControl`` all register here::

    registry.register("binding summary", handler, "show binding statistics",
                      usage="binding summary [binding]")

A command name is one or more words (case-insensitive). A line is matched to the
registered name with the most words that prefixes it (``binding summary b1`` finds
"binding summary" before "binding"); the remaining words are the handler's arguments.

A handler is ``handler(ctx: CommandContext) -> CommandResult | str | list[str] | None``.
It returns a structure plus a text renderer (``CommandResult(data, render)``) so the same
answer serves ``--json`` and people; a plain string or list of lines is text (its JSON
form is ``{"output": [lines]}``). It refuses with ``raise CommandError(400, "usage: ...")``.
Any other exception becomes ``500 internal error`` (reported through ``on_error``), never
a traceback on the wire.

Handlers run in the connection's greenlet: they must not block the hub (hand slow work
to gevent's threadpool). Authorization is checked before a command reaches the registry
(gate.py, authz.py); the connection's Identity is in ``ctx.extra["identity"]``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from .protocol import ProtocolError, Reply, body_lines, split_command, take_json_flag

Renderer = Callable[[Any], "str | list[str]"]


class CommandError(Exception):
    """A handler's refusal: status code, one-line text, optional body lines."""

    def __init__(self, status: int, text: str, body: str | list[str] | None = None):
        super().__init__(text)
        self.status = status
        self.text = text
        self.body = body_lines(body) if body is not None else []


@dataclass
class CommandResult:
    data: Any = None
    render: Renderer | None = None
    status: int = 200
    text: str = "ok"

    def text_lines(self) -> list[str]:
        if self.render is not None:
            return body_lines(self.render(self.data))
        if self.data is None:
            return []
        if isinstance(self.data, (str, list, tuple)):
            return body_lines(self.data)
        return body_lines(json.dumps(self.data, indent=2, default=str))

    def json_lines(self) -> list[str]:
        data = self.data
        if self.render is None and isinstance(data, (str, list, tuple)):
            data = {"output": body_lines(data)}
        return json.dumps(data, indent=2, sort_keys=False, default=str).splitlines()


@dataclass(frozen=True)
class Command:
    name: str  # canonical: lowercase words joined by one space
    handler: Callable[["CommandContext"], Any]
    help: str
    usage: str
    roles: frozenset[str]

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.name.split(" "))


@dataclass
class CommandContext:
    """What a handler sees: the App, its arguments, whether --json was asked."""

    app: Any
    registry: "CommandRegistry"
    command: Command
    args: list[str]
    json: bool = False
    peer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def normalize_name(name: str) -> str:
    words = name.lower().split()
    if not words:
        raise ValueError("a command name needs at least one word")
    return " ".join(words)


class CommandRegistry:
    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, name: str, handler: Callable[[CommandContext], Any], help: str, *,
                 usage: str = "", roles: tuple[str, ...] | frozenset[str] = ("admin",),
                 replace: bool = False) -> Command:
        """Add a command; a name already taken is an error unless ``replace``."""
        key = normalize_name(name)
        if key in self._commands and not replace:
            raise ValueError(f"console command '{key}' is already registered")
        command = Command(key, handler, help, usage or key, frozenset(roles))
        self._commands[key] = command
        return command

    def unregister(self, name: str) -> None:
        self._commands.pop(normalize_name(name), None)

    def get(self, name: str) -> Command | None:
        return self._commands.get(normalize_name(name))

    def commands(self) -> list[Command]:
        return [self._commands[k] for k in sorted(self._commands)]

    def resolve(self, words: list[str]) -> tuple[Command, list[str]] | None:
        """The registered command with the longest word prefix of ``words``, and the rest."""
        lowered = [w.lower() for w in words]
        for count in range(len(words), 0, -1):
            command = self._commands.get(" ".join(lowered[:count]))
            if command is not None:
                return command, list(words[count:])
        return None

    def execute(self, line: str, app: Any = None, *, peer: str = "",
                on_error: Callable[[str, BaseException], None] | None = None,
                identity: Any = None) -> Reply:
        """Run one command line and return the reply to send (never raises)."""
        try:
            words, want_json = take_json_flag(split_command(line))
        except ProtocolError as exc:
            return Reply(400, str(exc))
        if not words:
            return Reply(400, "empty command; try 'help'")
        found = self.resolve(words)
        if found is None:
            return Reply(404, f"unknown command '{' '.join(words)}'; try 'help'")
        command, args = found
        ctx = CommandContext(app, self, command, args, want_json, peer,
                             {"identity": identity} if identity is not None else {})
        try:
            result = command.handler(ctx)
            if not isinstance(result, CommandResult):
                result = CommandResult(result)
            body = result.json_lines() if want_json else result.text_lines()
            return Reply(result.status, result.text, body)
        except CommandError as exc:
            return Reply(exc.status, exc.text, exc.body)
        except Exception as exc:  # noqa: BLE001 - a handler bug must not kill the channel
            if on_error is not None:
                on_error(command.name, exc)
            return Reply(500, f"internal error in '{command.name}': {type(exc).__name__}: {exc}")


DEFAULT_REGISTRY = CommandRegistry()


def register(name: str, handler: Callable[[CommandContext], Any], help: str, *,
             usage: str = "", roles: tuple[str, ...] | frozenset[str] = ("admin",),
             replace: bool = False) -> Command:
    """Register into the daemon's registry (modules and Lua call this)."""
    return DEFAULT_REGISTRY.register(name, handler, help, usage=usage, roles=roles, replace=replace)
