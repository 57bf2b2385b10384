"""Data-parallel training over MPI: the same script runs alone or under ``mpiexec -n N``.

Every rank runs the same step on its own shard of the batch (:func:`shard`); the
gradients are averaged across ranks (:func:`data_parallel`, :func:`allreduce`) before the
optimiser update, which then runs identically everywhere.  Collectives take pytrees of
NumPy arrays: the leaves are packed into one contiguous buffer per dtype and reduced in
buckets of ``bucket_bytes`` with ``MPI_Allreduce`` (``MPI_Iallreduce`` for large buckets,
so packing the next bucket overlaps), and before any data moves a hash of the trees
(structure, shapes, dtypes, arguments) is compared across ranks, so a mismatch is a
:class:`~funcgrad.errors.DistributedError` on every rank instead of a hang or garbage.

Alone (``python train.py``) this module is a world of one: rank 0, size 1, identity
reductions, and ``mpi4py`` is never imported.  Under an MPI launcher (``PMI_RANK`` /
``OMPI_COMM_WORLD_SIZE`` in the environment, or ``FUNCGRAD_MPI=1``) it imports ``mpi4py``
(the ``mpi`` extra) when this module is imported and installs an excepthook that aborts the
whole job when any rank raises.  ``FUNCGRAD_MPI=0`` forces a single process.

Example::

    import funcgrad as fg
    from funcgrad import distributed as dist

    params = dist.broadcast(init_params(seed=dist.rank()))   # rank 0's parameters everywhere
    step = dist.data_parallel(fg.value_and_grad(loss))       # loss(params, batch)
    loss_value, grads = step(params, dist.shard(batch))      # the full batch's mean, every rank
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import numpy as np

from funcgrad import tree as _tree
from funcgrad.distributed import _comm, _hooks, _pack
from funcgrad.errors import ArgumentError, DistributedError, ShapeError

__all__ = ["DEFAULT_BUCKET_BYTES", "Stats", "allreduce", "barrier", "broadcast",
           "data_parallel", "install_excepthook", "is_distributed", "rank", "shard", "size",
           "stats"]

PyTree = Any
T = TypeVar("T")

DEFAULT_BUCKET_BYTES = 25 * 2**20
"""Bucket size of :func:`allreduce` and :func:`broadcast` (25 MiB, PyTorch DDP's default)."""

_WORLD: _comm.World = _comm.make_world(os.environ)
if _WORLD.distributed:
    _hooks.install(_WORLD)


@dataclasses.dataclass
class Stats:
    """Counters of the collectives this process ran (for benchmarks); ``reset()`` zeroes them.

    ``allreduce_*`` count :func:`allreduce` and the reductions of :func:`data_parallel`
    (calls, buckets, bytes of packed buffers per rank); ``allreduce_seconds`` is the wall
    time from the cross-rank tree check to the last bucket's completion, so it includes
    waiting for the slowest rank.  Alone ``data_parallel`` runs no collective.

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.stats.reset(); _ = dist.allreduce({"w": np.ones(3)})
        >>> dist.stats.allreduce_calls, dist.stats.allreduce_bytes
        (1, 24)
    """

    allreduce_calls: int = 0
    allreduce_buckets: int = 0
    allreduce_bytes: int = 0
    allreduce_seconds: float = 0.0
    broadcast_calls: int = 0
    broadcast_seconds: float = 0.0

    def reset(self) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, field.default)


stats = Stats()


def rank() -> int:
    """This process's rank, 0 to ``size() - 1`` (0 when not under MPI).

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.rank()
        0
    """
    return _WORLD.rank


def size() -> int:
    """The number of processes in the job (1 when not under MPI).

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.size()
        1
    """
    return _WORLD.size


def is_distributed() -> bool:
    """True when running under MPI with more than one process.

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.is_distributed()
        False
    """
    return _WORLD.distributed


def barrier() -> None:
    """Wait until every rank has called ``barrier()`` (nothing to wait for alone).

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.barrier()
    """
    _WORLD.barrier()


def install_excepthook() -> None:
    """Make an uncaught exception on any rank print that rank's traceback (each line
    prefixed ``[rank r]``) and abort the whole job with a non-zero exit, instead of
    leaving the other ranks waiting in a collective.  Installed automatically when this
    module is imported under MPI with more than one process; a no-op otherwise.

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.install_excepthook()
    """
    if _WORLD.distributed:
        _hooks.install(_WORLD)


def _check_bucket_bytes(what: str, bucket_bytes: int | None) -> int:
    if bucket_bytes is None:
        return DEFAULT_BUCKET_BYTES
    if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, (int, np.integer)) \
            or bucket_bytes < 1:
        raise ArgumentError(f"{what}: bucket_bytes must be a positive int, got {bucket_bytes!r}")
    return int(bucket_bytes)


