"""Option value types: parse good and bad values (exact messages), render, round trips."""
from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config import types as T
from ecelerity.config.parser import parse_text
from ecelerity.config.tree import DictValue, ListValue, Location, Scalar

LOC = Location("t.conf", 1, 1)


def s(text: str, quoted: bool = False) -> Scalar:
    return Scalar(text, quoted, LOC)


def lst(*items: str) -> ListValue:
    return ListValue([s(i) for i in items], LOC)


def value_of(rendered: str):
    """Read a rendered value back through the real config parser."""
    return parse_text(f"opt = {rendered}\n").settings[0].value


def bad(type_, value) -> str:
    with pytest.raises(T.ConfigValueError) as info:
        type_.parse(value)
    return info.value.message


# --- boolean -------------------------------------------------------------------

@pytest.mark.parametrize("word", ["on", "true", "yes", "enabled", "1", "TRUE", "On", " yes "])
def test_boolean_true_words(word):
    assert T.BOOLEAN.parse(s(word)) is True


@pytest.mark.parametrize("word", ["off", "false", "no", "disabled", "0", "No", "FALSE"])
def test_boolean_false_words(word):
    assert T.BOOLEAN.parse(s(word)) is False


def test_boolean_refuses_other_words_and_shapes():
    assert bad(T.BOOLEAN, s("maybe")) == (
        "expected a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0), got 'maybe'")
    assert bad(T.BOOLEAN, lst("true")) == (
        "expected a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0), got a list")
    assert T.BOOLEAN.render(True) == "true" and T.BOOLEAN.render(False) == "false"


# --- integers, seconds, sizes, percent -------------------------------------------

def test_integer_bounds_and_messages():
    assert T.COUNT.parse(s("32")) == 32
    assert T.INTEGER.parse(s("-5")) == -5
    assert bad(T.COUNT, s("-1")) == "expected an integer >= 0, got '-1'"
    assert bad(T.COUNT, s("12abc")) == "expected an integer >= 0, got '12abc'"
    assert bad(T.PORT, s("70000")) == "expected an integer from 1 to 65535, got '70000'"
    assert bad(T.INTEGER, s("1.5")) == "expected an integer, got '1.5'"
    assert T.COUNT.render(500) == "500"


def test_seconds_and_size_suffixes():
    assert T.SECONDS.parse(s("1200")) == 1200
    assert T.SECONDS.parse(s("5m")) == 300
    assert T.SECONDS.parse(s("2h")) == 7200
    assert T.SECONDS.parse(s("1d")) == 86400
    assert bad(T.SECONDS, s("soon")) == "expected a number of seconds >= 0, got 'soon'"
    assert T.SIZE.parse(s("10M")) == 10 * 1024 * 1024
    assert T.SIZE.parse(s("4k")) == 4096
    assert bad(T.SIZE, s("big")) == "expected a size in bytes >= 0, got 'big'"


def test_percent():
    assert T.PERCENT.parse(s("90")) == 90
    assert T.PERCENT.parse(s("95%")) == 95
    assert bad(T.PERCENT, s("120")) == "expected a percentage 0-100, got '120'"


# --- octal modes -----------------------------------------------------------------

def test_octal_mode():
    assert T.OCTAL_MODE.parse(s("0640")) == 0o640
    assert T.OCTAL_MODE.parse(s("0666")) == 0o666
    assert T.OCTAL_MODE.parse(s("04755")) == 0o4755
    assert bad(T.OCTAL_MODE, s("0999")) == "expected an octal file mode like 0640, got '0999'"
    assert bad(T.OCTAL_MODE, s("640")) == "expected an octal file mode like 0640, got '640'"
    assert bad(T.OCTAL_MODE, s("077777")) == "expected an octal file mode like 0640, got '077777'"
    assert T.OCTAL_MODE.render(0o640) == "0640"
    assert T.OCTAL_MODE.render(0o4755) == "04755"


# --- strings, paths, enums -------------------------------------------------------

def test_string_and_path():
    assert T.STRING.parse(s("hello world", True)) == "hello world"
    assert bad(T.STRING, lst("a")) == "expected a string, got a list"
    assert bad(T.PATH, s("", True)) == "expected a file path, got an empty string"
    assert T.STRING.render('say "hi"') == '"say \\"hi\\""'
    assert T.STRING.render("plain") == "plain"


def test_enum_is_case_insensitive_and_returns_declared_spelling():
    tls = T.EnumType(["no", "ifavailable", "required"])
    assert tls.parse(s("IfAvailable")) == "ifavailable"
    assert bad(tls, s("maybe")) == "expected one of: no, ifavailable, required; got 'maybe'"
    method = T.EnumType(["ESMTP", "LMTP"])
    assert method.parse(s("lmtp")) == "LMTP"
    with_int = T.EnumType(["ignore", "fix"], allow_int=True)
    assert with_int.parse(s("2048")) == 2048
    assert bad(with_int, s("-3")) == "expected one of: ignore, fix or an integer; got '-3'"


# --- rates and max_retries -------------------------------------------------------

def test_rate():
    assert T.RATE.parse(s("60/3")) == T.Rate(60, 3)
    assert T.RATE.parse(s("100")) == T.Rate(100, 1)
    assert T.RATE.parse(s("60/3")).per_second == 20
    message = 'expected a rate "N" or "N/S" (N messages per S seconds), got \'{}\''
    for text in ("10/0", "fast", "1/2/3", "-1"):
        assert bad(T.RATE, s(text)) == message.format(text)
    assert T.RATE.render(T.Rate(60, 3)) == '"60/3"'
    assert T.RATE.render(T.Rate(7, 1)) == '"7"'


