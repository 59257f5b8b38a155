"""The ESMTP listener: accepting connections and speaking SMTP to clients.

server.py (SMTPService: sockets, limits) -> session.py (one greenlet per client:
state machine, PIPELINING) with verbs.py (the built-in commands), commands.py and
address.py (syntax), replies.py (every reply string), settings.py (options resolved
once per connection), accept.py + headers.py + received.py (after DATA: phases,
trace headers, spool, final reply), limits.py (concurrency and throttles).
Extensions (tls, auth, bdat, xclient) plug in through session.register_verb and
session.register_capability.
"""
