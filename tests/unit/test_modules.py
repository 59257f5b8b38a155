"""The module registry: the Momentum catalogue, common options, discovery of modules/ files."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ecelerity import modules
from ecelerity.config.tree import Location, Scalar
from ecelerity.config.types import ConfigValueError

INVENTORY = Path("/work/shared/specs/inventory.json")
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["chunk_logger", "apn_logger", "alerting", "dkim",
                                  "maildir", "static-routes"])
def test_known_modules_are_accepted_but_not_implemented(name):
    spec = modules.module_spec(name)
    assert spec is not None
    assert spec.name == name.lower().replace("-", "_")
    assert spec.implemented is False and spec.any_option is True and spec.load is None
    assert spec.doc


def test_made_up_names_are_unknown():
    assert modules.module_spec("no_such_module_xyz") is None
    assert modules.module_spec("../etc/passwd") is None
    assert "no_such_module_xyz" not in modules.known_module_names()


def test_singletons_are_the_documented_anonymous_stanzas():
    assert modules.module_spec("alerting").singleton is True
    assert modules.module_spec("httpsrv").singleton is True
    assert modules.module_spec("ec_logger").singleton is False


@pytest.mark.skipif(not INVENTORY.exists() and os.environ.get("CI") != "true",
                    reason="the reference inventory is only present on the development machine")
def test_catalogue_covers_every_documented_module():
    inventory = json.loads(INVENTORY.read_text())
    known = set(modules.known_module_names())
    for entry in inventory["modules_v4"] + inventory["modules_v2"]:
        head = re.split(r" [–-] ", entry, maxsplit=1)[0].removesuffix(" Module")
        if head.lower().startswith("spf modules"):
            names = ["spf_macros", "spf_v1", "senderid"]
        else:
            names = [head.lower().replace(" ", "_").replace("-", "_")]
        for name in names:
            assert name in known, entry
    for name in inventory["modules_table_v3"]:
        assert name.replace("-", "_") in known, name


def test_every_module_takes_enabled_and_debug_level():
    loc = Location("m.conf", 1, 1)
    for name in modules.known_module_names():
        spec = modules.module_spec(name)
        assert spec.option("Enabled").type.parse(Scalar("false", False, loc)) is False
        assert spec.option("debug_level").type.parse(Scalar("DEBUG", False, loc)) == "debug"
        with pytest.raises(ConfigValueError):
            spec.option("debug_level").type.parse(Scalar("loud", False, loc))


def test_ec_logger_declares_its_documented_options():
    spec = modules.module_spec("ec_logger")
    for log in ("mainlog", "rejectlog", "paniclog", "acctlog"):
        assert spec.option(log).type.name == "path"
        assert spec.option(f"{log}_mode").default == 0o644
    assert spec.option("heartbeat").default == 60
    assert spec.option("log_deliveries").default is True
    assert all(opt.scopes == {"module"} for opt in spec.options.values())


def test_register_module_replaces_the_catalogue_entry():
    name = f"zz_registered_{uuid.uuid4().hex[:8]}"
    spec = modules.ModuleSpec(name=name.upper(), singleton=True, implemented=True, doc="test")
    modules.register_module(spec)
    assert modules.module_spec(name) is spec
    assert spec.name == name and name in modules.known_module_names()


def _fake_modules_package(tmp_path: Path, monkeypatch, files: dict[str, str]) -> None:
    """A real ``ecelerity_modules`` package on disk, installed in place of the real one."""
    root = tmp_path / "ecelerity_modules"
    root.mkdir()
    (root / "__init__.py").write_text('"""test modules"""\n')
    for filename, text in files.items():
        (root / filename).write_text(text)
    spec = importlib.util.spec_from_file_location(
        "ecelerity_modules", root / "__init__.py", submodule_search_locations=[str(root)])
    package = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package)
    monkeypatch.setitem(sys.modules, "ecelerity_modules", package)


def test_a_module_file_registers_itself_through_MODULE(tmp_path, monkeypatch):
    name = f"zz_discovered_{uuid.uuid4().hex[:8]}"
    _fake_modules_package(tmp_path, monkeypatch, {f"{name}.py": (
        "from ecelerity.modules import ModuleSpec, module_option\n"
        "from ecelerity.config.types import COUNT\n"
        f"MODULE = ModuleSpec(name='{name}', singleton=False, implemented=True, doc='x',\n"
        "    options={'limit': module_option('Limit', COUNT, 5, 'a limit')},\n"
        "    load=lambda instance, settings: None)\n")})
    spec = modules.module_spec(name.upper())
    assert spec is not None and spec.implemented and not spec.any_option
    assert spec.option("LIMIT").default == 5 and spec.option("enabled") is not None
    assert modules.module_spec(name) is spec


def test_a_broken_module_file_is_reported_by_name(tmp_path, monkeypatch):
    broken = f"zz_broken_{uuid.uuid4().hex[:8]}"
    bare = f"zz_bare_{uuid.uuid4().hex[:8]}"
    _fake_modules_package(tmp_path, monkeypatch, {
        f"{broken}.py": "raise RuntimeError('boom')\n",
        f"{bare}.py": "X = 1\n",
    })
    with pytest.raises(modules.ModuleLoadError, match=f"module '{broken}' failed to import: boom"):
        modules.module_spec(broken)
    with pytest.raises(modules.ModuleLoadError, match=f"must define MODULE = ModuleSpec\\(name='{bare}'"):
        modules.module_spec(bare)


def test_source_checkout_maps_modules_dir_to_ecelerity_modules():
    code = ("import sys; from ecelerity import modules; "
            "assert modules.module_spec('ec_logger') is not None; "
            "print(list(sys.modules['ecelerity_modules'].__path__)[0])")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    installed = importlib.util.find_spec("ecelerity_modules")
    expected = Path(installed.submodule_search_locations[0]) if installed else REPO / "modules"
    assert Path(result.stdout.strip()).resolve() == expected.resolve()


@pytest.mark.parametrize("name", ["sieve", "scriptlet", "ec_logger", "EC_Logger", "bounce_logger",
                                  "custom_logger", "json_logger", "postfix_logger", "exim_logger",
                                  "sendmail_logger"])
def test_implemented_modules_load_from_the_modules_directory(name):
    spec = modules.module_spec(name)
    assert spec is not None and spec.implemented is True and callable(spec.load)
