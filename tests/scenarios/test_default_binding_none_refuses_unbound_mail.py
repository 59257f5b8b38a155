"""default_binding = none: mail no policy bound to a real binding gets 451 at DATA;
mail a policy bound to a configured binding is accepted (Momentum's default_binding)."""
from __future__ import annotations

import smtplib

import pytest

from tests.helpers.daemon import free_port, start_daemon

SIEVE = 'if header :contains "Subject" "bound" { ec_set_binding "b1"; }\n'
CONF = """
relay_domains = ( "example.com" )
suspend_delivery = true
default_binding = none
binding "b1" {{ }}
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
sieve "s" {{ script set_binding_phase1 {{ source = "bind.siv" }} }}
"""


def test_unbound_mail_is_refused_and_bound_mail_accepted(tmp_path):
    (tmp_path / "bind.siv").write_text(SIEVE)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("a@sender.test", ["x@example.com"],
                                "From: a@sender.test\r\nSubject: loose\r\n\r\nhi\r\n")
            assert refused.value.smtp_code == 451
            assert b"default_binding is none" in refused.value.smtp_error
            assert client.sendmail("a@sender.test", ["y@example.com"],
                                   "From: a@sender.test\r\nSubject: bound\r\n\r\nhi\r\n") == {}
