"""CUDA kernels for ``sum``, ``max``, ``min`` (and the softmax family) over any axes: block-level tree reductions.

The plan, in index arithmetic only (no copy of the operand):

1. *Split.* The operand's axes fall into the kept axes (the result's, in order) and
   the reduced ones.  Size-1 axes are dropped, the reduced axes are ordered by
   decreasing stride, and neighbours that are one memory run (``s[a] == s[b] * n[b]``)
   are merged, so a C-contiguous operand usually has one kept and one reduced axis
   whatever ``axis`` was.  The result is ``M`` outputs, each the reduction of ``N``
   elements; output ``i`` and reduced index ``j`` become an element offset by
   unravelling them over the (few) merged axes.
2. *One kernel, two thread layouts.*  A block of ``block`` threads is a
   ``rows x cols`` grid: ``cols`` outputs side by side, ``rows`` threads per output
   striding over its ``N`` elements; then a tree over the ``rows`` partial results in
   shared memory (``log2(rows)`` steps, one ``syncthreads`` each) and one write per
   output.  Which threads are neighbours follows memory so that loads coalesce:

   - *reduction-fast* (the reduced axis is the innermost in memory: ``sum(x, -1)``):
     consecutive threads take consecutive elements of one output, ``rows`` is the
     power of two covering ``N`` (up to ``block``) and a block handles
     ``block // rows`` outputs (a whole block on one long row, several short rows
     per block);
   - *output-fast* (a kept axis is the innermost: ``sum(x, 0)`` of a
     ``(batch, features)`` array, the backward pass's unbroadcast): a block takes a
     strip of ``strip`` consecutive columns, consecutive threads read consecutive
     columns of one row, and the ``block // strip`` thread rows stride down the rows.

3. *Second pass.*  When there are too few outputs to fill the device, the ``N``
   elements are cut into ``S`` chunks (``blockIdx.y``) so that about
   ``target_blocks`` blocks run; each writes a partial result to an ``(S, M)``
   array, which the same code then reduces over its leading axis (output-fast,
   coalesced).

Sums accumulate in NumPy's result dtype (float32 in float32, integers and booleans in
int64/uint64, as ``np.add.reduce``); ``max``/``min`` propagate NaN as NumPy does (a
NaN operand wins every comparison).  An empty reduction gives ``sum``'s zeros
from the same kernel (no element is read) and the reference's ``ValueError`` for
``max``/``min`` (run on the host: :func:`~funcgrad.backends._cuda_arrays.host_call`).
Other dtypes (float16, complex), negative strides and host scalars also go to
``host_call``, counted.

``softmax``, ``log_softmax`` and ``logsumexp`` (the primitives of
:mod:`funcgrad.scipy.special`, float32/float64) use the same split and thread layouts
with one block column per output and no second pass: the column reads its row three
times (the max, the sum of ``exp(x - max)`` with a tree after each, then the result),
with the reference's rule for the shift (0 where the max is not finite).  Rows are
meant to be short (classes, not batches); a very long row runs on one block.

The sizes (``block``, ``strip``, ...: :class:`Sizes`) are module constants, picked at
each launch: a GPU's (:data:`GPU_SIZES`) on hardware, much smaller ones under Numba's CUDA simulator (which runs each thread
as a Python thread), so that the tests reach several blocks and the second pass with
tiny arrays (:data:`SIM_SIZES`).  The code path is the same.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from funcgrad.backends import _cuda_arrays as dev
from funcgrad.ops import reductions
from funcgrad.scipy import special


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


def _has_kernel(dtype: np.dtype) -> bool:
    return dtype in _FLOATS or dtype.kind in "iub"


@functools.cache
def _sum_dtype(dtype: np.dtype) -> np.dtype | None:
    return np.add.reduce(np.zeros(1, dtype)).dtype if _has_kernel(dtype) else None


def _same_dtype(dtype: np.dtype) -> np.dtype | None:
    return dtype if _has_kernel(dtype) else None


def _lowest(dtype: np.dtype):
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    return dtype.type(False if dtype.kind == "b" else np.iinfo(dtype).min)


def _highest(dtype: np.dtype):
    if dtype.kind == "f":
        return dtype.type(np.inf)
    return dtype.type(True if dtype.kind == "b" else np.iinfo(dtype).max)


_SUM = _Op(reductions.sum_p, "add", _sum_dtype, lambda dt: dt.type(0))
_MAX = _Op(reductions.max_p, "max", _same_dtype, _lowest)
_MIN = _Op(reductions.min_p, "min", _same_dtype, _highest)


# -- the kernels ------------------------------------------------------------------------------
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
    def place(rows, reduction_fast):
        """This thread's row within its output's column of threads, the distance between
        two rows in thread ids, and its output's index."""
        t, cols = cuda.threadIdx.x, cuda.blockDim.x // rows
        if reduction_fast:
            r, c, rstep = t % rows, t // rows, 1
        else:
            r, c, rstep = t // cols, t % cols, cols
        return r, rstep, cuda.blockIdx.x * cols + c

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

    def tree(combine):
        @cuda.jit(device=True)
        def reduce_column(partial, value, r, rows, rstep):
            """Combine ``value`` over the ``rows`` threads of this thread's column; every
            thread of the block calls it (it synchronises) and gets the column's result.
            ``partial`` may be written again only after one more ``syncthreads``."""
            t = cuda.threadIdx.x
            partial[t] = value
            cuda.syncthreads()
            step = rows // 2
            while step > 0:
                if r < step:
                    partial[t] = combine(partial[t], partial[t + step * rstep])
                cuda.syncthreads()
                step //= 2
            return partial[t - r * rstep]
        return reduce_column

    combines = {"add": add, "max": maximum, "min": minimum}
    return offset, place, combines, {name: tree(f) for name, f in combines.items()}


