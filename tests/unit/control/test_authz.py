"""ecelerity/control/authz.py: Authorization { Role { allow } } rules read from a parsed config."""
from __future__ import annotations

from ecelerity.config.parser import parse_text
from ecelerity.control import authz

CONFIG = """
Authorization {
  Role "ops" { allow = ( "^summary$" "^mailq" "^domain " ) }
  Role "alice" { allow = ( "^shutdown" ) }
  Role "broken" { allow = ( "(" ) }
}
"""


def rules():
    return authz.roles_from_tree(parse_text(CONFIG, "ec.conf"))


def test_roles_are_read_in_file_order_with_locations():
    found = rules()
    assert [(r.name, r.allow) for r in found] == [
        ("ops", ("^summary$", "^mailq", "^domain ")), ("alice", ("^shutdown",)), ("broken", ("(",))]
    assert found[0].loc == "ec.conf:3:3"


def test_user_roles_allow_and_deny():
    found = rules()
    assert authz.check(found, "bob", ("ops",), "mailq --limit 5") == authz.Decision(True, "ops", "^mailq")
    assert authz.check(found, "bob", ("ops",), "summary").allowed
    assert not authz.check(found, "bob", ("ops",), "summary reset").allowed
    assert not authz.check(found, "bob", ("ops",), "shutdown").allowed
    assert authz.check(found, "alice", ("ops",), "shutdown").role == "alice"  # the user's own name
    assert not authz.check(found, "bob", ("broken",), "anything").allowed  # a bad pattern allows nothing
    assert not authz.check(found, "", (), "pid").allowed


def test_authz_id_is_always_allowed_and_no_rules_deny_everything_else():
    assert authz.check([], "nobody", (), "authz  id").allowed
    assert not authz.check([], "nobody", (), "authz roles list").allowed
    assert authz.roles_from_tree(parse_text("Max_Outbound_Connections = 3\n")) == []
