"""policy_measure.py: the hub-only py-spy view and the side-by-side table."""
from __future__ import annotations

from benchmarks.harness import policy_measure, profile

HUB = 'process 1:"python -m ecelerity.daemon.main";Session.run (ecelerity/smtp/session.py:174)'
RUN = "Session.run_phase (ecelerity/smtp/session.py:453);HookRegistry.run (ecelerity/policy/phases.py:127)"
POOL = 'process 1:"python";_bootstrap (threading.py:995);_bootstrap_inner (threading.py:1038)'


def test_hook_samples_counts_only_the_hub_and_everything_below_the_engine_hook(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text("\n".join([
        f"{HUB};{RUN};make_hook.<locals>.sieve_hook (ecelerity/policy/sieve/phase_runner.py:288) 5",
        # below the hook, in another file (core header parsing): still the hook's
        f"{HUB};{RUN};timed (ecelerity/policy/cpu_accounting.py:78);sieve_hook "
        "(ecelerity/policy/sieve/phase_runner.py:288);parse (ecelerity/core/headers.py:60) 2",
        f"{HUB};{RUN};run_lua (ecelerity/policy/lua/live_calls.py:129) 3",
        f"{HUB};{RUN};relay_hook (ecelerity/policy/relay.py:40) 1",
        f"{HUB};_write (ecelerity/smtp/session.py:300) 10",
        f"{POOL};_write_cycle (ecelerity/core/spool_commit.py:200) 50",
        "garbage line",
    ]) + "\n")
    hooks = profile.hook_samples(raw)
    assert hooks == {"hub": 21, "sieve": 7, "lua": 3, "other": 1}
    text = profile.markdown("t", profile.summarize(raw), hooks)
    assert "Hub thread: 21 samples; policy hooks: lua 14.3%, other 4.8%, sieve 33.3%" in text


def test_report_pairs_each_variant_with_the_plain_run_of_its_round():
    def row(peer, rnd, hub, proc, spy=None):
        return {"peer": peer, "round": rnd, "hub_cpu_us_per_msg": hub, "cpu_s_per_1000_total": proc,
                "received": 1000, "policy_cpu": None} | ({"spy": spy} if spy else {})
    rows = [row("ecelerity", 0, 600.0, 0.7), row("ecelerity+sieve50", 0, 700.0, 0.75, {"hub": 100, "sieve": 10}),
            row("ecelerity", 1, 500.0, 0.6), row("ecelerity+sieve50", 1, 620.0, 0.68, {"hub": 100, "sieve": 20})]
    [line] = [x for x in policy_measure.report(rows) if "sieve50" in x]
    assert "| 2 | 110.0 (100.0 .. 120.0) | 65.0 (50.0 .. 80.0) | n/a | 97.0 (70.0 .. 124.0) |" in line
