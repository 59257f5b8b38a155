"""What a configured 5-hook Lua policy costs the daemon per message, on the daemon's own path.

Run by hand (not a test): ``.venv/bin/python benchmarks/lua_in_daemon.py [--seconds S]
[--per-connection N] [--engine luajit|lua54] [--interleave KB ...] [--both-modes]
[--profile N]``.
``ECELERITY_PURE_PYTHON=1`` selects the pure-Python speedups; ``--both-modes`` runs
itself once per mode and prints both.

benchmarks/lua_policy_cost.py times the Lua hook path alone. This one loads
modules/scriptlet.py for real into a real App (config/loader.py on a real
``ecelerity.conf`` with a ``scriptlet`` stanza and the policy file next to it,
daemon/module_service.py's ModuleService: the scriptlet's 5 Lua hooks and its 2 audit
hooks land in the App's phases.HookRegistry), then per message does what the SMTP
session and smtp/accept.py do around the policy, every phase through
``HookRegistry.run``: connect (once per connection), ehlo, mailfrom, rcptto,
rcptto_list, then a real InboundMessage of a ~2 KB message (split_message), data, the
Received: trace, data_spool, data_spool_each_rcpt, set_binding, the header edits
applied to the header block, the chunks the spool would write, reset_message. The
same loop runs on an App without the module; the figure is the difference: everything
the daemon does because a Lua policy is configured (proxies, the message model,
RFC 2047 decoding, the header edit committed into the message, audit hooks). CPU us
per message, best round and median of the rounds, the two loops interleaved round by
round so machine noise hits both alike. ``--interleave KB`` puts other work between
messages in both loops (a copy through KB of memory, a JSON round trip): the policy's
cost with the caches as cold as the daemon leaves them. Never touches the network or
a spool.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # modules/ and benchmarks/

from benchmarks.lua_policy_cost import POLICY  # noqa: E402
from ecelerity.config.loader import load_config  # noqa: E402
from ecelerity.control.registry import CommandRegistry  # noqa: E402
from ecelerity.core.envelope import Envelope, Recipient  # noqa: E402
from ecelerity.daemon.app import App  # noqa: E402
from ecelerity.daemon.module_service import ModuleService  # noqa: E402
from ecelerity.log.paniclog import PanicLog  # noqa: E402
from ecelerity.policy.lua import available_engines  # noqa: E402
from ecelerity.policy.vctx import ValidationContext  # noqa: E402
from ecelerity.smtp.accept import InboundMessage  # noqa: E402
from ecelerity.smtp.headers import apply_edits, split_message  # noqa: E402

TRACE = (b"Received: from client.example (client.example [198.51.100.7])\r\n"
         b"\tby mta.example (ecelerity) with ESMTP id 00/00-1-A;\r\n"
         b"\tThu, 1 Jan 2026 00:00:00 +0000\r\n")
CONF = """scriptlet "scriptlet" {{
  engine = {engine}
  script "policy" {{ source = "policy" }}
}}
"""


def make_messages() -> list[bytes]:
    """Four ~2 KB messages with the headers real mail carries (one RFC 2047 Subject)."""
    subjects = ["Quarterly report", "=?utf-8?q?R=C3=A9union_de_lundi?=", "Re: your order 4711",
                "Invitation: planning"]
    body = b"".join(b"Line %02d of a plain text body that says nothing in particular.\r\n" % i
                    for i in range(22))
    messages = []
    for n, subject in enumerate(subjects):
        head = (f"Received: from mail.sender{n}.example (mail.sender{n}.example [192.0.2.{n + 1}])\r\n"
                f"\tby mx.example with ESMTPS id abc{n}; Thu, 1 Jan 2026 00:00:0{n} +0000\r\n"
                f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender{n}.example;\r\n"
                f"\ts=s1; h=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
                f"\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaGFzIHRoZSBsZW5ndGg=\r\n"
                f"From: Alice Sender <alice@sender{n}.example>\r\n"
                f"To: Carol <c@d.example>\r\nCc: team@d.example\r\n"
                f"Subject: {subject}\r\nDate: Thu, 1 Jan 2026 00:00:0{n} +0000\r\n"
                f"Message-ID: <{n}.1234567890@sender{n}.example>\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: 7bit\r\nList-Unsubscribe: <mailto:u@sender{n}.example>\r\n"
                f"X-Mailer: bench {n}\r\n")
        messages.append(head.encode() + b"\r\n" + body)
    return messages


def make_app(workdir: Path, engine: str | None) -> App:
    """A started App whose only service is the module loader (with or without the policy)."""
    conf = workdir / f"{engine or 'plain'}.conf"
    (workdir / "policy.lua").write_text(POLICY)
    conf.write_text(CONF.format(engine=engine) if engine else "\n")
    panic = PanicLog(str(workdir / f"paniclog-{engine}.ec"))
    app = App(load_config(str(conf)), config_path=str(conf), paniclog=panic,
              services=[ModuleService()], commands=CommandRegistry())
    app.start()
    if engine and not app.hooks.has_hooks("data_spool_each_rcpt"):
        raise SystemExit(f"the scriptlet module did not load; see {workdir}/paniclog-{engine}.ec")
    return app


def one_message(app: App, vctx: ValidationContext, raw: bytes) -> int:
    """The session's and smtp/accept.py's policy-related steps for one message."""
    run = app.hooks.run
    run("mailfrom", vctx, "MAIL FROM:<a@b.example>")
    recipient = Recipient("c@d.example")
    if run("rcptto", vctx, "RCPT TO:<c@d.example>", recipient).rejected:
        return 550
    vctx.recipients.append(recipient)
    run("rcptto_list", vctx, list(vctx.recipients))
    message = InboundMessage(Envelope(mail_from="a@b.example", recipients=[recipient],
                                      peer_ip="198.51.100.7", peer_port=40000), "00/00-1-A",
                             split_message(raw))
    if run("data", vctx, message).rejected:
        return 550
    message.trace = TRACE
    if run("data_spool", vctx, message).rejected:
        return 550
    for each in list(vctx.recipients):
        run("data_spool_each_rcpt", vctx, message, each)
    run("set_binding", vctx, message)
    if vctx.header_edits:
        message.header_block = apply_edits(message.header_block, vctx.header_edits)
    chunks = [part for part in (message.trace, message.header_block, message.separator,
                                message.body) if part]
    code = 250 if sum(map(len, chunks)) > len(raw) else 500
    vctx.reset_message()
    return code


def make_interleave(kilobytes: int) -> Any:
    """Other work between messages, as a daemon does between hooks (None for 0 KB): a
    copy through ``kilobytes`` of memory (evicts caches: both loops pay it, the figure
    is the difference) and a bit of unrelated Python (JSON round trip: other code and
    objects through the instruction cache and branch predictors)."""
    if not kilobytes:
        return None
    source, scratch = bytes(kilobytes * 1024), bytearray(kilobytes * 1024)
    document = {"queue": [{"id": f"{n:08x}", "rcpt": f"user{n}@example.com", "tries": n % 7,
                           "next": 1767225600 + n} for n in range(40)]}

    def interleave() -> None:
        scratch[:] = source
        json.loads(json.dumps(document))
    return interleave


def run_messages(app: App, messages: list[bytes], count: int, start: int,
                 per_connection: int, replies: dict, between: Any = None) -> None:
    vctx = None
    for n in range(start, start + count):
        if between is not None:
            between()
        if vctx is None or n % per_connection == 0:
            vctx = ValidationContext(conn={"peer_ip": "198.51.100.7", "ehlo_domain": "client.example"})
            app.hooks.run("connect", vctx)
            app.hooks.run("ehlo", vctx, "EHLO client.example")
        code = one_message(app, vctx, messages[n % len(messages)])
        replies[code] = replies.get(code, 0) + 1


def measure(engine: str, seconds: float, per_connection: int, rounds: int = 11,
            interleave_kb: int = 0) -> dict[str, Any]:
    """Interleaved rounds of the plain and the Lua loop; CPU us/message of each."""
    messages = make_messages()
    between = make_interleave(interleave_kb)
    with tempfile.TemporaryDirectory(prefix="lua-in-daemon-") as tmp:
        plain_app, lua_app = make_app(Path(tmp), None), make_app(Path(tmp), engine)
        try:
            batch = 100
            for app in (plain_app, lua_app):
                run_messages(app, messages, 2 * batch, 0, per_connection, {})  # warm up
            per_round = seconds / rounds / 2
            costs: dict[str, list[float]] = {"plain": [], "lua": []}
            replies: dict[int, int] = {}
            for _ in range(rounds):
                for label, app in (("plain", plain_app), ("lua", lua_app)):
                    cpu_start, wall_end, count = time.process_time(), time.perf_counter() + per_round, 0
                    while time.perf_counter() < wall_end:
                        run_messages(app, messages, batch, count, per_connection,
                                     replies if label == "lua" else {}, between)
                        count += batch
                    costs[label].append((time.process_time() - cpu_start) / count * 1e6)
        finally:
            plain_app.stop()
            lua_app.stop()
    best = {k: min(v) for k, v in costs.items()}
    median = {k: statistics.median(v) for k, v in costs.items()}
    spread = sorted(lua - plain for lua, plain in zip(costs["lua"], costs["plain"], strict=True))
    return {"engine": engine, "plain_best": best["plain"], "lua_best": best["lua"],
            "cost_best": best["lua"] - best["plain"],
            "cost_median": median["lua"] - median["plain"],
            "round_quartiles": (spread[len(spread) // 4], spread[3 * len(spread) // 4]),
            "replies": replies}


def profile(engine: str, count: int, per_connection: int, top: int = 30) -> None:
    messages = make_messages()
    with tempfile.TemporaryDirectory(prefix="lua-in-daemon-") as tmp:
        app = make_app(Path(tmp), engine)
        try:
            run_messages(app, messages, 200, 0, per_connection, {})
            prof = cProfile.Profile()
            prof.enable()
            run_messages(app, messages, count, 0, per_connection, {})
            prof.disable()
        finally:
            app.stop()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per engine and setting")
    parser.add_argument("--per-connection", type=int, nargs="*", default=[1, 20],
                        help="messages per connection (connect/ehlo and session proxies "
                             "are paid once per connection)")
    parser.add_argument("--engine", choices=available_engines(), action="append")
    parser.add_argument("--both-modes", action="store_true",
                        help="run once with the compiled speedups and once pure Python")
    parser.add_argument("--interleave", type=int, nargs="*", default=[0], metavar="KB",
                        help="other work between messages: a copy through KB of memory "
                             "and a JSON round trip, in both loops (cold caches, as in "
                             "the daemon); 0 = none")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print a cProfile of N messages instead of measuring")
    args = parser.parse_args()
    engines = args.engine or available_engines()
    if args.both_modes:
        argv = [a for a in sys.argv[1:] if a != "--both-modes"]
        for pure in ("0", "1"):
            env = dict(os.environ, ECELERITY_PURE_PYTHON=pure)
            subprocess.run([sys.executable, __file__, *argv], env=env, check=True)
        return
    if args.profile:
        profile(engines[0], args.profile, args.per_connection[0])
        return
    mode = "pure Python" if os.environ.get("ECELERITY_PURE_PYTHON", "0") not in ("", "0") \
        else "compiled speedups"
    for engine in engines:
        for kilobytes in args.interleave:
            for per_connection in args.per_connection:
                got = measure(engine, args.seconds, per_connection, interleave_kb=kilobytes)
                low, high = got["round_quartiles"]
                print(f"{engine:6s} {mode:17s} {per_connection:2d} msg/conn"
                      f"{f', {kilobytes} KB between' if kilobytes else ''}: "
                      f"+{got['cost_best']:5.1f} us CPU/message on top of relay (best rounds: "
                      f"{got['lua_best']:.1f} with Lua - {got['plain_best']:.1f} plain; median "
                      f"+{got['cost_median']:.1f}, per-round quartiles +{low:.1f}..+{high:.1f})"
                      f"; replies {got['replies']}", flush=True)


if __name__ == "__main__":
    main()
