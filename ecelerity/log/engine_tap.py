"""What the logs learn about a delivery attempt that the queue's observers do not carry.

log/service.py's LogHub wraps the queue manager's delivery engine in an ``EngineTap``
(``attach_queue``): for every result of ``deliver`` it remembers the result (remote IP,
stage, bytes sent, outbound connection id, classification) and the message's retry
count before the attempt, keyed by message id; the hub's ``observe`` consumes the memo
and builds an ``Attempt`` from it and the queue's reason text. Never changes what the
engine returns and never raises on odd results.
"""
from __future__ import annotations

from typing import Any

MAX_TAPPED = 100_000  # attempts remembered without an outcome before the memo is reset


class Attempt:
    """One attempt's result as the logs see it: the engine's details, the queue's reason."""

    def __init__(self, result: Any, text: str):
        code, enhanced, rest = split_response(text)
        self.code = code if code is not None else getattr(result, "code", None)
        self.enhanced = enhanced if code is not None else getattr(result, "enhanced", "")
        self.text = rest if code is not None else getattr(result, "text", text)
        for name in ("stage", "remote_ip", "bytes_sent", "conn_id", "outcome", "classification"):
            setattr(self, name, getattr(result, name, None))


def split_response(text: str) -> tuple[int | None, str, str]:
    """``"550 5.1.1 no such user"`` -> (550, "5.1.1", "no such user"); no code -> (None, "", text)."""
    words = (text or "").split(" ", 2)
    if not words or not words[0].isdigit():
        return None, "", text or ""
    code = int(words[0])
    if len(words) > 1 and words[1][:1].isdigit() and words[1].count(".") == 2:
        return code, words[1], words[2] if len(words) > 2 else ""
    return code, "", " ".join(words[1:])


class EngineTap:
    """Wraps a DeliveryEngine: remembers each result and the retry count before it."""

    def __init__(self, engine: Any, memo: dict[str, tuple[Any, int]]):
        self.engine = engine
        self._memo = memo

    def deliver(self, binding: str, domain: str, messages: list[Any], *,
                on_results: Any = None, **options: Any) -> list[Any]:
        before = {message.id: message.retries for message in messages}

        def remember(results: list[Any]) -> None:
            if len(self._memo) > MAX_TAPPED:
                self._memo.clear()
            for result in results:
                message_id = getattr(result, "message_id", None)
                if message_id in before:
                    self._memo[message_id] = (result, before[message_id])

        def per_transaction(results: list[Any]) -> None:
            remember(results)  # before the queue logs them from inside its callback
            if on_results is not None:
                on_results(results)

        results = self.engine.deliver(binding, domain, messages, on_results=per_transaction,
                                      **options) or []
        remember(results)
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)
