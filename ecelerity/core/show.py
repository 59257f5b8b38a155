"""ec_show: the offline spool viewer (``ec_show -s SPOOLDIR [MSGID ...]``).

Lists the spooled messages, or prints one message's full record the way Momentum's
``ec_show -s`` does (momentum-facts.md §3.6): ID/BatchID/ConnID decoded as
(slot, pid, counter), Created, Next Attempt, Retries, Received From/Via, Sender,
Recipient, Code, Size, the connection and message context dictionaries, then the raw
message; like ``message details``, it also names the Binding and the Domain whose queue
the message waits in (a policy-set gateway's, as Momentum queues it). Safe on a live spool: it reads with spool_in in read-only mode, takes no lock,
never repairs, quarantines or writes anything. Reports damaged stretches on stderr.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

from .msgid import decode, describe
from .spool_commit import segment_name
from .spool_in import load_segments
from .spool_records import SpooledMessage


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "-"


def _decoded(some_id: str) -> str:
    try:
        decode(some_id)
    except ValueError:
        return some_id or "-"
    return f"{some_id} {describe(some_id)}"


def _context(values: dict[str, str]) -> str:
    return "[" + ",".join(f'{key}="{value}"' if " " in value else f"{key}={value}"
                          for key, value in values.items()) + "]"


def _queue_domain(message: SpooledMessage) -> str:
    """The domain whose queue the message waits in (queue/entry.py): the gateway a
    policy chose (``ec_set_routing_gateway``), else ``routing_domain``, else the
    recipient's domain."""
    from ecelerity.queue.entry import routing_domain

    return routing_domain(message)


def format_record(message: SpooledMessage) -> str:
    """The header block of one message (everything before its raw content)."""
    envelope = message.envelope
    peer = f"{envelope.peer_ip}:{envelope.peer_port}" if envelope.peer_ip else "-"
    rows = [
        ("ID", _decoded(message.id)),
        ("BatchID", _decoded(message.batch_id)),
        ("ConnID", _decoded(envelope.conn_id)),
        ("Swapped", "no"),
        ("Created", _when(message.created)),
        ("Next Attempt", _when(message.next_attempt)),
        ("Retries", str(message.retries)),
        ("Received From", f"{envelope.protocol.upper()} {peer}"),
        ("Received Via", envelope.local_addr or "-"),
        ("Sender", envelope.mail_from or "<>"),
        ("Recipient", message.recipient.address),
        ("Code", message.last_error or "-"),
        ("Size", str(message.size)),
        ("Binding", message.binding or "default"),
        ("Domain", _queue_domain(message)),
        ("Connection Context", _context(envelope.conn_context)),
        ("Message Context", _context(envelope.mess_context)),
    ]
    return "\n".join(f"{label:>18}: {value}" for label, value in rows) + "\n"


def read_content(spool_dir: str, message: SpooledMessage) -> bytes:
    """The raw message bytes, read directly (no gevent: this is an offline tool)."""
    path = os.path.join(spool_dir, "segments", segment_name(message.segment))
    with open(path, "rb") as segment_file:
        segment_file.seek(message.data_offset)
        return segment_file.read(message.size)


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``ec_show``; returns the exit status (0 ok, 1 not found, 2 error)."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="ec_show", description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--spool", required=True, help="spool directory")
    parser.add_argument("-n", "--no-content", action="store_true",
                        help="print the record without the raw message")
    parser.add_argument("msgid", nargs="*", help="message IDs to show (default: list all)")
    args = parser.parse_args(argv)
    spool_dir = os.path.abspath(args.spool)
    if not os.path.isdir(os.path.join(spool_dir, "segments")):
        print(f"ec_show: {spool_dir}: not a spool directory (no segments/)", file=sys.stderr)
        return 2
    try:
        report = load_segments(spool_dir, repair=False)
    except Exception as exc:  # an operator tool reports, it does not trace back
        print(f"ec_show: {spool_dir}: {exc}", file=sys.stderr)
        return 2
    for where, reason in report.quarantined:
        print(f"ec_show: damaged: {where}: {reason}", file=sys.stderr)
    if not args.msgid:
        for message in report.messages:
            out.write(f"{message.id} Created: {int(message.created)} Retries: {message.retries}"
                      f" From: <{message.envelope.mail_from}>"
                      f" To: <{message.recipient.address}> Size: {message.size}\n")
        out.write(f"{report.count} message(s)\n")
        return 0
    by_id = {message.id: message for message in report.messages}
    status = 0
    for wanted in args.msgid:
        message = by_id.get(wanted.upper())
        if message is None:
            print(f"ec_show: {wanted}: no such message in {spool_dir}", file=sys.stderr)
            status = 1
            continue
        out.write(format_record(message))
        if not args.no_content:
            try:
                content = read_content(spool_dir, message)
            except OSError as exc:
                print(f"ec_show: {wanted}: cannot read content: {exc}", file=sys.stderr)
                status = 2
                continue
            out.write("\n" + content.decode("utf-8", errors="replace") + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
