"""Parser for ecelerity.conf: tokens in, a tree.py Stanza tree out, includes spliced.

Called by the config loader (parse_file / parse_text); render_config (the
reverse, in render.py) is re-exported here. It knows the statement grammar only: which
options and stanzas exist is validate.py's business. It never raises anything
but ConfigError for bad input, and reports every error it can recover from
(at most MAX_ERRORS) with file:line:col. Statements are parsed here; values in
parser_values.py, error bookkeeping and recovery in parser_recovery.py (FileParser
inherits both; includes.py gets ProblemSink and TooManyErrors through this module).

Grammar (whitespace and newlines insignificant): read a word W; ``W = value``
is a setting; ``W {`` an anonymous stanza; ``W V {`` (V a scalar) a named
stanza; ``W V`` a setting without ``=``. Values are scalars, lists
``( a "b" )`` of scalars, or dictionaries ``[ k = v  k2 v2 ]`` whose values are
scalars or lists. ``include``/``readonly_include`` splice the statements of a
file (or of every non-dot regular file of a directory, alphabetically) into the
current stanza; ecelerity/config/includes.py resolves them (search order,
recursion, readonly marking) and calls back into this parser for each file.

Error conventions: an unclosed ``{ ( [`` is reported where the parser meets the
end of the file (or the brace that cannot belong to a list), naming where it was
opened; only the innermost unclosed brace is reported. After an error inside a
statement the parser skips the rest of that line (balanced groups included)
and goes on with the next statement, so one mistake gives one error. Since
newlines do not end statements, two layout hints keep errors where the mistake
is: in ``opt =\n other = 1`` and ``opt\n other = 1`` (a scalar on a later line
followed by ``=``, or a bare ``include`` keyword) ``opt`` lacks a value and
``other`` starts the next statement; ``opt = v\n{`` is a complete setting
followed by a nameless ``{``.
"""
from __future__ import annotations

from typing import Callable

from .errors import ConfigError
from .lexer import EOF, STRING, WORD, Lexed, Token
from .parser_recovery import BROKEN, MAX_ERRORS, MISSING, ProblemSink, TooManyErrors
from .parser_values import ValueParser
from .render import render_config
from .tree import ListValue, Scalar, Setting, Stanza, Value

MAX_DEPTH = 100  # stanza nesting plus include nesting
INCLUDE_KEYWORDS = {"include": False, "readonly_include": True}  # keyword -> readonly

# include(stanza, keyword_token, path_scalar, readonly, depth) -> None
IncludeHandler = Callable[[Stanza, Token, Scalar, bool, int], None]


