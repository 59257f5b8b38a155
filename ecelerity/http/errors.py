"""TransmissionError: a REST injection request Momentum would refuse, with its extended code.

Raised by transmissions.py, content.py and legacy_inject.py; inject.py turns it into
``{"errors":[{"message","code","description"}]}`` with ``status``. Never does I/O.
"""
from __future__ import annotations


class TransmissionError(Exception):
    def __init__(self, status: int, message: str, code: str, description: str = ""):
        super().__init__(description or message)
        self.status, self.message, self.code, self.description = status, message, code, description
