"""A loaded opendkim instance: signs inbound mail before spooling, verifies on request.

Created by modules/opendkim.py ``load(ctx)`` and kept on the app (``service_for``)
so Lua (msys.validate.opendkim.*), Sieve++ (ec_dkim_*) and the ``signing_stats``
command find it. ``sign_hook`` runs at the end of the data_spool phase (and, if a
hook ended that phase early with DONE, at the end of set_binding), once per
message: it first applies the header edits policy asked for (so headers added by
Sieve/Lua are signed), honours ``sign_condition`` and the ``opendkim_sign`` option
(resolver Config.get for the message's binding and first recipient's domain),
then prepends the DKIM-Signature. A signing failure is counted and logged; the
message goes on unsigned (never a 4xx for a key problem). ``verify`` runs dkimpy
with key lookups through a DnsResolver built from the daemon's DNS options
(``resolv_conf``...), on gevent sockets. Never writes the spool itself.
"""
from __future__ import annotations

import base64
import textwrap
from dataclasses import replace
from typing import Any, Callable

from ..smtp.headers import apply_edits
from .keys import DkimKeyError, KeyCache, expand_key_path
from .settings import CANONS, DIGESTS, DkimSettings, SigningRule
from .signer import SigningError, SignRequest, responsible_domain, sign
from .stats import SigningStats
from .verifier import VerifyResult, txt_from_resolver, verify_message

_FALSE = ("", "0", "false", "no", "off")
APP_KEY = "opendkim_service"


class DkimService:
    """Signing rules + keys + stats + a key-record lookup; one per loaded instance."""

    def __init__(self, settings: DkimSettings, *, config: Callable[[], Any], stats: SigningStats,
                 resolver: Any, log: Callable[[str], None], keys: KeyCache | None = None) -> None:
        self.settings = settings
        self.config = config
        self.stats = stats
        self.keys = keys or KeyCache()
        self.txt_lookup = txt_from_resolver(resolver) if resolver is not None else None
        self.log = log

    # -- which domains and rules ---------------------------------------------------------
    def domains(self) -> list[str]:
        """Domains with a dkim_domain stanza (Sieve's ec_dkim_domains)."""
        return sorted(self.settings.domains)

    def request_for(self, header_block: bytes, overrides: dict[str, Any] | None = None,
                    ) -> tuple[SignRequest | None, str]:
        """The signature to make for this message, or (None, why not)."""
        overrides = {k.lower(): v for k, v in (overrides or {}).items() if v not in (None, "")}
        responsible = responsible_domain(header_block)
        forced = overrides.get("base_domain") or overrides.get("signing_domain")
        rule = self.settings.rule_for(str(forced or responsible))
        if rule is None:
            if not overrides.get("selector") and not (overrides.get("keyfile") or overrides.get("keybuf")):
                return None, f"no dkim_domain for '{responsible or '(no From:)'}'"
            rule = self.settings.defaults
        rule = _override(rule, overrides)
        domain = str(forced or rule.base_domain or rule.domain or responsible).lower()
        if not domain or not rule.selector:
            return None, "no signing domain or selector"
        if overrides.get("keybuf"):
            pem = self.keys.from_pem(_pem(str(overrides["keybuf"])), rule.digest, "keybuf")
        else:
            template = overrides.get("keyfile") or rule.key
            if not template:
                return None, f"no key for d={domain}"
            pem = self.keys.load(expand_key_path(str(template), domain=domain,
                                                 selector=rule.selector), rule.digest)
        return SignRequest(domain, rule.selector, pem, rule.header_canon, rule.body_canon,
                           rule.headerlist, rule.digest, rule.identity), ""

    def sign_bytes(self, message: bytes, header_block: bytes,
                   overrides: dict[str, Any] | None = None) -> bytes | None:
        """The DKIM-Signature field for ``message``, or None (counted as skipped/error)."""
        try:
            request, why = self.request_for(header_block, overrides)
        except DkimKeyError as exc:
            self.stats.count("errors", responsible_domain(header_block))
            self.log(f"opendkim: not signed: {exc}")
            return None
        if request is None:
            self.stats.count("skipped", responsible_domain(header_block))
            return None
        try:
            field = sign(message, request)
        except SigningError as exc:
            self.stats.count("errors", request.domain)
            self.log(f"opendkim: not signed: {exc}")
            return None
        self.stats.count("signed", request.domain)
        return field

    # -- the inbound hook ----------------------------------------------------------------
    def sign_hook(self, vctx: Any, message: Any) -> int:
        if message.__dict__.get("_opendkim_signed") is not None or vctx.discarded:
            return 0
        message.__dict__["_opendkim_signed"] = False
        requested = message.__dict__.get("_opendkim_request")  # Sieve's ec_dkim_sign
        if requested is None and not self._wanted(vctx, message.header_block):
            self.stats.count("skipped", responsible_domain(message.header_block))
            return 0
        if vctx.header_edits:  # policy's header edits are part of what is signed
            message.header_block = apply_edits(message.header_block, vctx.header_edits)
            vctx.header_edits = []
        field = self.sign_bytes(message.data(), message.header_block, requested)
        if field is not None:
            message.header_block = field + message.header_block
            message.__dict__["_opendkim_signed"] = True
        return 0

    def _wanted(self, vctx: Any, header_block: bytes) -> bool:
        """sign_condition (a vctx key policy set) and opendkim_sign for the message's scope."""
        rule = self.settings.rule_for(responsible_domain(header_block)) or self.settings.defaults
        if rule.sign_condition and _unset(vctx, rule.sign_condition):
            return False
        rcpt_domain = vctx.recipients[0].domain if vctx.recipients else None
        return bool(self.config().get("opendkim_sign", binding=vctx.binding, domain=rcpt_domain))

    # -- verification --------------------------------------------------------------------
    def verify(self, message: bytes) -> VerifyResult:
        if self.txt_lookup is None:
            raise RuntimeError("no DNS resolver for DKIM key lookups")
        return verify_message(message, self.txt_lookup)

    def verify_hook(self, vctx: Any, message: Any) -> int:
        result = self.verify(message.data())
        vctx.mess["opendkim_result"] = result.summary
        vctx.mess["opendkim_pass_domains"] = " ".join(
            sorted({sig.domain for sig in result.signatures if sig.passed}))
        return 0


