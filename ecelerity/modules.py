"""The module registry: which module stanzas exist, their options, and how they load.

A module stanza is ``name ["instance"] { option = value ... }`` (``ec_logger
"ec_logger" { }``, ``alerting { }``). The validator asks ``module_spec(name)``
whether a stanza kind is a module and which options it takes; the daemon calls
``ModuleSpec.load`` for each configured instance. The core never imports a
module by name: it only goes through this registry.

How a real module registers itself: a file ``modules/<name>.py`` (installed as
the package ``ecelerity_modules``, see setup.py) defines at module level::

    MODULE = ModuleSpec(name="<name>", singleton=False, implemented=True,
                        options={...OptionSpec with scopes {"module"}...},
                        doc="one line", load=<callable(ctx)>)

``load(ctx)`` gets a daemon.module_service.ModuleContext (``ctx.settings``,
``ctx.config``, ``ctx.register_hook(phase, func, priority=...)``,
``ctx.register_command(...)``, ``ctx.on_unload(...)``, ``ctx.log(...)``); what it
registers through ctx is removed when the module is unloaded (reload, stop).

``module_spec(name)`` imports ``ecelerity_modules.<name>`` the first time the
name is asked for and registers its ``MODULE``. Importing a module file must have
no side effect beyond defining ``MODULE`` (work starts in ``load``). Every other
name Momentum documents is in the catalogue below as ``implemented=False,
any_option=True``: the validator accepts such a stanza, and anything inside it,
with the warning "module 'x' accepted but not implemented yet".

Never raise anything but ModuleLoadError for a broken module file.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config.registry import OptionSpec
from .config.types import BOOLEAN, EnumType

_MODULE_SCOPE = frozenset({"module"})


def module_option(spelling: str, type_, default, doc: str, *, implemented: bool = False,
                  dynamic: bool = True) -> OptionSpec:
    """An option valid inside a module stanza."""
    return OptionSpec(name=spelling.lower(), type=type_, default=default, scopes=_MODULE_SCOPE,
                      doc=doc, implemented=implemented, dynamic=dynamic, spelling=spelling)


# Every module takes these (Momentum: "Enabled = false loads a module passively",
# "every module takes Debug_Level").
COMMON_MODULE_OPTIONS: dict[str, OptionSpec] = {
    spec.name: spec
    for spec in (
        module_option("Enabled", BOOLEAN, True, "false loads the module passively"),
        module_option("Debug_Level",
                      EnumType(["debug", "info", "notice", "warning", "error", "critical"]),
                      "error", "paniclog verbosity of this module"),
    )
}


@dataclass(frozen=True)
class ModuleSpec:
    """One loadable module.

    ``singleton``: at most one stanza, and the instance name may be left out.
    Otherwise several named instances may exist. ``options`` always includes
    COMMON_MODULE_OPTIONS. ``any_option``: the validator also accepts options
    and nested stanzas it does not know (still type-checking the declared ones).
    ``load(instance_name, settings)`` starts an instance; None until implemented.
    ``check(stanza)``: the module's own checks of what the generic validator can't type
    (nested engine stanzas...), returning ``[(Location, message[, "warning"])]``;
    validate_config reports them (as errors unless marked "warning") at those locations.
    """

    name: str
    singleton: bool
    options: dict[str, OptionSpec] = field(default_factory=dict)
    implemented: bool = False
    doc: str = ""
    load: Callable | None = None
    any_option: bool = False
    check: Callable | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _key(self.name))
        merged = dict(COMMON_MODULE_OPTIONS)
        merged.update({key.lower(): spec for key, spec in self.options.items()})
        object.__setattr__(self, "options", merged)

    def __hash__(self) -> int:  # options is a dict; the name identifies a module
        return hash(self.name)

    def option(self, name: str) -> OptionSpec | None:
        return self.options.get(name.lower())


class ModuleLoadError(Exception):
    """A file in modules/ exists but could not be imported or has no valid MODULE."""


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


# Known option tables of not-yet-implemented modules (from Momentum's docs), so
# the validator can already type-check them. (ec_logger and bounce_logger moved to
# modules/ec_logger.py and modules/bounce_logger.py when they were implemented.)
_KNOWN_OPTIONS: dict[str, dict[str, OptionSpec]] = {}

# Documented without an instance name (``alerting { }``, ``httpsrv { }``, ``cluster { }``).
_SINGLETONS = frozenset({"alerting", "httpsrv", "cluster"})

# Momentum's documented modules (reference manuals 2.x, 3.x and 4.x), name -> one line.
KNOWN_MODULES: dict[str, str] = {
    "ac_auth": "authentication handler", "adaptive": "adaptive delivery",
    "alerting": "send alerting emails", "alias": "alias expansion", "antivirus": "antivirus",
    "apn": "Apple push notification delivery", "apn_logger": "APN delivery logging",
    "as_logger": "audit series logger", "auth_ds": "datasource-based SMTP authentication",
    "auth_ldap": "LDAP-based SMTP authentication", "auth_mysql": "MySQL-based SMTP authentication",
    "auth_radius": "RADIUS-based SMTP authentication",
    "beik": "Symantec Brightmail engine integration kit",
    "bind_address_secondary": "dual-stack IPv4/IPv6 support",
    "bounce_classifier": "bounce classifier",
    "bounce_classifier_override": "override/augment bounce classifications",
    "bounce_logger": "Momentum-style bounce logging",
    "brightmail": "Symantec Brightmail content scanning", "bzip2io": "bzip2 I/O wrapper",
    "chunk_logger": "chunk logger", "cidrdb": "CIDR database", "clamav": "ClamAV",
    "cloudmark": "Cloudmark Authority content scanning", "cluster": "cluster",
    "commtouch_ctasd": "Commtouch spam protection", "compress_spool": "dynamic spool compression",
    "conntrol": "fine-grained connection control", "csapi": "Symantec CSAPI antivirus",
    "custom_bounce_logger": "custom bounce logging", "custom_logger": "user-defined logging",
    "delay_dsn": "delay DSN generation", "disclaimer": "disclaimer insertion",
    "dk_sign": "DomainKeys signing", "dk_validate": "DomainKeys validation",
    "dkim": "DomainKeys Identified Mail signatures", "dkim_sign": "DKIM signing",
    "dkim_validate": "DKIM validation", "dns_rbl": "DNS blocklists",
    "dnsbuf": "dynamically set the DNS UDP buffer size", "domainkeys": "Yahoo! DomainKeys",
    "ds_core": "datasource query core", "ec_logger": "Momentum-style logging",
    "eleven": "eleven eXpurgate content scanning", "engagement_tracker": "HTTP engagement tracking",
    "event_hydrant": "message tracking", "exim_logger": "Exim-style logging",
    "fbl": "feedback loop", "fingerprint": "host fingerprinting", "fsecure": "F-Secure",
    "gcm": "Google push notification delivery", "gcm_logger": "GCM delivery logging",
    "gzipio": "gzip I/O wrapper", "http_io": "HTTP I/O provider",
    "http_logger": "HTTP requests and responses logging", "httpsrv": "HTTP server", "icu": "ICU",
    "ilf_logger": "incremental license fee logging", "imageanalyzer": "image analyzer",
    "inbound_audit": "inbound traffic analytics", "ipv6_lookup": "multi-address-family MX records",
    "jlog": "jlog-formatted logging", "kaspersky": "Kaspersky",
    "live_bounce_updates": "live bounce updates service", "mail_loop": "mail loop detection",
    "maildir": "maildir delivery", "mm7": "MM7 delivery", "mm7_serv": "MM7 server",
    "mms_bounce_logger": "MMS bounce logging", "mms_logger": "MMS logging",
    "msg_gen": "message generation", "msgc": "Message Systems group communication",
    "msgc_client": "msgc client", "msgc_server": "msgc server", "mtamark": "MTAMARK",
    "mxip": "IP addresses in MX records", "opendkim": "open source DKIM",
    "outbound_audit": "outbound traffic analytics", "outbound_smtp_auth": "outbound SMTP AUTH",
    "persist_io": "persistent I/O wrapper", "pickup": "pickup directory (deprecated)",
    "pipe_io": "pipe I/O wrapper", "pipe_transport": "pipe delivery",
    "postfix_logger": "Postfix-style logging", "reception_timing": "reception timing",
    "regex_binding": "regular-expression-based bindings",
    "regex_binding2": "regular-expression-based bindings (II)",
    "response_transcode": "remote response transcoding", "restinjector": "REST injector",
    "sched": "the schedule module", "scriptlet": "Lua policy scripts",
    "securecreds": "password encryption/credential retrieval", "seedlist": "seedlist integration",
    "senderid": "Sender ID (SPF v2)", "sendmail_logger": "Sendmail-style logging",
    "sieve": "Sieve policy scripts", "sievelib": "Sieve script library", "smpp": "SMPP delivery",
    "smpp_bounce_logger": "SMPP bounce logging", "smpp_logger": "SMPP logging",
    "smtp_auth_proxy": "SMTP authentication proxy", "smtp_cbv": "SMTP callback verification",
    "smtp_rcptto_proxy": "SMTP RCPT TO proxy", "smtpapi": "SMTP engagement tracking",
    "spf_macros": "SPF macros", "spf_v1": "SPF validation", "static_routes": "static routes",
    "stats_producer": "stats producer", "suppress_spool": "deferred message spooling",
    "syslog_io": "syslog I/O", "tls_macros": "TLS-related logging", "url_ripper": "URL extraction",
}

_REGISTERED: dict[str, ModuleSpec] = {}


def register_module(spec: ModuleSpec) -> None:
    """Make ``spec`` the answer for its name (replaces a catalogue entry)."""
    _REGISTERED[spec.name] = spec


def _modules_package():
    """The ``ecelerity_modules`` package; in a source checkout, the repo's modules/ dir."""
    try:
        return importlib.import_module("ecelerity_modules")
    except ModuleNotFoundError as err:
        if err.name != "ecelerity_modules":
            raise
    root = Path(__file__).resolve().parent.parent / "modules"
    init = root / "__init__.py"
    if not init.is_file():
        return None
    spec = importlib.util.spec_from_file_location(
        "ecelerity_modules", init, submodule_search_locations=[str(root)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["ecelerity_modules"] = package
    spec.loader.exec_module(package)
    return package


def _discover(key: str) -> ModuleSpec | None:
    """Import ``ecelerity_modules.<key>`` if such a file exists and return its MODULE."""
    if not key.isidentifier() or _modules_package() is None:
        return None
    qualified = f"ecelerity_modules.{key}"
    if importlib.util.find_spec(qualified) is None:
        return None
    try:
        python_module = importlib.import_module(qualified)
    except Exception as exc:  # any failure of a module file is reported, with its name
        raise ModuleLoadError(f"module '{key}' failed to import: {exc}") from exc
    spec = getattr(python_module, "MODULE", None)
    if not isinstance(spec, ModuleSpec) or spec.name != key:
        raise ModuleLoadError(
            f"module '{key}' ({python_module.__file__}) must define MODULE = ModuleSpec(name='{key}', ...)")
    return spec


def _catalogue_spec(key: str) -> ModuleSpec:
    return ModuleSpec(name=key, singleton=key in _SINGLETONS,
                      options=_KNOWN_OPTIONS.get(key, {}), implemented=False,
                      doc=KNOWN_MODULES[key], any_option=True)


def module_spec(name: str) -> ModuleSpec | None:
    """The module called ``name`` (any case, '-' same as '_'), or None if no such module."""
    key = _key(name)
    spec = _REGISTERED.get(key)
    if spec is not None:
        return spec
    spec = _discover(key)
    if spec is None and key in KNOWN_MODULES:
        spec = _catalogue_spec(key)
    if spec is not None:
        register_module(spec)
    return spec


def known_module_names() -> list[str]:
    """Every module name we know: the catalogue plus registered modules, sorted."""
    return sorted(set(KNOWN_MODULES) | set(_REGISTERED))
