"""The configuration as XML (lxml), for ec_dump_config and for tools that XPath it.

Called by tools.dump_main with a loaded resolver.Config (or a bare, validated tree).
The document shows what the files set, resolved the way the daemon reads it:
stanzas that merge (the same binding, domain, listener... declared twice) appear
once, a setting given twice shows only the value in force (later wins), and each
value is the canonical rendering of its typed value (``on`` -> ``true``, ``20m``
-> ``1200``; scalars without config-file quotes, lists and dictionaries in
config-file form) with ``raw`` holding the text as written when it differs. Built-in
defaults are left out unless asked for (``include_defaults``: a ``<defaults>``
section listing every registry option not set at global level). Never reads files
and never validates: give it a tree the validator accepted.

Shape::

    <ecelerity source="conf/ecelerity.conf">
      <files><file path="conf/ecelerity.conf"/>...</files>
      <global>
        <option name="force_fsync" value="true" type="boolean" file=".." line="9" col="1"/>
        <scope type="binding" name="b1" file=".." line=".." col="..">
          <option name="bind_address" value="127.0.0.2" .../>
          <scope type="domain" name="example.com">...</scope>
        </scope>
        <scope type="esmtp_listener">
          <scope type="listen" name="127.0.0.1:2525">...</scope>
        </scope>
        <module name="ec_logger" instance="ec_logger">...</module>
      </global>
    </ecelerity>

List values also carry one ``<item value=".."/>`` child per element (canonical, e.g.
``::1`` -> ``::1/128`` in a CIDR list) and dictionaries one ``<entry key=".." value=".."/>``
per key. Characters XML cannot hold are shown as ``\\xNN``.
"""
from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .. import modules
from . import registry
from .scopes import scope_kind
from .tree import DictValue, ListValue, Scalar, Setting, Stanza, Value


def dump_xml(cfg_or_root: Any, *, include_defaults: bool = False) -> bytes:
    """Serialise a Config (anything with ``.root``) or a root Stanza as pretty XML bytes."""
    root: Stanza = getattr(cfg_or_root, "root", cfg_or_root)
    document = etree.Element("ecelerity", source=xml_safe(root.loc.file))
    files = getattr(cfg_or_root, "files", None) or [root.loc.file]
    files_element = etree.SubElement(document, "files")
    for name in files:
        etree.SubElement(files_element, "file", path=xml_safe(str(name)))
    global_element = etree.SubElement(document, "global")
    _fill(global_element, [root], option_source=None)
    if include_defaults:
        _add_defaults(document, root)
    return etree.tostring(document, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def _fill(element: etree._Element, same_scope: list[Stanza], option_source: Any) -> None:
    """Write the settings and children of stanzas that merge into one scope."""
    in_force: dict[str, Setting] = {}
    for stanza in same_scope:
        for setting in stanza.settings:
            in_force.pop(setting.key, None)  # re-insert: later wins, keeps the last position
            in_force[setting.key] = setting
    for setting in in_force.values():
        _option(element, setting, _spec_for(setting, option_source))
    groups: dict[tuple[str, str | None], list[Stanza]] = {}
    for stanza in same_scope:
        for child in stanza.children:
            groups.setdefault((child.kind, child.name), []).append(child)
    for (kind, name), stanzas in groups.items():
        first = stanzas[0]
        if scope_kind(kind) is not None:
            child_element = etree.SubElement(element, "scope", type=kind)
            source = None
        else:
            spec = modules.module_spec(kind)
            child_element = etree.SubElement(element, "module", name=spec.name if spec else kind)
            child_element.set("instance", xml_safe(name if name is not None else (spec.name if spec else kind)))
            source = spec if spec is not None else False
        if name is not None and scope_kind(kind) is not None:
            child_element.set("name", xml_safe(name))
        _locate(child_element, first)
        _fill(child_element, stanzas, source)


def _spec_for(setting: Setting, option_source: Any):
    """The OptionSpec typing this setting: the module's when inside a module stanza."""
    if option_source is False:
        return None  # unknown module: values shown as written
    if option_source is not None:
        return option_source.options.get(setting.key)
    return registry.lookup(setting.key)


def _option(parent: etree._Element, setting: Setting, spec) -> None:
    element = etree.SubElement(parent, "option", name=spec.name if spec is not None else setting.name)
    raw = raw_text(setting.value)
    value = raw
    items = [raw_text(item) for item in setting.value.items] if isinstance(setting.value, ListValue) else None
    if spec is not None:
        element.set("type", spec.type.name)
        try:
            parsed = spec.type.parse(setting.value)
            value = spec.type.render(parsed)
            item_type = getattr(spec.type, "item", None)
            if isinstance(parsed, list) and item_type is not None:
                items = [unquote(item_type.render(v)) for v in parsed]
        except Exception:  # noqa: BLE001 - a validated tree parses; keep the dump total anyway
            value = raw
        if isinstance(setting.value, Scalar):
            value = unquote(value)
    element.set("value", xml_safe(value))
    if value != raw:
        element.set("raw", xml_safe(raw))
    _locate(element, setting)
    for item in items or ():
        etree.SubElement(element, "item", value=xml_safe(item))
    if isinstance(setting.value, DictValue):
        for key, entry, _loc in setting.value.items:
            etree.SubElement(element, "entry", key=xml_safe(key), value=xml_safe(raw_text(entry)))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters: show them as \\xNN instead."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _locate(element: etree._Element, node: Setting | Stanza) -> None:
    element.set("file", xml_safe(node.loc.file))
    element.set("line", str(node.loc.line))
    element.set("col", str(node.loc.col))


def raw_text(value: Value) -> str:
    """A value as ecelerity.conf would spell it (quoting only what needs quotes)."""
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, ListValue):
        return "( " + " ".join(_quoted(raw_text(item)) for item in value.items) + " )"
    return "[ " + " ".join(f"{key} = {_quoted(raw_text(item))}" for key, item, _ in value.items) + " ]"


def unquote(text: str) -> str:
    """A rendered scalar without its config-file quotes (``"a b"`` -> ``a b``)."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _quoted(text: str) -> str:
    if text and not any(ch.isspace() or ch in "#/\"'={}[]()" for ch in text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _add_defaults(document: etree._Element, root: Stanza) -> None:
    defaults = etree.SubElement(document, "defaults")
    set_globally = {s.key for s in root.settings}
    for spec in sorted(registry.all_options(), key=lambda s: s.name):
        if spec.name.lower() in set_globally:
            continue
        element = etree.SubElement(defaults, "option", name=spec.name, type=spec.type.name)
        if spec.default is not None:
            try:
                element.set("value", xml_safe(unquote(spec.type.render(spec.default))))
            except Exception:  # noqa: BLE001 - a default the type can't render is shown as-is
                element.set("value", xml_safe(str(spec.default)))
        element.set("scopes", " ".join(sorted(spec.scopes)))
