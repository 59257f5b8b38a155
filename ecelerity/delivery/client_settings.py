"""What one outbound SMTP connection is told, and what one transaction answered.

ClientSettings is built by delivery/client_config.py from the resolver for one (binding,
domain) and handed to delivery/client.py's SmtpClient; Transaction is what
SmtpClient.send returns to the engine. Plain data: no I/O, no configuration reads.
Both are re-exported by delivery/client.py, where the engine and tests import them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .replies import Reply


@dataclass
class ClientSettings:
    """What the engine resolved for one (binding, domain); times in seconds."""

    ehlo_hostname: str = "localhost"
    bind_address: str | None = None
    tls: str = "no"
    tls_verify: str = "no"
    tls_ca: str | None = None
    tls_ifavailable_fallback: bool = True
    send_8bitmime: str = "no"
    transform_8bitmime_content: str = "ifneeded"
    connect_timeout: float = 300
    ehlo_timeout: float = 300
    mailfrom_timeout: float = 300
    rcptto_timeout: float = 300
    body_timeout: float = 600
    rset_timeout: float = 30
    lmtp: bool = False


@dataclass
class Transaction:
    """Per-recipient replies (same order as given), the final reply, bytes of body sent."""

    rcpt_replies: list[Reply]
    data_reply: Reply | None
    data_stage: int
    bytes_sent: int = 0
    data_replies: list[Reply | None] | None = None   # LMTP: per recipient (None: refused at RCPT)

    def final_reply(self, index: int) -> Reply | None:
        """The reply after the body for the ``index``-th recipient (LMTP: its own)."""
        if self.data_replies is not None and self.data_replies[index] is not None:
            return self.data_replies[index]
        return self.data_reply
