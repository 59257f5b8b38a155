"""One control channel for a multi-process daemon: ask every worker, merge the answers.

Who calls it: the supervisor's ControlService (daemon/supervisor.py) runs every command
line through ``Aggregator.execute`` after the connection's Gate authenticated and
authorized it. Workers answer on their private sockets (trusted, mode 0600).

Rules:
- the supervisor's own: ``pid`` (its pid), ``shutdown``, ``workers`` (index, pid,
  state, restarts), ``worker I <command>`` (one worker's own answer), ``config reload``
  (the supervisor, then every worker; fails when one fails), ``reopen logs``;
- the same in every worker, asked of worker 0: ``version``, ``help``, ``paniclog``
  (one shared file), ``config eval/get/locate/...`` (one configuration); ``spool import``
  and ``spool import_poll`` (worker 0 imports, into its spool partition: asked of
  every worker, each would copy the same mail);
- ``MERGED`` commands (summary, mailq, binding summary, domain, showqueue, message
  details, the flush/fail/retry operations...) are asked of every worker in their
  ``--json`` form and merged by ``merge``: numbers add up (``uptime`` and
  ``since_reset`` take the largest), lists are concatenated with rows that name the
  same thing (same text fields: binding, domain...) merged into one, equal texts kept;
  commands about one message keep the workers that found it. The text form is then
  rendered from the merged data with the command's own renderer. Approximation:
  ``active_domains`` counts a domain once per worker that has it active.
- anything else is asked of every worker as typed; equal answers are shown once,
  different ones one after another under ``--- worker I``.
A worker that does not answer (restarting) is left out and named in the status text.
Never raises into the control server; never blocks the hub (gevent sockets).
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable

import gevent
from gevent import socket as gsocket

from .protocol import MAX_LINE, ProtocolError, Reply, check_greeting, read_reply, split_command, take_json_flag

ASK_TIMEOUT = 30.0
MAX_KEYS = frozenset({"uptime", "since_reset"})
ONE_WORKER = ("version", "help", "paniclog", "config eval", "config get", "config locate",
              "config show", "config list", "config dump",
              "spool import", "spool import_poll")  # one importer, or every worker copies the mail


def ask(path: str, line: str, timeout: float = ASK_TIMEOUT) -> Reply:
    """Run one command on the control socket at ``path`` (gevent; OSError/ProtocolError)."""
    sock = gsocket.socket(gsocket.AF_UNIX, gsocket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        reader = sock.makefile("rb")
        try:
            check_greeting(reader.readline(MAX_LINE).decode("utf-8", "replace"))
            sock.sendall(line.encode("utf-8") + b"\n")
            return read_reply(reader.readline)
        finally:
            reader.close()
    finally:
        sock.close()


# -- merging -------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _identity(row: dict[str, Any]) -> tuple:
    return tuple(sorted((k, v) for k, v in row.items() if isinstance(v, (str, bool)) or v is None))


def merge(values: list[Any], key: str = "") -> Any:
    """Merge the JSON answers of several workers (see the module docstring)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    if all(isinstance(v, dict) for v in values):
        keys: list[str] = []
        for v in values:
            keys.extend(k for k in v if k not in keys)
        return {k: merge([v[k] for v in values if k in v], k) for k in keys}
    if all(isinstance(v, list) for v in values):
        rows = [row for v in values for row in v]
        if not all(isinstance(row, dict) for row in rows):
            return rows
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(_identity(row), []).append(row)
        return [merge(group) for group in groups.values()]
    if all(_is_number(v) for v in values):
        return max(values) if key in MAX_KEYS else sum(values)
    return values[0]


def _render_mailq(data: dict[str, Any]) -> list[str]:
    rows = sorted(data.get("QueueSummary", []), key=lambda r: (-(r["aq"] + r["dq"]), r["binding"], r["domain"]))
    lines = [f"{'Group/Binding':<40}{'Domain':>18}{'AQ':>8}{'DQ':>8}", "-" * 74]
    for r in rows:
        lines.append(f"{r['group'] + '/' + r['binding']:<40}{r['domain']:>18}{r['aq']:>8}{r['dq']:>8}")
    return lines


