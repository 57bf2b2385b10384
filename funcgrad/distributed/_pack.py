"""Pytrees to contiguous buffers and back: one buffer per dtype, reduced in buckets.

The leaves of one dtype are copied, in flatten order, into one new 1-D buffer; the buffer
is cut into buckets of ``bucket_bytes`` (whole elements, at least one, so a large leaf
spans several buckets and a bucket may hold the ends of several leaves).  A bucket's
collective starts as soon as the bucket is full, so copying the next leaves overlaps its
reduction (each copied chunk also polls the pending requests, which is what drives an
MPI library's progress).  The collectives run in place; the results are reshaped views
of the buffer, so unpacking copies nothing.  Every rank starts the same collectives in
the same order because :func:`check_same_everywhere` has compared the trees (structure,
paths, shapes, dtypes and the collective's arguments) on every rank first.

The sums are bit-identical on every rank: MPI's allreduce algorithms (recursive doubling,
reduce-scatter + allgather, ring; MPICH picks by message size) form each partial sum either
on one rank, which then sends it on, or on two ranks with the operands swapped, and IEEE
addition is commutative; the mean's division then runs on identical bits.  The MPI
standard recommends this property without requiring it; the tests check it under
``mpiexec -n 2`` and ``-n 3`` for every bucket path.
"""

from __future__ import annotations

import collections
import hashlib
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree as _tree
from funcgrad._core.trace import Tracer
from funcgrad.distributed._comm import Request, World
from funcgrad.errors import DistributedError, DTypeError

Leaf = Any
Signature = tuple[str, str, tuple[tuple[str, tuple[int, ...], str], ...]]


def as_arrays(what: str, tree: Any) -> tuple[list[np.ndarray], list[str], _tree.TreeDef, list[bool]]:
    """The leaves of ``tree`` as NumPy arrays, their key paths, the treedef, and which leaves
    were scalars (NumPy or Python numbers, given back as NumPy scalars)."""
    pairs, treedef = _tree.flatten_with_path(tree)
    arrays, paths, scalars = [], [], []
    for path, leaf in pairs:
        where = _tree.keystr(path) or "<root>"
        if isinstance(leaf, np.ndarray):
            arrays.append(leaf)
            scalars.append(False)
        elif isinstance(leaf, (np.generic, int, float, complex)):
            arrays.append(np.asarray(leaf))
            scalars.append(True)
        else:
            hint = (" (a traced value: collectives run on concrete arrays, outside jit/grad/vmap)"
                    if isinstance(leaf, Tracer) else "")
            raise DTypeError(f"{what}: leaf {where} is a {type(leaf).__name__}{hint}; expected "
                             f"NumPy arrays or numbers")
        paths.append(where)
    return arrays, paths, treedef, scalars


def check_dtypes(what: str, arrays: list[np.ndarray], paths: list[str], kinds: str,
                 expected: str) -> None:
    """Raise a DTypeError naming the first leaf whose dtype kind is not in ``kinds``."""
    for array, where in zip(arrays, paths):
        if array.dtype.kind not in kinds or not array.dtype.isnative:
            raise DTypeError(f"{what}: leaf {where} has dtype {array.dtype}; expected {expected}")


def signature(args: str, treedef: _tree.TreeDef, arrays: list[np.ndarray],
              paths: list[str]) -> Signature:
    """What must agree on every rank: the collective's arguments, structure, shapes, dtypes."""
    leaves = tuple((where, a.shape, a.dtype.str) for where, a in zip(paths, arrays))
    # Static parts of a structure may print with a memory address (a lambda in a static
    # dataclass field), which differs between processes: not a difference that matters.
    return (args, _ADDRESS.sub(" at 0x...", str(treedef)), leaves)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _digest(sig: Signature) -> int:
    raw = hashlib.blake2b(repr(sig).encode(), digest_size=8).digest()
    return int.from_bytes(raw, "little", signed=True)


def check_same_everywhere(what: str, world: World, sig: Signature) -> None:
    """Compare ``sig`` across ranks (one allgather of an int64 hash); on a mismatch every rank
    gathers the full signatures and raises the same DistributedError naming the first
    difference between rank 0 and the lowest rank that differs from it."""
    if world.size == 1:
        return
    hashes = world.allgather_int64(np.array([_digest(sig)]))[:, 0]
    if (hashes == hashes[0]).all():
        return
    sigs = world.allgather_object(sig)
    other = next(r for r in range(1, world.size) if hashes[r] != hashes[0])
    raise DistributedError(f"{what}: the ranks passed different trees or arguments; "
                           f"{first_difference(sigs[0], sigs[other], other)}")


def first_difference(a: Signature, b: Signature, rank_b: int) -> str:
    """Describe the first place where rank 0's signature ``a`` and rank ``rank_b``'s differ."""
    names = "rank 0", f"rank {rank_b}"
    if a[0] != b[0]:
        return f"{names[0]} called it with {a[0]}, {names[1]} with {b[0]}"
    for i, (x, y) in enumerate(zip(a[2], b[2])):
        if x != y:
            if x[0] != y[0]:
                return (f"leaf {i} is {x[0]} on {names[0]} but {y[0]} on {names[1]} "
                        f"(structures: {a[1]} vs {b[1]})")
            return (f"leaf {x[0]} has shape {x[1]} dtype {np.dtype(x[2])} on {names[0]} but "
                    f"shape {y[1]} dtype {np.dtype(y[2])} on {names[1]}")
    if len(a[2]) != len(b[2]):
        longer, extra = (names[0], a[2]) if len(a[2]) > len(b[2]) else (names[1], b[2])
        first = extra[min(len(a[2]), len(b[2]))][0]
        return (f"{names[0]} has {len(a[2])} leaves, {names[1]} has {len(b[2])} leaves (the first "
                f"extra leaf, on {longer}: {first}; structures: {a[1]} vs {b[1]})")
    return f"the structures differ: {a[1]} on {names[0]} vs {b[1]} on {names[1]}"


