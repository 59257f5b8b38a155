"""Antivirus engines and their scan results: what msys.av, Sieve and the module share.

An Engine is one ``clamav "name" { ... }`` stanza inside ``antivirus { }`` (built by
antivirus/config.py, owned by modules/antivirus.py, which registers it in the
daemon's EngineRegistry). ``scan_message`` scans a whole message (clamd decomposes
MIME itself) or, with ``mime_decompose``, every leaf part of the MIME tree
(core/mime.py, read only) transfer-decoded, stopping at the first virus;
``scan_part`` scans one part. Results use Momentum's msys.av status values.

Bounded: data over ``max_scan_size`` is not sent (the result is UNSCANNABLE), each
clamd exchange is bounded by ``timeout``; only the calling greenlet waits. Never
raises for an engine failure (the result says EC_AV_ERROR) and never touches the
validation context: antivirus/verdict.py does that.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .clamd import ClamdClient

# Momentum's msys.av status values (msys.av.EC_AV_*).
EC_AV_CLEAN = 0
EC_AV_INFECTED = 1
EC_AV_ERROR = 2
EC_AV_UNSCANNABLE = 3
EC_AV_NO_ENGINE = 4
EC_AV_NAME_TOO_LONG = 5
EC_AV_PART_IS_CONTAINER = 6
EC_AV_NOT_SUITABLE_FOR_STREAMING = 7
STATUS_NAMES = {
    EC_AV_CLEAN: "EC_AV_CLEAN", EC_AV_INFECTED: "EC_AV_INFECTED", EC_AV_ERROR: "EC_AV_ERROR",
    EC_AV_UNSCANNABLE: "EC_AV_UNSCANNABLE", EC_AV_NO_ENGINE: "EC_AV_NO_ENGINE",
    EC_AV_NAME_TOO_LONG: "EC_AV_NAME_TOO_LONG", EC_AV_PART_IS_CONTAINER: "EC_AV_PART_IS_CONTAINER",
    EC_AV_NOT_SUITABLE_FOR_STREAMING: "EC_AV_NOT_SUITABLE_FOR_STREAMING",
}
MAX_ENGINE_NAME = 40


@dataclass(frozen=True)
class ScanResult:
    """Momentum's four values: status, informational string (virus name or error
    text), the engine that found the virus (None otherwise), the engine scan code
    (``OK``, ``FOUND``, ``ERROR`` or None when no engine answered)."""

    status: int
    info: str | None = None
    engine: str | None = None
    scan_code: str | None = None

    @property
    def infected(self) -> bool:
        return self.status == EC_AV_INFECTED


@dataclass
class EngineSettings:
    """The typed options of one engine stanza (see antivirus/config.py for the docs)."""

    name: str
    kind: str = "clamav"
    daemon: str = "127.0.0.1:3310"
    timeout: float = 10.0
    action: str = "reject"
    enabled: bool = True
    context_variable: str = ""
    skip_context_variable: str = "skip_virus_check"
    error_code: int = 451
    reject_code: int = 550
    max_scan_size: int = 25 * 1024 * 1024
    mime_decompose: bool = False
    loc: Any = None

    @property
    def status_variable(self) -> str:
        return self.context_variable or f"{self.name}_status"


@dataclass
class EngineStats:
    """The ``antivirus:<inst> stats`` counters of one engine."""

    messages: int = 0
    parts: int = 0
    viruses: int = 0
    errors: int = 0
    message_seconds: float = 0.0
    part_seconds: float = 0.0


class Engine:
    """One configured engine: a clamd client plus its settings and counters."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.client = ClamdClient(settings.daemon, settings.timeout)
        self.stats = EngineStats()

    def scan_bytes(self, data: bytes) -> ScanResult:
        """Scan one buffer; over max_scan_size it is UNSCANNABLE and not sent."""
        if len(data) > self.settings.max_scan_size:
            return ScanResult(EC_AV_UNSCANNABLE, f"{len(data)} bytes exceed max_scan_size "
                              f"{self.settings.max_scan_size}", None, None)
        reply = self.client.scan(data)
        if reply.virus is not None:
            self.stats.viruses += 1
            return ScanResult(EC_AV_INFECTED, reply.virus, self.name, "FOUND")
        if reply.error is not None:
            self.stats.errors += 1
            return ScanResult(EC_AV_ERROR, f"error: {reply.error}", None,
                              "ERROR" if reply.raw else None)
        return ScanResult(EC_AV_CLEAN, None, None, "OK")

    def scan_message(self, data: bytes, message_model: Any = None) -> ScanResult:
        """The whole message, or each decoded leaf part when mime_decompose is set
        (``message_model``: a core.message.Message, built from ``data`` if None)."""
        started = time.monotonic()
        self.stats.messages += 1
        try:
            if not self.settings.mime_decompose:
                return self.scan_bytes(data)
            if message_model is None:
                from ..core.message import Message
                message_model = Message(data)
            worst = ScanResult(EC_AV_CLEAN, None, None, "OK")
            for part in leaf_parts(message_model.mime()):
                result = self._scan_one_part(part)
                if result.infected:
                    return result
                if result.status != EC_AV_CLEAN and worst.status == EC_AV_CLEAN:
                    worst = result
            return worst
        finally:
            self.stats.message_seconds += time.monotonic() - started

    def scan_part(self, part: Any) -> ScanResult:
        """One MIME part, transfer-decoded; a multipart is EC_AV_PART_IS_CONTAINER."""
        if part.is_multipart and part.children:
            return ScanResult(EC_AV_PART_IS_CONTAINER, "a container part cannot be scanned")
        return self._scan_one_part(part)

    def _scan_one_part(self, part: Any) -> ScanResult:
        started = time.monotonic()
        self.stats.parts += 1
        try:
            return self.scan_bytes(part.body())
        finally:
            self.stats.part_seconds += time.monotonic() - started

    def version(self) -> str:
        from .clamd import ClamdUnavailable
        try:
            return self.client.command("VERSION")
        except ClamdUnavailable as exc:
            return f"unavailable ({exc})"


