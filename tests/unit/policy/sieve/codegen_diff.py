"""Shared by the codegen differential tests: run one script both ways, snapshot everything.

``snapshot(runner, ...)`` runs a CompiledScript's generated ``run`` or its
``run_reference`` (the closure tree) over a fresh message view, host and vctx, and
returns every effect a script can have: how it ended (stop, runtime error with its
location), actions, variables, lists, match values, flags, the host's outcome, notes
and counters, the vctx and the edited message. ``corpus()`` collects the Sieve
scripts of the existing tests (every string literal of the Sieve test files that
compiles, as-is or after a require prelude, plus the Pigeonhole cases).
"""
from __future__ import annotations

import ast
import dataclasses
import importlib.util
import random
import re
from pathlib import Path

from ecelerity.policy.sieve import MessageView, SieveError, SieveRuntimeError, compile_script
from ecelerity.policy.sieve.errors import DEFAULT_LIMITS
from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
from ecelerity.policy.sieve.host import Counters, PolicyHost
from ecelerity.policy.sieve.runtime import ReturnScript, Runtime, StopScript
from ecelerity.policy.vctx import ValidationContext

# maildir file names and MIME boundaries differ from run to run
UNIQUE = re.compile(r"\d+\.M\d+P\d+Q\d+|=_ec_[0-9a-f]+")
ROOT = Path(__file__).resolve().parents[4]
# a throttle's tarpit waits until its window ends: "tarpit 29.9919s" when the clock moved
TARPIT = re.compile(r"tarpit (\d+(?:\.\d+)?)s")


def _rounded(found: re.Match) -> str:
    return f"tarpit {round(float(found.group(1)), 1):g}s"
PRELUDE = ('require ["fileinto", "reject", "ereject", "envelope", "variables", "relational", '
           '"comparator-i;ascii-numeric", "body", "regex", "copy", "subaddress", '
           '"encoded-character", "imap4flags", "include"];\n')


def load_cases():
    spec = importlib.util.spec_from_file_location("sieve_cases", ROOT / "tests/interop/sieve_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ";" in node.value]


def corpus() -> list[tuple[str, object]]:
    """(label, CompiledScript) for every script of the Sieve tests that compiles."""
    files = sorted((ROOT / "tests/unit/policy/sieve").glob("test_*.py"))
    files += sorted((ROOT / "tests/scenarios").glob("test_sieve_*.py"))
    texts: list[tuple[str, str]] = [(f"{p.name}#{n}", text) for p in files
                                    for n, text in enumerate(_literals(p))]
    texts += [(f"pigeonhole:{c[0]}", c[1]) for c in load_cases().CASES if not c[5]]
    seen, out = set(), []
    for label, text in texts:
        for candidate in (text, PRELUDE + text):
            if candidate in seen:
                continue
            seen.add(candidate)
            try:
                script = compile_script(candidate, "corpus.siv", include_dirs={"personal": "/nonexistent",
                                                                              "global": "/nonexistent"})
            except (SieveError, OSError, RecursionError):
                continue
            out.append((label, script))
            break
    return out


def snapshot(runner, raw: bytes, env_from: str, env_to: str, limits=DEFAULT_LIMITS) -> dict:
    """Everything one run changed (see the module docstring)."""
    random.seed(1234)
    vctx = ValidationContext(conn={"ehlo_domain": "client.example", "peer_ip": "127.0.0.1"},
                             mess={"note": "x"})
    counters = Counters()
    host = PolicyHost(vctx, phase="data", script_label="data_phase1", counters=counters,
                      throttles=ThrottleCache(), shared_throttles=ThrottleCache(), can_sleep=False,
                      mail_from=env_from, peer_ip="127.0.0.1", message_id="00/00-1-A")
    view = MessageView(raw, env_from, env_to)
    rt = Runtime(view, limits, host)
    try:
        runner(rt)
        ended = "end"
    except (StopScript, ReturnScript) as exc:
        ended = type(exc).__name__
    except SieveRuntimeError as exc:
        ended = ("runtime", str(exc))
    except RecursionError:
        ended = "recursion"
    except Exception as exc:  # noqa: BLE001 - a leaf's own failure must be the same both ways
        ended = ("internal", type(exc).__name__, str(exc))
    state = {k: v for k, v in dataclasses.asdict(vctx).items() if k != "message_state"}
    state["tarpitted_seconds"] = round(state["tarpitted_seconds"], 1)  # throttle waits read the clock
    return {
        "ended": ended, "actions": rt.normalised_actions(), "implicit_keep": rt.implicit_keep,
        "variables": dict(rt.scope.variables), "globals": dict(rt.global_vars),
        "global_names": set(rt.scope.global_names), "lists": dict(rt.lists),
        "matches": list(rt.match_values), "flags": list(rt.flags),
        "outcome": host.outcome, "notes": [TARPIT.sub(_rounded, note) for note in host.notes],
        "counters": counters.items(),
        "injected": host.injected, "error_mode": host.error_mode, "vctx": state,
        "message": view.raw, "size": view.size,
    }


def differences(script, raw: bytes, env_from: str, env_to: str) -> tuple[str, str]:
    """The generated and the reference snapshot of one run, as comparable text
    (equal when codegen is right)."""
    return tuple(UNIQUE.sub("<unique>", repr(sorted(snapshot(runner, raw, env_from, env_to).items())))
                 for runner in (script.run, script.run_reference))
