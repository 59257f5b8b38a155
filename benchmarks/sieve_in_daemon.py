"""What a configured Sieve++ policy costs the daemon per message, on the daemon's own path.

Run by hand (not a test): ``.venv/bin/python benchmarks/sieve_in_daemon.py [--seconds S]
[--profile N]``; ``ECELERITY_PURE_PYTHON=1`` for the pure-Python speedups.

benchmarks/sieve_cost.py times the engine alone. This one loads modules/sieve.py into a
real App (config/loader.py on a real ``ecelerity.conf`` with the ``sieve`` stanza of
the ``policy`` benchmark, daemon/module_service.py's ModuleService), then for every
~2 KB message does what smtp/accept.py does around the policy: a real InboundMessage
from split_message, the ``data`` phase through phases.HookRegistry.run, the trace
header, ``data_spool``, ``data_spool_each_rcpt`` per recipient, ``set_binding``, and
the header edits applied to the header block (smtp.headers.apply_edits). The same
loop runs on an App without the module; the figure is the difference (CPU µs per
message, best round and median of 15 rounds each, the two loops interleaved round by
round so machine noise hits both alike). ``--profile N`` prints a cProfile of N
messages of the Sieve loop instead; ``--breakdown`` the cost per rule of each rule kind; ``--phases data,spool,each_rcpt`` runs the
script in several phases (the view sharing between them), ``--body-kb K`` pads the
body to K KB, ``--interleave-kb K`` touches K KB of other data between messages (the
cold-cache effect: the daemon runs other sessions between two hooks). ``ECELERITY_SIEVE_CODEGEN=0`` compiles the script to the reference
closure tree instead of generated code (policy/sieve/codegen.py), for A/B runs.
Never touches the network or a spool.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # modules/ and benchmarks/

from benchmarks.harness.extra_scenarios import SIEVE_CONF  # noqa: E402
from benchmarks.sieve_cost import make_messages, make_script  # noqa: E402
from ecelerity.config.loader import load_config  # noqa: E402
from ecelerity.control.registry import CommandRegistry  # noqa: E402
from ecelerity.core.envelope import Envelope, Recipient  # noqa: E402
from ecelerity.daemon.app import App  # noqa: E402
from ecelerity.daemon.module_service import ModuleService  # noqa: E402
from ecelerity.log.paniclog import PanicLog  # noqa: E402
from ecelerity.policy.vctx import ValidationContext  # noqa: E402
from ecelerity.smtp.accept import InboundMessage  # noqa: E402
from ecelerity.smtp.headers import apply_edits, split_message  # noqa: E402

TRACE = (b"Received: from client.example (client.example [127.0.0.1])\r\n"
         b"\tby mta.example (ecelerity) with ESMTP id 00/00-1-A;\r\n"
         b"\tThu, 1 Jan 2026 00:00:00 +0000\r\n")
MESSAGES_PER_CONNECTION = 20


def make_app(workdir: Path, policy: bool, phases: tuple[str, ...] = ("data",),
             script: str | None = None) -> App:
    """A started App whose only service is the module loader (with or without sieve)."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / ("sieve.conf" if policy else "plain.conf")
    (workdir / "policy.siv").write_text(make_script(50) if script is None else script)
    text = SIEVE_CONF
    if phases != ("data",):
        scripts = "".join(f'  script {phase}_phase1 {{ source = "policy.siv" }}\n' for phase in phases)
        text = 'sieve "sieve1" {\n  runtime_error = fail\n' + scripts + "}\n"
    conf.write_text(text if policy else "\n")
    panic = PanicLog(str(workdir / f"paniclog-{policy}.ec"))
    app = App(load_config(str(conf)), config_path=str(conf), paniclog=panic,
              services=[ModuleService()], commands=CommandRegistry())
    app.start()
    if policy and not app.hooks.has_hooks("data"):
        raise SystemExit(f"the sieve module did not load; see {workdir}/paniclog-{policy}.ec")
    return app


