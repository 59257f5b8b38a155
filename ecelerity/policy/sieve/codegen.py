"""Sieve code generation: a compiled closure tree turned into one Python function per script.

Called by compiler.compile_script once the reference closure tree is built (and
checked). The closures stay the reference semantics; this module only flattens the
*structure* around them: blocks become straight-line statements, if/elsif/else
chains native if/elif/else, allof/anyof/not native ``and``/``or``/``not``, and the
hottest leaves (single-name ``header``/``address``/``envelope``/``exists``, ``size``, ``ec_test $var`` and
``$var = ...`` into a plain local variable; a one-value header's :is/:contains, and
:matches "literal"/"prefix*suffix" and :regex "^literal..." as prefilters before the
capturing call; casemap folds that copy nothing for lower-case ASCII values) are
inlined from the shape their builder recorded on the closure (``sieve_shape``, see
shape()). Also inline: the MessageView caches (decoded values, addresses, envelope
parts, the header index, and a one-field header's i;ascii-casemap folded value,
MessageView.fold_one, shared by every rule reading it), a one-value i;ascii-numeric
``:value``, constant-name ``vctx_*_get`` and ``ec_throttle_check/create/inc/dec``
(when the host has its cache; the closure otherwise), and ``$x = ...; if ec_test ... $x``
tests the value the fast path just stored. Every other
command and test is called as the very closure the reference runs, so argument
handling, actions and runtime errors (with their file:line:col) are the same by
construction. Generated code never raises errors of its own: anything it cannot
express (an unknown shape, Python's own nesting limits) makes generate() return
None and the caller keeps the closure tree. Never reads a message at compile time.
"""
from __future__ import annotations

from typing import Any, Callable

from .matchers import _ASCII_LOWER, numeric_value

