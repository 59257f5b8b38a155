"""cache.py: the script LRU and ScriptFile's cache_life re-reading."""
from __future__ import annotations

from ecelerity.policy.sieve.cache import ScriptCache, ScriptFile
from ecelerity.policy.sieve.engine import run_script
from ecelerity.policy.sieve.message_view import MessageView


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _actions(script) -> list[dict]:
    return run_script(script, MessageView(b"Subject: x\r\n\r\n")).actions


def _file(tmp_path, text: str, life: float, clock: Clock, log: list[str]) -> ScriptFile:
    path = tmp_path / "p.siv"
    path.write_text(text)
    cache = ScriptCache(10)
    return ScriptFile(str(path), cache.get(text, str(path)), cache, life, log.append, clock)


def test_a_changed_file_is_recompiled_once_cache_life_has_passed(tmp_path):
    clock, log = Clock(), []
    script = _file(tmp_path, "discard;", 60, clock, log)
    (tmp_path / "p.siv").write_text("keep;")
    clock.now += 59
    assert _actions(script.current()) == [{"action": "discard"}]
    clock.now += 1
    assert _actions(script.current()) == [{"action": "keep"}]
    assert log == []


def test_a_file_that_no_longer_compiles_keeps_the_loaded_script(tmp_path):
    clock, log = Clock(), []
    script = _file(tmp_path, "discard;", 5, clock, log)
    (tmp_path / "p.siv").write_text("frob;")
    clock.now += 10
    assert _actions(script.current()) == [{"action": "discard"}]
    assert "no longer compiles" in log[0] and "p.siv:1:1" in log[0]
    (tmp_path / "p.siv").unlink()
    clock.now += 10
    assert _actions(script.current()) == [{"action": "discard"}] and "cannot re-read" in log[1]


def test_cache_life_zero_never_rereads(tmp_path):
    clock, log = Clock(), []
    script = _file(tmp_path, "discard;", 0, clock, log)
    (tmp_path / "p.siv").write_text("keep;")
    clock.now += 1e6
    assert _actions(script.current()) == [{"action": "discard"}]


def test_lru_evicts_the_oldest_and_flush_counts():
    cache = ScriptCache(2)
    first = cache.get("keep;", "a")
    cache.get("discard;", "b")
    assert cache.get("keep;", "a") is first
    cache.get("stop;", "c")          # evicts b (least recently used)
    assert len(cache.entries) == 2 and cache.flush() == 2
