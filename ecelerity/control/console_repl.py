"""ec_console's interactive REPL: readline history, tab completion, ``\\pager``.

Who calls it: console.main when stdin is a TTY and no command was given.

- History in ``~/.ec_console_history``.
- Tab completes command names (``help --json``) and, after ``domain``, ``showqueue``,
  ``flush domain``, ``fail domain``, ``binding flush domain``, ``binding fail domain``,
  ``refresh domain`` and ``reroute queue``, the domains queued right now (``mailq --limit 0
  --json``, fetched when the completion starts: the queue changes).
- ``\\pager`` toggles paging: a reply longer than the terminal goes through ``$PAGER``
  (default ``less -FRX``). ``\\pager on|off`` sets it.

Never prints a traceback; a lost connection is re-opened once per command.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from typing import TextIO

from .client import ControlClient
from .protocol import ProtocolError, Reply

HISTORY_FILE = "~/.ec_console_history"
DEFAULT_PAGER = "less -FRX"
DOMAIN_COMMANDS = ("domain", "showqueue", "flush domain", "fail domain", "binding flush domain",
                   "binding fail domain", "refresh domain", "reroute queue")


def command_names(client: ControlClient) -> list[str]:
    try:
        reply = client.command("help --json")
        return [row["name"] for row in json.loads(reply.body_text)] if reply.ok else []
    except (ValueError, KeyError, TypeError, OSError, ProtocolError):
        return []


def queued_domains(client: ControlClient) -> list[str]:
    try:
        reply = client.command("mailq --limit 0 --json")
        rows = json.loads(reply.body_text)["QueueSummary"] if reply.ok else []
        return sorted({row["domain"] for row in rows})
    except (ValueError, KeyError, TypeError, OSError, ProtocolError):
        return []


def wants_domain(done_words: list[str]) -> bool:
    """True when the next word of this line is a domain (see DOMAIN_COMMANDS)."""
    lowered = [w.lower() for w in done_words]
    for command in DOMAIN_COMMANDS:
        words = command.split()
        if lowered[: len(words)] != words:
            continue
        rest = lowered[len(words):]
        if command == "showqueue":  # showqueue [binding <name>|binding all] <domain>
            return rest == [] or (len(rest) == 2 and rest[0] == "binding")
        if command.startswith("binding"):
            return len(rest) == 1  # binding flush domain <binding> <domain>
        return not rest
    return False


class Completer:
    def __init__(self, client: ControlClient, names: list[str]) -> None:
        self.client = client
        self.names = names
        self._candidates: list[str] = []

    def candidates(self, typed: str, text: str) -> list[str]:
        done_words = typed[: len(typed) - len(text)].split()
        if wants_domain(done_words):
            return [d + " " for d in queued_domains(self.client) if d.startswith(text.lower())]
        found: list[str] = []
        for name in self.names:
            words = name.split(" ")
            if words[: len(done_words)] == [w.lower() for w in done_words] and len(words) > len(done_words):
                word = words[len(done_words)]
                if word.startswith(text.lower()) and word + " " not in found:
                    found.append(word + " ")
        return found

    def __call__(self, text: str, state: int) -> str | None:
        import readline

        if state == 0:
            typed = readline.get_line_buffer()[: readline.get_endidx()]
            self._candidates = self.candidates(typed, text)
        return self._candidates[state] if state < len(self._candidates) else None


class Output:
    """Prints replies, through the pager when paging is on and the reply is long."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out, self.err = out, err
        self.paging = False

    def pager_command(self, arg: str) -> None:
        if arg in ("on", "off"):
            self.paging = arg == "on"
        elif arg:
            self.err.write("usage: \\pager [on|off]\n")
            return
        else:
            self.paging = not self.paging
        pager = os.environ.get("PAGER") or DEFAULT_PAGER
        self.out.write(f"# paging {'on (' + pager + ')' if self.paging else 'off'}\n")

    def reply(self, reply: Reply) -> None:
        rows = shutil.get_terminal_size((80, 24)).lines
        if self.paging and len(reply.body) >= rows - 1:
            self.out.flush()
            pager = os.environ.get("PAGER") or DEFAULT_PAGER
            try:
                subprocess.run(shlex.split(pager), input=reply.body_text, text=True, check=False)
            except OSError as exc:
                self.err.write(f"ec_console: cannot run pager '{pager}': {exc.strerror or exc}\n")
                self.out.write(reply.body_text)
        elif reply.body:
            self.out.write(reply.body_text)
        if not reply.ok:
            self.err.write(f"ec_console: {reply.status} {reply.text}\n")
        self.out.flush()
        self.err.flush()


def repl(client: ControlClient, out: TextIO, err: TextIO) -> int:
    try:
        import readline
    except ImportError:  # pragma: no cover - readline is in every Debian python
        readline = None
    history = os.path.expanduser(HISTORY_FILE)
    if readline is not None:
        readline.set_completer(Completer(client, command_names(client)))
        readline.set_completer_delims(" \t")
        readline.parse_and_bind("tab: complete")
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    printer = Output(out, err)
    version = client.command("version")
    banner = version.body[0] if version.ok and version.body else "ecelerity"
    who = f" as {client.authenticated_as}" if client.authenticated_as else ""
    out.write(f"# {banner}\n# connected to {client.address}{who}; 'help' lists commands, "
              "'\\pager' pages long output, 'quit' leaves\n")
    prompt = f"ecelerity({client.address})> "
    try:
        while True:
            try:
                line = input(prompt).strip()
            except EOFError:
                out.write("\n")
                return 0
            except KeyboardInterrupt:
                out.write("\n")
                continue
            if not line:
                continue
            if line.lower() in ("quit", "exit"):
                return 0
            if line.split()[0] == "\\pager":
                printer.pager_command(line.split()[1] if len(line.split()) > 1 else "")
                continue
            try:
                printer.reply(client.command(line))
            except (OSError, ProtocolError):
                client.close()  # the daemon closed an idle connection: reconnect once
                printer.reply(client.command(line))
    finally:
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass
