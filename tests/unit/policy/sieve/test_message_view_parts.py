"""MessageView.of_parts and phase_runner.build_view: head-only views shared by the phases
of one message (policy/sieve/message_view.py, policy/sieve/phase_runner.py)."""
from __future__ import annotations

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.engine import run_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.message_view import MessageView
from ecelerity.policy.sieve.phase_runner import build_view
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

HEAD = b"Subject: hello\r\nTo: A <a@x.example>\r\nX-Score: 42\r\n\r\n"
BODY = b"the body says cheese\r\n" * 50


class Loader:
    """Returns the whole message and counts how often it was asked for it."""

    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.data


def test_header_reads_never_load_the_body_and_size_is_the_whole_message():
    loader = Loader(HEAD + BODY)
    view = MessageView.of_parts(HEAD, len(HEAD + BODY), loader, [])
    assert view.headers("subject") == ["hello"] and view.addresses("to") == ["a@x.example"]
    assert view.size == len(HEAD + BODY)
    view.edit_header("prepend", "X-Added", "1")  # a pending prepend needs no body either
    assert view.headers("x-added") == ["1"] and view.size == len(HEAD + BODY) + len(b"X-Added: 1\r\n")
    assert loader.calls == 0


def test_body_reads_load_the_message_once_and_see_the_same_headers():
    loader = Loader(HEAD + BODY)
    view = MessageView.of_parts(HEAD, len(HEAD + BODY), loader, [])
    assert view.headers("x-score") == ["42"]
    assert view.body_raw() == BODY.decode()
    assert "cheese" in view.body_parts(None)[0]
    view.edit_header("replace", "Subject", "changed")
    assert view.headers("subject") == ["changed"]
    assert b"Subject: changed\r\n" in view.raw and view.raw.endswith(BODY)
    assert loader.calls == 1


def test_views_share_the_index_and_an_edit_stays_in_its_view():
    shared: list = []
    first = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    assert first.headers("subject") == ["hello"] and shared  # the first view filled it
    second = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    assert second._index is first._index  # no second scan of the header block
    second.edit_header("delete", "Subject", None)
    second.edit_header("prepend", "X-New", "v")
    assert second.headers("subject") == [] and second.headers("x-new") == ["v"]
    third = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    assert first.headers("subject") == third.headers("subject") == ["hello"]
    assert not first.has_header("x-new") and not third.has_header("x-new")


def _message(data: bytes) -> InboundMessage:
    return InboundMessage(Envelope(mail_from="s@ok.example", recipients=[Recipient("r@x.example")]),
                          "00/00-1-A", split_message(data))


def test_build_view_reuses_the_head_until_the_session_changes_the_bytes():
    message = _message(HEAD + BODY)
    host = PolicyHost(ValidationContext(), phase="data", mail_from="s@ok.example")
    data_view = build_view("data", host, message)
    assert data_view.headers("subject") == ["hello"] and data_view.size == message.size
    spool_view = build_view("spool", host, message)
    assert spool_view._index is data_view._index
    message.trace = b"Received: from x by y; Thu, 1 Jan 2026 00:00:00 +0000\r\n"  # as accept.py
    traced = build_view("spool", host, message)
    assert traced.headers("received") == ["from x by y; Thu, 1 Jan 2026 00:00:00 +0000"]
    assert traced.size == message.size and traced.body_raw() == BODY.decode()
    message.header_block = b"Subject: other\r\n"  # Lua's commit replaces the block
    assert build_view("each_rcpt", host, message).headers("subject") == ["other"]
    assert build_view("rcptto", host, message).size == 0  # no message before data


def test_a_script_reads_the_same_through_the_shared_view_as_through_bytes():
    script = compile_script('require ["body", "relational", "comparator-i;ascii-numeric"];\n'
                            'if allof (header :contains "subject" "hell", body :contains "cheese",\n'
                            '          header :value "gt" :comparator "i;ascii-numeric" "x-score" "41")\n'
                            '{ discard; }\n', "t.siv")
    message = _message(HEAD + BODY)
    host = PolicyHost(ValidationContext(), phase="data", mail_from="s@ok.example")
    for phase in ("data", "spool"):  # the second run goes through the shared index
        shared_run = run_script(script, build_view(phase, host, message))
        assert shared_run.actions == run_script(script, MessageView(HEAD + BODY)).actions
        assert shared_run.actions == [{"action": "discard"}]
