"""Sieve compiler: policy/sieve/compiler.py (checks, located errors, limits, includes, cache)."""
from __future__ import annotations

import time

import pytest

from ecelerity.policy.sieve import SCRIPT_CACHE, Limits, SieveCompileError, compile_cached, compile_script


@pytest.mark.parametrize("script, where, what", [
    ('keep;\nrequire "fileinto";', "2:1", "'require' must come before"),
    ('fileinto "x";', "1:1", "requires extension 'fileinto'"),
    ('require "nope";', "1:9", "unsupported extension"),
    ("if true { keep; } elsif", "1:24", "expected ';' or '{'"),
    ("else { keep; }", "1:1", "without a preceding 'if'"),
    ("if true keep;", "1:1", "needs a block"),
    ('if header :bogus "a" "b" { keep; }', "1:11", "unknown tag ':bogus'"),
    ('if header :is :contains "a" "b" { keep; }', "1:15", "more than one match type"),
    ('if header :regex "a" "b" { keep; }', "1:11", "requires extension 'regex'"),
    ('require "regex";\nif header :regex "a" "(" { keep; }', "2:22", "invalid regex"),
    ('if header :comparator "i;foo" "a" "b" { keep; }', "1:23", "unknown comparator"),
    ('require "relational";\nif header :count "xx" "a" "1" { keep; }', "2:18", "invalid relational operator"),
    ('if size :over 1 :under 2 { keep; }', "1:4", "exactly one of :over or :under"),
    ('redirect "nobody";', "1:10", "invalid redirect address"),
    ("keep \"x\";", "1:1", "takes 0 positional argument"),
    ('if not ( true, false ) { keep; }', "1:4", "exactly one test"),
    ('require "variables"; set "1bad" "x";', "1:26", "invalid variable name"),
    ('require "envelope"; if envelope "helo" "x" { keep; }', "1:33", "unknown envelope part"),
])
def test_compile_errors_name_file_line_col(script, where, what):
    with pytest.raises(SieveCompileError) as info:
        compile_script(script, "rules.sieve")
    assert str(info.value).startswith(f"rules.sieve:{where}: "), str(info.value)
    assert what in str(info.value)


def test_deep_nesting_is_a_compile_error_not_a_crash():
    deep = "if true { " * 5000 + "keep;" + " }" * 5000
    with pytest.raises(SieveCompileError, match="nesting too deep"):
        compile_script(deep, "deep.sieve")
    tests = "if " + "not " * 5000 + "true { keep; }"
    with pytest.raises(SieveCompileError, match="nesting too deep"):
        compile_script(tests, "deep.sieve")


def test_huge_string_list_and_script_size_are_bounded():
    huge = 'if header :is "a" [' + ",".join(['"x"'] * 5000) + "] { keep; }"
    with pytest.raises(SieveCompileError, match="string list too long"):
        compile_script(huge)
    with pytest.raises(SieveCompileError, match="script too large"):
        compile_script("#" * 2000, limits=Limits(max_script_size=1000))


def test_include_loops_and_depth_are_compile_errors(tmp_path):
    (tmp_path / "a.sieve").write_text('require "include"; include "b";')
    (tmp_path / "b.sieve").write_text('require "include"; include "a";')
    with pytest.raises(SieveCompileError, match="circular include"):
        compile_script((tmp_path / "a.sieve").read_text(), str(tmp_path / "a.sieve"))
    for level in range(20):
        (tmp_path / f"n{level}.sieve").write_text(f'require "include"; include "n{level + 1}";')
    (tmp_path / "n20.sieve").write_text("keep;")
    start = time.perf_counter()
    with pytest.raises(SieveCompileError, match="include nesting too deep"):
        compile_script((tmp_path / "n0.sieve").read_text(), str(tmp_path / "n0.sieve"))
    assert time.perf_counter() - start < 3


def test_missing_include_is_located(tmp_path):
    path = tmp_path / "main.sieve"
    with pytest.raises(SieveCompileError) as info:
        compile_script('require "include";\ninclude "absent";', str(path))
    assert str(info.value).startswith(f"{path}:2:9: included script 'absent' not found")


def test_cache_returns_same_object_until_text_changes():
    SCRIPT_CACHE.flush()
    first = compile_cached("keep;", "c.sieve")
    assert compile_cached("keep;", "c.sieve") is first
    assert compile_cached("discard;", "c.sieve") is not first
    assert SCRIPT_CACHE.flush() == 2
