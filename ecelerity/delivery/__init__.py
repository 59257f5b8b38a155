"""Outbound delivery: DNS (dns.py), the SMTP client (client.py), routing (routes.py),
idle connection reuse (pool.py) and the DeliveryEngine the queue manager calls (engine.py).

Nothing here touches spool state or writes logs: the engine returns one DeliveryResult
per message and its caller (the queue) removes, reschedules or bounces.
"""
