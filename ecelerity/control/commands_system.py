"""Console commands about the process and its subsystems: memory, threads, sysinfo, count,
show inbound|outbound, module list|hooks|reload, spool_in, unlink stats, and the honest
``501`` answers of commands whose subsystem is not in this build yet.

Who calls it: the command registry (``register_system_commands``). Figures come from
the OS (/proc, resource), gevent (threadpool, live greenlets: ``threads``), the SMTP service, the queue manager, the spool and
the module service. Read-only except ``module reload`` (unload and load the
configured modules, as on a configuration reload). Never blocks the hub.
"""
from __future__ import annotations

import gc
import os
import platform
import resource
import sys
from typing import Any

import gevent
import greenlet

from ..dkim.console import cmd_signing_stats, cmd_signing_stats_reset
from .commands_util import queue_admin, service, unavailable
from .registry import CommandContext, CommandError, CommandRegistry, CommandResult


def _proc_status() -> dict[str, str]:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as handle:
            return dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
    except OSError:
        return {}


def cmd_memory(ctx: CommandContext) -> CommandResult:
    status = _proc_status()
    usage_info = resource.getrusage(resource.RUSAGE_SELF)
    data = {"rss_kb": _kb(status.get("VmRSS")), "peak_rss_kb": int(usage_info.ru_maxrss),
            "virtual_kb": _kb(status.get("VmSize")), "python_objects": len(gc.get_objects()),
            "gc_counts": list(gc.get_count()), "gc_frozen": gc.get_freeze_count()}
    return CommandResult(data, lambda d: [f"Resident memory: {d['rss_kb']} kB",
                                          f"Peak resident memory: {d['peak_rss_kb']} kB",
                                          f"Virtual memory: {d['virtual_kb']} kB",
                                          f"Python objects: {d['python_objects']}",
                                          f"GC generation counts: {d['gc_counts']}",
                                          f"GC frozen start-up objects: {d['gc_frozen']}"])


def _kb(text: str | None) -> int:
    try:
        return int((text or "0").split()[0])
    except (ValueError, IndexError):
        return 0


def live_greenlets() -> int:
    """Greenlets alive in this process (O(heap): gc.get_objects; fine for an operator command)."""
    return sum(isinstance(obj, greenlet.greenlet) for obj in gc.get_objects())


def cmd_threads(ctx: CommandContext) -> CommandResult:
    """gevent threadpool (size, max, jobs waiting), OS threads and live greenlets: one row each."""
    pool = gevent.get_hub().threadpool
    queue = getattr(pool, "task_queue", None)
    data = [{"pool": "gevent threadpool", "threads": len(pool), "max": pool.maxsize,
             "queued": queue.qsize() if queue is not None else 0, "unit": "threads"},
            {"pool": "os threads", "threads": int(_proc_status().get("Threads", "0").strip() or 0),
             "max": 0, "queued": 0, "unit": "threads"},
            {"pool": "greenlets", "threads": live_greenlets(), "max": 0, "queued": 0, "unit": "live"}]
    return CommandResult(data, lambda rows: [f"{r['pool']}: {r['threads']} {r.get('unit', 'threads')}"
                                             + (f" (max {r['max']}, {r['queued']} jobs waiting)"
                                                if r["max"] else "") for r in rows])


def cmd_sysinfo(ctx: CommandContext) -> CommandResult:
    uname = platform.uname()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    data = {"hostname": uname.node, "system": f"{uname.system} {uname.release}",
            "machine": uname.machine, "cpus": os.cpu_count(), "load": list(load),
            "python": sys.version.split()[0], "gevent": gevent.__version__, "pid": os.getpid()}
    return CommandResult(data, lambda d: [f"Hostname: {d['hostname']}", f"System: {d['system']}",
                                          f"Machine: {d['machine']}, {d['cpus']} CPUs",
                                          "Load average: " + " ".join(f"{x:.2f}" for x in d["load"]),
                                          f"Python {d['python']}, gevent {d['gevent']}"])


def _inbound(ctx: CommandContext) -> dict[str, Any]:
    smtp = service(ctx, "smtp")
    if smtp is None:
        return {"total": 0, "per_peer": {}}
    return {"total": smtp.limiter.total, "per_peer": dict(sorted(smtp.limiter.per_peer.items())),
            "sessions_started": smtp.sessions_started, "sessions_refused": smtp.sessions_refused}


def _outbound(ctx: CommandContext) -> list[dict[str, Any]]:
    return [{"binding": r.binding, "domain": r.domain, "connections": r.in_flight}
            for r in queue_admin(ctx).stats() if r.in_flight]


def cmd_show_inbound(ctx: CommandContext) -> CommandResult:
    data = _inbound(ctx)
    return CommandResult(data, lambda d: [f"Inbound connections: {d['total']}"]
                         + [f"  {ip}: {n}" for ip, n in d["per_peer"].items()])


def cmd_show_outbound(ctx: CommandContext) -> CommandResult:
    rows = _outbound(ctx)
    return CommandResult(rows, lambda data: [f"Outbound connections: {sum(r['connections'] for r in data)}"]
                         + [f"  {r['binding']}/{r['domain']}: {r['connections']}" for r in data])


def cmd_count(ctx: CommandContext) -> CommandResult:
    data = {"inbound": _inbound(ctx)["total"],
            "outbound": sum(r["connections"] for r in _outbound(ctx))}
    return CommandResult(data, lambda d: [f"Inbound: {d['inbound']}", f"Outbound: {d['outbound']}"])


