"""The 220 greeting an inbound SMTP session sends after the connect phase.

Called by smtp/session.py (Session.banner, once per connection, and again after
XCLIENT). ``static_banner`` (``"220 text"`` or just the text) replaces it; otherwise
``220 2.0.0 <banner_name> ESMTP ecelerity <version> <date>``. The date string is built
at most once per second for the whole process. Never reads configuration (only the
session's settings) and never fails: a static banner without a code gets 220.
"""
from __future__ import annotations

import time
from typing import Any

from .replies import Reply

_banner_stamp: list = [None, ""]   # [whole second, "VERSION DATE"]: one strftime per second


def _banner_tail() -> str:
    second = int(time.time())
    if _banner_stamp[0] != second:
        from .. import __version__
        _banner_stamp[:] = [second, f"{__version__} "
                            f"{time.strftime('%a, %d %b %Y %H:%M:%S %z', time.localtime(second))}"]
    return _banner_stamp[1]


def banner_reply(settings: Any) -> Reply:
    """The greeting for a session with these settings."""
    static = settings.static_banner
    if static:
        code, _, text = static.partition(" ")
        return Reply(int(code) if code.isdigit() else 220, None, text if code.isdigit() else static)
    return Reply(220, "2.0.0", f"{settings.banner_name} ESMTP ecelerity {_banner_tail()}")
