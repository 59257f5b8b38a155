"""Throwaway X.509 material for TLS tests: a CA, a server cert and a client cert.

    pki = make_pki(tmp_path)          # runs the `openssl` CLI into tmp_path/pki
    pki.server_cert, pki.server_key   # CN=localhost, SAN localhost + 127.0.0.1 + ::1
    pki.client_cert, pki.client_key   # CN=test-client, signed by the same CA
    pki.ca_cert                       # what a client (or tls_client_ca) trusts

Used by the STARTTLS/AUTH/swaks tests only. Keys are 2048-bit RSA (fast to make,
accepted by OpenSSL's default security level). Never writes outside the given dir
and never touches a system trust store.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .tools import need_tool


@dataclass(frozen=True)
class PKI:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca_cert: Path  # a CA that signed nothing we present: verification against it fails


def _run(openssl: str, *args: str, cwd: Path) -> None:
    out = subprocess.run([openssl, *args], cwd=str(cwd), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {out.stderr.strip()}")


def _make_ca(openssl: str, directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _run(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.name,
         "-out", cert.name, "-days", "2", "-subj", f"/CN=ecelerity test {name}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    return cert, key


def _make_leaf(openssl: str, directory: Path, name: str, cn: str, ext: str,
               ca: tuple[Path, Path]) -> tuple[Path, Path]:
    key, csr, cert = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.pem"
    extfile = directory / f"{name}.ext"
    extfile.write_text(ext)
    _run(openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.name, "-out", csr.name,
         "-subj", f"/CN={cn}", cwd=directory)
    _run(openssl, "x509", "-req", "-in", csr.name, "-CA", ca[0].name, "-CAkey", ca[1].name,
         "-CAcreateserial", "-out", cert.name, "-days", "2", "-extfile", extfile.name, cwd=directory)
    return cert, key


def make_pki(base: Path) -> PKI:
    """Create the CA, server and client certificates under ``base/pki``."""
    openssl = need_tool("openssl")
    directory = Path(base) / "pki"
    directory.mkdir(parents=True, exist_ok=True)
    ca = _make_ca(openssl, directory, "ca")
    other = _make_ca(openssl, directory, "other-ca")
    server = _make_leaf(openssl, directory, "server", "localhost",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1\n"
                        "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n", ca)
    client = _make_leaf(openssl, directory, "client", "test-client",
                        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n", ca)
    return PKI(ca_cert=ca[0], ca_key=ca[1], server_cert=server[0], server_key=server[1],
               client_cert=client[0], client_key=client[1], other_ca_cert=other[0])
