"""ecelerity/control/console.py and client.py: which argument is the address, how commands are joined."""
from __future__ import annotations

import pytest

from ecelerity.control.client import DEFAULT_SOCKET, ControlAddress, parse_address
from ecelerity.control.console import looks_like_address, split_argv


@pytest.mark.parametrize("text, expected", [
    ("var/run/control.sock", ControlAddress("unix", path="var/run/control.sock")),
    ("/tmp/2025", ControlAddress("unix", path="/tmp/2025")),
    ("unix:sock", ControlAddress("unix", path="sock")),
    ("127.0.0.1:2025", ControlAddress("tcp", host="127.0.0.1", port=2025)),
    (":2025", ControlAddress("tcp", host="127.0.0.1", port=2025)),
    ("localhost:2025", ControlAddress("tcp", host="localhost", port=2025)),
    ("[::1]:2424", ControlAddress("tcp", host="::1", port=2424)),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_address_prints_back():
    assert str(parse_address("[::1]:2424")) == "[::1]:2424"
    assert str(parse_address("127.0.0.1:1")) == "127.0.0.1:1"


@pytest.mark.parametrize("argv, expected", [
    ([], (DEFAULT_SOCKET, None)),
    (["pid"], (DEFAULT_SOCKET, "pid")),
    (["config", "eval", "max_outbound_connections"], (DEFAULT_SOCKET, "config eval max_outbound_connections")),
    (["/tmp/2025", "config eval x"], ("/tmp/2025", "config eval x")),
    (["127.0.0.1:2025"], ("127.0.0.1:2025", None)),
    (["var/c.sock", "config", "eval", "Domain", "a b", "x"], ("var/c.sock", "config eval Domain 'a b' x")),
    (["config eval Domain /re/ x"], (DEFAULT_SOCKET, "config eval Domain /re/ x")),
])
def test_split_argv(argv, expected):
    assert split_argv(argv) == expected


def test_an_existing_file_name_is_an_address(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not looks_like_address("control.sock")
    (tmp_path / "control.sock").write_text("")
    assert looks_like_address("control.sock")
    assert not looks_like_address("summary")
