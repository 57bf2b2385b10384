"""The world this process runs in: an MPI job (through ``mpi4py``) or a world of one.

``mpi4py`` is imported only when the process was started by an MPI launcher (its
environment variables are present: ``PMI_RANK``/``PMI_SIZE`` for MPICH's hydra and
Slurm, ``OMPI_COMM_WORLD_SIZE`` for Open MPI, ``PMIX_RANK`` for PMIx launchers) or when
``FUNCGRAD_MPI=1``; ``FUNCGRAD_MPI=0`` forces a single process.  Both worlds offer the
same few collectives on contiguous NumPy buffers; the single world's are identities
(a sum over one rank is the rank's own value), so the packing code above runs unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from funcgrad.errors import DistributedError

# Environment variables that MPI launchers set in every process they start.
LAUNCHER_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")

# Buckets at least this large are reduced with the non-blocking Iallreduce (so packing the
# next bucket overlaps the reduction); smaller ones with a blocking call, whose latency is
# lower.  A module attribute so that tests can force either path on tiny buffers.
NONBLOCKING_BYTES = 1 << 20


class Request(Protocol):
    """What a started collective returns (an ``mpi4py`` request, or :data:`DONE`); the
    method names are mpi4py's."""

    def Test(self) -> bool: ...

    def Wait(self) -> None: ...


class _Done:
    """A request that has already completed (blocking calls, and every single-world call)."""

    def Test(self) -> bool:
        return True

    def Wait(self) -> None:
        return None


DONE = _Done()


class SingleWorld:
    """One process, rank 0 of 1: every collective is the identity."""

    rank = 0
    size = 1
    distributed = False

    def start_allreduce(self, buf: np.ndarray) -> Request:
        return DONE

    def start_bcast(self, buf: np.ndarray, root: int) -> Request:
        return DONE

    def allgather_int64(self, values: np.ndarray) -> np.ndarray:
        return np.array(values, dtype=np.int64).reshape(1, -1)

    def allgather_object(self, obj: Any) -> list[Any]:
        return [obj]

    def barrier(self) -> None:
        return None

    def abort(self, code: int) -> None:
        raise SystemExit(code)


class MpiWorld:
    """``MPI.COMM_WORLD`` through ``mpi4py``; buffers are reduced in place."""

    def __init__(self, mpi: Any) -> None:
        self._mpi = mpi
        self._comm = mpi.COMM_WORLD
        self.rank: int = self._comm.Get_rank()
        self.size: int = self._comm.Get_size()
        self.distributed: bool = self.size > 1

    def start_allreduce(self, buf: np.ndarray) -> Request:
        mpi = self._mpi
        if buf.nbytes >= NONBLOCKING_BYTES:
            return self._comm.Iallreduce(mpi.IN_PLACE, buf, op=mpi.SUM)
        self._comm.Allreduce(mpi.IN_PLACE, buf, op=mpi.SUM)
        return DONE

    def start_bcast(self, buf: np.ndarray, root: int) -> Request:
        raw = buf.view(np.uint8)  # a broadcast moves bytes: any fixed-size dtype (bool too)
        if raw.nbytes >= NONBLOCKING_BYTES:
            return self._comm.Ibcast(raw, root=root)
        self._comm.Bcast(raw, root=root)
        return DONE

    def allgather_int64(self, values: np.ndarray) -> np.ndarray:
        mine = np.ascontiguousarray(values, dtype=np.int64).reshape(-1)
        out = np.empty((self.size, mine.size), dtype=np.int64)
        self._comm.Allgather(mine, out)
        return out

    def allgather_object(self, obj: Any) -> list[Any]:
        return self._comm.allgather(obj)

    def barrier(self) -> None:
        self._comm.Barrier()

    def abort(self, code: int) -> None:
        self._comm.Abort(code)


World = SingleWorld | MpiWorld


def wants_mpi(environ: Mapping[str, str]) -> bool:
    """Whether this process should join an MPI job (see the module docstring)."""
    flag = environ.get("FUNCGRAD_MPI", "").strip()
    if flag == "1":
        return True
    if flag == "0":
        return False
    if flag:
        raise DistributedError(f"FUNCGRAD_MPI must be '0' (single process) or '1' (use MPI), "
                               f"got {flag!r}")
    return any(name in environ for name in LAUNCHER_VARS)


def make_world(environ: Mapping[str, str]) -> World:
    """The world for a process with this environment; imports ``mpi4py`` only under MPI."""
    if not wants_mpi(environ):
        return SingleWorld()
    try:
        from mpi4py import MPI
    except ImportError as exc:
        found = [f"{name}={environ[name]}" for name in LAUNCHER_VARS if name in environ]
        why = ", ".join(found) if found else "FUNCGRAD_MPI=1"
        raise DistributedError(
            f"this process was asked to run under MPI ({why}) but mpi4py cannot be imported "
            f"({exc}); install the extra with pip install 'funcgrad[mpi]', or set "
            f"FUNCGRAD_MPI=0 to run as a single process") from exc
    return MpiWorld(MPI)
