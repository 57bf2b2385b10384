"""The CUDA matmul kernel: ``np.matmul`` on device arrays, tiled in shared memory.

One kernel source, built with different tile constants (:class:`Tiles`):

* each thread block computes a ``bm x bn`` tile of ``C``; it walks the contraction
  in steps of ``bk``, loading a ``bm x bk`` tile of ``A`` and a ``bk x bn`` tile of
  ``B`` into shared memory (zeros outside the matrices, so any size works), with a
  ``syncthreads`` before and after the multiply-adds of each step;
* each thread accumulates a ``tm x tn`` micro-tile of ``C`` in registers (register
  blocking): per ``k`` it reads ``tm + tn`` values from shared memory for
  ``tm * tn`` multiply-adds.  Its rows and columns are interleaved (row
  ``ty + i * (bm // tm)``, column ``tx + j * (bn // tn)``), so the threads of a
  warp read consecutive shared-memory words (no bank conflicts) and store
  consecutive columns of ``C`` (coalesced);
* the tiles of ``A`` and ``B`` are loaded along whichever of their axes is
  contiguous in memory (a flag per launch), so transposed operands are read with
  coalesced loads too; ``A``'s tile is stored transposed (``k`` major) and both
  shared tiles are padded by 4 words per row against bank conflicts on the
  stores.

Operands are read in place whatever their strides: each is passed as a flat view
starting at its first element plus element strides, so transposed and sliced
operands and broadcast batch axes (stride 0) are never copied.  Batch axes are the
third grid axis (a grid-stride loop past 65,535 batches); they are merged where
both operands allow it, and any number of them remains correct.  1-D operands are
matrices with one row (``a``) or one column (``b``), dropped from the result
shape as NumPy does; an empty result launches nothing, and an empty contraction
gives zeros.  float32 and float64 operands of the same dtype have kernels; other
dtypes, mixed dtypes, negative strides and every shape error run NumPy on the host
(:func:`~funcgrad.backends._cuda_arrays.host_call`, counted in ``STATS``).

Tile sizes (on a GPU; :data:`GPU_TILES`).  256 threads per block in every
configuration, enough warps per SM to hide latency with 2-4 blocks resident.
float32 at large sizes: ``128 x 128`` tiles, ``bk = 8``, ``8 x 8`` per thread
(64 accumulators); 4 FMAs per shared-memory load (one output per thread: 1/2)
and 2 x 4.1 KiB of shared memory per block: the classic SGEMM shape, which written
in CUDA C typically reaches 60-80 % of cuBLAS.  Numba's code generation (64-bit
index arithmetic, no vectorised ``float4`` loads, no double buffering) costs some
of that: expect roughly 40-60 % of cuBLAS at 4096² float32, a guess, **not
measured** (no GPU was available when this was written; the kernels were compiled
to PTX for sm_90 without one: the accumulators stay in registers, no local
memory).  float64 at large sizes: ``64 x 64`` tiles with ``4 x 4`` per thread
(each value takes two registers); float64 peak is 1/2 (datacentre parts) to 1/64
(consumer parts) of float32: on the latter the FMA units bound any tiling, on the
former this tile's 2 FMAs per shared-memory load may not reach peak (a guess, not
measured either).  Small problems (fewer than ``LARGE_MIN_TILES`` large tiles of
output, or fewer than half a tile of rows or columns, as for matrix @ vector):
``16 x 16`` tiles, ``bk = 16``, one output per thread, which
keeps many blocks in flight where large tiles would leave most SMs idle.

Under Numba's CUDA simulator (:data:`SIM_TILES`) every thread is a Python thread,
so the tiles are tiny (16 and 8 threads per block), the register-blocked one
deliberately not square (``bm != bn != bk``, so that a mix-up of rows and columns
fails the tests), and the grid has at most 4 blocks on its batch axis (so that the
tests run the grid-stride loop over batches); the code path is the same.  Kernels
are compiled on first use, one per tile configuration and dtype (and, by Numba's
dispatch, per number of batch axes).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from funcgrad.backends import _cuda_arrays as dev
from funcgrad.ops.linalg import matmul_p


class Tiles(NamedTuple):
    """A block's ``bm x bn`` tile of C, its ``bk`` contraction step and each thread's ``tm x tn`` micro-tile."""

    bm: int
    bn: int
    bk: int
    tm: int
    tn: int


#: Tile configurations on a GPU: small problems, and large ones per dtype.
GPU_TILES = {"small": Tiles(16, 16, 16, 1, 1),
             np.dtype(np.float32): Tiles(128, 128, 8, 8, 8),
             np.dtype(np.float64): Tiles(64, 64, 8, 4, 4)}
#: Under the simulator: the same code with a few threads per block.
SIM_TILES = {"small": Tiles(4, 4, 3, 1, 1),
             np.dtype(np.float32): Tiles(16, 8, 6, 4, 4),
             np.dtype(np.float64): Tiles(16, 8, 6, 4, 4)}
#: The register-blocked tiles are used when the output holds at least this many of them.
LARGE_MIN_TILES = 16
SIM_LARGE_MIN_TILES = 1
#: Shared-memory words added to each row of a tile (against bank conflicts).
PAD = 4
#: ``numba.cuda``, set by :func:`build`: the kernel reads it as a module global, which is
#: what the simulator swaps for its fake module while a kernel runs.
cuda: Any = None
#: The most blocks on the grid's batch axis: CUDA's limit (batches past it are a grid-stride
#: loop); under the simulator a small one, so that the tests run that loop.
MAX_GRID_Z = 65535
SIM_MAX_GRID_Z = 4


def tiles_for(dtype: np.dtype, m: int, n: int, outputs: int) -> Tiles:
    """The tile configuration for an ``m x n`` product with ``outputs`` elements in all.

    Examples:
        >>> tiles_for(np.dtype(np.float32), 4096, 4096, 4096 ** 2).tm > 1  # register-blocked
        True
        >>> tiles_for(np.dtype(np.float32), 1, 4096, 4096).tm  # one row: one output per thread
        1
    """
    table = _table()
    large = table[dtype]
    min_tiles = SIM_LARGE_MIN_TILES if dev.simulated() else LARGE_MIN_TILES
    if (2 * m >= large.bm and 2 * n >= large.bn
            and outputs >= min_tiles * large.bm * large.bn):
        return large
    return table["small"]


def _table() -> dict:
    return SIM_TILES if dev.simulated() else GPU_TILES


def _tile_loader(rows: int, bk: int, threads: int, zero) -> Any:
    """A device function that loads a ``rows x bk`` tile of a matrix into shared memory, ``k`` major.

    ``load(S, X, off, r0, k0, R, K, sr, sk, k_fast, tid)`` has the block's ``threads``
    threads copy ``X[off + r * sr + k * sk]`` for ``r0 <= r < r0 + rows`` and
    ``k0 <= k < k0 + bk`` to ``S[k - k0, r - r0]`` (zero past ``R`` rows or ``K``
    columns).  With ``k_fast`` consecutive threads read consecutive ``k``, otherwise
    consecutive ``r``: the caller picks the operand's contiguous axis, so the reads
    are coalesced.  ``A``'s tile has the rows of ``A``, ``B``'s the columns of ``B``.
    """
    size = rows * bk
    loads = -(-size // threads)

    @cuda.jit(device=True)
    def load(S, X, off, r0, k0, R, K, sr, sk, k_fast, tid):
        for step in range(loads):
            e = tid + step * threads
            if e < size:
                if k_fast:
                    rr, kk = e // bk, e % bk
                else:
                    rr, kk = e % rows, e // rows
                r, k = r0 + rr, k0 + kk
                v = zero
                if r < R and k < K:
                    v = X[off + r * sr + k * sk]
                S[kk, rr] = v
    return load


@functools.cache
def build(dtype: np.dtype, tiles: Tiles) -> Any:
    """The compiled (on first launch) kernel for ``dtype`` and ``tiles``.

    ``kernel[grid, block](A, B, C, nbatch, bshape, astr, bstr, M, N, K, sam, sak, sbk, sbn,
    a_k_fast, b_k_fast)``: ``A``, ``B``, ``C`` are flat; batch ``z``'s multi-index in
    ``bshape`` gives the element offsets of its matrices in ``A`` and ``B`` through
    the strides ``astr`` and ``bstr``; ``C`` is C-contiguous ``(nbatch, M, N)``.
    """
    import numba

    global cuda
    cuda = dev.cuda()
    value = numba.from_dtype(dtype)
    zero = dtype.type(0)
    bm, bn, bk, tm, tn = tiles
    tx_count, ty_count = bn // tn, bm // tm
    threads = tx_count * ty_count
    load_a, load_b = _tile_loader(bm, bk, threads, zero), _tile_loader(bn, bk, threads, zero)
    a_width, b_width = bm + PAD, bn + PAD  # shapes of shared arrays must be constants, not sums

    @cuda.jit
    def kernel(A, B, C, nbatch, bshape, astr, bstr, M, N, K, sam, sak, sbk, sbn,
               a_k_fast, b_k_fast):
        As = cuda.shared.array((bk, a_width), value)  # both tiles k major
        Bs = cuda.shared.array((bk, b_width), value)
        acc = cuda.local.array((tm, tn), value)
        a_reg = cuda.local.array(tm, value)
        b_reg = cuda.local.array(tn, value)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        tid = ty * tx_count + tx
        n_tiles = (N + bn - 1) // bn
        m0 = (cuda.blockIdx.x // n_tiles) * bm
        n0 = (cuda.blockIdx.x % n_tiles) * bn
        for z in range(cuda.blockIdx.z, nbatch, cuda.gridDim.z):
            a_off, b_off, rest = 0, 0, z
            for d in range(len(bshape) - 1, -1, -1):
                index = rest % bshape[d]
                rest //= bshape[d]
                a_off += index * astr[d]
                b_off += index * bstr[d]
            for i in range(tm):
                for j in range(tn):
                    acc[i, j] = zero
            for k0 in range(0, K, bk):
                load_a(As, A, a_off, m0, k0, M, K, sam, sak, a_k_fast, tid)
                load_b(Bs, B, b_off, n0, k0, N, K, sbn, sbk, b_k_fast, tid)
                cuda.syncthreads()
                for kk in range(bk):
                    for i in range(tm):
                        a_reg[i] = As[kk, ty + i * ty_count]
                    for j in range(tn):
                        b_reg[j] = Bs[kk, tx + j * tx_count]
                    for i in range(tm):
                        for j in range(tn):
                            acc[i, j] += a_reg[i] * b_reg[j]
                cuda.syncthreads()
            c_off = z * M * N
            for i in range(tm):
                m = m0 + ty + i * ty_count
                if m < M:
                    for j in range(tn):
                        n = n0 + tx + j * tx_count
                        if n < N:
                            C[c_off + m * N + n] = acc[i, j]

    kernel.block = (tx_count, ty_count)
    return kernel


# -- operands -------------------------------------------------------------------------------------
def _element_strides(x) -> tuple[int, ...] | None:
    """``x``'s strides in elements (0 on axes of length 1), or None when one is negative."""
    size = x.dtype.itemsize
    out = tuple(0 if n <= 1 else int(s) // size for n, s in zip(x.shape, x.strides))
    if any(s < 0 or s * size != t for n, s, t in zip(x.shape, out, x.strides) if n > 1):
        return None
    return out


def _flat(x, strides: tuple[int, ...]):
    """A 1-D view of every element ``x`` addresses, from its first element (no copy)."""
    span = 1 + sum((n - 1) * s for n, s in zip(x.shape, strides))
    return dev.view(x, (span,), (x.dtype.itemsize,))


def _batch_axes(shape: tuple[int, ...], a_strides: list[int], b_strides: list[int]):
    """The batch axes with size-1 axes dropped and neighbours merged where both operands allow.

    Returns ``(shape, a_strides, b_strides)`` as tuples of at least one axis.
    """
    axes = [(n, sa, sb) for n, sa, sb in zip(shape, a_strides, b_strides) if n != 1]
    merged: list[tuple[int, int, int]] = []
    for n, sa, sb in axes:
        if merged:
            pn, psa, psb = merged[-1]
            if psa == sa * n and psb == sb * n:
                merged[-1] = (pn * n, sa, sb)
                continue
        merged.append((n, sa, sb))
    if not merged:
        merged = [(1, 0, 0)]
    return tuple(zip(*merged))


def _padded_batch(x, strides: tuple[int, ...], batch: tuple[int, ...], core: int) -> list[int]:
    """``x``'s batch strides aligned right to ``batch``: 0 on axes it lacks or broadcasts."""
    own = len(x.shape) - core
    out = [0] * (len(batch) - own)
    for n, s in zip(x.shape[:own], strides[:own]):
        out.append(0 if n == 1 else s)
    return out


# -- the kernel -----------------------------------------------------------------------------------
def matmul_kernel(a, b):
    """``np.matmul(a, b)`` for float32 or float64 device arrays of any strides, on the device.

    Returns a new C-contiguous device array (0-d for vector @ vector).  Other dtypes,
    shape errors and negatively strided operands run NumPy on the host, counted.

    Examples (a device, or the simulator, ``NUMBA_ENABLE_CUDASIM=1``):
        >>> a = dev.to_device(np.ones((2, 3), np.float32))
        >>> matmul_kernel(a, a.T).copy_to_host()
        array([[3., 3.],
               [3., 3.]], dtype=float32)
    """
    if not (dev.is_device_array(a) and dev.is_device_array(b)) or a.dtype != b.dtype \
            or a.dtype not in (np.float32, np.float64) or a.ndim == 0 or b.ndim == 0:
        return dev.host_call(matmul_p, a, b)
    sa, sb = tuple(a.shape), tuple(b.shape)
    K = sa[-1]
    if K != (sb[0] if b.ndim == 1 else sb[-2]):
        return dev.host_call(matmul_p, a, b)  # the reference's error
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        return dev.host_call(matmul_p, a, b)
    a_str, b_str = _element_strides(a), _element_strides(b)
    if a_str is None or b_str is None:
        return dev.host_call(matmul_p, a, b)
    M = 1 if a.ndim == 1 else sa[-2]
    N = 1 if b.ndim == 1 else sb[-1]
    out_shape = batch + sa[-2:-1] * (a.ndim > 1) + sb[-1:] * (b.ndim > 1)
    dtype = np.dtype(a.dtype)
    nbatch = math.prod(batch)
    if nbatch * M * N == 0:
        return dev.empty(out_shape, dtype)
    sam, sak = (0, a_str[0]) if a.ndim == 1 else a_str[-2:]
    sbk, sbn = (b_str[0], 0) if b.ndim == 1 else b_str[-2:]
    bshape, astr, bstr = _batch_axes(batch, _padded_batch(a, a_str, batch, min(a.ndim, 2)),
                                     _padded_batch(b, b_str, batch, min(b.ndim, 2)))
    flat_out = dev.empty((nbatch * M * N,), dtype)
    if K == 0:  # nothing is read: the kernel writes zeros
        flat_a = flat_b = flat_out
    else:
        flat_a, flat_b = _flat(a, a_str), _flat(b, b_str)
    tiles = tiles_for(dtype, M, N, nbatch * M * N)
    kernel = build(dtype, tiles)
    grid_z = SIM_MAX_GRID_Z if dev.simulated() else MAX_GRID_Z
    grid = (-(-M // tiles.bm) * -(-N // tiles.bn), 1, min(nbatch, grid_z))
    kernel[grid, kernel.block](flat_a, flat_b, flat_out, nbatch, bshape, astr, bstr, M, N, K,
                               sam, sak, sbk, sbn, not (sam == 1 and sak != 1),
                               sbk == 1 and sbn != 1)  # read along k where k is contiguous
    return flat_out.reshape(out_shape)


KERNELS = {matmul_p: matmul_kernel}
