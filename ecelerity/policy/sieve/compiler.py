"""Sieve compiler: ast.Script to a tree of Python closures, cached per script text.

Called by engine.py, cache.py (compile once per text) and the include extension.
Which commands, tests and functions exist is registry.py's; if/elsif chains are
shaped by control_flow.py. Checks
``require``, every command's and test's arguments against its Spec, match types,
comparators and constant values (argument checking: compile_args.py), so that a
compiled script can only fail at run time for data-dependent reasons. The closures
are specialised for speed: matches are precompiled per test (match_compile.py) and
each if/elsif/else chain becomes one closure shaped for its branches. That closure
tree is the reference semantics; codegen.py then flattens it into one generated
Python function per script (``CompiledScript.run``), falling back to the tree when
it cannot. Never runs a script and never reads a message.
"""
from __future__ import annotations

import os
from typing import Callable

from .ast import Command, NumberArg, Script, StringArg, Test
from .codegen import SHAPE, generate, shape
from .compile_args import parse_args
from .errors import DEFAULT_LIMITS, Limits, Loc, SieveCompileError, SieveRuntimeError
from .matchers import compile_regex
from .control_flow import specialise_if
from .parser import parse_script
from .registry import COMMANDS, FUNCTIONS, KNOWN_EXTENSIONS, SIEVEPP_NAMES, TESTS
from .runtime import Runtime
from .strings import StrFn, compile_template, decode_encoded_characters, is_constant

Block = tuple[Callable[[Runtime], None], ...]
LOCATED_SHAPES = ("header1", "address1", "envelope1")  # values read without SieveRuntimeError


class CompiledScript:
    """A compiled script: ``run(rt)`` executes its top-level block.

    With ``codegen`` (the default) ``run`` is the generated function of codegen.py;
    ``run_reference`` always walks the closure tree (the differential tests compare
    both). ``generated`` tells whether codegen succeeded.
    """

    def __init__(self, name: str, block: Block, extensions: frozenset[str], codegen: bool = True):
        self.name = name
        self.block = block
        self.extensions = extensions
        generated = generate(name, block) if codegen else None
        self.generated = generated is not None
        if generated is not None:
            self.run = generated  # type: ignore[method-assign]

    def run(self, rt: Runtime) -> None:
        for command in self.block:
            command(rt)

    def run_reference(self, rt: Runtime) -> None:
        for command in self.block:
            command(rt)


class CompileEnv:
    """Per-script compile state; ``include_chain`` holds the scripts being compiled."""

    def __init__(self, filename: str, limits: Limits, include_dirs: dict[str, str],
                 include_chain: tuple[str, ...]):
        self.filename = filename
        self.limits = limits
        self.include_dirs = include_dirs
        self.include_chain = include_chain
        self.extensions: set[str] = set()

    def has(self, extension: str) -> bool:
        return extension in self.extensions

    def need(self, extension: str, what: str, loc: Loc) -> None:
        if extension not in self.extensions:
            raise SieveCompileError(f"{what} requires extension '{extension}' (missing require)", loc)

    def _text(self, raw: str) -> str:
        return decode_encoded_characters(raw) if self.has("encoded-character") else raw

    def string(self, arg: StringArg) -> StrFn:
        return compile_template(self._text(arg.values[0]), self.has("variables") or arg.dollar)

    def strings(self, arg: StringArg) -> Callable[[Runtime], list[str]]:
        if arg.dollar:
            name = arg.values[0][2:-1]
            return lambda rt: rt.get_values(name)
        fns = [compile_template(self._text(v), self.has("variables")) for v in arg.values]
        if all(is_constant(self._text(v), self.has("variables")) for v in arg.values):
            constant = [self._text(v) for v in arg.values]
            return lambda rt: constant
        return lambda rt: [fn(rt) for fn in fns]

    def constant(self, arg: StringArg) -> list[str] | None:
        """The list's values if none of them depends on variables, else None."""
        if arg.dollar:
            return None
        texts = [self._text(v) for v in arg.values]
        return texts if all(is_constant(t, self.has("variables")) for t in texts) else None

    def compile_include(self, name: str, location: str, loc: Loc) -> CompiledScript:
        return compile_include(self, name, location, loc)


