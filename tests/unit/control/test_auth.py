"""ecelerity/control/auth.py: SCRAM-SHA-256 both halves, verifiers, the password file."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.control import auth

FAST = 1000  # the minimum iterations: keeps the tests quick


def users_with(name, password, roles=()):
    line = auth.password_line(name, password, roles, iterations=FAST)
    parsed = auth.parse_password_text(line)
    return parsed.users.get


def exchange(lookup, user, password):
    server = auth.ScramServer(lookup)
    nonce = auth.new_nonce()
    challenge = server.first(user, nonce)
    proof, expected = auth.client_proof(user, password, nonce, challenge)
    signature = server.finish(proof)
    auth.check_server_signature(expected, signature)
    return server


def test_right_password_authenticates_and_both_sides_prove_themselves():
    server = exchange(users_with("alice", "s3cret", ["ops", "admin"]), "alice", "s3cret")
    assert server.user.name == "alice"
    assert server.user.roles == ("ops", "admin")


def test_wrong_password_and_unknown_user_fail_the_same_way():
    lookup = users_with("alice", "s3cret")
    with pytest.raises(auth.AuthError, match="authentication failed"):
        exchange(lookup, "alice", "wrong")
    with pytest.raises(auth.AuthError, match="authentication failed"):
        exchange(lookup, "mallory", "s3cret")


def test_unknown_user_gets_a_stable_plausible_challenge():
    lookup = users_with("alice", "pw")
    first = auth.ScramServer(lookup).first("bob", "n1").split(" ")
    second = auth.ScramServer(lookup).first("bob", "n2").split(" ")
    assert first[0] == second[0] and first[1] == str(auth.DEFAULT_ITERATIONS)
    assert first[2].startswith("n1") and second[2].startswith("n2")


def test_a_replayed_proof_fails_against_a_fresh_server_nonce():
    lookup = users_with("alice", "pw")
    server = auth.ScramServer(lookup)
    challenge = server.first("alice", "abc")
    proof, _ = auth.client_proof("alice", "pw", "abc", challenge)
    server.finish(proof)
    again = auth.ScramServer(lookup)
    again.first("alice", "abc")
    with pytest.raises(auth.AuthError):
        again.finish(proof)


def test_client_refuses_a_nonce_that_does_not_extend_its_own_and_a_bad_signature():
    with pytest.raises(auth.AuthError, match="nonce"):
        auth.client_proof("a", "pw", "mine", "c2FsdA== 4096 othernonce")
    with pytest.raises(auth.AuthError, match="iterations"):
        auth.client_proof("a", "pw", "mine", "c2FsdA== 5 mineX")
    with pytest.raises(auth.AuthError, match="signature"):
        auth.check_server_signature(b"x" * 32, base64.b64encode(b"y" * 32).decode())


def test_verifier_matches_rfc_5802_derivation():
    salt = b"0123456789abcdef"
    verifier = auth.make_verifier("pencil", salt=salt, iterations=FAST)
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, FAST)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert verifier.stored_key == hashlib.sha256(client_key).digest()
    assert verifier.server_key == hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert auth.parse_verifier(verifier.render()) == verifier


def test_password_file_lines_comments_and_problems(tmp_path):
    good = auth.password_line("ops1", "pw", ["ops"], iterations=FAST)
    text = f"# console users\n\n{good}\nbroken line\nbob:scram-sha-256$10$AA==$AA==$AA==:x\n"
    path = tmp_path / "passwd"
    path.write_text(text)
    parsed = auth.load_password_file(str(path))
    assert list(parsed.users) == ["ops1"] and parsed.users["ops1"].roles == ("ops",)
    assert parsed.problems[0] == f"{path}:4: expected user:verifier[:roles]"
    assert parsed.problems[1].startswith(f"{path}:5: verifier needs >= 1000 iterations")
    assert "pw" not in path.read_text().split(":")[1]
    path.write_text(good.replace("ops1", "ops2") + "\n")
    assert list(auth.load_password_file(str(path)).users) == ["ops2"]  # re-read when changed


def test_password_file_path_from_momentum_parameters():
    assert auth.password_file_path({"uri": "digest:///etc/console_passwd"}) == "/etc/console_passwd"
    assert auth.password_file_path({"uri": "file://rel/p"}) == "rel/p"
    assert auth.password_file_path({"uri": "plain/path"}) == "plain/path"
    assert auth.password_file_path(None) is None and auth.password_file_path({}) is None


def test_bad_user_names_are_refused():
    for name in ("", "a:b", "a b"):
        with pytest.raises(ValueError):
            auth.password_line(name, "pw")


@settings(max_examples=25, deadline=None)
@given(password=st.text(min_size=1, max_size=30), other=st.text(min_size=1, max_size=30))
def test_only_the_right_password_passes(password, other):
    lookup = users_with("u", password)
    exchange(lookup, "u", password)
    if other != password:
        with pytest.raises(auth.AuthError):
            exchange(lookup, "u", other)
