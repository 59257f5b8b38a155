"""Script + message cases for the Pigeonhole differential test (test_sieve_pigeonhole.py).

Each case: (case id, script, message name, envelope from, envelope to, extra scripts).
Extra scripts are {name: source} placed next to the main script (include tests).
"""
from __future__ import annotations

MESSAGES = {
    "plain": (
        "From: Alice Example <alice@example.com>\r\n"
        "To: bob+lists@example.org, carol@example.net\r\n"
        "Cc: dave@sub.example.org\r\n"
        "Subject: Hello World\r\n"
        "X-Spam-Score: 7\r\n"
        "X-Spam-Score: 12\r\n"
        "Message-ID: <m1@example.com>\r\n"
        "\r\n"
        "Body text here, with a secret word.\r\n"
    ),
    "encoded": (
        "From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.de>\r\n"
        "To: list@example.org\r\n"
        "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=\r\n"
        "List-Id: <dev.lists.example.org>\r\n"
        "\r\n"
        "Hallo.\r\n"
    ),
    "multipart": (
        "From: shop@store.example\r\n"
        "To: bob@example.org\r\n"
        "Subject: Your order 12345\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
        "\r\n"
        "--XX\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Order confirmed: invoice attached\r\n"
        "--XX\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "\r\n"
        "<p>Order <b>confirmed</b></p>\r\n"
        "--XX--\r\n"
    ),
}

R = 'require ["fileinto", "reject", "envelope", "variables", "relational", "comparator-i;ascii-numeric", "body", "regex", "copy", "subaddress", "encoded-character", "imap4flags"];\n'
FROM, TO = "sender@example.com", "bob+lists@example.org"
CASES: list[tuple[str, str, str, str, str, dict[str, str]]] = []


def case(case_id: str, body: str, message: str = "plain", env_from: str = FROM,
         env_to: str = TO, extra: dict[str, str] | None = None, prelude: str = R) -> None:
    CASES.append((case_id, prelude + body, message, env_from, env_to, extra or {}))


