"""ecelerity/control/commands_config.py against a real in-process App: config set/unset
swap a validated Config in (services see it), refuse bad values with the validator's
message, show/showrecurse/locate read the running tree, writeback persists the changes
to Local_Changes_File (which a reload then reads), write config prints the tree."""
from __future__ import annotations

import json

import pytest

from ecelerity.config.loader import load_config
from tests.unit.control._console_app import run, running_app, stop

CONFIG = ('Max_Outbound_Connections = 30\nLocal_Changes_File = "local.conf"\n'
          'Binding "b1" { Domain "x.test" { max_outbound_connections = 4 } }\n'
          'Domain "y.test" { retry_interval = 60 }\n')


@pytest.fixture
def app(tmp_path):
    app = running_app(tmp_path, CONFIG)
    yield app
    stop(app)


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def test_config_set_swaps_a_new_config_seen_by_the_queue(app):
    old = app.config
    assert ok(run(app, "config set Domain z.test max_outbound_connections 2")) == [
        "max_outbound_connections = 2 in domain:z.test"]
    assert app.config is not old and app.queue_manager.config is app.config
    assert app.config.get("max_outbound_connections", domain="z.test") == 2
    assert app.config.get("max_outbound_connections", domain="other.test") == 30
    assert ok(run(app, "config set max_outbound_connections 12")) == ["max_outbound_connections = 12 in global"]
    assert app.config.get("max_outbound_connections", domain="other.test") == 12
    assert app.config.get("max_outbound_connections", domain="z.test") == 2  # earlier change kept
    ok(run(app, "config set Binding b1 Domain x.test max_outbound_connections 9"))
    assert app.config.get("max_outbound_connections", binding="b1", domain="x.test") == 9


def test_config_set_refuses_bad_values_with_the_validators_message(app):
    old = app.config
    bad = run(app, "config set Domain z.test max_outbound_connections lots")
    assert bad.status == 400
    assert bad.text == "config: option 'max_outbound_connections': expected an integer >= 0, got 'lots'"
    assert bad.body[0].startswith("<console>:1:1: ")
    unknown = run(app, "config set Domain z.test max_outbound_conections 3")
    assert unknown.status == 400 and "did you mean 'max_outbound_connections'" in unknown.text
    assert app.config is old
    assert run(app, "config set").status == 400


def test_config_unset_show_showrecurse_locate(app):
    assert ok(run(app, "config show Domain y.test")) == ["retry_interval = 60"]
    ok(run(app, "config unset Domain y.test retry_interval"))
    assert ok(run(app, "config show Domain y.test")) == []
    assert app.config.get("retry_interval", domain="y.test") == 1200
    tree = ok(run(app, "config showrecurse Binding b1"))
    assert tree == ['Domain "x.test" {', "  max_outbound_connections = 4", "}"]
    where = ok(run(app, "config locate Binding b1 Domain x.test max_outbound_connections"))
    assert where[0].startswith("max_outbound_connections = 4 (from ") and "ecelerity.conf:" in where[0]
    default = json.loads("\n".join(ok(run(app, "config locate retry_interval --json"))))
    assert default["value"] == 1200 and default["location"] is None
    assert run(app, "config show Domain nosuch.test").status == 404


def test_writeback_persists_changes_that_a_reload_reads(app, tmp_path):
    ok(run(app, "config set Domain z.test max_outbound_connections 2"))
    ok(run(app, "config set Binding b1 max_outbound_connections 5"))
    assert ok(run(app, "config writeback")) == [f"2 change(s) written to {tmp_path}/local.conf"]
    reloaded = load_config(str(tmp_path / "ecelerity.conf"))
    assert reloaded.get("max_outbound_connections", domain="z.test") == 2
    assert reloaded.get("max_outbound_connections", binding="b1") == 5
    assert app.reload("test").ok
    assert app.config.get("max_outbound_connections", domain="z.test") == 2
    # after a reload, the console change list starts again from the file's state
    ok(run(app, "config set Domain z.test max_outbound_connections 3"))
    ok(run(app, "config writeback"))
    assert load_config(str(tmp_path / "ecelerity.conf")).get("max_outbound_connections", domain="z.test") == 3


def test_write_config_prints_the_running_tree(app):
    ok(run(app, "config set Domain z.test max_outbound_connections 2"))
    text = ok(run(app, "write config"))
    assert "Max_Outbound_Connections = 30" in text
    assert text[-3:] == ['Domain "z.test" {', "  max_outbound_connections = 2", "}"]
