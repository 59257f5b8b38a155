"""msys.os.statvfs_subscribe / statvfs_read agree with os.statvfs."""
from __future__ import annotations

import os

from .conftest import values


def test_statvfs_snapshot_matches_the_file_system(run, tmp_path):
    got = values(run("""
        local s = msys.os.statvfs_subscribe(...)
        local snap = msys.os.statvfs_read(s)
        local missing, err = msys.os.statvfs_subscribe("/no/such/dir")
        return snap.frsize, snap.blocks, snap.total_bytes, snap.used_percent, missing, err""",
        str(tmp_path).encode()))
    st = os.statvfs(tmp_path)
    assert got[:3] == (st.f_frsize, st.f_blocks, st.f_blocks * st.f_frsize)
    assert 0 <= got[3] <= 100 and got[4] is None and b"no such file" in got[5]
    assert "unknown statvfs stream" in run("msys.os.statvfs_read('nope')").error
