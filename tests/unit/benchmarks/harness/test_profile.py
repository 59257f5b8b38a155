"""Collapsed py-spy stacks are summarised into inclusive and self shares per function."""
from __future__ import annotations

from benchmarks.harness import profile


def test_summary_counts_each_function_once_per_stack_and_names_files_short(tmp_path):
    raw = tmp_path / "p.txt"
    raw.write_text(
        "run (/work/main/ecelerity/smtp/session.py:140);store (/work/main/ecelerity/core/spool.py:90) 30\n"
        "run (/work/main/ecelerity/smtp/session.py:140);run (/work/main/ecelerity/smtp/session.py:150) 10\n"
        "deliver (/x/ecelerity/delivery/engine.py:10);send (/usr/lib/python3.11/socket.py:5) 60\n")
    summary = profile.summarize(raw)
    assert summary["samples"] == 100
    inclusive = dict(summary["inclusive"])
    assert inclusive["run (ecelerity/smtp/session.py)"] == 40.0  # recursion counted once
    assert inclusive["deliver (ecelerity/delivery/engine.py)"] == 60.0
    own = dict(summary["self"])
    assert own == {"send (lib/python3.11/socket.py)": 60.0, "store (ecelerity/core/spool.py)": 30.0,
                   "run (ecelerity/smtp/session.py)": 10.0}
    text = profile.markdown("t", summary)
    assert "| 60.0 | deliver (ecelerity/delivery/engine.py) |" in text
