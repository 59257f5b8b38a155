"""ecelerity/log/custom_logger.py: Momentum's macros, its documented sample, sanitizing, files."""
from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage
from ecelerity.log import facts as event_facts
from ecelerity.log.custom_logger import CustomLogger, compile_format, make_sanitizer


class Result:
    message_id, outcome, code, enhanced, text = "m", "permanent", 552, "5.2.2", "mailbox full"
    stage, remote_ip, bytes_sent, conn_id = 9, "192.0.2.7", 1200, "00/00-00001-0000000C"


def message() -> SpooledMessage:
    envelope = Envelope("news@example.org", [Recipient("ann@example.com")], peer_ip="192.0.2.1",
                        auth_user="joe", conn_context={"helo": "mx.example.org"},
                        mess_context={"campaign": "spring sale"}, conn_id="00/00-00001-00000001")
    return SpooledMessage(id="10/00-00001-00000001", batch_id="00/00-00001-00000002",
                          recipient=envelope.recipients[0], domain="example.com",
                          envelope=envelope, created=1000.0, size=4321, retries=2,
                          binding="b1")


def test_documented_rejection_sample_at_connect_phase():
    fmt = ("%p @ %s @ %BI @ %A @ %U @ %n @ %h{Subject} @ %r @ %R @ %m @ %M @ %i @ %t @ "
           "%t{%Y-%m-%d} @ %H @ %mx @ %S")
    facts = event_facts.rejection_facts(now=1339007869, peer="10.79.11.157:40001",
                                        local="10.79.11.1:25", conn_id="", phase="connect",
                                        code=550, module="relay", ctx_conn={}, ctx_mess={},
                                        text="relaying denied")
    day = time.strftime("%Y-%m-%d", time.localtime(1339007869))
    assert compile_format(fmt)(facts) == (
        "unknown @  @ 00/00-00000-00000000 @  @  @ relaying denied @  @  @  @  @  @ "
        f"00/00-00000-00000000 @ 1339007869 @ {day} @ 10.79.11.157 @  @ 22")


def test_message_macros_on_a_permanent_failure():
    facts = event_facts.attempt_facts(message(), Result(), "P", now=1090.5,
                                      binding_group_of=lambda binding: "g1")
    render = compile_format("%i|%BI|%CI|%r@%R|%m@%M|%b|%g|%d|%B|%N|%H|%n|%S|%s|%C|%c|%T|%T{1}|"
                            "%U|%p|%vctx_conn{helo}|%vctx_mess{campaign}|%us{3}|100%%")
    assert render(facts) == (
        "10/00-00001-00000001|00/00-00001-00000002|00/00-00001-0000000C|ann@example.com|"
        "news@example.org|b1|g1|example.com|4321|2|192.0.2.7|552 5.2.2 mailbox full|9|"
        "reading confirmation|22|Mailbox Full|90.50|90.5|joe|esmtp|mx.example.org|spring sale|"
        "1090.500|100%")


def test_values_never_break_the_line_and_sanitize_rules_apply():
    facts = {"ts": 1, "event": "rejection", "text": "two\nlines\there", "ctx_conn": {"k": "a b"}}
    assert compile_format("%n")(facts) == "two\\nlines\there"
    strict = make_sanitizer("special_characters,tr/ /_/")
    assert compile_format("%n %vctx_conn{k}", strict)(facts) == "two\\nlines\\there a_b"
    assert make_sanitizer("non_printable")("a\x01b") == "a\\001b"
    with pytest.raises(ValueError, match="unknown rule"):
        make_sanitizer("shout")


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_no_value_can_inject_a_newline(text):
    facts = {"ts": 1, "event": "delivery", "response": text, "rcpt_local": text,
             "ctx_mess": {"k": text}}
    line = compile_format("%n %r %vctx_mess{k} %b")(facts)
    assert "\n" not in line and "\r" not in line


def test_stages_files_and_switches(tmp_path):
    cfg = load_config_text(
        f'Spoolbase = "{tmp_path}/spool"\n'
        f'custom_logger "c1" {{\n'
        f'  mainlog = "{tmp_path}/combined.log"\n'
        f'  delivery_format = "%t D %r@%R"\n'
        f'  delivery_logfile = "{tmp_path}/deliveries.log"\n'
        f'  reception_format = "%t R %i"\n'
        f'  permanent_failure_format = "%t P %n"\n'
        f'  log_permanent_failures = off\n'
        f'}}\n')
    loggers = CustomLogger.from_config(cfg, use_threadpool=False)
    assert len(loggers) == 1
    logger = loggers[0]
    msg = message()
    logger.record(event_facts.reception_facts(msg, now=5))
    logger.record(event_facts.attempt_facts(msg, Result(), "D", now=6))
    logger.record(event_facts.attempt_facts(msg, Result(), "P", now=7))
    logger.record(event_facts.attempt_facts(msg, Result(), "T", now=8))  # no format: nothing
    logger.close()
    assert (tmp_path / "deliveries.log").read_text() == "6 D ann@example.com\n"
    assert (tmp_path / "combined.log").read_text() == "5 R 10/00-00001-00000001\n"


def test_a_format_without_any_file_is_a_clear_error():
    with pytest.raises(ValueError, match="delivery_format is set but neither"):
        CustomLogger({"delivery_format": "%t"}, name="c2")
