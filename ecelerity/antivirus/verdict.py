"""What a scan result does to a message: context variables and, with action = reject, the reply.

Called by modules/antivirus.py (the data-phase hook of enabled engines), the Sieve
``<engine>_avscan`` actions (policy/sieve/ext_antivirus.py) and msys.av.scan
(policy/lua/lib_av.py) after Engine.scan_message. Momentum's convention: nothing is
set for a clean message; otherwise ``<context_variable>`` (default
``<engine>_status``) becomes ``infected``, ``error`` or ``unscannable`` and
``<context_variable>_info`` the virus name or the error text (``error: ...``).
With ``action = reject``: a virus -> ``reject_code`` (550) ``5.7.1``, an engine
failure -> ``error_code`` (451) ``4.3.0`` naming the engine, an over-size message
-> ``552 5.3.4``; ``pass`` leaves the decision to a policy script.
Never does I/O.
"""
from __future__ import annotations

from typing import Any

from ..policy.vctx import VCTX_CONN, VCTX_MESS
from .engines import EC_AV_CLEAN, EC_AV_ERROR, EC_AV_INFECTED, EC_AV_UNSCANNABLE, EngineSettings, ScanResult

_STATUS_WORD = {EC_AV_INFECTED: "infected", EC_AV_ERROR: "error", EC_AV_UNSCANNABLE: "unscannable"}


def skip_requested(vctx: Any, settings: EngineSettings) -> bool:
    """True when another policy set the engine's skip_context_variable."""
    name = settings.skip_context_variable
    if not name or vctx is None:
        return False
    return bool(vctx.get(VCTX_MESS, name) or vctx.get(VCTX_CONN, name))


def mark_context(vctx: Any, settings: EngineSettings, result: ScanResult) -> None:
    """Set ``<status var>`` and ``<status var>_info`` unless the result is clean."""
    if vctx is None or result.status == EC_AV_CLEAN:
        return
    word = _STATUS_WORD.get(result.status, "error")
    vctx.set(VCTX_MESS, settings.status_variable, word)
    vctx.set(VCTX_MESS, f"{settings.status_variable}_info", result.info or word)


def rejection(settings: EngineSettings, result: ScanResult) -> tuple[int, str] | None:
    """The (code, text) ``action = reject`` answers for this result, or None."""
    if settings.action != "reject" or result.status == EC_AV_CLEAN:
        return None
    if result.status == EC_AV_INFECTED:
        return settings.reject_code, (f"{_enhanced(settings.reject_code, '7.1')} virus "
                                      f"{result.info} found by {settings.name}; message refused")
    if result.status == EC_AV_UNSCANNABLE:
        return 552, f"5.3.4 message cannot be scanned for viruses by {settings.name} ({result.info})"
    reason = (result.info or "scan failed").removeprefix("error: ")
    return settings.error_code, (f"{_enhanced(settings.error_code, '3.0')} virus scanner "
                                 f"{settings.name} unavailable ({reason}); try again later")


def apply(vctx: Any, settings: EngineSettings, result: ScanResult) -> bool:
    """Mark the context and, with action = reject, set the reply; True if a code was set."""
    mark_context(vctx, settings, result)
    refused = rejection(settings, result)
    if refused is None or vctx is None:
        return False
    vctx.set_code(*refused)
    return True


def _enhanced(code: int, detail: str) -> str:
    return f"{str(code)[0]}.{detail}"
