"""The default SMTP AUTH backend: users with salted password hashes in the configuration.

    auth_users = [ alice = "{PBKDF2-SHA256}600000$c2FsdA==$..." ]
    auth_users = [ bob = "{PBKDF2-SHA256}... {CRAM-MD5}a1b2...(64 hex)" ]

An entry holds one or more ``{SCHEME}value`` tokens separated by blanks:

- ``{PBKDF2-SHA256}<iterations>$<salt b64>$<key b64>`` -- what ``hash_password``
  makes (the default, 100000 iterations, 16-byte random salt);
- ``{SSHA256}`` / ``{SSHA512}`` -- base64(digest(password + salt) + salt), as written
  by Dovecot's ``doveadm pw`` and OpenLDAP (verify only; a fast hash, prefer PBKDF2);
- ``{CRAM-MD5}<64 hex>`` -- for AUTH CRAM-MD5. CRAM-MD5 needs HMAC-MD5 keyed with
  the password, so a one-way hash cannot serve it. We store the two MD5 chaining
  states after the HMAC key blocks (key XOR ipad, key XOR opad), as Dovecot does:
  enough to answer CRAM-MD5 challenges, but not the password itself, so it cannot be
  used for PLAIN/LOGIN on another system that keeps a salted hash. It is still a
  password equivalent *for CRAM-MD5*: protect the configuration file accordingly.

The MD5 arithmetic behind ``{CRAM-MD5}`` is smtp/cram_md5.py (re-exported here).
Make entries with ``python -m ecelerity.smtp.auth_backends [--cram-md5]`` (reads the
password from the terminal or stdin, prints the value).

Named schemes (``SchemeBackend``): a listener whose ``AuthPlainParameters`` /
``AuthLoginParameters`` say ``[ uri = "myscheme://some/file?key=value" ]`` has
PLAIN/LOGIN credentials checked by the scheme registered under ``myscheme``
(``register_scheme``; Lua's ``msys.registerAuth`` through policy/lua/lib_auth.py).
The scheme gets (filename, params, user, password) -- filename is the URI's path,
params its query plus the dictionary's other keys -- and answers ``AUTH_OK``,
``AUTH_FAIL`` or ``AUTH_ERROR`` (a temporary failure: ``454 4.7.0``). A URI naming
no registered scheme leaves the decision to the next backend. ``scheme_groups``
gives a scheme's groups for a user (control-channel authorization roles).

Called by smtp/auth.py only; hash checks and schemes run in gevent's threadpool
(a scheme that must run on the hub hops there itself). Never logs or stores a
plaintext password.
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import sys
import threading
import urllib.parse
from typing import Any, Protocol

# MD5 with a resumable state, for the {CRAM-MD5} values: smtp/cram_md5.py (re-exported)
from .cram_md5 import MD5_IV as MD5_IV
from .cram_md5 import cram_md5_digest as cram_md5_digest
from .cram_md5 import cram_md5_key
from .cram_md5 import md5_resume as md5_resume

DEFAULT_ITERATIONS = 100_000
_SCHEMES_PLAIN = ("PBKDF2-SHA256", "SSHA256", "SSHA512")


# -- salted hashes ----------------------------------------------------------------------
def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """A ``{PBKDF2-SHA256}`` value for ``password`` (random 16-byte salt unless given)."""
    salt = os.urandom(16) if salt is None else salt
    key = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{{PBKDF2-SHA256}}{iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def split_entry(entry: str) -> dict[str, str]:
    """``"{A}x {B}y"`` -> ``{"A": "x", "B": "y"}`` (scheme names upper-cased)."""
    tokens: dict[str, str] = {}
    for token in str(entry).split():
        if token.startswith("{") and "}" in token:
            scheme, _, value = token[1:].partition("}")
            tokens[scheme.upper()] = value
    return tokens


def _check_scheme(scheme: str, value: str, password: str) -> bool:
    secret = password.encode("utf-8")
    try:
        if scheme == "PBKDF2-SHA256":
            iterations, salt_b64, key_b64 = value.split("$")
            expected = base64.b64decode(key_b64, validate=True)
            got = hashlib.pbkdf2_hmac("sha256", secret, base64.b64decode(salt_b64, validate=True),
                                      int(iterations))
            return hmac.compare_digest(got, expected)
        if scheme in ("SSHA256", "SSHA512"):
            algo, size = ("sha256", 32) if scheme == "SSHA256" else ("sha512", 64)
            raw = base64.b64decode(value, validate=True)
            digest, salt = raw[:size], raw[size:]
            return hmac.compare_digest(hashlib.new(algo, secret + salt).digest(), digest)
        if scheme == "CRAM-MD5":
            return hmac.compare_digest(cram_md5_key(password), value.lower())
    except (ValueError, TypeError):
        return False
    return False


def check_password(entry: str, password: str) -> bool:
    """True when ``password`` matches the entry (a salted scheme first, else its CRAM-MD5 key)."""
    tokens = split_entry(entry)
    for scheme in _SCHEMES_PLAIN + ("CRAM-MD5",):
        if scheme in tokens:
            return _check_scheme(scheme, tokens[scheme], password)
    return False


_dummy_entry: list[str] = []


def _dummy() -> str:
    if not _dummy_entry:
        _dummy_entry.append(hash_password("never-a-password", salt=b"\x00" * 16))
    return _dummy_entry[0]


class ConfigUsersBackend:
    """Users from the ``auth_users`` option (``[ user = "{SCHEME}..." ]``)."""

    name = "auth_users"

    def _users(self, settings: Any) -> dict[str, str]:
        users = getattr(settings, "auth_users", None) or {}
        return {str(k): str(v) for k, v in dict(users).items()}

    def check_password(self, user: str, password: str, settings: Any) -> bool | None:
        """True/False for a known user; None when the user is not ours (next backend)."""
        entry = self._users(settings).get(user)
        if entry is None:
            check_password(_dummy(), password)  # same cost as a real user: no user-probing by timing
            return None
        return check_password(entry, password)

    def cram_md5_key(self, user: str, settings: Any) -> str | None:
        entry = self._users(settings).get(user)
        return None if entry is None else split_entry(entry).get("CRAM-MD5")

    def supports_cram_md5(self, settings: Any) -> bool:
        return any("CRAM-MD5" in split_entry(e) for e in self._users(settings).values())


# -- named schemes (AuthPlainParameters / AuthLoginParameters uri = "scheme://...") -------
AUTH_OK, AUTH_FAIL, AUTH_ERROR = "ok", "fail", "error"
SCHEME_OPTIONS = ("authplainparameters", "authloginparameters")


class AuthScheme(Protocol):
    """What ``register_scheme`` takes (policy/lua/lib_auth.LuaAuthScheme is one)."""

    def authenticate(self, filename: str, params: dict[str, str], user: str,
                     password: str) -> str: ...

    def groups(self, user: str) -> list[str] | None: ...


class AuthSchemeError(RuntimeError):
    """A scheme could not decide (EC_AUTH_ERROR, a script error): a temporary failure."""


_schemes: dict[str, AuthScheme] = {}
_schemes_lock = threading.Lock()  # registered on the hub, read from threadpool workers


def register_scheme(name: str, scheme: AuthScheme) -> None:
    """Make ``name`` usable as ``uri = "name://..."`` (replaces an earlier one)."""
    with _schemes_lock:
        _schemes[name.lower()] = scheme


def unregister_scheme(name: str, scheme: AuthScheme | None = None) -> None:
    """Forget ``name`` (only if it is still ``scheme``, when one is given)."""
    with _schemes_lock:
        if scheme is None or _schemes.get(name.lower()) is scheme:
            _schemes.pop(name.lower(), None)


def find_scheme(name: str) -> AuthScheme | None:
    with _schemes_lock:
        return _schemes.get(name.lower())


def scheme_names() -> list[str]:
    with _schemes_lock:
        return sorted(_schemes)


def parse_auth_uri(params: Any) -> tuple[str, str, dict[str, str]] | None:
    """``[ uri = "s://path?k=v" other = "x" ]`` -> ("s", "path", {"k": "v", "other": "x"})."""
    if not isinstance(params, dict):
        return None
    uri = params.get("uri")
    if not isinstance(uri, str) or "://" not in uri:
        return None
    scheme, _, rest = uri.partition("://")
    path, _, query = rest.partition("?")
    extra = {str(k): str(v) for k, v in params.items() if k != "uri" and not isinstance(v, (dict, list))}
    extra.update(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return scheme.strip().lower(), urllib.parse.unquote(path), extra


def scheme_groups(scheme: str, user: str) -> list[str] | None:
    """The groups (roles) ``scheme`` gives ``user``; None: unknown scheme or user."""
    found = find_scheme(scheme)
    return None if found is None else found.groups(user)


class SchemeBackend:
    """PLAIN/LOGIN checked by the scheme the listener's parameters name (see the docstring)."""

    name = "auth_schemes"
    takes_mechanism = True  # smtp/auth.py passes PLAIN or LOGIN

    def check_password(self, user: str, password: str, settings: Any,
                       mechanism: str | None = None) -> bool | None:
        options = SCHEME_OPTIONS
        if mechanism is not None:  # the mechanism's own parameters, when the caller says
            options = tuple(o for o in SCHEME_OPTIONS if o.startswith("auth" + mechanism.lower()))
        for option in options:
            parsed = parse_auth_uri(getattr(settings, option, None))
            scheme = find_scheme(parsed[0]) if parsed else None
            if scheme is None:
                continue
            name, filename, params = parsed
            verdict = scheme.authenticate(filename, params, user, password)
            if verdict == AUTH_OK:
                return True
            if verdict == AUTH_FAIL:
                return False
            raise AuthSchemeError(f"auth scheme '{name}' could not decide for user '{user}'")
        return None


SCHEME_BACKEND = SchemeBackend()


def _declare_session_options() -> None:
    from .settings import register_session_option
    for option in SCHEME_OPTIONS:
        register_session_option(option)


_declare_session_options()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecelerity.smtp.auth_backends",
                                     description="print an auth_users value for a password")
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument("--cram-md5", action="store_true", help="also add a {CRAM-MD5} key")
    args = parser.parse_args(argv)
    password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("empty password refused", file=sys.stderr)
        return 1
    value = hash_password(password, iterations=args.iterations)
    if args.cram_md5:
        value += f" {{CRAM-MD5}}{cram_md5_key(password)}"
    print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