def one_message(app: App, vctx: ValidationContext, raw: bytes, mail_from: str) -> int:
    """smtp/accept.py's policy-related steps for one message; returns the reply code."""
    hooks = app.hooks
    recipient = Recipient("abuse6@example.com")
    vctx.reset_message()
    vctx.recipients.append(recipient)
    message = InboundMessage(Envelope(mail_from=mail_from, recipients=[recipient],
                                      peer_ip="127.0.0.1", peer_port=40000), "00/00-1-A",
                             split_message(raw))
    result = hooks.run("data", vctx, message)
    if result.reply is not None and result.reply.code >= 400:
        return result.reply.code
    message.trace = TRACE
    result = hooks.run("data_spool", vctx, message)
    if result.reply is not None and result.reply.code >= 400:
        return result.reply.code
    for each in list(vctx.recipients):
        hooks.run("data_spool_each_rcpt", vctx, message, each)
    hooks.run("set_binding", vctx, message)
    if vctx.header_edits:
        message.header_block = apply_edits(message.header_block, vctx.header_edits)
    return 250


def run_messages(app: App, messages: list[bytes], count: int, start: int, replies: dict,
                 between: Callable[[], object] | None = None) -> None:
    vctx = None
    for n in range(start, start + count):
        if n % MESSAGES_PER_CONNECTION == 0 or vctx is None:
            vctx = ValidationContext(conn={"ehlo_domain": "client.example", "peer_ip": "127.0.0.1"})
            app.hooks.run("connect", vctx)
        code = one_message(app, vctx, messages[n % len(messages)], f"s{n % 9}@spam{n % 50}.example")
        replies[code] = replies.get(code, 0) + 1
        if between is not None:
            between()


