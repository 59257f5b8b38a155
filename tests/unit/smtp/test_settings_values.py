"""ecelerity/smtp/settings_values.py: raw option values to what a session acts on; a bad
value raises (the resolver then logs and keeps the default)."""
from __future__ import annotations

import ipaddress

import pytest

from ecelerity.smtp.settings_values import NORMALISE, same


@pytest.mark.parametrize("raw, expected", [
    ("10/60", (10, 60.0)), ("5", (5, 1.0)), ((3, 2), (3, 2.0)), ("", None), (None, None)])
def test_rates_in_every_accepted_form(raw, expected):
    assert NORMALISE["inbound_throttle_messages"](raw) == expected


def test_line_length_words_numbers_and_a_bad_word():
    normalise = NORMALISE["rfc2822_max_line_length"]
    assert (normalise(" Fix "), normalise("1000"), normalise(-5)) == ("fix", 1000, 0)
    with pytest.raises(ValueError, match="ignore, pedantic, fix or a number"):
        normalise("sometimes")


def test_booleans_lists_and_networks():
    assert [NORMALISE["open_relay"](v) for v in ("Yes", "off", 1, 0)] == [True, False, True, False]
    assert NORMALISE["relay_domains"]("a.test b.test") == ("a.test", "b.test")
    hosts = NORMALISE["relay_hosts"](("10.0.0.0/8", "192.0.2.1"))
    assert ipaddress.ip_address("10.1.2.3") in hosts[0] and len(hosts) == 2
    with pytest.raises(ValueError):
        NORMALISE["relay_hosts"]("not-a-network/99")
    assert same(obj := object()) is obj
