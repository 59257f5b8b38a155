"""Outbound queues: per (binding, domain) an active and a delayed queue, and the manager.

Layout: clock.py (injectable time), retry.py (backoff/expiry arithmetic),
throttle.py (rate windows), active.py / delayed.py / domain_queue.py (the queues),
manager.py (QueueManager: admission, dispatch, results), admin.py (console-facing
operations), service.py (QueueService for the daemon). Nothing here speaks SMTP or
reads message bodies: delivery/ does, through the spool.
"""
