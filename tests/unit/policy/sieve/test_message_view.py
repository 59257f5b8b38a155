"""What the engine reads from a message: policy/sieve/message_view.py."""
from __future__ import annotations

from ecelerity.policy.sieve.message_view import MessageView

RAW = (b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n folded\r\nTo: A <a@x.example>, b@y.example\r\n"
       b"X-Dup: 1\r\nx-dup: 2\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nK\xe4se\r\n")


def test_headers_are_unfolded_decoded_and_case_insensitive():
    view = MessageView(RAW)
    assert view.headers("subject") == ["Grüße folded"]
    assert view.headers("X-DUP") == ["1", "2"]
    assert view.has_header("to") and not view.has_header("cc")


def test_addresses_and_body():
    view = MessageView(RAW, "s@example.com", "r@example.org")
    assert view.addresses("To") == ["a@x.example", "b@y.example"]
    assert view.body_parts(None) == ["Käse\r\n"]
    assert view.body_raw() == "K\ufffdse\r\n"
    assert view.size == len(RAW)
    assert view.envelope["from"] == "s@example.com"
