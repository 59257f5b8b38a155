"""REST injection throughput: N parallel keep-alive clients POSTing one-recipient transmissions.

Run by hand (not a test): ``.venv/bin/python benchmarks/http_injection.py [--clients 20]
[--requests 200] [--tls] [--fsync]``; ``ECELERITY_PURE_PYTHON=1`` for the pure-Python speedups.
Starts a real daemon (tests/helpers/daemon.py) in a temporary directory with an
HTTP_Listener on a free loopback port and ``suspend_delivery = true`` (only reception is
measured; with ``--fsync`` (force_fsync = true) every 200 means the message is
fsync'd), then each client thread
sends its requests over one keep-alive connection. Prints requests/s, latency p50/p90/p99
and the spool's commit cycles / fsyncs (console ``unlink stats``): with parallel clients
the group commit should put many messages in one cycle. Never runs in the test suite.
"""
from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.daemon import free_port, start_daemon  # noqa: E402

CONF = """
suspend_delivery = true
force_fsync = {fsync}
HTTP_Listener {{
  rest_api_keys = ( "bench" )
  http_max_connections = 200
  {tls}
  Listen "127.0.0.1:{port}" {{ }}
}}
"""
PAYLOAD = json.dumps({
    "campaign_id": "bench",
    "recipients": [{"address": {"email": "rcpt@dest.example", "name": "R"}}],
    "content": {"from": "bench@sender.example", "subject": "bench {{n}}",
                "text": "x" * 1500 + "\n{{n}}"},
    "substitution_data": {"n": "1"}}).encode()


def client(port: int, count: int, latencies: list[float], errors: list[str],
           context: ssl.SSLContext | None) -> None:
    conn = (http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
            if context else http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    headers = {"Authorization": "bench", "Content-Type": "application/json"}
    for _ in range(count):
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/transmissions", body=PAYLOAD, headers=headers)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            continue
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(f"{response.status} {body[:200]!r}")
    conn.close()


def run(clients: int, requests: int, use_tls: bool, fsync: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="http-bench-") as tmp:
        tls, context = "", None
        if use_tls:
            from tests.helpers.certs import make_pki
            pki = make_pki(Path(tmp))
            tls = f'use_ssl = true tls_certificate = "{pki.server_cert}" tls_key = "{pki.server_key}"'
            context = ssl.create_default_context(cafile=str(pki.ca_cert))
        port = free_port()
        with start_daemon(CONF.format(port=port, tls=tls, fsync=str(fsync).lower()), Path(tmp) / "d") as daemon:
            daemon.wait_for_paniclog("ecelerity: started")
            before = _commit_stats(daemon)
            latencies: list[float] = []
            errors: list[str] = []
            threads = [threading.Thread(target=client, args=(port, requests, latencies, errors,
                                                             context)) for _ in range(clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            after = _commit_stats(daemon)
    latencies.sort()
    done = len(latencies)
    cycles = after["commit_cycles"] - before["commit_cycles"]
    return {"clients": clients, "requests": done, "errors": len(errors), "seconds": elapsed,
            "req_per_s": done / elapsed if elapsed else 0.0,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p90_ms": 1000 * latencies[int(done * 0.90) - 1] if latencies else 0.0,
            "p99_ms": 1000 * latencies[int(done * 0.99) - 1] if latencies else 0.0,
            "commit_cycles": cycles, "fsyncs": after["fsyncs"] - before["fsyncs"],
            "messages_per_cycle": done / cycles if cycles else 0.0,
            "first_error": errors[0] if errors else ""}


def _commit_stats(daemon) -> dict[str, int]:
    reply = daemon.command("unlink stats")
    found = {}
    for line in reply.body:
        key, _, value = line.partition(":")
        if value.strip().isdigit():
            found[key.strip().lower().replace(" ", "_")] = int(value)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="per client")
    parser.add_argument("--tls", action="store_true", help="HTTPS (use_ssl) instead of HTTP")
    parser.add_argument("--fsync", action="store_true", help="force_fsync = true (durable 200s)")
    args = parser.parse_args()
    result = run(args.clients, args.requests, args.tls, args.fsync)
    for key, value in result.items():
        print(f"{key:>20}: {value:.2f}" if isinstance(value, float) else f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
