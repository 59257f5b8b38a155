"""The per-message caches of policy/sieve/message_view.py never return stale headers.

The header index is shared by every view of one message (the phases) and copied
shallowly by a view that edits; decoded values, addresses and envelope parts are
cached per view and dropped per edited name. Generated code reads those caches
inline (codegen.py), so an edit made by an earlier rule of the same run, by an
earlier phase (applied by the session) or by Lua (which replaces the header block)
must show in every later read, and never in a sibling view.
"""
from __future__ import annotations

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.engine import run_script
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.message_view import MessageView
from ecelerity.policy.sieve.phase_runner import build_view
from ecelerity.policy.sieve.runtime import Runtime
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import apply_edits, split_message
from tests.unit.policy.sieve.codegen_diff import snapshot

HEAD = (b"Subject: hello\r\nTo: A <a@x.example>\r\nTo: b@y.example\r\n"
        b"X-Score: 42\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@z.example>\r\n\r\n")


def test_an_edit_in_one_view_never_reaches_a_sibling_sharing_the_index():
    shared: list = []
    first = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    assert first.addresses("to") == ["a@x.example", "b@y.example"]
    assert first.headers("from") == ["Jörg <j@z.example>"]
    second = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    assert second.addresses("to") == ["a@x.example", "b@y.example"]  # from the shared caches
    second.edit_header("prepend", "To", "c@w.example")
    second.edit_header("prepend", "From", "k@v.example")
    assert second.addresses("to") == ["c@w.example", "a@x.example", "b@y.example"]
    assert second.address_part_values("to", "localpart") == ["c", "a", "b"]
    assert second.headers("from") == ["k@v.example", "Jörg <j@z.example>"]
    # the shared lists were never changed in place: the first view and a new one see the bytes
    third = MessageView.of_parts(HEAD, len(HEAD), lambda: HEAD, shared)
    for view in (first, third):
        assert view.addresses("to") == ["a@x.example", "b@y.example"]
        assert view.address_part_values("to", "localpart") == ["a", "b"]
        assert view.headers("from") == ["Jörg <j@z.example>"]
        assert len(view._fields()["to"]) == 2


def test_later_rules_of_one_run_see_the_edits_of_earlier_ones():
    text = ('require ["variables", "envelope"];\n'
            'if address :localpart :is "To" "c" { set "before" "stale"; }\n'
            'if header :is "Subject" "hello" { set "subject1" "hello"; }\n'
            'ec_header_add "To" "c@w.example";\n'
            'ec_header_prefix "Subject" "re: ";\n'
            'if address :localpart :is "To" "c" { set "to" "c"; }\n'
            'if header :is "Subject" "re: hello" { set "subject2" "re: hello"; }\n'
            'if header :is "Subject" "hello" { set "stale" "yes"; }\n'
            'ec_header_delete "X-Score";\n'
            'if exists "X-Score" { set "stale2" "yes"; }\n')
    script = compile_script(text, "edits.siv")
    assert script.generated
    got, want = (snapshot(runner, HEAD + b"body\r\n", "s@ok.example", "r@x.example")
                 for runner in (script.run, script.run_reference))
    assert got == want
    assert got["variables"] == {"subject1": "hello", "to": "c", "subject2": "re: hello"}


def _message(data: bytes) -> InboundMessage:
    return InboundMessage(Envelope(mail_from="s@ok.example", recipients=[Recipient("r@x.example")]),
                          "00/00-1-A", split_message(data))


def test_a_later_phase_sees_the_edits_the_session_applied():
    message = _message(HEAD + b"body\r\n")
    vctx = ValidationContext()
    host = PolicyHost(vctx, phase="data", mail_from="s@ok.example")
    adds = compile_script('ec_header_add "X-Added" "1";\n'
                          'if header :is "X-Added" "1" { ec_header_add "X-Seen" "data"; }\n', "a.siv")
    assert run_script(adds, build_view("data", host, message), host=host).error is None
    assert [edit.name for edit in vctx.header_edits] == ["X-Added", "X-Seen"]
    reads = compile_script('require "variables";\n'
                           'if header :is "X-Added" "1" { set "seen" "yes"; }\n'
                           'if header :is "X-Seen" "data" { set "seen2" "yes"; }\n', "r.siv")
    # before the session applies the edits the spool phase reads the received bytes
    spool = build_view("spool", host, message)
    assert not spool.has_header("x-added") and spool.headers("subject") == ["hello"]
    message.header_block = apply_edits(message.header_block, vctx.header_edits)  # as accept.py
    for phase in ("spool", "each_rcpt"):
        view = build_view(phase, host, message)
        assert view.headers("x-added") == ["1"] and view.headers("x-seen") == ["data"]
        rt = Runtime(view, host=PolicyHost(ValidationContext(), phase=phase))
        reads.run(rt)
        assert rt.scope.variables == {"seen": "yes", "seen2": "yes"}, phase


def test_the_folded_value_cache_follows_edits_and_field_counts():
    view = MessageView(b"Subject: Hello\r\nX-Two: A\r\nX-Two: B\r\n\r\nbody\r\n")
    assert view.fold_one("subject") == "hello" and view._cache[("fold", "subject")] == "hello"
    assert view.fold_one("x-two") is None and view.fold_one("missing") is None  # not one field
    assert ("fold", "x-two") not in view._cache
    view.edit_header("replace", "Subject", "WORLD")
    assert ("fold", "subject") not in view._cache and view.fold_one("subject") == "world"
    view.edit_header("prepend", "Subject", "Again")
    assert view.fold_one("subject") is None and view.headers("subject") == ["Again", "WORLD"]
    assert MessageView("Subject: ÄBC\r\n\r\n".encode()).fold_one("subject") == "Äbc"  # ASCII only


def test_rules_reading_the_folded_cache_see_an_edit_made_between_them():
    text = ('require ["variables"];\n'
            'if header :contains "Subject" "hello" { set "a" "1"; }\n'
            'if header :matches "Subject" "hel*" { set "b" "${1}"; }\n'
            'ec_header_prefix "Subject" "Re: ";\n'
            'if header :is "Subject" "re: hello" { set "c" "1"; }\n'
            'if header :matches "Subject" "re: *" { set "d" "${1}"; }\n'
            'if header :is "Subject" "hello" { set "stale" "1"; }\n'
            'ec_header_add "Subject" "second";\n'
            'if header :contains "Subject" "second" { set "e" "1"; }\n'
            'if header :is "Subject" "re: hello" { set "f" "1"; }\n')
    script = compile_script(text, "fold.siv")
    assert "fold_one('subject')" in script.run.sieve_source
    got, want = (snapshot(runner, HEAD + b"body\r\n", "s@ok.example", "r@x.example")
                 for runner in (script.run, script.run_reference))
    assert got == want
    assert got["variables"] == {"a": "1", "b": "lo", "c": "1", "d": "hello", "e": "1", "f": "1"}
