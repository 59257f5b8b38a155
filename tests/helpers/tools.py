"""External tools the tests drive (swaks, smtp-source, dnsmasq...): find them or say how to get them.

A missing tool skips the test with the command that installs it; under CI (CI=true)
a missing tool is a failure, never a skip, so a broken bootstrap cannot hide.
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest

# tool -> Debian package that provides it (tools/debian-packages.txt installs them all)
DEBIAN_PACKAGE = {
    "swaks": "swaks",
    "smtp-source": "postfix",
    "smtp-sink": "postfix",
    "postfix": "postfix",
    "dnsmasq": "dnsmasq",
    "openssl": "openssl",
    "pflogsumm": "pflogsumm",
    "eximstats": "exim4-base (only the script: tools/bootstrap.sh extracts it)",
    "sieve-test": "dovecot-sieve",
    "logwatch": "logwatch",
    "sma": "sma",
    "curl": "curl",
}
# sbin dirs (root's tools when PATH lacks them) and the venv's bin (eximstats is put there)
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin", os.path.join(sys.prefix, "bin"))


def find_tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN_DIRS:
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    return None


def missing(reason: str) -> None:
    """Skip with ``reason`` (which says how to install); under CI=true, fail instead."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing tool is a failure)")
    pytest.skip(reason)


def need_tool(name: str) -> str:
    """Return the tool's path; skip (or fail under CI=true) with how to install it."""
    path = find_tool(name)
    if path:
        return path
    pkg = DEBIAN_PACKAGE.get(name, name)
    missing(f"'{name}' not found: run `make setup` or `apt-get install {pkg}`")
    raise AssertionError("unreachable")
