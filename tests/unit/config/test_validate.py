"""validate(): what a valid configuration looks like, warnings, and properties.

Tests ecelerity/config/validate.py through the real parser, option registry and
module registry. The exact error lines of malformed files are in
test_validate_errors.py.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity import modules
from ecelerity.config import registry
from ecelerity.config.parser import parse_text
from ecelerity.config.tree import Scalar
from ecelerity.config.types import ConfigValueError
from ecelerity.config.validate import match_case, validate

VALID = """
spoolbase = "/var/spool/ecelerity"
force_fsync = on
max_outbound_connections = 32
outbound_throttle_messages = "60/3"
relay_hosts = ( "127.0.0.0/8" "::1" )
Domain "example.com" { max_outbound_connections = 5 }
Domain "192.0.43.10" { }
Domain "/(?:^|[.])example[.](?:com|co[.]uk)$/" { retry_interval = 600 }
Host "mx.example.com" { max_outbound_connections = 2 }
Binding_Group "group1" {
  max_outbound_connections = 5
  Binding "example" {
    bind_address = "127.0.0.2"
    Domain "example.com" { max_outbound_connections = 3 }
  }
  Domain "example.org" { }
}
Binding "Example2" { bind_address = "127.0.0.3" Host "mx.example.net" { } }
ESMTP_Listener {
  Listen ":25" {
    Peer "10.0.0.1" { open_relay = true }
  }
  Listen "127.0.0.1:2525" { }
  Listen "[*]:25" { }
  Listen "[::1]:2525" { }
  Listen "*:587" { }
  Peer "10.0.0.0/16" { open_relay = yes }
  Peer "2001:db8::/32" { }
}
Control_Listener { Listen "/tmp/2025" { File_Mode = 0666 } Listen "var/run/control.sock" { } }
Pathway_Group "pg" { Pathway "p1" { } }
ThreadPool "accept-pool" { }
Debug_Flags { DEBUG = () ERROR = ( TIME SMTP DNS ) }
"""


def problems_of(text: str, **kwargs):
    return validate(parse_text(text, "v.conf"), **kwargs)


def test_a_valid_configuration_has_no_errors() -> None:
    problems = problems_of(VALID)
    assert [str(p) for p in problems.errors] == []


def test_every_error_is_reported_in_one_pass() -> None:
    text = 'force_fsync = maybe\nBinding {\n}\nDomian "x" {\n}\nspool_mode = 999\n'
    lines = [str(p) for p in problems_of(text).errors]
    assert len(lines) == 4
    assert [line.split(":")[1] for line in lines] == ["1", "2", "4", "6"]


def test_names_are_case_insensitive_for_options_and_scopes() -> None:
    text = 'FORCE_FSYNC = TRUE\nbInDiNg "b" { BIND_ADDRESS = "127.0.0.2" }\nesmtp_LISTENER { }\n'
    assert problems_of(text).errors == []


def _unimplemented_boolean_global_option():
    for spec in registry.all_options():
        if not spec.implemented and "global" in spec.scopes and spec.type.name == "boolean":
            return spec
    pytest.skip("every global boolean option is implemented")


def test_unimplemented_option_warns_once_at_first_use() -> None:
    spec = _unimplemented_boolean_global_option()
    text = f"{spec.name} = true\n\n{spec.name.upper()} = false\n"
    warnings = [str(p) for p in problems_of(text).warnings if "not implemented" in p.message]
    assert warnings == [f"v.conf:1:1: warning: option '{spec.name}' accepted but not implemented yet"]


def test_unimplemented_warning_points_at_the_first_use_in_file_order() -> None:
    candidates = [s for s in registry.all_options() if not s.implemented and s.type.name == "integer"
                  and {"global", "binding"} <= s.scopes]
    if not candidates:
        pytest.skip("no unimplemented integer option valid in global and binding")
    name = candidates[0].name
    text = f'Binding "b" {{\n  {name} = 1\n}}\n{name} = 2\n'
    warnings = [str(p) for p in problems_of(text).warnings if "not implemented" in p.message]
    assert warnings == [f"v.conf:2:3: warning: option '{name}' accepted but not implemented yet"]


def test_implemented_option_gives_no_warning() -> None:
    implemented = [s for s in registry.all_options() if s.implemented and "global" in s.scopes
                   and s.type.name == "boolean"]
    if not implemented:
        pytest.skip("no implemented global boolean option yet")
    problems = problems_of(f"{implemented[0].name} = true\n")
    assert problems.items == []


def test_setting_twice_warns_that_the_later_wins() -> None:
    problems = problems_of("max_outbound_connections = 1\nMax_Outbound_Connections = 2\n")
    assert [str(p) for p in problems.warnings if "twice" in p.message] == [
        "v.conf:2:1: warning: option 'Max_Outbound_Connections' is set twice in this scope "
        "(first at v.conf:1:1); the later value wins"
    ]
    assert problems.errors == []


def test_merged_stanzas_share_one_scope_for_duplicates() -> None:
    text = 'Domain "a.example" {\n  retry_interval = 10\n}\nDomain "a.example" {\n  retry_interval = 20\n}\n'
    warnings = [str(p) for p in problems_of(text).warnings if "twice" in p.message]
    assert warnings == ["v.conf:5:3: warning: option 'retry_interval' is set twice in this scope "
                        "(first at v.conf:2:3); the later value wins"]


def test_same_option_in_different_scopes_is_not_a_duplicate() -> None:
    text = 'retry_interval = 1\nDomain "a.example" { retry_interval = 2 }\nDomain "b.example" { retry_interval = 3 }\n'
    assert problems_of(text).errors == []
    assert not [p for p in problems_of(text).warnings if "twice" in p.message]


def test_overrides_from_a_local_changes_file_do_not_warn() -> None:
    root = parse_text("retry_interval = 1\n", "main.conf")
    extra = parse_text("retry_interval = 2\n", "local.conf")
    root.settings.extend(extra.settings)
    def twice(problems):
        return [p for p in problems.items if "twice" in p.message]

    assert twice(validate(root, overrides_from=["local.conf"])) == []
    assert len(twice(validate(root))) == 1


def test_listen_declared_twice_is_an_error() -> None:
    text = 'ESMTP_Listener {\n  Listen ":25" { }\n  Listen ":25" { }\n}\n'
    assert [str(p) for p in problems_of(text).errors] == [
        "v.conf:3:3: Listen ':25' is declared twice in 'ESMTP_Listener' (first at v.conf:2:3)"
    ]


def test_same_listen_in_two_listeners_is_fine() -> None:
    text = 'ESMTP_Listener {\n  Listen "/tmp/x" { }\n}\nControl_Listener {\n  Listen "/tmp/y" { }\n}\n'
    assert problems_of(text).errors == []


def _module_names(implemented: bool) -> list[str]:
    return [n for n in modules.known_module_names()
            if modules.module_spec(n).implemented == implemented]


def test_unimplemented_module_warns_once_per_stanza_and_accepts_anything() -> None:
    names = [n for n in _module_names(implemented=False) if modules.module_spec(n).any_option
             and not modules.module_spec(n).singleton]
    if not names:
        pytest.skip("the module registry lists no unimplemented module")
    name = names[0]
    text = f'{name} "one" {{\n  no_such_option = 1\n  Anything "x" {{ y = z }}\n}}\n{name} "two" {{\n}}\n'
    problems = problems_of(text)
    assert problems.errors == []
    assert [str(p) for p in problems.warnings] == [
        f"v.conf:1:1: warning: module '{name}' accepted but not implemented yet",
        f"v.conf:5:1: warning: module '{name}' accepted but not implemented yet",
    ]


def test_declared_options_of_an_unimplemented_module_are_still_type_checked() -> None:
    spec = modules.module_spec("ec_logger")
    if "mainlog_mode" not in spec.options:
        pytest.skip("ec_logger declares no mainlog_mode")
    problems = problems_of('ec_logger "main" {\n  mainlog_mode = 0999\n  mainlog = "/tmp/m.ec"\n}\n')
    assert [str(p) for p in problems.errors] == [
        "v.conf:2:18: option 'mainlog_mode': expected an octal file mode like 0640, got '0999'"
    ]


def test_implemented_module_option_typo_is_an_error() -> None:
    for name in _module_names(implemented=True):
        spec = modules.module_spec(name)
        own = sorted(k for k in spec.options if k not in ("enabled", "debug_level"))
        if own and not spec.any_option:
            break
    else:
        pytest.skip("no implemented module with its own options yet")
    option = own[0]
    typo = option[:-1] + ("x" if option[-1] != "x" else "y")
    text = f'{name} "i" {{\n  {typo} = 1\n}}\n'
    errors = [str(p) for p in problems_of(text).errors]
    assert len(errors) == 1
    assert errors[0].startswith(f"v.conf:2:3: unknown option '{typo}' for module '{spec.name}'")


def test_singleton_module_takes_one_stanza() -> None:
    singletons = [n for n in modules.known_module_names() if modules.module_spec(n).singleton]
    if not singletons:
        pytest.skip("no singleton module known")
    name = singletons[0]
    errors = [str(p) for p in problems_of(f"{name} {{\n}}\n{name} {{\n}}\n").errors]
    assert errors == [f"v.conf:3:1: module '{name}' is a singleton: one stanza only (first at v.conf:1:1)"]


def test_every_module_takes_enabled_and_debug_level() -> None:
    text = 'ec_logger "x" {\n  Enabled = false\n  Debug_Level = DEBUG\n}\n'
    assert problems_of(text).errors == []
    bad = problems_of('ec_logger "x" {\n  Enabled = sometimes\n}\n').errors
    assert [p.loc.line for p in bad] == [2]


def test_unimplemented_scope_kind_warns_once() -> None:
    text = "Cluster {\n}\nCluster {\n}\n"
    assert [str(p) for p in problems_of(text).warnings if "Cluster" in p.message] == [
        "v.conf:1:1: warning: stanza 'Cluster' accepted but not implemented yet"
    ]


@pytest.mark.parametrize("typed, suggestion, expected", [
    ("Max_Outbund_Connections", "max_outbound_connections", "Max_Outbound_Connections"),
    ("max_outbund_connections", "Max_Outbound_Connections", "max_outbound_connections"),
    ("FORCE_FSNYC", "force_fsync", "FORCE_FSYNC"),
    ("mAx_Outbund", "max_outbound", "max_outbound"),
])
def test_match_case_follows_the_operator_spelling(typed: str, suggestion: str, expected: str) -> None:
    assert match_case(typed, suggestion) == expected


# Scopes where a setting may sit, with the text that opens/closes them.
SCOPE_WRAPPERS = {
    "global": ("", ""),
    "binding": ('Binding "b" {\n', "}\n"),
    "domain": ('Domain "example.com" {\n', "}\n"),
    "esmtp_listener": ("ESMTP_Listener {\n", "}\n"),
    "peer": ('ESMTP_Listener {\nPeer "10.0.0.0/8" {\n', "}\n}\n"),
}
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_./:-", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
# pathway = "x" must also name a declared Pathway: covered by the error table instead.
@given(spec=st.sampled_from([s for s in registry.all_options() if not s.is_scope and s.name != "pathway"]),
       scope=st.sampled_from(sorted(SCOPE_WRAPPERS)), word=WORD)
def test_a_setting_is_an_error_exactly_when_its_scope_or_value_is_wrong(spec, scope, word) -> None:
    opening, closing = SCOPE_WRAPPERS[scope]
    problems = problems_of(f'{opening}{spec.name} = "{word}"\n{closing}')
    try:
        spec.type.parse(Scalar(word, True, None))
        value_ok = True
    except ConfigValueError:
        value_ok = False
    expected_errors = 0 if scope in spec.scopes and value_ok else 1
    assert len(problems.errors) == expected_errors, [str(p) for p in problems.items]
