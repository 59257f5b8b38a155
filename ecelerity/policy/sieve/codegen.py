"""Sieve code generation: a compiled closure tree turned into one Python function per script.

Called by compiler.compile_script once the reference closure tree is built (and
checked). The closures stay the reference semantics; this module only flattens the
*structure* around them: blocks become straight-line statements, if/elsif/else
chains native if/elif/else, allof/anyof/not native ``and``/``or``/``not``, and the
hottest leaves (single-name ``header``/``address``/``envelope``/``exists``, ``size``, ``ec_test $var`` and
``$var = ...`` into a plain local variable; a one-value header's :is/:contains, and
:matches "literal"/"prefix*suffix" as a prefilter before the capturing call) are
inlined from the shape their builder recorded on the closure (``sieve_shape``, see
shape()). Every other
command and test is called as the very closure the reference runs, so argument
handling, actions and runtime errors (with their file:line:col) are the same by
construction. Generated code never raises errors of its own: anything it cannot
express (an unknown shape, Python's own nesting limits) makes generate() return
None and the caller keeps the closure tree. Never reads a message at compile time.
"""
from __future__ import annotations

from typing import Any, Callable

from .matchers import _ASCII_LOWER

SHAPE = "sieve_shape"
MAX_DEPTH = 60   # Python refuses more than 100 indentation levels; stay well below


def shape(fn: Callable, *description: Any) -> Callable:
    """Record how codegen may inline ``fn`` (the builder's closure); returns ``fn``."""
    setattr(fn, SHAPE, description)
    return fn


