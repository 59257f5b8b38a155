"""Sieve lexer (RFC 5228 §2): source text to tokens with line and column.

Called by parser.py only. Handles ``#`` and ``/* */`` comments, quoted strings
(``\\"`` and ``\\\\`` escapes, any other backslash pair yields its second char),
``text:`` multi-line strings with dot-unstuffing, numbers with K/M/G quantifiers,
tags, identifiers and the Sieve++ ``$name`` variables and ``=``. Never interprets strings (variables, encoded characters):
that is the compiler's job.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import Loc, SieveCompileError

IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
IDENT_CHARS = IDENT_START | frozenset("0123456789")
PUNCT = frozenset("[],;{}()=")  # '=' only in Sieve++ assignments ($var = ...)
QUANTIFIERS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
MAX_NUMBER = (1 << 63) - 1


@dataclass(frozen=True)
class Token:
    """kind: ident, tag, number, string, var ($name, Sieve++), punct or eof; value: str or int."""

    kind: str
    value: object
    loc: Loc


class Lexer:
    """One pass over the text; ``tokens()`` returns the whole list ending with eof."""

    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def loc(self) -> Loc:
        return Loc(self.filename, self.line, self.pos - self.line_start + 1)

    def _error(self, message: str, loc: Loc | None = None) -> SieveCompileError:
        return SieveCompileError(message, loc or self.loc())

    def _newline_at(self, pos: int) -> None:
        self.line += 1
        self.line_start = pos + 1

    def tokens(self) -> list[Token]:
        out: list[Token] = []
        text, n = self.text, len(self.text)
        while True:
            self._skip_space_and_comments()
            if self.pos >= n:
                out.append(Token("eof", None, self.loc()))
                return out
            ch = text[self.pos]
            start = self.loc()
            if ch in PUNCT:
                self.pos += 1
                out.append(Token("punct", ch, start))
            elif ch == '"':
                out.append(Token("string", self._quoted(), start))
            elif ch == ":":
                self.pos += 1
                if self.pos >= n or text[self.pos] not in IDENT_START:
                    raise self._error("expected a tag name after ':'", start)
                out.append(Token("tag", self._identifier().lower(), start))
            elif ch == "$":
                self.pos += 1
                if self.pos >= n or text[self.pos] not in IDENT_START:
                    raise self._error("expected a variable name after '$'", start)
                out.append(Token("var", self._identifier().lower(), start))
            elif ch.isdigit() and ch.isascii():
                out.append(Token("number", self._number(start), start))
            elif ch in IDENT_START:
                word = self._identifier()
                if word.lower() == "text" and self.pos < n and text[self.pos] == ":":
                    self.pos += 1
                    out.append(Token("string", self._multiline(start), start))
                else:
                    out.append(Token("ident", word.lower(), start))
            else:
                raise self._error(f"unexpected character {ch!r}", start)

    def _skip_space_and_comments(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch == "\n":
                self._newline_at(self.pos)
                self.pos += 1
            elif ch in " \t\r":
                self.pos += 1
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif text.startswith("/*", self.pos):
                start = self.loc()
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self._error("unterminated /* comment", start)
                self._count_lines(self.pos, end)
                self.pos = end + 2
            else:
                return

    def _count_lines(self, start: int, end: int) -> None:
        nl = self.text.find("\n", start, end)
        while nl >= 0:
            self._newline_at(nl)
            nl = self.text.find("\n", nl + 1, end)

    def _identifier(self) -> str:
        start = self.pos
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in IDENT_CHARS:
            self.pos += 1
        return text[start:self.pos]

    def _number(self, start: Loc) -> int:
        begin = self.pos
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos].isdigit() and text[self.pos].isascii():
            self.pos += 1
        value = int(text[begin:self.pos])
        if self.pos < n and text[self.pos].upper() in QUANTIFIERS:
            value *= QUANTIFIERS[text[self.pos].upper()]
            self.pos += 1
        if value > MAX_NUMBER:
            raise self._error("number too large", start)
        return value

    def _quoted(self) -> str:
        start = self.loc()
        text, n = self.text, len(self.text)
        self.pos += 1
        parts: list[str] = []
        chunk_start = self.pos
        while True:
            if self.pos >= n:
                raise self._error("unterminated quoted string", start)
            ch = text[self.pos]
            if ch == '"':
                parts.append(text[chunk_start:self.pos])
                self.pos += 1
                return "".join(parts)
            if ch == "\\":
                parts.append(text[chunk_start:self.pos])
                if self.pos + 1 >= n:
                    raise self._error("unterminated quoted string", start)
                escaped = text[self.pos + 1]
                if escaped == "\n":
                    self._newline_at(self.pos + 1)
                parts.append(escaped)
                self.pos += 2
                chunk_start = self.pos
                continue
            if ch == "\n":
                self._newline_at(self.pos)
            self.pos += 1

    def _multiline(self, start: Loc) -> str:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in " \t":
            self.pos += 1
        if self.pos < n and text[self.pos] == "#":
            end = text.find("\n", self.pos)
            self.pos = n if end < 0 else end
        if self.pos < n and text[self.pos] == "\r":
            self.pos += 1
        if self.pos >= n or text[self.pos] != "\n":
            raise self._error("expected end of line after 'text:'", start)
        self._newline_at(self.pos)
        self.pos += 1
        lines: list[str] = []
        while True:
            if self.pos >= n:
                raise self._error("unterminated multi-line string (missing '.' line)", start)
            end = text.find("\n", self.pos)
            raw = text[self.pos:] if end < 0 else text[self.pos:end]
            line = raw[:-1] if raw.endswith("\r") else raw
            if end >= 0:
                self._newline_at(end)
            self.pos = n if end < 0 else end + 1
            if line == ".":
                return "".join(lines)
            if line.startswith(".."):
                line = line[1:]
            lines.append(line + "\r\n")


def tokenize(text: str, filename: str = "<script>") -> list[Token]:
    """Tokenize a whole script; raises SieveCompileError with file:line:col."""
    return Lexer(text, filename).tokens()
