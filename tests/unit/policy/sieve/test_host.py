"""host.PolicyHost.template/from_template: a hook's per-call host without __init__.

phase_runner.make_hook builds the template once; every call must still get a host
equal to what __init__ would build, with its own per-run mutable state.
"""
from __future__ import annotations

import dataclasses

from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
from ecelerity.policy.sieve.host import Counters, Outcome, PolicyHost
from ecelerity.policy.vctx import ValidationContext


def test_from_template_equals_init_and_never_shares_run_state():
    counters, throttles = Counters(), ThrottleCache()
    fixed = dict(config={"hostname": "mta"}, counters=counters, throttles=throttles,
                 spool_base="/spool", audit=None, shared_throttles=throttles)
    template = PolicyHost.template(**fixed)
    vctx = ValidationContext()
    first = PolicyHost.from_template(template, vctx, "rcptto", None, "rcpt")
    built = PolicyHost(vctx, phase="rcptto", recipient="rcpt", **fixed)
    names = [f.name for f in dataclasses.fields(PolicyHost)]
    assert {n: getattr(first, n) for n in names} == {n: getattr(built, n) for n in names}
    first.notes.append("tarpit 1s")
    first.terminal(Outcome("reject", 550, "no"))
    first.error_mode = "continue"
    first.inject("", ["a@b"], b"x")  # offline: recorded on the host
    second = PolicyHost.from_template(template, ValidationContext(), "data", "msg", None)
    assert (second.notes, second.outcome, second.injected, second.error_mode) == ([], None, None, None)
    assert second.counters is counters and second.throttles is throttles
    assert second.message == "msg" and second.phase == "data"


def test_from_template_keeps_the_compact_split_table_of_init():
    """One host per message: its __dict__ shares PolicyHost's key table (values only),
    as an __init__-built host's does, instead of a ~3x larger table of its own."""
    import sys

    template = PolicyHost.template(counters=Counters(), throttles=ThrottleCache())
    host = PolicyHost.from_template(template, ValidationContext(), "data", "msg", None)
    host.mail_from, host.message_id, host.peer_ip, host.peer_port = "a@b", "id", "127.0.0.1", 25
    built = PolicyHost(ValidationContext(), counters=Counters())
    assert sys.getsizeof(host.__dict__) <= sys.getsizeof(built.__dict__)
    assert sys.getsizeof(host.__dict__) < sys.getsizeof(dict(host.__dict__))  # a combined copy
    assert host.counters is template["counters"] and host.phase == "data"
