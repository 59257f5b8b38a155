"""Bounces: classification of failures (classify.py) and RFC 3464 DSNs (dsn.py).

Called by the queue when a message fails or is delayed; never sends anything itself.
"""
