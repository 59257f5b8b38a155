"""json.encode / decode."""
import json

from .conftest import values


def test_encode_decode_round_trip(run):
    got = values(run("return json.encode({1, 2, {a = 'b', n = 1.5}})"))
    assert json.loads(got[0]) == [1, 2, {"a": "b", "n": 1.5}]
    got = values(run("local v = json.decode('{\"list\": [1, \"x\"], \"k\": {\"z\": null}}') "
                     "return v.list[1], v.list[2], type(v.k)"))
    assert got == (1, b"x", b"table")


def test_errors(run):
    got = values(run("return json.decode('{bad')"))
    assert got[0] is None and b"json.decode" in got[1]
    got = values(run("return json.encode({f = print})"))
    assert got[0] is None and b"cannot encode" in got[1]
    assert values(run("return type(json.new()), require('json') == json")) == (b"table", True)
