"""Make every fsync cost ~2 ms for the ``slowdisk`` scenario, the same way for every system.

Who calls it: scenarios.py (slowdisk). First choice would be a device-mapper ``delay``
target on a loop device; ``dm_unavailable()`` says why that cannot be used here (on the
development VM the kernel has no device-mapper: /dev/mapper/control is missing). The
fallback, used then, is an LD_PRELOAD shim compiled with gcc at run time that wraps
fsync/fdatasync/syncfs with usleep(DELAY) before the real call; peers pass it in their
environment (Postfix via import_environment). It must never touch the system's block
devices or libraries: the .so lives in a temporary directory the caller removes.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>
static unsigned delay_us(void) { return %(delay)d; }
#define WRAP(name) \
  int name(int fd) { \
    static int (*real)(int); \
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, #name); \
    usleep(delay_us()); \
    return real(fd); \
  }
WRAP(fsync)
WRAP(fdatasync)
WRAP(syncfs)
"""


def dm_unavailable() -> str | None:
    """None when a dm-delay device could be built here, else why not."""
    if shutil.which("dmsetup") is None:
        return "dmsetup not installed"
    result = subprocess.run(["dmsetup", "targets"], capture_output=True, text=True)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["?"])[0]
        return f"the kernel's device-mapper is not usable here (dmsetup targets: {first})"
    if "delay" not in result.stdout:
        return "device-mapper has no 'delay' target"
    return "dm-delay path not implemented in the harness (shim used)"


def build_shim(delay_us: int = 2000) -> Path:
    """Compile the shim; returns the .so path (in a world-readable temporary directory)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        raise RuntimeError("slowdisk needs gcc (apt-get install gcc) to build the fsync shim")
    base = Path(tempfile.mkdtemp(prefix="ecfsync-", dir="/tmp"))
    os.chmod(base, 0o755)
    source = base / "slow_fsync.c"
    source.write_text(SHIM_C % {"delay": delay_us})
    so = base / "slow_fsync.so"
    result = subprocess.run([gcc, "-shared", "-fPIC", "-O2", "-o", str(so), str(source), "-ldl"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"compiling the fsync shim failed: {result.stderr[-2000:]}")
    os.chmod(so, 0o755)
    return so


def measure_fsync_ms(so: Path | None, samples: int = 20) -> float:
    """Median cost of fsync on a small file in /tmp, in a child process using the shim."""
    code = ("import os,time,tempfile\nfd,p=tempfile.mkstemp()\nts=[]\n"
            f"for i in range({samples}):\n os.write(fd,b'x'*512);t=time.perf_counter();os.fsync(fd);"
            "ts.append(time.perf_counter()-t)\nos.close(fd);os.unlink(p)\nts.sort();print(ts[len(ts)//2]*1000)\n")
    env = dict(os.environ)
    if so is not None:
        env["LD_PRELOAD"] = str(so)
    out = subprocess.run(["python3", "-c", code], capture_output=True, text=True, env=env, timeout=60)
    return round(float(out.stdout.strip()), 3) if out.returncode == 0 else -1.0