# -- modules ------------------------------------------------------------------------------
def _module_service(ctx: CommandContext) -> Any:
    modules = service(ctx, "modules")
    if modules is None:
        raise unavailable(ctx, "the module service is not running")
    return modules


def cmd_module(ctx: CommandContext) -> None:
    raise CommandError(400, "module needs a subcommand: list, hooks, reload")


def cmd_module_list(ctx: CommandContext) -> CommandResult:
    from ecelerity.modules import module_spec

    loaded = {c.label for c in _module_service(ctx).loaded}
    rows = []
    for inst in ctx.app.config.modules():
        label = f"{inst.module}:{inst.instance}" if inst.instance else inst.module
        spec = module_spec(inst.module)
        state = ("loaded" if label in loaded else
                 "not implemented" if spec is None or not spec.implemented else "not loaded")
        rows.append({"module": inst.module, "instance": inst.instance, "state": state,
                     "location": str(inst.loc)})
    return CommandResult(rows, lambda data: [f"{'Module':<30} State"] + [
        f"{(r['module'] + (':' + r['instance'] if r['instance'] else '')):<30} {r['state']}" for r in data])


def cmd_module_hooks(ctx: CommandContext) -> CommandResult:
    from ecelerity.policy.phases import PHASES

    hooks = ctx.app.hooks
    rows = [{"phase": p, "priority": h.priority, "name": h.name} for p in PHASES for h in hooks.hooks(p)]
    return CommandResult(rows, lambda data: [f"{r['phase']:<24}{r['priority']:>6}  {r['name']}"
                                             for r in data])


def cmd_module_reload(ctx: CommandContext) -> CommandResult:
    modules = _module_service(ctx)
    modules.reload(ctx.app.config, ctx.app.config)
    labels = [c.label for c in modules.loaded]
    return CommandResult({"loaded": labels}, lambda d: f"modules reloaded: {', '.join(d['loaded']) or 'none'}")


# -- spool ----------------------------------------------------------------------------------
def cmd_spool_in(ctx: CommandContext) -> CommandResult:
    report = getattr(ctx.app, "spool_in", None)
    if report is None:
        raise unavailable(ctx, "the spool service is not running")
    data = {"messages": report.count, "quarantined": [list(q) for q in report.quarantined],
            "segments": len(report.segments), "temp_files_removed": len(report.removed_temp)}
    return CommandResult(data, lambda d: [
        f"spool_in at start-up: {d['messages']} messages from {d['segments']} segments",
        f"quarantined: {len(d['quarantined'])}"] + [f"  {p}: {why}" for p, why in d["quarantined"]])


def cmd_unlink_stats(ctx: CommandContext) -> CommandResult:
    spool = getattr(ctx.app, "spool", None)
    if spool is None:
        raise unavailable(ctx, "the spool service is not running")
    commit = spool.stats
    data = {"messages_in_spool": len(spool), "commit_cycles": commit.cycles, "records": commit.records,
            "fsyncs": commit.fsyncs, "bytes_written": commit.bytes_written,
            "segments_opened": commit.segments_opened, "failed_cycles": commit.failed_cycles}
    return CommandResult(data, lambda d: [f"{k.replace('_', ' ').capitalize()}: {v}" for k, v in d.items()])


def not_available(what: str):
    """A handler answering ``501 <command>: <what>`` (its subsystem is not in this build)."""
    def handler(ctx: CommandContext) -> None:
        raise CommandError(501, f"{ctx.command.name}: {what}")
    return handler


def cmd_pager(ctx: CommandContext) -> str:
    return "paging is done by ec_console itself: type \\pager at its prompt"


NOT_IN_THIS_BUILD = [
    ("sp_async", "access the asynchronous I/O subsystem", "a separate asynchronous I/O subsystem is "
     "not available in this build (gevent's threadpool does that work: see 'threads')"),
    ("fingerprint cache summary", "display the current cache size", "the fingerprint module is not "
     "available in this build"),
    ("fingerprint rejection summary", "display details related to the current inbound connection",
     "the fingerprint module is not available in this build"),
]


def register_system_commands(registry: CommandRegistry) -> None:
    for name, handler, help_text, usage_text in [
        ("memory", cmd_memory, "report memory usage", "memory"),
        ("threads", cmd_threads, "display summary statistics for thread pools", "threads"),
        ("sysinfo", cmd_sysinfo, "show system information", "sysinfo"),
        ("show inbound", cmd_show_inbound, "show all inbound connections", "show inbound"),
        ("show outbound", cmd_show_outbound, "show all outbound connections", "show outbound"),
        ("count", cmd_count, "count open connections", "count"),
        ("module", cmd_module, "manage loaded modules",
         "module list|hooks|reload"),
        ("module list", cmd_module_list, "list configured modules and their state", "module list"),
        ("module hooks", cmd_module_hooks, "list registered validation-phase hooks", "module hooks"),
        ("module reload", cmd_module_reload, "unload and load the configured modules", "module reload"),
        ("spool_in", cmd_spool_in, "what the start-up spool_in read and set aside", "spool_in"),
        ("unlink stats", cmd_unlink_stats, "spool write and removal statistics", "unlink stats"),
        ("pager", cmd_pager, "page output of long console commands (in ec_console)", "pager"),
        ("signing_stats", cmd_signing_stats, "show DK/DKIM signing stats", "signing_stats"),
        ("signing_stats reset", cmd_signing_stats_reset, "reset signing stats", "signing_stats reset"),
    ]:
        registry.register(name, handler, help_text, usage=usage_text, replace=True)
    for name, help_text, what in NOT_IN_THIS_BUILD:
        registry.register(name, not_available(what), help_text, usage=name, replace=True)
