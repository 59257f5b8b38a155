"""ecelerity/control/registry.py: longest-prefix matching, statuses, --json, handler errors."""
from __future__ import annotations

import json

import pytest

from ecelerity.control.registry import CommandError, CommandRegistry, CommandResult


def echo(ctx):
    return f"{ctx.command.name}|{' '.join(ctx.args)}"


@pytest.fixture
def registry():
    reg = CommandRegistry()
    reg.register("binding", echo, "binding commands")
    reg.register("binding summary", echo, "show binding statistics")
    reg.register("binding fail domain", echo, "fail a domain")
    reg.register("binding fail domain quiet", echo, "fail quietly")
    return reg


@pytest.mark.parametrize("line, expected", [
    ("binding summary b1", "binding summary|b1"),
    ("binding fail domain quiet b1 example.com", "binding fail domain quiet|b1 example.com"),
    ("binding fail domain b1 example.com", "binding fail domain|b1 example.com"),
    ("binding fail b1", "binding|fail b1"),
    ("BINDING Summary B1", "binding summary|B1"),
    ("binding", "binding|"),
])
def test_longest_registered_prefix_wins_and_args_keep_their_case(registry, line, expected):
    reply = registry.execute(line)
    assert (reply.status, reply.body) == (200, [expected])


def test_unknown_and_empty_commands(registry):
    assert registry.execute("summary").status == 404
    assert registry.execute("summary").text == "unknown command 'summary'; try 'help'"
    assert registry.execute("   ").status == 400
    assert registry.execute('binding "unclosed').status == 400


def test_names_are_unique_unless_replaced(registry):
    with pytest.raises(ValueError, match="already registered"):
        registry.register("Binding  Summary", echo, "again")
    registry.register("binding summary", lambda ctx: "new", "again", replace=True)
    assert registry.execute("binding summary").body == ["new"]
    registry.unregister("binding summary")
    assert registry.execute("binding summary x").body == ["binding|summary x"]
    assert [c.name for c in registry.commands()] == ["binding", "binding fail domain", "binding fail domain quiet"]


def test_structured_result_renders_as_text_or_json():
    reg = CommandRegistry()
    reg.register("counts", lambda ctx: CommandResult({"active": 3, "delayed": 4},
                                                     lambda d: [f"active {d['active']}", f"delayed {d['delayed']}"]),
                 "counts")
    assert reg.execute("counts").body == ["active 3", "delayed 4"]
    reply = reg.execute("counts --json")
    assert reply.ok and json.loads("\n".join(reply.body)) == {"active": 3, "delayed": 4}
    reg.register("lines", lambda ctx: ["a", "b"], "plain lines")
    assert json.loads("\n".join(reg.execute("--json lines").body)) == {"output": ["a", "b"]}


def test_command_error_carries_status_and_body():
    reg = CommandRegistry()

    def refuse(ctx):
        raise CommandError(550, "Reconfigure failed", ["Reconfigure failed", "f:1:2: bad"])

    reg.register("config reload", refuse, "reload")
    reply = reg.execute("config reload")
    assert (reply.status, reply.text, reply.body) == (550, "Reconfigure failed", ["Reconfigure failed", "f:1:2: bad"])


def test_a_crashing_handler_is_a_500_reported_to_on_error():
    reg = CommandRegistry()
    reg.register("boom", lambda ctx: 1 / 0, "crash")
    seen = []
    reply = reg.execute("boom", on_error=lambda name, exc: seen.append((name, type(exc))))
    assert reply.status == 500
    assert reply.text == "internal error in 'boom': ZeroDivisionError: division by zero"
    assert seen == [("boom", ZeroDivisionError)]


def test_context_carries_app_peer_and_json_flag():
    reg = CommandRegistry()
    reg.register("who", lambda ctx: f"{ctx.app}|{ctx.peer}|{ctx.json}|{ctx.args}", "who")
    assert reg.execute("who a", app="APP", peer="unix:s").body == ["APP|unix:s|False|['a']"]
