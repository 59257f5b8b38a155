"""REST injection: API key check, then each message made durable exactly as SMTP does.

router.py calls ``handle(service, route, request)`` for ``POST /api/v1/transmissions``
("transmissions") and ``POST /v1.0/inject/`` ("legacy"). The Authorization header must
carry one of the ``rest_api_keys`` of the client's Listen/Peer (the bare key, or ``Basic
base64(key:)``); without keys configured every injection is refused. Injected recipients
are accepted without relay checks: the API key is the authorization, as in Momentum.
Each message gets Message-ID and a ``Received: ... with HTTP`` trace header, then the
validation phases (policy.py: data_spool, data_spool_each_rcpt, set_binding,
default_binding = none), then core/admit.py ``store_and_admit`` with ``app.spool`` (it
returns once the message is fsync'd; then the reception counters, the mainlog R line
(protocol ``rest``) and ``queue_manager.admit``): the 200 is only built after every
store returned; a spool failure is a 503 (REST) or a ``451 4.3.0`` "failure" result
(legacy). A message policy refused is a rejected recipient: with others accepted, 200
plus ``errors[{code 2000}]`` and ``results.rcpt_to_errors[{message "Message generation
rejected", code 1902, description "<rcpt>: <SMTP reply>"}]``; with none accepted, 400
with that error. smtp/accept.py ``store()`` uses the same core/admit.py helper; the HTTP
log lines and the error mapping stay here. Never blocks the hub (the spool's group
commit waits in this request's greenlet only).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

from .. import stats
from ..core.admit import store_and_admit
from ..core.spool_format import SpoolError, SpoolFullError
from ..smtp.received import message_id_value, received_header
from ..smtp.replies import Reply
from .legacy_inject import render_legacy
from .policy import new_envelope, run_phases
from .responses import Response, json_response, rest_error, unauthorized
from .transmissions import Rendered, TransmissionError, render_transmission

_COUNTER = itertools.count()
GENERATION_REJECTED = "Message generation rejected"


def api_key_of(header: str | None) -> str | None:
    """The API key in an Authorization header: bare, or Basic with the key as user."""
    if not header:
        return None
    value = header.strip()
    if value.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0]
    return value


def authorized(keys: tuple[str, ...], header: str | None) -> bool:
    key = api_key_of(header)
    if not key or not keys:
        return False
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def transmission_id() -> str:
    """A numeric id, as Momentum's (``"11668787484950529"``): microseconds + a counter."""
    return f"{int(time.time() * 1_000_000)}{next(_COUNTER) % 1000:03d}"


def handle(service: Any, route: str, request: Any) -> Response:
    if not authorized(request.settings.rest_api_keys, request.header("authorization")):
        return unauthorized()
    try:
        payload = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return rest_error(400, "invalid data format/type", "1300",
                          f"Error while parsing JSON: {exc}")
    try:
        if route == "transmissions":
            return _transmissions(service, request, payload)
        return _legacy(service, request, payload)
    except TransmissionError as exc:
        return rest_error(exc.status, exc.message, exc.code, exc.description)


def _transmissions(service: Any, request: Any, payload: Any) -> Response:
    messages, rejected = render_transmission(payload)
    tx_id = transmission_id()
    accepted, refusals, spool_failures = 0, [], 0
    for message in messages:
        message.context["transmission_id"] = tx_id
        result = store_message(service.app, request, message)
        if result.accepted:
            accepted += 1
        elif result.refused is not None:
            refusals.append((message.recipient, str(result.refused)))
        else:
            spool_failures += 1
    rejected += len(refusals) + spool_failures
    if accepted == 0:
        if refusals:
            return rest_error(400, GENERATION_REJECTED, "1902",
                              "; ".join(f"<{rcpt}>: {reason}" for rcpt, reason in refusals))
        if messages:
            return rest_error(503, "message not stored", "1500",
                              "the spool refused the message; see the paniclog")
        return rest_error(422, "invalid data format/type", "1300", "no valid recipient address")
    results: dict[str, Any] = {"total_rejected_recipients": rejected,
                               "total_accepted_recipients": accepted, "id": tx_id}
    if not refusals:
        return json_response(200, {"results": results})
    results["rcpt_to_errors"] = [{"message": GENERATION_REJECTED, "code": "1902",
                                  "description": f"<{rcpt}>: {reason}"}
                                 for rcpt, reason in refusals]
    return json_response(200, {"errors": [{"message": "transmission created, but with "
                                           "validation errors", "code": "2000"}],
                               "results": results})


