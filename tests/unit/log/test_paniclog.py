"""ecelerity/log/paniclog.py: Momentum's line shape, buffering, reopen after rotation, no raising."""
from __future__ import annotations

import io
import os

import gevent
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.log.paniclog import FLUSH_AT_LINES, PanicLog, format_line


def test_format_line_is_epoch_module_text():
    assert format_line("config", "reload ok", when=1251200446.9) == ["1251200446:config: reload ok"]


def test_multiline_text_gets_one_prefixed_line_each():
    assert format_line("scriptlet", "first\nsecond\n", when=7) == ["7:scriptlet: first", "7:scriptlet: second"]
    assert format_line("x", "", when=7) == ["7:x: "]


@settings(max_examples=300, deadline=None)
@given(module=st.text(min_size=1, max_size=20), text=st.text(max_size=200),
       when=st.integers(min_value=0, max_value=2**40))
def test_every_formatted_line_has_prefix_and_no_newline(module, text, when):
    for line in format_line(module, text, when=when):
        stamp, _, rest = line.partition(":")
        assert stamp == str(when)
        assert "\n" not in line and "\r" not in line
        assert ": " in rest


def test_lines_are_buffered_until_flush(tmp_path):
    log = PanicLog(str(tmp_path / "log/paniclog.ec"), clock=lambda: 100.0)
    log.write("ecelerity", "hello")
    assert not (tmp_path / "log/paniclog.ec").exists() or (tmp_path / "log/paniclog.ec").read_text() == ""
    log.flush()
    assert (tmp_path / "log/paniclog.ec").read_text() == "100:ecelerity: hello\n"
    log.close()


def test_a_full_buffer_flushes_at_once(tmp_path):
    path = tmp_path / "paniclog.ec"
    log = PanicLog(str(path), clock=lambda: 5.0)
    for index in range(FLUSH_AT_LINES):
        log.write("m", f"line {index}")
    assert path.read_text().count("\n") == FLUSH_AT_LINES
    log.close()


def test_the_timer_flushes_without_being_asked(tmp_path):
    path = tmp_path / "paniclog.ec"
    log = PanicLog(str(path), clock=lambda: 9.0)
    log.start_flusher(interval=0.01)
    log.write("m", "timed")
    gevent.sleep(0.1)
    assert path.read_text() == "9:m: timed\n"
    log.close()


def test_reopen_writes_to_a_new_file_after_rotation(tmp_path):
    path = tmp_path / "paniclog.ec"
    log = PanicLog(str(path), mode=0o600, clock=lambda: 1.0)
    log.write("m", "before")
    log.flush()
    os.rename(path, tmp_path / "paniclog.ec.1")
    log.write("m", "pending at rotation")
    log.reopen()
    log.write("m", "after")
    log.close()
    assert (tmp_path / "paniclog.ec.1").read_text() == "1:m: before\n1:m: pending at rotation\n"
    assert path.read_text() == "1:m: after\n"
    assert (path.stat().st_mode & 0o777) == 0o600


def test_tail_keeps_recent_lines_in_memory(tmp_path):
    log = PanicLog(str(tmp_path / "p.ec"), clock=lambda: 3.0)
    for index in range(30):
        log.write("m", f"n{index}")
    assert log.tail(2) == ["3:m: n28", "3:m: n29"]
    assert log.tail(0) == []
    log.close()


def test_an_unwritable_path_complains_once_and_never_raises(tmp_path):
    (tmp_path / "file").write_text("")
    errors = io.StringIO()
    log = PanicLog(str(tmp_path / "file/paniclog.ec"), stderr=errors)
    log.open()
    for _ in range(3):
        log.write("m", "lost")
        log.flush()
    log.close()
    complaints = errors.getvalue().splitlines()
    assert len(complaints) == 1
    assert complaints[0].startswith(f"ecelerity: cannot open paniclog '{tmp_path}/file/paniclog.ec': ")
    assert log.tail(3) == [line for line in log.tail(3) if line.endswith("m: lost")]


def test_writes_after_close_still_reach_the_file(tmp_path):
    path = tmp_path / "p.ec"
    log = PanicLog(str(path), clock=lambda: 2.0)
    log.close()
    log.write("m", "late")
    assert path.read_text() == "2:m: late\n"


def test_log_errors_false_drops_error_events_but_not_critical_or_startup(tmp_path):
    from ecelerity.config.loader import load_config_text

    path = tmp_path / "paniclog.ec"
    configs = {"now": load_config_text(
        'ec_logger "other" { mainlog = "/dev/null" }\n'
        f'ec_logger "owner" {{ paniclog = "{path}"  log_errors = false }}\n')}
    log = PanicLog(str(path), clock=lambda: 5.0, config_getter=lambda: configs["now"])
    log.write("smtp", "a broken peer")                       # error: dropped
    log.write("sieve", "ec_log text", level="critical")      # critical: kept
    log.write("ecelerity", "started")                        # START class: kept
    configs["now"] = load_config_text("ec_logger { }\n")   # reload: log_errors back to true
    log.write("smtp", "another broken peer")
    log.close()
    assert path.read_text().splitlines() == [
        "5:sieve: ec_log text", "5:ecelerity: started", "5:smtp: another broken peer"]
