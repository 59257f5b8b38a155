"""xml.* on lxml: parse, navigate, edit, serialise; hostile documents are refused."""
from __future__ import annotations

from .conftest import values


def test_parse_navigate_edit_and_serialise(run):
    got = values(run("""
        local doc = xml.parsexml("<cfg version='2'><rule name='a'>x</rule><rule name='b'/></cfg>")
        local root = doc:root()
        local names = {}
        for node in root:children() do names[#names + 1] = node:attribute("name") end
        local added = root:addchild("rule", "new")
        added:attribute("name", "c")
        root:attribute("version", "")
        local second = doc:xpath("/cfg/rule[@name='b']")[1]
        second:unlink()
        return root:name(), table.concat(names, ","), doc:xpath("count(//rule)"),
               doc:xpath("string(//rule[@name='c'])"), added:doc():root():name(),
               added:contents("changed"), doc:root():tostring()"""))
    assert got == (b"cfg", b"a,b", 2.0, b"new", b"cfg", b"changed",
                   b'<cfg><rule name="a">x</rule><rule name="c">changed</rule></cfg>')


def test_syntax_errors_and_entities(run, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    got = values(run(f"""
        local bad, err = xml.parsexml("<a><b></a>")
        local doc = xml.parsexml('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>')
        return bad, err, doc:root():contents(), doc:tostring()"""))
    assert got[0] is None and got[1].startswith(b"xml.parsexml:")
    assert b"TOPSECRET" not in got[2] + got[3]
    assert "cannot be unlinked" in run("xml.parsexml('<a/>'):root():unlink()").error
