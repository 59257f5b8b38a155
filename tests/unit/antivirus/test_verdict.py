"""ecelerity/antivirus/verdict.py: context variables and replies on a real ValidationContext."""
from __future__ import annotations

from ecelerity.antivirus import engines as av
from ecelerity.antivirus import verdict
from ecelerity.policy.vctx import ValidationContext

VIRUS = av.ScanResult(av.EC_AV_INFECTED, "Eicar-Sig", "clamav1", "FOUND")
DOWN = av.ScanResult(av.EC_AV_ERROR, "error: clamd at /x.sock: Connection refused")


def test_clean_sets_nothing():
    vctx = ValidationContext()
    assert verdict.apply(vctx, av.EngineSettings(name="clamav1"), av.ScanResult(av.EC_AV_CLEAN)) is False
    assert vctx.get("mess", "clamav1_status") is None and vctx.take_code() is None


def test_reject_virus_is_550_571_and_marks_the_default_variables():
    vctx = ValidationContext()
    assert verdict.apply(vctx, av.EngineSettings(name="clamav1"), VIRUS) is True
    reply = vctx.take_code()
    assert str(reply) == "550 5.7.1 virus Eicar-Sig found by clamav1; message refused"
    assert (vctx.get("mess", "clamav1_status"), vctx.get("mess", "clamav1_status_info")) == \
        ("infected", "Eicar-Sig")


def test_engine_down_is_the_error_code_naming_the_engine():
    settings = av.EngineSettings(name="clamav1", error_code=421, context_variable="VIRUS")
    vctx = ValidationContext()
    assert verdict.apply(vctx, settings, DOWN)
    reply = vctx.take_code()
    assert str(reply) == ("421 4.3.0 virus scanner clamav1 unavailable (clamd at /x.sock: "
                          "Connection refused); try again later")
    assert (vctx.get("mess", "VIRUS"), vctx.get("mess", "VIRUS_info")) == ("error", DOWN.info)


def test_pass_only_marks_and_skip_variable_is_seen_in_either_scope():
    settings = av.EngineSettings(name="clamav1", action="pass")
    vctx = ValidationContext()
    assert verdict.apply(vctx, settings, VIRUS) is False and vctx.take_code() is None
    assert vctx.get("mess", "clamav1_status") == "infected"
    assert not verdict.skip_requested(vctx, settings)
    vctx.set("conn", "skip_virus_check", "1")
    assert verdict.skip_requested(vctx, settings)


def test_unscannable_is_a_permanent_552():
    refused = verdict.rejection(av.EngineSettings(name="c"), av.ScanResult(av.EC_AV_UNSCANNABLE, "too big"))
    assert refused == (552, "5.3.4 message cannot be scanned for viruses by c (too big)")
