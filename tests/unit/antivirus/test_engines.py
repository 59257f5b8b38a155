"""ecelerity/antivirus/engines.py with a real clamd: whole messages, decoded MIME parts, bounds."""
from __future__ import annotations

import base64

from ecelerity.antivirus import engines as av
from ecelerity.core.message import Message
from tests.helpers.clamd import EICAR, REPORTED


def _mail(attachment: bytes, *, encoding: str = "base64") -> bytes:
    body = base64.encodebytes(attachment).replace(b"\n", b"\r\n") if encoding == "base64" else attachment
    return (b"From: a@example.org\r\nTo: b@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
            b"--XYZ\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
            b"--XYZ\r\nContent-Type: application/octet-stream; name=\"t.com\"\r\n"
            b"Content-Transfer-Encoding: " + encoding.encode() + b"\r\n\r\n" + body + b"\r\n--XYZ--\r\n")


def _engine(clamd, **settings) -> av.Engine:
    return av.Engine(av.EngineSettings(name="clamav1", daemon=clamd.socket_path, timeout=5, **settings))


def test_whole_message_scan_finds_a_base64_attachment(clamd):
    engine = _engine(clamd)
    result = engine.scan_message(_mail(EICAR))
    assert result == av.ScanResult(av.EC_AV_INFECTED, REPORTED, "clamav1", "FOUND")
    assert (engine.stats.messages, engine.stats.viruses, engine.stats.parts) == (1, 1, 0)


def test_mime_decompose_scans_each_decoded_leaf_part(clamd):
    engine = _engine(clamd, mime_decompose=True)
    assert engine.scan_message(_mail(EICAR)).info == REPORTED
    assert engine.stats.parts == 2  # the text part, then the attachment
    clean = engine.scan_message(_mail(b"harmless bytes"))
    assert clean == av.ScanResult(av.EC_AV_CLEAN, None, None, "OK")


def test_scan_part_decodes_the_part_and_refuses_a_container(clamd):
    engine = _engine(clamd)
    root = Message(_mail(EICAR)).mime()
    attachment = root.children[1]
    assert attachment.raw_body() != EICAR  # still base64 in the message
    assert engine.scan_part(attachment).status == av.EC_AV_INFECTED
    assert engine.scan_part(root.children[0]).status == av.EC_AV_CLEAN
    assert engine.scan_part(root).status == av.EC_AV_PART_IS_CONTAINER


def test_over_max_scan_size_is_unscannable_and_not_sent(clamd):
    engine = _engine(clamd, max_scan_size=100)
    result = engine.scan_message(_mail(EICAR))
    assert result.status == av.EC_AV_UNSCANNABLE and "exceed max_scan_size 100" in result.info
    assert engine.stats.viruses == 0


def test_engine_failure_is_an_error_result_never_an_exception(tmp_path):
    engine = av.Engine(av.EngineSettings(name="down", daemon=str(tmp_path / "gone.sock"), timeout=1))
    result = engine.scan_message(_mail(EICAR))
    assert result.status == av.EC_AV_ERROR and result.info.startswith("error: clamd at ")
    assert (result.engine, result.scan_code, engine.stats.errors) == (None, None, 1)
    assert engine.version().startswith("unavailable (")


def test_registry_picks_by_name_and_first_virus_wins(clamd, tmp_path):
    registry = av.EngineRegistry()
    assert registry.pick(None)[1].status == av.EC_AV_NO_ENGINE
    down = av.Engine(av.EngineSettings(name="down", daemon=str(tmp_path / "gone.sock"), timeout=1))
    up = _engine(clamd)
    registry.add(down)
    registry.add(up)
    assert registry.names() == ["down", "clamav1"]
    assert registry.pick("x" * 41)[1].status == av.EC_AV_NAME_TOO_LONG
    assert registry.pick("nope")[1].status == av.EC_AV_NO_ENGINE
    chosen, refusal = registry.pick(None)
    assert refusal is None
    assert av.scan_with(chosen, lambda e: e.scan_bytes(EICAR)).engine == "clamav1"
    assert av.scan_with(chosen, lambda e: e.scan_bytes(b"ok")).status == av.EC_AV_ERROR
    registry.remove(up)
    assert registry.names() == ["down"]
