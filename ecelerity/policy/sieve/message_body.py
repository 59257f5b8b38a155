"""The body side of a Sieve message view: the parsed MIME tree and its decoded parts.

Mixed into message_view.MessageView (the ``body`` extension, ext_body.py, reads
``body_raw`` and ``body_parts`` through it). Parts are decoded with the stdlib
``email`` parser, which is what the Pigeonhole differential tests were built
against. Reads only: never changes the message, never touches the daemon.
"""
from __future__ import annotations

import email
import email.policy
from email.message import Message as EmailMessage


class BodyAccess:
    """Body accessors over a view's core Message (``model``); the parsed tree is kept in
    ``_email`` until a header edit drops it (MessageView.edit_header)."""

    __slots__ = ()

    _email: EmailMessage | None

    @property
    def message(self) -> EmailMessage:
        """The whole message parsed by the stdlib (compat32 policy), built once."""
        if self._email is None:
            self._email = email.message_from_bytes(self.model.render(), policy=email.policy.compat32)
        return self._email

    def body_raw(self) -> str:
        """The body after the header block, undecoded."""
        return self.model.raw_body().decode("utf-8", "replace")

    def body_parts(self, content_types: list[str] | None) -> list[str]:
        """Decoded leaf parts whose type matches (``None`` = text/* only, the :text form).

        A content type entry is "type/subtype", "type" or "" (every leaf part).
        """
        out: list[str] = []
        for part in self.message.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type().lower()
            if content_types is None:
                if not ctype.startswith("text/"):
                    continue
            elif not any(type_matches(ctype, want) for want in content_types):
                continue
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "us-ascii"
            try:
                out.append(payload.decode(charset, "replace"))
            except LookupError:
                out.append(payload.decode("utf-8", "replace"))
        return out


def type_matches(ctype: str, want: str) -> bool:
    """Whether content type ``ctype`` (lower case) matches a :contenttype entry."""
    want = want.lower()
    if want == "":
        return True
    if "/" in want:
        return ctype == want
    return ctype.split("/", 1)[0] == want
