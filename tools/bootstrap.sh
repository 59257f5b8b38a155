#!/usr/bin/env bash
# Install everything ecelerity needs on a fresh Debian machine: the Debian tools listed
# in tools/debian-packages.txt, a .venv with the package (editable) and its test
# dependencies, and the compiled speedups. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

want=$(grep -vE '^\s*(#|$)' tools/debian-packages.txt | awk '{print $1}')
missing=()
for pkg in $want; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" = none ]; then
        echo "bootstrap: cannot install Debian packages (${missing[*]}): not root and no sudo" >&2
    else
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        # Postfix must not ask questions nor start a system instance that takes port 25.
        echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
        # slapd: no system directory (the LDAP tests run their own slapd in a tmp dir)
        echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update -qq
        # Servers the tests start themselves in tmp dirs (PostgreSQL, MariaDB, slapd, clamd)
        # must not start as system services while installing: policy-rc.d says no (101).
        own_policy=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
            $SUDO chmod 755 /usr/sbin/policy-rc.d
            own_policy=1
        fi
        status=0
        $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
        if [ -n "$own_policy" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
        if [ "$status" -ne 0 ]; then echo "bootstrap: apt-get install failed ($status)" >&2; exit "$status"; fi
        if [ -d /run/systemd/system ]; then  # freshclam would fetch signatures from the internet
            $SUDO systemctl disable --now clamav-freshclam.service clamav-daemon.service \
                postgresql.service mariadb.service slapd.service >/dev/null 2>&1 || true
        fi
    fi
fi

# eximstats (the Exim log analyser the compatibility-log tests run) ships in exim4-base,
# which conflicts with postfix (our smtp-source/smtp-sink and benchmark peer). Take only
# the script out of the package instead of installing it.
extract_eximstats() {
    local dest=$1 tmp
    tmp=$(mktemp -d)
    if (cd "$tmp" && apt-get download exim4-base >/dev/null 2>&1) \
        && dpkg-deb -x "$tmp"/exim4-base_*.deb "$tmp/x" \
        && install -m 0755 "$tmp/x/usr/sbin/eximstats" "$dest"; then
        echo "bootstrap: extracted eximstats from exim4-base into $dest"
    else
        echo "bootstrap: could not extract eximstats (apt-get download exim4-base failed)" >&2
    fi
    rm -rf "$tmp"
}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.ecelerity-installed"
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/pip" install -q --upgrade pip setuptools wheel cython
    "$VENV/bin/pip" install -q -e '.[test]'
    touch "$stamp"
fi
[ -x "$VENV/bin/eximstats" ] || extract_eximstats "$VENV/bin/eximstats"
# (Re)build the compiled twins in place whenever a .pyx is newer than its .so.
ECELERITY_REQUIRE_CEXT=1 "$VENV/bin/python" setup.py -q build_ext --inplace >/dev/null
echo "bootstrap: ready ($("$VENV/bin/python" -c 'import ecelerity; print("ecelerity", ecelerity.__version__)'))"
