"""ecelerity/http/inject.py: API keys in the Authorization header, transmission ids."""
from __future__ import annotations

import base64

from ecelerity.http.inject import api_key_of, authorized, transmission_id


def test_bare_and_basic_keys():
    basic = "Basic " + base64.b64encode(b"k1:").decode()
    assert api_key_of("k1") == "k1" and api_key_of(basic) == "k1"
    assert api_key_of("Basic !!!") is None and api_key_of(None) is None
    assert authorized(("k0", "k1"), basic) and authorized(("k1",), " k1 ")
    assert not authorized(("k1",), "k2") and not authorized((), "k1")
    assert not authorized(("k1",), None)


def test_transmission_ids_are_numeric_and_distinct():
    ids = {transmission_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.isdigit() for i in ids)
