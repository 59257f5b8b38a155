"""Tests for ecelerity/config/parser.py (and includes.py): every construct of the grammar."""
from __future__ import annotations

import os

import pytest

from ecelerity.config.errors import ConfigError
from ecelerity.config.parser import parse_file, parse_text, render_config
from ecelerity.config.tree import DictValue, ListValue, Location, Scalar, Stanza


def plain(value):
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, ListValue):
        return [plain(item) for item in value.items]
    assert isinstance(value, DictValue)
    return [(key, plain(item)) for key, item, _ in value.items]


def shape(stanza: Stanza) -> dict:
    return {
        "settings": [(s.name, plain(s.value)) for s in stanza.settings],
        "children": [(c.spelling, c.name, shape(c)) for c in stanza.children],
    }


def leaf(*settings, children=()):
    return {"settings": list(settings), "children": list(children)}


def check_parents(stanza: Stanza) -> None:
    for child in stanza.children:
        assert child.parent is stanza
        check_parents(child)


def test_esmtp_listener_sample_from_the_documentation():
    root = parse_text('''
ESMTP_Listener {
  Peer "10.0.0.0/16" { Open_Relay = true }          # ACL by CIDR
  Listen ":25" {                                     # ":25" == "*:25" (IPv4 any)
    Listen_Backlog = 500
    TCP_Recv_Buffer_Size = 4096
    Peer "10.0.0.1" { SMTP_Extensions = ( "ENHANCEDSTATUSCODES" "AUTH LOGIN" ) }
    pathway = "example1"
  }
  Listen "127.0.0.1:25" {}
  Listen "[*]:25" {}        # IPv6 any; IPv6 literals in Listen must be [..]:port
  Listen ":587" { Enable = false  Concurrency = 4  Pool_Name = "accept-pool" }
}
ThreadPool accept-pool { Concurrency = 4 }
Control_Listener { Listen "/tmp/2025" { File_Mode = 0666 }  Listen ":2025" { Enable_Authentication = "true" } }
''', "ecelerity.conf")
    assert shape(root) == leaf(children=[
        ("ESMTP_Listener", None, leaf(children=[
            ("Peer", "10.0.0.0/16", leaf(("Open_Relay", "true"))),
            ("Listen", ":25", leaf(
                ("Listen_Backlog", "500"), ("TCP_Recv_Buffer_Size", "4096"), ("pathway", "example1"),
                children=[("Peer", "10.0.0.1", leaf(
                    ("SMTP_Extensions", ["ENHANCEDSTATUSCODES", "AUTH LOGIN"])))])),
            ("Listen", "127.0.0.1:25", leaf()),
            ("Listen", "[*]:25", leaf()),
            ("Listen", ":587", leaf(("Enable", "false"), ("Concurrency", "4"),
                                    ("Pool_Name", "accept-pool"))),
        ])),
        ("ThreadPool", "accept-pool", leaf(("Concurrency", "4"))),
        ("Control_Listener", None, leaf(children=[
            ("Listen", "/tmp/2025", leaf(("File_Mode", "0666"))),
            ("Listen", ":2025", leaf(("Enable_Authentication", "true"))),
        ])),
    ])
    assert [c.kind for c in root.children] == ["esmtp_listener", "threadpool", "control_listener"]
    assert root.kind == "global" and root.parent is None
    check_parents(root)
    listen25 = root.children[0].children[1]
    assert listen25.kind == "listen" and listen25.loc == Location("ecelerity.conf", 4, 3)
    assert listen25.settings[0].loc == Location("ecelerity.conf", 5, 5)
    assert listen25.children[0].path_string() == "ESMTP_Listener::Listen:\\:25:::Peer:10.0.0.1:"


def test_binding_group_binding_domain_nesting():
    root = parse_text('''
max_outbound_connections = 30
Binding_Group group1 {
  max_outbound_connections = 5
  binding example { bind_address = 10.10.10.1
    domain example.com { max_outbound_connections = 3 }
  }
  domain "example.net" { }
}
binding "other" { bind_address = "10.10.10.2" }
Domain local.example.com { }
''')
    assert shape(root) == leaf(("max_outbound_connections", "30"), children=[
        ("Binding_Group", "group1", leaf(("max_outbound_connections", "5"), children=[
            ("binding", "example", leaf(("bind_address", "10.10.10.1"), children=[
                ("domain", "example.com", leaf(("max_outbound_connections", "3")))])),
            ("domain", "example.net", leaf()),
        ])),
        ("binding", "other", leaf(("bind_address", "10.10.10.2"))),
        ("Domain", "local.example.com", leaf()),
    ])
    domain = root.children[0].children[0].children[0]
    assert [s.kind for s in domain.path()] == ["binding_group", "binding", "domain"]
    check_parents(root)


