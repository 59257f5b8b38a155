"""msys.core.dns_get_domain, msys.core.mail_queue_delay_domain, msys.getClassMetaTable.

Installed by libraries.py.
  msys.core.dns_get_domain(domain) -> a domain record (msys.type "ec_domain_record"),
      or nil for a name that is not a domain. What the delivery side knows of the
      domain right now, read when the record is made:
        dr.name       the domain (lower case)
        dr.mx         array of {host=, ip=, port=, preference=}: the targets delivery
                      would use (gateway / routes / MX -> A), resolved through the
                      delivery engine's DNS cache (only this greenlet waits)
        dr.dns_error  why there are no targets ("451 4.4.0 ...") or nil
        dr.active, dr.delayed, dr.in_flight  totals over the domain's queues
        dr.queues     array of {binding=, active=, delayed=, in_flight=, suspended=,
                      last_error=} (empty offline, without a queue manager)
  msys.core.mail_queue_delay_domain(dr, note) -> nil. Every active message of the
      domain (all bindings) moves to the delayed queue, due after the domain's
      ``retry_interval``; the queues stay delayed until then (new arrivals too), show
      ``note`` (e.g. "451 4.4.1 [internal] manually delayed domain") as their last error,
      and ``domain flush`` / ``flush`` lifts it early. No attempt is spent. ``dr`` may
      also be the domain name. Needs the daemon's queue manager (an error offline).
  msys.getClassMetaTable(name) -> the metatable shared by the proxies of a class:
      "ec_message" (alias "msg"), "validate_context" ("vctx"), "accept_construct"
      ("ac", "accept"), "ec_msgpart" ("msgpart"), "ec_domain_record", "io_wrapper",
      "thread.mutex"...; nil for a class no object has been made of yet. Needs the
      sandbox to expose its class table (``Sandbox.class_metatable``).
Never writes the spool; moves queued messages only through the queue manager's primitives.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CLASS_ALIASES = {"msg": "ec_message", "message": "ec_message", "vctx": "validate_context",
                 "ac": "accept_construct", "accept": "accept_construct",
                 "msgpart": "ec_msgpart", "part": "ec_msgpart", "dr": "ec_domain_record"}
_RECORD_FIELDS = ("name", "mx", "dns_error", "active", "delayed", "in_flight", "queues")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass
class DomainRecord:
    """One snapshot; ``fields`` holds the Lua values the proxy shows."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)


def _record_class(runtime: Any) -> Any:
    found = runtime.__dict__.get("_domain_record_class")
    if found is None:
        getters = {name: (lambda record, key=name: record.fields.get(key)) for name in _RECORD_FIELDS}
        found = runtime.__dict__["_domain_record_class"] = runtime.sandbox.make_class(
            b"ec_domain_record", runtime.table({}), runtime.table(getters))
    return found


def _manager(runtime: Any) -> Any:
    app = getattr(runtime, "app", None)
    return getattr(app, "queue_manager", None) if app is not None else None


def _domain_name(raw: Any) -> str | None:
    name = _text(raw).strip().rstrip(".").lower()
    labels = name.split(".")
    if not name or len(name) > 253 or any(not label or len(label) > 63 for label in labels):
        return None
    if any(ch.isspace() or ch in "@/\\:" for ch in name):
        return None
    return name


def _targets(runtime: Any, domain: str) -> tuple[list[dict], str | None]:
    from ecelerity.delivery.dns import DnsError
    from ecelerity.delivery.routes import RouteError, resolve_targets
    manager = _manager(runtime)
    engine = getattr(manager, "engine", None) if manager is not None else None
    try:
        if engine is not None:
            targets = resolve_targets(manager.config, engine.dns, None, domain)
            return [{"host": t.host, "ip": t.ip, "port": t.port, "preference": t.preference}
                    for t in targets], None
        from .lib_daemon import _resolver  # offline: the runtime's resolver, MX -> A only
        hosts = _resolver(runtime, None).resolve_mx(domain)
        return [{"host": h.name, "ip": ip, "port": 25, "preference": h.preference}
                for h in hosts for ip in h.addresses], None
    except (DnsError, RouteError) as exc:
        return [], str(exc) if isinstance(exc, RouteError) else f"{exc.code} {exc.enhanced} {exc.text}"


def _queue_rows(runtime: Any, domain: str) -> list[dict]:
    manager = _manager(runtime)
    if manager is None:
        return []
    return [{"binding": q.binding, "active": len(q.active), "delayed": len(q.delayed),
             "in_flight": q.in_flight, "suspended": bool(manager.is_suspended(q)),
             "last_error": q.last_error}
            for q in manager.queues() if q.domain == domain]


def dns_get_domain(runtime: Any, raw_domain: Any) -> Any:
    domain = _domain_name(raw_domain)
    if domain is None:
        return None
    targets, problem = _targets(runtime, domain)
    rows = _queue_rows(runtime, domain)
    record = DomainRecord(domain, {
        "name": domain.encode(), "mx": runtime.to_lua(targets),
        "dns_error": problem.encode() if problem else None,
        "active": sum(r["active"] for r in rows), "delayed": sum(r["delayed"] for r in rows),
        "in_flight": sum(r["in_flight"] for r in rows),
        "queues": runtime.to_lua([{k: v for k, v in r.items() if v is not None} for r in rows]),
    })
    return _record_class(runtime)(record)


def _parse_note(note: Any) -> str:
    text = _text(note or b"").strip()
    code = text.split(" ", 1)[0]
    if not (len(code) == 3 and code.isdigit() and code[0] == "4"):
        raise ValueError(f"note must start with a 4xx code (\"451 4.4.1 ...\"), not {text!r}")
    return text


def mail_queue_delay_domain(runtime: Any, record: Any, note: Any = b"451 4.4.1 [internal] "
                            b"manually delayed domain") -> None:
    if runtime.sandbox.class_of(record) == b"ec_domain_record":
        domain = _domain_name(record[b"name"])
    else:
        domain = _domain_name(record) if isinstance(record, bytes) else None
    if domain is None:
        raise TypeError("the first argument must be a domain record (msys.core.dns_get_domain) "
                        "or a domain name")
    reason = _parse_note(note)
    manager = _manager(runtime)
    if manager is None:
        raise RuntimeError("no queue manager here (only inside the daemon)")
    delay_domain(manager, domain, reason)
    return None


def delay_domain(manager: Any, domain: str, reason: str) -> int:
    """Sweep ``domain``'s active messages into their delayed queues and hold the queues
    until ``now + retry_interval``; returns how many messages moved."""
    now = manager.clock.now()
    moved = 0
    for queue in manager.queues():
        if queue.domain != domain:
            continue
        interval = manager.config.get("retry_interval", binding=manager.config_binding(queue.binding),
                                      domain=domain)
        due_at = now + max(1.0, float(interval or 0))
        queue.last_error = reason
        queue.deferred_until = max(queue.deferred_until, due_at)
        moved += manager.sweep_to_delayed(queue, due_at)
    manager.wake()
    return moved


def get_class_metatable(runtime: Any, raw_name: Any) -> Any:
    name = _text(raw_name).strip()
    name = CLASS_ALIASES.get(name.lower(), name)
    lookup = getattr(runtime.sandbox, "class_metatable", None)
    if lookup is None:
        raise RuntimeError("class metatables are not exposed by this sandbox "
                           "(Sandbox.class_metatable missing)")
    return lookup(name.encode())


FUNCTIONS = {"msys.core.dns_get_domain": dns_get_domain,
             "msys.core.mail_queue_delay_domain": mail_queue_delay_domain,
             "msys.getClassMetaTable": get_class_metatable}
