"""Malformed configurations and the exact ``file:line:col: message`` the parser reports.

Each case writes ``f.conf`` (and any include files) under tmp_path, parses it with
parse_file and compares the complete list of problems: one mistake, one error,
never a cascade. ``{d}`` in a message stands for the tmp_path directory.
"""
from __future__ import annotations

import os

import pytest

from ecelerity.config.errors import ConfigError
from ecelerity.config.parser import parse_file

CASES = [
    # (id, f.conf text, other files {name: text or bytes}, expected problems)
    ("unclosed-brace-at-eof", 'ESMTP_Listener {\n  Listen ":25" {\n  }\n', {},
     ["{d}/f.conf:4:1: unexpected end of file: '{{' opened at {d}/f.conf:1:16 is not closed"]),
    ("innermost-unclosed-brace-only", "a {\n b {\n  c = 1\n", {},
     ["{d}/f.conf:4:1: unexpected end of file: '{{' opened at {d}/f.conf:2:4 is not closed"]),
    ("stray-closing-brace", "a = 1\n}\nb = 2\n", {},
     ["{d}/f.conf:2:1: unexpected '}}' (no stanza is open)"]),
    ("equals-without-value-at-eof", "Max_Retries =", {},
     ["{d}/f.conf:1:13: '=' without a value for option 'Max_Retries'"]),
    ("equals-without-value-before-brace", "Domain x { retry_interval = }\n", {},
     ["{d}/f.conf:1:27: '=' without a value for option 'retry_interval'"]),
    ("equals-without-value-then-next-line", "a =\nb = 1\n", {},
     ["{d}/f.conf:1:3: '=' without a value for option 'a'"]),
    ("missing-value-before-brace", "Domain x {\n  retry_interval\n}\n", {},
     ["{d}/f.conf:2:3: option 'retry_interval' has no value"]),
    ("missing-value-at-eof", "a = 1\nmax_retries", {},
     ["{d}/f.conf:2:1: option 'max_retries' has no value"]),
    ("missing-value-then-next-line-setting", "server_name\nmax_retries = 3\n", {},
     ["{d}/f.conf:1:1: option 'server_name' has no value"]),
    ("unterminated-list-at-eof", "relay_hosts = ( 127.0.0.1 10.0.0.0/8", {},
     ["{d}/f.conf:1:37: unexpected end of file: '(' opened at {d}/f.conf:1:15 is not closed"]),
    ("list-closed-by-brace", "ESMTP_Listener {\n  relay_hosts = ( a b\n}\n", {},
     ["{d}/f.conf:3:1: unexpected '}}' in list: '(' opened at {d}/f.conf:2:17 is not closed"]),
    ("list-inside-list", "relay_hosts = ( a ( b c ) d )\n", {},
     ["{d}/f.conf:1:19: a list cannot contain a list or dictionary"]),
    ("dict-inside-list", "routes = ( [ k = v ] )\n", {},
     ["{d}/f.conf:1:12: a list cannot contain a list or dictionary"]),
    ("equals-inside-list", "ctx = ( a = b )\n", {},
     ["{d}/f.conf:1:11: unexpected '=' in list (a dictionary is written [ key = value ])"]),
    ("bracket-closes-list", "x = ( a b ]\ny = 1\n", {},
     ["{d}/f.conf:1:11: unexpected ']' in list"]),
    ("unterminated-dict-at-eof", "context = [ k = v\n", {},
     ["{d}/f.conf:2:1: unexpected end of file: '[' opened at {d}/f.conf:1:11 is not closed"]),
    ("dict-key-without-value", "context = [ a = 1 b ]\n", {},
     ["{d}/f.conf:1:19: key 'b' in dictionary has no value"]),
    ("dict-inside-dict", "context = [ a = [ b = c ] ]\n", {},
     ["{d}/f.conf:1:17: a dictionary value cannot be a dictionary"]),
    ("dict-without-key", "context = [ = v ]\n", {},
     ["{d}/f.conf:1:13: unexpected '=' in dictionary: expected a key"]),
    ("dict-empty-key", 'context = [ "" = v ]\n', {},
     ["{d}/f.conf:1:13: empty key in dictionary"]),
    ("dict-closed-by-brace", "Domain x { context = [ a = 1 }\n", {},
     ["{d}/f.conf:1:30: unexpected '}}' in dictionary: '[' opened at {d}/f.conf:1:22 is not closed"]),
    ("brace-after-list-value", "Domain ( a b ) { }\n", {},
     ["{d}/f.conf:1:16: unexpected '{{' after a list value: a stanza name must be a single word or string"]),
    ("brace-after-dict-value", "Domain [ a = b ] { }\n", {},
     ["{d}/f.conf:1:18: unexpected '{{' after a dictionary value: a stanza name must be a single word or string"]),
    ("brace-after-equals-value", "Domain = example.com {\n  x = 1\n}\n", {},
     ["{d}/f.conf:1:22: unexpected '{{' after 'Domain = ...': a stanza is written 'Kind name {{' without '='"]),
    ("brace-without-stanza-name", "a = 1\n{ b = 2 }\n", {},
     ["{d}/f.conf:2:1: '{{' without a stanza name"]),
    ("empty-option-name", '"" = 1\n', {},
     ["{d}/f.conf:1:1: empty option name"]),
    ("empty-stanza-name", 'Domain "" { }\n', {},
     ["{d}/f.conf:1:8: empty name for stanza 'Domain'"]),
    ("equals-at-statement-start", "a = 1\n= 2\nb = 3\n", {},
     ["{d}/f.conf:2:1: unexpected '=': expected an option or stanza name"]),
    ("paren-at-statement-start", "Domain x {\n  ( a b )\n}\n", {},
     ["{d}/f.conf:2:3: unexpected '(': expected an option or stanza name"]),
    ("unterminated-string", 'a = 1\nb = "abc\n}\n', {},
     ['{d}/f.conf:2:5: unterminated string: no closing " found']),
    ("unterminated-string-inside-stanza", "Domain x {\n  a = 'abc\n}\n", {},
     ["{d}/f.conf:2:7: unterminated string: no closing ' found"]),
    ("unterminated-comment", "a = 1 /* start\nb = 2\n", {},
     ["{d}/f.conf:1:7: unterminated comment: '/*' has no closing '*/'"]),
    ("include-missing-file", 'a = 1\ninclude "missing.conf"\n', {},
     ["{d}/f.conf:2:9: include file 'missing.conf' not found (searched: {d}/missing.conf)"]),
    ("include-missing-absolute", 'include "/nonexistent/ecelerity/x.conf"\n', {},
     ["{d}/f.conf:1:9: include file '/nonexistent/ecelerity/x.conf' not found "
      "(searched: /nonexistent/ecelerity/x.conf)"]),
    ("include-recursive", "include a.conf\n", {"a.conf": "x = 1\ninclude b.conf\n", "b.conf": "include a.conf\n"},
     ["{d}/b.conf:1:9: include of 'a.conf' is recursive ({d}/a.conf -> {d}/b.conf -> {d}/a.conf)"]),
    ("include-self", "a = 1\ninclude f.conf\n", {},
     ["{d}/f.conf:2:9: include of 'f.conf' is recursive ({d}/f.conf -> {d}/f.conf)"]),
    ("include-list-value", "include ( a.conf b.conf )\n", {},
     ["{d}/f.conf:1:9: 'include' needs a file name"]),
    ("include-with-block", 'readonly_include "a.conf" { }\n', {"a.conf": "x = 1\n"},
     ["{d}/f.conf:1:27: unexpected '{{' after 'readonly_include': it takes a file name, not a block"]),
    ("include-unclosed-brace-in-included-file", "Domain x {\n  include part.conf\n}\n",
     {"part.conf": "host h {\n  y = 1\n"},
     ["{d}/part.conf:3:1: unexpected end of file: '{{' opened at {d}/part.conf:1:8 is not closed"]),
    ("include-stray-brace-in-included-file", "Domain x {\n  include part.conf\n  z = 2\n}\n",
     {"part.conf": "y = 1\n}\n"},
     ["{d}/part.conf:2:1: unexpected '}}' (no stanza is open)"]),
    ("include-non-utf8", "include bad.conf\n", {"bad.conf": b"a = 1\nb = \"caf\xc3\xa9 \xff\"\n"},
     ["{d}/bad.conf:2:11: invalid UTF-8 byte 0xff (the file must be UTF-8)"]),
    ("root-non-utf8", b"ok = 1\n\n  x\xfe = 2\n", {},
     ["{d}/f.conf:3:4: invalid UTF-8 byte 0xfe (the file must be UTF-8)"]),
    ("include-empty-name", 'include ""\n', {},
     ["{d}/f.conf:1:9: 'include' needs a file name"]),
    ("too-deeply-nested", "a {" * 101 + "}" * 101, {},
     ["{d}/f.conf:1:303: stanzas and includes nested too deeply (limit 100)"]),
]


