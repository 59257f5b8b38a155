"""The shared per-message hook path alone: what both engines pay around their own code.

Run: ``PYTHONPATH=<tree> .venv/bin/python -m benchmarks.harness.hook_path [--rounds 9]``.
One "message" is what smtp/verbs.py and smtp/accept.py do around the policy:
``reset_message``, the seven per-message phases through phases.HookRegistry.run
(mailfrom, rcptto, rcptto_list, data, data_spool, data_spool_each_rcpt, set_binding),
with empty engine-tagged hooks where the benchmark policies have theirs (Sieve++: data
and data_spool; Lua: mailfrom, rcptto, data, data_spool_each_rcpt, plus one vctx get /
set per hook like the typical script), and one ``Message.header`` read. Prints the best
and median thread CPU ns per message over the rounds. Who calls it: a person doing A/B
runs of phases.py / vctx.py / core/message.py (run each tree in turn, interleaved).
Never starts a daemon or touches the network.
"""
from __future__ import annotations

import argparse
import statistics
import time

from ecelerity.core.message import Message
from ecelerity.policy import phases
from ecelerity.policy.vctx import VCTX_MESS, ValidationContext

MESSAGE_PHASES = ("mailfrom", "rcptto", "rcptto_list", "data", "data_spool",
                  "data_spool_each_rcpt", "set_binding")
HOOKED = {"none": (), "sieve": ("data", "data_spool"),
          "lua": ("mailfrom", "rcptto", "data", "data_spool_each_rcpt")}
RAW = (b"From: <bench@example.org>\r\nTo: <rcpt@example.com>\r\nDate: Sun, 22 Nov 2026 02:54:07 "
       b"+0000 (UTC)\r\nMessage-Id: <591b.0003.0000@vm>\r\nSubject: hello\r\n\r\n" + b"X" * 2000)


def _hook(vctx: ValidationContext, *args: object) -> int:
    vctx.set(VCTX_MESS, "seen", vctx.get(VCTX_MESS, "seen", "") or "1")
    return phases.CONTINUE


def per_message_ns(policy: str, messages: int = 20000, rounds: int = 9) -> tuple[float, float]:
    reg = phases.HookRegistry()
    prefix = "sieve" if policy == "sieve" else "scriptlet"
    for phase in HOOKED[policy]:
        reg.register(phase, _hook, priority=phases.PRIORITY_LUA, name=f"{prefix}:{phase}")
    vctx = ValidationContext()
    message = Message(RAW)
    run = reg.run
    results = []
    for _ in range(rounds):
        start = time.thread_time_ns()
        for _ in range(messages):
            vctx.reset_message()
            for phase in MESSAGE_PHASES:
                run(phase, vctx, message)
            message.header("Subject")
        results.append((time.thread_time_ns() - start) / messages)
    return min(results), statistics.median(results)


def main() -> None:
    parser = argparse.ArgumentParser(prog="hook_path")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    for policy in HOOKED:
        best, median = per_message_ns(policy, rounds=args.rounds)
        print(f"{policy:5s}: {best:7.0f} ns/message best, {median:7.0f} median ({phases.__file__})")


if __name__ == "__main__":
    main()
