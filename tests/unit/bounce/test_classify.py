"""ecelerity/bounce/classify.py: Momentum classification codes from real-world replies."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.bounce.classify import (CODES, Classifier, ClassifyRulesError, category_of, classify,
                                       load_rules, name_of)


@pytest.mark.parametrize("code, enhanced, text, expected", [
    (550, "5.1.1", "<bob@example.com>: Recipient address rejected: User unknown", 10),
    (550, "", "No such account", 10),
    (552, "5.2.2", "Mailbox full", 22),
    (452, "4.2.2", "The email account that you tried to reach is over quota", 22),
    (552, "5.3.4", "message size limit exceeded", 23),
    (554, "5.7.1", "Service unavailable; Client host [1.2.3.4] blocked using zen.spamhaus.org", 51),
    (554, "5.7.1", "Message rejected as spam by Content Filtering", 52),
    (550, "5.7.1", "relaying denied", 54),
    (554, "5.7.0", "Attachment type not allowed", 53),
    (550, "5.7.1", "Connection refused by policy", 50),
    (554, "5.4.4", "[internal] Domain Lookup Failed", 21),
    (451, "4.4.1", "[internal] No valid hosts", 21),
    (554, "5.4.7", "[internal] exceeded max time without delivery", 24),
    (450, "4.4.1", "[internal] Connection Timed Out", 24),
    (550, "5.7.1", "[internal] discarded by policy", 25),
    (421, "4.3.2", "try again later", 70),
    (550, "5.0.0", "something odd happened", 40),
    (550, "5.7.1", "", 54),
    (550, "5.1.1", "", 10),
    (250, "2.0.0", "ok", 1),
    (0, "", "", 1),
])
def test_classification_table(code, enhanced, text, expected):
    assert classify(code, enhanced, text) == expected


def test_names_and_categories_are_momentums():
    assert (name_of(40), category_of(40)) == ("Generic Bounce", "Soft")
    assert (name_of(54), category_of(54)) == ("Relaying Denied", "Block")
    assert category_of(10) == "Hard" and name_of(999) == "Undetermined"
    assert sorted(CODES) == [1, 10, 20, 21, 22, 23, 24, 25, 30, 40, 50, 51, 52, 53, 54, 60, 70, 80,
                             90, 100]


def test_override_rules_from_a_file_win_in_order(tmp_path):
    rules = tmp_path / "bounce.rules"
    rules.write_text("# local knowledge\n\n90  unsubscribed\n51  ^550 .*example-rbl\n30 .*\n")
    classifier = Classifier(load_rules(str(rules)))
    assert classifier.classify(550, "5.1.1", "user has unsubscribed") == 90
    assert classifier.classify(550, "", "listed at example-rbl") == 51
    assert classifier.classify(550, "5.1.1", "user unknown") == 30
    assert Classifier().classify(550, "5.1.1", "user unknown") == 10


@pytest.mark.parametrize("text, message", [
    ("10 ok\n77 foo\n", ":2:1: unknown classification code '77'"),
    ("10 (unclosed\n", ":1:4: bad regex"),  # column of the unmatched paren
    ("10\n", ":1:3: missing regex"),
])
def test_bad_override_files_name_file_line_and_column(tmp_path, text, message):
    rules = tmp_path / "bad.rules"
    rules.write_text(text)
    with pytest.raises(ClassifyRulesError) as caught:
        load_rules(str(rules))
    assert str(caught.value).startswith(str(rules)) and message in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=999), st.text(max_size=60))
def test_every_reply_gets_a_known_code_and_4xx_5xx_never_undetermined(code, text):
    result = classify(code, "", text)
    assert result in CODES
    if 400 <= code < 600:
        assert result != 1
