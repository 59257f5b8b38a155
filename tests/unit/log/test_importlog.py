"""The importlog (log/ec_logger.py + records.py + service.py): Momentum's ``I`` record
``ts@original_id@I@new_id@result@source``, written only when the ec_logger stanza names
it, reopened after rotation like the other logs; LogHub.spool_import reaches it."""
from __future__ import annotations

import os

from ecelerity.config.loader import load_config_text
from ecelerity.log.ec_logger import EcLogger
from ecelerity.log.records import split_at_record
from ecelerity.log.service import LogHub

CONFIG = """
Spoolbase = "{base}/var/spool"
ec_logger "ec_logger" {{
  mainlog = "{base}/log/mainlog.ec"
  heartbeat = 0
  {extra}
}}
"""


def logger(tmp_path, extra="", *, hires=False) -> EcLogger:
    cfg = load_config_text(CONFIG.format(base=tmp_path, extra=extra)
                           + ("log_hires_timestamp = true\n" if hires else ""))
    return EcLogger.from_config(cfg, use_threadpool=False)


def test_import_lines_have_momentums_fields(tmp_path):
    path = tmp_path / "log" / "importlog.ec"
    log = logger(tmp_path, f'importlog = "{path}"\n  importlog_mode = 0600')
    log.log_import("00/00-0000A-11111111", "00/00-0000B-22222222", 1, "/spool/old@x", when=1064869327.8)
    log.log_import("00/00-0000A-33333333", None, 4, "/spool/old@x", when=1064869328.0)
    log.close()
    lines = path.read_text().splitlines()
    assert lines[0] == r"1064869327@00/00-0000A-11111111@I@00/00-0000B-22222222@1@/spool/old\@x"
    assert split_at_record(lines[1]) == ["1064869328", "00/00-0000A-33333333", "I",
                                         "00/00-0000A-33333333", "4", "/spool/old@x"]
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_hires_timestamps_apply(tmp_path):
    path = tmp_path / "importlog.ec"
    log = logger(tmp_path, f'importlog = "{path}"', hires=True)
    log.log_import("00/00-0000A-11111111", "00/00-0000A-11111111", 1, "/s", when=1.5)
    log.close()
    assert path.read_text().split("@")[0] == "1500000"


def test_no_importlog_unless_configured(tmp_path):
    log = logger(tmp_path)
    log.log_import("00/00-0000A-11111111", "x", 1, "/s")
    log.close()
    assert "importlog" not in log.writers
    assert not any("import" in name for _, _, names in os.walk(tmp_path) for name in names)


def test_reopen_after_rotation_and_hub_fan_out(tmp_path):
    path = tmp_path / "log" / "importlog.ec"
    log = logger(tmp_path, f'importlog = "{path}"')
    hub = LogHub(clock=lambda: 42.0)
    hub.add(object())   # a sink without an importlog is skipped, not an error
    hub.add(log)
    hub.spool_import("00/00-0000A-11111111", "00/00-0000B-22222222", 1, "/old")
    log.flush()
    os.rename(path, str(path) + ".1")     # the operator rotates, then asks for a reopen
    hub.spool_import("00/00-0000A-33333333", "00/00-0000B-44444444", 3, "/old")
    log.reopen()
    hub.spool_import("00/00-0000A-55555555", "00/00-0000B-66666666", 1, "/old")
    log.close()
    assert (tmp_path / "log" / "importlog.ec.1").read_text().splitlines() == [
        "42@00/00-0000A-11111111@I@00/00-0000B-22222222@1@/old",
        "42@00/00-0000A-33333333@I@00/00-0000B-44444444@3@/old"]
    assert path.read_text().splitlines() == [
        "42@00/00-0000A-55555555@I@00/00-0000B-66666666@1@/old"]
