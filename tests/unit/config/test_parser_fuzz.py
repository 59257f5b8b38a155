"""Property tests for ecelerity/config/parser.py: any text gives a tree or ConfigError,
and render_config output parses back to the same tree."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecelerity.config.errors import ConfigError
from ecelerity.config.lexer import is_bare_word
from ecelerity.config.parser import INCLUDE_KEYWORDS, parse_text, render_config
from ecelerity.config.tree import DictValue, ListValue, Location, Scalar, Setting, Stanza

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SAMPLE = '''# sample
ESMTP_Listener {
  Listen ":25" { Peer "10.0.0.1" { relay_hosts = ( 127.0.0.0/8 "::1" ) } }
}
binding_group g { binding b { domain "/re$/" { context = [ k = v  l ( 1 2 ) ] } } }
spool_mode 0640 /* block */ include a.conf
'''


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    """A directory for relative includes: one good file and one that includes itself."""
    directory = tmp_path_factory.mktemp("fuzz")
    (directory / "a.conf").write_text("x = 1\nDomain d { y = 2 }\n")
    (directory / "loop.conf").write_text("include loop.conf\n")
    return directory


def parse_or_error(text: str, directory) -> Stanza | ConfigError:
    """The property itself: a Stanza or a ConfigError, nothing else escapes."""
    filename = str(directory / "fuzz.conf")
    try:
        root = parse_text(text, filename)
    except ConfigError as err:
        assert err.problems
        line_count = text.count("\n") + 1
        for problem in err.problems:
            if problem.loc is not None and problem.loc.file == filename:
                assert 1 <= problem.loc.line <= line_count and problem.loc.col >= 1
        return err
    check_tree(root)
    return root


def check_tree(stanza: Stanza) -> None:
    for child in stanza.children:
        assert child.parent is stanza and child.kind == child.spelling.lower()
        check_tree(child)


@FUZZ
@given(text=st.text(max_size=400))
def test_arbitrary_text_parses_or_raises_config_error(fuzz_dir, text):
    parse_or_error(text, fuzz_dir)


GRAMMAR_TOKENS = ["{", "}", "(", ")", "[", "]", "=", "#c\n", "/*", "*/", "/* x */", '"', "'",
                  '"q s"', "'s'", '""', "Domain", "x.example", "include", "readonly_include",
                  "a.conf", "loop.conf", ".", "missing.conf", "\\", "0640", "10.0.0.0/8"]


@FUZZ
@given(parts=st.lists(st.tuples(st.sampled_from(GRAMMAR_TOKENS) | st.text(max_size=5),
                                st.sampled_from([" ", "\n", "\t", "", "\r\n"])), max_size=60))
def test_grammar_shaped_text_parses_or_raises_config_error(fuzz_dir, parts):
    parse_or_error("".join(token + space for token, space in parts), fuzz_dir)


@FUZZ
@given(data=st.data())
def test_mutated_valid_config_parses_or_raises_config_error(fuzz_dir, data):
    text = SAMPLE
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + data.draw(st.sampled_from(GRAMMAR_TOKENS + ["\n", " "])) + text[at:]
    parse_or_error(text, fuzz_dir)


def test_sample_is_valid(fuzz_dir):
    root = parse_or_error(SAMPLE, fuzz_dir)
    assert isinstance(root, Stanza)
    assert [s.name for s in root.settings] == ["spool_mode", "x"]


# -- round trip -------------------------------------------------------------------------

LOC = Location("gen", 1, 1)
names = st.text(min_size=1, max_size=12).filter(lambda n: n.lower() not in INCLUDE_KEYWORDS)
bare_words = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=10).filter(is_bare_word)
scalars = st.one_of(
    st.builds(lambda t: Scalar(t, True, LOC), st.text(max_size=12)),
    st.builds(lambda t: Scalar(t, False, LOC), bare_words),
)
lists = st.builds(lambda items: ListValue(items, LOC), st.lists(scalars, max_size=4))
dicts = st.builds(lambda items: DictValue([(k, v, LOC) for k, v in items], LOC),
                  st.lists(st.tuples(names, scalars | lists), max_size=3))
values = st.one_of(scalars, lists, dicts)
settings_lists = st.lists(st.builds(lambda n, v: Setting(n, v, LOC), names, values), max_size=3)


def make_stanza(spelling, name, own_settings, children):
    stanza = Stanza(spelling.lower(), spelling, name, LOC, settings=own_settings, children=children)
    for child in children:
        child.parent = stanza
    return stanza


stanzas = st.recursive(
    st.builds(make_stanza, names, st.none() | st.text(min_size=1, max_size=10), settings_lists,
              st.just([])),
    lambda inner: st.builds(make_stanza, names, st.none() | st.text(min_size=1, max_size=10),
                            settings_lists, st.lists(inner, max_size=3)),
    max_leaves=8,
)


def shape(node):
    if isinstance(node, Scalar):
        return ("scalar", node.text, node.quoted)
    if isinstance(node, ListValue):
        return ("list", [shape(i) for i in node.items])
    if isinstance(node, DictValue):
        return ("dict", [(k, shape(v)) for k, v, _ in node.items])
    return (node.kind, node.spelling, node.name, [(s.name, shape(s.value)) for s in node.settings],
            [shape(c) for c in node.children])


@settings(max_examples=200, deadline=None)
@given(own_settings=settings_lists, children=st.lists(stanzas, max_size=3))
def test_render_then_parse_gives_the_same_tree(own_settings, children):
    root = make_stanza("global", None, own_settings, children)
    text = render_config(root)
    reparsed = parse_text(text, "rendered.conf")
    assert shape(reparsed) == shape(root)
    assert render_config(reparsed) == text
