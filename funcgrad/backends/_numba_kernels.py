"""The static Numba kernels (batched tiny matmul, the leading-axes sum) and their helpers.

Each kernel is a plain Python loop nest compiled with ``@njit(cache=True)`` for
explicit signatures the first time it is used (:class:`LazyKernel`): importing
the backend compiles nothing, and a kernel compiles (or loads from the disk
cache) once, for float64 and float32.  Inputs are typed read-only, so writable
arrays, graph constants and ``np.broadcast_to`` views all match one signature.

Importing this module imports numba; import it only through the backend.
"""

from __future__ import annotations

import threading
from typing import Literal

import numba
import numpy as np
from numba import types

from funcgrad.backends import _numba_cache

_numba_cache.configure()

#: The float dtypes the loop kernels are compiled for.
FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


def array_type(dtype, ndim: int, layout: Literal["C", "A"] = "A", readonly: bool = False):
    """The Numba type of an array of ``dtype`` and rank ``ndim``.

    An input is typed ``readonly``: a writable array converts to it, and graph
    constants and ``np.broadcast_to`` views are read-only.
    """
    return types.Array(numba.from_dtype(np.dtype(dtype)), ndim, layout, readonly=readonly)


def njit(py_func, signatures=None, **options):
    """``numba.njit(cache=True, error_model="numpy")``; without a usable cache directory, no cache.

    ``error_model="numpy"``: a division by zero gives inf/nan (0 for integers), as in
    NumPy, instead of raising ``ZeroDivisionError``.
    """
    opts = dict(cache=True, error_model="numpy", **options)
    decorate = numba.njit(signatures, **opts) if signatures else numba.njit(**opts)
    try:
        return decorate(py_func)
    except RuntimeError as e:  # "cannot cache function ...: no locator available"
        if "cannot cache" not in str(e):
            raise
    opts["cache"] = False
    return (numba.njit(signatures, **opts) if signatures else numba.njit(**opts))(py_func)


class LazyKernel:
    """A loop kernel compiled for its explicit signatures on first use.

    ``signatures(dtype)`` lists the signatures for one dtype; ``kernel()``
    returns the compiled dispatcher (compiling, or loading from the disk cache,
    on the first call).
    """

    def __init__(self, py_func, signatures):
        self.py_func = py_func
        self.signatures = signatures
        self._dispatcher = None
        self._lock = threading.Lock()

    def __call__(self):
        d = self._dispatcher
        if d is None:
            with self._lock:
                if self._dispatcher is None:
                    sigs = [s for dt in FLOAT_DTYPES for s in self.signatures(dt)]
                    self._dispatcher = njit(self.py_func, sigs)
                d = self._dispatcher
        return d


# -- matmul --------------------------------------------------------------------------
def _matmul_loops(a, b, out):
    """``out[t] = a[t] @ b[t]`` for every batch index ``t``, with plain loops.

    ``i-p-j`` order (a row of ``b`` streams into a row of ``out``) unless ``out``
    has fewer than 4 columns, where a dot product per output element is cheaper.
    """
    nb_, m, k = a.shape
    n = b.shape[2]
    for t in range(nb_):
        if n >= 4:
            for i in range(m):
                for j in range(n):
                    out[t, i, j] = 0
                for p in range(k):
                    aip = a[t, i, p]
                    for j in range(n):
                        out[t, i, j] += aip * b[t, p, j]
        else:
            for i in range(m):
                for j in range(n):
                    out[t, i, j] = 0
                    s = out[t, i, j]  # a zero of the output's dtype
                    for p in range(k):
                        s += a[t, i, p] * b[t, p, j]
                    out[t, i, j] = s


def _matmul_signatures(layout):
    def signatures(dtype):
        arr = array_type(dtype, 3, layout, readonly=True)
        return [types.void(arr, arr, array_type(dtype, 3, "C"))]
    return signatures


#: Contiguous operands get a vectorised loop; any other layout (transposed, sliced,
#: broadcast with zero strides) shares the "A" version.  (Two dispatchers rather than
#: two signatures of one: a writable C array converts equally well to either, and
#: Numba refuses to choose.)
matmul_loops_c = LazyKernel(_matmul_loops, _matmul_signatures("C"))
matmul_loops_a = LazyKernel(_matmul_loops, _matmul_signatures("A"))


# -- sum over leading axes -------------------------------------------------------------
def _sum_rows(x, out):
    """``out[j] = sum_i x[i, j]``, accumulating whole rows (the order NumPy uses for axis 0)."""
    n, m = x.shape
    for j in range(m):
        out[j] = 0
    for i in range(n):
        for j in range(m):
            out[j] += x[i, j]


def _sum_rows_signatures(dtype):
    return [types.void(array_type(dtype, 2, "C", True), array_type(dtype, 1, "C"))]


sum_rows = LazyKernel(_sum_rows, _sum_rows_signatures)


# -- scalar helpers for generated code ------------------------------------------------
def _maximum(x, y):
    # NumPy's maximum: NaN propagates from either side.
    return x if (x >= y or x != x) else y  # noqa: PLR0124 - x != x: x is NaN (ints too)


def _minimum(x, y):
    return x if (x <= y or x != x) else y  # noqa: PLR0124 - x != x: x is NaN (ints too)


maximum = njit(_maximum)
minimum = njit(_minimum)
