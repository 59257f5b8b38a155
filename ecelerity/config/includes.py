"""Reading configuration files for the parser: include resolution, recursion, readonly.

One IncludeSession serves one parse_text/parse_file call (parser.py creates it).
It reads files (UTF-8, position of any invalid byte reported), resolves
``include``/``readonly_include`` targets and splices each file's statements into
the including stanza through parser.parse_tokens. It never evaluates options and
never keeps state between parses.

Rules:
- A relative include is looked up in the including file's directory first, then
  in each search_path entry; the first existing path wins. Errors are reported at
  the include's file name value.
- A directory include takes every regular file whose name does not start with
  ``.``, in alphabetical order; subdirectories are not entered.
- A file already being parsed (by real path) cannot be included again inside
  itself: that is a recursive include error naming the chain.
- Nodes from ``readonly_include`` (and everything those files include), and from
  any file included more than once, are marked ``readonly``.
"""
from __future__ import annotations

import os
import stat

from .errors import ConfigError
from .lexer import Token, tokenize
from .parser import MAX_DEPTH, ProblemSink, TooManyErrors, parse_tokens
from .tree import Location, Scalar, Setting, Stanza


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column in characters) of byte ``offset`` in valid UTF-8 ``data[:offset]``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    prefix = data[line_start:offset]
    if line_start == 0 and prefix.startswith(b"\xef\xbb\xbf"):
        prefix = prefix[3:]
    return line, len(prefix.decode("utf-8", errors="replace")) + 1


class IncludeSession:
    """State of one parse across all its files."""

    def __init__(self, search_path: list[str] | None = None) -> None:
        self.search_path = list(search_path or [])
        self.sink = ProblemSink()
        self.stack: list[tuple[str, str]] = []  # (real path, display path) being parsed
        self.inclusions: dict[str, list[tuple[list[Setting], list[Stanza]]]] = {}

    # -- entry points -------------------------------------------------------------------

    def parse_root_text(self, text: str, filename: str) -> Stanza:
        root = Stanza(kind="global", spelling="global", name=None, loc=Location(filename, 1, 1))
        try:
            self._parse_text_into(root, text, filename, readonly=False, depth=0)
        except TooManyErrors:
            pass
        return self._finish(root)

    def parse_root_file(self, path: str) -> Stanza:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise ConfigError(f"configuration file '{path}' not found") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"configuration file '{path}' cannot be read: {_reason(exc)}") from None
        if not stat.S_ISREG(mode):
            raise ConfigError(f"configuration file '{path}' is not a regular file")
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise ConfigError(f"configuration file '{path}' cannot be read: {_reason(exc)}") from None
        root = Stanza(kind="global", spelling="global", name=None, loc=Location(path, 1, 1))
        try:
            text = self._decode(data, path)
            self._parse_text_into(root, text, path, readonly=False, depth=0)
        except TooManyErrors:
            pass
        return self._finish(root)

    # -- the work -----------------------------------------------------------------------

    def _parse_text_into(self, stanza: Stanza, text: str, display: str, *,
                         readonly: bool, depth: int) -> None:
        self.stack.append((_real(display), display))
        try:
            parse_tokens(tokenize(text, display), stanza, self.sink, self.include,
                         readonly=readonly, depth=depth)
        finally:
            self.stack.pop()

    def include(self, stanza: Stanza, keyword: Token, target: Scalar, readonly: bool,
                depth: int) -> None:
        """Splice the file or directory named by ``target`` into ``stanza``."""
        spec = target.text
        if os.path.isabs(spec):
            candidates = [spec]
        else:
            including_dir = os.path.dirname(target.loc.file)
            candidates = [os.path.join(including_dir, spec)]
            candidates += [os.path.join(entry, spec) for entry in self.search_path]
        found: tuple[str, int] | None = None
        for candidate in candidates:
            try:
                found = (candidate, os.stat(candidate).st_mode)
                break
            except (OSError, ValueError):
                continue
        if found is None:
            self.sink.error(target.loc, f"include file '{spec}' not found "
                            f"(searched: {', '.join(candidates)})")
            return
        path, mode = found
        if stat.S_ISDIR(mode):
            try:
                names = sorted(os.listdir(path))
            except OSError as exc:
                self.sink.error(target.loc, f"include directory '{spec}' cannot be read: {_reason(exc)}")
                return
            files = [os.path.join(path, n) for n in names if not n.startswith(".")]
            files = [f for f in files if os.path.isfile(f)]
        elif stat.S_ISREG(mode):
            files = [path]
        else:
            self.sink.error(target.loc, f"include file '{spec}' is not a regular file or directory")
            return
        for file_path in files:
            self._include_file(stanza, file_path, target, readonly, depth)

    def _include_file(self, stanza: Stanza, path: str, target: Scalar, readonly: bool,
                      depth: int) -> None:
        real = _real(path)
        for index, (open_real, _) in enumerate(self.stack):
            if open_real == real:
                chain = [display for _, display in self.stack[index:]] + [path]
                self.sink.error(target.loc, f"include of '{target.text}' is recursive "
                                f"({' -> '.join(chain)})")
                return
        if depth > MAX_DEPTH:
            self.sink.error(target.loc, f"stanzas and includes nested too deeply (limit {MAX_DEPTH})")
            return
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            self.sink.error(target.loc, f"include file '{target.text}' cannot be read: {_reason(exc)}")
            return
        settings_before, children_before = len(stanza.settings), len(stanza.children)
        text = self._decode(data, path)
        self._parse_text_into(stanza, text, path, readonly=readonly, depth=depth)
        self.inclusions.setdefault(real, []).append(
            (stanza.settings[settings_before:], stanza.children[children_before:]))

    def _decode(self, data: bytes, display: str) -> str:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line, col = _position(data, exc.start)
            self.sink.error(Location(display, line, col),
                            f"invalid UTF-8 byte 0x{data[exc.start]:02x} (the file must be UTF-8)")
            return data.decode("utf-8-sig", errors="replace")

    def _finish(self, root: Stanza) -> Stanza:
        for spliced in self.inclusions.values():
            if len(spliced) < 2:
                continue
            for settings, children in spliced:
                for setting in settings:
                    setting.readonly = True
                for child in children:
                    _mark_readonly(child)
        if self.sink.problems:
            raise ConfigError(self.sink.problems)
        return root


def _mark_readonly(stanza: Stanza) -> None:
    todo = [stanza]
    while todo:
        node = todo.pop()
        node.readonly = True
        for setting in node.settings:
            setting.readonly = True
        todo.extend(node.children)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
