"""Tokenizer for ecelerity.conf: text in, tokens with file:line:col out.

Called only by ecelerity/config/parser.py, once per file (the parser reads
include files itself). It knows characters, not grammar: it never decides what
a word means, never touches the file system, and never raises for bad input;
it reports problems (unterminated string or comment) in its result.

Lexical rules, as implemented:
- Lines and columns are 1-based and count code points. A tab is one column.
  Only LF ends a line: CRLF works (the CR is whitespace), a lone CR does not
  start a new line.
- ``#`` starts a comment that runs to the end of the line. ``/* ... */`` is a
  comment that does not nest. ``/*`` opens a comment only at the start of a
  token: inside a bare word it is plain text (``/var/spool/*`` stays one word).
- ``"..."`` strings understand ``\\"``, ``\\\\``, ``\\n`` and ``\\t``; any other
  backslash sequence is kept as written (so regex domains like ``"/a\\.b/"`` keep
  their backslashes). ``'...'`` strings take every character literally. Both may
  span lines. An unterminated string or comment is reported at its opening
  character and ends tokenizing (``Lexed.truncated``).
- Punctuation tokens: ``{ } ( ) [ ] =``. A bare word is a run of anything that is
  not whitespace, punctuation, a quote or ``#``: ``127.0.0.0/8``, ``:25``,
  ``/tmp/2025``, ``0640``, ``60/3``, ``*.example.com`` are all single words.
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .errors import ConfigProblem
from .tree import Location

WORD = "word"  # bare word
STRING = "string"  # quoted string, text unescaped
EOF = "eof"
PUNCTUATION = frozenset("{}()[]=")  # each is its own token kind


class Token(NamedTuple):
    kind: str  # WORD, STRING, EOF or the punctuation character itself
    text: str  # unescaped content for STRING, the word for WORD, "" for EOF
    file: str
    line: int
    col: int

    @property
    def loc(self) -> Location:
        return Location(self.file, self.line, self.col)


class Lexed(NamedTuple):
    tokens: list[Token]  # always ends with an EOF token
    problems: list[ConfigProblem]
    truncated: bool  # True when an unterminated string/comment swallowed the rest


_BARE_CHAR = r"""[^\s{}()\[\]="'#]"""
# Group numbers matter: the loop below dispatches on m.lastindex.
_TOKEN_RE = re.compile(
    r"(\s+)"  # 1 whitespace (may hold newlines)
    r"|(#[^\n]*)"  # 2 line comment
    r"|(/\*.*?\*/)"  # 3 block comment (may hold newlines)
    r'|("[^"\\]*(?:\\.[^"\\]*)*")'  # 4 double-quoted string
    r"|('[^']*')"  # 5 single-quoted string
    r"|([{}()\[\]=])"  # 6 punctuation
    r"|(/\*)"  # 7 unterminated block comment
    r"""|(["'])"""  # 8 unterminated string
    r"|(" + _BARE_CHAR + r"+)",  # 9 bare word
    re.S,
)
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}
_MULTILINE_GROUPS = (1, 3, 4, 5)


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return _ESCAPE_RE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def tokenize(text: str, filename: str = "<string>") -> Lexed:
    """Split ``text`` into tokens; problems are returned, never raised."""
    tokens: list[Token] = []
    problems: list[ConfigProblem] = []
    append = tokens.append
    match = _TOKEN_RE.match
    pos, end = 0, len(text)
    line, line_start = 1, 0
    truncated = False
    while pos < end:
        m = match(text, pos)
        group = m.lastindex if m is not None else 9
        stop = m.end() if m is not None else pos + 1
        col = pos - line_start + 1
        if group == 9:
            append(Token(WORD, text[pos:stop], filename, line, col))
        elif group == 6:
            char = text[pos]
            append(Token(char, char, filename, line, col))
        elif group == 4:
            append(Token(STRING, _unescape(text[pos + 1 : stop - 1]), filename, line, col))
        elif group == 5:
            append(Token(STRING, text[pos + 1 : stop - 1], filename, line, col))
        elif group == 7:
            problems.append(ConfigProblem(
                Location(filename, line, col), "unterminated comment: '/*' has no closing '*/'"))
            truncated = True
            break
        elif group == 8:
            quote = text[pos]
            problems.append(ConfigProblem(
                Location(filename, line, col), f"unterminated string: no closing {quote} found"))
            truncated = True
            break
        if group in _MULTILINE_GROUPS:
            newlines = text.count("\n", pos, stop)
            if newlines:
                line += newlines
                line_start = text.rfind("\n", pos, stop) + 1
        pos = stop
    if truncated:
        # The swallowed rest of the text still moves the end-of-file position.
        line += text.count("\n", pos)
        last_newline = text.rfind("\n", pos)
        if last_newline >= 0:
            line_start = last_newline + 1
    append(Token(EOF, "", filename, line, end - line_start + 1))
    return Lexed(tokens, problems, truncated)


def is_bare_word(text: str) -> bool:
    """True when ``text`` can be written without quotes and reads back as one word."""
    return bool(text) and _BARE_WORD_RE.fullmatch(text) is not None and not text.startswith("/*")


_BARE_WORD_RE = re.compile(_BARE_CHAR + "+")
