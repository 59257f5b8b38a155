"""ecelerity/control/commands_core.py against a real App holding a real loaded Config."""
from __future__ import annotations

import json
import os

import pytest

from ecelerity.config.loader import load_config
from ecelerity.control.commands_core import parse_scope_path
from ecelerity.control.registry import CommandError, CommandRegistry
from ecelerity.daemon.app import App
from ecelerity.log.paniclog import PanicLog

CONFIG = """Max_Outbound_Connections = 30
Binding_Group "group1" {
  Max_Outbound_Connections = 5
  Binding "example" { Domain "example.com" { Max_Outbound_Connections = 7 } }
}
Binding "loner" { }
Domain "example.com" { Max_Outbound_Connections = 11 }
ESMTP_Listener {
  Max_Message_Size = 1000
  Listen "127.0.0.1:2525" { Max_Message_Size = 2000 }
}
"""


@pytest.fixture
def app(tmp_path):
    path = tmp_path / "ecelerity.conf"
    path.write_text(CONFIG)
    log = PanicLog(str(tmp_path / "paniclog.ec"), clock=lambda: 42.0)
    app = App(load_config(str(path)), config_path=str(path), paniclog=log, services=[],
              commands=CommandRegistry())
    yield app
    log.close()


def run(app, line):
    return app.commands.execute(line, app)


@pytest.mark.parametrize("line, expected", [
    ("config eval max_outbound_connections", "max_outbound_connections = 30"),
    ("config eval Binding example Domain example.com Max_Outbound_Connections", "Max_Outbound_Connections = 7"),
    ("config eval binding example max_outbound_connections", "max_outbound_connections = 5"),
    ("config eval binding loner domain example.com max_outbound_connections", "max_outbound_connections = 11"),
    ("config eval binding loner max_outbound_connections", "max_outbound_connections = 30"),
    ("config eval ESMTP_Listener Listen 127.0.0.1:2525 max_message_size", "max_message_size = 2000"),
    ("config eval ESMTP_Listener max_message_size", "max_message_size = 1000"),
    ("config get max_outbound_connections", "max_outbound_connections = 30"),
    ("config get Domain example.com max_outbound_connections", "max_outbound_connections = 11"),
    ("config get Blackhole", "Option 'Blackhole' is not set in scope ''."),
])
def test_config_eval_and_get(app, line, expected):
    reply = run(app, line)
    assert (reply.status, reply.body) == (200, [expected])


def test_config_eval_json_says_where_the_value_comes_from(app):
    reply = run(app, "config eval --json binding example max_outbound_connections")
    data = json.loads(reply.body_text)
    assert data["value"] == 5 and data["location"].endswith("ecelerity.conf:3:3")


@pytest.mark.parametrize("line, status, text", [
    ("config eval", 400, "usage: config eval [scope [name]]... option"),
    ("config eval max_outbund_connections", 400, "unknown option 'max_outbund_connections'"),
    ("config eval Nowhere x opt", 400, "unknown scope 'Nowhere'"),
    ("config get Binding", 400, "usage"),
    ("config get Domain nowhere.example max_outbound_connections", 404, "no scope"),
    ("config replay", 501, "'config replay' is not implemented yet"),
])
def test_config_refusals(app, line, status, text):
    reply = run(app, line)
    assert reply.status == status and text in reply.text, reply


def test_scope_paths_take_names_only_where_scopes_have_them():
    assert parse_scope_path(["ESMTP_Listener", "Listen", ":25", "Peer", "10.0.0.0/8"]) == [
        ("esmtp_listener", None), ("listen", ":25"), ("peer", "10.0.0.0/8")]
    with pytest.raises(CommandError, match="scope 'Domain' needs a name"):
        parse_scope_path(["Domain"])


def test_config_reload_swaps_in_a_valid_file_and_reports_a_broken_one(app, tmp_path):
    path = tmp_path / "ecelerity.conf"
    path.write_text(CONFIG.replace("Max_Outbound_Connections = 30", "Max_Outbound_Connections = 31"))
    reply = run(app, "config reload")
    assert reply.ok and reply.body[0] == "reload ok"
    assert run(app, "config eval max_outbound_connections").body == ["max_outbound_connections = 31"]

    path.write_text("Max_Outbound_Connections = (\n")
    reply = run(app, "config reload")
    assert (reply.status, reply.text) == (550, "Reconfigure failed")
    assert reply.body[0] == "Reconfigure failed"
    assert reply.body[1].startswith(f"{path}:2:1: ")
    assert run(app, "config eval max_outbound_connections").body == ["max_outbound_connections = 31"]
    assert run(app, "paniclog 1").body == [f"42:config: reload failed: {reply.body[1]}"]


def test_help_lists_registered_commands_and_usage(app):
    names = [row["name"] for row in json.loads(run(app, "help --json").body_text)]
    assert {"version", "pid", "help", "shutdown", "config eval", "config get", "config reload",
            "reopen logs", "paniclog"} <= set(names)
    assert run(app, "help config eval").body[0] == "usage: config eval [scope [name]]... option"
    assert run(app, "help nothing").status == 404


def test_pid_version_paniclog_and_shutdown(app):
    assert run(app, "pid").body == [str(os.getpid())]
    assert run(app, "version").body[0].startswith("ecelerity version: ")
    app.log("test", "one")
    app.log("test", "two")
    assert run(app, "paniclog 2").body == ["42:test: one", "42:test: two"]
    assert run(app, "paniclog x").status == 400
    assert not app.shutting_down
    assert run(app, "shutdown").body == ["shutting down"]
    assert app.shutting_down
