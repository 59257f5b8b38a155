"""Make the repository importable (``ecelerity``, ``tests.helpers``) and hold the fixtures
every test directory shares.

Fixtures here are the ones several test packages use (``daemon_factory``); each one is a
thin wrapper around a plain helper module under tests/helpers/, so a test module uses the
fixture by naming it as an argument and never imports it (no ruff F811 shadowing).
"""
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


@pytest.fixture
def daemon_factory(tmp_path):
    """``d = daemon_factory(config_text, subdir=None, **start_daemon_kwargs)`` starts a real
    daemon (tests/helpers/daemon.start_daemon) in tmp_path (or tmp_path/subdir); every
    daemon started through it is stopped at teardown, also when the test failed."""
    from tests.helpers.daemon import start_daemon

    started = []

    def start(config_text: str, *, subdir: str | None = None, **kwargs):
        daemon = start_daemon(config_text, tmp_path / subdir if subdir else tmp_path, **kwargs)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.__exit__(None, None, None)
