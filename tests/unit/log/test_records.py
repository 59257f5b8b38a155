"""ecelerity/log/records.py: Momentum's documented sample lines, rebuilt field by field."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.log import records

# The documented samples (momentum-facts.md §2.1, 2.3, 2.5, 2.7).
R_SAMPLE = ("1064868656@00/00-25004-31B987F3@00/00-03736-F4101B54@00/00-04532-A3456B54@R@bob@"
            "example.fict@info@postalengine.com@10.0.1.1@201@esmtp@default@default")
D_SAMPLE = ("1064871280@20/00-25593-945A87F3@00/00-03736-F4101B54@00/00-04532-A3456B54@D@"
            "postalengine.com@266@group-a@binding-a@0@0.393@10.0.0.1")
T_SAMPLE = ("1064869327@00/00-25593-CBD987F3@00/00-03736-F4101B54@00/00-04532-A3456B54@T@"
            "example.fict@0@group-a@binding-a@15@0@18.53@10.0.0.1@421 no adequate servers")
P_SAMPLE = ("1064870847@10/00-25593-393A87F3@00/00-03736-F4101B54@00/00-04532-A3456B54@P@"
            "postalengine.com@31@group-a@binding-a@5@1@3.89@10.0.0.1@552 No such account")
B_SAMPLE = ("1064868656@91/6D-07914-E67BC044@00/00-03736-F4101B54@00/00-04532-A3456B54@B@johndoe@"
            "example.fict@info@postalengine.com@group-a@binding-a@21@24@1223@10.0.0.1@"
            "554 5.4.7 [internal] exceeded max time without delivery")
REJECT_SAMPLE = (
    '1236672125: R="10.79.25.142:42601" L="10.79.25.142:25" C="18/00-07149-D7E16B94" '
    'PATH="default" PATH_GRP="default" P="awaiting mailfrom" E=550 M=scriptlet '
    'CTXCONN=[pathway=default,ehlo_string="EHLO rh52-node1",ehlo_domain=rh52-node1] '
    'CTXMESS=[mailfrom_domain=,mailfrom_string="MAIL FROM:<>",mailfrom_localpart=] '
    'relaying denied')
IDS = {"batch_id": "00/00-03736-F4101B54", "conn_id": "00/00-04532-A3456B54"}


def test_reception_line_matches_documented_sample():
    facts = dict(IDS, ts=1064868656.7, type="R", message_id="00/00-25004-31B987F3",
                 rcpt_local="bob", rcpt_domain="example.fict", from_local="info",
                 from_domain="postalengine.com", source_ip="10.0.1.1", size=201,
                 protocol="esmtp", binding_group="default", binding="default")
    assert records.mainlog_line(facts) == R_SAMPLE
    assert len(records.split_at_record(R_SAMPLE)) == 14


def test_delivery_line_matches_documented_sample():
    facts = dict(IDS, ts=1064871280, type="D", message_id="20/00-25593-945A87F3",
                 domain="postalengine.com", size=266, binding_group="group-a",
                 binding="binding-a", retries=0, elapsed=1064871280 - 1064871279.607,
                 remote_ip="10.0.0.1")
    assert records.mainlog_line(facts) == D_SAMPLE
    assert len(records.split_at_record(D_SAMPLE)) == 12


def test_transient_and_permanent_lines_match_documented_samples():
    common = dict(IDS, binding_group="group-a", binding="binding-a", remote_ip="10.0.0.1")
    transient = dict(common, ts=1064869327, type="T", message_id="00/00-25593-CBD987F3",
                     domain="example.fict", bytes_sent=0, stage=15, retries=0, elapsed=18.53,
                     response="421 no adequate servers")
    permanent = dict(common, ts=1064870847, type="P", message_id="10/00-25593-393A87F3",
                     domain="postalengine.com", bytes_sent=31, stage=5, retries=1, elapsed=3.89,
                     response="552 No such account")
    assert records.mainlog_line(transient) == T_SAMPLE
    assert records.mainlog_line(permanent) == P_SAMPLE
    assert all(len(records.split_at_record(line)) == 14 for line in (T_SAMPLE, P_SAMPLE))


def test_bounce_line_matches_documented_sample():
    facts = dict(IDS, ts=1064868656, type="B", message_id="91/6D-07914-E67BC044",
                 rcpt_local="johndoe", rcpt_domain="example.fict", from_local="info",
                 from_domain="postalengine.com", binding_group="group-a", binding="binding-a",
                 stage=21, classification=24, size=1223, remote_ip="10.0.0.1",
                 response="554 5.4.7 [internal] exceeded max time without delivery")
    assert records.bouncelog_line(facts) == B_SAMPLE
    assert len(records.split_at_record(B_SAMPLE)) == 16


def test_rejectlog_line_matches_documented_sample():
    facts = {"ts": 1236672125, "peer": "10.79.25.142:42601", "local": "10.79.25.142:25",
             "conn_id": "18/00-07149-D7E16B94", "pathway": "default", "pathway_group": "default",
             "phase": "awaiting mailfrom", "code": 550, "module": "scriptlet",
             "ctx_conn": {"pathway": "default", "ehlo_string": "EHLO rh52-node1",
                          "ehlo_domain": "rh52-node1"},
             "ctx_mess": {"mailfrom_domain": "", "mailfrom_string": "MAIL FROM:<>",
                          "mailfrom_localpart": ""},
             "text": "relaying denied"}
    assert records.rejectlog_line(facts) == REJECT_SAMPLE


def test_acctlog_lines_match_documented_samples():
    auth = {"ts": 1160172232, "type": "N", "endpoint": "*:2025", "peer": "10.80.116.126:37164",
            "user": "ec_user", "result": 1}
    authz = {"ts": 1160503811, "type": "Z", "endpoint": "/tmp/2025", "peer": "", "user": "ec-user",
             "result": 1, "command": "summary", "role": "users"}
    assert records.acctlog_line(auth) == "1160172232@N@*:2025@10.80.116.126:37164@ec_user@1"
    assert records.acctlog_line(authz) == "1160503811@Z@/tmp/2025@@ec-user@1@summary@users"


def test_heartbeats():
    assert records.mainlog_heartbeat(1251470342.5) == "1251470342@@@@M"
    assert records.bouncelog_heartbeat(1251222268) == "1251222268@@@@M1"
    assert records.rejectlog_heartbeat(1252064908) == "1252064908: Marker 1"


def test_hires_timestamp_is_16_digit_microseconds():
    assert records.format_ts(1251470342.123456, hires=True) == "1251470342123456"
    assert records.mainlog_heartbeat(1251470342.25, hires=True) == "1251470342250000@@@@M"


def test_escaping_keeps_field_count_and_single_line():
    facts = dict(IDS, ts=1, type="T", message_id="m", domain="d", bytes_sent=0,
                 binding_group="g", binding="b", stage=9, retries=2, elapsed=1,
                 remote_ip="10.0.0.1", response="550 <a@b.example>\\ unknown\nuser\x01")
    line = records.mainlog_line(facts)
    assert "\n" not in line and "\x01" not in line
    assert line.endswith("@550 <a\\@b.example>\\\\ unknown\\nuser\\x01")
    assert records.split_at_record(line)[13] == facts["response"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=16))
def test_split_inverts_escape_for_any_text(values):
    line = "@".join(records.escape_field(value) for value in values)
    assert "\n" not in line and "\r" not in line
    assert records.split_at_record(line) == values


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_elapsed_has_at_most_three_decimals_and_no_trailing_zero(seconds):
    text = records.format_elapsed(seconds)
    whole, _, decimals = text.partition(".")
    assert len(decimals) <= 3 and not decimals.endswith("0")
    assert abs(float(text) - seconds) <= 0.0005 + 1e-9


def test_rejectlog_text_with_newline_stays_one_line():
    facts = {"ts": 5, "peer": "1.2.3.4:5", "local": "1.2.3.4:25", "conn_id": "c",
             "pathway": "default", "pathway_group": "default", "phase": "rcpt", "code": 550,
             "module": "policy", "ctx_conn": {"k": 'a "quoted"\nvalue'}, "ctx_mess": {},
             "text": "bad\r\nthing"}
    line = records.rejectlog_line(facts)
    assert "\n" not in line and "\r" not in line
    assert 'CTXCONN=[k="a \\"quoted\\"\\nvalue"] CTXMESS=[] bad\\r\\nthing' in line
