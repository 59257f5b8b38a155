"""Values of ecelerity.conf settings: scalars, ``( lists )`` and ``[ dictionaries ]``.

Who calls it: parser.py's FileParser inherits ValueParser and calls ``value()`` after
an option name (or its ``=``). A value parse returns a tree Value, or the markers of
parser_recovery.py: MISSING when no value starts here, BROKEN when an error was
reported (the position is then past the broken group). It never decides what a
statement is and never raises anything but TooManyErrors (through the sink).
"""
from __future__ import annotations

from .lexer import EOF, STRING, WORD
from .parser_recovery import BROKEN, MISSING, OPENERS, ErrorRecovery
from .tree import DictValue, ListValue, Location, Scalar, Value


class ValueParser(ErrorRecovery):
    """The value half of FileParser."""

    def value(self) -> Value | object:
        tok = self.tokens[self.pos]
        if tok.kind == WORD or tok.kind == STRING:
            self.pos += 1
            return Scalar(tok.text, tok.kind == STRING, tok.loc)
        if tok.kind == "(":
            return self.list_value()
        if tok.kind == "[":
            return self.dict_value()
        return MISSING

    def list_value(self) -> ListValue | object:
        tokens = self.tokens
        opener = tokens[self.pos]
        self.pos += 1
        items: list[Value] = []
        while True:
            tok = tokens[self.pos]
            kind = tok.kind
            if kind == WORD or kind == STRING:
                items.append(Scalar(tok.text, kind == STRING, tok.loc))
                self.pos += 1
            elif kind == ")":
                self.pos += 1
                return ListValue(items, opener.loc)
            elif kind in OPENERS:
                self.sink.error(tok.loc, "a list cannot contain a list or dictionary")
                return self.abandon_group()
            elif kind == "=":
                self.sink.error(tok.loc, "unexpected '=' in list (a dictionary is written [ key = value ])")
                return self.abandon_group()
            elif kind == "]":
                self.sink.error(tok.loc, "unexpected ']' in list")
                return self.abandon_group()
            else:  # { } or end of file
                return self.report_unclosed(tok, opener, "list")

    def dict_value(self) -> DictValue | object:
        tokens = self.tokens
        opener = tokens[self.pos]
        self.pos += 1
        items: list[tuple[str, Value, Location]] = []
        while True:
            tok = tokens[self.pos]
            kind = tok.kind
            if kind == "]":
                self.pos += 1
                return DictValue(items, opener.loc)
            if kind in ("{", "}", EOF):
                return self.report_unclosed(tok, opener, "dictionary")
            if kind != WORD and kind != STRING:
                self.sink.error(tok.loc, f"unexpected '{kind}' in dictionary: expected a key")
                return self.abandon_group()
            if tok.text == "":
                self.sink.error(tok.loc, "empty key in dictionary")
                return self.abandon_group()
            self.pos += 1
            if tokens[self.pos].kind == "=":
                self.pos += 1
            vtok = tokens[self.pos]
            if vtok.kind == WORD or vtok.kind == STRING:
                self.pos += 1
                items.append((tok.text, Scalar(vtok.text, vtok.kind == STRING, vtok.loc), tok.loc))
            elif vtok.kind == "(":
                value = self.list_value()
                if value is BROKEN:
                    return self.abandon_group()
                items.append((tok.text, value, tok.loc))
            elif vtok.kind == "[":
                self.sink.error(vtok.loc, "a dictionary value cannot be a dictionary")
                return self.abandon_group()
            elif self.at_truncated_eof():
                return BROKEN
            else:
                self.sink.error(tok.loc, f"key '{tok.text}' in dictionary has no value")
                return self.abandon_group()
