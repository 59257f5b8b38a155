"""datasource/driver_pgsql.py against a real PostgreSQL started in a temp dir."""
import pytest

from ecelerity.datasource import core
from ecelerity.datasource.uri import parse_uri
from tests.helpers.daemon import free_port
from tests.helpers.pg_server import start_postgres


@pytest.fixture(scope="module")
def pg():
    with start_postgres() as server:
        server.psql("create table users (email text primary key, quota int, note text);"
                    "insert into users values ('a@x.test', 10, '50%'), ('b@x.test', 20, null)")
        yield server


@pytest.fixture
def source(pg):
    made = core.register(core.DatasourceSettings("pg", [parse_uri(pg.uri)], timeout=3))
    yield made
    core.unregister(made)


def test_query_with_each_placeholder_style(source):
    q = "select email, quota, note from users where email = ?"
    assert core.query("pg", q, ["a@x.test"]).rows == [["a@x.test", "10", "50%"]]
    got = core.query("pg", "select quota::text as q from users where email = :who", {"who": "b@x.test"})
    assert got.columns == ["q"] and got.rows == [["20"]]
    assert core.query("pg", "select note from users where note like '%\\%' escape '\\'").rows == [["50%"]]
    assert core.query("pg", "select 1 from users where email = $who", {"who": "nobody"}).rows == []


def test_execute_and_sql_errors(source, pg):
    assert core.execute("pg", "insert into users values (?, ?, ?)", ["c@x.test", 1, None]).rowcount == 1
    assert pg.psql("select quota from users where email = 'c@x.test'").strip() == "1"
    with pytest.raises(core.DatasourceError, match="datasource 'pg': .*duplicate key"):
        core.execute("pg", "insert into users values (?, 1, null)", ["c@x.test"])
    with pytest.raises(core.DatasourceError, match="syntax error"):
        core.query("pg", "selec nothing")
    assert core.query("pg", "select count(*) from users", nocache=True).rows == [["3"]]
    assert source.stats.connects == 1  # SQL errors keep the pooled connection


def test_statement_timeout_and_server_down(pg):
    slow = core.register(core.DatasourceSettings("pgslow", [parse_uri(pg.uri)], timeout=0.5))
    try:
        with pytest.raises(core.DatasourceError, match="datasource 'pgslow': .*(cancel|timed out)"):
            core.query("pgslow", "select pg_sleep(5)")
    finally:
        core.unregister(slow)
    down = core.register(core.DatasourceSettings(
        "pgdown", [parse_uri(f"pgsql:host=127.0.0.1;port={free_port()};dbname=x;user=y")], timeout=2))
    try:
        with pytest.raises(core.DatasourceError, match="datasource 'pgdown': cannot connect: .*refused"):
            core.query("pgdown", "select 1")
    finally:
        core.unregister(down)
