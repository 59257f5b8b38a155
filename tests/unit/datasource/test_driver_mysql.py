"""datasource/driver_mysql.py against a real MariaDB started in a temp dir."""
import pytest

from ecelerity.datasource import core
from ecelerity.datasource.uri import parse_uri
from tests.helpers.mysql_server import start_mariadb


@pytest.fixture(scope="module")
def db():
    with start_mariadb() as server:
        server.sql("create table test.domains (name varchar(64) primary key, action varchar(16));"
                   "insert into test.domains values ('spam.test', 'reject'), ('ok.test', 'accept')")
        yield server


@pytest.fixture
def source(db):
    made = core.register(core.DatasourceSettings("my", [parse_uri(db.uri)], timeout=3))
    yield made
    core.unregister(made)


def test_query_execute_and_errors(source, db):
    assert core.query("my", "select action from domains where name = ?", ["spam.test"]).rows == [["reject"]]
    got = core.query("my", "select name, action from domains where name = :d", {"d": "ok.test"})
    assert got.row_dict() == {"name": "ok.test", "action": "accept"}
    assert core.query("my", "select '100%' as p").rows == [["100%"]]
    assert core.execute("my", "insert into domains values (?, ?)", ["new.test", "hold"]).rowcount == 1
    assert db.sql("select action from test.domains where name='new.test'").strip() == "hold"
    with pytest.raises(core.DatasourceError, match="datasource 'my': ProgrammingError: .*syntax"):
        core.query("my", "selec 1")
    assert core.query("my", "select count(*) from domains", nocache=True).rows == [["3"]]


def test_unix_socket_uri(db):
    made = core.register(core.DatasourceSettings(
        "mysock", [parse_uri(f"mysql:unix_socket={db.socket};dbname=test;user=root")], timeout=3))
    try:
        assert core.query("mysock", "select count(*) from domains").rows[0][0].isdigit()
    finally:
        core.unregister(made)
