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


def test_match_captures_unset_groups_and_whole_match(run):
    got = values(run("local m = msys.pcre.match('xay', '(a)|(b)(c)?') "
                     "return m[0], m[1], m[2], m[3], #m"))
    assert got[:4] == (b"a", b"a", None, None)
    got = values(run("local m = msys.pcre.match('xby', '(a)|(b)(c)?') return m[0], m[1], m[2]"))
    assert got == (b"b", None, b"b")
    assert values(run("local m = msys.pcre.match('abc', 'b') return m[0], m[1]")) == (b"b", None)


def test_low_level_and_public_pcre2_paths_agree(rt, monkeypatch):
    """match() uses pcre2's Cython layer when it is there; the public Pattern.search path
    (any other pcre2 release) must answer the same for every kind of capture."""
    from ecelerity.policy.lua import lib_pcre
    assert lib_pcre._cy_match is not None  # the pinned pcre2 has it: the fast path is real
    cases = [(b"MAIL FROM:<a@b.example>", b"@([^>]+)>", b""),
             (b"RCPT TO:<c@d.example>", b"^RCPT TO:<[^@]+@blocked\\.example>", b"i"),
             (b"xby", b"(a)|(b)(c)?", b""), (b"To: joe@x.example", b"(?<user>\\w+)@(\\w+)", b""),
             (b"AbC\nabc", b"^abc$", b"mi"), (b"caf\xc3\xa9 ok", b"\\w+ (o)(k)", b"")]

    def answers() -> list:
        lib_pcre._matcher.cache_clear()
        return [lib_pcre._matcher(pattern, flags)(subject) for subject, pattern, flags in cases]
    fast = answers()
    monkeypatch.setattr(lib_pcre, "_cy_match", None)
    public = answers()
    lib_pcre._matcher.cache_clear()
    assert fast == public
    assert fast[0] == (1, b"@b.example>", b"b.example") and fast[1] is None
    assert fast[3] == {0: b"joe@x", 1: b"joe", 2: b"x", b"user": b"joe"}
