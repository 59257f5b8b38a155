"""ec_console: the operator's client of the control channel (console script ``ec_console``).

Usage::

    ec_console [ADDRESS] [COMMAND...]

ADDRESS is a unix socket path (default ``var/run/control.sock``, relative to the
current directory, as the shipped config's Control_Listener), ``host:port``,
``[v6]:port`` or ``unix:PATH``. The first argument is taken as the address when it
contains ``/``, looks like ``host:port``, starts with ``unix:`` or names an existing
file; anything else starts the command.

- One-shot: ``ec_console var/run/control.sock config eval max_outbound_connections``
  (or the command as one quoted argument) runs it, prints the body on stdout.
- Batch: when stdin is not a TTY and no command is given, each stdin line is a command.
- Interactive: on a TTY, a REPL with a banner, readline history (``~/.ec_console_history``)
  and tab completion of the registered command names (fetched with ``help --json``);
  ``quit`` or Ctrl-D leaves.

A non-2xx reply prints ``ec_console: <code> <text>`` on stderr. Exit status: 0 when every
command succeeded (2xx), 1 when one failed, 2 when the console could not connect or
talk to the daemon (or bad usage). Never prints a traceback.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from typing import TextIO

from .client import DEFAULT_SOCKET, ControlClient, parse_address
from .protocol import ProtocolError, Reply

EXIT_OK, EXIT_COMMAND_FAILED, EXIT_NO_DAEMON = 0, 1, 2
HISTORY_FILE = "~/.ec_console_history"


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


def command_names(client: ControlClient) -> list[str]:
    try:
        reply = client.command("help --json")
        return [row["name"] for row in json.loads(reply.body_text)] if reply.ok else []
    except (ValueError, KeyError, TypeError):
        return []


def _completer(names: list[str]):
    def complete(text: str, state: int) -> str | None:
        import readline

        typed = readline.get_line_buffer()[: readline.get_endidx()]
        done_words = typed[: len(typed) - len(text)].split()
        candidates = []
        for name in names:
            words = name.split(" ")
            if words[: len(done_words)] == [w.lower() for w in done_words] and len(words) > len(done_words):
                word = words[len(done_words)]
                if word.startswith(text.lower()) and word not in candidates:
                    candidates.append(word)
        return candidates[state] + " " if state < len(candidates) else None

    return complete


def repl(client: ControlClient, out: TextIO, err: TextIO) -> int:
    try:
        import readline
    except ImportError:  # pragma: no cover - readline is in every Debian python
        readline = None
    history = os.path.expanduser(HISTORY_FILE)
    if readline is not None:
        readline.set_completer(_completer(command_names(client)))
        readline.set_completer_delims(" \t")
        readline.parse_and_bind("tab: complete")
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    version = client.command("version")
    banner = version.body[0] if version.ok and version.body else "ecelerity"
    out.write(f"# {banner}\n# connected to {client.address}; 'help' lists commands, 'quit' leaves\n")
    prompt = f"ecelerity({client.address})> "
    try:
        while True:
            try:
                line = input(prompt).strip()
            except EOFError:
                out.write("\n")
                return EXIT_OK
            except KeyboardInterrupt:
                out.write("\n")
                continue
            if not line:
                continue
            if line.lower() in ("quit", "exit"):
                return EXIT_OK
            try:
                print_reply(client.command(line), out, err)
            except (OSError, ProtocolError):
                client.close()  # the daemon closed an idle connection: reconnect once
                print_reply(client.command(line), out, err)
    finally:
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        sys.stdout.write(__doc__.split("\n\n", 1)[1])
        return EXIT_OK
    address, line = split_argv(argv)
    client = ControlClient(address)
    try:
        client.connect()
        if line is not None:
            return print_reply(client.command(line), sys.stdout, sys.stderr)
        if not sys.stdin.isatty():
            return run_lines(client, sys.stdin.readlines(), sys.stdout, sys.stderr)
        return repl(client, sys.stdout, sys.stderr)
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
