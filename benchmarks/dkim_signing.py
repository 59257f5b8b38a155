"""DKIM signing cost: per signature (dkimpy's pure-Python RSA vs OpenSSL) and in the daemon.

    .venv/bin/python benchmarks/dkim_signing.py micro [--rounds 200]
    .venv/bin/python benchmarks/dkim_signing.py relay [--bits 2048] [--sessions 20]
                                                      [--messages 3000] [--no-dkim]

``micro`` signs one 2.6 kB message with ecelerity.dkim.signer.sign, once with the
key as plain PEM bytes (dkimpy parses it and signs with its own RSA) and once with a
keys.KeyCache key (fastrsa.LoadedKey: OpenSSL), for 1024 and 2048 bits, and prints
ms per signature. ``relay`` runs benchmarks/relay_quick.py's setup (smtp-source ->
ecelerity with force_fsync -> smtp-sink) with an ``opendkim`` stanza signing every
message (From: bench@b.test), and checks a sample at a second sink that the
signature is there. Not a test: prints a few lines and a JSON summary; loopback only.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.relay_quick import SINK_HOST, SinkCounter, _tool  # noqa: E402
from tests.helpers.daemon import free_port, start_daemon  # noqa: E402

MESSAGE = (b"From: Bench <bench@b.test>\r\nTo: x@example.com\r\nSubject: dkim bench\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@b.test>\r\n\r\n"
           + b"The quick brown fox jumps over the lazy dog, again and again.\r\n" * 40)


def _pem(bits: int) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def micro(rounds: int) -> dict:
    from ecelerity.dkim.keys import check_key
    from ecelerity.dkim.signer import SignRequest, sign
    out: dict = {}
    for bits in (1024, 2048):
        pem = _pem(bits)
        for label, key in (("dkimpy_pure", pem), ("openssl", check_key(pem, "bench"))):
            request = SignRequest("b.test", "s1", key)
            sign(MESSAGE, request)
            start = time.perf_counter()
            for _ in range(rounds):
                sign(MESSAGE, request)
            ms = (time.perf_counter() - start) / rounds * 1000
            out[f"{bits}_{label}_ms"] = round(ms, 3)
            print(f"{bits}-bit {label:12s}: {ms:7.3f} ms per signed message (dkimpy.sign total)")
    return out


def relay(bits: int, sessions: int, messages: int, dkim_on: bool) -> dict:
    sink_port = free_port(SINK_HOST)
    sink = subprocess.Popen([_tool("smtp-sink"), "-u", "nobody", "-c", f"{SINK_HOST}:{sink_port}",
                             "256"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    counter = SinkCounter(sink)
    smtp_port = free_port()
    with tempfile.TemporaryDirectory(prefix="dkim-bench-") as tmp:
        (Path(tmp) / "b.key").write_bytes(_pem(bits))
        conf = (f'gateway = "{SINK_HOST}:{sink_port}"\nrelay_domains = ( "example.com" )\n'
                "force_fsync = true\nmax_outbound_connections = 20\nhostname = \"bench.test\"\n"
                f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n')
        if dkim_on:
            conf += ('opendkim "bench" {\n  key = "b.key"\n'
                     '  dkim_domain "b.test" { selector = "s1" }\n}\n')
        daemon = start_daemon(conf, tmp)
        try:
            start = time.monotonic()
            source = subprocess.run([_tool("smtp-source"), "-s", str(sessions), "-m", str(messages),
                                     "-l", "2048", "-f", "bench@b.test", "-t", "x@example.com",
                                     f"127.0.0.1:{smtp_port}"], capture_output=True, timeout=600)
            inbound = time.monotonic() - start
            deadline = time.monotonic() + 120
            while counter.count < messages and time.monotonic() < deadline:
                time.sleep(0.01)
            total = time.monotonic() - start
            stats = daemon.command("signing_stats --json") if dkim_on else None
        finally:
            daemon.stop()
            sink.terminate()
            sink.wait(5)
    signed = json.loads("\n".join(stats.body))["totals"]["signed"] if stats is not None else 0
    result = {"bits": bits, "dkim": dkim_on, "sessions": sessions, "messages": messages,
              "signed": signed, "inbound_msg_per_s": round(messages / inbound, 1),
              "relay_msg_per_s": round(counter.count / total, 1),
              "smtp_source_errors": source.stderr.decode(errors="replace")[-200:]}
    print(f"relay, dkim {'on (' + str(bits) + '-bit)' if dkim_on else 'off'}: "
          f"{counter.count}/{messages} delivered, {signed} signed; inbound "
          f"{result['inbound_msg_per_s']} msg/s, end to end {result['relay_msg_per_s']} msg/s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("micro", "relay"))
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--no-dkim", action="store_true")
    args = parser.parse_args()
    if args.what == "micro":
        print(json.dumps(micro(args.rounds)))
    else:
        print(json.dumps(relay(args.bits, args.sessions, args.messages, not args.no_dkim)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
