"""Error bookkeeping and recovery for the ecelerity.conf parser.

Who calls it: parser.py (its FileParser inherits ErrorRecovery through ValueParser)
and includes.py (one ProblemSink per whole parse, TooManyErrors). Here live the
error budget (MAX_ERRORS), the markers a value parse returns instead of a value
(BROKEN: its error is already reported; MISSING: no value token), and the skipping
that lets the parser go on after an error, so one mistake gives one error. It never
builds the tree and never raises anything but TooManyErrors (the budget is spent).
"""
from __future__ import annotations

from .errors import ConfigProblem
from .lexer import EOF, Token
from .tree import Location

MAX_ERRORS = 50

BROKEN = object()  # a value whose error was already reported
MISSING = object()  # no value token where one was expected
OPENERS = ("(", "[")
CLOSERS = (")", "]")


class TooManyErrors(Exception):
    """Internal: the error budget is spent; parse_text turns it into ConfigError."""


class ProblemSink:
    """The problems of one whole parse (all files), capped at MAX_ERRORS."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def error(self, loc: Location | None, message: str) -> None:
        self.problems.append(ConfigProblem(loc, message))
        if len(self.problems) >= MAX_ERRORS:
            self.problems.append(ConfigProblem(None, f"too many errors ({MAX_ERRORS}); stopping"))
            raise TooManyErrors



class ErrorRecovery:
    """The recovery half of FileParser (parser.py sets the attributes in its __init__)."""

    tokens: list[Token]
    truncated: bool
    sink: ProblemSink
    pos: int
    eof_reported: bool

    def at_truncated_eof(self) -> bool:
        """True at an end of file the lexer caused (its error already explains it)."""
        return self.truncated and self.tokens[self.pos].kind == EOF

    def report_eof(self, eof: Token, opener: Token) -> None:
        if not self.eof_reported:
            self.eof_reported = True
            self.sink.error(eof.loc, f"unexpected end of file: '{opener.kind}' opened at "
                            f"{opener.loc} is not closed")

    def report_unclosed(self, tok: Token, opener: Token, what: str) -> object:
        if tok.kind == EOF:
            self.report_eof(tok, opener)
        else:
            self.sink.error(tok.loc, f"unexpected '{tok.kind}' in {what}: '{opener.kind}' "
                            f"opened at {opener.loc} is not closed")
        return BROKEN

    def abandon_group(self) -> object:
        """Skip to the end of the list/dict we are in; stop before braces and EOF."""
        tokens = self.tokens
        depth = 0
        while True:
            kind = tokens[self.pos].kind
            if kind in ("{", "}", EOF):
                return BROKEN
            self.pos += 1
            if kind in OPENERS:
                depth += 1
            elif kind in CLOSERS:
                if depth == 0:
                    return BROKEN
                depth -= 1


    def sync(self, line: int) -> None:
        """Skip the tokens left on ``line`` (whole groups opened there); keep ``}``/EOF."""
        tokens = self.tokens
        while True:
            tok = tokens[self.pos]
            if tok.kind == "}" or tok.kind == EOF or tok.line != line:
                return
            if tok.kind == "{":
                self.skip_braces()
            elif tok.kind in OPENERS:
                self.pos += 1
                self.abandon_group()
            else:
                self.pos += 1

    def skip_braces(self) -> None:
        """Skip a ``{ ... }`` group without parsing it (iterative: any depth is safe)."""
        tokens = self.tokens
        opener = tokens[self.pos]
        depth = 0
        while True:
            tok = tokens[self.pos]
            if tok.kind == EOF:
                self.report_eof(tok, opener)
                return
            self.pos += 1
            if tok.kind == "{":
                depth += 1
            elif tok.kind == "}":
                depth -= 1
                if depth == 0:
                    return
