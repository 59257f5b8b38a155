"""Run the ESMTP listener alone (no queue, no delivery): for scenario tests and benchmarks.

    python -m ecelerity.smtp.standalone -c ecelerity.conf --spool DIR [--no-fsync]
           [--hooks package.module:function]

Loads the configuration with the real loader, opens the real Spool, starts
SMTPService, prints one JSON line ``{"listens": {"<Listen name>": [host, port]}}``
on stdout once every socket is bound (port 0 in a Listen picks a free port), and
runs until SIGTERM/SIGINT (then stops within about 1 s and exits 0). ``--hooks`` names a
function called with the HookRegistry before the listener starts (test policy).
Configuration errors exit 1 with ``file:line:col: message`` lines on stderr. The
daemon proper (daemon/app.py) does not use this module.
"""
from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import time
from types import SimpleNamespace

import gevent
import gevent.event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecelerity-smtp-standalone")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--spool", required=True)
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--hooks", default=None)
    args = parser.parse_args(argv)

    from ..config.errors import ConfigError
    from ..config.loader import load_config
    from ..core.spool import Spool
    from ..policy.phases import HookRegistry
    from .server import SMTPService

    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    spool = Spool(args.spool, fsync=not args.no_fsync)
    hooks = HookRegistry()
    if args.hooks:
        module_name, _, func_name = args.hooks.partition(":")
        getattr(importlib.import_module(module_name), func_name)(hooks)
    app = SimpleNamespace(config=cfg, spool=spool, hooks=hooks)
    service = SMTPService()
    try:
        service.start(app)
    except Exception as exc:  # noqa: BLE001 - a start-up error is one line for the operator
        print(f"ecelerity-smtp: {exc}", file=sys.stderr)
        return 1
    listens = {name: list(addr[:2]) if isinstance(addr, tuple) else addr
               for name, addr in service.bound_addresses().items()}
    print(json.dumps({"listens": listens}), flush=True)
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()
    service.stop(time.monotonic() + 1.0)
    spool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