def leaf_parts(root: Any) -> list[Any]:
    """The parts that carry content (no multipart containers), depth first."""
    return [part for part in root.walk() if not (part.is_multipart and part.children)]


@dataclass
class EngineRegistry:
    """The daemon's configured engines by name, in configuration order (one per app)."""

    engines: dict[str, Engine] = field(default_factory=dict)

    def add(self, engine: Engine) -> None:
        self.engines[engine.name] = engine

    def remove(self, engine: Engine) -> None:
        if self.engines.get(engine.name) is engine:
            del self.engines[engine.name]

    def names(self) -> list[str]:
        return list(self.engines)

    def pick(self, name: str | None) -> tuple[list[Engine], ScanResult | None]:
        """The engines a scan uses (one by name, or all) or the result explaining why none."""
        if name:
            if len(name) > MAX_ENGINE_NAME:
                return [], ScanResult(EC_AV_NAME_TOO_LONG, f"engine name longer than {MAX_ENGINE_NAME}")
            engine = self.engines.get(name)
            if engine is None:
                return [], ScanResult(EC_AV_NO_ENGINE, f"no antivirus engine named {name!r}")
            return [engine], None
        if not self.engines:
            return [], ScanResult(EC_AV_NO_ENGINE, "no antivirus engine is configured")
        return list(self.engines.values()), None

    def of_kind(self, kind: str) -> list[Engine]:
        return [engine for engine in self.engines.values() if engine.settings.kind == kind]


def registry_of(app: Any) -> EngineRegistry:
    """The app's EngineRegistry (created on first use; empty without an app)."""
    if app is None:
        return EngineRegistry()
    found = app.__dict__.get("antivirus_engines")
    if found is None:
        found = app.__dict__["antivirus_engines"] = EngineRegistry()
    return found


def scan_with(engines: list[Engine], scan: Any) -> ScanResult:
    """Run ``scan(engine)`` on each engine; the first virus wins, else the first
    non-clean result, else clean (Momentum: stop at the first engine that finds one)."""
    outcome: ScanResult | None = None
    for engine in engines:
        result = scan(engine)
        if result.infected:
            return result
        if outcome is None or (outcome.status == EC_AV_CLEAN and result.status != EC_AV_CLEAN):
            outcome = result
    return outcome or ScanResult(EC_AV_NO_ENGINE, "no antivirus engine is configured")
