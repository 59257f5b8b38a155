"""i;ascii-casemap folding without a copy for values that are already folded.

codegen.FOLD_V, match_compile.casefold_ascii, matchers.fold and MessageView.fold_one
return a lower-case ASCII value itself (``str.lower`` always builds a new string) and
fold everything else as before: only A-Z change, never a non-ASCII letter. The
generated code must still decide every :is test as the closure tree does.
"""
from __future__ import annotations

import pytest

from ecelerity.policy.sieve import MessageView, compile_script
from ecelerity.policy.sieve.match_compile import casefold_ascii
from ecelerity.policy.sieve.matchers import fold
from tests.unit.policy.sieve.codegen_diff import snapshot

KEYS = ["client.example", "123", "école.example", "\u212aelvin", "ǅx", "mixed-ÄÖ", ""]
VALUES = ["client.example", "Client.EXAMPLE", "123", "", "-", "ÉCOLE.example", "école.Example",
          "\u212aelvin", "ǅx", "MIXED-ÄÖ"]


def ascii_fold(text: str) -> str:
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


@pytest.mark.parametrize("value", VALUES)
def test_folds_agree_and_a_folded_value_is_not_copied(value):
    want = ascii_fold(value)
    for folded in (casefold_ascii(value), fold("i;ascii-casemap", value)):
        assert folded == want
        if value.isascii() and value == want and value.islower():
            assert folded is value
    view = MessageView(f"X-V: {value}\r\n\r\nb\r\n".encode())
    assert view.fold_one("x-v") == want.strip()


@pytest.mark.parametrize("value", VALUES)
def test_generated_is_tests_decide_as_the_closure_tree(value):
    keys = "[" + ", ".join(f'"{k}"' for k in KEYS) + "]"
    text = (f'require ["variables", "envelope"];\n'
            f'$v = "{value}"; if ec_test :is $v {keys} {{ set "hit1" "1"; }}\n'
            f'if header :is "X-V" {keys} {{ set "hit2" "1"; }}\n'
            f'if envelope :localpart :is "from" {keys} {{ set "hit3" "1"; }}\n')
    script = compile_script(text, "fold.siv")
    assert script.generated and "islower()" in script.run.sieve_source
    raw = f"X-V: {value}\r\n\r\nb\r\n".encode()
    got, want = (snapshot(runner, raw, f"{value}@x.example" if value else "", "r@y.example")
                 for runner in (script.run, script.run_reference))
    assert got == want
    expected = ascii_fold(value) in {ascii_fold(k) for k in KEYS}
    assert (got["variables"].get("hit1") == "1") == expected, (value, got["variables"])