def _unset(vctx: Any, key: str) -> bool:
    for scope in (vctx.mess, vctx.conn):
        value = scope.get(key)
        if value is not None and str(value).strip().lower() not in _FALSE:
            return False
    return True


def _override(rule: SigningRule, overrides: dict[str, Any]) -> SigningRule:
    changes: dict[str, Any] = {}
    for name in ("header_canon", "body_canon"):
        if name in overrides:
            value = str(overrides[name]).lower()
            if value not in CANONS:
                raise ValueError(f"{name} must be relaxed or simple, not {value!r}")
            changes[name] = value
    if "digest" in overrides:
        digest = str(overrides["digest"]).lower()
        if digest not in DIGESTS:
            raise ValueError(f"digest must be one of {', '.join(DIGESTS)}, not {digest!r}")
        changes["digest"] = digest
    if "headerlist" in overrides:
        value = overrides["headerlist"]
        names = value.replace(":", " ").split() if isinstance(value, str) else list(value)
        changes["headerlist"] = tuple(str(n).strip().lower() for n in names if str(n).strip())
    for name in ("selector", "identity"):
        if name in overrides:
            changes[name] = str(overrides[name])
    return replace(rule, **changes) if changes else rule


def _pem(text: str) -> bytes:
    """Lua's keybuf: a whole PEM, or Momentum's bare base64 body (no BEGIN/END lines)."""
    if "-----BEGIN" in text:
        return text.encode()
    body = "".join(text.split())
    base64.b64decode(body, validate=True)
    lines = "\n".join(textwrap.wrap(body, 64))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY-----\n".encode()


def service_for(app: Any) -> DkimService | None:
    """The loaded opendkim instance's service, or None when the module is not loaded."""
    return getattr(app, "__dict__", {}).get(APP_KEY) if app is not None else None