class FileParser(ValueParser):
    """Parses the tokens of one file into an existing stanza (the file's top level)."""

    def __init__(self, lexed: Lexed, sink: ProblemSink, include: IncludeHandler,
                 readonly: bool = False) -> None:
        self.tokens = lexed.tokens
        self.truncated = lexed.truncated
        self.sink = sink
        self.include = include
        self.readonly = readonly
        self.pos = 0
        self.eof_reported = lexed.truncated  # the lexer already explained the early end

    def parse_into(self, stanza: Stanza, depth: int = 0) -> None:
        self.block(stanza, None, depth)

    # -- statements -------------------------------------------------------------------

    def block(self, stanza: Stanza, opener: Token | None, depth: int) -> None:
        """Statements up to the ``}`` matching ``opener`` (None: up to end of file)."""
        tokens = self.tokens
        while True:
            tok = tokens[self.pos]
            kind = tok.kind
            if kind == WORD or kind == STRING:
                self.statement(stanza, depth)
            elif kind == "}":
                self.pos += 1
                if opener is not None:
                    return
                self.sink.error(tok.loc, "unexpected '}' (no stanza is open)")
            elif kind == EOF:
                if opener is not None:
                    self.report_eof(tok, opener)
                return
            elif kind == "{":
                self.sink.error(tok.loc, "'{' without a stanza name")
                self.discard_block(depth)
            else:
                self.sink.error(tok.loc, f"unexpected '{kind}': expected an option or stanza name")
                self.sync(tok.line)

    def statement(self, stanza: Stanza, depth: int) -> None:
        tokens = self.tokens
        name_tok = tokens[self.pos]
        name = name_tok.text
        self.pos += 1
        if name == "":
            self.sink.error(name_tok.loc, "empty option name")
            self.sync(name_tok.line)
            return
        nxt = tokens[self.pos]
        if nxt.kind == "=":
            self.pos += 1
            value_start = self.pos
            value = self.value()
            if value is MISSING:
                if self.at_truncated_eof():
                    return
                self.sink.error(nxt.loc, f"'=' without a value for option '{name}'")
                self.skip_after_error(nxt.line)
                return
            if value is BROKEN:
                self.skip_after_error(None)
                return
            after = tokens[self.pos]
            if after.kind == "{" and after.line > tokens[self.pos - 1].line:
                # "opt = v\n{": a complete setting; the block loop reports the nameless '{'.
                self.add_setting(stanza, name_tok, value, depth)
                return
            if after.kind == "{":
                self.sink.error(after.loc, f"unexpected '{{' after '{name} = ...': "
                                f"a stanza is written 'Kind name {{' without '='")
                self.discard_block(depth)
                return
            if self.value_is_next_statement(value, nxt):
                # "opt =\n other = 1": the '=' lacks its value; "other" starts a statement.
                self.sink.error(nxt.loc, f"'=' without a value for option '{name}'")
                self.pos = value_start
                return
            self.add_setting(stanza, name_tok, value, depth)
            return
        if nxt.kind == "{":
            self.open_stanza(stanza, name_tok, None, depth)
            return
        value_start = self.pos
        value = self.value()
        if value is MISSING:
            if self.at_truncated_eof():
                return
            self.sink.error(name_tok.loc, f"option '{name}' has no value")
            self.sync(name_tok.line)
            return
        if value is BROKEN:
            self.skip_after_error(None)
            return
        after = tokens[self.pos]
        if after.kind == "{":
            if isinstance(value, Scalar):
                self.open_stanza(stanza, name_tok, value, depth)
            else:
                what = "list" if isinstance(value, ListValue) else "dictionary"
                self.sink.error(after.loc, f"unexpected '{{' after a {what} value: "
                                "a stanza name must be a single word or string")
                self.discard_block(depth)
            return
        if self.value_is_next_statement(value, name_tok):
            # "opt\n other = 1": the value-less option is the mistake, not the '='.
            self.sink.error(name_tok.loc, f"option '{name}' has no value")
            self.pos = value_start
            return
        self.add_setting(stanza, name_tok, value, depth)

    def value_is_next_statement(self, value: Value, before: Token) -> bool:
        """A scalar on a later line that is followed by '=', or is a bare include
        keyword, starts the next statement: the option before it lacks a value."""
        if not isinstance(value, Scalar) or value.loc.line <= before.line:
            return False
        return self.tokens[self.pos].kind == "=" or (
            not value.quoted and value.text.lower() in INCLUDE_KEYWORDS)

    def add_setting(self, stanza: Stanza, name_tok: Token, value: Value, depth: int) -> None:
        readonly = INCLUDE_KEYWORDS.get(name_tok.text.lower())
        if readonly is None:
            stanza.settings.append(Setting(name_tok.text, value, name_tok.loc, self.readonly))
        elif not isinstance(value, Scalar) or value.text == "":
            self.sink.error(value.loc, f"'{name_tok.text}' needs a file name")
        else:
            self.include(stanza, name_tok, value, readonly or self.readonly, depth + 1)

    def open_stanza(self, parent: Stanza, kind_tok: Token, name: Scalar | None, depth: int) -> None:
        brace = self.tokens[self.pos]
        if kind_tok.text.lower() in INCLUDE_KEYWORDS:
            self.sink.error(brace.loc, f"unexpected '{{' after '{kind_tok.text}': "
                            "it takes a file name, not a block")
            self.discard_block(depth)
            return
        if name is not None and name.text == "":
            self.sink.error(name.loc, f"empty name for stanza '{kind_tok.text}'")
        if depth + 1 > MAX_DEPTH:
            self.sink.error(brace.loc, f"stanzas and includes nested too deeply (limit {MAX_DEPTH})")
            self.skip_braces()
            return
        child = Stanza(kind=kind_tok.text.lower(), spelling=kind_tok.text,
                       name=None if name is None else name.text, loc=kind_tok.loc,
                       parent=parent, readonly=self.readonly)
        parent.children.append(child)
        self.pos += 1
        self.block(child, brace, depth + 1)

    def skip_after_error(self, line: int | None) -> None:
        """After a reported error: swallow a following block, else the rest of ``line``."""
        if self.tokens[self.pos].kind == "{":
            self.discard_block(0)
        elif line is not None:
            self.sync(line)


    def discard_block(self, depth: int) -> None:
        """Parse a misplaced ``{ ... }`` into a throw-away stanza, reporting errors inside it."""
        brace = self.tokens[self.pos]
        if depth + 1 > MAX_DEPTH:
            self.skip_braces()
            return
        self.pos += 1
        self.block(Stanza("<discarded>", "<discarded>", None, brace.loc), brace, depth + 1)


def parse_text(text: str, filename: str = "<string>", *,
               search_path: list[str] | None = None) -> Stanza:
    """Parse configuration text; relative includes resolve from ``filename``'s directory."""
    from .includes import IncludeSession

    return IncludeSession(search_path).parse_root_text(text, filename)


def parse_file(path: str, *, search_path: list[str] | None = None) -> Stanza:
    """Read and parse a configuration file (UTF-8); ConfigError for any problem."""
    from .includes import IncludeSession

    return IncludeSession(search_path).parse_root_file(path)


def parse_tokens(lexed: Lexed, root: Stanza, sink: ProblemSink, include: IncludeHandler,
                 *, readonly: bool = False, depth: int = 0) -> None:
    """Parse one file's tokens into ``root`` (used by includes.py for every file)."""
    FileParser(lexed, sink, include, readonly).parse_into(root, depth)
    for problem in lexed.problems:  # lexer problems sit at the end of the file
        sink.error(problem.loc, problem.message)


__all__ = ["ConfigError", "parse_file", "parse_text", "parse_tokens", "render_config", "MAX_ERRORS",
           "MAX_DEPTH", "INCLUDE_KEYWORDS", "ProblemSink", "TooManyErrors", "FileParser"]
