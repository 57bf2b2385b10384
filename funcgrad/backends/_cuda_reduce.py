"""CUDA kernels for ``sum``, ``max`` and ``min`` over any axes: block-level tree reductions.

The plan, in index arithmetic only (no copy of the operand):

1. *Split.* The operand's axes fall into the kept axes (the result's, in order) and
   the reduced ones.  Size-1 axes are dropped, the reduced axes are ordered by
   decreasing stride, and neighbours that are one memory run (``s[a] == s[b] * n[b]``)
   are merged, so a C-contiguous operand usually has one kept and one reduced axis
   whatever ``axis`` was.  The result is ``M`` outputs, each the reduction of ``N``
   elements; output ``i`` and reduced index ``j`` become an element offset by
   unravelling them over the (few) merged axes.
2. *One kernel, two thread layouts.*  A block of ``BLOCK`` threads is a
   ``rows x cols`` grid: ``cols`` outputs side by side, ``rows`` threads per output
   striding over its ``N`` elements; then a tree over the ``rows`` partial results in
   shared memory (``log2(rows)`` steps, one ``syncthreads`` each) and one write per
   output.  Which threads are neighbours follows memory so that loads coalesce:

   - *reduction-fast* (the reduced axis is the innermost in memory: ``sum(x, -1)``):
     consecutive threads take consecutive elements of one output, ``rows`` is the
     power of two covering ``N`` (up to ``BLOCK``) and a block handles
     ``BLOCK // rows`` outputs (a whole block on one long row, several short rows
     per block);
   - *output-fast* (a kept axis is the innermost: ``sum(x, 0)`` of a
     ``(batch, features)`` array, the backward pass's unbroadcast): a block takes a
     strip of ``STRIP`` consecutive columns, consecutive threads read consecutive
     columns of one row, and the ``BLOCK // STRIP`` thread rows stride down the rows.

3. *Second pass.*  When there are too few outputs to fill the device, the ``N``
   elements are cut into ``S`` chunks (``blockIdx.y``) so that about
   ``TARGET_BLOCKS`` blocks run; each writes a partial result to an ``(S, M)``
   array, which the same code then reduces over its leading axis (output-fast,
   coalesced).

Sums accumulate in NumPy's result dtype (float32 in float32, integers and booleans in
int64/uint64, as ``np.add.reduce``); ``max``/``min`` propagate NaN as NumPy does (a
NaN operand wins every comparison).  An empty reduction gives ``sum``'s zeros
from the same kernel (no element is read) and the reference's ``ValueError`` for
``max``/``min`` (run on the host: :func:`~funcgrad.backends._cuda_arrays.host_call`).
Other dtypes (float16, complex), negative strides and host scalars also go to
``host_call``, counted.

The sizes below are module constants picked when a kernel is first launched: a GPU's
on hardware, much smaller ones under Numba's CUDA simulator (which runs each thread
as a Python thread), so that the tests reach several blocks and the second pass with
tiny arrays.  The code path is the same.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from funcgrad.backends import _cuda_arrays as dev
from funcgrad.ops import reductions


class Sizes(NamedTuple):
    """Launch sizes: threads per block (a power of two), columns per block when
    outputs are contiguous, blocks wanted in flight, elements a thread sums at least
    before the reduced axis is split over blocks."""

    block: int
    strip: int
    target_blocks: int
    min_items: int


#: On a GPU: 256 threads, warp-wide column strips, enough blocks for ~100 SMs.
GPU_SIZES = Sizes(block=256, strip=32, target_blocks=1024, min_items=16)
#: Under the simulator: tiny, so small test arrays need several blocks and two passes.
SIM_SIZES = Sizes(block=8, strip=2, target_blocks=4, min_items=2)

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

#: ``numba.cuda``, bound when the first kernel is built (not at import).  It must be a
#: module global: the simulator runs a kernel with the module globals that hold
#: ``numba.cuda`` swapped for its fake thread-aware module; a closure variable is not swapped.
cuda: Any = None


def sizes() -> Sizes:
    """The launch sizes in use: :data:`SIM_SIZES` under the simulator, else :data:`GPU_SIZES`."""
    return SIM_SIZES if dev.simulated() else GPU_SIZES


class _Op(NamedTuple):
    primitive: Any
    combine: str  # name of the device function in _kernel_for
    result_dtype: Any  # input dtype -> result dtype, or None when no kernel takes it
    identity: Any  # result dtype -> identity element


def _sum_dtype(dtype: np.dtype) -> np.dtype | None:
    if dtype in _FLOATS or dtype.kind in "iub":
        return np.add.reduce(np.zeros(1, dtype)).dtype
    return None


def _same_dtype(dtype: np.dtype) -> np.dtype | None:
    return dtype if dtype in _FLOATS or dtype.kind in "iub" else None


def _lowest(dtype: np.dtype):
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    return dtype.type(False) if dtype.kind == "b" else np.iinfo(dtype).min


def _highest(dtype: np.dtype):
    if dtype.kind == "f":
        return dtype.type(np.inf)
    return dtype.type(True) if dtype.kind == "b" else np.iinfo(dtype).max


_SUM = _Op(reductions.sum_p, "add", _sum_dtype, lambda dt: dt.type(0))
_MAX = _Op(reductions.max_p, "max", _same_dtype, _lowest)
_MIN = _Op(reductions.min_p, "min", _same_dtype, _highest)


# -- the kernel -------------------------------------------------------------------------------
@functools.cache
def _device_functions():
    global cuda
    cuda = dev.cuda()

    @cuda.jit(device=True)
    def offset(i, shape, strides):
        """Element offset of C-order index ``i`` over ``shape`` with element ``strides``."""
        off = 0
        for d in range(len(shape) - 1, 0, -1):
            n = shape[d]
            off += (i % n) * strides[d]
            i //= n
        return off + i * strides[0]

    @cuda.jit(device=True)
    def add(a, b):
        return a + b

    @cuda.jit(device=True)
    def maximum(a, b):
        # b != b: b is NaN, which wins (as in NumPy); unlike math.isnan it also types for
        # integer and boolean operands.
        return b if (b > a or b != b) else a  # noqa: PLR0124

    @cuda.jit(device=True)
    def minimum(a, b):
        return b if (b < a or b != b) else a  # noqa: PLR0124  (as in maximum)

    return offset, {"add": add, "max": maximum, "min": minimum}


@functools.cache
def _kernel_for(combine_name: str, acc_dtype: np.dtype, block: int):
    """The reduction kernel for one combining function and accumulator dtype (compiled
    per operand dtype and number of merged axes at first launch)."""
    from numba import from_dtype

    offset, combines = _device_functions()
    combine = combines[combine_name]
    acc_type = from_dtype(acc_dtype)

    @cuda.jit
    def reduce_kernel(x, out, identity, kshape, kstrides, rshape, rstrides, m, n, chunk,
                      rows, reduction_fast):
        # x: flat view of the operand from its first element; out: (S, m) partials.
        t = cuda.threadIdx.x
        cols = block // rows
        if reduction_fast:
            r, c, rstep = t % rows, t // rows, 1
        else:
            r, c, rstep = t // cols, t % cols, cols
        i = cuda.blockIdx.x * cols + c
        acc = identity
        if i < m:
            base = offset(i, kshape, kstrides)
            j = cuda.blockIdx.y * chunk + r
            stop = min(n, (cuda.blockIdx.y + 1) * chunk)
            while j < stop:
                acc = combine(acc, x[base + offset(j, rshape, rstrides)])
                j += rows
        partial = cuda.shared.array(block, acc_type)
        partial[t] = acc
        cuda.syncthreads()
        step = rows // 2
        while step > 0:
            if r < step:
                partial[t] = combine(partial[t], partial[t + step * rstep])
            cuda.syncthreads()
            step //= 2
        if r == 0 and i < m:
            out[cuda.blockIdx.y * m + i] = partial[t]

    return reduce_kernel


# -- planning ---------------------------------------------------------------------------------
def _merge(axes: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(sizes, element strides) of ``axes`` (outer first) with one-run neighbours merged."""
    merged: list[list[int]] = []
    for n, s in axes:
        if n == 1:
            continue
        if merged and merged[-1][1] == s * n:
            merged[-1] = [merged[-1][0] * n, s]
        else:
            merged.append([n, s])
    merged = merged or [[1, 0]]
    return tuple(n for n, _ in merged), tuple(s for _, s in merged)