def _legacy(service: Any, request: Any, payload: Any) -> Response:
    results = []
    for item in render_legacy(payload):
        if isinstance(item, str):
            results.append({"status": "failure", "reason": item})
            continue
        result = store_message(service.app, request, item)
        if result.refused is not None:
            results.append({"status": "failure", "reason": str(result.refused)})
        elif not result.accepted:
            results.append({"status": "failure", "reason": "451 4.3.0 message not spooled"})
        else:
            results.append({"status": "success", "mid": result.batch_id,
                            "reason": f"250 {result.batch_id}"})
    ok = all(r["status"] == "success" for r in results)
    return json_response(200, {"results": results, "status": "success" if ok else "failure"})


@dataclass
class StoreResult:
    """One generated message: spooled (batch_id), discarded by policy, or refused."""

    batch_id: str
    stored: bool = False
    discarded: bool = False
    refused: Reply | None = None  # the policy's reply (None with stored False: spool failure)

    @property
    def accepted(self) -> bool:
        return self.stored or self.discarded


def store_message(app: Any, request: Any, message: Rendered) -> StoreResult:
    """Policy phases, then spool (durably), count, log and queue one message."""
    spool = app.spool
    batch_id = spool.idgen.next_id()
    hostname = _hostname(app.config)
    now = time.time()
    headers = f"Message-ID: {message_id_value(batch_id, hostname)}\r\n".encode()
    if b"\nmessage-id:" in b"\n" + message.data.split(b"\r\n\r\n", 1)[0].lower():
        headers = b""
    trace = received_header(helo=None, peer_ip=request.peer_ip, hostname=hostname,
                            protocol="HTTP", msgid=batch_id, when=now)
    envelope = new_envelope(message.mail_from, message.recipient, peer_ip=request.peer_ip,
                            peer_port=request.peer_port, listen=request.listen,
                            context=message.context, msgid=batch_id, now=now)
    outcome = run_phases(app, envelope, batch_id, trace, headers + message.data)
    if outcome.refused is not None:
        app.log("http", f"injected message {batch_id} for <{message.recipient}> refused by "
                        f"policy: {outcome.refused}")
        if outcome.refused.code >= 500:
            _count(app, lambda counters: counters.rejected())
        return StoreResult(batch_id, refused=outcome.refused)
    if outcome.discarded:
        return StoreResult(batch_id, discarded=True)
    try:
        batch = store_and_admit(spool, envelope, outcome.chunks, batch_id=batch_id, app=app,
                                queue=getattr(app, "queue_manager", None),
                                log_reception=lambda stored: _log_reception(app, stored),
                                counters_failed=lambda exc: _count_failed(app, exc))
    except (SpoolFullError, SpoolError) as exc:
        app.log("http", f"spool refused injected message for <{message.recipient}>: {exc}")
        return StoreResult(batch_id)
    return StoreResult(batch.batch_id, stored=True)


def _count(app: Any, update: Any) -> None:
    try:
        update(stats.for_app(app))
    except Exception as exc:  # noqa: BLE001 - a counter never costs a message
        _count_failed(app, exc)


def _count_failed(app: Any, exc: Exception) -> None:
    app.log("http", f"stats update failed: {exc}")


def _log_reception(app: Any, batch: Any) -> None:
    """The mainlog R lines (conn_id: the batch id); a log failure never costs a message."""
    loggers = getattr(app, "loggers", None)
    if loggers is not None:
        try:
            loggers.reception(batch, batch.batch_id)
        except Exception as exc:  # noqa: BLE001 - logging never costs a message
            app.log("http", f"reception not logged: {exc}")


def _hostname(cfg: Any) -> str:
    try:
        value = cfg.get("hostname")
    except (KeyError, LookupError):
        value = None
    return str(value or socket.gethostname())
