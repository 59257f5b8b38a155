"""Listen addresses, Peer networks, regex and binding names (ecelerity/config/scope_names.py)."""
import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.scope_names import (
    ListenAddress,
    check_instance_name,
    check_regex_name,
    is_regex_name,
    parse_listen_address,
    parse_peer_network,
)


@pytest.mark.parametrize("name, expected", [
    ("127.0.0.1:2525", ListenAddress("tcp", "127.0.0.1", 2525)),
    (":25", ListenAddress("tcp", "", 25)),
    ("*:25", ListenAddress("tcp", "", 25)),
    ("[*]:25", ListenAddress("tcp", "::", 25)),
    ("[::1]:2525", ListenAddress("tcp", "::1", 2525)),
    ("127.0.0.1:0", ListenAddress("tcp", "127.0.0.1", 0)),
    ("/tmp/2025", ListenAddress("unix", path="/tmp/2025")),
    ("var/run/control.sock", ListenAddress("unix", path="var/run/control.sock")),
    ("./a:25", ListenAddress("unix", path="./a:25")),
])
def test_listen_forms(name: str, expected: ListenAddress) -> None:
    assert parse_listen_address(name) == expected


@pytest.mark.parametrize("name", ["", "foo", "127.0.0.1", "127.0.0.1:", "127.0.0.1:x",
                                  "::1:25", "[1.2.3.4]:25", "[::1]", "1.2.3.4:65536", "host:25"])
def test_listen_refusals(name: str) -> None:
    with pytest.raises(ValueError, match="invalid Listen address"):
        parse_listen_address(name)


@settings(max_examples=300, deadline=None)
@given(address=st.ip_addresses(), port=st.integers(0, 65535))
def test_any_ip_and_port_round_trips(address, port) -> None:
    text = f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
    parsed = parse_listen_address(text)
    assert (parsed.kind, ipaddress.ip_address(parsed.host), parsed.port) == ("tcp", address, port)


def test_peer_networks() -> None:
    assert parse_peer_network("10.0.0.1") == ipaddress.ip_network("10.0.0.1/32")
    assert parse_peer_network("10.0.0.1/8") == ipaddress.ip_network("10.0.0.0/8")
    assert parse_peer_network("2001:db8::/32") == ipaddress.ip_network("2001:db8::/32")
    for bad in ("10.0.0.0/33", "[::1]", "example.com", ""):
        with pytest.raises(ValueError, match="invalid Peer address"):
            parse_peer_network(bad)


def test_regex_names() -> None:
    assert is_regex_name("/a/") and not is_regex_name("/") and not is_regex_name("a.example")
    assert check_regex_name("domain", "/(?:^|[.])example[.]com$/") is None
    assert check_regex_name("domain", "/[a/") == (
        "invalid regex domain '/[a/': unterminated character set at position 0"
    )


def test_instance_names() -> None:
    assert check_instance_name("binding", "Mkt-A_1") is None
    assert check_instance_name("binding_group", "a:b") is None  # colons only forbidden in bindings
    assert check_instance_name("binding", "a\tb") == "binding name 'a\tb' must not contain spaces"
    assert check_instance_name("binding", "") == "binding name must not be empty"
