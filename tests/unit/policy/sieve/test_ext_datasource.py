"""Sieve++ ds_fetch / ds_fetch_flat / ds_fetch_hash / ds_execute (ext_datasource.py)
over a real SQLite datasource and a real vctx."""
from __future__ import annotations

import sqlite3

import pytest

from ecelerity.datasource import core
from ecelerity.datasource.uri import parse_uri
from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.phase_runner import PhaseScripts, apply_to_vctx, build_view, run_phase
from ecelerity.policy.vctx import ValidationContext


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "d.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table domains (name text, action text, note text)")
        conn.executemany("insert into domains values (?, ?, ?)",
                         [("spam.test", "reject", "bad"), ("ok.test", "accept", "good")])
    source = core.register(core.DatasourceSettings("doms", [parse_uri(f"sqlite:{path}")]))
    yield path
    core.unregister(source)


def run(src: str):
    vctx = ValidationContext(can_tarpit=False)
    vctx.conn["datasource_error"] = "stale"
    logged: list[str] = []
    host = PolicyHost(vctx, phase="mailfrom", message=None, mail_from="a@spam.test",
                      peer_ip="192.0.2.7", message_id="M", can_sleep=False, log=logged.append)
    result = run_phase(PhaseScripts("mailfrom", compile_script(src, "f.siv")), host,
                       build_view("mailfrom", host, None), runtime_error="fail")
    apply_to_vctx(result, vctx, host)
    return result, vctx


def test_fetch_row_flat_and_hash(db):
    _, vctx = run('''require ["ds_fetch", "ds_fetch_flat", "ds_fetch_hash", "variables"];
        $row = ds_fetch "doms" "select action, note from domains where name = ?" ["spam.test"];
        $all = ds_fetch_flat "doms" "select name, action from domains order by name";
        hash_create "p"; hash_set "p" "d" "ok.test";
        $h = ds_fetch_hash "doms" "select action, note from domains where name = :d" "p";
        $a = hash_get $h "action";
        ec_action 550 "${row}|${all}|${a}";''')
    assert vctx.code.text.endswith("reject, bad|ok.test, accept, spam.test, reject|accept")
    assert "datasource_error" not in vctx.conn  # a successful query clears it


def test_execute_and_errors_set_datasource_error(db):
    _, vctx = run('''require ["ds_execute", "ds_fetch", "variables"];
        $ok = ds_execute "doms" "insert into domains values (?, ?, ?)" ["new.test", "hold", "x"];
        $row = ds_fetch "doms" "select * from missing_table";
        ec_action 451 "ok=${ok} row=[${row}]";''')
    assert vctx.code.text.endswith("ok=true row=[]")
    assert "datasource 'doms': OperationalError: no such table: missing_table" in vctx.conn["datasource_error"]
    assert sqlite3.connect(db).execute("select action from domains where name='new.test'").fetchone() == ("hold",)
