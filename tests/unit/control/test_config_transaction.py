"""ecelerity/control/config_transaction.py against a real in-process App: config begin
stages set/unset (nothing changes until commit), a staged bad value is refused at once,
commit applies every staged change with one swap (services reload once), rollback
discards, commit after a reload replays onto the new tree, and writeback sees committed
changes."""
from __future__ import annotations

import json

import pytest

from ecelerity.config.loader import load_config
from tests.unit.control._console_app import run, running_app, stop

CONFIG = ('Max_Outbound_Connections = 30\nLocal_Changes_File = "local.conf"\n'
          'Domain "y.test" { retry_interval = 60 }\n')


@pytest.fixture
def app(tmp_path):
    app = running_app(tmp_path, CONFIG)
    yield app
    stop(app)


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def test_staged_changes_apply_only_at_commit_in_one_swap(app):
    before, reloads = app.config, app.reloads
    ok(run(app, "config begin"))
    assert ok(run(app, "config set Domain z.test max_outbound_connections 2")) == [
        "max_outbound_connections = 2 in domain:z.test (staged: 'config commit' applies it)"]
    ok(run(app, "config set max_outbound_connections 12"))
    ok(run(app, "config unset Domain y.test retry_interval"))
    assert app.config is before and app.reloads == reloads
    assert app.config.get("max_outbound_connections", domain="z.test") == 30
    assert app.config.get("retry_interval", domain="y.test") == 60
    body = ok(run(app, "config commit"))
    assert body == ["3 change(s) committed", "  max_outbound_connections = 2 in domain:z.test",
                    "  max_outbound_connections = 12 in global", "  retry_interval unset in domain:y.test"]
    assert app.reloads == reloads + 1 and app.queue_manager.config is app.config
    assert app.config.get("max_outbound_connections", domain="z.test") == 2
    assert app.config.get("max_outbound_connections", domain="other.test") == 12
    assert app.config.get("retry_interval", domain="y.test") == 1200
    # the transaction is closed: the next set applies at once
    ok(run(app, "config set max_outbound_connections 7"))
    assert app.config.get("max_outbound_connections", domain="other.test") == 7


def test_a_bad_staged_value_is_refused_and_not_staged(app):
    ok(run(app, "config begin"))
    bad = run(app, "config set Domain z.test max_outbound_connections lots")
    assert bad.status == 400
    assert bad.text == "config: option 'max_outbound_connections': expected an integer >= 0, got 'lots'"
    ok(run(app, "config set Domain z.test max_outbound_connections 3"))
    data = json.loads("\n".join(ok(run(app, "config commit --json"))))
    assert data == {"committed": 1, "changes": [
        {"scope": "domain:z.test", "option": "max_outbound_connections", "value": "3"}]}


def test_rollback_discards_and_begin_refuses_a_second_transaction(app):
    before = app.config
    assert run(app, "config rollback").status == 400
    assert run(app, "config commit").status == 400
    ok(run(app, "config begin"))
    again = run(app, "config begin")
    assert again.status == 400 and "already open" in again.text
    ok(run(app, "config set max_outbound_connections 1"))
    assert ok(run(app, "config rollback")) == ["transaction rolled back: 1 change(s) discarded",
                                               "  max_outbound_connections = 1 in global"]
    assert app.config is before
    assert app.config.get("max_outbound_connections", domain="any.test") == 30
    assert run(app, "config commit").status == 400
    ok(run(app, "config begin"))
    assert ok(run(app, "config commit")) == ["nothing to commit; transaction closed"]
    assert app.config is before


def test_commit_after_a_reload_replays_onto_the_new_tree(app, tmp_path):
    ok(run(app, "config begin"))
    ok(run(app, "config set Domain z.test max_outbound_connections 4"))
    conf = tmp_path / "ecelerity.conf"
    conf.write_text(conf.read_text().replace("Max_Outbound_Connections = 30", "Max_Outbound_Connections = 40"))
    assert app.reload("test").ok
    assert app.config.get("max_outbound_connections", domain="other.test") == 40
    ok(run(app, "config commit"))
    assert app.config.get("max_outbound_connections", domain="other.test") == 40
    assert app.config.get("max_outbound_connections", domain="z.test") == 4


def test_committed_changes_are_written_back(app, tmp_path):
    ok(run(app, "config set Domain y.test retry_interval 90"))
    ok(run(app, "config begin"))
    ok(run(app, "config set Domain z.test max_outbound_connections 2"))
    ok(run(app, "config set Domain w.test max_outbound_connections 6"))
    ok(run(app, "config commit"))
    assert ok(run(app, "config writeback")) == [f"3 change(s) written to {tmp_path}/local.conf"]
    reloaded = load_config(str(tmp_path / "ecelerity.conf"))
    assert reloaded.get("retry_interval", domain="y.test") == 90
    assert reloaded.get("max_outbound_connections", domain="z.test") == 2
    assert reloaded.get("max_outbound_connections", domain="w.test") == 6
