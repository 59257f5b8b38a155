"""datasource/uri.py: driver URIs parse, and bad ones say why."""
import pytest

from ecelerity.datasource.uri import UriError, parse_uri


def test_drivers_and_settings():
    pg = parse_uri("pgsql:host=127.0.0.1;port=5432;dbname=mail;user=u;password=pw")
    assert pg.driver == "pgsql" and pg.settings["dbname"] == "mail"
    assert "pw" not in pg.redacted() and "password=***" in pg.redacted()
    assert parse_uri("postgresql:host=h dbname=d").settings == {"host": "h", "dbname": "d"}
    assert parse_uri("mariadb:unix_socket=/tmp/s;dbname=x").driver == "mysql"
    assert parse_uri("sqlite:/var/db/users.db").settings == {"path": "/var/db/users.db"}
    assert parse_uri("ldap://127.0.0.1:389").settings == {"uri": "ldap://127.0.0.1:389"}
    assert parse_uri("ldap:uri=ldap://h;binddn=cn=a,dc=b;password=x").settings["binddn"] == "cn=a,dc=b"


@pytest.mark.parametrize("text, why", [
    ("oracle:host=x", "unknown driver 'oracle'"),
    ("pgsql:host", "is not key=value"),
    ("pgsql:hots=x", "unknown pgsql key 'hots'"),
    ("mysql:port=abc", "is not a number"),
    ("sqlite:", "needs a file path"),
    ("ldap:uri=http://x", "must start with ldap://"),
])
def test_bad_uris(text, why):
    with pytest.raises(UriError, match=why):
        parse_uri(text)
