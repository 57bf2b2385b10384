"""The Numba CPU backend: loop kernels where they beat NumPy, NumPy (BLAS) where it is faster.

==================  ===========================================================
primitive           kernel
==================  ===========================================================
``matmul``          an ``@njit`` loop nest for batches of tiny float matrices
                    (up to :data:`MATMUL_LOOP_MAX_WORK`), else ``np.matmul`` (BLAS)
``sum``             an ``@njit`` row accumulation when the reduced axes lead a
                    C-contiguous float array (the unbroadcast reduction), else
                    ``np.sum`` (pairwise summation along the last axis)
``broadcast_to``    ``np.broadcast_to``: a zero-copy view with zero strides; the
                    kernels above and the fused loops read such views in place
``fused``           one generated ``@njit`` loop per fused Program (see
                    :mod:`funcgrad.backends._numba_fused`)
==================  ===========================================================

Every kernel has its primitive's signature and returns what the NumPy reference
returns (same shape and dtype, values equal up to rounding).  Anything a kernel
does not handle (integer matmul, complex dtypes, a primitive without a fused
expression) runs the reference implementation.  Kernels are compiled on first
use and cached on disk (see :mod:`funcgrad.backends._numba_cache`).

Importing this module imports numba, and raises ImportError when numba is not
installed (``get_backend()`` then falls back to the NumPy backend).
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad.backends import Backend, _numba_cache

# Point Numba at a writable cache before the imports below import numba (it reads the
# variable at import; _numba_kernels also sets it on an already-imported numba).
_numba_cache.configure()

from funcgrad.backends import _numba_kernels as _k
from funcgrad.backends._numba_fused import fused_kernel
from funcgrad.ops.linalg import matmul_p
from funcgrad.ops.reductions import sum_p
from funcgrad.ops.shape import broadcast_to_p
from funcgrad.optimize.fusion import fused_p

_FLOATS = frozenset(_k.FLOAT_DTYPES)

#: Largest ``m * k * n`` (per matrix) of a *batched* product that the loop kernel
#: computes instead of NumPy.  Measured with ``python benchmarks/numba_kernels.py``
#: on the 2-core CI machine (best of 7, microseconds per call, float64; float32 alike):
#:
#:   batched              np.matmul   loops         2-D            np.matmul   loops
#:   256 x 2x2 @ 2x2        20.3       5.8          2x2 @ 2x2         1.20      1.38
#:   256 x 3x3 @ 3x3        22.5       8.4          4x4 @ 4x4         1.27      1.48
#:   256 x 4x4 @ 4x4        22.8      14.7          8x8 @ 8x8         1.27      1.56
#:   64 x 5x5 @ 5x5          7.8      12.7          16x16 @ 16x16     1.61      2.26
#:   64 x 8x8 @ 8x8          9.7      17.7          64x64 @ 64x64    14.96     29.43
#:
#: NumPy multiplies a batch one matrix at a time through BLAS, paying a call per tiny
#: matrix: the loops win 1.5-3.5x up to 4x4x4.  A single 2-D product never pays: at
#: 2x2 np.matmul (~1.2 us) is already cheaper than allocating the result and
#: dispatching to the compiled loop, and above that BLAS is faster; so 2-D products
#: always use BLAS.
MATMUL_LOOP_MAX_WORK = 64


def matmul_kernel(a, b):
    """``np.matmul(a, b)``: batches of tiny float matrices in a loop kernel, the rest through BLAS.

    Examples:
        >>> matmul_kernel(np.ones((3, 2, 2)), np.eye(2)).shape
        (3, 2, 2)
    """
    if (type(a) is np.ndarray and type(b) is np.ndarray and (a.ndim > 2 or b.ndim > 2)
            and a.ndim and b.ndim and a.dtype == b.dtype and a.dtype in _FLOATS):
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        m, k = (1, a.shape[0]) if a_vec else a.shape[-2:]
        kb, n = (b.shape[0], 1) if b_vec else b.shape[-2:]
        if k == kb and m * k * n <= MATMUL_LOOP_MAX_WORK:
            a_batch, b_batch = a.shape[:-2], b.shape[:-2]
            try:
                batch = a_batch if a_batch == b_batch else np.broadcast_shapes(a_batch, b_batch)
            except ValueError:
                return matmul_p.impl(a, b)  # NumPy's error, with funcgrad's message
            count = math.prod(batch)
            a3 = _as_batch(a.reshape(m, k) if a_vec else a, batch, count)
            b3 = _as_batch(b.reshape(k, n) if b_vec else b, batch, count)
            out = np.empty(batch + (m, n), a.dtype)
            contiguous = a3.flags.c_contiguous and b3.flags.c_contiguous
            loops = _k.matmul_loops_c if contiguous else _k.matmul_loops_a
            loops()(a3, b3, out.reshape(count, m, n))
            return out.reshape(batch + (() if a_vec else (m,)) + (() if b_vec else (n,)))
    return matmul_p.impl(a, b)


def _as_batch(x, batch, count):
    """``x`` (..., r, c) as a ``(count, r, c)`` array: a zero-stride view where it is broadcast."""
    if x.shape[:-2] != batch:
        x = np.broadcast_to(x, batch + x.shape[-2:])
    if len(batch) == 1:
        return x
    return x.reshape((count,) + x.shape[-2:])  # a copy only for a multi-axis broadcast batch


def sum_kernel(x, axis, keepdims):
    """``np.sum(x, axis, keepdims)``; the reduced axes leading a C-contiguous float array use a loop.

    Size-1 axes are ignored when looking for the leading block, so the unbroadcast
    reductions (leading axes plus size-1 axes) all take the loop kernel.  It beats
    ``np.sum(x, axis=0)`` at every size measured (``benchmarks/numba_kernels.py``:
    1.6x at 4x3, 2x at 256x128, 1.2-1.4x at 1000x1000, 4.5x at 100000x3), and adds
    in the same order (row after row), so the result is the same to the last bit.

    Examples:
        >>> sum_kernel(np.ones((3, 2)), (0,), False)
        array([3., 3.])
    """
    if type(x) is np.ndarray and x.dtype in _FLOATS and x.flags.c_contiguous:
        key = (x.shape, axis, keepdims)
        plan = _sum_plans.get(key, _MISSING)
        if plan is _MISSING:
            plan = _sum_plan(*key)
            if len(_sum_plans) < 4096:
                _sum_plans[key] = plan
        if plan is not None:
            rows, cols, out_shape = plan
            out = np.empty(cols, x.dtype)
            _k.sum_rows()(x.reshape(rows, cols), out)
            return out.reshape(out_shape)
    return np.sum(x, axis=axis, keepdims=keepdims)


_sum_plans: dict = {}  # (shape, axis, keepdims) -> _sum_plan(...)
_MISSING = object()


def _sum_plan(shape, axis, keepdims):
    """``(rows, columns, result shape)`` when the reduced axes (size-1 axes aside) lead ``shape``."""
    if axis is None:
        return None  # a full reduction: NumPy's pairwise sum
    big = [i for i, s in enumerate(shape) if s != 1]
    reduced = [i for i in big if i in axis]
    if not 0 < len(reduced) < len(big) or reduced != big[:len(reduced)] or 0 in shape:
        return None
    rows = math.prod(shape[i] for i in reduced)
    if keepdims:
        out_shape = tuple(1 if i in axis else s for i, s in enumerate(shape))
    else:
        out_shape = tuple(s for i, s in enumerate(shape) if i not in axis)
    return rows, math.prod(shape) // rows, out_shape


def broadcast_to_kernel(x, shape):
    """``np.broadcast_to``: a zero-copy read-only view (zero strides on the broadcast axes)."""
    return np.broadcast_to(x, shape)


BACKEND = Backend("numba", {
    matmul_p: matmul_kernel,
    sum_p: sum_kernel,
    broadcast_to_p: broadcast_to_kernel,
    fused_p: fused_kernel,
})
