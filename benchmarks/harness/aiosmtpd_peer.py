"""The Python receive-side peer: aiosmtpd writing and fsyncing each message, delivering nothing.

Who calls it: peers.AiosmtpdPeer runs ``python benchmarks/harness/aiosmtpd_peer.py DIR PORT``.
It must never acknowledge a message before its file is written and fsynced (the same
promise ecelerity makes with force_fsync); like a naive aiosmtpd handler it fsyncs in
the event loop, one message at a time (no directory fsync: a new file's name could be
lost in a crash; ecelerity's journal does not have that gap).
"""
from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class FsyncHandler:
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.counter = itertools.count()

    async def handle_DATA(self, server, session, envelope) -> str:
        name = os.path.join(self.directory, f"{os.getpid()}-{next(self.counter):09d}.eml")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            head = f"X-Mail-From: {envelope.mail_from}\r\nX-Rcpt-To: {','.join(envelope.rcpt_tos)}\r\n"
            os.write(fd, head.encode() + envelope.original_content)
            os.fsync(fd)
        finally:
            os.close(fd)
        return "250 2.0.0 OK queued"


async def serve(directory: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    handler = FsyncHandler(directory)
    server = await loop.create_server(lambda: SMTP(handler, hostname="aiosmtpd.bench"),
                                      "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