class _Emitter:
    def __init__(self, name: str):
        self.name = name
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {}
        self.ids: dict[int, str] = {}
        self.uses_assign = False

    def const(self, value: Any, prefix: str = "k") -> str:
        """A global name in the generated module holding ``value`` (one per object)."""
        key = id(value)
        name = self.ids.get(key)
        if name is None:
            name = self.ids[key] = f"{prefix}{len(self.ids)}"
            self.namespace[name] = value
        return name

    # --- statements -----------------------------------------------------------
    def block(self, block: tuple, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _Unsupported("nesting")
        start = len(self.lines)
        for command in block:
            self.command(command, depth)
        if len(self.lines) == start:
            self.lines.append("    " * depth + "pass")

    def command(self, fn: Callable, depth: int) -> None:
        pad = "    " * depth
        desc = getattr(fn, SHAPE, None)
        kind = desc[0] if desc else None
        if kind == "if":
            keyword = "if"
            for test, body in desc[1]:
                if test is None:
                    self.lines.append(f"{pad}else:")
                else:
                    self.lines.append(f"{pad}{keyword} {self.test(test, depth)}:")
                self.block(body, depth + 1)
                keyword = "elif"
            return
        if kind == "seq":
            self.block(desc[1], depth)
            return
        if kind == "assign":
            self.assign(desc[1], desc[2], pad)
            return
        self.lines.append(f"{pad}{self.const(fn, 'c')}(rt)")

    def assign(self, target: str, value_fn: Callable, pad: str) -> None:
        """compiler._assignment's fast path, inline; anything else goes to rt.assign."""
        self.uses_assign = True
        t, v = repr(target), self.const(value_fn, "f")
        self.lines += [
            f"{pad}value = {v}(rt)",
            f"{pad}scope = rt.scope",
            f"{pad}if (value.__class__ is str and not rt.lists and not scope.global_names",
            f"{pad}        and len(value) * 4 <= max_size and ({t} in scope.variables",
            f"{pad}                                        or len(scope.variables) < max_vars)):",
            f"{pad}    scope.variables[{t}] = value",
            f"{pad}else:",
            f"{pad}    rt.assign({t}, value)",
        ]

    # --- tests (expressions) --------------------------------------------------
    def test(self, fn: Callable, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise _Unsupported("nesting")
        desc = getattr(fn, SHAPE, None)
        kind = desc[0] if desc else None
        if kind == "const":
            return "True" if desc[1] else "False"
        if kind == "not":
            return f"(not {self.test(desc[1], depth + 1)})"
        if kind in ("allof", "anyof"):
            joiner = " and " if kind == "allof" else " or "
            return "(" + joiner.join(self.test(t, depth + 1) for t in desc[1]) + ")"
        if kind in ("header1", "address1", "envelope1"):
            key, check_fn = repr(desc[1]), desc[-1]
            check = self.const(check_fn, "m")
            if kind == "header1":
                # a cached [] (no such field) is final too: no second call for it
                values = f"(_d if (_d := view.decoded.get({key})) is not None else view.header_values({key}))"
            else:
                method = "address_part_values" if kind == "address1" else "envelope_part_values"
                values = f"view.{method}({key}, {desc[2]!r})"
            one = self.one_header(check_fn)
            if one is None:
                return f"{check}(rt, {values})"
            # the condition of ``a if c else b`` runs first: it binds _h (then _v/_f)
            return f"({one} if len(_h := {values}) == 1 else {check}(rt, _h))"
        if kind == "exists1":
            return f"view.has_key({desc[1]!r})"
        if kind == "size":  # MessageView.size's cached value read inline
            return (f"((_s if (_s := view._size) is not None else view.size)"
                    f" {'>' if desc[1] == 'over' else '<'} {int(desc[2])})")
        if kind == "testvar":
            name, check = repr(desc[1]), self.const(desc[2], "m")
            return (f"({check}(rt, rt.get_values({name})) if rt.lists or rt.scope.global_names "
                    f"else {self.one_value(desc[2], f'rt.scope.variables.get({name}, {chr(39) * 2})')})")
        return f"{self.const(fn, 't')}(rt)"


    def one_header(self, check: Callable) -> str | None:
        """``check(rt, _h)`` for a one-element ``_h``, inline (None: no inline form).

        :is is a set lookup, :contains substring tests on the folded value, and
        :matches with "literal"/"prefix*suffix" keys an exact prefilter that calls
        the check (which stores the captures) only when a key matches.
        """
        desc = getattr(check, SHAPE, None)
        kind = desc[0] if desc else None
        if kind == "in":
            return self.one_value(check, "_h[0]")
        if kind not in ("contains", "globs") or (kind == "globs" and desc[2] is None):
            return None
        if desc[1]:
            self.namespace["_ascii_lower"] = _ASCII_LOWER
            folded = "(_f := (_v.lower() if (_v := _h[0]).isascii() else _v.translate(_ascii_lower)))"
        else:
            folded = "(_f := _h[0])"
        if kind == "contains":
            tests = [f"{self.const(needle, 'n')} in _f" for needle in desc[2]]
            return f"({folded} is not None and ({' or '.join(tests) or 'False'}))"
        tests = []
        for prefix, suffix in desc[2]:
            p = self.const(prefix, "n")
            if suffix is None:
                tests.append(f"_f == {p}")
            else:
                s = self.const(suffix, "n")
                tests.append(f"(len(_f) >= {len(prefix) + len(suffix)} and _f.startswith({p})"
                             f" and _f.endswith({s}))")
        return (f"({self.const(check, 'm')}(rt, _h) if ({folded} is not None and "
                f"({' or '.join(tests) or 'False'})) else False)")

    def one_value(self, check: Callable, value: str) -> str:
        """``check(rt, [value])``; an :is check inlined as a set lookup (match_compile.py)."""
        desc = getattr(check, SHAPE, None)
        if desc and desc[0] == "in":
            keys = self.const(desc[2], "s")
            if desc[1] == "octet":
                return f"({value} in {keys})"
            self.namespace["_ascii_lower"] = _ASCII_LOWER
            # the condition of ``a if c else b`` runs first: it binds _v
            return (f"((_v.lower() if (_v := {value}).isascii() else _v.translate(_ascii_lower))"
                    f" in {keys})")
        return f"{self.const(check, 'm')}(rt, [{value}])"


class _Unsupported(Exception):
    pass


def generate(name: str, block: tuple) -> Callable | None:
    """``run(rt)`` for the top-level ``block``, or None if it cannot be generated."""
    emitter = _Emitter(name)
    try:
        emitter.block(block, 1)
        head = ["def run(rt):", "    view = rt.message"]
        if emitter.uses_assign:
            head.append("    max_size, max_vars = rt.limits.max_variable_size, rt.limits.max_variables")
        source = "\n".join(head + emitter.lines) + "\n"
        code = compile(source, f"<sieve codegen {name}>", "exec")
        namespace = dict(emitter.namespace)
        exec(code, namespace)  # noqa: S102 - source built above from closures and repr()s only
    except (_Unsupported, SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):
        return None
    run = namespace["run"]
    run.sieve_source = source
    return run


__all__ = ["generate", "shape"]
