"""msys.core.io_wrapper_open: real files, only under the allowed roots."""
import os

from .conftest import values

WRITE_FLAGS = "msys.core.O_CREAT + msys.core.O_APPEND + msys.core.O_WRONLY"


def test_read_lines_and_all(run, tmp_path):
    (tmp_path / "data.txt").write_bytes(b"first\nsecond\nthird")
    got = values(run("local h = msys.core.io_wrapper_open('data.txt', msys.core.O_RDONLY) "
                     "local a = h:read('*l') local b = h:read(3) local rest = h:read('*a') "
                     "local eof = h:read('*l') h:close() return a, b, rest, eof, msys.type(h)"))
    assert got == (b"first", b"sec", b"ond\nthird", None, b"io_wrapper")


def test_write_append_under_writable_dir(rt, run, tmp_path):
    out = tmp_path / "logs"
    out.mkdir()
    rt.writable_dirs = [str(out)]
    code = (f"local h = assert(msys.core.io_wrapper_open(..., {WRITE_FLAGS}, 416)) "
            "h:write('line one\\n') h:write('line two and more', 8) return h:close()")
    path = str(out / "custom.log").encode()
    assert values(run(code, path)) == (True,)
    assert values(run(code, path)) == (True,)
    assert (out / "custom.log").read_bytes() == b"line one\nline two" * 2
    assert (out / "custom.log").stat().st_mode & 0o777 == 0o640


def test_writes_refused_without_writable_dirs_and_outside(rt, run, tmp_path):
    got = values(run(f"return msys.core.io_wrapper_open('new.log', {WRITE_FLAGS})"))
    assert got[0] is None and b"may not write" in got[1]
    assert not (tmp_path / "new.log").exists()
    rt.writable_dirs = [str(tmp_path / "logs")]
    (tmp_path / "logs").mkdir()
    got = values(run(f"return msys.core.io_wrapper_open('../escape.log', {WRITE_FLAGS})"))
    assert got[0] is None and b"outside" in got[1]


def test_reads_outside_and_through_symlinks_refused(run, tmp_path):
    outside = tmp_path.parent / f"io-outside-{os.getpid()}.txt"
    outside.write_text("secret")
    try:
        (tmp_path / "link.txt").symlink_to(outside)
        for name in (str(outside).encode(), b"link.txt", b"file://" + str(outside).encode()):
            got = values(run("return msys.core.io_wrapper_open(..., msys.core.O_RDONLY)", name))
            assert got[0] is None and b"outside" in got[1], name
    finally:
        outside.unlink()


def test_other_schemes_and_bad_flags(run):
    got = values(run("return msys.core.io_wrapper_open('jlog:///var/log/x.jlog=>master', 0)"))
    assert got[0] is None and b"jlog://" in got[1]
    assert "unsupported open flags" in run("return msys.core.io_wrapper_open('x', 0x40000000)").error


def test_closed_handle_refuses_io(run, tmp_path):
    (tmp_path / "data.txt").write_bytes(b"abc")
    result = run("local h = msys.core.io_wrapper_open('data.txt', 0) h:close() return h:read(1)")
    assert not result.ok and "closed" in result.error
