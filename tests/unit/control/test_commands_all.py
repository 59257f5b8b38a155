"""ecelerity/control/commands_all.py: every console command of the inventory is registered,
and every registered command answers a real App (text and --json) without an internal error;
a command whose subsystem is missing says so with a 501."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecelerity.control.commands_all import register_console_commands
from ecelerity.control.registry import CommandRegistry
from tests.unit.control._console_app import queue_mail, run, running_app, stop

INVENTORY = Path("/work/shared/specs/inventory.json")
# arguments that make each command do its normal job on the fixture's queues
ARGS = {"domain": "one.test", "showqueue": "one.test", "binding active": "default",
        "binding delayed": "default", "binding fail domain": "default none.test",
        "binding fail domain quiet": "default none.test", "binding flush domain": "default one.test",
        "fail domain": "none.test", "fail domain quiet": "none.test", "flush domain": "one.test",
        "reroute queue": "none.test other.test", "rebind": "domain none.test to default",
        "config eval": "max_outbound_connections", "config get": "max_outbound_connections",
        "config locate": "max_outbound_connections", "config set": "max_outbound_connections 20",
        "config unset": "Domain none.test retry_interval", "help": "summary",
        "refresh domain": "one.test", "paniclog": "5"}
SKIP = {"shutdown", "config reload", "config writeback", "fail all", "fail all quiet",
        "dig", "dns_cache"}  # these change the process or need DNS: tested in their own files


def test_every_inventory_console_command_is_registered():
    if not INVENTORY.exists():
        pytest.skip(f"{INVENTORY} is not on this machine")
    wanted = [row["name"] for row in json.loads(INVENTORY.read_text())["console_commands"]]
    registry = CommandRegistry()
    register_console_commands(registry)
    missing = [name for name in wanted if registry.get(name) is None]
    assert len(wanted) == 59 and missing == []


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = running_app(tmp_path_factory.mktemp("all"), 'Domain "one.test" { gateway = "127.0.0.1:9" }\n')
    queue_mail(app, ["a@one.test", "b@one.test"])
    yield app
    stop(app)


def _names():
    registry = CommandRegistry()
    register_console_commands(registry)
    return [c.name for c in registry.commands() if c.name not in SKIP]


@pytest.mark.parametrize("name", _names())
def test_every_command_answers_text_and_json_without_internal_errors(app, name):
    line = f"{name} {ARGS.get(name, '')}".strip()
    for variant in (line, line + " --json"):
        reply = run(app, variant)
        assert reply.status != 500, (variant, reply.text, reply.body)
        if reply.status == 501:
            assert reply.text.startswith(f"{name}: "), reply.text
            assert "not available" in reply.text or "not running" in reply.text, reply.text
        else:
            assert reply.status in (200, 400), (variant, reply.status, reply.text)
        if reply.status == 200 and variant.endswith("--json"):
            json.loads("\n".join(reply.body))


def test_missing_subsystem_is_a_clear_501(tmp_path):
    registry = CommandRegistry()
    register_console_commands(registry)

    class Bare:  # an App before its services started: no queue, no spool
        services: list = []

    for line, text in [("summary", "summary: the queue service is not running"),
                       ("signing_stats", "signing_stats: DKIM signing is not available: no opendkim module is loaded"),
                       ("dig example.com", "dig: no DNS resolver (the delivery engine is not running)"),
                       ("spool_in", "spool_in: the spool service is not running")]:
        reply = registry.execute(line, Bare())
        assert (reply.status, reply.text) == (501, text)
