"""Mail injected over SMTP is delivered through a real DNS server to the right MX sink,
envelope and body intact (the one Received: header we add is the only change)."""
from __future__ import annotations

from tests.scenarios.delivery_harness import make_body, relay_world, sha256, strip_received, wait_until


def test_each_domain_reaches_its_mx_with_envelope_and_body_intact(tmp_path):
    with relay_world(tmp_path, domains={"a.test": ["127.0.0.2"], "c.test": ["127.0.0.3"]}) as world:
        daemon = world.start_daemon()
        body_a, body_c = make_body("to-a"), make_body("to-c", lines=400)
        world.send("alice@b.test", ["x@a.test", "y@a.test"], body_a)
        world.send("bob@b.test", ["z@c.test"], body_c, mail_options=("BODY=8BITMIME",))
        sink_a, sink_c = world.sink("127.0.0.2"), world.sink("127.0.0.3")
        wait_until(lambda: sum(len(m.rcpts) for m in world.all_messages()) == 3,
                   what="3 recipients delivered", daemon=daemon)
        [got_a], [got_c] = sink_a.messages, sink_c.messages
        assert (got_a.mail_from, sorted(got_a.rcpts)) == ("alice@b.test", ["x@a.test", "y@a.test"])
        assert (got_c.mail_from, got_c.rcpts) == ("bob@b.test", ["z@c.test"])
        # the bodies end in CRLF (smtplib adds none); the sink unstuffs the leading dot
        assert sha256(strip_received(got_a.body)) == sha256(body_a)
        assert sha256(strip_received(got_c.body)) == sha256(body_c)
        assert got_a.body.startswith(b"Received: from client.test (127.0.0.1 [127.0.0.1])")
        assert got_a.helo == "mta.test" and not got_a.tls
        assert "BODY=8BITMIME" in got_c.mail_params
        # delivered messages leave the spool: nothing is redelivered later
        wait_until(lambda: daemon.command("pid").ok, what="control answers")
        assert len(sink_a.messages) == 1 and len(sink_c.messages) == 1
