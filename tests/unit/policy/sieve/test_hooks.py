"""hooks.py: hook scripts run on queue outcomes with the spooled message and its context."""
from __future__ import annotations

from types import SimpleNamespace

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool_records import SpooledMessage
from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.hooks import HookScript, outcome_of, run_hook
from ecelerity.policy.sieve.host import Counters


def test_hook_names_with_or_without_core_prefix():
    assert outcome_of("core_log_permanent_failure_v1") == "failed"
    assert outcome_of("log_transient_failure_v1") == "transient"
    assert outcome_of("CORE_LOG_DELIVERY_V1") == "delivered"
    assert outcome_of("delay_dsn_send_notification") is None


def test_run_hook_sees_envelope_context_outcome_and_can_write_files(tmp_path):
    out = tmp_path / "failures.log"
    script = compile_script(f'''
        $why = vctx_mess_get "delivery_response"; $what = vctx_mess_get "delivery_outcome";
        $tag = vctx_mess_get "campaign"; $to = envelope "to"; $id = ec_get_message_id;
        ec_log_file "{out}" "${{what}} ${{id}} ${{to}} ${{tag}} ${{why}}";
        ec_inc_counter "seen";
        ec_action 550 "meaningless here";''', "hook.siv")
    envelope = Envelope(mail_from="s@a.org", recipients=[Recipient("r@b.org")],
                        mess_context={"campaign": "spring"})
    message = SpooledMessage("ID1", "B1", Recipient("r@b.org"), "b.org", envelope)
    app = SimpleNamespace(config=None, spool=None)
    counters, logged = Counters(), []
    hook = HookScript("core_log_permanent_failure_v1", "failed", script)
    run_hook(hook, app, message, "550 5.1.1 no such user", counters=counters, log=logged.append)
    assert out.read_text() == "failed ID1 r@b.org spring 550 5.1.1 no such user\n"
    assert counters.get("seen") == 1
    assert counters.get("hook:core_log_permanent_failure_v1:runs") == 1 and logged == []
