"""Tests for ecelerity/config/lexer.py: token kinds, texts and exact positions."""
from __future__ import annotations

from ecelerity.config.lexer import EOF, STRING, WORD, is_bare_word, tokenize


def kinds_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text).tokens]


def positions(text: str) -> list[tuple[str, int, int]]:
    return [(t.text, t.line, t.col) for t in tokenize(text).tokens]


def test_setting_tokens_with_positions_and_file():
    lexed = tokenize("Max_Outbound_Connections = 32\n", "a.conf")
    assert [(t.kind, t.text, t.file, t.line, t.col) for t in lexed.tokens] == [
        (WORD, "Max_Outbound_Connections", "a.conf", 1, 1),
        ("=", "=", "a.conf", 1, 26),
        (WORD, "32", "a.conf", 1, 28),
        (EOF, "", "a.conf", 2, 1),
    ]
    assert lexed.problems == [] and lexed.truncated is False
    assert str(lexed.tokens[2].loc) == "a.conf:1:28"


def test_all_punctuation_is_its_own_token():
    assert kinds_texts("{}()[]=") == [
        ("{", "{"), ("}", "}"), ("(", "("), (")", ")"), ("[", "["), ("]", "]"), ("=", "="), (EOF, ""),
    ]


def test_bare_words_keep_slashes_dots_colons_and_stars():
    words = ["127.0.0.0/8", "10.0.0.1", ":25", "/tmp/2025", "0640", "60/3", "*.example.com",
             "__mx__", "*:25", "smtp://host", "fd82::1", "a/*b"]
    lexed = tokenize(" ".join(words))
    assert [(t.kind, t.text) for t in lexed.tokens[:-1]] == [(WORD, w) for w in words]


def test_word_ends_at_punctuation_quote_and_hash():
    assert kinds_texts('a=b{c}d"e"f#g\nh') == [
        (WORD, "a"), ("=", "="), (WORD, "b"), ("{", "{"), (WORD, "c"), ("}", "}"),
        (WORD, "d"), (STRING, "e"), (WORD, "f"), (WORD, "h"), (EOF, ""),
    ]


def test_line_comment_runs_to_end_of_line():
    assert positions("a # b { c\n  d") == [("a", 1, 1), ("d", 2, 3), ("", 2, 4)]


def test_block_comment_spanning_lines_moves_line_count():
    assert positions("a /* x\ny\nz */ b\nc") == [("a", 1, 1), ("b", 3, 6), ("c", 4, 1), ("", 4, 2)]


def test_block_comments_do_not_nest():
    # The first "*/" closes the comment; "c */" is then ordinary text.
    assert kinds_texts("/* a /* b */ c */") == [(WORD, "c"), (WORD, "*/"), (EOF, "")]


def test_slash_star_inside_a_word_is_not_a_comment():
    assert kinds_texts("/var/spool/* x") == [(WORD, "/var/spool/*"), (WORD, "x"), (EOF, "")]


def test_double_quoted_escapes():
    lexed = tokenize(r'"a\"b" "c\\d" "e\nf" "g\th" "\.\d"')
    assert [t.text for t in lexed.tokens[:-1]] == ['a"b', "c\\d", "e\nf", "g\th", "\\.\\d"]
    assert all(t.kind == STRING for t in lexed.tokens[:-1])


def test_single_quotes_are_literal():
    lexed = tokenize(r"'a\nb \" c'")
    assert (lexed.tokens[0].kind, lexed.tokens[0].text) == (STRING, 'a\\nb \\" c')


def test_quoted_strings_keep_special_characters_and_empty_string():
    assert kinds_texts('"# not a comment" \'{ ( [ = \' ""') == [
        (STRING, "# not a comment"), (STRING, "{ ( [ = "), (STRING, ""), (EOF, ""),
    ]


def test_multiline_string_positions():
    assert positions('a "x\ny" b') == [("a", 1, 1), ("x\ny", 1, 3), ("b", 2, 4), ("", 2, 5)]


def test_crlf_line_endings():
    assert positions("a = 1\r\nb = 2\r\n") == [
        ("a", 1, 1), ("=", 1, 3), ("1", 1, 5), ("b", 2, 1), ("=", 2, 3), ("2", 2, 5), ("", 3, 1),
    ]


def test_tab_counts_as_one_column():
    assert positions("\ta\t=\tb") == [("a", 1, 2), ("=", 1, 4), ("b", 1, 6), ("", 1, 7)]


def test_lone_carriage_return_is_whitespace_not_a_line_break():
    assert positions("a\rb") == [("a", 1, 1), ("b", 1, 3), ("", 1, 4)]


def test_columns_count_code_points():
    assert positions('"é€" x') == [("é€", 1, 1), ("x", 1, 6), ("", 1, 7)]


def test_unterminated_double_quote_reported_at_opening_quote():
    lexed = tokenize('a = 1\nb = "abc\n}\n', "f.conf")
    assert [str(p) for p in lexed.problems] == ['f.conf:2:5: unterminated string: no closing " found']
    assert lexed.truncated is True
    assert [(t.kind, t.text) for t in lexed.tokens] == [
        (WORD, "a"), ("=", "="), (WORD, "1"), (WORD, "b"), ("=", "="), (EOF, ""),
    ]
    assert (lexed.tokens[-1].line, lexed.tokens[-1].col) == (4, 1)


def test_unterminated_single_quote():
    lexed = tokenize("x 'abc", "f.conf")
    assert [str(p) for p in lexed.problems] == ["f.conf:1:3: unterminated string: no closing ' found"]


def test_unterminated_comment_reported_at_its_start():
    lexed = tokenize("a = 1 /* b\nc", "f.conf")
    assert [str(p) for p in lexed.problems] == [
        "f.conf:1:7: unterminated comment: '/*' has no closing '*/'"]
    assert lexed.truncated is True
    assert [t.text for t in lexed.tokens] == ["a", "=", "1", ""]


def test_escaped_quote_at_end_does_not_close_string():
    lexed = tokenize('"abc\\"', "f.conf")
    assert [str(p) for p in lexed.problems] == ['f.conf:1:1: unterminated string: no closing " found']


def test_empty_and_whitespace_only_text():
    assert positions("") == [("", 1, 1)]
    assert positions("  \n\n ") == [("", 3, 2)]


def test_is_bare_word():
    assert is_bare_word("127.0.0.0/8") and is_bare_word("a/*b")
    for text in ["", "a b", "a=b", "a#b", "/*x", "a{", "'a", 'a"', "a\nb"]:
        assert not is_bare_word(text), text
