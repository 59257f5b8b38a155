"""The MIME body of an inline Transmissions content: text/html alternatives, inline images
and attachments, built with the stdlib email package.

transmissions.py calls ``read_parts(content)`` once per transmission (attachments and
inline_images validated and base64-decoded once, whatever the number of recipients) and
``fill_body(message, text, html, parts)`` per recipient, after substitution. Structure
(as SparkPost/Momentum 4 generate it)::

    multipart/mixed                       only with attachments
      multipart/alternative               only with text and html
        text/plain
        multipart/related                 only with inline_images
          text/html
          image/... (Content-ID <name>, inline)
      application/... (attachment; filename=name), one per attachment

``type`` applies as given to the part's Content-Type (parameters such as charset kept);
the data is sent base64 (76-character lines). Invalid parts raise TransmissionError
(422, 1300/1400, naming the field). Never does I/O.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from typing import Any

from .errors import TransmissionError

MAX_NAME = 255  # bytes, as the API documents for attachment and image names
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class Part:
    """One decoded attachment or inline image."""

    name: str
    maintype: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    data: bytes


@dataclass(frozen=True)
class Parts:
    attachments: tuple[Part, ...] = ()
    inline_images: tuple[Part, ...] = ()


def _invalid(description: str) -> TransmissionError:
    return TransmissionError(422, "invalid data format/type", "1300", description)


def _missing(name: str) -> TransmissionError:
    return TransmissionError(422, "required field is missing", "1400", f"{name} is a required field")


def _part(entry: Any, where: str) -> Part:
    if not isinstance(entry, dict):
        raise _invalid(f"{where} must be an object with name, type and data")
    for field in ("name", "type", "data"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise _missing(f"{where}.{field}")
    name, type_text = entry["name"], entry["type"].strip()
    if len(name.encode("utf-8")) > MAX_NAME or re.search(r"[\r\n\"\\]", name):
        raise _invalid(f"{where}.name must be at most {MAX_NAME} bytes, without quotes, "
                       "backslashes or line breaks")
    header = Message()
    header["Content-Type"] = type_text
    mimetype = type_text.split(";", 1)[0].strip().lower()
    if not _TOKEN.match(mimetype) or re.search(r"[\r\n]", type_text):
        raise _invalid(f"{where}.type {type_text!r} is not a MIME type")
    params = tuple((str(k), str(v)) for k, v in (header.get_params() or [])[1:])
    try:
        data = base64.b64decode(re.sub(r"\s+", "", entry["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{where}.data is not valid base64") from None
    maintype, subtype = mimetype.split("/", 1)
    return Part(name, maintype, subtype, params, data)


def read_parts(content: dict[str, Any]) -> Parts:
    """Validate and decode ``content.attachments`` and ``content.inline_images``."""
    found: dict[str, tuple[Part, ...]] = {}
    for key in ("attachments", "inline_images"):
        entries = content.get(key)
        if entries is None:
            found[key] = ()
            continue
        if not isinstance(entries, list):
            raise _invalid(f"content.{key} must be an array")
        found[key] = tuple(_part(e, f"content.{key}[{i}]") for i, e in enumerate(entries))
    images = found["inline_images"]
    names = [image.name for image in images]
    if len(set(names)) != len(names):
        raise _invalid("content.inline_images names must be unique")
    if images and not content.get("html"):
        raise _invalid("content.inline_images need content.html (they are referenced as cid:NAME)")
    return Parts(found["attachments"], images)


def fill_body(message: EmailMessage, text: str | None, html: str | None, parts: Parts) -> None:
    """Set ``message``'s body: alternatives, related images, then attachments."""
    if text:
        message.set_content(text)
    if html:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    if parts.inline_images:
        html_part = message.get_body(("html",))
        assert html_part is not None  # read_parts requires html with inline images
        for image in parts.inline_images:
            html_part.add_related(image.data, image.maintype, image.subtype,
                                  cid=f"<{image.name}>", disposition="inline",
                                  filename=image.name, params=dict(image.params))
    for attachment in parts.attachments:
        message.add_attachment(attachment.data, attachment.maintype, attachment.subtype,
                               filename=attachment.name, params=dict(attachment.params))
