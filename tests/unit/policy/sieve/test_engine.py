"""Running scripts: policy/sieve/engine.py + runtime.py + actions and extensions."""
from __future__ import annotations

from ecelerity.policy.sieve import MessageView, compile_script, run_script

MESSAGE = (b"From: Alice <alice@example.com>\r\nTo: bob+x@example.org\r\n"
           b"Subject: Hello\r\n\r\nhi\r\n")
ALL = ('require ["fileinto", "reject", "ereject", "envelope", "variables", "imap4flags", '
       '"copy", "regex", "include"];\n')


def run(body: str, env_from: str = "s@example.com", env_to: str = "bob+x@example.org"):
    script = compile_script(ALL + body, "t.sieve")
    return run_script(script, MessageView(MESSAGE, env_from, env_to))


def test_implicit_keep_and_its_cancellation():
    assert run("").as_json() == {"error": None, "actions": [{"action": "keep", "implicit": True}]}
    assert run("discard;").actions == [{"action": "discard"}]
    assert run('redirect :copy "a@b.example";').actions == [
        {"action": "redirect", "address": "a@b.example"}, {"action": "keep", "implicit": True}]


def test_duplicates_merge_into_first_occurrence_with_flags():
    result = run('fileinto :flags "a" "X"; keep; fileinto :flags "b" "X"; fileinto "INBOX";')
    assert result.actions == [{"action": "fileinto", "mailbox": "X", "flags": ["a", "b"]},
                              {"action": "keep"}]


def test_runtime_error_discards_actions_and_keeps():
    result = run('fileinto "A"; set "to" "not an address"; redirect "${to}";')
    assert result.error == "runtime"
    assert result.actions == [{"action": "keep", "implicit": True}]
    assert result.message.startswith("t.sieve:2:42: runtime error: invalid redirect address")


def test_ereject_behaves_as_reject():
    assert run('ereject "no thanks";').actions == [{"action": "reject", "reason": "no thanks"}]


def test_null_envelope_sender():
    assert run('if envelope :is "from" "" { fileinto "Null"; }', env_from="").actions == [
        {"action": "fileinto", "mailbox": "Null"}]


def test_stop_ends_and_return_at_top_level_ends():
    assert run('fileinto "A"; stop; fileinto "B";').actions == [{"action": "fileinto", "mailbox": "A"}]
    assert run('fileinto "A"; return; fileinto "B";').actions == [{"action": "fileinto", "mailbox": "A"}]


def test_match_variables_and_modifiers():
    result = run('if header :matches "from" "* <*@*>" { set :upper "who" "${2}"; fileinto "${who}.${3}"; }')
    assert result.actions == [{"action": "fileinto", "mailbox": "ALICE.example.com"}]


def test_variable_size_is_capped():
    result = run('set "a" "' + "x" * 100 + '"; set "b" "${a}${a}${a}${a}${a}${a}${a}${a}${a}${a}"; '
                 + 'set "c" "${b}${b}${b}${b}${b}${b}${b}${b}"; set :length "n" "${c}"; fileinto "${n}";')
    assert result.actions == [{"action": "fileinto", "mailbox": "4096"}]


def test_catastrophic_regex_is_a_runtime_error_not_a_hang():
    result = run('set "s" "' + "a" * 60 + '!"; if string :regex "${s}" "^(a+)+$" { discard; }')
    assert result.error == "runtime" and "budget" in result.message


def test_included_script_has_own_variables(tmp_path):
    (tmp_path / "sub.sieve").write_text('require ["variables", "fileinto"]; fileinto "sub-${v}";')
    script = compile_script(ALL + 'set "v" "main"; include "sub"; fileinto "${v}";',
                            str(tmp_path / "main.sieve"))
    result = run_script(script, MessageView(MESSAGE))
    assert result.actions == [{"action": "fileinto", "mailbox": "sub-"},
                              {"action": "fileinto", "mailbox": "main"}]


def test_if_elsif_else_chains_of_every_shape():
    chain = ('if header :is "Subject" "{a}" {{ fileinto "A"; }} elsif header :is "Subject" "{b}" '
             '{{ fileinto "B"; fileinto "B2"; }} elsif true {{ fileinto "C"; }} else {{ fileinto "D"; }}')
    assert run(chain.format(a="Hello", b="x")).actions == [{"action": "fileinto", "mailbox": "A"}]
    assert run(chain.format(a="x", b="hello")).actions == [
        {"action": "fileinto", "mailbox": "B"}, {"action": "fileinto", "mailbox": "B2"}]
    assert run(chain.format(a="x", b="y")).actions == [{"action": "fileinto", "mailbox": "C"}]
    two = 'if header :is "Subject" "{s}" {{ fileinto "A"; }} else {{ fileinto "D"; discard; }}'
    assert run(two.format(s="hello")).actions == [{"action": "fileinto", "mailbox": "A"}]
    assert run(two.format(s="nope")).actions == [
        {"action": "fileinto", "mailbox": "D"}, {"action": "discard"}]
    assert run('if false { discard; }').actions == [{"action": "keep", "implicit": True}]
    assert run('if anyof (false, false, true) { discard; }').actions == [{"action": "discard"}]
    assert run('if allof (true, true, false) { discard; }').actions[0]["implicit"]
    assert run('if allof (true) { discard; }').actions == [{"action": "discard"}]


def test_sieve_plus_plus_assignment_keeps_the_variable_limits():
    many = "".join(f"$v{i} = \"x\";\n" for i in range(256))
    result = run(many)
    assert result.error == "runtime" and "too many variables" in result.message
    long_value = run('$big = "' + "é" * 3000 + '"; if string :is "${big}" "' + "é" * 2048 + '" { discard; }')
    assert long_value.actions == [{"action": "discard"}]  # cut to 4096 bytes (2048 two-byte chars)
    assert run('$s = "Hello"; if string :is "${s}" "hello" { discard; }').actions == [{"action": "discard"}]


def test_header_tests_read_through_edits_and_multiple_names():
    assert run('if header :contains ["X-None", "subject"] "ELL" { discard; }').actions == [
        {"action": "discard"}]
    assert run('if exists ["Subject", "To"] { discard; }').actions == [{"action": "discard"}]
    assert run('if exists ["Subject", "Cc"] { discard; }').actions[0]["implicit"]
    assert run('if address :domain :is ["from", "to"] "example.org" { discard; }').actions == [
        {"action": "discard"}]
