"""policy/sieve/codegen.py under hypothesis: random scripts and messages, generated == reference.

Scripts are drawn from a grammar of nested if/elsif/else over header, address,
envelope, exists, size, ec_test, allof/anyof/not, with every match type and
comparator, assignments (plain, from functions, lists) and actions; messages from a
few header names with random values. Tight limits make the variable-size, variable-
count and action limits reachable, so the inlined fast paths are tested at their edges.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecelerity.policy.sieve import Limits, SieveError, compile_script
from tests.unit.policy.sieve.codegen_diff import PRELUDE, UNIQUE, snapshot

LIMITS = Limits(max_variable_size=24, max_variables=2, max_actions=6, max_match_values=3)
NAMES = ["Subject", "From", "To", "X-Score", "X-A"]
WORDS = st.sampled_from(["a", "b", "x@y.org", "Ab", "12", "7", "", "a*", "*@y.org", "?b", "abcdefgh"])
VARS = st.sampled_from(["v", "w", "x", "y", "z", "g"])  # "g": global when declared
MATCH = st.sampled_from([":is", ":contains", ":matches", ':regex', ':value "gt"', ':count "ge"',
                         ':value "eq" :comparator "i;ascii-numeric"', ':is :comparator "i;octet"'])


def strings(draw, max_size: int = 3) -> str:
    items = draw(st.lists(WORDS, min_size=1, max_size=max_size))
    quoted = [f'"{w}"' for w in items]
    if len(quoted) == 1 and draw(st.booleans()):
        return quoted[0]
    return "[" + ", ".join(quoted) + "]"


@st.composite
def sieve_tests(draw, depth: int = 0) -> str:
    kinds = ["header", "address", "envelope", "exists", "size", "ectest", "var", "const"]
    if depth < 2:
        kinds += ["not", "allof", "anyof"]
    kind = draw(st.sampled_from(kinds))
    match = draw(MATCH)
    if kind == "header":
        names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=2))
        return f'header {match} [{", ".join(repr(n).replace(chr(39), chr(34)) for n in names)}] {strings(draw)}'
    if kind == "address":
        part = draw(st.sampled_from([":all", ":localpart", ":domain"]))
        return f'address {part} {match} "{draw(st.sampled_from(["From", "To"]))}" {strings(draw)}'
    if kind == "envelope":
        return f'envelope {match} "{draw(st.sampled_from(["from", "to"]))}" {strings(draw)}'
    if kind == "exists":
        return f'exists "{draw(st.sampled_from(NAMES))}"'
    if kind == "size":
        return f'size {draw(st.sampled_from([":over", ":under"]))} {draw(st.integers(0, 400))}'
    if kind == "ectest":
        return f'ec_test {match} ${draw(VARS)} {strings(draw)}'
    if kind == "var":
        return f'string {match} "${{{draw(VARS)}}}" {strings(draw)}'
    if kind == "const":
        return draw(st.sampled_from(["true", "false"]))
    if kind == "not":
        return f"not {draw(sieve_tests(depth + 1))}"
    inner = draw(st.lists(sieve_tests(depth + 1), min_size=1, max_size=3))
    return f"{kind} ({', '.join(inner)})"


@st.composite
def commands(draw, depth: int = 0) -> str:
    kinds = ["assign", "assign", "assign", "assignfn", "assignfn", "assignlist", "set", "action", "flag", "vctx",
             "header_add", "throttle"]
    if depth < 3:
        kinds += ["if", "if", "if", "assigntest"]
    kind = draw(st.sampled_from(kinds))
    var = draw(VARS)
    if kind == "assign":
        return f'${var} = {strings(draw, 1)};' if draw(st.booleans()) else f'${var} = ${draw(VARS)};'
    if kind == "assignfn":
        return f'${var} = {draw(st.sampled_from(["vctx_conn_get", "vctx_mess_get", "ec_tolower", "ec_throttle_check"]))} ' \
               f'"{draw(st.sampled_from(["ehlo_domain", "note", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "t"]))}";'
    if kind == "throttle":  # create (twice: a no-op), count, and the check read inline by codegen
        return draw(st.sampled_from(['ec_throttle_create "t" "1/60";', 'ec_throttle_inc "t";',
                                     'ec_throttle_dec "t";', 'ec_throttle_create "t" "0/60";']))
    if kind == "assigntest":  # ``$x = ...; if ec_test ... $x``: codegen tests the stored value directly
        source = draw(st.sampled_from(['vctx_conn_get "ehlo_domain"', 'ec_throttle_check "t"', '"ab"',
                                       'split "a,b" ","', 'vctx_mess_get "note"']))
        return (f'${var} = {source}; if ec_test {draw(MATCH)} ${var} {strings(draw)} '
                f'{{ {" ".join(draw(st.lists(commands(depth + 1), max_size=2)))} }}')
    if kind == "assignlist":
        return f'${var} = split "a,b,c" ",";'
    if kind == "set":
        return f'set "{var}" "${{{draw(VARS)}}}{draw(WORDS)}${{1}}";'
    if kind == "action":
        return draw(st.sampled_from(['keep;', 'discard;', 'fileinto "F${v}";', 'redirect "r@x.org";',
                                     'reject "no";', 'stop;', 'fileinto :copy "C";']))
    if kind == "flag":
        return f'addflag "{draw(WORDS)}";'
    if kind == "vctx":
        return f'vctx_mess_set "k{draw(st.integers(0, 2))}" "${{{var}}}";'
    if kind == "header_add":
        return f'ec_header_add "X-A" "${{{var}}}";'
    chain = f"if {draw(sieve_tests())} {{ {' '.join(draw(st.lists(commands(depth + 1), max_size=3)))} }}"
    for _ in range(draw(st.integers(0, 2))):
        chain += f" elsif {draw(sieve_tests())} {{ {' '.join(draw(st.lists(commands(depth + 1), max_size=2)))} }}"
    if draw(st.booleans()):
        chain += f" else {{ {' '.join(draw(st.lists(commands(depth + 1), max_size=2)))} }}"
    return chain


@st.composite
def messages(draw) -> bytes:
    lines = []
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=6)):
        lines.append(f"{name}: {draw(st.sampled_from(['a', 'Ab', 'x@y.org', '12', 'Bob <b@y.org>', '7 a']))}")
    return ("\r\n".join(lines) + "\r\n\r\n" + "body " * draw(st.integers(0, 80))).encode()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(commands(), min_size=1, max_size=8), messages(),
       st.sampled_from([("s@y.org", "a@x.org"), ("", "b+d@y.org")]), st.booleans())
def test_generated_scripts_behave_like_the_closure_tree(body, raw, envelope, global_decl):
    text = PRELUDE + \
        ('global "g";\n' if global_decl else "") + "\n".join(body) + "\n"
    try:
        script = compile_script(text, "gen.siv", limits=LIMITS)
    except SieveError as exc:
        assert "invalid regex" in str(exc)  # a key like "?b" is no pattern: nothing to compare
        return
    assert script.generated
    got, want = (UNIQUE.sub("<unique>", repr(sorted(snapshot(runner, raw, *envelope, LIMITS).items())))
                 for runner in (script.run, script.run_reference))
    assert got == want, (text, script.run.sieve_source)