def compile_test(test: Test, env: CompileEnv) -> Callable[[Runtime], bool]:
    spec = TESTS.get(test.name)
    if spec is None:
        raise SieveCompileError(f"unknown test '{test.name}'", test.loc)
    if spec.extension:
        env.need(spec.extension, f"test '{test.name}'", test.loc)
    args = parse_args(test, spec, env)
    if spec.tests == "none" and test.tests:
        raise SieveCompileError(f"test '{test.name}' takes no nested test", test.tests[0].loc)
    if spec.tests == "one" and (len(test.tests) != 1 or test.test_list):
        raise SieveCompileError(f"test '{test.name}' takes exactly one test", test.loc)
    if spec.tests == "list" and not test.test_list:
        raise SieveCompileError(f"test '{test.name}' takes a test list in parentheses", test.loc)
    args.tests = [compile_test(t, env) for t in test.tests]
    if args.matcher.match_type == "regex" and isinstance(args.positional[-1], StringArg):
        for pattern in env.constant(args.positional[-1]) or []:
            try:
                compile_regex(pattern, args.matcher.comparator)
            except ValueError as exc:
                raise SieveCompileError(str(exc), args.positional[-1].loc) from None
        args.matcher.loc = test.loc  # a constant :regex check names it itself (match_compile)
        built = spec.build(args, env)
        desc = getattr(built, SHAPE, None)
        if desc and desc[0] in LOCATED_SHAPES and getattr(desc[-1], "located", False):
            return built  # nothing but the located check can raise: no wrapper (codegen inlines)
        return _locating(built, test.loc)
    return spec.build(args, env)


def _locating(test_fn: Callable[[Runtime], bool], loc: Loc) -> Callable[[Runtime], bool]:
    """A :regex test: a regex budget error names the test's file:line:col."""
    def located(rt: Runtime) -> bool:
        try:
            return test_fn(rt)
        except SieveRuntimeError as exc:
            if exc.loc is None:
                raise SieveRuntimeError(exc.message, loc) from None
            raise
    return located


def compile_block(commands: list[Command], env: CompileEnv, top: bool = False) -> Block:
    out: list = []  # closures, and if-chains as lists of (test, block) until the end
    branches: list | None = None
    seen_other = False
    for command in commands:
        name = command.name
        if command.assign_to is not None:
            seen_other, branches = True, None
            out.append(_assignment(command, env))
            continue
        if name == "require":
            if not top or seen_other:
                raise SieveCompileError("'require' must come before any other command", command.loc)
            _require(command, env)
            continue
        seen_other = True
        if name in ("elsif", "else"):
            if branches is None:
                raise SieveCompileError(f"'{name}' without a preceding 'if'", command.loc)
        else:
            branches = None
        if name in ("if", "elsif", "else"):
            if command.block is None:
                raise SieveCompileError(f"'{name}' needs a block", command.loc)
            if command.args or (name == "else") != (not command.tests) or command.test_list or len(command.tests) > 1:
                raise SieveCompileError(
                    f"'{name}' takes {'no test' if name == 'else' else 'exactly one test'}", command.loc)
            test = compile_test(command.tests[0], env) if command.tests else None
            block = compile_block(command.block, env)
            if name == "if":
                branches = [(test, block)]
                out.append(branches)  # replaced by its closure once the chain is complete
            else:
                branches.append((test, block))
                if name == "else":
                    branches = None
            continue
        if command.block is not None or command.tests:
            raise SieveCompileError(f"command '{name}' takes no test and no block", command.loc)
        spec = COMMANDS.get(name)
        if spec is None:
            raise SieveCompileError(f"unknown command '{name}'", command.loc)
        if spec.extension:
            env.need(spec.extension, f"command '{name}'", command.loc)
        out.append(spec.build(parse_args(command, spec, env), env))
    return tuple(specialise_if(item) if isinstance(item, list) else item for item in out)


