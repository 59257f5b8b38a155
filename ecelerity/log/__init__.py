"""Logs: Momentum's log files, written in Momentum's formats so existing tooling keeps working.

paniclog.py (the daemon's own log), records.py + facts.py (the one definition of every
record's fields), writer.py (buffered, never-blocking files), the loggers
(ec_logger.py, bounce_logger.py, custom_logger.py, jsonlog.py, compat_postfix.py,
compat_exim.py), service.py (the daemon's fan-out ``app.loggers``, which the SMTP side
and the queue's observers feed) and rotate.py (``ec_rotate``). All of them are reopened
together by SIGUSR1 and ``reopen logs``. Nothing here may raise into a caller: a log
that cannot be written complains to the paniclog, never stops mail.
"""