def test_regex_and_ip_literal_domain_names():
    root = parse_text('domain "/(?:^|[.])example[.](?:com|co[.]uk)$/" {}\n'
                      'domain "[IPv6:fd82:1234::1]" { }\n'
                      'domain "192.0.43.10" {}\n'
                      "domain '/^mx\\d+\\.example\\.org$/' {}\n")
    assert [c.name for c in root.children] == [
        "/(?:^|[.])example[.](?:com|co[.]uk)$/", "[IPv6:fd82:1234::1]", "192.0.43.10",
        "/^mx\\d+\\.example\\.org$/"]


def test_dictionaries_one_or_many_pairs_per_line():
    root = parse_text('''context = [
  my_key = "my_value"
  my_other_key = "my_other_value"
]
AuthDigestMD5Parameters = [ uri = "digest:///opt/msys/ecelerity/etc/console_passwd" ]
flags [ a 1  b = ( x "y z" ) "quoted key" = v ]
empty = [ ]
''')
    assert shape(root)["settings"] == [
        ("context", [("my_key", "my_value"), ("my_other_key", "my_other_value")]),
        ("AuthDigestMD5Parameters", [("uri", "digest:///opt/msys/ecelerity/etc/console_passwd")]),
        ("flags", [("a", "1"), ("b", ["x", "y z"]), ("quoted key", "v")]),
        ("empty", []),
    ]
    context = root.settings[0].value
    assert context.loc == Location("<string>", 1, 11)
    assert [loc for _, _, loc in context.items] == [Location("<string>", 2, 3), Location("<string>", 3, 3)]
    assert context.as_dict()["my_key"].quoted is True


def test_lists_bare_and_quoted():
    root = parse_text('relay_hosts = ( 127.0.0.0/8 10.10.10.0/24 )\n'
                      'Routes = ( "smtp://my.local.smart.host?pref=1" "__mx__" )\n'
                      'ERROR = (TIME FD SMTP LOG1 DNS)\n'
                      'nothing = ()\n')
    assert shape(root)["settings"] == [
        ("relay_hosts", ["127.0.0.0/8", "10.10.10.0/24"]),
        ("Routes", ["smtp://my.local.smart.host?pref=1", "__mx__"]),
        ("ERROR", ["TIME", "FD", "SMTP", "LOG1", "DNS"]),
        ("nothing", []),
    ]
    relay = root.settings[0].value
    assert [(i.quoted, i.loc.col) for i in relay.items] == [(False, 17), (False, 29)]
    assert [i.quoted for i in root.settings[1].value.items] == [True, True]


def test_scalars_keep_their_text_octal_rates_and_quoting():
    root = parse_text('spool_mode = 0640\noutbound_throttle_messages = "60/3"\nRetry_Interval = "1200"\n'
                      "empty = ''\n")
    values = [(s.name, s.value.text, s.value.quoted) for s in root.settings]
    assert values == [("spool_mode", "0640", False), ("outbound_throttle_messages", "60/3", True),
                      ("Retry_Interval", "1200", True), ("empty", "", True)]


def test_options_without_equals_sign():
    root = parse_text('max_retries 5\nrelay_domains ( example.com *.example.com )\nctx [ k v ]\n'
                      'Gateway "10.0.0.1"')
    assert shape(root)["settings"] == [
        ("max_retries", "5"), ("relay_domains", ["example.com", "*.example.com"]),
        ("ctx", [("k", "v")]), ("Gateway", "10.0.0.1")]


def test_whitespace_and_newlines_are_insignificant():
    one_line = parse_text('a = 1 b 2 Domain x { c = ( 1 2 ) d [ k = v ] } e { }')
    spread = parse_text('a\n=\n1\nb\n2\nDomain\nx\n{\nc\n=\n(\n1\n2\n)\nd\n[\nk\n=\nv\n]\n}\ne\n{\n}\n')
    expected = leaf(("a", "1"), ("b", "2"), children=[
        ("Domain", "x", leaf(("c", ["1", "2"]), ("d", [("k", "v")]))), ("e", None, leaf())])
    assert shape(one_line) == expected
    assert shape(spread) == expected


