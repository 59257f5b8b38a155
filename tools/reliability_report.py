"""Run the reliability suite and write RELIABILITY.md with the figures of that run.

    python tools/reliability_report.py                 # bounded (CI-sized) run
    ECELERITY_SOAK=1 python tools/reliability_report.py   # the long soak run
    python tools/reliability_report.py --from-results FILE   # only re-render a results file

Who calls it: a developer or a release job, never the test suite. It runs
``pytest tests/reliability`` with ``ECELERITY_RELIABILITY_RESULTS`` naming a fresh JSON-lines
file (tests/reliability/conftest.py's ``figures`` fixture appends one line per measured
figure), also reads the summary lines the two older kill -9 tests print, and renders one
page. It must never invent a figure: a section whose tests did not run says so.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPOOL_KILL9 = re.compile(r"spool kill -9: (\{.*\})")
INBOUND_ROUND = re.compile(r"round (\d+) seed \d+: .*acked this round (\d+) \(total (\d+)\), found (\d+), "
                           r"lost (\d+), extra (\d+)")
OUTCOME = re.compile(r"^(PASSED|FAILED|XFAIL|XPASS|SKIPPED|ERROR)\b(.*)$", re.M)
SUMMARY = re.compile(r"=+ (.*\d+ (?:passed|failed).*) in ([\d.]+)s")


def run_suite(results: Path, extra_args: list[str]) -> tuple[str, int, float]:
    env = dict(os.environ, ECELERITY_RELIABILITY_RESULTS=str(results), PYTHONPATH=str(REPO))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-s", "-rA", "-p", "no:randomly",
                           "tests/reliability", *extra_args], cwd=REPO, env=env,
                          capture_output=True, text=True)
    return proc.stdout + proc.stderr, proc.returncode, time.monotonic() - started


def load_results(path: Path) -> dict[str, list[dict]]:
    sections: dict[str, list[dict]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                sections[entry["section"]].append(entry["values"])
    return sections


def table(headers: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |"
            for row in rows]
    return out + [""]


def crash_section(sections, output: str) -> list[str]:
    lines = ["## 1. Crash safety (kill -9)", ""]
    rows = []
    for entry in sections.get("crash_delivery", []):
        rows.append(["daemon, receiving + delivering to a sink", entry["rounds"], entry["injected"],
                     entry["accepted"], entry["delivered"], entry["lost"], entry["duplicated"],
                     f"unavoidable-window bound (rounds x connections): {entry.get('duplicate_window_bound', '?')}; "
                     f"delivered but unacknowledged: {entry['delivered_unacknowledged']}; "
                     f"corrupt: {entry['corrupt']}; seed {entry['seed']}"])
    inbound = INBOUND_ROUND.findall(output)
    if inbound:
        last = inbound[-1]
        rows.append(["daemon, receiving only (test_inbound_kill9)", int(last[0]) + 1, "-", last[2],
                     "- (delivery suspended)", last[4], "-", f"stored but unacknowledged: {last[5]}"])
    for match in SPOOL_KILL9.findall(output):
        totals = ast.literal_eval(match)
        rows.append(["spool library, storing/removing (test_spool_kill9)", totals["rounds"], "-",
                     totals["acked"], "-", 0, "-", f"removed {totals['removed']}, "
                     f"quarantined torn tails {totals['quarantined']}"])
    for entry in sections.get("kill9_spool_in", []):
        rows.append(["daemon killed during spool-in (test_kill9_targeted)", entry["rounds"], "-",
                     entry["spooled"], "- (delivery suspended)", entry["lost"], entry["duplicated"],
                     f"start with this spool {entry['start_seconds']}s, kill delays {entry['kill_delays']}; "
                     f"quarantined {entry['quarantined']}; seed {entry['seed']}"])
    for entry in sections.get("kill9_dsn", []):
        rows.append(["daemon killed during DSN generation (test_kill9_targeted)", entry["rounds"], 1,
                     f"{entry['recipients']} recipients", f"{entry['dsn_messages']} DSNs", entry["lost"],
                     entry["duplicated"], f"DSNs at the sink after each kill {entry['dsns_at_sink_after_each_kill']}; "
                     f"left in spool {entry['left_in_spool']}; seed {entry['seed']}"])
    if not rows:
        return lines + ["Not run in this report.", ""]
    lines += table(["scenario", "rounds", "injected", "accepted (250)", "delivered", "lost",
                    "duplicated", "notes"], rows)
    lines += ["A *duplicate* is a message the sink received twice because the kill fell between the "
              "remote 250 and our durable removal record. *lost* counts acknowledged messages that "
              "never arrived: the tests fail if it is not 0.", ""]
    return lines


DUPLICATES = """### How the duplicate window is kept to one transaction

