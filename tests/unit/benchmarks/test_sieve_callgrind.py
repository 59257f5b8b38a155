"""benchmarks/sieve_callgrind.py: reading callgrind_annotate's inclusive rows of the probe frames.

The valgrind run itself takes minutes (not for the suite); the rows below have the
exact shape callgrind_annotate 3.19 printed for a real run, including the "." it
writes for a zero count and the object file after the function name.
"""
from __future__ import annotations

import pytest

from benchmarks.sieve_callgrind import per_message

ANNOTATED = """\
Events shown:     Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
--------------------------------------------------------------------------------
Ir                      Dr                      Dw                     I1mr  file:function
   150,502,167 ( 4.25%)     43,880,761 ( 4.22%)    24,468,037 ( 4.07%)   3,206,622 ( 8.80%)   \
1,774,720 ( 8.43%)    551,710 ( 7.19%)       2 ( 0.00%)         5 ( 0.00%)         .           \
/tmp/c/_native_probe_1.so.77.c:probe_run_b [/tmp/c/_native_probe_1.so]
    31,124,206 ( 0.88%)      8,951,168 ( 0.86%)     5,222,523 ( 0.87%)     594,899 ( 1.63%)     \
193,882 ( 0.92%)     56,951 ( 0.74%)       6 ( 0.01%)         7 ( 0.00%)         1 ( 0.00%)  \
/tmp/c/_native_probe_1.so.77.c:probe_run_a [/tmp/c/_native_probe_1.so]
3 ( 0.00%) 1 ( 0.00%) 0          2 ( 0.00%) 1 ( 0.00%) 0          2 ( 0.00%) 1 ( 0.00%) .  \
__attribute__((noinline)) static PyObject *probe_run_a(PyObject *self, PyObject *fn) {
"""


def test_per_message_is_the_sieve_frame_minus_the_plain_frame():
    got = per_message(ANNOTATED, 400)
    assert got["Ir"] == pytest.approx((150_502_167 - 31_124_206) / 400)
    assert got["DLmw"] == pytest.approx(-1 / 400)  # "." read as 0
    l1 = sum(got[e] for e in ("I1mr", "D1mr", "D1mw"))
    ll = sum(got[e] for e in ("ILmr", "DLmr", "DLmw"))
    assert got["CEst"] == pytest.approx(got["Ir"] + 10 * l1 + 100 * ll)


def test_missing_frames_are_an_error_not_a_zero():
    with pytest.raises(RuntimeError):
        per_message(ANNOTATED.replace("probe_run_b", "other"), 400)
