"""A tiny C extension for noise-free benchmark measures: allocation counters and named C frames.

Used by benchmarks/sieve_allocs.py (allocations and bytes per message) and
benchmarks/sieve_callgrind.py (instruction and simulated cache-miss counts per message
under valgrind, which stay the same however loaded the machine is). ``load()`` compiles
the C source below with the C compiler Python was built with, once per Python version,
into a cache directory, and imports it. Benchmark-only: never imported by the daemon or
the tests' code under test, and it never changes an allocator unless ``install()`` is
called (which only wraps it with counters, for the rest of the process).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyMemAllocatorEx orig_obj, orig_mem;
static unsigned long long n_obj, n_mem, b_obj, b_mem;
static int installed;

static void *obj_malloc(void *c, size_t n) { n_obj++; b_obj += n; return orig_obj.malloc(orig_obj.ctx, n); }
static void *obj_calloc(void *c, size_t a, size_t b) { n_obj++; b_obj += a * b; return orig_obj.calloc(orig_obj.ctx, a, b); }
static void *obj_realloc(void *c, void *p, size_t n) { if (!p) n_obj++; b_obj += n; return orig_obj.realloc(orig_obj.ctx, p, n); }
static void obj_free(void *c, void *p) { orig_obj.free(orig_obj.ctx, p); }
static void *mem_malloc(void *c, size_t n) { n_mem++; b_mem += n; return orig_mem.malloc(orig_mem.ctx, n); }
static void *mem_calloc(void *c, size_t a, size_t b) { n_mem++; b_mem += a * b; return orig_mem.calloc(orig_mem.ctx, a, b); }
static void *mem_realloc(void *c, void *p, size_t n) { if (!p) n_mem++; b_mem += n; return orig_mem.realloc(orig_mem.ctx, p, n); }
static void mem_free(void *c, void *p) { orig_mem.free(orig_mem.ctx, p); }

static PyObject *install(PyObject *self, PyObject *unused) {
    if (!installed) {
        PyMemAllocatorEx a = {NULL, obj_malloc, obj_calloc, obj_realloc, obj_free};
        PyMemAllocatorEx m = {NULL, mem_malloc, mem_calloc, mem_realloc, mem_free};
        PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &orig_obj);
        PyMem_GetAllocator(PYMEM_DOMAIN_MEM, &orig_mem);
        PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &a);
        PyMem_SetAllocator(PYMEM_DOMAIN_MEM, &m);
        installed = 1;
    }
    Py_RETURN_NONE;
}

/* (allocations, bytes requested) so far, object and mem domains together */
static PyObject *counts(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(KK)", n_obj + n_mem, b_obj + b_mem);
}

/* two C frames callgrind names: the inclusive cost of each is what ran inside */
__attribute__((noinline)) static PyObject *probe_run_a(PyObject *self, PyObject *fn) { return PyObject_CallNoArgs(fn); }
__attribute__((noinline)) static PyObject *probe_run_b(PyObject *self, PyObject *fn) { return PyObject_CallNoArgs(fn); }

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, "wrap the object and mem allocators with counters"},
    {"counts", counts, METH_NOARGS, "(allocations, bytes) since install()"},
    {"run_a", probe_run_a, METH_O, "call fn() inside the C frame probe_run_a"},
    {"run_b", probe_run_b, METH_O, "call fn() inside the C frame probe_run_b"},
    {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "_native_probe", NULL, -1, methods};
PyMODINIT_FUNC PyInit__native_probe(void) { return PyModule_Create(&mod); }
"""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(tempfile.gettempdir(), f"ecelerity-{os.getuid()}")
    return Path(base) / "ecelerity-bench"


def load() -> ModuleType:
    """The compiled probe (built on first use); RuntimeError if it cannot be built."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    digest = hashlib.sha256((SOURCE + sys.version).encode()).hexdigest()[:12]
    target = cache_dir() / f"_native_probe_{digest}{suffix}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        c_file = target.parent / f"{target.name}.{os.getpid()}.c"  # parallel builds never share a file
        c_file.write_text(SOURCE)
        compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
        command = [*compiler, "-O2", "-g", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}",
                   str(c_file), "-o", f"{c_file}.so"]
        built = subprocess.run(command, capture_output=True, text=True)
        c_file.unlink()
        if built.returncode != 0:
            raise RuntimeError(f"cannot build the native probe: {' '.join(command)}: {built.stderr[-400:]}")
        os.replace(f"{c_file}.so", target)
    spec = importlib.util.spec_from_file_location("_native_probe", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
