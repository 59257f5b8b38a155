"""xml.*: XML documents for scripts, on lxml.

Installed by libraries.py.
  xml.parsexml(text) -> doc, or nil, errmsg (no DTD loading, no entity expansion,
      no network: a hostile document cannot read files or blow up memory)
  doc:root() -> node; doc:tostring() -> text; doc:xpath(expr) -> array of nodes
      (string/number/boolean results come back as such)
  node:name(); node:attribute(name [, value]) -> value (set when given; "" deletes);
  node:contents([text]) -> the node's text (set when given); node:children() -> an
  iterator over the element children; node:addchild(name [, text]) -> the new node;
  node:unlink() -> true; node:doc() -> its doc; node:tostring() -> text
Python objects stay behind the sandbox's proxies (classes ``xmldoc`` / ``xmlnode``).
Never does I/O.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False,
                       huge_tree=False, remove_blank_text=False)
_ITERATE = "function(t) local i = 0 return function() i = i + 1 return t[i] end end"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _XmlClasses:
    """The two proxy factories of one runtime."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        make = runtime.sandbox.make_class
        self.doc = make(b"xmldoc", runtime.table({
            "root": lambda tree: self.node(tree.getroot()),
            "tostring": lambda tree: etree.tostring(tree, encoding="utf-8", xml_declaration=True),
            "xpath": self._xpath}))
        self.node = make(b"xmlnode", runtime.table({
            "name": lambda el: _text(etree.QName(el).localname).encode(),
            "attribute": self._attribute, "contents": self._contents,
            "children": self._children, "addchild": self._addchild,
            "unlink": self._unlink, "doc": lambda el: self.doc(el.getroottree()),
            "tostring": lambda el: etree.tostring(el, encoding="utf-8")}))

    def _xpath(self, tree: Any, expression: Any) -> Any:
        found = tree.xpath(_text(expression))
        if isinstance(found, list):
            return self.runtime.table([self._value(item) for item in found])
        return self._value(found)

    def _value(self, item: Any) -> Any:
        if isinstance(item, etree._Element):
            return self.node(item)
        if isinstance(item, str):
            return item.encode("utf-8")
        return item

    def _attribute(self, el: Any, name: Any, value: Any = None) -> Any:
        key = _text(name)
        if value is not None:
            if value == b"":
                el.attrib.pop(key, None)
            else:
                el.set(key, _text(value))
        found = el.get(key)
        return None if found is None else found.encode("utf-8")

    def _contents(self, el: Any, text: Any = None) -> bytes:
        if text is not None:
            el.text = _text(text)
        return (el.text or "").encode("utf-8")

    def _children(self, el: Any) -> Any:
        items = self.runtime.table([self.node(child) for child in el
                                    if isinstance(child.tag, str)])
        return iterator_over(self.runtime, items)

    def _addchild(self, el: Any, name: Any, text: Any = None) -> Any:
        child = etree.SubElement(el, _text(name))
        if text is not None:
            child.text = _text(text)
        return self.node(child)

    def _unlink(self, el: Any) -> bool:
        parent = el.getparent()
        if parent is None:
            raise ValueError("node:unlink: the root element cannot be unlinked")
        parent.remove(el)
        return True


def iterator_over(runtime: Any, table: Any) -> Any:
    """A Lua iterator function over a Lua array (for ``for x in obj:children() do``)."""
    maker = runtime.__dict__.get("_array_iterator")
    if maker is None:
        maker = runtime.__dict__["_array_iterator"] = runtime.sandbox.lua.eval(_ITERATE)
    return maker(table)


def _classes(runtime: Any) -> _XmlClasses:
    found = runtime.__dict__.get("_xml_classes")
    if found is None:
        found = runtime.__dict__["_xml_classes"] = _XmlClasses(runtime)
    return found


def parsexml(runtime: Any, text: Any) -> Any:
    data = text if isinstance(text, bytes) else _text(text).encode()
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        return None, f"xml.parsexml: {exc}".encode()
    return _classes(runtime).doc(root.getroottree())


FUNCTIONS = {"xml.parsexml": parsexml}
