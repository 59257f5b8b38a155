"""Argument checking of one command or test against its Spec, for compiler.py.

Called by compiler.py for every command, test and Sieve++ function call: sorts
tags (match type, comparator, address part, the Spec's own tags) from positional
arguments, checks arity, kinds, required extensions and constant relational
operators/comparators, and returns the Args record the builders read. Raises
SieveCompileError with the offending argument's file:line:col; never builds closures.
"""
from __future__ import annotations

from .ast import Command, NumberArg, StringArg, TagArg, Test
from .errors import Loc, SieveCompileError
from .matchers import COMPARATORS, RELATIONS, Matcher
from .spec import Args, Spec

MATCH_TAGS = {"is": None, "contains": None, "matches": None, "regex": "regex",
              "count": "relational", "value": "relational"}
ADDRESS_PART_TAGS = {"all": None, "localpart": None, "domain": None,
                     "user": "subaddress", "detail": "subaddress"}


def parse_args(node: Command | Test, spec: Spec, env) -> Args:
    """The checked arguments of ``node``; ``env`` is the compiler's CompileEnv."""
    tags: dict[str, object] = {}
    positional: list[object] = []
    match_type, relation, comparator, address_part = None, None, None, None
    items = list(node.args)
    i = 0
    while i < len(items):
        arg = items[i]
        if not isinstance(arg, TagArg):
            if any(isinstance(later, TagArg) for later in items[i + 1:]):
                bad = next(later for later in items[i + 1:] if isinstance(later, TagArg))
                raise SieveCompileError(
                    f"tag ':{bad.name}' must come before the positional arguments of '{node.name}'", bad.loc)
            positional.append(arg)
            i += 1
            continue
        tag, i = arg.name, i + 1

        def operand(kind: str, tag: str = tag, at: Loc = arg.loc) -> object:
            nonlocal i
            if i >= len(items) or isinstance(items[i], TagArg) or (
                    kind == "number") != isinstance(items[i], NumberArg):
                raise SieveCompileError(f"tag ':{tag}' of '{node.name}' needs a {kind} argument", at)
            value = items[i]
            if kind == "string" and (value.bracketed or len(value.values) != 1):
                raise SieveCompileError(f"tag ':{tag}' of '{node.name}' needs a single string", at)
            i += 1
            return value

        if spec.match and tag in MATCH_TAGS:
            if MATCH_TAGS[tag]:
                env.need(MATCH_TAGS[tag], f"match type ':{tag}'", arg.loc)
            if match_type is not None:
                raise SieveCompileError(f"more than one match type given to '{node.name}'", arg.loc)
            match_type = tag
            if tag in ("count", "value"):
                rel_arg = operand("string")
                rel = env.constant(rel_arg)
                if rel is None or rel[0].lower() not in RELATIONS:
                    raise SieveCompileError(
                        f"invalid relational operator for ':{tag}' (use one of {', '.join(RELATIONS)})",
                        rel_arg.loc)
                relation = rel[0].lower()
        elif spec.match and tag == "comparator":
            if comparator is not None:
                raise SieveCompileError(f"more than one comparator given to '{node.name}'", arg.loc)
            comp_arg = operand("string")
            name = (env.constant(comp_arg) or [""])[0].lower()
            if name not in COMPARATORS:
                raise SieveCompileError(f"unknown comparator '{name}'", comp_arg.loc)
            if name == "i;ascii-numeric":
                env.need("comparator-i;ascii-numeric", "comparator 'i;ascii-numeric'", comp_arg.loc)
            comparator = name
        elif spec.address_part and tag in ADDRESS_PART_TAGS:
            if ADDRESS_PART_TAGS[tag]:
                env.need(ADDRESS_PART_TAGS[tag], f"address part ':{tag}'", arg.loc)
            if address_part is not None:
                raise SieveCompileError(f"more than one address part given to '{node.name}'", arg.loc)
            address_part = tag
        elif tag in spec.tags:
            if tag in tags:
                raise SieveCompileError(f"tag ':{tag}' given twice to '{node.name}'", arg.loc)
            if tag in spec.tag_extensions:
                env.need(spec.tag_extensions[tag], f"tag ':{tag}'", arg.loc)
            kind = spec.tags[tag]
            tags[tag] = operand(kind) if kind else True
        else:
            raise SieveCompileError(f"unknown tag ':{tag}' for '{node.name}'", arg.loc)
    for group in spec.exclusive:
        present = [t for t in group if t in tags]
        if len(present) > 1:
            raise SieveCompileError(
                f"tags {', '.join(':' + t for t in present)} of '{node.name}' are mutually exclusive", node.loc)
    wanted = list(spec.positional)
    if wanted and wanted[0].startswith("opt_") and len(positional) == len(wanted) - 1:
        positional.insert(0, None)
    if wanted and wanted[-1].startswith("tail_") and len(positional) == len(wanted) - 1:
        positional.append(None)  # Sieve++ trailing optional argument (``ec_action 550 "x" ["counter"]``)
    wanted = [w.removeprefix("opt_").removeprefix("tail_") for w in wanted]
    if len(positional) != len(wanted):
        raise SieveCompileError(
            f"'{node.name}' takes {len(wanted)} positional argument(s), got {len(positional)}", node.loc)
    for value, kind in zip(positional, wanted, strict=True):
        if value is None:
            continue
        if kind == "value":  # Sieve++: a number or a string (``ec_tarpit 5`` or ``ec_tarpit "5"``)
            if isinstance(value, TagArg):
                raise SieveCompileError(f"'{node.name}' expects a number or a string here", value.loc)
            continue
        if kind == "number" and not isinstance(value, NumberArg):
            raise SieveCompileError(f"'{node.name}' expects a number here", value.loc)
        if kind in ("string", "strings") and not isinstance(value, StringArg):
            raise SieveCompileError(f"'{node.name}' expects a string here", value.loc)
        if kind == "string" and (value.bracketed or len(value.values) != 1):
            raise SieveCompileError(f"'{node.name}' expects a single string, not a list", value.loc)
    matcher = Matcher(match_type or "is", comparator or "i;ascii-casemap", relation)
    matcher.check(node.loc)
    return Args(node.name, node.loc, tags, positional, matcher, address_part or "all", node=node)