def write_case(directory, main, others) -> str:
    for name, content in {"f.conf": main, **others}.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return str(directory / "f.conf")


@pytest.mark.parametrize("main, others, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_configuration(tmp_path, main, others, expected):
    path = write_case(tmp_path, main, others)
    with pytest.raises(ConfigError) as err:
        parse_file(path)
    assert [str(p) for p in err.value.problems] == [e.format(d=tmp_path) for e in expected]
    assert str(err.value.first) == expected[0].format(d=tmp_path)


def test_case_table_is_large_enough():
    assert len(CASES) >= 25 and len({c[0] for c in CASES}) == len(CASES)


def test_include_of_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.conf")
    path = write_case(tmp_path, "include pipe.conf\n", {})
    with pytest.raises(ConfigError) as err:
        parse_file(path)
    assert [str(p) for p in err.value.problems] == [
        f"{tmp_path}/f.conf:1:9: include file 'pipe.conf' is not a regular file or directory"]


def test_include_not_found_lists_every_searched_place(tmp_path):
    (tmp_path / "s1").mkdir()
    path = write_case(tmp_path, "include x/y.conf\n", {})
    with pytest.raises(ConfigError) as err:
        parse_file(path, search_path=[str(tmp_path / "s1"), "/nonexistent"])
    assert [str(p) for p in err.value.problems] == [
        f"{tmp_path}/f.conf:1:9: include file 'x/y.conf' not found "
        f"(searched: {tmp_path}/x/y.conf, {tmp_path}/s1/x/y.conf, /nonexistent/x/y.conf)"]


def test_errors_in_several_included_files_all_reported(tmp_path):
    path = write_case(tmp_path, "include one.conf\nbad\ninclude two.conf\n",
                      {"one.conf": "}\n", "two.conf": "x = (\n"})
    with pytest.raises(ConfigError) as err:
        parse_file(path)
    assert [str(p) for p in err.value.problems] == [
        f"{tmp_path}/one.conf:1:1: unexpected '}}' (no stanza is open)",
        f"{tmp_path}/f.conf:2:1: option 'bad' has no value",
        f"{tmp_path}/two.conf:2:1: unexpected end of file: '(' opened at {tmp_path}/two.conf:1:5 is not closed",
    ]
