"""ecelerity: an open-source, Momentum-compatible mail transfer agent on gevent.

The package tree follows a message's journey: smtp/ (listener) -> policy/
(validation phases) -> core/ (message, spool) -> queue/ -> delivery/ -> bounce/
-> log/; beside them config/, control/, daemon/ and _speedups/.
"""

__version__ = "0.1.0"