def test_spelling_kept_and_kind_lowercased():
    root = parse_text("ESMTP_LISTENER { Max_Recipients_Per_Connection = 5 }\nSecurity {}\n")
    listener = root.children[0]
    assert (listener.kind, listener.spelling, listener.name) == ("esmtp_listener", "ESMTP_LISTENER", None)
    assert listener.settings[0].name == "Max_Recipients_Per_Connection"
    assert listener.settings[0].key == "max_recipients_per_connection"
    assert (root.children[1].kind, root.children[1].name) == ("security", None)


def test_comments_anywhere():
    root = parse_text('/* head */ a /* mid */ = /* x */ 1 # tail\nb = ( x # c\n y /* z */ )\n')
    assert shape(root)["settings"] == [("a", "1"), ("b", ["x", "y"])]


# -- includes ---------------------------------------------------------------------------

def write(path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_include_splices_settings_and_stanzas_into_current_stanza(tmp_path):
    inc = write(tmp_path / "inc" / "domains.conf", "retry_interval = 60\ndomain d.example { x = 1 }\n")
    main = write(tmp_path / "ecelerity.conf",
                 'a = 1\nbinding b { include "inc/domains.conf"\n  z = 2 }\ninclude inc/domains.conf\n')
    root = parse_file(main)
    assert shape(root) == leaf(("a", "1"), ("retry_interval", "60"), children=[
        ("binding", "b", leaf(("retry_interval", "60"), ("z", "2"), children=[
            ("domain", "d.example", leaf(("x", "1")))])),
        ("domain", "d.example", leaf(("x", "1"))),
    ])
    binding = root.children[0]
    assert binding.settings[0].loc == Location(inc, 1, 1)
    assert binding.settings[1].loc == Location(main, 3, 3)
    assert binding.children[0].loc == Location(inc, 2, 1)
    check_parents(root)
    # Included twice: both copies are readonly; the including file's own nodes are not.
    assert [s.readonly for s in binding.settings] == [True, False]
    assert binding.children[0].readonly and binding.children[0].settings[0].readonly
    assert not binding.readonly and not root.settings[0].readonly


def test_include_once_is_not_readonly_and_keyword_is_case_insensitive(tmp_path):
    write(tmp_path / "one.conf", "x = 1\nHost mx { y = 2 }\n")
    root = parse_file(write(tmp_path / "main.conf", "Include = one.conf\n"))
    assert not root.settings[0].readonly and not root.children[0].readonly
    assert not root.children[0].settings[0].readonly


def test_readonly_include_marks_everything_it_pulls_in(tmp_path):
    write(tmp_path / "ro.conf", 'x = 1\ndomain d { y = 2 }\ninclude "more.conf"\n')
    write(tmp_path / "more.conf", "z = 3\n")
    root = parse_file(write(tmp_path / "main.conf", "w = 0\nreadonly_include ro.conf\n"))
    assert [(s.name, s.readonly) for s in root.settings] == [
        ("w", False), ("x", True), ("z", True)]
    assert root.children[0].readonly and root.children[0].settings[0].readonly


def test_directory_include_alphabetical_skips_dot_files_and_subdirectories(tmp_path):
    write(tmp_path / "conf.d" / "b.conf", "b = 2\n")
    write(tmp_path / "conf.d" / "a.conf", "a = 1\n")
    write(tmp_path / "conf.d" / "c", "c = 3\n")
    write(tmp_path / "conf.d" / ".hidden.conf", "hidden = 1\n")
    write(tmp_path / "conf.d" / "sub" / "deep.conf", "deep = 1\n")
    root = parse_file(write(tmp_path / "main.conf", 'include "conf.d"\n'))
    assert shape(root)["settings"] == [("a", "1"), ("b", "2"), ("c", "3")]
    assert root.settings[0].loc.file == os.path.join(str(tmp_path), "conf.d", "a.conf")


def test_relative_include_prefers_including_dir_then_search_path(tmp_path):
    write(tmp_path / "etc" / "shared.conf", "where = etc\n")
    write(tmp_path / "global" / "shared.conf", "where = global\n")
    write(tmp_path / "global" / "only_global.conf", 'where = only_global\ninclude "nested.conf"\n')
    write(tmp_path / "global" / "nested.conf", "where = nested_next_to_its_includer\n")
    main = write(tmp_path / "etc" / "main.conf", "include shared.conf\ninclude only_global.conf\n")
    search = [str(tmp_path / "nowhere"), str(tmp_path / "global")]
    root = parse_file(main, search_path=search)
    assert [s.value.text for s in root.settings] == [
        "etc", "only_global", "nested_next_to_its_includer"]


def test_parse_text_relative_include_uses_filename_directory(tmp_path):
    write(tmp_path / "inc.conf", "x = 1\n")
    root = parse_text("include inc.conf\n", str(tmp_path / "virtual.conf"))
    assert shape(root)["settings"] == [("x", "1")]


def test_absolute_include_and_empty_directory(tmp_path):
    inc = write(tmp_path / "abs.conf", "x = 1\n")
    (tmp_path / "empty.d").mkdir()
    root = parse_text(f'include "{inc}"\ninclude "{tmp_path / "empty.d"}"\n')
    assert shape(root)["settings"] == [("x", "1")]


def test_utf8_bom_is_ignored(tmp_path):
    path = tmp_path / "bom.conf"
    path.write_bytes(b"\xef\xbb\xbfa = 1\n")
    root = parse_file(str(path))
    assert root.settings[0].name == "a" and root.settings[0].loc == Location(str(path), 1, 1)


def test_parse_file_missing_and_directory(tmp_path):
    with pytest.raises(ConfigError) as missing:
        parse_file(str(tmp_path / "nope.conf"))
    assert str(missing.value) == f"configuration file '{tmp_path / 'nope.conf'}' not found"
    with pytest.raises(ConfigError) as directory:
        parse_file(str(tmp_path))
    assert str(directory.value) == f"configuration file '{tmp_path}' is not a regular file"


def test_several_errors_are_collected_in_order():
    with pytest.raises(ConfigError) as err:
        parse_text("a = \nb = (1 (2))\n}\nc = [ k ]\nd { e }\n", "f.conf")
    assert [str(p) for p in err.value.problems] == [
        "f.conf:1:3: '=' without a value for option 'a'",
        "f.conf:2:8: a list cannot contain a list or dictionary",
        "f.conf:3:1: unexpected '}' (no stanza is open)",
        "f.conf:4:7: key 'k' in dictionary has no value",
        "f.conf:5:5: option 'e' has no value",
    ]


def test_errors_are_capped():
    with pytest.raises(ConfigError) as err:
        parse_text("}\n" * 500)
    assert len(err.value.problems) == 51
    assert str(err.value.problems[-1]) == "too many errors (50); stopping"


def test_deep_nesting_is_an_error_not_a_crash():
    with pytest.raises(ConfigError) as err:
        parse_text("a {" * 5000 + "}" * 5000, "deep.conf")
    assert [str(p) for p in err.value.problems] == [
        "deep.conf:1:303: stanzas and includes nested too deeply (limit 100)"]


# -- rendering --------------------------------------------------------------------------

def test_render_config_round_trips_and_quotes_when_needed():
    text = ('a = 0640\nb = "x y"\nc = ( 1 "two words" )\nd = [ k = v "s p" = ( q ) ]\n'
            'e = "quote\\" back\\\\ nl\\n tab\\t"\nf = "/*x"\n'
            'Binding_Group g { binding "b 1" { domain "/re[.]gex$/" { } } }\nSecurity { }\n')
    root = parse_text(text)
    rendered = render_config(root)
    assert rendered == (
        'a = 0640\nb = "x y"\nc = ( 1 "two words" )\nd = [ k = v "s p" = ( q ) ]\n'
        'e = "quote\\" back\\\\ nl\\n tab\\t"\nf = "/*x"\n'
        'Binding_Group "g" {\n  binding "b 1" {\n    domain "/re[.]gex$/" {\n    }\n  }\n}\n'
        "Security {\n}\n")
    assert shape(parse_text(rendered)) == shape(root)


def test_render_config_can_leave_out_readonly_nodes(tmp_path):
    write(tmp_path / "ro.conf", "x = 1\ndomain d { }\n")
    root = parse_file(write(tmp_path / "main.conf", "w = 0\nreadonly_include ro.conf\nhost h { }\n"))
    assert render_config(root, include_readonly=False) == "w = 0\nhost \"h\" {\n}\n"
    assert render_config(Stanza("global", "global", None, Location("x", 1, 1))) == ""
