"""Logs: Momentum's log files, written in Momentum's formats so existing tooling keeps working.

Today this holds the paniclog (paniclog.py). mainlog, rejectlog, bouncelog and the
custom loggers join it with the logging issue; all of them are reopened together by
SIGUSR1 and the ``reopen logs`` console command (the daemon's App calls each one's
``reopen()``). Nothing here may raise into a caller: a log that cannot be written
complains on stderr, never stops mail.
"""