def test_max_retries():
    assert T.MAX_RETRIES.parse(s("AUTO")) == "auto"
    assert T.MAX_RETRIES.parse(s("none")) == "none"
    assert T.MAX_RETRIES.parse(s("5")) == 5
    assert bad(T.MAX_RETRIES, s("-2")) == 'expected "auto", "none" or an integer >= 0, got \'-2\''
    assert bad(T.MAX_RETRIES, s("lots")) == 'expected "auto", "none" or an integer >= 0, got \'lots\''


# --- lists, dicts ----------------------------------------------------------------

def test_list_accepts_a_single_scalar_as_one_item():
    assert T.STRING_LIST.parse(lst("a", "b c")) == ["a", "b c"]
    assert T.STRING_LIST.parse(s("only")) == ["only"]
    assert T.STRING_LIST.parse(ListValue([], LOC)) == []
    assert bad(T.STRING_LIST, DictValue([], LOC)) == (
        "expected a list ( ... ) of a string, got a dictionary")
    assert T.STRING_LIST.render(["a", "b c"]) == '( a "b c" )'


def test_dict():
    value = DictValue([("uri", s("digest:///etc/pw"), LOC), ("l", lst("x", "y"), LOC)], LOC)
    assert T.DICT.parse(value) == {"uri": "digest:///etc/pw", "l": ["x", "y"]}
    assert bad(T.DICT, s("x")) == "expected a dictionary [ key = value ... ], got 'x'"


# --- networks and addresses ------------------------------------------------------

def test_cidr_list():
    parsed = T.CIDR_LIST.parse(lst("127.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1"))
    assert parsed == [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.1.2.3/32"),
                      ipaddress.ip_network("2001:db8::/32"), ipaddress.ip_network("::1/128")]
    assert T.CIDR_LIST.parse(lst("10.1.2.3/8")) == [ipaddress.ip_network("10.0.0.0/8")]
    assert bad(T.CIDR_LIST, lst("10.0.0.0/8", "10.0.0.256")) == (
        "item 2: expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32, got '10.0.0.256'")
    assert bad(T.CIDR_LIST, s("[::1]")) == (
        "expected an IP address or CIDR like 10.0.0.0/8 or 2001:db8::/32 "
        "(IPv6 is not bracketed here), got '[::1]'")
    assert T.CIDR_LIST.render(parsed[:1]) == '( "127.0.0.0/8" )'


def test_address_list():
    assert T.ADDRESS_LIST.parse(lst("a@example.com")) == ["a@example.com"]
    assert bad(T.ADDRESS_LIST, lst("nobody")) == (
        "expected an email address like user@example.com, got 'nobody'")


def test_hostport():
    assert T.HOSTPORT.parse(s("mx.example.com")) == T.HostPort("mx.example.com")
    assert T.HOSTPORT.parse(s("10.0.0.1:2525")) == T.HostPort("10.0.0.1", 2525)
    assert T.HOSTPORT.parse(s("[2001:db8::1]:25")) == T.HostPort("2001:db8::1", 25)
    assert T.HOSTPORT.parse(s("2001:db8::1")) == T.HostPort("2001:db8::1")
    for text in ("host:0", "host:99999", "[nothex]:25", "bad host", "h:x"):
        assert bad(T.HOSTPORT, s(text)) == f"expected host, host:port or [IPv6]:port, got '{text}'"
    assert T.HOSTPORT.render(T.HostPort("2001:db8::1", 25)) == '"[2001:db8::1]:25"'


def test_scope_type_refuses_values():
    assert bad(T.SCOPE, s("x")).startswith("this is a scope, not an option")


# --- round trips through the real parser -------------------------------------------

ROUND_TRIPS = [
    (T.BOOLEAN, True), (T.COUNT, 0), (T.INTEGER, -1), (T.SECONDS, 43200), (T.SIZE, 131072),
    (T.PERCENT, 95), (T.OCTAL_MODE, 0o640), (T.OCTAL_MODE, 0), (T.STRING, "[%a %d %b %Y]"),
    (T.STRING, 'quote " and \\ backslash'), (T.PATH, "/var/spool/ecelerity"),
    (T.RATE, T.Rate(60, 3)), (T.MAX_RETRIES, "auto"), (T.MAX_RETRIES, 7),
    (T.STRING_LIST, ["ENHANCEDSTATUSCODES", "AUTH LOGIN"]),
    (T.CIDR_LIST, [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]),
    (T.HOSTPORT, T.HostPort("10.0.0.1", 25)), (T.DICT, {"uri": "digest:///x", "k": "v w"}),
    (T.EnumType(["no", "ifavailable", "required"]), "required"),
]


@pytest.mark.parametrize("type_,value", ROUND_TRIPS)
def test_render_then_parse_gives_the_value_back(type_, value):
    assert type_.parse(value_of(type_.render(value))) == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_any_string_round_trips(text):
    assert T.STRING.parse(value_of(T.STRING.render(text))) == text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_parse_raises_only_config_value_error(text):
    for type_ in (T.BOOLEAN, T.COUNT, T.SECONDS, T.SIZE, T.PERCENT, T.OCTAL_MODE, T.RATE,
                  T.MAX_RETRIES, T.CIDR, T.HOSTPORT, T.ADDRESS_LIST):
        try:
            type_.parse(s(text))
        except T.ConfigValueError:
            pass
