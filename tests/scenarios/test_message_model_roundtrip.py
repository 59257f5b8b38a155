"""Issue 11 must-show #1: the corpus passes through reception AND delivery byte-identical.

Every message of tests/unit/core/corpus (multipart/alternative, attachments, nested
message/rfc822, signed, encoded headers, 8-bit, and the malformed ones) is injected
with smtplib into a real daemon, which relays it to a real SMTP sink
(tests/scenarios/delivery_harness.py: dnsmasq + sink + ecelerity). What the sink
receives, minus our one Received: header, must be the injected bytes exactly. The
identity headers are switched off here (rfc2822_messageid_header / _date_header =
"never", rfc2822_missing_headers = "allow") so nothing else is added.

A Lua policy adds one header to messages sent by ``edit@...``: the diff against the
original must be exactly that one header line in the top header block (plus, for
the message whose header block had no empty line after it, that empty line: a
re-rendered header block always ends with one, as Postfix's cleanup does).
lf_only_plain.eml is left out: SMTP DATA carries CRLF lines, smtplib converts it.
"""
from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.scenarios.delivery_harness import relay_world, strip_received, wait_until

CORPUS = sorted(p for p in (Path(__file__).parent.parent / "unit" / "core" / "corpus").glob("*.eml")
                if p.name != "lf_only_plain.eml")

POLICY = r'''
local mod = {}
function mod:validate_data(msg, accept, vctx)
  if vctx:get(msys.core.VCTX_MESS, "mailfrom_localpart") == "edit" then
    msg:header("X-Policy-Added", "yes")
  end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("edit", mod)
'''

EXTRA = """
scriptlet "scriptlet" {{
  script "edit" {{ source = "{path}" }}
}}
{identity}
"""

NO_IDENTITY = ('rfc2822_messageid_header = "never"\nrfc2822_date_header = "never"\n'
               'rfc2822_missing_headers = "allow"\n')


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    (tmp / "daemon").mkdir()
    (tmp / "daemon" / "edit.lua").write_text(POLICY)  # scripts stay inside the daemon's dir
    with relay_world(tmp, domains={"a.test": ["127.0.0.2"]}) as world:
        world.start_daemon(EXTRA.format(path="edit", identity=NO_IDENTITY))
        yield world


def _delivered(world, marker_rcpt: str) -> bytes:
    wait_until(lambda: any(marker_rcpt in m.rcpts for m in world.all_messages()), timeout=20,
               what=f"delivery to {marker_rcpt}", daemon=world.daemons[0])
    found = [m for m in world.all_messages() if marker_rcpt in m.rcpts]
    assert len(found) == 1
    return strip_received(found[0].body)


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "surrogateescape").split("\r\n")


def test_corpus_is_relayed_byte_identical(world):
    sent = {}
    for index, path in enumerate(CORPUS):
        raw = path.read_bytes()
        rcpt = f"plain{index}@a.test"
        world.send("s@b.test", [rcpt], raw)
        sent[rcpt] = (path.name, raw)
    for rcpt, (name, raw) in sent.items():
        assert _delivered(world, rcpt) == raw, name


def test_a_policy_header_add_changes_only_that_header(world):
    for index, path in enumerate(CORPUS):
        raw = path.read_bytes()
        rcpt = f"edited{index}@a.test"
        world.send("edit@b.test", [rcpt], raw)
        got = _delivered(world, rcpt)
        diff = [line for line in difflib.ndiff(_lines(raw), _lines(got)) if line[:1] in ("+", "-")]
        expected = ["+ X-Policy-Added: yes"]
        if path.name == "malformed_no_separator.eml":
            expected.append("+ ")  # the re-rendered header block gets its missing empty line
        assert diff == expected, (path.name, diff)
        head = got.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in got else got
        assert b"X-Policy-Added: yes\r\n" in head + b"\r\n", path.name
