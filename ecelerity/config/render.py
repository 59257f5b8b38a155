"""Writing a configuration tree back as ecelerity.conf text (render_config).

Used by the round-trip tests and by the console's ``write config``; parser.py
re-exports render_config. Output parses back (parser.parse_text) to the same
structure. It never reads files, never resolves values, and does not keep
comments or the original layout.
"""
from __future__ import annotations

from .lexer import is_bare_word
from .tree import ListValue, Scalar, Stanza, Value


def _quote(text: str) -> str:
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
    return f'"{escaped}"'


def _render_word(text: str) -> str:
    return text if is_bare_word(text) else _quote(text)


def _render_value(value: Value) -> str:
    if isinstance(value, Scalar):
        return _quote(value.text) if value.quoted else _render_word(value.text)
    if isinstance(value, ListValue):
        return "( " + " ".join(_render_value(item) for item in value.items) + " )"
    pairs = " ".join(f"{_render_word(k)} = {_render_value(v)}" for k, v, _ in value.items)
    return "[ " + pairs + " ]"


def render_config(root: Stanza, *, include_readonly: bool = True) -> str:
    """Write a tree back as ecelerity.conf text that parses to the same structure.

    Settings come before child stanzas in each stanza; comments and the original
    layout are not kept. ``include_readonly=False`` leaves out readonly nodes.
    """
    lines: list[str] = []

    def emit(stanza: Stanza, indent: str) -> None:
        for setting in stanza.settings:
            if include_readonly or not setting.readonly:
                lines.append(f"{indent}{_render_word(setting.name)} = {_render_value(setting.value)}")
        for child in stanza.children:
            if not include_readonly and child.readonly:
                continue
            header = _render_word(child.spelling)
            if child.name is not None:
                header += " " + _quote(child.name)
            lines.append(f"{indent}{header} {{")
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit(root, "")
    return "\n".join(lines) + ("\n" if lines else "")
