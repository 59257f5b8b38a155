"""datasource/core.py on SQLite: cache (hits, life, size, no_cache), max_rows, pool, errors."""
import sqlite3
import time

import gevent
import pytest

from ecelerity.datasource import core
from ecelerity.datasource.uri import parse_uri


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "users.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table users (name text, quota int)")
        conn.executemany("insert into users values (?, ?)", [("alice", 10), ("bob", 20), ("carol", None)])
    return path


@pytest.fixture
def make(db_path):
    made = []

    def register(name="users", **kw):
        uris = kw.pop("uris", [f"sqlite:{db_path}"])
        source = core.register(core.DatasourceSettings(name, [parse_uri(u) for u in uris], **kw))
        made.append(source)
        return source
    yield register
    for source in made:
        core.unregister(source)


def set_quota(db_path, name, quota):
    with sqlite3.connect(db_path) as conn:
        conn.execute("update users set quota = ? where name = ?", (quota, name))


def test_rows_columns_and_strings(make):
    make()
    result = core.query("USERS", "select name, quota from users order by name")
    assert result.columns == ["name", "quota"]
    assert result.rows == [["alice", "10"], ["bob", "20"], ["carol", None]]
    assert result.row_dict(1) == {"name": "bob", "quota": "20"}
    assert core.query("users", "select quota from users where name = :n", {"n": "bob"}).rows == [["20"]]


def test_second_query_comes_from_the_cache_until_its_life_ends(make, db_path):
    source = make(cache_life=0.3)
    q = "select quota from users where name = ?"
    assert core.query("users", q, ["alice"]).rows == [["10"]]
    set_quota(db_path, "alice", 99)
    assert core.query("users", q, ["alice"]).rows == [["10"]]  # cached: the server is not asked
    assert source.stats.cache_hits == 1 and source.stats.cache_misses == 1
    assert core.query("users", q, ["alice"], nocache=True).rows == [["99"]]
    assert core.query("users", q, ["bob"]).rows == [["20"]]  # other params: another entry
    time.sleep(0.35)
    set_quota(db_path, "alice", 7)
    assert core.query("users", q, ["alice"]).rows == [["7"]]  # expired


def test_no_cache_and_cache_size(make, db_path):
    make(no_cache=True)
    assert core.query("users", "select quota from users where name='bob'").rows == [["20"]]
    set_quota(db_path, "bob", 21)
    assert core.query("users", "select quota from users where name='bob'").rows == [["21"]]
    small = make(name="small", cache_size=2)
    for who in ("alice", "bob", "carol"):
        core.query("small", "select quota from users where name = ?", [who])
    assert len(small.cache.entries) == 2


def test_max_rows_and_execute(make):
    make(max_rows=2)
    assert len(core.query("users", "select * from users").rows) == 2
    assert core.execute("users", "insert into users values (?, ?)", ["dave", 5]).rowcount == 1
    assert core.query("users", "select count(*) from users", nocache=True).rows == [["4"]]


def test_errors_name_the_datasource_and_keep_working(make, tmp_path):
    make()
    with pytest.raises(core.DatasourceError, match="datasource 'users': OperationalError: no such table"):
        core.query("users", "select * from nowhere")
    with pytest.raises(core.DatasourceError, match="no datasource named 'nope'"):
        core.query("nope", "select 1")
    with pytest.raises(core.DatasourceError, match="no value for placeholder"):
        core.query("users", "select ?")
    assert core.query("users", "select 1").rows == [["1"]]  # still serving
    make(name="gone", uris=[f"sqlite:{tmp_path}/missing.db"])
    with pytest.raises(core.DatasourceError, match="datasource 'gone': cannot connect: sqlite:"):
        core.query("gone", "select 1")


def test_failover_to_the_next_uri(make, db_path, tmp_path):
    make(name="fo", uris=[f"sqlite:{tmp_path}/missing.db", f"sqlite:{db_path}"])
    assert core.query("fo", "select count(*) from users").rows == [["3"]]


def test_queries_wait_in_greenlets_not_on_the_hub(make):
    source = make(max_connections=2, timeout=30)
    slow = "with recursive c(x) as (select 1 union all select x+1 from c where x < 400000) select count(*) from c"
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.01)) for _ in range(1000)])
    jobs = [gevent.spawn(core.query, "users", slow + f" -- {i}") for i in range(3)]
    gevent.joinall(jobs, raise_error=True)
    ticker.kill()
    assert [j.value.rows for j in jobs] == [[["400000"]]] * 3
    assert len(ticks) >= 5, "the hub was blocked while queries ran"
    assert source.stats.connects <= 2  # the pool bound holds


def test_timeout_is_an_error_and_drops_the_connection(make):
    make(timeout=0.2)
    slow = "with recursive c(x) as (select 1 union all select x+1 from c where x < 50000000) select count(*) from c"
    started = time.monotonic()
    with pytest.raises(core.DatasourceError, match="timed out"):
        core.query("users", slow)
    assert time.monotonic() - started < 2