The unavoidable window is one transaction per outbound connection: the time between
the remote 250 and our durable removal record. queue/results.py gets each
transaction's results from ``DeliveryEngine.deliver(..., on_results=...)`` as soon as
the remote answered and records all its delivered messages with one
``spool.remove_many`` (one group commit) before the next transaction starts; the
mainlog D line is written at that moment too. The measurement above
(test_duplicate_window: microsecond mainlog D stamps against the sink's 250 stamps)
checks that no later message of a connection is acknowledged before an earlier one is
removed, and the kill -9 rounds compare their duplicates with rounds x connections.
(Before this fix a whole hand-off of up to 100 messages was removed only at its end,
one commit per message: 212 duplicates over 3 kills.)
"""


def simple_section(title: str, entries: list[dict]) -> list[str]:
    lines = [title, ""]
    if not entries:
        return lines + ["Not run in this report.", ""]
    keys = sorted({k for e in entries for k in e})
    return lines + table(keys, [[e.get(k, "") for k in keys] for e in entries])


def outcomes_section(output: str) -> list[str]:
    xfails = [m[1].strip() for m in OUTCOME.findall(output) if m[0] == "XFAIL"]
    failures = [m[1].strip() for m in OUTCOME.findall(output) if m[0] in ("FAILED", "ERROR", "XPASS")]
    lines = ["## Known open bugs (strict xfail tests) and failures", ""]
    lines += [f"- XFAIL {x}" for x in xfails] or ["- none"]
    lines += [f"- **{x}**" for x in failures]
    return lines + [""]


def render(sections, output: str, status: int, seconds: float) -> str:
    summary = SUMMARY.search(output)
    soak = os.environ.get("ECELERITY_SOAK") == "1"
    fuzz = sections.get("fuzz", [])
    lines = ["# RELIABILITY", "",
             f"Generated by `python tools/reliability_report.py` on "
             f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
             f"{'soak' if soak else 'bounded (CI-sized)'} run, pytest exit status {status}, "
             f"{summary.group(1) if summary else 'no pytest summary'} in {seconds:.0f}s.", ""]
    lines += crash_section(sections, output)
    lines += simple_section("### The duplicate window (removal latency after the remote 250)",
                            sections.get("duplicate_window", []))
    lines += [DUPLICATES]
    lines += simple_section("## 2. Disk faults: spool filesystem full", sections.get("disk_full", []))
    lines += simple_section("### Corrupt spool at start-up", sections.get("corrupt_spool", []))
    lines += simple_section("## 3. Network faults (scripted peers)", sections.get("network_faults", []))
    lines += simple_section("## 4. DNS faults (real dnsmasq + scripted server)", sections.get("dns_faults", []))
    lines += simple_section("### DNS faults: totals", sections.get("dns_faults_summary", []))
    lines += simple_section("## 5. Load: idle sessions (memory per session)", sections.get("idle_sessions", []))
    lines += simple_section("### Slowloris (seconds until the daemon cut the stalled client)",
                            sections.get("slowloris", []))
    lines += simple_section("### Trickling slowloris (one byte per idle_time/4)", sections.get("slowloris_trickle", []))
    lines += simple_section("### Limits under load (max-size messages, huge headers, recipients, MIME)",
                            sections.get("load_limits", []))
    lines += simple_section("## 6. Fuzzing", fuzz)
    if fuzz:
        lines += [f"Total: {sum(e['executions'] for e in fuzz)} executions, "
                  f"{sum(e['crashes'] for e in fuzz)} crashes open.", ""]
    lines += simple_section("## 7. Security: open-relay matrix", sections.get("open_relay", []))
    lines += simple_section("### TLS floor and AUTH before TLS", sections.get("tls", []))
    lines += simple_section("### AUTH brute force", sections.get("auth_brute_force", []))
    lines += simple_section("### Relay rights by AUTH state and relay_hosts (RCPT reply codes)",
                            sections.get("relay_auth_matrix", []))
    lines += simple_section("### Secrets at rest after AUTH attempts", sections.get("secrets_at_rest", []))
    lines += simple_section("### Privilege drop when started as root", sections.get("privilege_drop", []))
    lines += outcomes_section(output)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(REPO / "RELIABILITY.md"))
    parser.add_argument("--from-results", help="render this results file (and --log) without running")
    parser.add_argument("--log", help="pytest output to read kill -9 summaries and xfails from")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    if args.from_results:
        output = Path(args.log).read_text() if args.log else ""
        text = render(load_results(Path(args.from_results)), output, 0, 0.0)
        status = 0
    else:
        with tempfile.TemporaryDirectory(prefix="ec-reliability-") as scratch:
            results = Path(scratch) / "results.jsonl"
            output, status, seconds = run_suite(results, args.pytest_args)
            (Path(scratch) / "pytest.log").write_text(output)
            text = render(load_results(results), output, status, seconds)
    Path(args.output).write_text(text)
    print(f"wrote {args.output} (pytest exit status {status})")
    return status


if __name__ == "__main__":
    sys.exit(main())
