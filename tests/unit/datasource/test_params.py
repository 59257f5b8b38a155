"""datasource/params.py: ?, :name and $name become the driver's markers, in order."""
import pytest

from ecelerity.datasource.params import ParamError, bind, inline_ldap, ldap_escape


def test_positional_and_named():
    assert bind("select a from t where b = ? and c = ?", ["x", "y"], "?") == (
        "select a from t where b = ? and c = ?", ["x", "y"])
    assert bind("select :a, $b, :a", {"a": 1, "b": 2}, "%s") == ("select %s, %s, %s", [1, 2, 1])
    assert bind("select $2, $1", ["one", "two"], "?") == ("select ?, ?", ["two", "one"])


def test_quotes_casts_and_percent_are_left_alone():
    text, values = bind("select '?:x', \"col?\", a::text, '100%' from t where b = ?", ["v"], "%s")
    assert text == "select '?:x', \"col?\", a::text, '100%%' from t where b = %s"
    assert values == ["v"]
    assert bind("select 'it''s ?' , ?", ["v"], "?") == ("select 'it''s ?' , ?", ["v"])


def test_missing_values_are_errors():
    with pytest.raises(ParamError, match="parameter #2"):
        bind("select ?, ?", ["only one"], "?")
    with pytest.raises(ParamError, match="'user' key"):
        bind("select :user", {"other": 1}, "?")


def test_ldap_inlining_escapes_filter_values():
    assert ldap_escape("a*(b)\\") == "a\\2a\\28b\\29\\5c"
    url = "ldap://127.0.0.1:389/ou=p,dc=x?mail?sub?(uid=$user)"
    assert inline_ldap(url, {"user": "bob*"}) == "ldap://127.0.0.1:389/ou=p,dc=x?mail?sub?(uid=bob\\2a)"
