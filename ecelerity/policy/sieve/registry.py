"""Which Sieve commands, tests and Sieve++ functions exist: the one table the compiler reads.

Built at import from each module's COMMANDS / TESTS / FUNCTIONS dicts (standard
Sieve and extensions, then the Sieve++ ext_momentum_* modules); compiler.py looks
names up here and cli.py's ``--list-functions`` prints it. MOMENTUM_MISSING names
the Momentum functions (inventory ``sieve_functions``) not provided, and why. Data
only: never compiles or runs anything.
"""
from __future__ import annotations

from . import (actions, ext_antivirus, ext_body, ext_datasource, ext_dkim, ext_imap4flags,
               ext_include, ext_momentum_actions, ext_momentum_audit, ext_momentum_daemon,
               ext_momentum_data, ext_momentum_dns, ext_momentum_functions, ext_momentum_throttle,
               ext_variables, tests_std)
from .spec import Spec

KNOWN_EXTENSIONS = frozenset({
    "envelope", "fileinto", "reject", "ereject", "variables", "relational", "body", "regex",
    "copy", "subaddress", "encoded-character", "imap4flags", "include",
    "comparator-i;octet", "comparator-i;ascii-casemap", "comparator-i;ascii-numeric",
})
COMMANDS: dict[str, Spec] = {}
TESTS: dict[str, Spec] = {}
FUNCTIONS: dict[str, Spec] = {}   # Sieve++ functions: ``$x = name args;`` (also usable as commands)
for _module in (actions, tests_std, ext_variables, ext_imap4flags, ext_body, ext_include,
                ext_momentum_actions, ext_momentum_functions, ext_momentum_throttle,
                ext_momentum_data, ext_momentum_daemon, ext_momentum_dns, ext_momentum_audit,
                ext_antivirus, ext_datasource, ext_dkim):  # the last three: functions of modules
    COMMANDS.update(getattr(_module, "COMMANDS", {}))
    TESTS.update(getattr(_module, "TESTS", {}))
    FUNCTIONS.update(getattr(_module, "FUNCTIONS", {}))
# Sieve++ scripts may ``require`` any Momentum function name (Momentum's own convention).
SIEVEPP_NAMES = frozenset(set(FUNCTIONS) | {"ec_throttle", "ec_shared_throttle"}
                          | (set(COMMANDS) - {"stop", "keep", "discard", "fileinto", "redirect",
                                              "reject", "ereject", "set", "addflag", "setflag",
                                              "removeflag", "include", "return", "global"}))

# Momentum names that are families here (the documented name is a family of functions).
FAMILIES = {
    "ec_throttle": "ec_throttle_create|inc|dec|check|tarpit",
    "ec_shared_throttle": "ec_shared_throttle_create|inc|check|tarpit (node-local)",
    "antivirus": "clamav_avscan (csapi/f_secure/kaspersky engines not built)",
}
_NEEDS_MODULE = "needs a module that is not built yet"
MOMENTUM_MISSING = {
    "brightmail": f"{_NEEDS_MODULE} (brightmail)",
    "cloudmark_score": f"{_NEEDS_MODULE} (cloudmark)",
    "commtouch_scan": f"{_NEEDS_MODULE} (commtouch)",
    "cidrdb": f"{_NEEDS_MODULE} (cidrdb)",
    "disclaimer_add": f"{_NEEDS_MODULE} (disclaimer)",
    "ec_dk_responsible_domain": f"{_NEEDS_MODULE} (DomainKeys)",
    "ec_dk_sign": f"{_NEEDS_MODULE} (DomainKeys)",
    "ec_host_fingerprint": f"{_NEEDS_MODULE} (passive OS fingerprinting)",
    "ec_url_ripper": f"{_NEEDS_MODULE} (url ripper)",
    "smtp_callback_verify": f"{_NEEDS_MODULE} (smtp_cbv)",
    "snmp_trap": f"{_NEEDS_MODULE} (SNMP)",
    "ec_bounce_classify": "in-band bounce processing (bounce_classifier module) is not built",
    "ec_gauge_cache": f"{_NEEDS_MODULE} (gauge_cache; Lua has msys.gauge_cache)",
    "audit_connections_on_listener": "the listener does not count live sessions per IP yet",
    "audit_connections_on_service": "the listener does not count live sessions per IP yet",
    "audit_service": "the listener does not count live sessions per IP yet",
    "ec_ip_connections_cluster": "no cluster (use ec_ip_connections)",
    "ec_ip_receptions_cluster": "no cluster (use ec_ip_receptions)",
    "ec_ip_rejections_cluster": "no cluster (use ec_ip_rejections)",
    "ec_get_message_spool_name": "a message in validation is not spooled yet",
    "thread_pool_stats": "there are no thread pools (gevent greenlets)",
    "ec_thread_pool_get_queue_size": "there are no thread pools (gevent greenlets)",
}


def list_functions() -> list[str]:
    """``kind name`` lines: function, command or test, then family and missing notes."""
    lines = [f"function {name}" for name in FUNCTIONS]
    lines += [f"command {name}" for name in COMMANDS if name not in FUNCTIONS]
    lines += [f"test {name}" for name in TESTS if name not in FUNCTIONS and name not in COMMANDS]
    lines += [f"family {name} = {members}" for name, members in FAMILIES.items()]
    lines.sort(key=lambda line: line.split(" ", 2)[1])
    lines += [f"missing {name}: {why}" for name, why in sorted(MOMENTUM_MISSING.items())]
    return lines