def _pow2_at_least(k: int) -> int:
    return 1 << max(int(k) - 1, 0).bit_length()


class Plan(NamedTuple):
    """One launch: ``rows`` threads per output (``BLOCK // rows`` outputs per block),
    ``blocks`` blocks along the outputs, ``splits`` chunks of ``chunk`` elements along
    the reduction (``splits > 1``: a second pass reduces the partials)."""

    reduction_fast: bool
    rows: int
    blocks: int
    splits: int
    chunk: int


def plan(m: int, n: int, reduction_fast: bool, cfg: Sizes | None = None) -> Plan:
    """The launch for ``m`` outputs of ``n`` elements each (see the module docstring).

    Examples:
        >>> plan(3, 100_000, False, GPU_SIZES)  # 3 columns: the rows cut in 98 chunks
        Plan(reduction_fast=False, rows=64, blocks=1, splits=98, chunk=1021)
    """
    cfg = cfg or sizes()
    reduction_fast = reduction_fast or m == 1
    if reduction_fast:
        rows = min(cfg.block, _pow2_at_least(n))
    else:
        rows = cfg.block // min(cfg.strip, _pow2_at_least(m))
    blocks = -(-m // (cfg.block // rows))
    # At least two elements per block and chunk, so that each pass shrinks the partials.
    per_block = max(2, rows * cfg.min_items)
    splits = max(1, min(-(-n // per_block), -(-cfg.target_blocks // blocks)))
    chunk = -(-n // splits) if n else 1
    splits = -(-n // chunk) if n else 1
    return Plan(reduction_fast, rows, blocks, splits, chunk)


def _reduce_flat(op: _Op, flat, kept, red, m: int, n: int, acc_dtype: np.dtype):
    """A new 1-D device array of the ``m`` reductions of ``flat`` (see the module docstring)."""
    (kshape, kstrides), (rshape, rstrides) = kept, red
    cfg = sizes()
    p = plan(m, n, rstrides[-1] <= kstrides[-1], cfg)
    out = dev.empty((p.splits * m,), acc_dtype)
    kernel = _kernel_for(op.combine, acc_dtype, cfg.block)
    kernel[(p.blocks, p.splits), cfg.block](
        flat, out, op.identity(acc_dtype), kshape, kstrides, rshape, rstrides, m, n, p.chunk,
        p.rows, p.reduction_fast)
    if p.splits == 1:
        return out
    return _reduce_flat(op, out, ((m,), (1,)), ((p.splits,), (m,)), m, p.splits, acc_dtype)


def _reduce(op: _Op, x, axis, keepdims):
    params = {"axis": axis, "keepdims": keepdims}
    if not dev.is_device_array(x):
        return dev.host_call(op.primitive, x, **params)
    dtype, itemsize = np.dtype(x.dtype), x.dtype.itemsize
    acc_dtype = op.result_dtype(dtype)
    axis = tuple(axis)
    strides = tuple(x.strides)
    if acc_dtype is None or any(s < 0 or s % itemsize for s in strides):
        return dev.host_call(op.primitive, x, **params)
    kept_axes = [a for a in range(x.ndim) if a not in axis]
    m = math.prod(x.shape[a] for a in kept_axes)
    n = math.prod(x.shape[a] for a in axis)
    if n == 0 and op is not _SUM:
        return dev.host_call(op.primitive, x, **params)  # the reference's ValueError
    out_shape = tuple(1 if a in axis else x.shape[a] for a in range(x.ndim) if keepdims or a not in axis)
    if m == 0:
        return dev.empty(out_shape, acc_dtype)
    elements = [(x.shape[a], s // itemsize) for a, s in enumerate(strides)]
    kept = _merge([elements[a] for a in kept_axes])
    red = _merge(sorted((elements[a] for a in axis), key=lambda e: -e[1]))
    if x.size == 0:
        flat = dev.empty((1,), dtype)  # never read: n == 0
    else:
        span = 1 + sum((k - 1) * s for k, s in elements)
        flat = dev.view(x, (span,), (itemsize,))
    out = _reduce_flat(op, flat, kept, red, m, n, acc_dtype)
    return dev.view(out, out_shape, dev.c_strides(out_shape, acc_dtype.itemsize))


def sum_kernel(x, axis, keepdims):
    """``np.add.reduce(x, axis, keepdims=)`` of a device array, as a new device array.

    Examples:
        >>> import numpy as np
        >>> from funcgrad.backends import _cuda_arrays as dev  # doctest: +SKIP
        >>> dev.to_host(sum_kernel(dev.to_device(np.ones((3, 2))), (0,), False))  # doctest: +SKIP
        array([3., 3.])
    """
    return _reduce(_SUM, x, axis, keepdims)


def max_kernel(x, axis, keepdims):
    """``np.maximum.reduce`` of a device array (NaN propagates), as a new device array."""
    return _reduce(_MAX, x, axis, keepdims)


def min_kernel(x, axis, keepdims):
    """``np.minimum.reduce`` of a device array (NaN propagates), as a new device array."""
    return _reduce(_MIN, x, axis, keepdims)


KERNELS: dict = {
    reductions.sum_p: sum_kernel,
    reductions.max_p: max_kernel,
    reductions.min_p: min_kernel,
}
