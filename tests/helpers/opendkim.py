"""The real OpenDKIM tools for DKIM tests: keys from opendkim-genkey, opendkim-testmsg.

    key = genkey(tmp_path, "example.test", "s1")   # DkimKey: private path, TXT, raw record
    with start_dns(raw=[key.dns_raw]) as dns: ...  # publish it in the test DNS server
    opendkim_sign(message, key)                     # opendkim signs (no DNS needed)
    opendkim_verify(signed, [key])                  # -> (returncode, stderr)

opendkim-testmsg verifies through libc's resolver, which only talks to port 53 of
the servers in /etc/resolv.conf. So ``opendkim_verify`` runs it inside a private
network and mount namespace (``unshare --net --mount``, root only): loopback up, a
resolv.conf bind-mounted over /etc/resolv.conf, and dnsmasq serving the key records
on 127.0.0.1:53 *of that namespace* -- no fixed port of the host is ever used.
Missing tools or namespaces skip the test with how to get them (fail under CI=true).
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .tools import find_tool, missing


def _tool(name: str) -> str:
    path = find_tool(name)
    if path is None:
        missing(f"'{name}' not found: run `make setup` or `apt-get install opendkim-tools`")
    return path


@dataclass(frozen=True)
class DkimKey:
    domain: str
    selector: str
    private: Path
    txt: str        # the record text: "v=DKIM1; h=sha256; k=rsa; p=..."

    @property
    def name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def dns_raw(self) -> tuple[str, int, str]:
        """``start_dns(raw=[...])`` form: TXT (16) as <len><text> strings of <= 255 bytes."""
        data = self.txt.encode()
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)]
        return self.name, 16, "".join(f"{len(c):02x}{c.hex()}" for c in chunks)


def genkey(directory: Path, domain: str, selector: str, bits: int = 1024) -> DkimKey:
    """A key pair made by the real opendkim-genkey in ``directory/domain``."""
    target = Path(directory) / domain
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run([_tool("opendkim-genkey"), "-b", str(bits), "-d", domain, "-s", selector,
                    "-D", str(target)], check=True, capture_output=True, timeout=30)
    zone = (target / f"{selector}.txt").read_text()
    txt = "".join(re.findall(r'"([^"]*)"', zone))
    private = target / f"{selector}.key"
    (target / f"{selector}.private").rename(private)
    return DkimKey(domain, selector, private, txt)


def opendkim_sign(message: bytes, key: DkimKey) -> bytes:
    """The message signed by opendkim-testmsg (CRLF lines kept with -C)."""
    done = subprocess.run([_tool("opendkim-testmsg"), "-C", "-d", key.domain, "-s", key.selector,
                           "-k", str(key.private)], input=message, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def opendkim_verify(message: bytes, keys: list[DkimKey]) -> tuple[int, str]:
    """Run opendkim-testmsg (verify mode) with ``keys`` in DNS; (exit code, stderr)."""
    unshare, testmsg, dnsmasq = _tool("unshare"), _tool("opendkim-testmsg"), _tool("dnsmasq")
    probe = subprocess.run([unshare, "--net", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        missing("opendkim-testmsg verification needs `unshare --net --mount` (run as root): "
                + probe.stderr.decode(errors="replace").strip())
    work = Path(tempfile.mkdtemp(prefix="dkimv-"))
    try:
        (work / "resolv.conf").write_text("nameserver 127.0.0.1\n")
        (work / "message.eml").write_bytes(message)
        records = " ".join(shlex.quote(f"--txt-record={k.name},{k.txt}") for k in keys)
        script = f"""
ip link set lo up || exit 90
mount --bind {work}/resolv.conf /etc/resolv.conf || exit 91
{dnsmasq} --conf-file=/dev/null --pid-file={work}/dnsmasq.pid --port=53 \\
  --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --local=/test/ \\
  {records} || exit 92
{testmsg} < {work}/message.eml
code=$?
kill "$(cat {work}/dnsmasq.pid)"
exit $code
"""
        done = subprocess.run([unshare, "--net", "--mount", "sh", "-c", script],
                              capture_output=True, timeout=30)
        assert done.returncode < 90, done.stderr.decode(errors="replace")
        return done.returncode, done.stderr.decode(errors="replace")
    finally:
        shutil.rmtree(work, ignore_errors=True)
