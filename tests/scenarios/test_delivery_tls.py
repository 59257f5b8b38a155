"""STARTTLS on delivery per ``tls``/``tls_verify``/``tls_ca``: the sink records whether
each message came over TLS; a required-but-impossible TLS defers instead of sending
in clear."""
from __future__ import annotations

from tests.helpers.certs import make_pki
from tests.scenarios.delivery_harness import make_body, relay_world, settle, wait_until


def test_tls_per_domain_policy(tmp_path):
    pki = make_pki(tmp_path)
    domains = {"a.test": ["127.0.0.2"], "c.test": ["127.0.0.3"], "e.test": ["127.0.0.4"]}
    with relay_world(tmp_path, domains=domains) as world:
        world.sink("127.0.0.2").tls = (str(pki.server_cert), str(pki.server_key))
        world.sink("127.0.0.4").tls = (str(pki.server_cert), str(pki.server_key))
        daemon = world.start_daemon(
            f'Domain "a.test" {{ tls = required\n tls_verify = ca\n tls_ca = "{pki.ca_cert}" }}\n'
            'Domain "c.test" { tls = ifavailable }\n'
            f'Domain "e.test" {{ tls = required\n tls_verify = ca\n tls_ca = "{pki.other_ca_cert}" }}\n')
        world.send("s@b.test", ["x@a.test"], make_body("tls-a"))
        world.send("s@b.test", ["x@c.test"], make_body("tls-c"))
        world.send("s@b.test", ["x@e.test"], make_body("tls-e"))
        sink_a, sink_c, sink_e = (world.sink(ip) for ip in ("127.0.0.2", "127.0.0.3", "127.0.0.4"))
        wait_until(lambda: sink_a.messages and sink_c.messages, daemon=daemon, what="a and c")
        assert sink_a.messages[0].tls is True           # verified against our CA
        assert sink_c.messages[0].tls is False          # ifavailable, not offered: clear
        assert sink_a.commands.count("STARTTLS") == 1
        # e.test: the certificate does not verify against the configured CA, TLS is
        # required: nothing is sent in clear, the message waits for a retry
        wait_until(lambda: sink_e.commands.count("STARTTLS") >= 1, daemon=daemon, what="e attempt")
        settle(0.5)
        assert sink_e.messages == []
        assert not any(c.startswith("MAIL") for c in sink_e.commands)