def _reduce_arrays(arrays: list[np.ndarray], op: str, bucket_bytes: int, began: float,
                   prepare: Callable[[np.ndarray], None] | None = None) -> list[np.ndarray]:
    """Sum (or average) checked, same-everywhere arrays across ranks; ``stats`` counts the
    call and the seconds since ``began`` (which include the cross-rank check before it,
    where a rank also waits for the slowest)."""
    finish = None
    if op == "mean" and _WORLD.size > 1:
        world_size = _WORLD.size

        def finish(buf: np.ndarray) -> None:
            np.divide(buf, world_size, out=buf)

    out, buckets, nbytes = _pack.run_bucketed(arrays, bucket_bytes, _WORLD.start_allreduce,
                                              prepare=prepare, finish=finish)
    stats.allreduce_calls += 1
    stats.allreduce_buckets += buckets
    stats.allreduce_bytes += nbytes
    stats.allreduce_seconds += time.perf_counter() - began
    return out


def allreduce(tree: PyTree, op: Literal["mean", "sum"] = "mean", *,
              bucket_bytes: int | None = None) -> PyTree:
    """Sum or average every leaf of ``tree`` across ranks; the same tree on every rank.

    Leaves are NumPy arrays or numbers (float16/32/64, complex, and for ``"sum"`` also
    integers); the result has the same structure, shapes and dtypes (numbers come back as
    NumPy scalars; arrays are views of one buffer per dtype, which a later call reuses only
    once no result refers to it) and is bit-identical on every rank.  Leaves of one dtype travel together in buckets of ``bucket_bytes``
    (default :data:`DEFAULT_BUCKET_BYTES`).  Every rank must pass the same structure,
    shapes, dtypes, ``op`` and ``bucket_bytes``; otherwise every rank raises
    :class:`~funcgrad.errors.DistributedError` naming the first difference.  Alone it is
    the identity (on a copy).

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.allreduce({"w": np.array([1.0, 2.0]), "n": 3}, op="sum")
        {'n': np.int64(3), 'w': array([1., 2.])}
    """
    if op not in ("mean", "sum"):
        raise ArgumentError(f"allreduce: op must be 'mean' or 'sum', got {op!r}")
    nbytes = _check_bucket_bytes("allreduce", bucket_bytes)
    began = time.perf_counter()
    arrays, paths, treedef, scalars = _pack.as_arrays("allreduce", tree)
    sig = _pack.signature(f"allreduce(op={op!r}, bucket_bytes={nbytes})", treedef, arrays, paths)
    _pack.check_same_everywhere("allreduce", _WORLD, sig)
    if op == "mean":
        _pack.check_dtypes("allreduce", arrays, paths, "fc",
                           "a floating or complex dtype for op='mean' (use op='sum' for integers)")
    else:
        _pack.check_dtypes("allreduce", arrays, paths, "fciu",
                           "a floating, complex or integer dtype")
    return _pack.rebuild(treedef, _reduce_arrays(arrays, op, nbytes, began), scalars)


def broadcast(tree: PyTree, root: int = 0, *, bucket_bytes: int | None = None) -> PyTree:
    """Rank ``root``'s ``tree`` on every rank (e.g. the initial parameters).

    Every rank passes a tree of the same structure, shapes and dtypes (its own values are
    ignored); any fixed-size dtype works, booleans included.  Alone it is the identity
    (on a copy).

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.broadcast({"w": np.zeros(2), "step": 0})
        {'step': np.int64(0), 'w': array([0., 0.])}
    """
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) \
            or not 0 <= root < _WORLD.size:
        raise ArgumentError(f"broadcast: root must be a rank in [0, {_WORLD.size}), got {root!r}")
    nbytes = _check_bucket_bytes("broadcast", bucket_bytes)
    began = time.perf_counter()
    arrays, paths, treedef, scalars = _pack.as_arrays("broadcast", tree)
    sig = _pack.signature(f"broadcast(root={int(root)}, bucket_bytes={nbytes})", treedef,
                          arrays, paths)
    _pack.check_same_everywhere("broadcast", _WORLD, sig)
    _pack.check_dtypes("broadcast", arrays, paths, "fciub", "a numeric or boolean dtype")
    out, _, _ = _pack.run_bucketed(arrays, nbytes,
                                   functools.partial(_WORLD.start_bcast, root=int(root)),
                                   copy_in=_WORLD.rank == root)
    stats.broadcast_calls += 1
    stats.broadcast_seconds += time.perf_counter() - began
    return _pack.rebuild(treedef, out, scalars)


def _shard_bounds(n: int, parts: int, index: int) -> tuple[int, int]:
    """``np.array_split``'s piece ``index`` of ``n`` items: the first ``n % parts`` get one more."""
    q, r = divmod(n, parts)
    start = index * q + min(index, r)
    return start, start + q + (index < r)


