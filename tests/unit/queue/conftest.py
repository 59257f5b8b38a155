"""Fixtures the queue manager's unit tests share (test_manager*.py, test_bindings.py,
test_deferral.py, test_delay_notices.py): ``rigs`` makes real queue rigs
(queue_fakes.Rig: real spool and config, scripted engine, ManualClock) in tmp_path and
closes every one at teardown, opening a held engine gate first so no delivery greenlet
is left blocked. Test modules name the fixture as an argument and never import it."""
import pytest

from tests.unit.queue.queue_fakes import Rig


@pytest.fixture
def rigs(tmp_path):
    """``rig = rigs(config_text="", **Rig_kwargs)``: a new Rig under tmp_path/r<N>."""
    made = []

    def make(config_text="", **kwargs):
        rig = Rig(tmp_path / f"r{len(made)}", config_text, **kwargs)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        if rig.engine.gate is not None:
            rig.engine.gate.set()
        rig.close()
