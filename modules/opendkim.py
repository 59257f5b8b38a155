"""The ``opendkim "name" { ... }`` module: DKIM signing of inbound mail, verification.

Stanza (Momentum's opendkim; grammar and checks in ecelerity/dkim/settings.py)::

    opendkim "opendkim1" {
      header_canon = "relaxed"  body_canon = "relaxed"  digest = "rsa-sha256"
      headerlist = ( "from" "to" "subject" "date" "message-id" )
      key = "/etc/ecelerity/dkim/%{d}/%{s}.key"
      sign_condition = "can_sign"       # optional: a vctx key policy sets
      validate_inbound = true           # optional: verify at the data phase
      dkim_domain "example.com" { selector = "s1" }
    }

Signing also needs ``opendkim_sign = true`` (the default) in the sending scope
(global, binding_group, binding, domain). ``load(ctx)`` reads and checks the stanza
(a missing key file fails the load with the stanza's file:line:col in the
paniclog; the daemon keeps running without signing), builds a dkim.service.
DkimService on the app for Lua and Sieve, registers the signing hook last in
data_spool (fallback: last in set_binding) and, with validate_inbound, a
verification hook at the data phase before Sieve and Lua, whose results they
read (vctx ``opendkim_result``: pass|fail|none|temperror|permerror|neutral and
``opendkim_pass_domains``). Only one instance signs: a second stanza is refused.
Importing this file only defines MODULE.
"""
from __future__ import annotations

from typing import Any

from ecelerity.config.types import BOOLEAN, STRING, STRING_LIST, EnumType
from ecelerity.modules import ModuleSpec, module_option

SIGN_PRIORITY = 10_500  # after every policy hook (Lua's audit hooks sit at 10_000)


class _Loaded:
    def __init__(self, app: Any) -> None:
        self.app = app

    def stop(self) -> None:
        from ecelerity.dkim.service import APP_KEY
        self.app.__dict__.pop(APP_KEY, None)


def load(ctx: Any) -> _Loaded:
    from ecelerity.delivery.dns import DnsResolver
    from ecelerity.dkim.keys import KeyCache
    from ecelerity.dkim.service import APP_KEY, DkimService
    from ecelerity.dkim.settings import read_settings
    from ecelerity.dkim.stats import stats_for
    from ecelerity.policy.phases import PRIORITY_MODULE

    app = ctx.app
    if app.__dict__.get(APP_KEY) is not None:
        raise RuntimeError(f"{ctx.instance.loc}: only one opendkim instance may be loaded")
    keys = KeyCache()  # the keys parsed while checking the stanza are the ones we sign with
    settings = read_settings(ctx.instance.stanza, keys)
    stats = stats_for(app)
    try:
        stats.mode = str(ctx.config.get("signing_stats") or "all").lower()
    except (KeyError, ValueError):
        stats.mode = "all"
    resolver = DnsResolver.from_config(ctx.config, timeout=2.0, attempts=2)
    service = DkimService(settings, config=lambda: app.config, stats=stats, resolver=resolver,
                          log=ctx.log, keys=keys)
    app.__dict__[APP_KEY] = service
    ctx.register_hook("data_spool", service.sign_hook, priority=SIGN_PRIORITY,
                      name=f"{ctx.label}:sign")
    ctx.register_hook("set_binding", service.sign_hook, priority=SIGN_PRIORITY,
                      name=f"{ctx.label}:sign")
    if settings.validate_inbound:
        ctx.register_hook("data", service.verify_hook, priority=PRIORITY_MODULE,
                          name=f"{ctx.label}:verify")
    return _Loaded(app)


def _check_stanza(stanza: Any) -> list[tuple]:
    """validate_config's view of the module: every dkim_domain, value and key checked by
    the same read_settings the module runs at load, at its own file:line:col. A key file
    that is missing HERE is a warning (validate_config may run away from the keys); an
    unreadable or unusable one is an error, as it is at load."""
    import os
    import re

    from ecelerity.config.tree import Location
    from ecelerity.dkim.keys import KeyCache
    from ecelerity.dkim.settings import DkimConfigError, read_settings

    absent: list[str] = []

    class PresentKeysOnly(KeyCache):
        def load(self, path: str, digest: str = "rsa-sha256") -> bytes:
            if not os.path.exists(path):
                absent.append(path)
                return b""
            return super().load(path, digest)

    found: list[tuple] = []
    try:
        read_settings(stanza, PresentKeysOnly())
    except DkimConfigError as exc:
        text = str(exc)
        where = re.match(r"^(.*?):(\d+):(\d+): (.*)$", text, re.S)
        loc = Location(where[1], int(where[2]), int(where[3])) if where else stanza.loc
        found.append((loc, where[4] if where else text))
    found += [(stanza.loc, f"DKIM key file '{path}' does not exist here (the module will not load "
               "without it)", "warning") for path in absent]
    return found


def _opt(name: str, type_: Any, default: Any, doc: str) -> Any:
    return module_option(name, type_, default, doc, implemented=True)


MODULE = ModuleSpec(
    name="opendkim", singleton=False, implemented=True, any_option=True, check=_check_stanza,
    doc="DKIM signing (per binding/domain) and verification for Lua and Sieve",
    options={
        "header_canon": _opt("header_canon", EnumType(["relaxed", "simple"]), "relaxed",
                             "header canonicalisation"),
        "body_canon": _opt("body_canon", EnumType(["relaxed", "simple"]), "relaxed",
                           "body canonicalisation"),
        "headerlist": _opt("headerlist", STRING_LIST, None, "header fields to sign"),
        "digest": _opt("digest", EnumType(["rsa-sha256", "rsa-sha1", "ed25519-sha256"]),
                       "rsa-sha256", "signing algorithm"),
        "key": _opt("key", STRING, None, "private key path; %{d} domain, %{s} selector"),
        "selector": _opt("selector", STRING, None, "default selector"),
        "base_domain": _opt("base_domain", STRING, None, "signing domain (d=)"),
        "identity": _opt("identity", STRING, None, "signing identity (i=)"),
        "sign_condition": _opt("sign_condition", STRING, None,
                               "sign only when policy set this vctx key"),
        "validate_inbound": _opt("validate_inbound", BOOLEAN, False,
                                 "verify inbound signatures at the data phase"),
        "dkim_body_length_limit": module_option(
            "dkim_body_length_limit", STRING, None, "sign only part of the body (l=)"),
    },
    load=load,
)
