"""Malformed configurations of the semantic kind, each with its exact error line.

Tests ecelerity/config/validate.py (through the real parser and registry): every
row is a small ecelerity.conf that parses but must be refused, and the exact
``file:line:col: message`` the operator sees. The parser's own table holds the
syntax errors.
"""
import pytest

from ecelerity.config.errors import ConfigError
from ecelerity.config.loader import load_config_text
from ecelerity.config.parser import parse_text
from ecelerity.config.validate import validate

BOOL = "expected a boolean (on/off, true/false, yes/no, enabled/disabled, 1/0)"
LISTEN_FORMS = "expected ip:port, [ipv6]:port, :port, *:port, [*]:port or a unix socket path"

CASES = [
    # --- unknown stanzas -------------------------------------------------------------
    ("unknown_stanza_suggest", 'Domian "example.com" {\n}\n',
     "t.conf:1:1: unknown stanza 'Domian' (did you mean 'domain'?)"),
    ("unknown_stanza_nested", 'Binding "b" {\n  Hots "mx.example.com" {\n  }\n}\n',
     "t.conf:2:3: unknown stanza 'Hots' (did you mean 'host'?)"),
    ("unknown_stanza_no_suggestion", "Frobnicator {\n}\n",
     "t.conf:1:1: unknown stanza 'Frobnicator'"),
    ("unknown_module_suggest", 'ec_loger "main" {\n}\n',
     "t.conf:1:1: unknown stanza 'ec_loger' (did you mean 'ec_logger'?)"),
    # --- unknown options -------------------------------------------------------------
    ("unknown_option_title_case", "Max_Outbund_Connections = 5\n",
     "t.conf:1:1: unknown option 'Max_Outbund_Connections' (did you mean 'Max_Outbound_Connections'?)"),
    ("unknown_option_lower_case", "force_fsnyc = true\n",
     "t.conf:1:1: unknown option 'force_fsnyc' (did you mean 'force_fsync'?)"),
    ("unknown_option_in_binding", 'Binding "b" {\n  bind_adress = "127.0.0.2"\n}\n',
     "t.conf:2:3: unknown option 'bind_adress' (did you mean 'bind_address'?)"),
    ("unknown_option_no_suggestion", "frobnication_level = 3\n",
     "t.conf:1:1: unknown option 'frobnication_level'"),
    # --- options outside their scope -------------------------------------------------
    ("bind_address_in_domain", 'Domain "example.com" {\n  bind_address = "127.0.0.2"\n}\n',
     "t.conf:2:3: option 'bind_address' is not valid in scope 'domain' "
     "(valid in: binding, binding_group, global)"),
    ("spoolbase_in_binding", 'Binding "b" {\n  spoolbase = "/tmp/x"\n}\n',
     "t.conf:2:3: option 'spoolbase' is not valid in scope 'binding' (valid in: global)"),
    ("pidfile_in_listener", 'ESMTP_Listener {\n  pidfile = "x.pid"\n}\n',
     "t.conf:2:3: option 'pidfile' is not valid in scope 'esmtp_listener' (valid in: global)"),
    ("retry_interval_in_host", 'Host "mx.example.com" {\n  retry_interval = 60\n}\n',
     "t.conf:2:3: option 'retry_interval' is not valid in scope 'host' "
     "(valid in: binding, binding_group, domain, global)"),
    # --- value types (the location is the value's) -----------------------------------
    ("bool_maybe", "force_fsync = maybe\n",
     f"t.conf:1:15: option 'force_fsync': {BOOL}, got 'maybe'"),
    ("bool_in_peer", 'ESMTP_Listener {\n  Peer "10.0.0.0/8" {\n    open_relay = "sure"\n  }\n}\n',
     f"t.conf:3:18: option 'open_relay': {BOOL}, got 'sure'"),
    ("integer_word", "max_outbound_connections = lots\n",
     "t.conf:1:28: option 'max_outbound_connections': expected an integer >= 0, got 'lots'"),
    ("integer_negative", "max_recipients_per_batch = -5\n",
     "t.conf:1:28: option 'max_recipients_per_batch': expected an integer >= 1, got '-5'"),
    ("seconds_word", 'retry_interval = "soon"\n',
     "t.conf:1:18: option 'retry_interval': expected a number of seconds >= 0, got 'soon'"),
    ("size_bad_suffix", "ESMTP_Listener {\n  max_message_size = 10q\n}\n",
     "t.conf:2:22: option 'max_message_size': expected a size in bytes >= 0, got '10q'"),
    ("octal_bad_digit", "spool_mode = 0648\n",
     "t.conf:1:14: option 'spool_mode': expected an octal file mode like 0640, got '0648'"),
    ("octal_no_leading_zero", "spool_mode = 640\n",
     "t.conf:1:14: option 'spool_mode': expected an octal file mode like 0640, got '640'"),
    ("rate_zero_seconds", 'outbound_throttle_messages = "60/0"\n',
     "t.conf:1:30: option 'outbound_throttle_messages': "
     "expected a rate \"N\" or \"N/S\" (N messages per S seconds), got '60/0'"),
    ("rate_word", "Binding \"b\" {\n  outbound_throttle_messages = fast\n}\n",
     "t.conf:2:32: option 'outbound_throttle_messages': "
     "expected a rate \"N\" or \"N/S\" (N messages per S seconds), got 'fast'"),
    ("enum_tls", "tls = sometimes\n",
     "t.conf:1:7: option 'tls': expected one of: no, ifavailable, required; got 'sometimes'"),
    ("list_for_path", "pidfile = ( a b )\n",
     "t.conf:1:11: option 'pidfile': expected a file path, got a list"),
    ("dict_for_list", "relay_hosts = [ a = b ]\n",
     "t.conf:1:15: option 'relay_hosts': expected a list ( ... ) of an IP address or CIDR, "
     "got a dictionary"),
    ("bad_cidr_list_item", 'relay_hosts = ( "127.0.0.0/8" "10.0.0.300/8" )\n',
     "t.conf:1:15: option 'relay_hosts': item 2: expected an IP address or CIDR like "
     "10.0.0.0/8 or 2001:db8::/32, got '10.0.0.300/8'"),
    # --- Listen / Peer names -----------------------------------------------------------
    ("peer_bad_prefix", 'ESMTP_Listener {\n  Peer "10.0.0.0/33" {\n  }\n}\n',
     "t.conf:2:3: invalid Peer address '10.0.0.0/33': expected an IP address or CIDR "
     "such as '10.0.0.0/8'"),
    ("peer_hostname", 'ESMTP_Listener {\n  Listen ":25" {\n    Peer "mail.example.com" {\n    }\n  }\n}\n',
     "t.conf:3:5: invalid Peer address 'mail.example.com': expected an IP address or CIDR "
     "such as '10.0.0.0/8'"),
    ("listen_hostname", 'ESMTP_Listener {\n  Listen "localhost:25" {\n  }\n}\n',
     "t.conf:2:3: invalid Listen address 'localhost:25': 'localhost' is not an IP address"),
    ("listen_port_range", 'ESMTP_Listener {\n  Listen "127.0.0.1:70000" {\n  }\n}\n',
     "t.conf:2:3: invalid Listen address '127.0.0.1:70000': port 70000 is out of range (0-65535)"),
    ("listen_v6_unbracketed", 'ESMTP_Listener {\n  Listen "::1:25" {\n  }\n}\n',
     "t.conf:2:3: invalid Listen address '::1:25': IPv6 addresses must be bracketed, e.g. '[::1]:25'"),
    ("listen_no_port", 'Control_Listener {\n  Listen "127.0.0.1" {\n  }\n}\n',
     f"t.conf:2:3: invalid Listen address '127.0.0.1': {LISTEN_FORMS}"),
    # --- other names -------------------------------------------------------------------
    ("regex_domain_unbalanced", 'Domain "/(foo/" {\n}\n',
     "t.conf:1:1: invalid regex domain '/(foo/': missing ), unterminated subpattern at position 0"),
    ("regex_host_bad_repeat", 'Host "/*mx/" {\n}\n',
     "t.conf:1:1: invalid regex host '/*mx/': nothing to repeat at position 0"),
    ("binding_name_space", 'Binding "my binding" {\n}\n',
     "t.conf:1:1: binding name 'my binding' must not contain spaces"),
    ("binding_name_colon", 'Binding "a:b" {\n}\n',
     "t.conf:1:1: binding name 'a:b' must not contain colons"),
    ("binding_group_name_space", 'Binding_Group "two words" {\n}\n',
     "t.conf:1:1: binding_group name 'two words' must not contain spaces"),
    # --- names required / forbidden ------------------------------------------------------
    ("binding_needs_name", "Binding {\n}\n", "t.conf:1:1: 'Binding' needs a name"),
    ("listen_needs_name", "ESMTP_Listener {\n  Listen {\n  }\n}\n", "t.conf:2:3: 'Listen' needs a name"),
    ("listener_takes_no_name", 'ESMTP_Listener "smtp" {\n}\n',
     "t.conf:1:1: 'ESMTP_Listener' takes no name"),
    ("security_takes_no_name", 'Security "s" {\n}\n', "t.conf:1:1: 'Security' takes no name"),
    # --- parents -----------------------------------------------------------------------
    ("group_inside_binding", 'binding "b" {\n  binding_group "g" {\n  }\n}\n',
     "t.conf:2:3: 'binding_group' is not valid inside 'binding' (valid in: global)"),
    ("host_inside_domain", 'Domain "example.com" {\n  Host "mx.example.com" {\n  }\n}\n',
     "t.conf:2:3: 'Host' is not valid inside 'Domain' (valid in: binding, binding_group, global)"),
    ("peer_at_global", 'Peer "10.0.0.0/8" {\n}\n',
     "t.conf:1:1: 'Peer' is not valid inside 'global' (valid in: control_listener, "
     "eccluster_listener, ecstream_listener, esmtp_listener, http_listener, listen, "
     "msgcserver_listener, xmpp_listener)"),
    ("listener_inside_binding", 'Binding "b" {\n  ESMTP_Listener {\n  }\n}\n',
     "t.conf:2:3: 'ESMTP_Listener' is not valid inside 'Binding' (valid in: global)"),
    ("module_inside_domain", 'Domain "example.com" {\n  ec_logger "x" {\n  }\n}\n',
     "t.conf:2:3: 'ec_logger' is not valid inside 'Domain' (valid in: global)"),
    ("module_declared_option_type", 'ec_logger "x" {\n  heartbeat = often\n}\n',
     "t.conf:2:15: option 'heartbeat': expected a number of seconds >= 0, got 'often'"),
    ("singleton_module_twice", "httpsrv {\n}\nhttpsrv {\n}\n",
     "t.conf:3:1: module 'httpsrv' is a singleton: one stanza only (first at t.conf:1:1)"),
    ("unknown_pathway", 'Pathway "inbound" {\n}\nESMTP_Listener {\n  Pathway = "inbund"\n}\n',
     "t.conf:4:3: unknown pathway 'inbund' (did you mean 'inbound'?)"),
    # --- special scopes ------------------------------------------------------------------
    ("debug_flags_dict", "Debug_Flags {\n  ERROR = [ a = b ]\n}\n",
     "t.conf:2:11: option 'ERROR': expected a list ( ... ) of a string, got a dictionary"),
    ("max_message_size_at_global", "max_message_size = 10\n",
     "t.conf:1:1: option 'max_message_size' is not valid in scope 'global' "
     "(valid in: esmtp_listener, listen, pathway, pathway_group, peer)"),
    ("scope_name_as_option", 'binding = "b1"\n',
     "t.conf:1:11: option 'binding': this is a scope, not an option: "
     "write it as a stanza: Name [\"instance\"] { ... }"),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_semantic_error_is_reported_exactly(text: str, expected: str) -> None:
    problems = validate(parse_text(text, "t.conf"))
    assert [str(p) for p in problems.errors] == [expected]


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES[:6]], ids=[c[0] for c in CASES[:6]])
def test_loader_refuses_with_the_same_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "t.conf")
    assert [str(p) for p in caught.value.problems] == [expected]


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)
