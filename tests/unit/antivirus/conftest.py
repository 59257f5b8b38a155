"""A real clamd per test module (tests/helpers/clamd.py), shared by the read-only tests."""
import pytest

from tests.helpers.clamd import start_clamd


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with start_clamd(tmp_path_factory.mktemp("clamd")) as server:
        yield server
