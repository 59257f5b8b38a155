"""dump_xml (ecelerity/config/dump.py): the resolved configuration as XML.

Configurations are loaded through the real loader; the XML is read back with
lxml and XPath, and a dump is turned back into ecelerity.conf text and reloaded to
show nothing is lost.
"""
from pathlib import Path

from lxml import etree

from ecelerity.config import registry
from ecelerity.config.dump import dump_xml
from ecelerity.config.loader import load_config, load_config_text

TEXT = """\
force_fsync = on
retry_interval = 20m
relay_hosts = ( "127.0.0.0/8" "::1" )
max_outbound_connections = 1
max_outbound_connections = 9
Binding_Group "g1" {
  Binding "b1" {
    bind_address = "127.0.0.2"
    Domain "example.com" { max_outbound_connections = 3 }
  }
}
Domain "example.com" { retry_interval = 60 }
Domain "example.com" { max_outbound_connections = 4 }
ESMTP_Listener {
  Listen "127.0.0.1:2525" { Peer "127.0.0.5" { open_relay = yes } }
  context = [ team = "mail ops" region = eu ]
}
ec_logger "main" { mainlog = "var/log/mainlog.ec" heartbeat = 30 }
"""


def parse(cfg) -> etree._Element:
    return etree.fromstring(dump_xml(cfg))


def test_values_are_canonical_with_the_text_as_written_kept() -> None:
    doc = parse(load_config_text(TEXT, "d.conf"))
    fsync = doc.xpath("/ecelerity/global/option[@name='force_fsync']")[0]
    assert (fsync.get("value"), fsync.get("raw"), fsync.get("type")) == ("true", "on", "boolean")
    assert (fsync.get("file"), fsync.get("line"), fsync.get("col")) == ("d.conf", "1", "1")
    retry = doc.xpath("/ecelerity/global/option[@name='retry_interval']")[0]
    assert (retry.get("value"), retry.get("raw")) == ("1200", "20m")


def test_a_setting_given_twice_shows_the_value_in_force() -> None:
    doc = parse(load_config_text(TEXT, "d.conf"))
    options = doc.xpath("/ecelerity/global/option[@name='max_outbound_connections']")
    assert [(o.get("value"), o.get("line")) for o in options] == [("9", "5")]


def test_scopes_nest_and_merged_stanzas_appear_once() -> None:
    doc = parse(load_config_text(TEXT, "d.conf"))
    binding = doc.xpath("//scope[@type='binding_group'][@name='g1']/scope[@type='binding'][@name='b1']")
    assert len(binding) == 1
    assert binding[0].xpath("option[@name='bind_address']/@value") == ["127.0.0.2"]
    assert binding[0].xpath("scope[@type='domain'][@name='example.com']/option/@value") == ["3"]
    domains = doc.xpath("/ecelerity/global/scope[@type='domain'][@name='example.com']")
    assert len(domains) == 1
    assert sorted(domains[0].xpath("option/@name")) == ["max_outbound_connections", "retry_interval"]
    assert domains[0].get("line") == "12"
    peer = doc.xpath("//scope[@type='esmtp_listener']/scope[@type='listen'][@name='127.0.0.1:2525']"
                     "/scope[@type='peer'][@name='127.0.0.5']/option[@name='open_relay']/@value")
    assert peer == ["true"]


def test_lists_and_dictionaries_have_one_child_per_element() -> None:
    doc = parse(load_config_text(TEXT, "d.conf"))
    assert doc.xpath("//option[@name='relay_hosts']/item/@value") == ["127.0.0.0/8", "::1/128"]
    assert doc.xpath("//option[@name='relay_hosts']/@raw") == ['( "127.0.0.0/8" ::1 )']
    entries = doc.xpath("//option[@name='context']/entry")
    assert [(e.get("key"), e.get("value")) for e in entries] == [("team", "mail ops"), ("region", "eu")]


def test_modules_carry_name_and_instance() -> None:
    doc = parse(load_config_text(TEXT, "d.conf"))
    module = doc.xpath("/ecelerity/global/module[@name='ec_logger'][@instance='main']")[0]
    assert module.xpath("option[@name='heartbeat']/@value") == ["30"]
    assert module.xpath("option[@name='mainlog']/@value") == ["var/log/mainlog.ec"]


def test_files_lists_every_file_read(tmp_path: Path) -> None:
    (tmp_path / "inc.conf").write_text("retry_interval = 5\n")
    (tmp_path / "main.conf").write_text('include "inc.conf"\n')
    doc = parse(load_config(str(tmp_path / "main.conf")))
    assert doc.xpath("/ecelerity/files/file/@path") == [str(tmp_path / "main.conf"), str(tmp_path / "inc.conf")]
    assert doc.xpath("//option[@name='retry_interval']/@file") == [str(tmp_path / "inc.conf")]


def test_defaults_section_is_optional_and_lists_unset_options() -> None:
    cfg = load_config_text("force_fsync = true\n", "d.conf")
    assert parse(cfg).xpath("/ecelerity/defaults") == []
    doc = etree.fromstring(dump_xml(cfg, include_defaults=True))
    names = doc.xpath("/ecelerity/defaults/option/@name")
    assert "force_fsync" not in names
    assert len(names) == len(registry.all_options()) - 1
    mode = doc.xpath("/ecelerity/defaults/option[@name='spool_mode']")[0]
    assert mode.get("value") == registry.lookup("spool_mode").render_default()


def test_control_characters_do_not_break_the_document() -> None:
    cfg = load_config_text('ehlo_hostname = "a\x01b"\n', "d.conf")
    assert parse(cfg).xpath("//option[@name='ehlo_hostname']/@value") == ["a\\x01b"]


def xml_to_conf(element: etree._Element, depth: int = 0) -> str:
    """Turn a dump back into ecelerity.conf text (test helper: the inverse of dump_xml)."""
    pad = "  " * depth
    lines = []
    for child in element:
        if child.tag == "option":
            value = child.get("value")
            if child.get("type") not in ("list", "cidr_list", "dict") and not child.xpath("item|entry"):
                value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{pad}{child.get('name')} = {value}")
        elif child.tag in ("scope", "module"):
            kind = child.get("type") if child.tag == "scope" else child.get("name")
            name = child.get("name") if child.tag == "scope" else child.get("instance")
            label = f' "{name}"' if name is not None else ""
            lines.append(f"{pad}{kind}{label} {{")
            lines.append(xml_to_conf(child, depth + 1))
            lines.append(f"{pad}}}")
    return "\n".join(line for line in lines if line)


def strip_locations(xml: bytes) -> bytes:
    doc = etree.fromstring(xml)
    for element in doc.iter():
        for attribute in ("file", "line", "col", "raw", "source"):
            element.attrib.pop(attribute, None)
    for files in doc.xpath("/ecelerity/files"):
        doc.remove(files)
    return etree.tostring(doc)


def test_a_dump_reloads_to_the_same_configuration() -> None:
    first = dump_xml(load_config_text(TEXT, "d.conf"))
    text = xml_to_conf(etree.fromstring(first).xpath("/ecelerity/global")[0])
    second = dump_xml(load_config_text(text, "again.conf"))
    assert strip_locations(first) == strip_locations(second)


def test_shipped_example_round_trips_too() -> None:
    path = Path(__file__).resolve().parents[3] / "conf" / "examples" / "multi-binding.conf"
    first = dump_xml(load_config(str(path)))
    text = xml_to_conf(etree.fromstring(first).xpath("/ecelerity/global")[0])
    second = dump_xml(load_config_text(text, "again.conf"))
    assert strip_locations(first) == strip_locations(second)