def _assignment(command: Command, env: CompileEnv) -> Callable[[Runtime], None]:
    """Sieve++ ``$name = function args;`` / ``$name = "text" | number | $other;``."""
    target = command.assign_to
    if command.tests:
        call = command.tests[0]
        spec = FUNCTIONS.get(call.name)
        if spec is None:
            raise SieveCompileError(f"unknown Sieve++ function '{call.name}'", call.loc)
        if call.tests:
            raise SieveCompileError(f"function '{call.name}' takes no test", call.tests[0].loc)
        value_fn = spec.build(parse_args(call, spec, env), env)
    else:
        arg = command.args[0]
        if isinstance(arg, NumberArg):
            number = str(arg.value)
            value_fn = lambda rt: number  # noqa: E731
        elif isinstance(arg, StringArg) and arg.dollar:
            source = arg.values[0][2:-1]
            value_fn = (lambda rt: rt.lists[source] if source in rt.lists  # noqa: E731
                        else rt.get_variable(source))
        elif isinstance(arg, StringArg) and not arg.bracketed:
            value_fn = env.string(arg)
        elif isinstance(arg, StringArg):
            value_fn = env.strings(arg)
        else:
            raise SieveCompileError(f"cannot assign a tag to '${target}'", arg.loc)

    if target.startswith("global."):
        return lambda rt: rt.assign(target, value_fn(rt))

    def assign(rt: Runtime) -> None:
        value = value_fn(rt)
        scope, limits = rt.scope, rt.limits
        # fast path: a short string into a plain local variable (Runtime.assign does the rest)
        if (value.__class__ is str and not rt.lists and not scope.global_names
                and len(value) * 4 <= limits.max_variable_size):
            variables = scope.variables
            if target in variables or len(variables) < limits.max_variables:
                variables[target] = value
                return
        rt.assign(target, value)
    return shape(assign, "assign", target, value_fn)


def _require(command: Command, env: CompileEnv) -> None:
    if command.tests or len(command.args) != 1 or not isinstance(command.args[0], StringArg):
        raise SieveCompileError("'require' takes one string list", command.loc)
    for name in command.args[0].values:
        if name.lower() not in KNOWN_EXTENSIONS and name.lower() not in SIEVEPP_NAMES:
            raise SieveCompileError(f"unsupported extension '{name}'", command.args[0].loc)
        env.extensions.add(name.lower())


def compile_script(text: str, filename: str = "<script>", *, limits: Limits = DEFAULT_LIMITS,
                   include_dirs: dict[str, str] | None = None,
                   include_chain: tuple[str, ...] = (), codegen: bool | None = None) -> CompiledScript:
    """Compile Sieve source; raises SieveCompileError (file:line:col) on any problem.

    ``include_dirs`` maps "personal"/"global" to directories for the include extension;
    by default both are the script's own directory. ``codegen=False`` keeps the
    reference closure tree as ``run`` (codegen.py); None: on unless the environment
    says ``ECELERITY_SIEVE_CODEGEN=0`` (for A/B measurements).
    """
    if codegen is None:
        codegen = os.environ.get("ECELERITY_SIEVE_CODEGEN", "1") != "0"
    script: Script = parse_script(text, filename, limits)
    base = os.path.dirname(os.path.abspath(filename)) if filename and not filename.startswith("<") else os.getcwd()
    dirs = include_dirs or {"personal": base, "global": base}
    env = CompileEnv(filename, limits, dirs, include_chain)
    if _uses_assignment(script.commands):
        env.extensions.add("variables")  # Sieve++: "${name}" expands in a script that assigns $name
    block = compile_block(script.commands, env, top=True)
    return CompiledScript(filename, block, frozenset(env.extensions), codegen)


def _uses_assignment(commands: list[Command]) -> bool:
    return any(c.assign_to is not None or (c.block is not None and _uses_assignment(c.block))
               for c in commands)


def compile_include(env: CompileEnv, name: str, location: str, loc: Loc) -> CompiledScript:
    if "/" in name or name.startswith("."):
        raise SieveCompileError(f"invalid include script name {name!r}", loc)
    path = os.path.join(env.include_dirs[location], name if name.endswith(".sieve") else name + ".sieve")
    key = os.path.abspath(path)
    if key in env.include_chain or key == os.path.abspath(env.filename):
        raise SieveCompileError(f"circular include of script '{name}'", loc)
    if len(env.include_chain) + 1 >= env.limits.max_include_depth:
        raise SieveCompileError(f"include nesting too deep (limit {env.limits.max_include_depth})", loc)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(env.limits.max_script_size + 1)
    except OSError as exc:
        raise FileNotFoundError(f"included script '{name}' not found ({exc.strerror})") from None
    chain = env.include_chain + (os.path.abspath(env.filename),)
    from .cache import compile_cached
    return compile_cached(text, path, limits=env.limits, include_dirs=env.include_dirs, include_chain=chain)


def __getattr__(name: str):
    """SCRIPT_CACHE, ScriptCache and compile_cached moved to cache.py (older importers)."""
    if name in ("SCRIPT_CACHE", "ScriptCache", "compile_cached"):
        from . import cache
        return getattr(cache, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
