"""Fixtures shared by the delivery tests: a real spool (no fsync) in the test's tmp_path."""
from __future__ import annotations

import pytest

from ecelerity.core.spool import Spool


@pytest.fixture
def spool(tmp_path):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    yield spool
    spool.close()
