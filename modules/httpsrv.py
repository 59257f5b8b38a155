"""The ``httpsrv { }`` module: serve the Lua endpoints scripts register on HTTP_Listener.

Momentum's httpsrv is the HTTP server Lua endpoints (``msys.httpsrv.register``) run
on. Here the HTTP_Listener itself is ecelerity/http/ (started by the daemon whenever
an HTTP_Listener is configured, REST injection included); this module only switches
the Lua endpoints of ecelerity/http/endpoints.py on while it is loaded, and adds the
console command ``httpsrv endpoints``. Unloading (stop, reload) empties the table, so
after a reload only the new scripts' endpoints answer. The scripts themselves load
in the scriptlet module; without ``httpsrv { }`` their endpoints answer 404.
Importing this file only defines MODULE.
"""
from __future__ import annotations

from typing import Any

from ecelerity.modules import ModuleSpec


class HttpsrvInstance:
    def __init__(self, table: Any) -> None:
        self.table = table

    def endpoints(self, cmd: Any) -> list[str]:
        return self.table.listing() or ["no Lua HTTP endpoints registered"]

    def stop(self) -> None:
        self.table.enabled = False
        self.table.clear()


def load(ctx: Any) -> HttpsrvInstance:
    from ecelerity.http.endpoints import endpoints_of

    inst = HttpsrvInstance(endpoints_of(ctx.app))
    inst.table.enabled = True
    ctx.register_command("httpsrv endpoints", inst.endpoints,
                         "Lua HTTP endpoints (msys.httpsrv.register): method and base path")
    return inst


MODULE = ModuleSpec(
    name="httpsrv", singleton=True, implemented=True,
    doc="HTTP server for Lua endpoints (msys.httpsrv.register) on HTTP_Listener",
    load=load,
)
