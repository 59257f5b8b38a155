"""Console authentication: the SCRAM-SHA-256 exchange and the console password file.

Who calls it: server.py (the server half: ``ScramServer``), client.py (the client half:
``client_first``/``client_proof``), ``python -m ecelerity.control.passwd`` (makes file lines).

The exchange (framed by protocol.py, described there) follows RFC 5802's SCRAM without the
GS2 header: the password never crosses the wire and the server stores no password, only
``StoredKey``/``ServerKey`` derived with PBKDF2-HMAC-SHA256 from a per-user salt.

Password file: one user a line, ``#`` comments and blank lines ignored::

    alice:scram-sha-256$4096$<salt b64>$<StoredKey b64>$<ServerKey b64>:admin,ops

The third field lists the user's roles (comma-separated, may be empty). The file is named by
the Control_Listener's ``AuthDigestMD5Parameters = [ uri = "digest:///path" ]`` (Momentum's
spelling; ``file://`` and a bare path work too; relative paths are from the daemon's
directory). Never logs or returns a secret; never raises on a bad line (it is skipped and
reported by ``load_password_file``'s problems list).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass, field

MECHANISM = "SCRAM-SHA-256"
SCHEME = "scram-sha-256"
DEFAULT_ITERATIONS = 4096
MIN_ITERATIONS = 1000
NONCE_BYTES = 18


class AuthError(Exception):
    """The exchange failed; str() is safe to show (no secret in it)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise AuthError("bad base64 in the exchange") from None


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=False))


def new_nonce() -> str:
    return base64.urlsafe_b64encode(os.urandom(NONCE_BYTES)).decode("ascii")


