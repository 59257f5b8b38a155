"""msys.readfile, require, dofile: only inside the allowed directories."""
import os

from .conftest import values


def test_readfile_inside_and_outside(rt, run, tmp_path):
    (tmp_path / "list.txt").write_bytes(b"a\nb\n")
    assert values(run("return msys.readfile('list.txt')")) == (b"a\nb\n",)
    outside = tmp_path.parent / f"outside-{os.getpid()}.txt"
    outside.write_text("secret")
    try:
        got = values(run("return msys.readfile(...)", str(outside).encode()))
        assert got[0] is None and b"outside" in got[1]
        (tmp_path / "link.txt").symlink_to(outside)
        got = values(run("return msys.readfile('link.txt')"))
        assert got[0] is None and b"outside" in got[1]
    finally:
        outside.unlink()


def test_require_script_modules_and_builtins(rt, run, tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "util.lua").write_text(
        "loads = (loads or 0) + 1\n_MODULE = {twice = function(x) return 2 * x end}\n")
    got = values(run("local u = require('lib.util') local u2 = require('lib.util') "
                     "return u.twice(21), u == u2, require('msys.core') == msys"))
    assert got == (42, True, True)
    assert "not found" in run("return require('lib.nothere')").error


def test_dofile_runs_script_path_files(run, tmp_path):
    (tmp_path / "five.lua").write_text("return 5")
    assert values(run("return dofile('five.lua')")) == (5,)