@functools.cache
def _kernel_for(combine_name: str, acc_dtype: np.dtype, block: int):
    """The reduction kernel for one combining function and accumulator dtype (compiled
    per operand dtype and number of merged axes at first launch)."""
    from numba import from_dtype

    offset, place, combines, trees = _device_functions()
    combine, reduce_column = combines[combine_name], trees[combine_name]
    acc_type = from_dtype(acc_dtype)

    @cuda.jit
    def reduce_kernel(x, out, identity, kshape, kstrides, rshape, rstrides, m, n, chunk,
                      rows, reduction_fast):
        # x: flat view of the operand from its first element; out: (S, m) partials.
        r, rstep, i = place(rows, reduction_fast)
        acc = identity
        if i < m:
            base = offset(i, kshape, kstrides)
            j = cuda.blockIdx.y * chunk + r
            stop = min(n, (cuda.blockIdx.y + 1) * chunk)
            while j < stop:
                acc = combine(acc, x[base + offset(j, rshape, rstrides)])
                j += rows
        acc = reduce_column(cuda.shared.array(block, acc_type), acc, r, rows, rstep)
        if r == 0 and i < m:
            out[cuda.blockIdx.y * m + i] = acc

    return reduce_kernel


@functools.cache
def _row_kernel_for(mode: str, dtype: np.dtype, block: int):
    """The kernel of ``softmax``, ``log_softmax`` or ``logsumexp`` (``mode``) on float
    ``dtype``: each output's row is read three times by its column of threads (the max,
    the sum of exponentials, the result), with a tree after each of the first two."""
    from numba import from_dtype

    offset, place, combines, trees = _device_functions()
    maximum, max_column, sum_column = combines["max"], trees["max"], trees["add"]
    acc_type = from_dtype(dtype)
    whole_rows, normalise = mode != "logsumexp", mode == "softmax"

    @cuda.jit(device=True)
    def exp(d, consts):
        # Beyond the dtype's range a GPU's exp gives inf; the simulator's math.exp would raise.
        return consts[2] if d > consts[3] else math.exp(d)

    @cuda.jit(device=True)
    def log(total, consts):
        return -consts[2] if total == consts[0] else math.log(total)  # log(0): the simulator raises

    @cuda.jit
    def row_kernel(x, out, consts, kshape, kstrides, kostrides, rshape, rstrides, rostrides, m,
                   n, rows, reduction_fast):
        # consts: (0, -inf, inf, log of the largest float) in the dtype.
        r, rstep, i = place(rows, reduction_fast)
        partial = cuda.shared.array(block, acc_type)
        base = offset(i, kshape, kstrides) if i < m else 0
        top = consts[1]
        j = r
        while j < n and i < m:
            top = maximum(top, x[base + offset(j, rshape, rstrides)])
            j += rows
        shift = max_column(partial, top, r, rows, rstep)
        cuda.syncthreads()  # every thread has its shift: partial is free for the sums
        if not math.isfinite(shift):  # as the reference: -inf (or empty), inf and NaN shift by 0
            shift = consts[0]
        total = consts[0]
        j = r
        while j < n and i < m:
            total += exp(x[base + offset(j, rshape, rstrides)] - shift, consts)
            j += rows
        total = sum_column(partial, total, r, rows, rstep)
        if i >= m:
            return
        if not whole_rows:
            if r == 0:
                out[i] = log(total, consts) + shift
            return
        out_base, lse = offset(i, kshape, kostrides), log(total, consts) + shift
        j = r
        while j < n:
            v = x[base + offset(j, rshape, rstrides)]
            at = out_base + offset(j, rshape, rostrides)
            if normalise:
                out[at] = exp(v - shift, consts) / total
            else:
                out[at] = v - lse
            j += rows

    return row_kernel


