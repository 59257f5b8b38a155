"""Command-line parsing: smtp/commands.py, including a hypothesis fuzz (never an unhandled error)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.smtp.commands import (CommandError, mail_params, parse_command, parse_params,
                                     parse_path_command, rcpt_params)


def test_parse_command_splits_verb_and_arg():
    cmd = parse_command(b"mail FROM:<a@b.org> SIZE=10")
    assert (cmd.verb, cmd.arg, cmd.had_trailing_whitespace) == ("MAIL", "FROM:<a@b.org> SIZE=10", False)
    assert parse_command(b"NOOP  \t").had_trailing_whitespace
    assert parse_command(b"\xff\xfe").verb  # undecodable bytes never raise


def test_path_command_with_params():
    path = parse_path_command("FROM:<a@b.org> SIZE=100 BODY=8BITMIME", "FROM")
    assert path.mailbox.address == "a@b.org"
    assert path.params == {"SIZE": "100", "BODY": "8BITMIME"}
    params = mail_params(path.params, max_size=1000)
    assert (params.size, params.body) == (100, "8BITMIME")


@pytest.mark.parametrize("arg, kwargs, code", [
    ("FROM:a@b.org", {}, 501),
    ("FROM: <a@b.org>", {}, 501),
    ("FROM:<a@b.org", {}, 501),
    ("FROM:<a@b.org>junk", {}, 501),
    ("TO:<a@b.org>", {}, 501),
    ("FROM:<a@b.org> SIZE=1 SIZE=2", {}, 501),
    ("FROM:<a@b.org> =x", {}, 501),
    ("FROM:<a b@b.org>", {}, 553),
])
def test_path_command_errors(arg, kwargs, code):
    with pytest.raises(CommandError) as exc:
        parse_path_command(arg, "FROM", **kwargs)
    assert exc.value.reply.code == code


def test_relaxed_path_forms():
    assert parse_path_command("FROM: <a@b.org>", "FROM", allow_whitespace=True).mailbox.address == "a@b.org"
    assert parse_path_command("FROM:a@b.org SIZE=1", "FROM", pedantic=False).params == {"SIZE": "1"}
    assert parse_path_command('TO:<"a>b"@c.org>', "TO", is_rcpt=True).mailbox.local == '"a>b"'


def test_mail_params_refusals():
    with pytest.raises(CommandError) as exc:
        mail_params({"SIZE": "5000"}, max_size=4000)
    assert str(exc.value.reply) == "552 5.3.4 message size limit exceeded"
    for params in ({"BODY": "BINARYMIME"}, {"RET": "X"}, {"ENVID": "a b"}, {"SMTPUTF8": "1"},
                   {"ENVID": "x" * 101}, {"XFOO": None}):
        with pytest.raises(CommandError):
            mail_params(params, max_size=0)
    assert mail_params({"SIZE": "5000"}, max_size=0).size == 5000


def test_rcpt_params():
    assert rcpt_params({"NOTIFY": "success,delay"}).notify == ["SUCCESS", "DELAY"]
    assert rcpt_params({"NOTIFY": "NEVER"}).notify == ["NEVER"]
    assert rcpt_params({"ORCPT": "rfc822;a+40b@c"}).orcpt == "rfc822;a+40b@c"
    for params in ({"NOTIFY": "NEVER,SUCCESS"}, {"NOTIFY": ""}, {"NOTIFY": "SUCCESS,SUCCESS"},
                   {"ORCPT": "rfc822"}, {"ORCPT": "rfc822;a b"}, {"FOO": "1"}):
        with pytest.raises(CommandError):
            rcpt_params(params)


def test_parse_params_values():
    assert parse_params("A=1  B") == {"A": "1", "B": None}


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_command_parser_never_raises_unexpectedly(line):
    cmd = parse_command(line)
    for keyword, is_rcpt in (("FROM", False), ("TO", True)):
        for pedantic in (True, False):
            try:
                path = parse_path_command(cmd.arg, keyword, pedantic=pedantic,
                                          allow_whitespace=not pedantic, is_rcpt=is_rcpt)
                (rcpt_params if is_rcpt else lambda p: mail_params(p, max_size=1000))(path.params)
            except CommandError as exc:
                assert 500 <= exc.reply.code < 600 and exc.reply.enhanced.startswith("5.")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from('<>@"\\:,.[]ab1 =-+%\u00e9'), max_size=60))
def test_fuzz_paths_from_smtp_alphabet(text):
    try:
        path = parse_path_command("FROM:" + text, "FROM")
    except CommandError as exc:
        assert exc.reply.code in (501, 553, 555)
    else:
        assert path.mailbox is None or "@" in path.mailbox.address
