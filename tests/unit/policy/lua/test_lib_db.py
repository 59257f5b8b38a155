"""msys.db.query / fetch_row / execute (lib_db.py) over a real SQLite datasource."""
import sqlite3

import pytest

from ecelerity.datasource import core
from ecelerity.datasource.uri import parse_uri

from .conftest import values


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "u.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table users (name text, quota int)")
        conn.executemany("insert into users values (?, ?)", [("alice", 10), ("bob", 20)])
    source = core.register(core.DatasourceSettings("users", [parse_uri(f"sqlite:{path}")]))
    yield path
    core.unregister(source)


def test_query_iterates_rows_keyed_by_column(run, users):
    got = values(run("""
        require('msys.db'); require('msys.datasource')
        local out = {}
        for row in msys.db.query('users', 'select name, quota from users order by name') do
          out[#out + 1] = row.name .. '=' .. row.quota
        end
        return table.concat(out, ',')"""))
    assert got == (b"alice=10,bob=20",)


def test_fetch_row_params_and_no_match(run, users):
    got = values(run("""
        local r = msys.db.fetch_row('users', 'select quota from users where name = ?', {'bob'})
        local n = msys.db.fetch_row('users', 'select quota from users where name = :who', {who = 'zed'})
        return r.quota, n"""))
    assert got == (b"20", None)


def test_execute_and_nocache(run, users):
    got = values(run("""
        local q = 'select count(*) as n from users'
        local before = msys.db.fetch_row('users', q).n
        local ok = msys.db.execute('users', 'insert into users values (?, ?)', {'carol', 5})
        local cached = msys.db.fetch_row('users', q).n
        local fresh = msys.db.fetch_row('users', q, nil, {nocache = true}).n
        return before, ok, cached, fresh"""))
    assert got == (b"2", True, b"2", b"3")
    assert sqlite3.connect(users).execute("select quota from users where name='carol'").fetchone() == (5,)


def test_errors_raise_or_return_nil_errmsg(run, users):
    got = values(run("""
        local r, e = msys.db.query('users', 'select * from nowhere', nil, {raise_error = false})
        local ok, e2 = msys.db.execute('nope', 'delete from users', nil, {raise_error = false})
        local f, e3 = msys.db.fetch_row('users', 'select ?', {}, {raise_error = false})
        return r, e, ok, e2, f, e3"""))
    assert got[0] is None and b"datasource 'users': OperationalError: no such table: nowhere" in got[1]
    assert got[2] is False and b"no datasource named 'nope'" in got[3]
    assert got[4] is None and b"no value for placeholder" in got[5]
    result = run("return msys.db.fetch_row('users', 'select * from nowhere')")
    assert not result.ok and "msys.db.fetch_row: datasource 'users'" in result.error
