"""msys.core.dns_get_domain (offline, against a real DNS server), mail_queue_delay_domain's
argument checks, msys.getClassMetaTable. The daemon side (queues, delaying) is in
tests/scenarios/test_lua_delay_domain.py."""
import pytest

from ecelerity.delivery.dns import DnsResolver
from tests.helpers.dns_server import start_dns

from .conftest import values


@pytest.fixture(scope="module")
def dns():
    with start_dns(mx=[("m.test", "mx2.m.test", 20), ("m.test", "mx1.m.test", 10)],
                   hosts={"mx1.m.test": ["127.0.0.11"], "mx2.m.test": ["127.0.0.12"]}) as server:
        yield server


def test_domain_record_from_dns(rt, run, dns):
    rt.dns_resolver = DnsResolver(nameserver=("127.0.0.1", dns.port), timeout=2.0)
    got = values(run("""
        local dr = msys.core.dns_get_domain('M.test.')
        local hosts = {}
        for i, t in ipairs(dr.mx) do hosts[i] = t.preference .. ' ' .. t.host .. ' ' .. t.ip end
        return msys.type(dr), dr.name, table.concat(hosts, ','), dr.dns_error, dr.active,
               dr.delayed, #dr.queues
    """))
    assert got == (b"ec_domain_record", b"m.test", b"10 mx1.m.test 127.0.0.11,20 mx2.m.test 127.0.0.12",
                   None, 0, 0, 0)


def test_unknown_domain_has_an_error_and_no_targets(rt, run, dns):
    rt.dns_resolver = DnsResolver(nameserver=("127.0.0.1", dns.port), timeout=2.0)
    got = values(run("local dr = msys.core.dns_get_domain('nothere.test') "
                     "return #dr.mx, dr.dns_error"))
    assert got == (0, b"554 5.4.4 [internal] Domain Lookup Failed")


def test_not_a_domain_gives_nil(run):
    assert values(run("return msys.core.dns_get_domain(''), msys.core.dns_get_domain('a b'), "
                      "msys.core.dns_get_domain('user@x.test'), msys.core.dns_get_domain('a..b')")) \
        == (None, None, None, None)


def test_delay_domain_checks_arguments_and_needs_the_daemon(run):
    assert "domain record" in run("msys.core.mail_queue_delay_domain({}, '451 4.4.1 x')").error
    assert "4xx code" in run("msys.core.mail_queue_delay_domain('x.test', '250 ok')").error
    assert "no queue manager" in run(
        "msys.core.mail_queue_delay_domain('x.test', '451 4.4.1 [internal] manually delayed')").error


def test_class_metatable(rt, run):
    assert values(run("return msys.getClassMetaTable('msg')")) in ((None,), ())  # no class yet
    from ecelerity.policy.lua.lib_inject import bindings_of
    bindings_of(rt)  # makes the message, vctx and accept classes
    got = values(run("""
        local mt = msys.getClassMetaTable('msg')
        return mt == msys.getClassMetaTable('ec_message'), type(mt), mt.__metatable,
               msys.getClassMetaTable('no_such_class')
    """))
    assert got == (True, b"table", b"ec_message", None)
