"""modules/datasource.py: the Datasource stanza validates its URIs at file:line:col and
declares Momentum's options (loading is exercised by tests/scenarios/test_datasource_*)."""
import subprocess
import sys

from ecelerity.modules import module_spec


def validate(tmp_path, text):
    conf = tmp_path / "ecelerity.conf"
    conf.write_text(text)
    return subprocess.run([sys.executable, "-m", "ecelerity.config.tools", "validate", str(conf)],
                          capture_output=True, text=True, timeout=30)


def test_bad_uri_is_a_config_error_with_location(tmp_path):
    done = validate(tmp_path, 'Datasource "x" {\n  cache_life = 5\n  uri = ( "sqlite:/a.db" "oracle:h=1" )\n}\n')
    assert done.returncode != 0
    assert "ecelerity.conf:3:" in done.stdout + done.stderr
    assert "item 2: datasource uri 'oracle:h=1': unknown driver 'oracle'" in done.stdout + done.stderr
    good = validate(tmp_path, 'ds_core { }\nDatasource "x" {\n  uri = ( "sqlite:/a.db" )\n  max_rows = -1\n}\n')
    assert good.returncode == 0, good.stdout + good.stderr


def test_spec_declares_momentums_options():
    spec = module_spec("datasource")
    assert spec.implemented and not spec.singleton
    assert set(spec.options) >= {"uri", "cache_size", "cache_life", "max_rows", "no_cache"}
    assert (spec.options["cache_size"].default, spec.options["cache_life"].default,
            spec.options["max_rows"].default) == (1000, 3600, 100)  # Momentum's defaults