def _render_showqueue(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in rows:
        lines.append(f"[{r['state']}/{r['binding']}] {r['id']} Created: {r['created']}")
        lines.append(f"  From: <{r['from']}> To: <{r['to']}>")
    return lines


def _render_counted(d: dict[str, Any]) -> list[str]:
    return [f"{d['messages']} message(s) {d['action']} {d['where']}".rstrip()]


def _renderers() -> dict[str, Callable[[Any], list[str]]]:
    from .commands_domain import _render_details, render_domain
    from .commands_queue import _render_binding_summary, _render_summary

    counted = ("fail domain", "fail domain quiet", "binding fail domain", "binding fail domain quiet",
               "fail all", "fail all quiet", "flush domain", "binding flush domain",
               "message retry", "message fail", "message fail quiet", "reroute queue", "rebind")
    table: dict[str, Callable[[Any], list[str]]] = {name: _render_counted for name in counted}
    table.update({"summary": _render_summary, "binding summary": _render_binding_summary,
                  "domain": render_domain, "message details": _render_details,
                  "mailq": _render_mailq, "showqueue": _render_showqueue})
    return table


def _longest(words: list[str], names: Any) -> str | None:
    lowered = [w.lower() for w in words]
    for count in range(len(words), 0, -1):
        name = " ".join(lowered[:count])
        if name in names:
            return name
    return None


class Aggregator:
    """The supervisor's command executor; ``supervisor`` is a daemon/supervisor.Supervisor."""

    def __init__(self, supervisor: Any) -> None:
        self.supervisor = supervisor
        self._renderers: dict[str, Callable[[Any], list[str]]] | None = None

    @property
    def renderers(self) -> dict[str, Callable[[Any], list[str]]]:
        if self._renderers is None:
            self._renderers = _renderers()
        return self._renderers

    def execute(self, line: str, app: Any = None, *, peer: str = "", on_error: Any = None,
                identity: Any = None) -> Reply:
        try:
            words, want_json = take_json_flag(split_command(line))
        except ProtocolError as exc:
            return Reply(400, str(exc))
        if not words:
            return Reply(400, "empty command; try 'help'")
        try:
            return self._route(line, words, want_json, peer)
        except Exception as exc:  # noqa: BLE001 - never a traceback on the wire
            if on_error is not None:
                on_error(" ".join(words[:2]), exc)
            return Reply(500, f"internal error: {type(exc).__name__}: {exc}")

    # -- routing ---------------------------------------------------------------------------
    def _route(self, line: str, words: list[str], want_json: bool, peer: str) -> Reply:
        sup = self.supervisor
        first = words[0].lower()
        name = " ".join(w.lower() for w in words[:2])
        if first == "pid" and len(words) == 1:
            return self._local({"pid": os.getpid()}, want_json, [str(os.getpid())])
        if first == "shutdown":
            sup.request_shutdown(f"console {peer}".strip())
            return self._local({"output": ["shutting down"]}, want_json, ["shutting down"])
        if first == "workers":
            return self._workers(want_json)
        if first == "worker" and len(words) >= 3 and words[1].isdigit():
            return self._one(int(words[1]), line.split(None, 2)[2])
        if name == "config reload":
            return self._reload(line)
        if name == "reopen logs":
            sup.reopen_logs()
            return self._all_text(line)
        if _longest(words, ONE_WORKER) is not None:
            return self._one(0, line)
        merged = _longest(words, self.renderers)
        if merged is not None:
            return self._merged(merged, line, want_json)
        return self._all_text(line)

    def _local(self, data: Any, want_json: bool, text: list[str]) -> Reply:
        return Reply(200, "ok", json.dumps(data, indent=2).splitlines() if want_json else text)

    def _one(self, index: int, line: str) -> Reply:
        if not 0 <= index < len(self.supervisor.slots):
            return Reply(404, f"no worker {index} (workers 0..{len(self.supervisor.slots) - 1})")
        try:
            return ask(self.supervisor.worker_socket(index), line)
        except (OSError, ProtocolError) as exc:
            return Reply(503, f"worker {index} is not answering: {exc}")

    def ask_all(self, line: str) -> tuple[list[tuple[int, Reply]], list[int]]:
        """Every worker's reply to ``line`` (in parallel) and the indexes that did not answer."""
        count = len(self.supervisor.slots)
        jobs = [gevent.spawn(ask, self.supervisor.worker_socket(i), line) for i in range(count)]
        gevent.joinall(jobs, timeout=ASK_TIMEOUT + 1)
        answered = [(i, job.value) for i, job in enumerate(jobs) if job.successful() and job.value]
        missing = [i for i, job in enumerate(jobs) if not (job.successful() and job.value)]
        for job in jobs:
            job.kill(block=False)
        return answered, missing

    @staticmethod
    def _status(text: str, missing: list[int]) -> str:
        if not missing:
            return text
        return f"{text} (worker{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} not answering)"

    def _merged(self, name: str, line: str, want_json: bool) -> Reply:
        answered, missing = self.ask_all(line if want_json else line + " --json")
        if not answered:
            return Reply(503, "no worker is answering")
        good = [(i, r) for i, r in answered if r.ok]
        if not good:
            return answered[0][1]
        data = merge([json.loads(r.body_text) for _, r in good])
        body = (json.dumps(data, indent=2, default=str).splitlines() if want_json
                else self.renderers[name](data))
        return Reply(200, self._status(good[0][1].text, missing), body)

    def _all_text(self, line: str) -> Reply:
        answered, missing = self.ask_all(line)
        if not answered:
            return Reply(503, "no worker is answering")
        first = answered[0][1]
        if all(r.status == first.status and r.body == first.body for _, r in answered):
            return Reply(first.status, self._status(first.text, missing), first.body)
        body: list[str] = []
        for index, reply in answered:
            body.append(f"--- worker {index}: {reply.status} {reply.text}")
            body.extend(reply.body)
        worst = max(r.status for _, r in answered)
        return Reply(worst if worst >= 300 else 200, self._status("ok", missing), body)

    def _reload(self, line: str) -> Reply:
        ok, errors = self.supervisor.reload("console")
        if not ok:
            return Reply(550, "Reconfigure failed", ["Reconfigure failed", *errors])
        answered, missing = self.ask_all(line)
        failed = [(i, r) for i, r in answered if not r.ok]
        if failed:
            body = ["Reconfigure failed"]
            for index, reply in failed:
                body += [f"worker {index}: {reply.status} {reply.text}", *reply.body]
            return Reply(550, "Reconfigure failed", body)
        return Reply(200, self._status("reload ok", missing), ["reload ok"])

    def _workers(self, want_json: bool) -> Reply:
        rows = [{"worker": s.index, "pid": s.pid, "state": s.state, "restarts": s.restarts}
                for s in self.supervisor.slots]
        text = [f"worker {r['worker']}: pid {r['pid']} {r['state']} (restarts {r['restarts']})" for r in rows]
        return self._local(rows, want_json, text)
