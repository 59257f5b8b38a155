"""The speedups switch: ECELERITY_PURE_PYTHON / ECELERITY_REQUIRE_CEXT pick the smtpline twin.

Each case runs a fresh interpreter (the switches are read once, at import), so what
is checked is the real import path: the reference when asked for, the compiled twin
when built, a clear ImportError naming the build command when the twin is required
but missing, and a silent pure fallback when it is only optional.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ecelerity

PACKAGE_DIR = Path(ecelerity.__file__).parent
REPORT = (
    "import ecelerity, ecelerity._speedups.smtpline as s; "
    "print(s.IMPLEMENTATION, s.DataReader.__module__, ecelerity.__file__)"
)


def run_python(code: str, *, cwd: Path = PACKAGE_DIR.parent, **env_overrides: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECELERITY_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def compiled_twin_built() -> bool:
    return importlib.util.find_spec("ecelerity._speedups._c_smtpline") is not None


@pytest.fixture
def package_without_twin(tmp_path: Path) -> Path:
    """A copy of ecelerity/__init__.py and ecelerity/_speedups/*.py, with no compiled file."""
    speedups = tmp_path / "ecelerity" / "_speedups"
    speedups.mkdir(parents=True)
    shutil.copy(PACKAGE_DIR / "__init__.py", tmp_path / "ecelerity" / "__init__.py")
    for source in (PACKAGE_DIR / "_speedups").glob("*.py"):
        shutil.copy(source, speedups / source.name)
    return tmp_path


def test_pure_python_switch_forces_the_reference():
    result = run_python(REPORT, ECELERITY_PURE_PYTHON="1", ECELERITY_REQUIRE_CEXT="1")
    assert result.returncode == 0, result.stderr
    implementation, module, _ = result.stdout.split()
    assert (implementation, module) == ("python", "ecelerity._speedups.smtpline")


def test_compiled_twin_is_used_when_built():
    if not compiled_twin_built():
        if os.environ.get("ECELERITY_REQUIRE_CEXT") == "1":
            pytest.fail("ECELERITY_REQUIRE_CEXT=1 but _c_smtpline is not built (run `make setup`)")
        pytest.skip("compiled twin not built (run `make setup`)")
    result = run_python(REPORT)
    assert result.returncode == 0, result.stderr
    implementation, module, _ = result.stdout.split()
    assert (implementation, module) == ("cython", "ecelerity._speedups._c_smtpline")


def test_required_but_missing_twin_is_an_import_error_saying_how_to_build(package_without_twin):
    result = run_python(
        REPORT,
        cwd=package_without_twin,
        PYTHONPATH=str(package_without_twin),
        ECELERITY_REQUIRE_CEXT="1",
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError:"), result.stderr
    assert "make setup" in last_line and "python setup.py build_ext --inplace" in last_line


def test_missing_optional_twin_falls_back_to_pure_python(package_without_twin):
    result = run_python(REPORT, cwd=package_without_twin, PYTHONPATH=str(package_without_twin))
    assert result.returncode == 0, result.stderr
    implementation, module, package_file = result.stdout.split()
    assert (implementation, module) == ("python", "ecelerity._speedups.smtpline")
    assert Path(package_file).is_relative_to(package_without_twin)  # the copy, not the tree


def test_pure_python_switch_wins_over_require_cext(package_without_twin):
    result = run_python(
        REPORT,
        cwd=package_without_twin,
        PYTHONPATH=str(package_without_twin),
        ECELERITY_REQUIRE_CEXT="1",
        ECELERITY_PURE_PYTHON="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "python"
