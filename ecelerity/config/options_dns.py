"""Option table: the DNS resolver and its cache.

Read by registry.py only; the delivery DNS code reads values through the resolver.
"""
from __future__ import annotations

from .options_common import GLOBAL, opt
from .types import BOOLEAN, COUNT, PATH, SECONDS, IntegerType

OPTIONS = [
    opt("dns_cache_purge_interval", SECONDS, 60, GLOBAL,
        "how often the DNS cache is scanned for stale entries"),
    opt("dns_expire_interval", SECONDS, 10, GLOBAL,
        "how often domains with expired DNS data are checked"),
    opt("dns_failures_to_purge", COUNT, 10, {"global", "domain"},
        "failed lookups before a domain's DNS data is purged"),
    opt("dns_fallback_to_tcp", BOOLEAN, False, GLOBAL, "retry over TCP when UDP fails", implemented=True),
    opt("min_dns_ttl", SECONDS, 0, GLOBAL, "TTLs below this are raised to it", implemented=True),
    opt("max_dns_ttl", IntegerType(min_value=0, max_value=4294967295), 4294967295, GLOBAL,
        "TTLs above this are lowered to it", implemented=True),
    opt("resolv_conf", PATH, None, GLOBAL, "resolv.conf to use instead of /etc/resolv.conf", implemented=True),
]
