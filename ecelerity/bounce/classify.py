"""Momentum bounce classification: SMTP code + enhanced code + text -> classification code.

Called by the queue/bounce logging when a message fails (every permanent failure
carries a code) and by tests. Codes and names are Momentum's (momentum-facts.md §2.8).
Order of decision: override rules (loaded from a file, first match wins), then the
built-in text rules (first match wins), then the enhanced status code, then the reply
class (4xx -> 70 Transient Failure, 5xx -> 40 Generic Bounce, else 1 Undetermined).

Override file format, one rule a line, ``#`` comments and blank lines ignored::

    <classification code> <regex matched case-insensitively against "CODE ENHANCED TEXT">
    51  ^5\\d\\d .*listed at example-rbl
Loading errors name file:line. Pure computation: never I/O except ``load_rules``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

CODES: dict[int, tuple[str, str]] = {
    1: ("Undetermined", "Undetermined"), 10: ("Invalid Recipient", "Hard"),
    20: ("Soft Bounce", "Soft"), 21: ("DNS Failure", "Soft"), 22: ("Mailbox Full", "Soft"),
    23: ("Too Large", "Soft"), 24: ("Timeout", "Soft"), 25: ("Admin Failure", "Admin"),
    30: ("Generic Bounce: No RCPT", "Hard"), 40: ("Generic Bounce", "Soft"),
    50: ("Mail Block", "Block"), 51: ("Spam Block", "Block"), 52: ("Spam Content", "Block"),
    53: ("Prohibited Attachment", "Block"), 54: ("Relaying Denied", "Block"),
    60: ("Auto-Reply", "Soft"), 70: ("Transient Failure", "Soft"), 80: ("Subscribe", "Admin"),
    90: ("Unsubscribe", "Hard"), 100: ("Challenge-Response", "Soft"),
}

_TEXT_RULES: list[tuple[int, str]] = [
    (24, r"exceeded max (time|retries) without delivery|message expired|timed? ?out"),
    (25, r"\[internal\] (discarded by policy|failed by admin)|administratively"),
    (21, r"domain lookup failed|no mx or a|no valid hosts|null mx|host (or domain )?not found|"
         r"domain (not found|does not exist)|unroutable|unrouteable|\bdns\b"),
    (54, r"relay(ing)? (access )?(denied|not permitted)|not permitted to relay|unable to relay"),
    (53, r"attachment|virus|malware|executable|file type"),
    (51, r"black ?list|block ?list|dnsbl|\brbl\b|spamhaus|spamcop|listed (at|on|in)|reputation"),
    (52, r"spam|junk|bulk mail|content (rejected|filter)"),
    (22, r"mailbox (is )?full|over ?quota|quota exceeded|insufficient (system )?storage"),
    (23, r"too (large|big)|size limit|exceeds? .*size|message size"),
    (100, r"challenge|verify your (e-?mail|address)|confirm your"),
    (60, r"out of (the )?office|auto.?reply|vacation"),
    (10, r"user unknown|unknown user|no such (user|account|mailbox|recipient|address)|"
         r"does not exist|invalid (recipient|mailbox|address)|recipient (address )?rejected|"
         r"mailbox (unavailable|not found)|address rejected|not our customer"),
    (50, r"blocked|banned|\bdenied\b|refused|not allowed|rejected by policy|policy"),
]

_ENHANCED_RULES: list[tuple[int, str]] = [
    (10, r"^5\.1\.[136]$"), (21, r"^[45]\.1\.2$|^[45]\.4\.[34]$"), (22, r"^[45]\.2\.2$"),
    (23, r"^[45]\.(2\.3|3\.4)$"), (24, r"^[45]\.4\.[27]$"), (54, r"^5\.7\.1$"),
    (50, r"^5\.7\.\d+$"),
]


@dataclass(frozen=True)
class Rule:
    code: int
    pattern: re.Pattern[str]
    origin: str = "built-in"


class ClassifyRulesError(ValueError):
    """An override file could not be read; the message names file:line."""


class Classifier:
    def __init__(self, overrides: list[Rule] | None = None) -> None:
        self.overrides = list(overrides or [])
        self.text_rules = [Rule(c, re.compile(p, re.I)) for c, p in _TEXT_RULES]
        self.enhanced_rules = [Rule(c, re.compile(p)) for c, p in _ENHANCED_RULES]

    def classify(self, code: int, enhanced: str = "", text: str = "") -> int:
        """The classification code for one reply (see the module docstring)."""
        subject = " ".join(part for part in (str(code), enhanced, text) if part)
        for rule in self.overrides:
            if rule.pattern.search(subject):
                return rule.code
        if 200 <= code < 300:
            return 1
        for rule in self.text_rules:
            if rule.pattern.search(text):
                return rule.code
        for rule in self.enhanced_rules:
            if enhanced and rule.pattern.search(enhanced):
                return rule.code
        if 400 <= code < 500:
            return 70
        return 40 if 500 <= code < 600 else 1


def load_rules(path: str) -> list[Rule]:
    """Parse an override file into rules; ClassifyRulesError with file:line on a bad line."""
    try:
        with open(path, encoding="utf-8") as rules_file:
            lines = rules_file.read().splitlines()
    except OSError as exc:
        raise ClassifyRulesError(f"{path}: cannot read bounce rules: {exc.strerror}") from exc
    rules = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        code_text, _, pattern = stripped.partition(" ")
        if not code_text.isdigit() or int(code_text) not in CODES:
            raise ClassifyRulesError(f"{path}:{number}:1: unknown classification code "
                                     f"'{code_text}' (known: {', '.join(map(str, CODES))})")
        pattern = pattern.strip()
        if not pattern:
            raise ClassifyRulesError(f"{path}:{number}:{len(line) + 1}: missing regex after "
                                     f"classification code {code_text}")
        try:
            rules.append(Rule(int(code_text), re.compile(pattern, re.I), f"{path}:{number}"))
        except re.error as exc:
            column = line.find(pattern) + (exc.pos or 0) + 1
            raise ClassifyRulesError(f"{path}:{number}:{column}: bad regex: {exc.msg}") from exc
    return rules


def name_of(code: int) -> str:
    return CODES.get(code, CODES[1])[0]


def category_of(code: int) -> str:
    return CODES.get(code, CODES[1])[1]


_DEFAULT = Classifier()
_active = _DEFAULT   # what classify() uses: the built-ins plus bounce_classification_rules


def configure(path: str | None) -> Classifier:
    """Make the rules of ``path`` (the ``bounce_classification_rules`` option; None: none)
    the process-wide overrides for ``classify``; ClassifyRulesError (file:line) leaves
    the previous rules in place."""
    global _active
    classifier = Classifier(load_rules(path)) if path else _DEFAULT
    _active = classifier
    return classifier


def classify(code: int, enhanced: str = "", text: str = "") -> int:
    """Classify with the configured override rules first, then the built-in rules."""
    return _active.classify(code, enhanced, text)
