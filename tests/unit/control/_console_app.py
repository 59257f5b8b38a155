"""A real in-process App (spool + queue services, no listeners) for the console command tests.

``running_app(tmp_path, config_text)`` loads the config (``suspend_delivery = true``
and a spool under tmp_path are added, so queued mail stays put), starts the spool and
queue services, registers every console command and attaches the stats; ``queue_mail``
stores a message through the real spool and admits it as accept.py does. ``run`` runs
one console line and returns the protocol Reply.
"""
from __future__ import annotations

import time

from ecelerity import stats
from ecelerity.config.loader import load_config
from ecelerity.control.commands_all import attach_stats, register_console_commands
from ecelerity.control.registry import CommandRegistry
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_service import SpoolService
from ecelerity.daemon.app import App
from ecelerity.log.paniclog import PanicLog
from ecelerity.queue.service import QueueService


def running_app(tmp_path, config_text: str = "", *, suspended: bool = True) -> App:
    path = tmp_path / "ecelerity.conf"
    head = f'Spoolbase = "{tmp_path}/spool"\nforce_fsync = false\n'
    if suspended:
        head += "suspend_delivery = true\n"
    path.write_text(head + config_text)
    log = PanicLog(str(tmp_path / "paniclog.ec"))
    app = App(load_config(str(path)), config_path=str(path), paniclog=log,
              services=[SpoolService(), QueueService()], commands=CommandRegistry())
    register_console_commands(app.commands)
    app.start()
    attach_stats(app)
    return app


def queue_mail(app: App, recipients: list[str], *, sender: str = "sender@src.test",
               binding: str | None = None, delay: float = 0.0, body: bytes | None = None):
    envelope = Envelope(mail_from=sender, recipients=[Recipient(r) for r in recipients],
                        peer_ip="127.0.0.1", protocol="esmtp", binding=binding,
                        conn_context={"note": "unit"}, received_at=time.time())
    batch = app.spool.store(envelope, body or b"Subject: test\r\n\r\nhello\r\n")
    stats.for_app(app).received(batch.messages)
    if delay:
        for message in batch.messages:
            app.spool.update(message, retries=1, next_attempt=time.time() + delay,
                             last_error="451 4.4.1 try later")
    app.queue_manager.admit(batch)
    return batch


def run(app: App, line: str):
    return app.commands.execute(line, app)


def stop(app: App) -> None:
    app.stop()
    app.paniclog.close()
