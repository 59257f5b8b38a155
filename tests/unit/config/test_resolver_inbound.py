"""Inbound fallback of resolver.Config.get_inbound / explain_inbound (momentum-facts.md §1.6).

Chain: matching Peers, longest prefix first (Listen-level before listener-level on
a tie) -> Listen -> listener -> pathway (named by the ``pathway`` option on that
chain, or the argument) -> pathway_group -> global -> default.
"""
from __future__ import annotations

import pytest

from ecelerity.config.errors import ConfigError
from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config

OPTION = "max_receptions_per_connection"
LISTEN = "127.0.0.1:2525"
LISTEN_PATH = "esmtp_listener::listen:127.0.0.1\\:2525"

LEVELS = {
    "listen_peer_32": (1, LISTEN_PATH + "::peer:10.1.2.3/32"),
    "listener_peer_24": (2, "esmtp_listener::peer:10.1.2.0/24"),
    "listen_peer_16": (3, LISTEN_PATH + "::peer:10.1.0.0/16"),
    "listener_peer_8": (4, "esmtp_listener::peer:10.0.0.0/8"),
    "listen": (5, LISTEN_PATH),
    "listener": (6, "esmtp_listener"),
    "pathway": (7, "pathway_group:pg::pathway:p1"),
    "pathway_group": (8, "pathway_group:pg"),
    "global": (9, "global"),
}
ORDER = list(LEVELS)


def make_config(text: str) -> Config:
    return Config(parse_text(text, "in.conf"), files=["in.conf"], warnings=[])


def chain_config(levels: set[str]) -> str:
    def line(level: str) -> str:
        return f"{OPTION} = {LEVELS[level][0]}" if level in levels else ""

    return f"""
{line("global")}
pathway_group "pg" {{
  {line("pathway_group")}
  pathway "p1" {{ {line("pathway")} }}
}}
ESMTP_Listener {{
  pathway = "p1"
  {line("listener")}
  Peer "10.0.0.0/8" {{ {line("listener_peer_8")} }}
  Peer "10.1.2.0/24" {{ {line("listener_peer_24")} }}
  Listen "{LISTEN}" {{
    {line("listen")}
    Peer "10.1.0.0/16" {{ {line("listen_peer_16")} }}
    Peer "10.1.2.3" {{ {line("listen_peer_32")} }}
  }}
  Listen "127.0.0.1:2526" {{ }}
}}
"""


@pytest.mark.parametrize("level", ORDER)
def test_each_level_wins_once_more_specific_levels_are_removed(level):
    config = make_config(chain_config(set(ORDER[ORDER.index(level):])))
    value, path, loc = config.explain_inbound(OPTION, listen=LISTEN, peer_ip="10.1.2.3")
    assert (value, path) == LEVELS[level]
    assert loc is not None and loc.file == "in.conf"


def test_nothing_set_gives_registry_default():
    config = make_config(chain_config(set()))
    assert config.explain_inbound(OPTION, listen=LISTEN, peer_ip="10.1.2.3") == (0, "default", None)


@pytest.mark.parametrize("peer_ip, expected", [
    ("10.1.2.3", 1), ("10.1.2.4", 2), ("10.1.3.1", 3), ("10.2.0.1", 4), ("192.0.2.1", 5),
    ("::ffff:10.1.2.3", 1), ("::ffff:10.2.0.1", 4),
])
def test_most_specific_matching_peer_wins(peer_ip, expected):
    config = make_config(chain_config(set(ORDER)))
    assert config.get_inbound(OPTION, listen=LISTEN, peer_ip=peer_ip) == expected


def test_peers_of_another_listen_do_not_apply():
    config = make_config(chain_config(set(ORDER)))
    assert config.get_inbound(OPTION, listen="127.0.0.1:2526", peer_ip="10.1.2.3") == 2
    assert config.get_inbound(OPTION, peer_ip="10.1.3.1") == 4  # no Listen: listener peers only
    assert config.get_inbound(OPTION, listen="127.0.0.1:2526") == 6


def test_listen_peer_beats_listener_peer_of_the_same_prefix():
    config = make_config("""
ESMTP_Listener {
  Peer "10.0.0.0/16" { max_receptions_per_connection = 1 }
  Listen ":25" { Peer "10.0.0.0/16" { max_receptions_per_connection = 2 } }
}
""")
    assert config.explain_inbound(OPTION, listen=":25", peer_ip="10.0.9.9")[:2] == (
        2, "esmtp_listener::listen:\\:25::peer:10.0.0.0/16")


