"""msys.registerModule, hook order and return conventions, scriptlet stanza loading."""
from __future__ import annotations

from ecelerity.config.loader import load_config
from ecelerity.policy.lua import LuaRuntime, VALIDATE_CONT, VALIDATE_DONE
from ecelerity.policy.lua.registry import ScriptSource, load_scriptlets, scriptlet_sources


def test_register_and_run_in_order_until_done(rt):
    rt.load_source("""
        local a, b, c = {}, {}, {}
        calls = {}
        function a:validate_ehlo(str) calls[#calls + 1] = 'a:' .. str return msys.core.VALIDATE_CONT end
        function b:validate_ehlo(str) calls[#calls + 1] = 'b' return msys.core.VALIDATE_DONE end
        function c:validate_ehlo(str) calls[#calls + 1] = 'c' return msys.core.VALIDATE_CONT end
        msys.registerModule('a', a) msys.registerModule('b', b) msys.registerModule('c', c)
    """, "three")
    outcome = rt.registry.run_hook("validate_ehlo", b"host.example", None, None)
    assert [r.module for r in outcome.runs] == ["a", "b"]
    assert [r.value for r in outcome.runs] == [VALIDATE_CONT, VALIDATE_DONE]
    assert outcome.done and outcome.failed is None
    assert rt.registry.run_hook("validate_connect").runs == []


def test_module_without_usable_methods_is_logged(rt):
    rt.load_source("msys.registerModule('empty', {helper = function() end})", "empty")
    assert "empty" not in rt.registry.modules
    assert rt.logged[-1][1] == "no usable methods found for module empty in registerModule call"


def test_core_hooks_by_name_are_accepted(rt):
    rt.load_source("msys.registerModule('signer', {core_final_validation = function() end})", "s")
    assert list(rt.registry.modules["signer"].hooks) == ["core_final_validation"]


def test_failing_hook_reports_failure_and_stops(rt):
    rt.load_source("""
        local m = {}
        function m:validate_mailfrom(str) error('no sender policy') end
        msys.registerModule('m', m)
        msys.registerModule('later', {validate_mailfrom = function() return 0 end})
    """, "failing")
    outcome = rt.registry.run_hook("validate_mailfrom", b"MAIL FROM:<a@b>", None, None)
    assert outcome.failed.startswith("m:validate_mailfrom: failing:3: no sender policy")
    assert [r.module for r in outcome.runs] == ["m"]


def test_scriptlet_stanza_loads_scripts_relative_to_config(tmp_path):
    (tmp_path / "myscripts").mkdir()
    (tmp_path / "myscripts" / "ehlo_phase.lua").write_text(
        "local mod = {}\n"
        "function mod:init() inited = true return true end\n"
        "function mod:validate_ehlo(str, ac, vctx) return msys.core.VALIDATE_DONE end\n"
        "msys.registerModule('ehlo_phase', mod)\n")
    conf = tmp_path / "ecelerity.conf"
    conf.write_text('scriptlet "scriptlet" {\n'
                    '  script "boot" { source = "msys.boot" }\n'
                    '  script "ehlo_phase" { source = "myscripts.ehlo_phase" }\n'
                    '  script "broken" { source = "myscripts.nothere" }\n}\n')
    sources, directories = scriptlet_sources(load_config(str(conf)))
    assert [(s.name, s.source) for s in sources] == [
        ("boot", "msys.boot"), ("ehlo_phase", "myscripts.ehlo_phase"),
        ("broken", "myscripts.nothere")]
    from ecelerity.policy.lua.registry import SHIPPED_SCRIPTS
    runtime = LuaRuntime(script_path=directories + [SHIPPED_SCRIPTS])
    problems = load_scriptlets(runtime, sources)
    assert len(problems) == 1 and "ecelerity.conf:4:" in problems[0]
    assert "myscripts.nothere" in problems[0]
    assert list(runtime.registry.modules) == ["ehlo_phase"]
    assert runtime.registry.run_hook("validate_ehlo", b"x", None, None).done


def test_runtimes_with_registered_hooks_tear_down_cleanly(tmp_path):
    """Regression: Lua objects kept past a call must be re-homed on the main state,
    else freeing the runtime crashes the process (lupa ties objects to coroutines)."""
    import subprocess
    import sys
    snippet = (
        "import gc\n"
        "from ecelerity.policy.lua import LuaRuntime, available_engines\n"
        "from ecelerity.policy.lua.bindings import LuaBindings, OfflineAccept, OfflineVctx\n"
        "def once(engine):\n"
        "    rt = LuaRuntime(engine)\n"
        "    rt.load_source(\"local m = {} function m:validate_connect(a, v) "
        "v:set('conn', 'k', 'v') return {1} end msys.registerModule('m', m) "
        "msys.timer.after(10, function() end)\", 'x')\n"
        "    b = LuaBindings(rt)\n"
        "    for _ in range(300):\n"
        "        rt.registry.run_hook('validate_connect', b.accept(OfflineAccept()), b.vctx(OfflineVctx()))\n"
        "for _ in range(3):\n"
        "    for engine in available_engines():\n"
        "        once(engine)\n"
        "        gc.collect()\n"
        "print('clean')\n")
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "clean", done.stderr[-2000:]


def test_chain_is_prepared_in_order_and_generation_marks_it_stale(rt):
    before = rt.registry.generation
    rt.load_source("msys.registerModule('a', {validate_data = function() return 0 end})", "a")
    rt.load_source("msys.registerModule('b', {validate_data = function() return 1 end,"
                   " validate_connect = function() return 0 end})", "b")
    chain = rt.registry.chain("validate_data")
    assert [(what, name) for _f, _t, what, name in chain] == \
        [("a:validate_data", "a"), ("b:validate_data", "b")]
    assert rt.registry.generation == before + 2 and rt.registry.chain("validate_ehlo") == ()
    assert rt.invoke(chain[1][0], (chain[1][1],), chain[1][2]) == (True, VALIDATE_DONE)
    rt.load_source("msys.registerModule('a', {validate_connect = function() return 0 end})", "a2")
    assert [name for *_rest, name in rt.registry.chain("validate_data")] == ["b"]


def test_rsrc_setup_runs_after_every_init_and_its_failure_is_a_problem(tmp_path):
    (tmp_path / "a.lua").write_text(
        "local m = {}\n"
        "function m:init() table.insert(calls, 'a:init') return true end\n"
        "function m:rsrc_setup() table.insert(calls, 'a:rsrc_setup') end\n"
        "msys.registerModule('a', m)\n")
    (tmp_path / "b.lua").write_text(
        "local m = {}\n"
        "function m:init() table.insert(calls, 'b:init') return true end\n"
        "function m:rsrc_setup() error('no resources') end\n"
        "msys.registerModule('b', m)\n")
    runtime = LuaRuntime(script_path=[str(tmp_path)])
    calls = runtime.table()
    runtime.sandbox.base[b"calls"] = calls
    problems = load_scriptlets(runtime, [ScriptSource("a", "a"), ScriptSource("b", "b")])
    assert [v.decode() for v in runtime.from_lua(calls)] == ["a:init", "b:init", "a:rsrc_setup"]
    assert len(problems) == 1 and "module b: rsrc_setup failed" in problems[0]
    assert "no resources" in problems[0]
