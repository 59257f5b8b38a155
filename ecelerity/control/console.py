"""ec_console: the operator's client of the control channel (console script ``ec_console``).

Usage::

    ec_console [--password-file FILE] [ADDRESS] [COMMAND...]

ADDRESS is a unix socket path (default ``var/run/control.sock``, relative to the
current directory, as the shipped config's Control_Listener), ``host:port``,
``[v6]:port``, ``user@host:port`` or ``unix:PATH``. The first argument is taken as the address when it
contains ``/``, looks like ``host:port``, starts with ``unix:`` or names an existing
file; anything else starts the command.

- One-shot: ``ec_console var/run/control.sock config eval max_outbound_connections``
  (or the command as one quoted argument) runs it, prints the body on stdout.
- Batch: when stdin is not a TTY and no command is given, each stdin line is a command.
- Interactive: on a TTY, a REPL (console_repl.py) with a banner, readline history
  (``~/.ec_console_history``), tab completion of command names and queued domains,
  ``\\pager``; ``quit`` or Ctrl-D leaves.

Authentication (protocol.py): when the listener requires it, or the address names a user
(``admin@127.0.0.1:2025``), the console authenticates with SCRAM-SHA-256; the password comes
from ``--password-file FILE`` (its first line) or is asked on the terminal (getpass).

A non-2xx reply prints ``ec_console: <code> <text>`` on stderr. Exit status: 0 when every
command succeeded (2xx), 1 when one failed, 2 when the console could not connect or
talk to the daemon (or bad usage). Never prints a traceback.
"""
from __future__ import annotations

import getpass
import os
import shlex
import sys
from typing import TextIO

from .client import DEFAULT_SOCKET, AuthFailed, AuthRequired, ControlClient, parse_address
from .console_repl import repl
from .protocol import ProtocolError, Reply

EXIT_OK, EXIT_COMMAND_FAILED, EXIT_NO_DAEMON = 0, 1, 2


def looks_like_address(word: str) -> bool:
    if not word or any(ch.isspace() for ch in word):
        return False
    if word.startswith("unix:") or "/" in word or os.path.exists(word):
        return True
    return parse_address(word).kind == "tcp"


def split_argv(argv: list[str]) -> tuple[str, str | None]:
    """(address, command line or None) from ec_console's arguments."""
    address = DEFAULT_SOCKET
    if argv and looks_like_address(argv[0]):
        address, argv = argv[0], argv[1:]
    if not argv:
        return address, None
    line = argv[0] if len(argv) == 1 else shlex.join(argv)
    return address, line


def print_reply(reply: Reply, out: TextIO, err: TextIO) -> int:
    if reply.body:
        out.write(reply.body_text)
        out.flush()
    if not reply.ok:
        err.write(f"ec_console: {reply.status} {reply.text}\n")
        err.flush()
        return EXIT_COMMAND_FAILED
    return EXIT_OK


def run_lines(client: ControlClient, lines: list[str], out: TextIO, err: TextIO) -> int:
    status = EXIT_OK
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() in ("quit", "exit"):
            break
        if print_reply(client.command(line), out, err) != EXIT_OK:
            status = EXIT_COMMAND_FAILED
    return status


def ask_password(user: str) -> str:
    """The password typed on the terminal (getpass); EOF means an empty password."""
    try:
        return getpass.getpass(f"Password for {user}: ")
    except EOFError:
        return ""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__.split("\n\n", 1)[1])
        return EXIT_OK
    password = None
    if argv and argv[0] == "--password-file":
        if len(argv) < 2:
            sys.stderr.write("ec_console: --password-file needs a file\n")
            return EXIT_NO_DAEMON
        try:
            with open(argv[1], encoding="utf-8") as handle:
                password = handle.readline().rstrip("\r\n")
        except OSError as exc:
            sys.stderr.write(f"ec_console: cannot read password file '{argv[1]}': "
                             f"{exc.strerror or exc}\n")
            return EXIT_NO_DAEMON
        argv = argv[2:]
    address, line = split_argv(argv)
    client = ControlClient(address, password=password, get_password=ask_password)
    try:
        client.connect()
        if line is not None:
            return print_reply(client.command(line), sys.stdout, sys.stderr)
        if not sys.stdin.isatty():
            return run_lines(client, sys.stdin.readlines(), sys.stdout, sys.stderr)
        return repl(client, sys.stdout, sys.stderr)
    except AuthRequired as exc:
        sys.stderr.write(f"ec_console: {exc}\n")
        return EXIT_NO_DAEMON
    except AuthFailed as exc:
        sys.stderr.write(f"ec_console: authentication to {client.address} failed: {exc}\n")
        return EXIT_NO_DAEMON
    except (OSError, ProtocolError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        sys.stderr.write(f"ec_console: cannot talk to the daemon at {client.address}: {reason}\n")
        return EXIT_NO_DAEMON
    except KeyboardInterrupt:
        return EXIT_COMMAND_FAILED
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