# --- core control and actions ---------------------------------------------------
case("empty", "")
case("keep", "keep;")
case("discard", "discard;")
case("stop_before_discard", "stop; discard;")
case("keep_then_discard", "keep; discard;")
case("fileinto", 'fileinto "Work";')
case("fileinto_inbox", 'fileinto "INBOX";')
case("fileinto_dup", 'fileinto "A"; fileinto "B"; fileinto "A";')
case("redirect", 'redirect "x@example.net";')
case("redirect_dup", 'redirect "x@example.net"; redirect "x@example.net";')
case("redirect_copy", 'redirect :copy "x@example.net";')
case("fileinto_copy", 'fileinto :copy "Archive";')
case("reject", 'reject "go away";')
case("reject_then_keep", 'reject "no"; keep;')
case("keep_then_reject", 'keep; reject "no";')
case("reject_twice", 'reject "a"; reject "b";')
case("too_many_redirects", "".join(f'redirect "r{i}@example.net";' for i in range(6)))
case("if_else", 'if false { fileinto "A"; } elsif true { fileinto "B"; } else { fileinto "C"; }')
case("else_branch", 'if false { fileinto "A"; } else { fileinto "C"; }')
case("not_allof_anyof", 'if allof(not false, anyof(false, true)) { fileinto "X"; }')
case("nested_blocks", 'if true { if true { if false { discard; } else { fileinto "deep"; } } }')
# --- header / address / envelope / exists / size ------------------------------------
case("header_is", 'if header :is "subject" "hello world" { fileinto "S"; }')
case("header_is_octet", 'if header :comparator "i;octet" :is "subject" "hello world" { fileinto "S"; }')
case("header_contains", 'if header :contains ["to", "cc"] "sub.example" { fileinto "C"; }')
case("header_matches", 'if header :matches "subject" "*World" { fileinto "M"; }')
case("header_matches_q", 'if header :matches "subject" "H?llo*" { fileinto "Q"; }')
case("header_missing", 'if header :contains "x-none" "" { discard; }')
case("header_encoded", 'if header :contains "subject" "Grüße" { fileinto "Enc"; }', "encoded")
case("header_encoded_from", 'if header :contains "from" "Jürgen" { fileinto "J"; }', "encoded")
case("address_all", 'if address :is "from" "alice@example.com" { fileinto "A"; }')
case("address_domain", 'if address :domain :is "to" "example.net" { fileinto "D"; }')
case("address_localpart", 'if address :localpart :is "cc" "dave" { fileinto "L"; }')
case("address_user", 'if address :user "to" "bob" { fileinto "U"; }')
case("address_detail", 'if address :detail "to" "lists" { fileinto "Det"; }')
case("address_detail_none", 'if address :detail :matches "cc" "*" { fileinto "N"; }')
case("address_matches_domain", 'if address :domain :matches "cc" "*.example.org" { fileinto "Sub"; }')
case("envelope_from", 'if envelope :is "from" "sender@example.com" { fileinto "EF"; }')
case("envelope_to_detail", 'if envelope :detail "to" "lists" { fileinto "ET"; }')
case("envelope_domain", 'if envelope :domain :contains "to" "EXAMPLE" { fileinto "ED"; }')
case("envelope_from_matches", 'if envelope :matches :localpart "from" "s*r" { fileinto "${1}"; }')
case("exists", 'if exists ["subject", "message-id"] { fileinto "E"; }')
case("exists_missing", 'if exists ["subject", "x-nope"] { fileinto "E"; }')
case("size_over", 'if size :over 100 { fileinto "Big"; }')
case("size_under", 'if size :under 1K { fileinto "Small"; }')
# --- relational / comparators -----------------------------------------------------------
case("count_header", 'if header :count "ge" :comparator "i;ascii-numeric" "x-spam-score" "2" { fileinto "Two"; }')
case("value_numeric", 'if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "10" { fileinto "Spam"; }')
case("value_numeric_lt", 'if header :value "lt" :comparator "i;ascii-numeric" "x-spam-score" "5" { fileinto "Low"; }')
case("count_address", 'if address :count "eq" :comparator "i;ascii-numeric" "to" "2" { fileinto "TwoTo"; }')
case("value_string", 'if header :value "lt" "subject" "Zebra" { fileinto "Before"; }')
case("numeric_is", 'if header :is :comparator "i;ascii-numeric" "x-spam-score" "007" { fileinto "Seven"; }')
# --- variables --------------------------------------------------------------------------------
case("set_expand", 'set "box" "Lists"; fileinto "${box}";')
case("matches_vars", 'if header :matches "subject" "* *" { fileinto "${2}-${1}"; }')
case("regex_vars", 'if header :regex "subject" "^(H[a-z]+) (W.*)$" { fileinto "${2}"; }')
case("set_modifiers", 'set :upperfirst :lower "v" "hELLO"; set :length "n" "abcd"; fileinto "${v}${n}";')
case("string_test", 'set "a" "x"; if string :is "${a}" "x" { fileinto "Str"; }')
case("string_count", 'if string :count "eq" :comparator "i;ascii-numeric" ["a", "", "b"] "2" { fileinto "Cnt"; }')
case("unknown_var_empty", 'fileinto "a${nothing}b";')
case("literal_dollar", 'fileinto "a${b";')
case("quotewildcard", 'set :quotewildcard "p" "a*b"; if string :matches "a*b" "${p}" { fileinto "QW"; }')
case("match_var_from_address", 'if address :matches :localpart "from" "al*" { fileinto "${1}"; }')
# --- body / regex / encoded-character / imap4flags ------------------------------------------------
case("body_text", 'if body :text :contains "secret" { fileinto "Body"; }')
case("body_raw", 'if body :raw :contains "with a secret" { fileinto "Raw"; }')
case("body_content_html", 'if body :content "text/html" :contains "<b>" { fileinto "Html"; }', "multipart")
case("body_text_multipart", 'if body :text :contains "invoice" { fileinto "Inv"; }', "multipart")
case("regex_case", 'if header :regex "subject" "hello +world" { fileinto "R"; }')
case("regex_octet", 'if header :regex :comparator "i;octet" "subject" "hello" { fileinto "R"; }')
case("encoded_hex", 'fileinto "${hex:42 6f 78}";')
case("encoded_unicode", 'if header :contains "subject" "${unicode:00fc}" { fileinto "U"; }', "encoded")
case("flags_keep", 'addflag "\\\\Flagged"; keep;')
case("flags_implicit", 'setflag ["\\\\Seen", "work"]; removeflag "work";')
case("flags_fileinto_tag", 'fileinto :flags ["\\\\Seen", "\\\\Answered"] "F";')
case("hasflag", 'addflag "urgent"; if hasflag :is "urgent" { fileinto "Urgent"; }')
case("flags_var", 'addflag "mine" "a b"; addflag "mine" "b c"; fileinto "${mine}";')
# --- include ---------------------------------------------------------------------------------------------
case("include", 'require "include"; include "sub"; fileinto "main";',
     extra={"sub": 'require "fileinto"; fileinto "Sub";'})
case("include_return", 'require "include"; include "sub"; fileinto "after";',
     extra={"sub": 'require ["include", "fileinto"]; fileinto "S1"; return; fileinto "S2";'})
case("include_global", 'require ["include", "variables"]; global "g"; set "g" "G"; include "sub";',
     extra={"sub": 'require ["include", "variables", "fileinto"]; global "g"; fileinto "${g}";'})
case("include_once", 'require "include"; include :once "sub"; include :once "sub";',
     extra={"sub": 'require "fileinto"; fileinto "Once";'})
case("include_optional_missing", 'require "include"; include :optional "nope"; keep;')
case("include_loop", 'require "include"; include "loop";',
     extra={"loop": 'require "include"; include "loop";'})
# --- compile errors ---------------------------------------------------------------------------------------
case("err_unknown_command", "frobnicate;")
case("err_missing_require", 'fileinto "x";', prelude="")
case("err_unknown_ext", 'require "no-such-ext";', prelude="")
case("err_syntax", 'if true { keep;', prelude="")
case("err_bad_redirect", 'redirect "not an address";')
case("err_numeric_contains", 'if header :contains :comparator "i;ascii-numeric" "a" "1" { keep; }')
