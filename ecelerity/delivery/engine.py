"""The delivery engine: hand a (binding, domain) batch of spooled messages to a remote MX.

Called by the queue manager from a delivery greenlet: ``deliver(binding, domain,
messages)`` blocks that greenlet only and returns one DeliveryResult per message, in
order. Recipients sharing a body (same spool batch) go in one transaction, up to
``max_recipients_per_batch`` RCPTs each; per-recipient replies inside a transaction
give per-message results; with ``delivery_method = LMTP`` the client speaks LHLO to
``lmtp_port`` (unless a route names a port) and each recipient gets its own reply
after the body (RFC 2033). Targets come from routes.py (gateway / routes / MX via
dns.py); a message whose policy chose a gateway (Sieve ``ec_set_routing_gateway``:
message context ``routing_gateway``) goes there instead -- the queue hands such mail
over under the gateway's name as ``domain`` (queue/entry.py ``routing_domain``) --
and messages of one hand-off with different gateways never share a connection (one
group per gateway, in order).
The next target is tried only when a connection cannot be set up (connect,
banner, EHLO, TLS), never after a transaction started. Connections are reused through
an IdlePool per (binding, domain, ip, port, gateway) until ``max_deliveries_per_connection``
(successful deliveries; 0 = unlimited) and closed after ``idle_timeout`` idle seconds.
An idle connection to any target is used before a new one is opened, so the
connections open to a domain never outnumber the hand-offs the queue allowed.
``host_failure_retry``: an IP whose connection setup failed is skipped for that many
seconds (per IP and port, whatever the domain); when every target is held down the
hand-off fails transiently without connecting.

Never changes spool state, never writes logs or DSNs (the caller does, from the
results), never lets an exception out of ``deliver`` (unexpected errors become
transient results and a paniclog line). Limits and throttles are the queue's job.
DeliveryResult lives in result.py, the ClientSettings read from configuration in
client_config.py; both are re-exported here.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from ecelerity.core.msgid import IdGenerator
from ecelerity.core.spool import Spool, SpooledMessage

from .client import (CONFIRMATION, MAIL, NOT_CONNECTED, RCPT, RSET, ClientSettings, Reply,
                     SmtpClient, SmtpFailure, internal)
from .client_config import client_settings, local_fqdn
from .dns import DnsResolver
from .pool import IdlePool
from .result import DeliveryResult, outcome_of
from .routes import RouteError, Target, message_gateway, resolve_targets

SMTP_METHODS = frozenset({"ESMTP", "SMTP", "LMTP"})


class DeliveryEngine:
    def __init__(self, config_getter: Callable[[], Any], spool: Spool, *, dns: DnsResolver,
                 idgen: IdGenerator | None = None, paniclog: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config_getter = config_getter
        self.spool = spool
        self.dns = dns
        self.idgen = idgen or IdGenerator(None)
        self.paniclog = paniclog
        self.pool = IdlePool()
        self.connections_opened = 0
        self.clock = clock
        self.held_down: dict[tuple[str, int], float] = {}   # (ip, port) -> until (clock)

    def deliver(self, binding: str, domain: str, messages: list[SpooledMessage], *,
                on_results: Callable[[list[DeliveryResult]], None] | None = None,
                ) -> list[DeliveryResult]:
        """Attempt every message now; one result per message, same order.

        ``on_results`` (the queue's) is called with each transaction's results as soon
        as the remote answered, before the next transaction starts, so what was
        delivered can be removed from the spool at once: a crash then duplicates at
        most the transaction in flight, not a whole hand-off.
        """
        if not messages:
            return []
        try:
            return self._deliver(binding, domain, messages, on_results)
        except Exception as exc:  # never a traceback to the queue: fail soft, tell the paniclog
            if self.paniclog is not None:
                self.paniclog.write("delivery", f"unexpected error delivering to {domain} "
                                    f"via {binding}: {type(exc).__name__}: {exc}")
            reply = internal(451, "4.3.0", f"delivery error: {type(exc).__name__}")
            return [self._result(m, reply, NOT_CONNECTED, "", 0, "") for m in messages]

    def close(self) -> None:
        self.pool.close_all()

    def idle_connections(self, *, binding: str | None = None, domain: str | None = None) -> int:
        """Idle pooled connections (all, of a binding, or of one binding's domain): the
        queue counts them against ``server_max_outbound_connections``."""
        return self.pool.idle_count(binding, domain)

    def take_idle(self, count: int, *, binding: str | None = None,
                  keep: tuple[str, str] | None = None) -> list[SmtpClient]:
        """Take up to ``count`` of the longest-idle connections out of the pool (of
        ``binding`` when given, never those of the (binding, domain) ``keep``); hand them
        to ``retire`` from the greenlet that needs the room."""
        return self.pool.take_oldest(count, binding=binding, keep=keep)

    @staticmethod
    def retire(clients: list[SmtpClient]) -> None:
        """QUIT and close connections taken with ``take_idle``."""
        for client in clients:
            client.quit()

    # -- internals ---------------------------------------------------------------------------

    def _deliver(self, binding: str, domain: str, messages: list[SpooledMessage],
                 on_results: Callable[[list[DeliveryResult]], None] | None = None,
                 ) -> list[DeliveryResult]:
        cfg = self.config_getter()
        method = str(cfg.get("delivery_method", binding=binding, domain=domain)).upper()
        if method not in SMTP_METHODS:
            reply = internal(451, "4.3.5", f"delivery_method {method} is not implemented yet")
            return [self._result(m, reply, NOT_CONNECTED, "", 0, "") for m in messages]
        lmtp = method == "LMTP"
        port = cfg.get("lmtp_port", binding=binding, domain=domain) if lmtp else None
        settings = client_settings(cfg, binding, domain)
        settings.lmtp = lmtp
        per_batch = cfg.get("max_recipients_per_batch", binding=binding, domain=domain)
        max_deliveries = cfg.get("max_deliveries_per_connection", binding=binding, domain=domain)
        idle_timeout = cfg.get("idle_timeout", binding=binding, domain=domain)
        idle_limit = cfg.get("max_outbound_connections", binding=binding, domain=domain)
        hold_down = cfg.get("host_failure_retry", binding=binding, domain=domain)
        by_id: dict[str, DeliveryResult] = {}
        bodies: dict[str, bytes] = {}
        for gateway, group in _by_gateway(messages):
            try:
                targets = resolve_targets(cfg, self.dns, binding, domain, default_port=port,
                                          chosen_gateway=gateway)
            except RouteError as exc:
                reply = Reply(exc.code, exc.enhanced, exc.text)
                by_id.update((m.id, self._result(m, reply, NOT_CONNECTED, "", 0, ""))
                             for m in group)
                continue
            for chunk in _chunks(group, per_batch):
                first = chunk[0]
                if first.batch_id not in bodies:
                    bodies = {first.batch_id: self.spool.read_body(first)}  # one body resident
                chunk_results = self._deliver_chunk((binding, domain, gateway or ""), targets,
                                                    settings, chunk, bodies[first.batch_id],
                                                    max_deliveries, (idle_timeout, idle_limit),
                                                    hold_down)
                for result in chunk_results:
                    by_id[result.message_id] = result
                if on_results is not None:
                    on_results(chunk_results)
        return [by_id[m.id] for m in messages]

    def _deliver_chunk(self, key: tuple[str, str, str], targets: list[Target],
                       settings: ClientSettings, chunk: list[SpooledMessage], body: bytes,
                       max_deliveries: int, idle: tuple[float, int],
                       hold_down: float) -> list[DeliveryResult]:
        """``key``: (binding, domain, the gateway a policy chose or '')."""
        binding, domain, gateway = key
        pool_keys = [(binding, domain, target.ip, target.port, gateway) for target in targets]
        pooled = self.pool.take_any(pool_keys)
        if pooled is not None:
            pool_key, client = pooled
            target = targets[pool_keys.index(pool_key)]
            results = self._transact(client, pool_key, target, chunk, body, max_deliveries,
                                     idle, reused=True)
            if results is not None:
                return results
        else:
            # idle connections to addresses that are no longer targets still count at the
            # receiver: close them before opening another (max_outbound_connections)
            self.pool.quit_group(binding, domain, gateway)
        failure: SmtpFailure | None = None
        failed_ip = ""
        now = self.clock()
        for pool_key, target in zip(pool_keys, targets, strict=True):
            if self.held_down.get((target.ip, target.port), 0.0) > now:
                continue
            client = self._open(target, settings)
            if isinstance(client, SmtpFailure):
                failure, failed_ip = client, target.ip
                if hold_down > 0:
                    self._hold_down(target, hold_down)
                continue
            self.held_down.pop((target.ip, target.port), None)
            results = self._transact(client, pool_key, target, chunk, body, max_deliveries,
                                     idle, reused=False)
            assert results is not None  # only a reused connection can be stale
            return results
        if failure is None:   # every target is held down: no connection at all
            failure = SmtpFailure(internal(451, "4.4.1", "all hosts held down after recent "
                                           "failures (host_failure_retry)"), NOT_CONNECTED)
        return [self._result(m, failure.reply, failure.stage, failed_ip, 0, "") for m in chunk]

    def _hold_down(self, target: Target, seconds: float) -> None:
        now = self.clock()
        if len(self.held_down) >= 4096:   # keep the map bounded: drop lapsed hold-downs
            self.held_down = {key: until for key, until in self.held_down.items() if until > now}
        self.held_down[(target.ip, target.port)] = now + seconds

    def _transact(self, client: SmtpClient, pool_key: tuple, target: Target,
                  chunk: list[SpooledMessage], body: bytes, max_deliveries: int,
                  idle: tuple[float, int], *, reused: bool) -> list[DeliveryResult] | None:
        """One transaction on ``client``; None when a reused connection turned out stale
        (the remote closed it while idle: RSET/MAIL failed transiently) -- go fresh.
        ``idle``: (idle_timeout, max_outbound_connections) for parking it afterwards."""
        try:
            transaction = client.send(chunk[0].envelope, [m.recipient for m in chunk], body)
        except SmtpFailure as exc:
            client.close()
            if reused and exc.stage in (RSET, MAIL) and exc.reply.code < 500:
                return None
            return [self._result(m, exc.reply, exc.stage, target.ip, 0, client.conn_id)
                    for m in chunk]
        if not client.connected:
            pass  # lost after the body (LMTP: part way through the replies)
        elif max_deliveries and client.deliveries >= max_deliveries:
            client.quit()
        else:
            self.pool.put(pool_key, client, *idle)
        return self._transaction_results(chunk, transaction, target.ip, client.conn_id)

    def _open(self, target: Target, settings: ClientSettings) -> SmtpClient | SmtpFailure:
        client = SmtpClient(target.ip, target.port, settings, server_name=target.host,
                            conn_id=self.idgen.next_id())
        self.connections_opened += 1
        try:
            client.open()
        except SmtpFailure as failure:
            client.close()
            return failure
        return client

    def _transaction_results(self, chunk: list[SpooledMessage], transaction: Any, ip: str,
                             conn_id: str) -> list[DeliveryResult]:
        results = []
        for index, (message, rcpt_reply) in enumerate(zip(chunk, transaction.rcpt_replies,
                                                          strict=True)):
            if not rcpt_reply.ok:
                results.append(self._result(message, rcpt_reply, RCPT, ip, 0, conn_id))
                continue
            reply = transaction.final_reply(index)
            stage = transaction.data_stage if not reply.ok else CONFIRMATION
            sent = transaction.bytes_sent if transaction.data_stage == CONFIRMATION else 0
            results.append(self._result(message, reply, stage, ip, sent, conn_id))
        return results

    @staticmethod
    def _result(message: SpooledMessage, reply: Reply, stage: int, ip: str, sent: int,
                conn_id: str) -> DeliveryResult:
        return DeliveryResult(message.id, outcome_of(reply.code), reply.code, reply.enhanced,
                              reply.text, stage, ip, sent, conn_id)


def _by_gateway(messages: list[SpooledMessage]) -> list[tuple[str | None, list[SpooledMessage]]]:
    """Messages grouped by the gateway their policy chose (None: the domain's route),
    groups in order of first appearance."""
    groups: dict[str | None, list[SpooledMessage]] = {}
    for message in messages:
        groups.setdefault(message_gateway(message), []).append(message)
    return list(groups.items())


def _chunks(messages: list[SpooledMessage], per_batch: int) -> list[list[SpooledMessage]]:
    """Messages grouped by spool batch (shared body, one envelope), then cut to size."""
    groups: dict[str, list[SpooledMessage]] = {}
    for message in messages:
        groups.setdefault(message.batch_id, []).append(message)
    size = max(1, per_batch)
    return [group[i:i + size] for group in groups.values() for i in range(0, len(group), size)]


__all__ = ["DeliveryEngine", "DeliveryResult", "client_settings", "local_fqdn", "outcome_of"]
