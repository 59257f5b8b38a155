"""Postfix's smtp-source (a client nobody here wrote) pushes 5,000 messages over 20 sessions.

Against the real daemon (``ecelerity --foreground``): ``smtp-source -d -s 20 -m 5000 -F
FILE`` (-d keeps each of the 20 sessions open for all its messages). Afterwards the
daemon is stopped and the spool read back: exactly 5,000 messages, every one for the
right recipient and sender, and every body byte-exact by SHA-256. Delivery is suspended
(Suspend_Delivery) so every accepted message stays in the spool to be counted.

The expected bytes are not guessed from smtp-source's documentation: the same
smtp-source command first sends one message to a tiny recorder on loopback that keeps
the raw DATA bytes it received, unstuffed. The daemon may only prepend its Received:
trace header (the file carries Message-ID and Date, so nothing else is added).
"""
from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
from collections import Counter

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.inject import wait_for_smtp
from tests.helpers.tools import need_tool
from tests.scenarios.smtp_harness import read_spool

MESSAGES = 5000
SESSIONS = 20
CONF = 'Suspend_Delivery = true\nrelay_domains = ( "example.com" )\nESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'

MESSAGE_FILE = (
    "From: Source <sender@example.org>\nTo: rcpt@example.com\nSubject: smtp-source interop\n"
    "Message-ID: <interop@example.org>\nDate: Thu, 24 Sep 2015 13:40:03 -0700\n\n"
    ".a line that starts with a dot (smtp-source stuffs it, the server must unstuff it)\n"
    + "".join(f"line {n:04d} caf\u00e9 {'x' * (n % 70)}\n" for n in range(60))
    + "..two dots\n\nlast line\n"
)


def record_one_data(port_holder: list, received: list, ready: threading.Event) -> None:
    """Accept one SMTP session on loopback, answer 2xx/354, keep the unstuffed DATA bytes."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port_holder.append(server.getsockname()[1])
        ready.set()
        server.settimeout(20)
        conn, _ = server.accept()
        with conn, conn.makefile("rb") as f:
            conn.sendall(b"220 recorder\r\n")
            while True:
                line = f.readline()
                verb = line[:4].upper()
                if not line or verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                if verb != b"DATA":
                    conn.sendall(b"250 ok\r\n")
                    continue
                conn.sendall(b"354 go\r\n")
                data = []
                for raw in iter(f.readline, b""):
                    if raw == b".\r\n":
                        break
                    data.append(raw[1:] if raw.startswith(b".") else raw)
                received.append(b"".join(data))
                conn.sendall(b"250 ok\r\n")


def smtp_source(port: int, message_file, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([need_tool("smtp-source"), *extra, "-F", str(message_file),
                           "-f", "sender@example.org", "-t", "rcpt@example.com",
                           f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=120)


def expected_data(message_file) -> bytes:
    holder: list[int] = []
    received: list[bytes] = []
    ready = threading.Event()
    thread = threading.Thread(target=record_one_data, args=(holder, received, ready), daemon=True)
    thread.start()
    assert ready.wait(5)
    result = smtp_source(holder[0], message_file, "-m", "1")
    thread.join(20)
    assert result.returncode == 0, result.stderr
    [data] = received
    # sanity: the recorder saw the file's lines (CRLF-terminated), in order
    assert data.startswith(MESSAGE_FILE.split("\n\n")[0].replace("\n", "\r\n").encode())
    assert b"\r\n.a line that starts" in data
    return data


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_smtp_source_5000_messages_20_sessions_byte_exact(tmp_path):
    need_tool("smtp-source")
    message_file = tmp_path / "message.txt"
    message_file.write_bytes(MESSAGE_FILE.encode())
    want = expected_data(message_file)
    want_hash = hashlib.sha256(want).hexdigest()

    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path / "daemon") as daemon:
        wait_for_smtp("127.0.0.1", port)
        result = smtp_source(port, message_file, "-d", "-s", str(SESSIONS), "-m", str(MESSAGES))
        assert result.returncode == 0, f"{result.stderr}\n{daemon.diagnostics()}"
        assert daemon.stop() == 0, daemon.diagnostics()

    batches = read_spool(tmp_path / "daemon" / "var" / "spool")
    assert len(batches) == MESSAGES
    assert Counter(tuple(r) for _, _, r in batches) == {("rcpt@example.com",): MESSAGES}
    assert {env["mail_from"] for env, _, _ in batches} == {"sender@example.org"}
    assert len({env["batch_id"] for env, _, _ in batches}) == MESSAGES
    hashes = Counter()
    for _env, data, _ in batches:
        assert data.startswith(b"Received: "), data[:200]
        trace_end = data.index(b"\r\n", data.rindex(b";\r\n\t", 0, 400) + 3) + 2
        hashes[hashlib.sha256(data[trace_end:]).hexdigest()] += 1
    assert hashes == {want_hash: MESSAGES}
