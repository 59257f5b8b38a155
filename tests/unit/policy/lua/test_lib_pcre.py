"""msys.pcre.match / replace / split."""
from .conftest import values


def test_match_returns_numbered_and_named_captures(run):
    got = values(run("local m = msys.pcre.match('To: joe@example.com', '(?<user>\\\\w+)@(\\\\w+)') "
                     "return m[0], m[1], m[2], m.user"))
    assert got == (b"joe@example", b"joe", b"example", b"joe")


def test_match_flags_and_no_match(run):
    assert values(run("return msys.pcre.match('ABC', 'abc')")) == (None,)
    assert values(run("return msys.pcre.match('ABC', 'abc', 'i')[0]")) == (b"ABC",)


def test_replace_with_dollar_references(run):
    got = values(run("return msys.pcre.replace('a1 b2 c3', '([a-z])(\\\\d)', '$2${1}')"))
    assert got == (b"1a 2b 3c", 3)


def test_split(run):
    got = values(run("local t = msys.pcre.split('a, b,c', ',\\\\s*') return #t, t[1], t[3]"))
    assert got == (3, b"a", b"c")


def test_bad_pattern_and_flag_are_errors(run):
    assert "bad pattern" in run("return msys.pcre.match('x', '(')").error
    assert "unknown pcre flag" in run("return msys.pcre.match('x', 'x', 'q')").error