@dataclass(frozen=True)
class Verifier:
    """What the server keeps for one user (never the password)."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def render(self) -> str:
        return (f"{SCHEME}${self.iterations}${_b64(self.salt)}$"
                f"{_b64(self.stored_key)}${_b64(self.server_key)}")


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def make_verifier(password: str, *, salt: bytes | None = None,
                  iterations: int = DEFAULT_ITERATIONS) -> Verifier:
    salt = os.urandom(16) if salt is None else salt
    salted = salted_password(password, salt, iterations)
    client_key = _hmac(salted, b"Client Key")
    return Verifier(salt, iterations, hashlib.sha256(client_key).digest(), _hmac(salted, b"Server Key"))


def parse_verifier(text: str) -> Verifier:
    parts = text.split("$")
    if len(parts) != 5 or parts[0].lower() != SCHEME or not parts[1].isdigit():
        raise ValueError(f"not a {SCHEME}$ITERATIONS$SALT$STOREDKEY$SERVERKEY verifier")
    try:
        salt, stored, server = (base64.b64decode(p, validate=True) for p in parts[2:])
    except ValueError:
        raise ValueError("bad base64 in the verifier") from None
    if int(parts[1]) < MIN_ITERATIONS or len(stored) != 32 or len(server) != 32:
        raise ValueError(f"verifier needs >= {MIN_ITERATIONS} iterations and 32-byte keys")
    return Verifier(salt, int(parts[1]), stored, server)


@dataclass(frozen=True)
class ConsoleUser:
    name: str
    verifier: Verifier
    roles: tuple[str, ...] = ()


@dataclass
class PasswordFile:
    path: str
    users: dict[str, ConsoleUser] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "path:line: why" of skipped lines


def password_line(user: str, password: str, roles: list[str] | tuple[str, ...] = (), *,
                  iterations: int = DEFAULT_ITERATIONS) -> str:
    """One password-file line for ``user`` (no newline)."""
    if not user or any(ch in user for ch in ":\n\r \t"):
        raise ValueError(f"bad console user name {user!r}")
    return f"{user}:{make_verifier(password, iterations=iterations).render()}:{','.join(roles)}"


def parse_password_text(text: str, path: str = "<string>") -> PasswordFile:
    result = PasswordFile(path)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) not in (2, 3) or not fields[0]:
            result.problems.append(f"{path}:{number}: expected user:verifier[:roles]")
            continue
        try:
            verifier = parse_verifier(fields[1])
        except ValueError as exc:
            result.problems.append(f"{path}:{number}: {exc}")
            continue
        roles = tuple(r.strip() for r in (fields[2] if len(fields) == 3 else "").split(",") if r.strip())
        result.users[fields[0]] = ConsoleUser(fields[0], verifier, roles)
    return result


_CACHE: dict[str, tuple[tuple[int, int], PasswordFile]] = {}


def load_password_file(path: str) -> PasswordFile:
    """The parsed file, re-read only when its mtime or size changed; OSError when unreadable.
    A file modified in the last 2 s is always re-read: the kernel's mtime ticks are coarse
    (a few ms), so two edits in one tick with the same size would look unchanged ("racy git")."""
    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == stamp and time.time_ns() - st.st_mtime_ns > 2_000_000_000:
        return cached[1]
    with open(path, encoding="utf-8") as handle:
        parsed = parse_password_text(handle.read(), path)
    _CACHE[path] = (stamp, parsed)
    return parsed


def password_file_path(params: object) -> str | None:
    """The path in ``[ uri = "digest:///path" ]`` (or file://, or a bare path)."""
    if not isinstance(params, dict):
        return None
    uri = params.get("uri") or params.get("file") or params.get("path")
    if not isinstance(uri, str) or not uri:
        return None
    for prefix in ("digest://", "file://"):
        if uri.startswith(prefix):
            return uri[len(prefix):] or None
    return uri


# -- the server half -------------------------------------------------------------------
_FAKE_KEY = os.urandom(32)  # per process: fake salts for unknown users stay stable


class ScramServer:
    """One exchange: ``first(user, client_nonce) -> challenge``, ``finish(proof) -> signature``."""

    def __init__(self, lookup) -> None:
        self._lookup = lookup  # user name -> ConsoleUser | None
        self.user: ConsoleUser | None = None
        self.name = ""
        self._auth_message = b""
        self._verifier: Verifier | None = None

    def first(self, user: str, client_nonce: str) -> str:
        """The challenge ``<salt b64> <iterations> <nonce>`` (a fake one for unknown users)."""
        if not user or not client_nonce or len(client_nonce) > 200:
            raise AuthError("usage: AUTH SCRAM-SHA-256 <user> <client nonce>")
        self.name = user
        found = self._lookup(user)
        if found is None:
            salt = _hmac(_FAKE_KEY, user.encode("utf-8"))[:16]
            self._verifier = Verifier(salt, DEFAULT_ITERATIONS, os.urandom(32), os.urandom(32))
        else:
            self.user, self._verifier = found, found.verifier
        nonce = client_nonce + new_nonce()
        challenge = f"{_b64(self._verifier.salt)} {self._verifier.iterations} {nonce}"
        self._auth_message = f"{user},{client_nonce},{challenge}".encode("utf-8")
        return challenge

    def finish(self, proof_b64: str) -> str:
        """Check the client's proof; return the server signature (b64) or raise AuthError."""
        verifier = self._verifier
        if verifier is None:
            raise AuthError("no exchange in progress")
        proof = _unb64(proof_b64)
        signature = _hmac(verifier.stored_key, self._auth_message)
        client_key = _xor(proof, signature)
        good = len(proof) == 32 and hmac.compare_digest(hashlib.sha256(client_key).digest(),
                                                        verifier.stored_key)
        if not good or self.user is None:
            raise AuthError("authentication failed")
        return _b64(_hmac(verifier.server_key, self._auth_message))


# -- the client half -------------------------------------------------------------------
def client_proof(user: str, password: str, client_nonce: str, challenge: str) -> tuple[str, bytes]:
    """(proof b64, the server signature to expect) for the server's ``challenge``."""
    try:
        salt_b64, iterations_text, nonce = challenge.split(" ")
        iterations = int(iterations_text)
    except ValueError:
        raise AuthError(f"bad challenge from the server: {challenge[:80]!r}") from None
    if not nonce.startswith(client_nonce) or len(nonce) <= len(client_nonce):
        raise AuthError("the server's nonce does not extend ours")
    if not MIN_ITERATIONS <= iterations <= 10_000_000:
        raise AuthError(f"the server asks for {iterations} iterations")
    salted = salted_password(password, _unb64(salt_b64), iterations)
    client_key = _hmac(salted, b"Client Key")
    auth_message = f"{user},{client_nonce},{challenge}".encode("utf-8")
    signature = _hmac(hashlib.sha256(client_key).digest(), auth_message)
    expected = _hmac(_hmac(salted, b"Server Key"), auth_message)
    return _b64(_xor(client_key, signature)), expected


def check_server_signature(expected: bytes, given_b64: str) -> None:
    if not hmac.compare_digest(expected, _unb64(given_b64)):
        raise AuthError("the server could not prove it knows the password file (signature mismatch)")
