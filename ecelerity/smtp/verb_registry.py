"""The table of SMTP verbs and EHLO keywords every inbound session dispatches through.

Filled on import by the built-in verbs (smtp/verbs.py) and the extensions
(smtp/tls.py, smtp/auth.py, smtp/bdat.py, smtp/xclient.py); read by smtp/session.py
(``VERBS`` for each command line) and smtp/verbs.py (``ehlo_capabilities`` for EHLO).
smtp/session.py re-exports every name here, so ``from .session import register_verb``
keeps working. It never reads configuration (only ``session.settings``) and holds no
per-session state: the tables are process-wide and filled at import time.

- ``register_verb("STARTTLS", handler)``: ``handler(session, arg: str) -> None``
  answers a command verb (upper-case); built-in verbs may be replaced.
- ``register_capability(provider)``: ``provider(session) -> list[str]`` adds EHLO
  keywords (e.g. ``["STARTTLS"]``, ``["AUTH PLAIN LOGIN"]``, ``["CHUNKING"]``).
- ``ehlo_capabilities(session)`` builds the list for one session; ``smtp_extensions``
  replaces it and ``session.capability_edits`` (add/remove, for
  ``ac:esmtp_capability_add/remove``) edits it last.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .session import Session

VerbHandler = Callable[["Session", str], None]
CapabilityProvider = Callable[["Session"], list[str]]
VERBS: dict[str, VerbHandler] = {}
CAPABILITY_PROVIDERS: list[CapabilityProvider] = []


def register_verb(verb: str, handler: VerbHandler) -> None:
    VERBS[verb.upper()] = handler


def register_capability(provider: CapabilityProvider) -> None:
    if provider not in CAPABILITY_PROVIDERS:
        CAPABILITY_PROVIDERS.append(provider)


def ehlo_capabilities(session: "Session") -> list[str]:
    """EHLO keywords for this session: core, then extensions, then per-session edits."""
    size = session.settings.max_message_size
    caps = ["PIPELINING", f"SIZE {size}" if size else "SIZE", "8BITMIME",
            "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN"]
    for provider in CAPABILITY_PROVIDERS:
        caps.extend(provider(session))
    if session.settings.smtp_extensions is not None:
        caps = list(session.settings.smtp_extensions)
    for action, keyword in session.capability_edits:
        if action == "add":
            caps.append(keyword)
        else:
            word = keyword.split()[0].upper()
            caps = [c for c in caps if c.split()[0].upper() != word]
    return caps
