"""ecelerity/http/https.py: startup_check refuses use_ssl without a usable certificate."""
from __future__ import annotations

import pytest

from ecelerity.http.https import HttpsConfigError, startup_check
from ecelerity.http.settings import ListenSettings
from tests.helpers.certs import make_pki


def _settings(**tls):
    return ListenSettings(listen="127.0.0.1:1", idle_time=5.0, max_request_size=1000,
                          log_requests_to_paniclog=False, rest_api_keys=(), **tls)


def test_startup_check(tmp_path):
    startup_check(_settings(), "f.conf:1:1")  # no use_ssl: nothing to check
    with pytest.raises(HttpsConfigError, match=r"^f\.conf:3:5: use_ssl on HTTP_Listener needs"):
        startup_check(_settings(use_ssl=True), "f.conf:3:5")
    pki = make_pki(tmp_path)
    startup_check(_settings(use_ssl=True, tls_certificate=str(pki.server_cert),
                            tls_key=str(pki.server_key)), "f.conf:1:1")
    with pytest.raises(HttpsConfigError, match="tls_protocols"):
        startup_check(_settings(use_ssl=True, tls_certificate=str(pki.server_cert),
                                tls_key=str(pki.server_key), tls_protocols="TLSv9"), "f.conf:1:1")
    with pytest.raises(HttpsConfigError, match="cannot read"):
        startup_check(_settings(use_ssl=True, tls_certificate=str(tmp_path / "missing.pem"),
                                tls_key=str(pki.server_key)), "f.conf:1:1")
