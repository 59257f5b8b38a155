"""Add or replace a console user in a password file (our ``ec_md5passwd``).

Usage: ``python -m ecelerity.control.passwd FILE USER [--roles r1,r2] [--delete]``.
The password is asked on the terminal (twice) or read from the first line of stdin when
stdin is not a TTY. Writes ``FILE`` atomically with mode 0600; keeps other lines and
comments. Never prints or logs the password. Exit status 0 ok, 2 bad usage/IO error.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from .auth import password_line


def update_file(path: str, user: str, line: str | None) -> None:
    """Replace (or append, or with ``line=None`` remove) ``user``'s line in ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            old = handle.read().splitlines()
    except FileNotFoundError:
        old = []
    kept = [text for text in old if text.split(":", 1)[0].strip() != user]
    if line is not None:
        kept.append(line)
    temp = f"{path}.tmp{os.getpid()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("".join(text + "\n" for text in kept))
    os.replace(temp, path)


def read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New console password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecelerity-passwd", description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("user")
    parser.add_argument("--roles", default="", help="comma-separated roles")
    parser.add_argument("--delete", action="store_true", help="remove the user")
    args = parser.parse_args(argv)
    try:
        if args.delete:
            update_file(args.file, args.user, None)
            return 0
        password = read_password()
        if not password:
            raise ValueError("empty password")
        roles = [r for r in args.roles.split(",") if r]
        update_file(args.file, args.user, password_line(args.user, password, roles))
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"ecelerity-passwd: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