# Buffers are reused from step to step: an MPI library pays more for a buffer at a new
# address (registering its memory for shared-memory or network transfers) than for the
# copy; measured here, a 2 MB allreduce took 2-3x longer into a fresh buffer than into a
# reused one.  The results are views of a buffer, so a buffer is free again only when no
# result refers to it: its reference count says so (the pool's list, the loop variable and
# getrefcount's argument).  A training loop still holds the previous step's gradients while
# the next step reduces, hence a few buffers per (dtype, size).
# Keys used least recently are dropped beyond _POOL_KEYS (trees of changing sizes would
# otherwise pile up buffers); a dropped buffer lives on only in the results that view it.
_POOL_PER_KEY = 3
_POOL_KEYS = 16
_pool: collections.OrderedDict[tuple[np.dtype, int], list[np.ndarray]] = collections.OrderedDict()


def _refs_when_free() -> int:
    for probe in [np.empty(0)]:
        return sys.getrefcount(probe)
    raise AssertionError("unreachable")


_FREE_REFS = _refs_when_free()


def take_buffer(dtype: np.dtype, n: int) -> np.ndarray:
    """A 1-D buffer of ``n`` elements of ``dtype``: a pooled one that no earlier result still
    refers to, or a new one (kept in the pool while the pool for its key has room)."""
    free = _pool.setdefault((dtype, n), [])
    _pool.move_to_end((dtype, n))
    if len(_pool) > _POOL_KEYS:
        _pool.popitem(last=False)
    for buf in free:
        if sys.getrefcount(buf) <= _FREE_REFS:
            return buf
    buf = np.empty(n, dtype=dtype)
    if len(free) < _POOL_PER_KEY and n > 0:
        free.append(buf)
    return buf


class _Buckets:
    """One dtype's buffer, filled chunk by chunk; each full bucket's collective starts at once."""

    def __init__(self, buf: np.ndarray, bucket_elems: int, start: Callable[[np.ndarray], Request],
                 prepare: Callable[[np.ndarray], None] | None,
                 pending: list[tuple[Request, np.ndarray]]):
        self.buf, self.step, self.start, self.pending = buf, bucket_elems, start, pending
        self.prepare = prepare
        self.filled = self.started = 0
        self.cut = min(bucket_elems, buf.size)

    def skip(self, n: int) -> None:
        """Advance over ``n`` elements that need no copy (a broadcast's receivers)."""
        self.filled += n
        while self.started < self.buf.size and self.filled >= self.cut:
            self._start_bucket()

    def add(self, flat: np.ndarray) -> None:
        pos = 0
        while pos < flat.size:
            take = min(flat.size - pos, self.cut - self.filled)
            self.buf[self.filled:self.filled + take] = flat[pos:pos + take]
            self.filled += take
            pos += take
            if self.filled == self.cut:
                self._start_bucket()
            # Let an MPI library without a progress thread advance the reductions in flight.
            self.pending[:] = [(r, b) for r, b in self.pending if not r.Test()]

    def _start_bucket(self) -> None:
        bucket = self.buf[self.started:self.cut]
        if self.prepare is not None:
            self.prepare(bucket)
        self.pending.append((self.start(bucket), bucket))  # keep the view alive until done
        self.started = self.cut
        self.cut = min(self.cut + self.step, self.buf.size)


def run_bucketed(arrays: list[np.ndarray], bucket_bytes: int,
                 start: Callable[[np.ndarray], Request], copy_in: bool = True,
                 prepare: Callable[[np.ndarray], None] | None = None,
                 finish: Callable[[np.ndarray], None] | None = None
                 ) -> tuple[list[np.ndarray], int, int]:
    """Pack ``arrays`` into one buffer per dtype, ``prepare`` each full bucket in place (a
    weighting) and run ``start`` on it, wait, then ``finish`` each whole buffer in place
    (the mean's division).

    Returns the results (views of the buffers, shaped like the inputs), the number of
    buckets and the number of bytes moved.  ``copy_in=False`` leaves the buffers
    uninitialised (for ranks whose data the collective overwrites).
    """
    groups: dict[np.dtype, list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.dtype, []).append(i)
    pending: list[tuple[Request, np.ndarray]] = []
    buffers: list[np.ndarray] = []
    out: list[np.ndarray] = [None] * len(arrays)  # type: ignore[list-item]
    buckets = nbytes = 0
    for dtype, members in groups.items():
        buf = take_buffer(dtype, sum(arrays[i].size for i in members))
        buffers.append(buf)
        elems = max(1, bucket_bytes // dtype.itemsize)
        filler = _Buckets(buf, elems, start, prepare, pending)
        offset = 0
        for i in members:
            a = arrays[i]
            if copy_in:
                filler.add(np.ravel(a))
            else:
                filler.skip(a.size)
            out[i] = buf[offset:offset + a.size].reshape(a.shape)
            offset += a.size
        buckets += -(-buf.size // elems)
        nbytes += buf.nbytes
    for request, _ in pending:
        request.Wait()
    if finish is not None:
        for buf in buffers:
            finish(buf)
    return out, buckets, nbytes


def rebuild(treedef: _tree.TreeDef, arrays: list[np.ndarray], scalars: list[bool]) -> Any:
    """Put the result arrays back into the tree; scalar leaves come back as NumPy scalars."""
    return _tree.unflatten(treedef, [a[()] if s else a for a, s in zip(arrays, scalars)])
