"""msys.registerAuth: the Lua table becomes an auth_backends scheme, callable from the
threadpool (where smtp/auth.py checks passwords) and answering on the hub."""
import gevent
import pytest

from ecelerity.policy.lua import lib_auth
from ecelerity.smtp import auth_backends
from ecelerity.smtp.settings import SessionSettings

from .conftest import values

SCHEME = r'''
local auth = {}
function auth:authenticate(filename, params, user, password)
  seen = filename .. "|" .. (params.realm or "-") .. "|" .. user
  if user == "err" then return msys.core.EC_AUTH_ERROR end
  if user == "boom" then error("script bug") end
  if user == "bool" then return password == "yes" end
  return (user == "alice" and password == "pw") and msys.core.EC_AUTH_OK or msys.core.EC_AUTH_FAIL
end
function auth:enumGroups(user)
  if user == "root" then return { "admin", "ops" } end
  return msys.core.EC_AUTH_FAIL
end
function auth:queryGroups() return { "admin", "ops", "users" } end
return msys.registerAuth(..., auth)
'''


@pytest.fixture
def scheme(rt, run):
    name = f"t{id(rt)}"
    assert values(run(SCHEME, name.encode())) == (True,)
    yield auth_backends.find_scheme(name), name
    lib_auth.retire(rt)
    assert auth_backends.find_scheme(name) is None


def settings_for(uri: str) -> SessionSettings:
    settings = SessionSettings()
    settings.authplainparameters = {"uri": uri}
    return settings


def test_answers_on_the_hub(scheme):
    found, name = scheme
    ok, fail, error = auth_backends.AUTH_OK, auth_backends.AUTH_FAIL, auth_backends.AUTH_ERROR
    assert found.authenticate("/f", {"realm": "r"}, "alice", "pw") == ok
    assert found.authenticate("/f", {}, "alice", "nope") == fail
    assert found.authenticate("/f", {}, "err", "x") == error
    assert found.authenticate("/f", {}, "boom", "x") == error
    assert [found.authenticate("", {}, "bool", p) for p in ("yes", "no")] == [ok, fail]
    assert found.groups("root") == ["admin", "ops"] and found.groups("bob") is None
    assert found.all_groups() == ["admin", "ops", "users"]
    assert auth_backends.scheme_groups(name, "root") == ["admin", "ops"]


def test_backend_from_a_threadpool_worker(scheme, rt):
    _, name = scheme
    backend = auth_backends.SchemeBackend()
    settings = settings_for(f"{name}:///users?realm=test")

    def check(user, password):  # what smtp/auth.py does: the check runs in the threadpool
        return gevent.get_hub().threadpool.apply(backend.check_password, (user, password, settings))
    assert check("alice", "pw") is True
    assert rt.sandbox.base[b"seen"] is None  # the script's globals are its own env
    assert check("alice", "bad") is False
    with pytest.raises(auth_backends.AuthSchemeError):
        check("err", "x")
    assert backend.check_password("alice", "pw", settings_for("nosuchscheme:///x")) is None
    assert backend.check_password("alice", "pw", SessionSettings()) is None


def test_retired_runtime_answers_nothing(scheme, rt):
    found, name = scheme
    backend = auth_backends.SchemeBackend()
    rt.__dict__["auth_retired"] = True
    assert found.authenticate("", {}, "alice", "pw") == auth_backends.AUTH_ERROR
    with pytest.raises(auth_backends.AuthSchemeError):
        backend.check_password("alice", "pw", settings_for(f"{name}://"))


def test_bad_registrations(run):
    assert "must be a table" in run("msys.registerAuth('x', 5)").error
    assert "none of authenticate" in run("msys.registerAuth('x', {})").error
    assert "letters, digits" in run("msys.registerAuth('a b', {authenticate = print})").error


def test_parse_auth_uri():
    parse = auth_backends.parse_auth_uri
    assert parse({"uri": "MyScheme:///etc/users%20x?realm=a&k=", "cache": "c"}) == (
        "myscheme", "/etc/users x", {"cache": "c", "realm": "a", "k": ""})
    assert parse({"uri": "lua://"}) == ("lua", "", {})
    assert parse({"uri": "/plain/path"}) is None and parse(None) is None and parse({}) is None
