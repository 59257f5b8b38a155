"""datasource/driver_ldap.py against a real slapd started in a temp dir."""
import pytest

from ecelerity.datasource import core
from ecelerity.datasource.driver_ldap import parse_ldap_url
from ecelerity.datasource.uri import parse_uri
from tests.helpers.ldap_server import ROOT_DN, ROOT_PW, SUFFIX, start_slapd

PEOPLE = f"ou=people,{SUFFIX}"


@pytest.fixture(scope="module")
def ldap():
    with start_slapd() as server:
        server.add(f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
                   f"dn: uid=alice,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\n"
                   "sn: A\nmail: alice@example.com\nmail: a@example.com\n\n"
                   f"dn: uid=bob,{PEOPLE}\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob\nsn: B\n"
                   "mail: bob@example.com\n")
        yield server


@pytest.fixture
def source(ldap):
    uri = f"ldap:uri={ldap.uri};binddn={ROOT_DN};password={ROOT_PW}"
    made = core.register(core.DatasourceSettings("dir", [parse_uri(uri)], timeout=2.5))
    yield made
    core.unregister(made)


def test_parse_ldap_url():
    assert parse_ldap_url("ldap:///ou=p,dc=x?mail,cn?sub?(uid=%24user)") == (
        "ou=p,dc=x", ["mail", "cn"], "SUBTREE", "(uid=$user)")
    assert parse_ldap_url("ldap://h:389/dc=x")[2:] == ("BASE", "(objectClass=*)")
    with pytest.raises(ValueError, match="LDAP URL"):
        parse_ldap_url("select 1")


def test_lookup_by_filter_with_escaped_params(source):
    url = f"ldap:///{PEOPLE}?cn,mail?sub?(uid=$user)"
    got = core.query("dir", url, {"user": "bob"})
    assert got.columns == ["cn", "mail"] and got.rows == [["Bob", "bob@example.com"]]
    multi = core.query("dir", url, {"user": "alice"}).row_dict()
    assert multi == {"cn": "Alice", "mail": ["alice@example.com", "a@example.com"]}
    assert core.query("dir", url, {"user": "*"}).rows == []  # escaped: no wildcard injection
    every = core.query("dir", f"ldap:///{PEOPLE}?uid?one?(objectClass=inetOrgPerson)")
    assert sorted(r[0] for r in every.rows) == ["alice", "bob"]


def test_errors_and_anonymous_bind(source, ldap):
    with pytest.raises(core.DatasourceError, match="datasource 'dir': .*"):
        core.query("dir", f"ldap:///{PEOPLE}?cn?sub?(uid=bob")
    with pytest.raises(core.DatasourceError, match="read-only"):
        core.execute("dir", f"ldap:///{PEOPLE}")
    anon = core.register(core.DatasourceSettings("anon", [parse_uri(ldap.uri)], timeout=3))
    try:
        assert core.query("anon", f"ldap:///{PEOPLE}?uid?sub?(uid=alice)").rows == [["alice"]]
    finally:
        core.unregister(anon)
