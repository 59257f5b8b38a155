"""The ``opendkim`` stanza as typed signing rules (Momentum §opendkim).

    opendkim "opendkim1" {
      header_canon = "relaxed"   body_canon = "relaxed"   digest = "rsa-sha256"
      headerlist = ( "from" "to" "subject" "date" "message-id" )
      key = "/etc/ecelerity/dkim/%{d}/%{s}.key"
      sign_condition = "can_sign"        # a vctx (message or connection) key
      validate_inbound = false           # verify every inbound message at the data phase
      dkim_domain "example.com" { selector = "s1"  base_domain = "example.com" }
    }

Top-level settings are the defaults of every ``dkim_domain``; a ``dkim_domain``
stanza overrides them for mail whose responsible domain (Sender:, else From:) is
that domain or one of its subdomains (the most specific stanza wins). Called by
modules/opendkim.py at load; every mistake is a DkimConfigError starting with
file:line:col (unknown option with did-you-mean, bad value, key file missing or
unusable). Never signs anything and never touches the network.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from ..config.registry import OptionSpec
from ..config.types import BOOLEAN, STRING, STRING_LIST, ConfigValueError, EnumType
from .keys import DkimKeyError, KeyCache, expand_key_path, needs_message

CANONS = ("relaxed", "simple")
DIGESTS = ("rsa-sha256", "rsa-sha1", "ed25519-sha256")


def _spec(name: str, type_: Any, default: Any, doc: str) -> OptionSpec:
    return OptionSpec(name=name, type=type_, default=default, scopes=frozenset({"module"}), doc=doc,
                      implemented=True, dynamic=True, spelling=name)


# Options of a dkim_domain stanza (and defaults at the top of the opendkim stanza).
RULE_OPTIONS: dict[str, OptionSpec] = {spec.name: spec for spec in (
    _spec("header_canon", EnumType(list(CANONS)), "relaxed", "header canonicalisation"),
    _spec("body_canon", EnumType(list(CANONS)), "relaxed", "body canonicalisation"),
    _spec("headerlist", STRING_LIST, None, "header fields to sign (default: dkimpy's RFC 6376 "
          "recommended list, From always included)"),
    _spec("digest", EnumType(list(DIGESTS)), "rsa-sha256", "signing algorithm (a=)"),
    _spec("key", STRING, None, "private key file; %{d} is the signing domain, %{s} the selector"),
    _spec("selector", STRING, None, "selector (s=)"),
    _spec("base_domain", STRING, None, "signing domain (d=) instead of the responsible domain"),
    _spec("identity", STRING, None, "agent or user identifier (i=)"),
    _spec("sign_condition", STRING, None, "sign only when this vctx key is set by policy"),
)}
TOP_OPTIONS: dict[str, OptionSpec] = dict(RULE_OPTIONS)
TOP_OPTIONS["validate_inbound"] = _spec("validate_inbound", BOOLEAN, False,
                                        "verify inbound signatures at the data phase")


class DkimConfigError(Exception):
    """An unusable opendkim setting; the text starts with file:line:col."""


@dataclass(frozen=True)
class SigningRule:
    """How to sign for one domain (or the defaults when ``domain`` is None)."""

    domain: str | None
    selector: str | None = None
    key: str | None = None
    header_canon: str = "relaxed"
    body_canon: str = "relaxed"
    headerlist: tuple[str, ...] | None = None
    digest: str = "rsa-sha256"
    base_domain: str | None = None
    identity: str | None = None
    sign_condition: str | None = None
    loc: Any = None


@dataclass
class DkimSettings:
    """Everything the module needs: defaults, per-domain rules, inbound verification."""

    defaults: SigningRule
    domains: dict[str, SigningRule] = field(default_factory=dict)
    validate_inbound: bool = False

    def rule_for(self, responsible_domain: str) -> SigningRule | None:
        """The most specific dkim_domain for the domain or a parent, else the defaults
        when they can sign on their own (selector and key set); None: do not sign."""
        name = responsible_domain.lower().rstrip(".")
        while name:
            rule = self.domains.get(name)
            if rule is not None:
                return rule
            _, dot, name = name.partition(".")
            if not dot:
                break
        if self.defaults.selector and self.defaults.key:
            return self.defaults
        return None


def _suggest(name: str, options: dict[str, OptionSpec]) -> str:
    import difflib
    close = difflib.get_close_matches(name.lower(), list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _typed(settings: list[Any], options: dict[str, OptionSpec], where: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in settings:
        spec = options.get(setting.key)
        if spec is None:
            if setting.key in ("enabled", "debug_level"):
                continue
            raise DkimConfigError(f"{setting.loc}: unknown option '{setting.name}' in {where}"
                                  f"{_suggest(setting.name, options)}")
        try:
            values[setting.key] = spec.type.parse(setting.value)
        except ConfigValueError as exc:
            raise DkimConfigError(f"{setting.loc}: option '{setting.name}': {exc}") from None
        values.setdefault("_loc_" + setting.key, setting.loc)
        if setting.key == "key" and values["key"] and not os.path.isabs(values["key"]):
            base = os.path.dirname(str(getattr(setting.loc, "file", "")))  # the config's dir
            values["key"] = os.path.join(base, values["key"]) if base else values["key"]
    return values


def _rule(base: SigningRule, values: dict[str, Any], domain: str | None, loc: Any) -> SigningRule:
    changes = {key: value for key, value in values.items()
               if not key.startswith("_loc_") and key in RULE_OPTIONS}
    if "headerlist" in changes and changes["headerlist"] is not None:
        changes["headerlist"] = tuple(str(h).lower() for h in changes["headerlist"])
    rule = replace(base, domain=domain, loc=values.get("_loc_key", loc), **changes)
    return rule


def _check_key(rule: SigningRule, keys: KeyCache, where: str) -> None:
    if not rule.key or not rule.selector:
        return
    domain = rule.base_domain or rule.domain
    if domain is None and needs_message(rule.key):
        return  # the defaults: the domain comes with each message
    path = expand_key_path(rule.key, domain=domain or "", selector=rule.selector)
    try:
        keys.load(path, rule.digest)
    except DkimKeyError as exc:
        raise DkimConfigError(f"{rule.loc}: {where}: {exc}") from None


def read_settings(stanza: Any, keys: KeyCache | None = None) -> DkimSettings:
    """Parse and check an opendkim stanza (config.tree.Stanza); raises DkimConfigError."""
    keys = keys or KeyCache()
    top = _typed(stanza.settings, TOP_OPTIONS, f"opendkim '{stanza.name or ''}'")
    defaults = _rule(SigningRule(None), top, None, stanza.loc)
    settings = DkimSettings(defaults, validate_inbound=bool(top.get("validate_inbound", False)))
    for child in stanza.children:
        if child.kind != "dkim_domain":
            raise DkimConfigError(f"{child.loc}: unknown stanza '{child.spelling}' inside opendkim "
                                  "(expected dkim_domain \"example.com\" { selector = ... })")
        name = (child.name or "").strip().lower().rstrip(".")
        if not name:
            raise DkimConfigError(f"{child.loc}: dkim_domain needs a domain name")
        values = _typed(child.settings, RULE_OPTIONS, f"dkim_domain '{child.name}'")
        rule = _rule(defaults, values, name, child.loc)
        if not rule.selector:
            raise DkimConfigError(f"{child.loc}: dkim_domain '{child.name}' has no selector "
                                  "(set selector here or at the top of the opendkim stanza)")
        if not rule.key:
            raise DkimConfigError(f"{child.loc}: dkim_domain '{child.name}' has no key "
                                  "(set key here or at the top of the opendkim stanza)")
        _check_key(rule, keys, f"dkim_domain '{child.name}'")
        settings.domains[name] = rule
    _check_key(defaults, keys, f"opendkim '{stanza.name or ''}'")
    return settings

