"""Disk faults through the real daemon: a spool filesystem that fills up, corrupt segments.

1. The spool lives on its own tmpfs (``mount -t tmpfs -o size=...``; needs root, else
   skipped). A filler file eats the free space, clients inject 300 KiB messages until
   the preallocated segment is full and a new one cannot be allocated: reception must
   answer ``452 4.3.1`` (never 250 for something it could not store, never a 5xx), the
   daemon stays up, and when the filler is deleted new mail is accepted again. After a
   clean stop every acknowledged message is in the spool, bytes intact.
2. A segment with garbage written into its middle, at start-up: the daemon starts,
   the damaged stretch is quarantined (copied under spool/quarantine) and reported in
   the paniclog; the intact messages around it are still there.
"""
from __future__ import annotations

import os
import smtplib
import subprocess
from pathlib import Path

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.reliability.probes import spool_state

CONF = ('Suspend_Delivery = true\nrelay_domains = ( "a.test" )\n'
        'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')


def message(n: int, size: int) -> bytes:
    head = (f"From: s@b.test\r\nTo: r@a.test\r\nSubject: disk {n}\r\nMessage-ID: <disk{n}@b.test>\r\n"
            "Date: Thu, 24 Sep 2015 13:40:03 -0700\r\n\r\n").encode()
    line = (f"disk fault message {n} ".ljust(76, "x") + "\r\n").encode()
    return head + line * (size // len(line))


def send(port: int, n: int, size: int) -> tuple[int, str]:
    """(final code, reply text) for one message; MAIL/RCPT refusals count too."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as client:
        client.ehlo("client.test")
        code, text = client.mail("s@b.test")
        if code != 250:
            return code, text.decode()
        code, text = client.rcpt("r@a.test")
        if code != 250:
            return code, text.decode()
        try:
            code, text = client.data(message(n, size))
        except smtplib.SMTPDataError as exc:
            return exc.smtp_code, exc.smtp_error.decode()
        return code, text.decode()


@pytest.fixture
def small_fs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "daemon" / "var" / "spool"
    mount_point.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path, leave: int) -> Path:
    """Eat the free space of path's filesystem but ``leave`` bytes; return the filler."""
    stat = os.statvfs(path)
    filler = path / "filler"
    with open(filler, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


@pytest.mark.timeout(120)
def test_full_spool_answers_452_and_resumes(small_fs, tmp_path, figures):
    port = free_port()
    daemon = start_daemon(CONF.format(port=port), tmp_path / "daemon")
    acked, refusals, other = {}, [], []
    with daemon:
        for n in range(5):  # the spool has an open, preallocated segment before the disk fills
            code, text = send(port, n, 300 << 10)
            assert code == 250, text
            acked[f"disk{n}"] = text
        filler = fill(small_fs, leave=64 << 10)
        for n in range(5, 200):  # the 16 MiB preallocated segment takes ~55 of these
            code, text = send(port, n, 300 << 10)
            if code == 250:
                acked[f"disk{n}"] = text
            elif code == 452:
                refusals.append(text)
                if len(refusals) >= 3:
                    break
            else:
                other.append((code, text))
        assert not other, f"only 250 or 452 are acceptable: {other[:5]}"
        assert refusals, "the spool never filled up"
        assert all(text.startswith("4.3.1") for text in refusals), refusals
        assert daemon.alive(), daemon.diagnostics()
        full_at = len(acked)
        filler.unlink()
        code, text = send(port, 999, 300 << 10)
        assert code == 250, f"flow did not resume after space returned: {code} {text}"
        acked["disk999"] = text
        assert daemon.stop() == 0, daemon.diagnostics()
    stored = {}
    for entry in spool_state(small_fs)["messages"]:
        marker = entry["data"].split("Message-ID: <", 1)[1].split("@", 1)[0]
        stored[marker] = entry["data"]
    lost = [marker for marker in acked if marker not in stored]
    assert not lost, f"acknowledged but not in the spool: {lost[:10]}"
    for marker, data in stored.items():
        assert data.encode("latin-1").endswith(message(int(marker[4:]), 300 << 10)), marker
    figures("disk_full", accepted=len(acked), accepted_before_full=full_at,
            refused_452=len(refusals), lost=len(lost), resumed=True)


def test_corrupt_segment_is_quarantined_at_startup(tmp_path, figures):
    port = free_port()
    cwd = tmp_path / "daemon"
    with start_daemon(CONF.format(port=port), cwd) as daemon:
        for n in range(6):
            assert send(port, n, 4 << 10)[0] == 250
        assert daemon.stop() == 0, daemon.diagnostics()
    spool = cwd / "var" / "spool"
    [segment] = sorted((spool / "segments").glob("*.seg"))
    data = bytearray(segment.read_bytes())
    middle = data.find(b"disk fault message 3 ")
    assert middle > 0
    data[middle - 200:middle + 200] = os.urandom(400)
    segment.write_bytes(bytes(data))
    with start_daemon(CONF.format(port=port), cwd) as daemon:
        log = daemon.wait_for_paniclog("quarantined")
        assert daemon.alive()
        assert daemon.stop() == 0, daemon.diagnostics()
    quarantine = list((spool / "quarantine").iterdir())
    assert quarantine, "nothing copied to spool/quarantine"
    state = spool_state(spool)
    survivors = sorted(e["data"].split("Subject: ", 1)[1].split("\r\n", 1)[0] for e in state["messages"])
    assert "disk 3" not in survivors
    assert {"disk 0", "disk 1", "disk 5"} <= set(survivors), survivors
    figures("corrupt_spool", corrupted_segments=1, quarantined=len(quarantine),
            survivors=len(survivors), reported="quarantined" in log)
