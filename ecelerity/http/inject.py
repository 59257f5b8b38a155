"""REST injection: API key check, then each message made durable exactly as SMTP does.

router.py calls ``handle(service, route, request)`` for ``POST /api/v1/transmissions``
("transmissions") and ``POST /v1.0/inject/`` ("legacy"). The Authorization header
must carry one of the ``rest_api_keys`` of the client's Listen/Peer (the bare key,
or ``Basic base64(key:)``); without keys configured every injection is refused.
Injected recipients are accepted without relay checks: the API key is the
authorization, as in Momentum. Each message gets Message-ID and a ``Received: ...
with HTTP`` trace header, then ``app.spool.store`` (it returns once the message is
fsync'd), the reception counters and mainlog R line, then ``queue_manager.admit``:
the 200 is only built after every store returned. The same steps as
ecelerity/smtp/accept.py ``store()``, whose body is tied to the SMTP session; a
shared "store and admit" helper in core/ would serve both. Never blocks the hub
(the spool's group commit waits in this request's greenlet only).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import json
import socket
import time
from typing import Any

from .. import stats
from ..core.envelope import Envelope, Recipient
from ..core.spool_format import SpoolError, SpoolFullError
from ..smtp.received import message_id_value, received_header
from .legacy_inject import render_legacy
from .responses import Response, json_response, rest_error, unauthorized
from .transmissions import Rendered, TransmissionError, render_transmission

_COUNTER = itertools.count()


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
    accepted = 0
    for message in messages:
        message.context["transmission_id"] = tx_id
        if store_message(service.app, request, message) is not None:
            accepted += 1
        else:
            rejected += 1
    if accepted == 0:
        if messages:
            return rest_error(503, "message not stored", "1500",
                              "the spool refused the message; see the paniclog")
        return rest_error(422, "invalid data format/type", "1300", "no valid recipient address")
    return json_response(200, {"results": {"total_rejected_recipients": rejected,
                                           "total_accepted_recipients": accepted,
                                           "id": tx_id}})


def _legacy(service: Any, request: Any, payload: Any) -> Response:
    results = []
    for item in render_legacy(payload):
        if isinstance(item, str):
            results.append({"status": "failure", "reason": item})
            continue
        batch_id = store_message(service.app, request, item)
        if batch_id is None:
            results.append({"status": "failure", "reason": "451 4.3.0 message not spooled"})
        else:
            results.append({"status": "success", "mid": batch_id, "reason": f"250 {batch_id}"})
    ok = all(r["status"] == "success" for r in results)
    return json_response(200, {"results": results, "status": "success" if ok else "failure"})


def store_message(app: Any, request: Any, message: Rendered) -> str | None:
    """Spool (durably), count, log and queue one message; its batch id, or None."""
    spool = app.spool
    batch_id = spool.idgen.next_id()
    hostname = _hostname(app.config)
    now = time.time()
    headers = f"Message-ID: {message_id_value(batch_id, hostname)}\r\n".encode()
    if b"\nmessage-id:" in b"\n" + message.data.split(b"\r\n\r\n", 1)[0].lower():
        headers = b""
    trace = received_header(helo=None, peer_ip=request.peer_ip, hostname=hostname,
                            protocol="HTTP", msgid=batch_id, when=now)
    envelope = Envelope(
        mail_from=message.mail_from, recipients=[Recipient(message.recipient)],
        peer_ip=request.peer_ip, peer_port=request.peer_port, local_addr=request.listen,
        protocol="http", conn_context={"listener": "http_listener"},
        mess_context=dict(message.context), conn_id=batch_id, received_at=now)
    try:
        batch = spool.store(envelope, [trace, headers, message.data], batch_id=batch_id)
    except (SpoolFullError, SpoolError) as exc:
        app.log("http", f"spool refused injected message for <{message.recipient}>: {exc}")
        return None
    _after_store(app, batch)
    return batch.batch_id


def _after_store(app: Any, batch: Any) -> None:
    try:
        stats.for_app(app).received(batch.messages)
    except Exception as exc:  # noqa: BLE001 - a counter never costs a message
        app.log("http", f"stats update failed: {exc}")
    loggers = getattr(app, "loggers", None)
    if loggers is not None:
        try:
            loggers.reception(batch, batch.batch_id)
        except Exception as exc:  # noqa: BLE001 - logging never costs a message
            app.log("http", f"reception not logged: {exc}")
    queue = getattr(app, "queue_manager", None)
    if queue is not None:
        queue.admit(batch)


def _hostname(cfg: Any) -> str:
    try:
        value = cfg.get("hostname")
    except (KeyError, LookupError):
        value = None
    return str(value or socket.gethostname())
