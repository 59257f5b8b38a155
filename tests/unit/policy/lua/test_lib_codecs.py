"""msys.base64.*, msys.qp.*, msys.idn.* round trips and errors."""
import base64

from hypothesis import HealthCheck, given, settings, strategies as st

from .conftest import values


def test_base64(run):
    assert values(run("return msys.base64.encode('hello\\0world')")) == (
        base64.b64encode(b"hello\0world"),)
    assert values(run("return msys.base64.decode('aGVs\\r\\nbG8=')")) == (b"hello",)
    got = values(run("return msys.base64.decode('@@@')"))
    assert got[0] is None and b"invalid base64" in got[1]


def test_qp(run):
    assert values(run("return msys.qp.encode('caf\\195\\169 = ok')")) == (b"caf=C3=A9 =3D ok",)
    assert values(run("return msys.qp.decode('caf=C3=A9=\\r\\n!')")) == ("café!".encode(),)


def test_idn(run):
    assert values(run("return msys.idn.to_idn('bücher.example')")) == (b"xn--bcher-kva.example",)
    assert values(run("return msys.idn.to_utf8('xn--bcher-kva.example')")) == (
        "bücher.example".encode(),)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_base64_and_qp_round_trip(rt, data):
    env = rt.load_source("function rt(s) return msys.base64.decode(msys.base64.encode(s)), "
                         "msys.qp.decode(msys.qp.encode(s)) end", "roundtrip")
    assert rt.call(env[b"rt"], data).values == (data, data)