SHAPE = "sieve_shape"
_PY_OPS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
MAX_DEPTH = 60   # Python refuses more than 100 indentation levels; stay well below
# i;ascii-casemap of ``{}`` (bound to _v first); lower-case ASCII is its own fold: no copy
FOLD_V = "((_v if _v.islower() else _v.lower()) if (_v := {}).isascii() else _v.translate(_ascii_lower))"


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
        self.assigned: str | None = None  # the variable the previous statement assigned

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
        self.assigned = None  # a branch's assignment may not have run: never carried over
        for command in block:
            self.command(command, depth)
        self.assigned = None
        if len(self.lines) == start:
            self.lines.append("    " * depth + "pass")

    def command(self, fn: Callable, depth: int) -> None:
        pad = "    " * depth
        desc = getattr(fn, SHAPE, None)
        kind = desc[0] if desc else None
        assigned, self.assigned = self.assigned, None
        if kind == "if":
            keyword = "if"
            for test, body in desc[1]:
                if test is None:
                    self.lines.append(f"{pad}else:")
                elif keyword == "if" and assigned is not None and self._tests_var(test, assigned):
                    # ``$x = ...; if ec_test :is $x ...``: the fast path just stored ``value``
                    self.lines.append(f"{pad}if ({self.one_value(getattr(test, SHAPE)[2], 'value')} "
                                      f"if fast else {self.test(test, depth)}):")
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
            self.assigned = desc[1]
            return
        if kind == "call":  # a function used as a statement: its value is dropped
            fn = desc[1]
            inner = getattr(fn, SHAPE, None)
            if (inner and inner[0] == "throttle_call" and inner[1] in ("throttles", "shared_throttles")
                    and inner[2] in ("create", "add")):
                # ThrottleCache.create/add called inline when the host has its cache
                self.lines += [
                    f"{pad}if (_hv := rt.host) is not None and (_tc := _hv.{inner[1]}) is not None:",
                    f"{pad}    _tc.{inner[2]}({', '.join(repr(a) for a in inner[3])})",
                    f"{pad}else:",
                    f"{pad}    {self.const(fn, 'c')}(rt)",
                ]
                return
        self.lines.append(f"{pad}{self.const(fn, 'c')}(rt)")

    @staticmethod
    def _tests_var(test: Callable, name: str) -> bool:
        desc = getattr(test, SHAPE, None)
        return bool(desc) and desc[0] == "testvar" and desc[1] == name

    def value(self, value_fn: Callable) -> str:
        """``value_fn(rt)``; a constant-name vctx read or throttle check inline (the
        closure is still called when there is no host, so its located error stays)."""
        desc = getattr(value_fn, SHAPE, None)
        call = f"{self.const(value_fn, 'f')}(rt)"
        if desc and desc[0] == "vctx_get" and desc[1] in ("conn", "mess"):
            return f"((_hv.vctx.{desc[1]}.get({desc[2]!r}) or '') if (_hv := rt.host) is not None else {call})"
        if desc and desc[0] == "throttle_check" and desc[1] in ("throttles", "shared_throttles"):
            return (f"(('true' if _tc.over({desc[2]!r}) else 'false') if (_hv := rt.host) is not None"
                    f" and (_tc := _hv.{desc[1]}) is not None else {call})")
        return call

    def assign(self, target: str, value_fn: Callable, pad: str) -> None:
        """compiler._assignment's fast path, inline; anything else goes to rt.assign.
        ``fast`` says whether the fast path stored ``value`` as it is."""
        self.uses_assign = True
        t = repr(target)
        self.lines += [
            f"{pad}value = {self.value(value_fn)}",
            f"{pad}scope = rt.scope",
            f"{pad}if (value.__class__ is str and not rt.lists and not scope.global_names",
            f"{pad}        and len(value) * 4 <= max_size and ({t} in scope.variables",
            f"{pad}                                        or len(scope.variables) < max_vars)):",
            f"{pad}    scope.variables[{t}] = value",
            f"{pad}    fast = True",
            f"{pad}else:",
            f"{pad}    rt.assign({t}, value)",
            f"{pad}    fast = False",
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
            elif kind == "address1":  # MessageView._cache read inline (constant key tuple)
                ck = self.const((desc[2], desc[1]), "a")
                values = (f"(_d if (_d := view._cache.get({ck})) is not None"
                          f" else view.address_part_values({key}, {desc[2]!r}))")
            else:  # MessageView.envelope_part_values' cache read inline (same identity check)
                ck = self.const((desc[1], desc[2]), "a")
                values = (f"(_e[1] if (_e := view._envelope_parts.get({ck})) is not None and "
                          f"_e[0] is view.envelope.get({key}, '') else "
                          f"view.envelope_part_values({key}, {desc[2]!r}))")
            folded = self.folded_header(desc[1], check_fn) if kind == "header1" else None
            if folded is not None:
                return folded
            one = self.one_header(check_fn)
            if one is None:
                return f"{check}(rt, {values})"
            # the condition of ``a if c else b`` runs first: it binds _h (then _v/_f)
            return f"({one} if len(_h := {values}) == 1 else {check}(rt, _h))"
        if kind == "exists1":  # MessageView.has_key inline (the index, once built)
            return f"({desc[1]!r} in (_i if (_i := view._index) is not None else view._fields()))"
        if kind == "size":  # MessageView.size's cached value read inline
            return (f"((_s if (_s := view._size) is not None else view.size)"
                    f" {'>' if desc[1] == 'over' else '<'} {int(desc[2])})")
        if kind == "testvar":
            name, check = repr(desc[1]), self.const(desc[2], "m")
            return (f"({check}(rt, rt.get_values({name})) if rt.lists or rt.scope.global_names "
                    f"else {self.one_value(desc[2], f'rt.scope.variables.get({name}, {chr(39) * 2})')})")
        return f"{self.const(fn, 't')}(rt)"


    def folded_header(self, key: str, check: Callable) -> str | None:
        """A one-field header under i;ascii-casemap (:is, :contains, plain :matches) tested
        on its folded value, cached per message (MessageView.fold_one: folded once for
        every rule that reads it, dropped with the header's other caches on an edit);
        None when the check has no such form. Other field counts go to the check."""
        desc = getattr(check, SHAPE, None)
        kind = desc[0] if desc else None
        if kind == "in" and desc[1] == "casemap":
            test = f"_f in {self.const(desc[2], 's')}"
        elif kind == "contains" and desc[1]:
            test = " or ".join(f"{self.const(needle, 'n')} in _f" for needle in desc[2]) or "False"
        elif kind == "globs" and desc[1] and desc[2] is not None:
            test = f"{self.glob_prefilter(desc[2])} and {self.const(check, 'm')}(rt, view.header_values({key!r}))"
        elif kind == "regex" and desc[1] and desc[2] is not None:
            # match_compile._regex_prefixes: the check runs for non-ASCII or a prefix hit
            test = (f"(not _f.isascii() or _f.startswith({self.const(desc[2], 'p')})) and "
                    f"{self.const(check, 'm')}(rt, view.header_values({key!r}))")
        else:
            return None
        fk, m = self.const(("fold", key), "a"), self.const(check, "m")
        return (f"(({test}) if (_f := view._cache.get({fk})) is not None or "
                f"(_f := view.fold_one({key!r})) is not None else {m}(rt, view.header_values({key!r})))")

    def glob_prefilter(self, keys: tuple) -> str:
        """Whether the folded ``_f`` matches one of the literal / prefix*suffix ``keys``."""
        tests = []
        for prefix, suffix in keys:
            p = self.const(prefix, "n")
            if suffix is None:
                tests.append(f"_f == {p}")
            else:
                s = self.const(suffix, "n")
                tests.append(f"(len(_f) >= {len(prefix) + len(suffix)} and _f.startswith({p})"
                             f" and _f.endswith({s}))")
        return f"({' or '.join(tests) or 'False'})"

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
        if kind == "numeric" and desc[1] in _PY_OPS:
            # matchers.numeric_value inline for the usual all-digits value
            self.namespace["_numeric_value"] = numeric_value
            op = _PY_OPS[desc[1]]
            tests = " or ".join(f"_n {op} {self.const(key, 'n')}" for key in desc[2]) or "False"
            return (f"((_n := (int(_v) if (_v := _h[0]).isascii() and _v.isdigit() "
                    f"else _numeric_value(_v))) is not None and ({tests}))")
        if kind not in ("contains", "globs") or (kind == "globs" and desc[2] is None):
            return None
        if desc[1]:
            self.namespace["_ascii_lower"] = _ASCII_LOWER
            folded = f"(_f := {FOLD_V.format('_h[0]')})"
        else:
            folded = "(_f := _h[0])"
        if kind == "contains":
            tests = [f"{self.const(needle, 'n')} in _f" for needle in desc[2]]
            return f"({folded} is not None and ({' or '.join(tests) or 'False'}))"
        return (f"({self.const(check, 'm')}(rt, _h) if ({folded} is not None and "
                f"{self.glob_prefilter(desc[2])}) else False)")

    def one_value(self, check: Callable, value: str) -> str:
        """``check(rt, [value])``; an :is check inlined as a set lookup (match_compile.py)."""
        desc = getattr(check, SHAPE, None)
        if desc and desc[0] == "in":
            keys = self.const(desc[2], "s")
            if desc[1] == "octet":
                return f"({value} in {keys})"
            self.namespace["_ascii_lower"] = _ASCII_LOWER
            # the condition of ``a if c else b`` runs first: it binds _v
            return f"({FOLD_V.format(value)} in {keys})"
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