# -- planning ---------------------------------------------------------------------------------
def _merge(axes: list[tuple[int, tuple[int, ...]]], arrays: int) -> tuple[tuple[int, ...], list]:
    """``(sizes, [strides of each array])`` of ``axes``, given as ``(size, (stride in each
    array, ...))`` outer first, with size-1 axes dropped and neighbours that are one
    memory run in every array merged.  Never empty: no axes give one of size 1."""
    merged: list[tuple[int, tuple[int, ...]]] = []
    for n, strides in axes:
        if n == 1:
            continue
        if merged and all(prev == s * n for prev, s in zip(merged[-1][1], strides)):
            merged[-1] = (merged[-1][0] * n, strides)
        else:
            merged.append((n, strides))
    if not merged:
        merged = [(1, (0,) * arrays)]
    return tuple(n for n, _ in merged), list(zip(*(s for _, s in merged)))


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


def _element_strides(x) -> tuple[int, ...] | None:
    """``x``'s strides in elements; None when a kernel cannot index it (host scalar,
    negative or unaligned strides)."""
    if not dev.is_device_array(x):
        return None
    itemsize = x.dtype.itemsize
    if any(s < 0 or s % itemsize for s in x.strides):
        return None
    return tuple(s // itemsize for s in x.strides)


def _split(shape, strides: list[tuple[int, ...]], axis) -> tuple:
    """The merged kept and reduced axes, ``(sizes, [strides of each array])`` each, the
    reduced ones ordered by decreasing stride in the first array."""
    axes = [(n, tuple(s[a] for s in strides)) for a, n in enumerate(shape)]
    kept = _merge([e for a, e in enumerate(axes) if a not in axis], len(strides))
    red = _merge(sorted((axes[a] for a in axis), key=lambda e: -e[1][0]), len(strides))
    return kept, red


def _flat(x, strides):
    """A 1-D view of ``x``'s memory from its first element, as far as it reaches."""
    if x.size == 0:
        return dev.empty((1,), x.dtype)  # never read
    span = 1 + sum((k - 1) * s for k, s in zip(x.shape, strides))
    return dev.view(x, (span,), (x.dtype.itemsize,))


def _reduce(op: _Op, x, axis, keepdims):
    params = {"axis": axis, "keepdims": keepdims}
    strides = _element_strides(x)
    acc_dtype = None if strides is None else op.result_dtype(np.dtype(x.dtype))
    if acc_dtype is None:
        return dev.host_call(op.primitive, x, **params)
    axis = tuple(axis)
    m = math.prod(k for a, k in enumerate(x.shape) if a not in axis)
    n = math.prod(x.shape[a] for a in axis)
    if n == 0 and op is not _SUM:
        return dev.host_call(op.primitive, x, **params)  # the reference's ValueError
    out_shape = tuple(1 if a in axis else k for a, k in enumerate(x.shape) if keepdims or a not in axis)
    if m == 0:
        return dev.empty(out_shape, acc_dtype)
    (kshape, (kstrides,)), (rshape, (rstrides,)) = _split(x.shape, [strides], axis)
    out = _reduce_flat(op, _flat(x, strides), (kshape, kstrides), (rshape, rstrides), m, n, acc_dtype)
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


# -- softmax, log_softmax, logsumexp: one pass of row kernels -----------------------------------
def _row_op(mode: str, primitive, x, axes, keepdims=None):
    """``primitive`` (``mode``) over ``axes`` of device array ``x``, C-contiguous result."""
    params = {"axes": axes} if keepdims is None else {"axes": axes, "keepdims": keepdims}
    strides = _element_strides(x)
    if strides is None or np.dtype(x.dtype) not in _FLOATS:
        return dev.host_call(primitive, x, **params)
    dtype, axes = np.dtype(x.dtype), tuple(axes)
    m = math.prod(k for a, k in enumerate(x.shape) if a not in axes)
    n = math.prod(x.shape[a] for a in axes)
    if keepdims is None:
        out_shape = tuple(x.shape)
    else:
        out_shape = tuple(1 if a in axes else k for a, k in enumerate(x.shape)
                          if keepdims or a not in axes)
    if math.prod(out_shape) == 0:
        return dev.empty(out_shape, dtype)
    out = dev.empty((math.prod(out_shape),), dtype)
    ostrides = [s // dtype.itemsize for s in dev.c_strides(x.shape, dtype.itemsize)]
    (kshape, (kstrides, kostrides)), (rshape, (rstrides, rostrides)) = _split(
        x.shape, [strides, ostrides], axes)
    cfg = sizes()
    p = plan(m, n, rstrides[-1] <= kstrides[-1], cfg)
    consts = (dtype.type(0), dtype.type(-np.inf), dtype.type(np.inf),
              dtype.type(np.log(np.finfo(dtype).max)))
    kernel = _row_kernel_for(mode, dtype, cfg.block)
    kernel[p.blocks, cfg.block](_flat(x, strides), out, consts, kshape, kstrides, kostrides,
                                rshape, rstrides, rostrides, m, n, p.rows, p.reduction_fast)
    return dev.view(out, out_shape, dev.c_strides(out_shape, dtype.itemsize))


def softmax_kernel(x, axes):
    """``softmax`` over ``axes`` (max-shifted, as ``funcgrad.scipy.special.softmax``)."""
    return _row_op("softmax", special._softmax_p, x, axes)


def log_softmax_kernel(x, axes):
    """``log_softmax`` over ``axes`` (``x - logsumexp(x, axes, keepdims=True)``)."""
    return _row_op("log_softmax", special._log_softmax_p, x, axes)


def logsumexp_kernel(a, axes, keepdims):
    """``logsumexp`` over ``axes`` (max-shifted, as ``funcgrad.scipy.special.logsumexp``)."""
    return _row_op("logsumexp", special._logsumexp_p, a, axes, keepdims)


KERNELS: dict = {
    reductions.sum_p: sum_kernel,
    reductions.max_p: max_kernel,
    reductions.min_p: min_kernel,
    special._softmax_p: softmax_kernel,
    special._log_softmax_p: log_softmax_kernel,
    special._logsumexp_p: logsumexp_kernel,
}
