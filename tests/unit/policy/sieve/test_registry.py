"""registry.py: every Momentum Sieve function is either provided or listed missing with a reason."""
from __future__ import annotations

import json
import os

import pytest

from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.registry import (COMMANDS, FAMILIES, FUNCTIONS, MOMENTUM_MISSING, TESTS,
                                             list_functions)

INVENTORY = "/work/shared/specs/inventory.json"


@pytest.mark.skipif(not os.path.exists(INVENTORY), reason="Momentum inventory not available")
def test_every_momentum_function_is_provided_or_explained():
    with open(INVENTORY) as handle:
        names = [entry["name"] for entry in json.load(handle)["sieve_functions"]]
    provided = set(FUNCTIONS) | set(COMMANDS) | set(TESTS) | set(FAMILIES)
    unexplained = [n for n in names if n not in provided and n not in MOMENTUM_MISSING]
    assert unexplained == []
    assert not set(MOMENTUM_MISSING) & provided  # never both
    assert len([n for n in names if n in provided]) >= 98


def test_listing_reflects_the_tables():
    lines = list_functions()
    assert "function hash_get" in lines and "test is_true" in lines and "command keep" in lines
    assert any(line.startswith("family ec_shared_throttle = ") for line in lines)
    missing = [line for line in lines if line.startswith("missing ")]
    assert len(missing) == len(MOMENTUM_MISSING)
    assert any(line.startswith("missing brightmail: needs a module") for line in missing)


def test_a_momentum_function_name_may_be_required():
    compile_script('require ["ec_throttle", "hash_create", "ec_maildir"]; hash_create "h";')
