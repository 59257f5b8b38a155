"""Policy on REST-injected mail in a real daemon: Lua and Sieve++ hooks in data_spool /
data_spool_each_rcpt / set_binding, default_binding = none, opendkim signing at the end of
data_spool; rejections show up in total_rejected_recipients with their reason; the
binding a policy chose is seen at the sink (its bind_address)."""
from __future__ import annotations

import email
import email.policy
import http.client
import json

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.opendkim import genkey, opendkim_verify
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for

LUA = r'''
local mod = {}
function mod:validate_data_spool(msg, accept, vctx)
  msg:header("X-Lua-Campaign", vctx:get(msys.core.VCTX_MESS, "campaign_id") or "none")
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool_each_rcpt(msg, accept, vctx)
  if string.find(msg:rcptto(), "^refuse@") then
    vctx:set_code(550, "5.7.1 refused by Lua policy")
    return msys.core.VALIDATE_DONE
  end
  return msys.core.VALIDATE_CONT
end
function mod:validate_set_binding(msg)
  if msg:header("Subject")[1] == "bound" then msg:binding("lua_b") end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("rest_policy", mod)
'''

LUA_CONF = """
gateway = "127.0.0.1:{sink}"
default_binding = none
binding "lua_b" {{ bind_address = "127.0.0.3" }}
HTTP_Listener {{ rest_api_keys = ( "k" ) Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{ script "policy" {{ source = "policy" }} }}
"""


def post(port, payload):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/v1/transmissions", body=json.dumps(payload),
                     headers={"Authorization": "k", "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _transmission(*recipients):
    return {"campaign_id": "autumn",
            "recipients": [{"address": addr, "substitution_data": {"kind": kind}}
                           for addr, kind in recipients],
            "content": {"from": "app@sender.example", "subject": "{{kind}}", "text": "hi"}}


def test_lua_policy_rejects_binds_and_default_binding_none_refuses(tmp_path):
    (tmp_path / "policy.lua").write_text(LUA)
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(LUA_CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer = post(port, _transmission(("ok@dest.example", "bound"),
                                                  ("refuse@dest.example", "bound"),
                                                  ("loose@dest.example", "loose")))
        assert status == 200, answer
        assert answer["errors"] == [{"message": "transmission created, but with validation "
                                                "errors", "code": "2000"}]
        results = answer["results"]
        assert (results["total_accepted_recipients"], results["total_rejected_recipients"]) == (1, 2)
        reasons = {e["description"] for e in results["rcpt_to_errors"]}
        assert reasons == {
            "<refuse@dest.example>: 550 5.7.1 refused by Lua policy",
            "<loose@dest.example>: 451 4.3.0 [internal] no binding assigned and "
            "default_binding is none"}
        assert {e["code"] for e in results["rcpt_to_errors"]} == {"1902"}
        # nothing accepted: Momentum's "Message generation rejected"
        status, answer = post(port, _transmission(("loose2@dest.example", "loose")))
        assert status == 400 and answer["errors"][0]["code"] == "1902", answer
        assert answer["errors"][0]["message"] == "Message generation rejected"
        assert "default_binding is none" in answer["errors"][0]["description"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/v1.0/inject/", headers={"Authorization": "k"}, body=json.dumps({
            "template": "From: a@sender.example\nSubject: bound\n\nold style\n",
            "recipients": [{"to": "refuse@dest.example", "from": "a@sender.example"}]}))
        legacy = json.loads(conn.getresponse().read())
        conn.close()
        assert legacy["results"] == [{"status": "failure",
                                      "reason": "550 5.7.1 refused by Lua policy"}]
        assert wait_for(lambda: len(sink.messages) >= 1, timeout=20), d.diagnostics()
    [sunk] = sink.messages
    assert sunk.rcpts == ["ok@dest.example"]
    assert sunk.peer[0] == "127.0.0.3"  # delivered from binding lua_b's bind_address
    parsed = email.message_from_bytes(sunk.body, policy=email.policy.default)
    assert parsed["X-Lua-Campaign"] == "autumn" and parsed["Subject"] == "bound"


SIEVE_SPOOL = 'ec_header_add "X-Policy" "sieve-saw-rest";\n'
SIEVE_RCPT = r'''require ["ec_action", "envelope"];
if envelope :localpart :is "to" "blocked" {
  ec_action 550 "5.7.1 blocked by sieve" "blocked_rcpt";
}
'''
SIEVE_BIND = 'ec_set_binding "sv_b";\n'
SIEVE_CONF = """
gateway = "127.0.0.1:{sink}"
binding "sv_b" {{ bind_address = "127.0.0.4" }}
HTTP_Listener {{ rest_api_keys = ( "k" ) Listen "127.0.0.1:{port}" {{ }} }}
sieve "policy" {{
  script spool_phase1 {{ source = "spool.siv" }}
  script each_rcpt_phase1 {{ source = "rcpt.siv" }}
  script set_binding_phase1 {{ source = "bind.siv" }}
}}
opendkim "signer" {{
  headerlist = ( "from" "to" "subject" "x-policy" )
  key = "{keys}/%{{d}}/%{{s}}.key"
  dkim_domain "sender.example" {{ selector = "s1" }}
}}
"""


def test_sieve_policy_and_dkim_signing_apply_to_injected_mail(tmp_path):
    key = genkey(tmp_path / "keys", "sender.example", "s1")
    for name, text in (("spool.siv", SIEVE_SPOOL), ("rcpt.siv", SIEVE_RCPT),
                       ("bind.siv", SIEVE_BIND)):
        (tmp_path / name).write_text(text)
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, start_daemon(SIEVE_CONF.format(
            port=port, sink=sink.port, keys=tmp_path / "keys"), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer = post(port, _transmission(("fine@dest.example", "x"),
                                                  ("blocked@dest.example", "x")))
        assert status == 200, answer
        assert answer["results"]["total_rejected_recipients"] == 1
        [error] = answer["results"]["rcpt_to_errors"]
        assert error["description"] == "<blocked@dest.example>: 550 5.7.1 blocked by sieve"
        assert wait_for(lambda: len(sink.messages) >= 1, timeout=20), d.diagnostics()
    [sunk] = sink.messages
    assert sunk.rcpts == ["fine@dest.example"] and sunk.peer[0] == "127.0.0.4"
    assert b"X-Policy: sieve-saw-rest" in sunk.body
    assert sunk.body.startswith(b"DKIM-Signature: ") or b"\r\nDKIM-Signature: " in sunk.body
    code, err = opendkim_verify(sunk.body, [key])
    assert code == 0, err
    assert opendkim_verify(sunk.body.replace(b"\r\n\r\nhi", b"\r\n\r\nho"), [key])[0] != 0
