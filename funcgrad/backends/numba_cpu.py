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
``scan``, ``while`` the body compiled once; an elementwise body runs as one
                    generated ``@njit`` loop (see :mod:`funcgrad.backends._numba_loops`)
``scan_pair``       a loop's forward and gradient scans in one generated loop
                    kernel when both bodies are elementwise (see ``_numba_pair``)
``result``          the reference's indexing, its index bound per node
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
from funcgrad.backends import _numba_loops
from funcgrad.backends._numba_fused import fused_kernel
from funcgrad.ops.linalg import matmul_p, np_matmul
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
    try:
        return np_matmul(a, b)  # (bfloat16 stays bfloat16)
    except ValueError:
        return matmul_p.impl(a, b)  # funcgrad's ShapeError naming both shapes, or NumPy's error


def _as_batch(x, batch, count):
    """``x`` (..., r, c) as a ``(count, r, c)`` array: a zero-stride view where it is broadcast."""
    if x.shape[:-2] != batch:
        x = np.broadcast_to(x, batch + x.shape[-2:])
    if len(batch) == 1:
        return x
    return x.reshape((count,) + x.shape[-2:])  # a copy only for a multi-axis broadcast batch


def sum_kernel(x, axis, keepdims):
    """``np.sum(x, axis, keepdims)`` with loop kernels for C-contiguous float arrays.

    Size-1 axes aside, when the reduced axes lead (the unbroadcast reduction),
    rows are accumulated one after another (``sum_rows``); it beats
    ``np.sum(x, axis=0)`` at every size measured (``benchmarks/numba_kernels.py``:
    1.6x at 4x3, 2x at 256x128, 1.2-1.4x at 1000x1000, 4.5x at 100000x3).  When
    they trail and hold at most :data:`SUM_LAST_MAX` elements per result (a
    softmax's ``sum(axis=-1)``, a full sum of a small array), each result is
    summed by ``sum_last``: 1.2 us against NumPy's 3 us at 64x10.  Both add in
    NumPy's own order, so the results are NumPy's to the last bit.  Anything
    else runs ``np.add.reduce`` (NumPy's pairwise summation).

    Examples:
        >>> sum_kernel(np.ones((3, 2)), (0,), False)
        array([3., 3.])
        >>> sum_kernel(np.ones((3, 2)), (1,), True)
        array([[2.],
               [2.],
               [2.]])
    """
    return _run_sum(_lookup_sum(x, axis, keepdims), x, axis, keepdims)


def _lookup_sum(x, axis, keepdims):
    """The loop plan for summing ``x`` (``None``: NumPy's ``add.reduce``)."""
    if type(x) is np.ndarray and x.dtype in _FLOATS and x.flags.c_contiguous:
        key = (x.shape, axis, keepdims)
        plan = _sum_plans.get(key, _MISSING)
        if plan is _MISSING:
            plan = _sum_plan(*key)
            if len(_sum_plans) < 4096:
                _sum_plans[key] = plan
        return plan
    return None


def _run_sum(plan, x, axis, keepdims):
    if plan is None:
        return sum_p.impl(x, axis, keepdims)
    leading, rows, cols, size, out_shape = plan
    out = np.empty(size, x.dtype)
    (_k.sum_rows if leading else sum_last)()(x.reshape(rows, cols), out)
    return out.reshape(out_shape) if out_shape else out[0]  # a full sum: a scalar


def _sum_for_node(node, layout):
    """``sum_kernel`` for one node of an executable: its plan looked up once per input layout."""
    memo = [(0, None)]  # (epoch, plan), replaced as one tuple
    layout.used = True

    def kernel(x, axis, keepdims):
        epoch = layout.epoch
        seen, plan = memo[0]
        if not epoch or seen != epoch:
            plan = _lookup_sum(x, axis, keepdims)
            memo[0] = (epoch, plan)
        return _run_sum(plan, x, axis, keepdims)
    return kernel


sum_kernel.for_node = _sum_for_node
_sum_plans: dict = {}  # (shape, axis, keepdims) -> _sum_plan(...)
_MISSING = object()

#: ``sum_last`` sums at most this many elements into one result: up to this size
#: NumPy's pairwise summation is one block of eight accumulators, which the kernel
#: reproduces exactly (above it NumPy splits the block in halves).
SUM_LAST_MAX = 128


def _sum_plan(shape, axis, keepdims):
    """``(leading?, rows, columns, result size, result shape)`` for a loop kernel, or ``None``.

    The input is viewed as ``(rows, columns)``: the reduced axes (size-1 axes aside)
    must all lead (``sum_rows``: one result per column) or all trail (``sum_last``:
    one result per row).
    """
    if 0 in shape:
        return None
    reduced_axes = range(len(shape)) if axis is None else axis
    big = [i for i, s in enumerate(shape) if s != 1]
    reduced = [i for i in big if i in reduced_axes]
    if not reduced:
        return None  # nothing to add up: NumPy's copy
    if keepdims:
        out_shape = tuple(1 if i in reduced_axes else s for i, s in enumerate(shape))
    else:
        out_shape = tuple(s for i, s in enumerate(shape) if i not in reduced_axes)
    count = math.prod(shape[i] for i in reduced)
    total = math.prod(shape)
    if reduced == big[:len(reduced)] and len(reduced) < len(big):
        return True, count, total // count, total // count, out_shape
    if reduced == big[len(big) - len(reduced):] and count <= SUM_LAST_MAX:
        return False, total // count, count, total // count, out_shape
    return None


def _sum_last(x, out):
    """``out[i] = sum(x[i, :])`` for rows of at most :data:`SUM_LAST_MAX`, in NumPy's order.

    NumPy's pairwise sum of ``n < 8`` values adds them one by one to ``0``; of
    ``8 <= n <= 128`` values, into eight accumulators that are then combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, the remainder added
    last, all after the ``0`` that starts the reduction.
    """
    rows, n = x.shape
    m = n - n % 8
    for i in range(rows):
        out[i] = 0
        res = out[i]  # a zero of the output's dtype
        if n < 8:
            for j in range(n):
                res += x[i, j]
        else:
            r0, r1, r2, r3 = x[i, 0], x[i, 1], x[i, 2], x[i, 3]
            r4, r5, r6, r7 = x[i, 4], x[i, 5], x[i, 6], x[i, 7]
            for j in range(8, m, 8):
                r0 += x[i, j]
                r1 += x[i, j + 1]
                r2 += x[i, j + 2]
                r3 += x[i, j + 3]
                r4 += x[i, j + 4]
                r5 += x[i, j + 5]
                r6 += x[i, j + 6]
                r7 += x[i, j + 7]
            res += ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            for j in range(m, n):
                res += x[i, j]
        out[i] = res


def _sum_last_signatures(dtype):
    return [(_k.array_type(dtype, 2, "C", True), _k.array_type(dtype, 1, "C"))]


sum_last = _k.LazyKernel(_sum_last, _sum_last_signatures)


def broadcast_to_kernel(x, shape):
    """``np.broadcast_to``: a zero-copy read-only view (zero strides on the broadcast axes)."""
    return np.broadcast_to(x, shape)


BACKEND = Backend("numba", {
    matmul_p: matmul_kernel,
    sum_p: sum_kernel,
    broadcast_to_p: broadcast_to_kernel,
    fused_p: fused_kernel,
    **_numba_loops.kernels(),  # scan and while_loop: the body compiled once, the loop in Numba
})