def _batch_length(what: str, batch: PyTree, axis: int) -> int:
    """The number of examples in ``batch``: the common length of its leaves along ``axis``."""
    pairs = _tree.leaves_with_path(batch)
    if not pairs:
        raise ArgumentError(f"{what}: the batch has no array leaves to count examples in")
    length, first = None, None
    for path, leaf in pairs:
        shape = np.shape(leaf)
        where = _tree.keystr(path) or "<root>"
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(f"{what}: batch leaf {where} has shape {shape}, which has no axis "
                             f"{axis} to split examples along")
        if length is None:
            length, first = shape[axis], where
        elif shape[axis] != length:
            raise ShapeError(f"{what}: batch leaves disagree on the number of examples along "
                             f"axis {axis}: {first} has {length}, {where} has {shape[axis]}")
    return int(length)  # type: ignore[arg-type]


def shard(batch: PyTree, axis: int = 0) -> PyTree:
    """This rank's contiguous slice of every leaf of ``batch`` along ``axis`` (views).

    ``np.array_split`` semantics: with ``n`` examples on ``size()`` ranks, the first
    ``n % size()`` ranks get one example more.  All leaves must have the same length along
    ``axis``.  Alone it returns the whole batch.

    Example:
        >>> from funcgrad import distributed as dist
        >>> dist.shard({"x": np.arange(10).reshape(5, 2), "y": np.arange(5)})["y"]
        array([0, 1, 2, 3, 4])
    """
    n = _batch_length("shard", batch, axis)
    start, stop = _shard_bounds(n, _WORLD.size, _WORLD.rank)

    def piece(leaf: Any) -> np.ndarray:
        leaf = np.asarray(leaf)
        index = [slice(None)] * leaf.ndim
        index[axis] = slice(start, stop)
        return leaf[tuple(index)]

    return _tree.map(piece, batch)


def data_parallel(fn: Callable[..., T], *, batch_argnums: int = 1,
                  axis: int = 0) -> Callable[..., T]:
    """Wrap ``fn`` (e.g. ``value_and_grad(loss)``) so that its output is averaged across
    ranks, weighted by each rank's number of examples.

    ``fn(params, local_batch, ...)`` runs on this rank's batch (argument ``batch_argnums``,
    examples along ``axis``: the rank's :func:`shard`); every leaf of its output (the loss,
    the gradients, an ``aux`` of arrays) is multiplied by ``n_rank / n_total`` and summed
    across ranks with :func:`allreduce`.  With a loss that is a mean over examples, the
    result is the single-process ``value_and_grad`` on the concatenated batch, up to
    rounding (exactly when no rounding occurs, e.g. dyadic data and weights), and the same
    on every rank, so the optimiser update that follows keeps the ranks in step.  Every
    output leaf must be floating or complex.  Alone it returns ``fn``'s output unchanged.

    Example:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> from funcgrad import distributed as dist
        >>> step = dist.data_parallel(fg.value_and_grad(lambda w, x: fnp.mean((x * w) ** 2)))
        >>> step(np.array(2.0), dist.shard(np.array([1.0, 2.0, 3.0])))
        (np.float64(18.666666666666668), np.float64(18.666666666666664))
    """

    @functools.wraps(fn)
    def averaged(*args: Any, **kwargs: Any) -> T:
        if not -len(args) <= batch_argnums < len(args):
            raise ArgumentError(f"data_parallel: batch_argnums={batch_argnums} but the step got "
                                f"{len(args)} positional arguments")
        count = _batch_length("data_parallel", args[batch_argnums], axis)
        out = fn(*args, **kwargs)
        began = time.perf_counter()
        arrays, paths, treedef, scalars = _pack.as_arrays("data_parallel", out)
        sig = _pack.signature(f"data_parallel(axis={axis})", treedef, arrays, paths)
        _pack.check_same_everywhere("data_parallel", _WORLD, sig)
        _pack.check_dtypes("data_parallel", arrays, paths, "fc",
                           "a floating or complex dtype: data_parallel averages every output "
                           "leaf by example counts (sum integer counts with allreduce(op='sum'))")
        if _WORLD.size == 1:
            return out
        counts = _WORLD.allgather_int64(np.array([count]))[:, 0]
        total = int(counts.sum())
        if total == 0:
            raise DistributedError("data_parallel: no rank has any examples (every batch is "
                                   f"empty along axis {axis})")
        weight = count / total

        def scale(bucket: np.ndarray) -> None:   # each packed bucket, just before it is sent
            if count:
                np.multiply(bucket, weight, out=bucket)
            else:   # a rank without examples sends exact zeros (its fn output may be 0/0)
                bucket.fill(0)

        reduced = _reduce_arrays(arrays, "sum", DEFAULT_BUCKET_BYTES, began, prepare=scale)
        return _pack.rebuild(treedef, reduced, scalars)

    return averaged
