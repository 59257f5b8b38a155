"""Sieve parser (RFC 5228 §8 grammar): tokens to an ast.Script.

Called by compiler.py. Knows the grammar only (plus the Sieve++ ``$var = ...;`` assignment), not which commands or extensions
exist. Enforces the structural limits (nesting depth, string-list size, script
size) so hostile input fails fast with a located SieveCompileError.
"""
from __future__ import annotations

from .ast import Arg, Command, NumberArg, Script, StringArg, TagArg, Test
from .errors import DEFAULT_LIMITS, Limits, Loc, SieveCompileError
from .lexer import Token, tokenize


class Parser:
    def __init__(self, tokens: list[Token], limits: Limits):
        self.tokens = tokens
        self.pos = 0
        self.limits = limits
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != "eof":
            self.pos += 1
        return tok

    def is_punct(self, ch: str) -> bool:
        tok = self.tokens[self.pos]
        return tok.kind == "punct" and tok.value == ch

    def expect_punct(self, ch: str, what: str) -> Token:
        tok = self.take()
        if tok.kind != "punct" or tok.value != ch:
            raise SieveCompileError(f"expected '{ch}' {what}, found {describe(tok)}", tok.loc)
        return tok

    def enter(self, loc: Loc) -> None:
        self.depth += 1
        if self.depth > self.limits.max_nesting:
            raise SieveCompileError(
                f"nesting too deep (limit {self.limits.max_nesting} levels)", loc)

    def script(self) -> list[Command]:
        commands = self.commands()
        tok = self.peek()
        if tok.kind != "eof":
            raise SieveCompileError(f"unexpected {describe(tok)}", tok.loc)
        return commands

    def commands(self) -> list[Command]:
        out: list[Command] = []
        while self.peek().kind in ("ident", "var"):
            out.append(self.assignment() if self.peek().kind == "var" else self.command())
        return out

    def assignment(self) -> Command:
        """Sieve++ ``$name = function args;`` or ``$name = "string" | number | $other;``."""
        var_tok = self.take()
        self.expect_punct("=", f"after '${var_tok.value}'")
        tok = self.peek()
        if tok.kind == "ident":
            self.take()
            args, tests, test_list = self.arguments()
            value = [Test(tok.value, args, tests, tok.loc, test_list)]
            command = Command("=", [], value, None, var_tok.loc, assign_to=var_tok.value)
        else:
            args, tests, _ = self.arguments()
            if len(args) != 1 or tests:
                raise SieveCompileError(
                    f"'${var_tok.value} =' needs one value (a string, number, variable or function call)",
                    tok.loc)
            command = Command("=", args, [], None, var_tok.loc, assign_to=var_tok.value)
        self.expect_punct(";", f"after the assignment to '${var_tok.value}'")
        return command

    def command(self) -> Command:
        name_tok = self.take()
        args, tests, test_list = self.arguments()
        tok = self.peek()
        if tok.kind == "punct" and tok.value == ";":
            self.take()
            return Command(name_tok.value, args, tests, None, name_tok.loc, test_list)
        if tok.kind == "punct" and tok.value == "{":
            self.take()
            self.enter(tok.loc)
            block = self.commands()
            self.expect_punct("}", f"to close the block of '{name_tok.value}'")
            self.depth -= 1
            return Command(name_tok.value, args, tests, block, name_tok.loc, test_list)
        raise SieveCompileError(
            f"expected ';' or '{{' after command '{name_tok.value}', found {describe(tok)}", tok.loc)

    def arguments(self) -> tuple[list[Arg], list[Test], bool]:
        args: list[Arg] = []
        while True:
            tok = self.peek()
            if tok.kind == "string":
                self.take()
                args.append(StringArg([tok.value], tok.loc))
            elif tok.kind == "number":
                self.take()
                args.append(NumberArg(tok.value, tok.loc))
            elif tok.kind == "tag":
                self.take()
                args.append(TagArg(tok.value, tok.loc))
            elif tok.kind == "var":
                self.take()
                args.append(StringArg(["${" + tok.value + "}"], tok.loc, dollar=True))
            elif tok.kind == "punct" and tok.value == "[":
                args.append(self.string_list())
            else:
                break
        tok = self.peek()
        if tok.kind == "ident":
            return args, [self.test()], False
        if tok.kind == "punct" and tok.value == "(":
            return args, self.test_list(), True
        return args, [], False

    def string_list(self) -> StringArg:
        open_tok = self.take()
        values: list[str] = []
        while True:
            tok = self.take()
            if tok.kind != "string":
                raise SieveCompileError(f"expected a string in string list, found {describe(tok)}", tok.loc)
            values.append(tok.value)
            if len(values) > self.limits.max_string_list:
                raise SieveCompileError(
                    f"string list too long (limit {self.limits.max_string_list} items)", open_tok.loc)
            tok = self.take()
            if tok.kind == "punct" and tok.value == "]":
                return StringArg(values, open_tok.loc, bracketed=True)
            if not (tok.kind == "punct" and tok.value == ","):
                raise SieveCompileError(f"expected ',' or ']' in string list, found {describe(tok)}", tok.loc)

    def test(self) -> Test:
        tok = self.take()
        if tok.kind != "ident":
            raise SieveCompileError(f"expected a test, found {describe(tok)}", tok.loc)
        self.enter(tok.loc)
        args, tests, test_list = self.arguments()
        self.depth -= 1
        return Test(tok.value, args, tests, tok.loc, test_list)

    def test_list(self) -> list[Test]:
        open_tok = self.take()
        self.enter(open_tok.loc)
        tests = [self.test()]
        while self.is_punct(","):
            self.take()
            tests.append(self.test())
        self.expect_punct(")", "to close the test list")
        self.depth -= 1
        return tests


def describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "end of script"
    if tok.kind == "string":
        return "a string"
    if tok.kind == "tag":
        return f"tag ':{tok.value}'"
    if tok.kind == "var":
        return f"variable '${tok.value}'"
    return f"'{tok.value}'"


def parse_script(text: str, filename: str = "<script>", limits: Limits = DEFAULT_LIMITS) -> Script:
    """Parse a whole script; raises SieveCompileError (file:line:col) on any error."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_script_size:
        raise SieveCompileError(
            f"script too large (limit {limits.max_script_size} bytes)", Loc(filename, 1, 1))
    return Script(Parser(tokenize(text, filename), limits).script(), filename)