def cache_thrasher(kb: int) -> Callable[[], object] | None:
    """Work run between two messages (``--interleave-kb``) so that each message starts with
    cold CPU caches, as in the relaying daemon where other sessions, the spool and
    delivery run between two hooks: reads one byte of every 64-byte cache line of ``kb``
    KB and one field of ``kb // 2`` small dicts allocated apart. Both loops run it, so
    its own cost cancels out of the difference; what remains is the policy's cost when
    its data and code start cold."""
    if kb <= 0:
        return None
    blob = os.urandom(kb * 1024)
    objects = [{"id": n, "state": "queued", "pad": os.urandom(64)} for n in range(kb // 2)]

    def thrash() -> object:
        total = len(blob[::64])
        for item in objects:
            total += item["id"]
        return total
    return thrash


def padded_messages(body_kb: int) -> list[bytes]:
    """sieve_cost's messages, the body padded to about body_kb KB (0: as they are)."""
    messages = make_messages()
    if body_kb <= 0:
        return messages
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n"
    return [raw + line * (body_kb * 1024 // len(line)) for raw in messages]


def measure(seconds: float, rounds: int = 15, phases: tuple[str, ...] = ("data",),
            body_kb: int = 0, interleave_kb: int = 0) -> dict[str, Any]:
    """Interleaved rounds of the plain and the Sieve loop; CPU µs/message of each."""
    messages = padded_messages(body_kb)
    between = cache_thrasher(interleave_kb)
    with tempfile.TemporaryDirectory(prefix="sieve-in-daemon-") as tmp:
        plain_app, sieve_app = make_app(Path(tmp), False), make_app(Path(tmp), True, phases)
        try:
            batch = 200
            run_messages(sieve_app, messages, batch, 0, {})  # warm up (compile, caches)
            per_round = seconds / rounds / 2
            costs: dict[str, list[float]] = {"plain": [], "sieve": []}
            replies: dict[int, int] = {}
            done = 0
            for _ in range(rounds):
                for label, app in (("plain", plain_app), ("sieve", sieve_app)):
                    cpu_start, wall_end, count = time.process_time(), time.perf_counter() + per_round, 0
                    while time.perf_counter() < wall_end:
                        run_messages(app, messages, batch, count, replies if label == "sieve" else {},
                                     between)
                        count += batch
                    costs[label].append((time.process_time() - cpu_start) / count * 1e6)
                    done += count if label == "sieve" else 0
        finally:
            plain_app.stop()
            sieve_app.stop()
    best = {k: min(v) for k, v in costs.items()}
    median = {k: statistics.median(v) for k, v in costs.items()}
    return {"plain_best": best["plain"], "sieve_best": best["sieve"],
            "cost_best": best["sieve"] - best["plain"],
            "cost_median": median["sieve"] - median["plain"],
            "plain_median": median["plain"], "sieve_median": median["sieve"],
            "messages": done, "replies": dict(sorted(replies.items()))}


def breakdown(rounds: int = 9, batch: int = 600) -> list[tuple[str, float, float]]:
    """Per-rule cost of each rule kind of the script (sieve_cost.make_script): a script of
    the preamble plus 5, and one plus 20 rules of that kind; the marginal cost of one
    more rule is their difference / 15 and the first-touch cost (the header scan,
    decoding, parsing and edits the first rule of that kind pays) is what remains of
    the 5-rule cost after the preamble and 5 marginal rules. CPU µs (thread time),
    medians of ``rounds`` interleaved rounds; returns (label, marginal, first touch)."""
    lines = make_script(10 * 20).splitlines()
    head, rules = "\n".join(lines[:3]) + "\n", lines[3:]
    scripts = {"preamble": head}
    for kind in range(10):
        same = rules[kind::10]
        scripts[f"{kind}:5"] = head + "\n".join(same[:5]) + "\n"
        scripts[f"{kind}:20"] = head + "\n".join(same[:20]) + "\n"
    messages = make_messages()
    with tempfile.TemporaryDirectory(prefix="sieve-breakdown-") as tmp:
        apps = {"plain": make_app(Path(tmp) / "plain", False)}
        apps.update({label: make_app(Path(tmp) / label.replace(":", "-"), True, script=text)
                     for label, text in scripts.items()})
        costs: dict[str, list[float]] = {label: [] for label in apps}
        try:
            for app in apps.values():
                run_messages(app, messages, 200, 0, {})
            for _ in range(rounds):
                for label, app in apps.items():
                    start = time.thread_time()
                    run_messages(app, messages, batch, 0, {})
                    costs[label].append((time.thread_time() - start) / batch * 1e6)
        finally:
            for app in apps.values():
                app.stop()
    median = {label: statistics.median(values) for label, values in costs.items()}
    preamble = median["preamble"] - median["plain"]
    out = [("preamble (2 throttle commands) + hook", preamble, 0.0)]
    for kind in range(10):
        marginal = (median[f"{kind}:20"] - median[f"{kind}:5"]) / 15
        first = median[f"{kind}:5"] - median["plain"] - preamble - 5 * marginal
        out.append((rules[kind].split("{")[0].strip()[:60], marginal, first))
    return out


def profile(count: int, top: int = 30) -> None:
    messages = make_messages()
    with tempfile.TemporaryDirectory(prefix="sieve-in-daemon-") as tmp:
        app = make_app(Path(tmp), True)
        try:
            run_messages(app, messages, 200, 0, {})
            prof = cProfile.Profile()
            prof.enable()
            run_messages(app, messages, count, 0, {})
            prof.disable()
        finally:
            app.stop()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--phases", default="data", help="comma-separated script phases")
    parser.add_argument("--body-kb", type=int, default=0, help="pad each body to about K KB")
    parser.add_argument("--interleave-kb", type=int, default=0, metavar="K",
                        help="between messages, touch about K KB of other data (cold caches)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print a cProfile of N messages instead of measuring")
    parser.add_argument("--breakdown", action="store_true",
                        help="per-rule cost of each rule kind instead of the whole script")
    args = parser.parse_args()
    if args.breakdown:
        rows = breakdown()
        for label, marginal, first in rows:
            print(f"{marginal:6.2f} µs/rule  first touch {first:6.2f} µs  {label}")
        print(f"50 rules as in the script: {rows[0][1] + sum(5 * m + f for _l, m, f in rows[1:]):.1f} µs")
        return
    if args.profile:
        profile(args.profile)
        return
    mode = "pure" if os.environ.get("ECELERITY_PURE_PYTHON") == "1" else "compiled speedups"
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    got = measure(args.seconds, phases=phases, body_kb=args.body_kb, interleave_kb=args.interleave_kb)
    cold = f", {args.interleave_kb} KB touched between messages" if args.interleave_kb else ""
    print(f"50-rule Sieve++ policy in {'+'.join(phases)}, daemon's hook path ({mode}{cold}): "
          f"+{got['cost_best']:.1f} µs CPU/message (best rounds: {got['sieve_best']:.1f} with sieve - "
          f"{got['plain_best']:.1f} plain; medians +{got['cost_median']:.1f}) "
          f"over {got['messages']} messages; replies {got['replies']}")


if __name__ == "__main__":
    main()
