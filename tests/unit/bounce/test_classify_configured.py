"""bounce_classification_rules: override rules loaded by classify.configure reach the
bouncelog's classifier and the DSN's X-Bounce-Classification field."""
from __future__ import annotations

import email

import pytest

from ecelerity.bounce import classify
from ecelerity.bounce.dsn import build_dsn
from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.log.bounce_logger import classify as bouncelog_classify


@pytest.fixture
def rules_file(tmp_path):
    path = tmp_path / "bounce.rules"
    path.write_text("# site overrides\n54 greylisted by policy\n")
    yield str(path)
    classify.configure(None)   # process-wide state: leave the built-ins behind


def dsn_classification(tmp_path, cfg, reason: str) -> str:
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    try:
        message = spool.store(Envelope("s@src.test", [Recipient("r@dst.test")]),
                              b"Subject: x\r\n\r\nx\r\n").messages[0]
        _, data = build_dsn(message, None, reason=reason, cfg=cfg, body=b"Subject: x\r\n\r\n")
    finally:
        spool.close()
    status = email.message_from_bytes(data).get_payload()[1].get_payload()
    return {k: v for part in status for k, v in part.items()}["X-Bounce-Classification"]


def test_override_rules_win_in_bouncelog_and_dsn(tmp_path, rules_file):
    reason = "550 5.7.1 greylisted by policy, go away"
    cfg = load_config_text(f'bounce_classification_rules = "{rules_file}"\nhostname = mx.test\n')
    built_in = classify.classify(550, "5.7.1", "greylisted by policy, go away")
    assert built_in != 54
    assert dsn_classification(tmp_path / "a", cfg, reason).split()[0] == str(built_in)
    classify.configure(cfg.get("bounce_classification_rules"))
    assert bouncelog_classify(550, "5.7.1", "greylisted by policy, go away") == 54
    assert dsn_classification(tmp_path / "b", cfg, reason) == f"54 ({classify.name_of(54)})"
    classify.configure(None)
    assert bouncelog_classify(550, "5.7.1", "greylisted by policy, go away") == built_in


def test_a_bad_rules_file_keeps_the_previous_rules(tmp_path, rules_file):
    classify.configure(rules_file)
    bad = tmp_path / "bad.rules"
    bad.write_text("54 fine\n999 nope\n")
    with pytest.raises(classify.ClassifyRulesError, match=r"bad\.rules:2:1"):
        classify.configure(str(bad))
    assert classify.classify(550, "", "greylisted by policy") == 54
