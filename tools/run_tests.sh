#!/usr/bin/env bash
# Run the whole test suite twice: once on the compiled speedups (a missing compiled
# module is an error) and once forced onto the pure-Python reference modules.
# pytest's exit status 5 ("no tests collected") is a failure here, never a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTEST=("$VENV/bin/python" -m pytest -q -n 2 --dist loadfile "$@")
status=0
run() {
    local label=$1; shift
    echo "=== tests: $label"
    env "$@" "${PYTEST[@]}"
    local rc=$?
    if [ $rc -eq 5 ]; then echo "tests ($label): no tests collected -- treating as failure"; rc=1; fi
    [ $rc -eq 0 ] || status=$rc
}
run "compiled speedups" ECELERITY_REQUIRE_CEXT=1 ECELERITY_PURE_PYTHON=
run "pure Python" ECELERITY_PURE_PYTHON=1 ECELERITY_REQUIRE_CEXT=
exit $status
