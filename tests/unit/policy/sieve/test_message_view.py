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


# -- the lazy view (raw header index, pending prepends) agrees with the core Message ----------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ecelerity.core.message import Message  # noqa: E402

NAMES = st.sampled_from(["Subject", "to", "X-Dup", "x-dup", "From", "Received"])
VALUES = st.sampled_from(["plain", "  spaced  ", "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "a <b@c.example>",
                          "folded\r\n continued", "x\r\n\tmore", "\xe9t\xe9", ""])
EOLS = st.sampled_from(["\r\n", "\n"])


def build(fields: list[tuple[str, str]], eol: str, separator: bool) -> bytes:
    head = "".join(f"{name}: {value}".replace("\r\n", eol) + eol for name, value in fields)
    return (head + (eol + "body line" + eol if separator else "")).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(NAMES, VALUES), max_size=6), EOLS, st.booleans(),
       st.lists(st.tuples(st.sampled_from(["prepend", "append", "replace", "delete"]), NAMES,
                          st.sampled_from(["new", "n\xe9w", "two words"])), max_size=3))
def test_lazy_view_reads_and_renders_like_the_core_message(fields, eol, separator, edits):
    raw = build(fields, eol, separator)
    lazy, eager = MessageView(raw), MessageView(Message(raw))
    probe = ["subject", "TO", "x-dup", "from", "received", "missing"]
    lazy.headers("to")  # read before editing, so cached reads must follow the edits
    for mode, name, value in edits:
        lazy.edit_header(mode, name, value)
        eager.edit_header(mode, name, value)
        for name_read in probe:
            assert lazy.headers(name_read) == eager.headers(name_read)
            assert lazy.raw_headers(name_read) == eager.raw_headers(name_read)
            assert lazy.has_header(name_read) == eager.has_header(name_read)
            assert lazy.addresses(name_read) == eager.addresses(name_read)
        assert lazy.size == eager.size
    assert lazy.size == eager.size == len(eager.raw)
    assert lazy.raw == eager.raw
    assert lazy.header_names() == eager.header_names()


def test_prepends_stay_pending_until_the_message_model_is_needed():
    view = MessageView(RAW)
    view.edit_header("prepend", "X-Rule", "1")
    view.edit_header("prepend", "X-Rule", "2")
    assert view._model is None  # only the raw index was used
    assert view.headers("x-rule") == ["2", "1"]
    assert view.size == len(RAW) + len(b"X-Rule: 1\r\n") * 2
    assert view.raw.startswith(b"X-Rule: 2\r\nX-Rule: 1\r\nSubject:")
    assert view.model.headers.names()[:2] == ["X-Rule", "X-Rule"]