def test_documented_listener_example():
    """§1.6: Peer "10.0.0.1" inside Listen ":25" overrides Peer "10.0.0.0/16" at listener level."""
    config = make_config("""
ESMTP_Listener {
  Peer "10.0.0.0/16" { Open_Relay = true }
  Listen ":25" {
    Listen_Backlog = 500
    Peer "10.0.0.1" { SMTP_Extensions = ( "ENHANCEDSTATUSCODES" "AUTH LOGIN" ) open_relay = false }
    pathway = "example1"
  }
}
pathway "example1" { max_message_size = 1000 }
""")
    assert config.get_inbound("open_relay", listen=":25", peer_ip="10.0.0.1") is False
    assert config.get_inbound("open_relay", listen=":25", peer_ip="10.0.0.2") is True
    assert config.get_inbound("open_relay", listen=":25", peer_ip="10.1.0.1") is False
    assert config.explain_inbound("max_message_size", listen=":25", peer_ip="10.1.0.1")[1] \
        == "pathway:example1"


def test_ipv6_peers():
    config = make_config("""
ESMTP_Listener {
  Peer "2001:db8::/32" { max_receptions_per_connection = 1 }
  Listen "[::1]:2525" { Peer "2001:db8::1" { max_receptions_per_connection = 2 } }
  Peer "::ffff:192.0.2.0/120" { max_receptions_per_connection = 3 }
}
""")
    assert config.get_inbound(OPTION, listen="[::1]:2525", peer_ip="2001:db8::1") == 2
    assert config.get_inbound(OPTION, listen="[::1]:2525", peer_ip="2001:DB8:0::2") == 1
    assert config.get_inbound(OPTION, listen="[::1]:2525", peer_ip="2001:db9::1") == 0
    assert config.get_inbound(OPTION, peer_ip="192.0.2.7") == 3  # v4-mapped Peer is IPv4
    assert config.get_inbound(OPTION, peer_ip="10.0.0.1") == 0


def test_pathway_argument_overrides_the_configured_pathway():
    config = make_config(chain_config({"pathway", "pathway_group", "global"}) + """
pathway "p2" { max_receptions_per_connection = 42 }
""")
    assert config.get_inbound(OPTION, listen=LISTEN, peer_ip="10.1.2.3") == 7
    assert config.explain_inbound(OPTION, listen=LISTEN, pathway="p2")[:2] == (42, "pathway:p2")


def test_pathway_option_on_a_peer_selects_the_pathway():
    config = make_config("""
pathway "trusted" { max_message_size = 100 }
pathway "public" { max_message_size = 200 }
ESMTP_Listener {
  pathway = "public"
  Peer "127.0.0.0/8" { pathway = "trusted" }
  Listen "127.0.0.1:2525" { }
}
""")
    assert config.get_inbound("max_message_size", listen=LISTEN, peer_ip="127.0.0.1") == 100
    assert config.get_inbound("max_message_size", listen=LISTEN, peer_ip="192.0.2.1") == 200
    assert config.get_inbound("pathway", listen=LISTEN, peer_ip="127.0.0.1") == "trusted"


def test_other_listener_kinds_have_their_own_chain():
    config = make_config("""
Control_Listener { accept_queue_backlog = 4 Listen "./var/run/control.sock" { } }
ESMTP_Listener { Listen ":25" { } }
""")
    assert config.get_inbound("accept_queue_backlog", listener="Control_Listener",
                              listen="./var/run/control.sock") == 4
    assert config.get_inbound("accept_queue_backlog", listen=":25") == 0


def test_unknown_listen_pathway_or_bad_peer_ip_are_key_errors():
    config = make_config(chain_config(set(ORDER)))
    with pytest.raises(KeyError, match="unknown Listen"):
        config.get_inbound(OPTION, listen="127.0.0.1:25")
    with pytest.raises(KeyError, match="unknown pathway 'p9'"):
        config.get_inbound(OPTION, pathway="p9")
    with pytest.raises(KeyError, match="not an IP address"):
        config.get_inbound(OPTION, peer_ip="mail.example.com")


def test_pathway_option_naming_no_pathway_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        make_config('pathway "p1" { }\nESMTP_Listener {\n  pathway = "p2"\n}\n')
    assert str(caught.value).startswith("in.conf:3:3: unknown pathway 'p2'")


def test_bad_peer_name_is_a_config_error_with_location():
    with pytest.raises(ConfigError) as caught:
        make_config('ESMTP_Listener {\n  Peer "10.0.0.300/8" { }\n}\n')
    assert caught.value.first.loc.line == 2
