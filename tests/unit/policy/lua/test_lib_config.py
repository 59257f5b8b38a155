"""msys.config (through the resolver) and msys.bounce.classify*."""
from ecelerity.config.loader import load_config_text
from ecelerity.policy.lua import LuaRuntime


def test_config_reads_through_resolver():
    config = load_config_text('max_outbound_connections = 7\n'
                              'domain "slow.example" { max_outbound_connections = 2 }\n')
    runtime = LuaRuntime(config=config)
    env = runtime.load_source("""
        a = msys.config('max_outbound_connections')
        b = msys.config('max_outbound_connections', {domain = 'slow.example'})
        ok, err = pcall(msys.config, 'max_outbound_connections', nil, 5)
        """, "cfg")
    assert (env[b"a"], env[b"b"], env[b"ok"]) == (7, 2, False)
    assert b"not supported" in env[b"err"]


def test_config_without_config_is_nil(run):
    assert run("return msys.config('max_outbound_connections')").values == (None,)


def test_bounce_classify(run):
    got = run("return msys.bounce.classify_smtp_response('550 5.1.1 user unknown', 'x.example')")
    assert got.ok
    code, name = got.values
    from ecelerity.bounce.classify import classify, name_of
    assert code == classify(550, "5.1.1", "user unknown") and name == name_of(code).encode()
    assert run("return msys.bounce.classify('451 4.7.1 try later')").values[0] == classify(
        451, "4.7.1", "try later")
