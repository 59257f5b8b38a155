"""Reception's last step: make a message durable, count it, log it, admit it to its queues.

Who calls it: smtp/accept.py ``store()`` (end of DATA / BDAT LAST, after the phases) and
http/inject.py ``store_message()`` (REST and legacy injection). Both hand over the
envelope and the message bytes; what differs stays with them: the SMTP 250 sent early by
the spool's committer (``on_durable``, Session.early_reply), each one's report of a
counter or log failure, the reception log call, and the mapping of a spool failure to
``452 4.3.1`` / ``451 4.3.0`` (SMTP) or an HTTP 5xx / legacy "failure" (HTTP).

Order, always: ``Spool.store`` (returns only once the record is fdatasync'd) -> the
``received`` counters (ecelerity.stats) -> the caller's reception log (mainlog R lines)
-> ``queue.admit`` (delivery may start at once).

What it must never do: admit, count or log a message the spool has not made durable
(a SpoolError / SpoolFullError from the store propagates to the caller before any of
them); let a counter or log failure cost the message (they are reported and passed
over); block the hub (the store waits in the caller's greenlet only); read
configuration.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import stats
from . import spool_latency
from .envelope import Envelope

Report = Callable[[Exception], None]


def store_and_admit(spool: Any, envelope: Envelope, chunks: list[bytes], *, batch_id: str,
                    app: Any, queue: Any, log_reception: Callable[[Any], None],
                    counters_failed: Report,
                    on_durable: Callable[[Any], None] | None = None) -> Any:
    """Store ``chunks`` durably as batch ``batch_id``, then count, log and queue it.

    ``app``: whose ecelerity.stats count the reception (None: nothing counted).
    ``queue``: the QueueManager to admit the batch to (None: not admitted).
    ``log_reception(batch)``: the caller's mainlog R lines; must not raise.
    ``counters_failed(exc)``: called inside the ``except`` when counting failed.
    ``on_durable``: passed to Spool.store only when given (the SMTP early 250).
    Returns the StoredBatch; raises the spool's SpoolError / SpoolFullError unchanged.
    """
    if on_durable is None:
        batch = spool.store(envelope, chunks, batch_id=batch_id)
    else:
        batch = spool.store(envelope, chunks, batch_id=batch_id, on_durable=on_durable)
    spool_latency.mark("stored")
    # Durable from here on: count, log, then hand the recipients to their queues.
    if app is not None:
        try:
            stats.for_app(app).received(batch.messages)
        except Exception as exc:  # noqa: BLE001 - a counter must never cost a message
            counters_failed(exc)
    log_reception(batch)
    if queue is not None:
        queue.admit(batch)
    return batch
