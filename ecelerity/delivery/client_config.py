"""The ClientSettings of one (binding, domain), read through the configuration resolver.

Who calls it: delivery/engine.py, once per hand-off (re-exported there). Reads options
only through ``cfg.get``; never connects anywhere; the one blocking call, the local
FQDN for an unset ``hostname``, is asked once per process (``local_fqdn``).
"""
from __future__ import annotations

import functools
import socket
from typing import Any

from .client_settings import ClientSettings


@functools.lru_cache(maxsize=1)
def local_fqdn() -> str:
    """socket.getfqdn() once per process: it may ask the resolver (blocking the hub), and
    was called for every hand-off when ``hostname`` is not configured."""
    return socket.getfqdn()


def client_settings(cfg: Any, binding: str | None, domain: str) -> ClientSettings:
    """The ClientSettings for one (binding, domain), read through the resolver."""
    def get(option: str) -> Any:
        return cfg.get(option, binding=binding, domain=domain)

    ehlo = get("ehlo_hostname")
    if not ehlo or ehlo == "__hostname__":
        ehlo = cfg.get("hostname") or local_fqdn()
    bind_address = cfg.get("bind_address", binding=binding)
    return ClientSettings(
        ehlo_hostname=ehlo, bind_address=None if bind_address in (None, "", "*") else bind_address,
        tls=get("tls"), tls_verify=get("tls_verify"), tls_ca=get("tls_ca"),
        tls_ifavailable_fallback=get("tls_ifavailable_fallback"),
        send_8bitmime=get("send_8bitmime"),
        transform_8bitmime_content=get("transform_8bitmime_content"), connect_timeout=get("connect_timeout"),
        ehlo_timeout=get("ehlo_timeout"), mailfrom_timeout=get("mailfrom_timeout"),
        rcptto_timeout=get("rcptto_timeout"), body_timeout=get("body_timeout"),
        rset_timeout=get("rset_timeout"))
