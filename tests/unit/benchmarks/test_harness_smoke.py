"""The benchmark harness itself runs end to end on a tiny load (numbers are not judged).

Runs ``python -m benchmarks run accept --quick`` as a real process against the real
daemon (and aiosmtpd when installed), then checks the JSON and Markdown it wrote: one
row per peer, everything smtp-source sent counted at the receiver, nothing lost; and
``run relay --quick`` for ecelerity alone, counted at the smtp-sink it relays to.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.daemon import daemon_env
from tests.helpers.tools import need_tool

REPO = Path(__file__).resolve().parents[3]


def peers_here() -> list[str]:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        return ["ecelerity"]
    return ["ecelerity", "aiosmtpd"]


@pytest.mark.timeout(60)
def test_quick_accept_run_writes_results(tmp_path):
    need_tool("smtp-source")
    peers = peers_here()
    result = subprocess.run([sys.executable, "-m", "benchmarks", "run", "accept", "--quick",
                             "--peers", ",".join(peers), "--out", str(tmp_path)],
                            cwd=REPO, env=daemon_env(), capture_output=True, text=True, timeout=55)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [json_path] = list(tmp_path.glob("accept-*-quick.json"))
    data = json.loads(json_path.read_text())
    rows = {row["peer"]: row for row in data["rows"]}
    assert sorted(rows) == sorted(peers)
    for row in rows.values():
        assert "error" not in row, row
        assert row["smtp_source_exit"] == 0
        assert row["lost"] == 0
        # counted at the receiver: smtp-source's messages plus the probe's acknowledged ones
        # (+ at most one in-flight probe message per probe session, stored but not acked)
        assert 0 <= row["received"] - row["sent_by_smtp_source"] - row["probe_acked"] <= 2
        assert row["msg_per_s"] > 0 and row["cpu_s_per_1000_total"] > 0
        assert row["peak_rss_kb_max"] > 1000
        assert row["latency_ms"]["samples"] == row["probe_acked"] > 0
        assert row["latency_ms"]["p50"] <= row["latency_ms"]["p99"] <= row["latency_ms"]["max"]
    markdown = (tmp_path / "latest-accept-quick.md").read_text()
    assert all(f"| {peer} |" in markdown for peer in peers)


@pytest.mark.timeout(60)
def test_quick_relay_run_counts_at_the_sink(tmp_path):
    need_tool("smtp-source")
    need_tool("smtp-sink")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "run", "relay", "--quick",
                             "--peers", "ecelerity", "--out", str(tmp_path)],
                            cwd=REPO, env=daemon_env(), capture_output=True, text=True, timeout=55)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [json_path] = list(tmp_path.glob("relay-*-quick.json"))
    [row] = json.loads(json_path.read_text())["rows"]
    assert row["peer"] == "ecelerity" and "error" not in row, row
    assert row["received_at"] == "sink" and row["lost"] == 0
    # what reached the sink: everything smtp-source sent plus the probe's acknowledged messages
    assert row["expected_at_sink"] == row["sent_by_smtp_source"] + row["probe_acked"]
    assert 0 <= row["received"] - row["expected_at_sink"] <= 2  # + an unanswered probe message
    assert row["sink_latency_ms"]["samples"] >= 1
    assert row["latency_ms"]["p50"] <= row["latency_ms"]["p99"]
    assert "| ecelerity |" in (tmp_path / "latest-relay-quick.md").read_text()


@pytest.mark.timeout(60)
def test_quick_policy_run_reads_the_daemons_policy_cpu(tmp_path):
    need_tool("smtp-source")
    need_tool("smtp-sink")
    result = subprocess.run([sys.executable, "-m", "benchmarks", "run", "policy", "--quick",
                             "--repeat", "1", "--peers", "ecelerity", "--out", str(tmp_path)],
                            cwd=REPO, env=daemon_env(), capture_output=True, text=True, timeout=55)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    [json_path] = list(tmp_path.glob("policy-*-quick.json"))
    rows = {row["peer"]: row for row in json.loads(json_path.read_text())["rows"]}
    assert sorted(rows) == ["ecelerity", "ecelerity+lua5hooks", "ecelerity+sieve50"]
    assert all(row["round"] == 0 and row["lost"] == 0 for row in rows.values()), rows
    assert rows["ecelerity"]["policy_cpu"]["engines"] == {}  # plain: no policy hook ran
    for variant, engine in (("ecelerity+sieve50", "sieve"), ("ecelerity+lua5hooks", "lua")):
        counted = rows[variant]["policy_cpu"]["engines"]
        assert list(counted) == [engine], counted
        # every message at the sink passed the engine's data hook at least once
        assert counted[engine]["calls"] >= rows[variant]["received"] and counted[engine]["ns"] > 0
    markdown = (tmp_path / "latest-policy-quick.md").read_text()
    assert "in-daemon policy CPU us/msg" in markdown and "In-daemon:" in markdown
