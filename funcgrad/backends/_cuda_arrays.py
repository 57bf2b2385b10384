"""Device arrays for the CUDA backend: finding a device, counted transfers, zero-copy views.

Importing this module imports nothing but NumPy; ``numba.cuda`` is imported the first
time a device is needed (:func:`cuda`), after checking that the ``numba-cuda`` package
is installed and that a CUDA device, or Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), is there.  When neither is, the error says so: the
backend never falls back to the CPU silently.

Every copy between host and device made by funcgrad goes through :func:`to_device` and
:func:`to_host` and is counted in :data:`STATS` (see :class:`TransferStats`), together
with each primitive that ran on the host because the backend has no kernel for it.

A device array here is whatever ``numba.cuda`` makes: a ``DeviceNDArray`` on a GPU, a
``FakeCUDAArray`` (a wrapped NumPy array) under the simulator.  Views with any strides,
zero strides included, are made by :func:`view` without copying.
"""

from __future__ import annotations

import collections
import importlib.util
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from funcgrad.errors import BackendUnavailableError

#: The environment variable that makes ``numba.cuda`` run kernels on the CPU (Numba's simulator).
SIMULATOR_ENV = "NUMBA_ENABLE_CUDASIM"

_cuda: Any = None
_lock = threading.Lock()


def cuda():
    """``numba.cuda``, once a CUDA device (or the simulator) is known to be there.

    Raises :class:`~funcgrad.errors.BackendUnavailableError` when the ``numba-cuda``
    package is missing, or when no device is found and the simulator is off.
    """
    global _cuda
    if _cuda is not None:
        return _cuda
    with _lock:
        if _cuda is None:
            if importlib.util.find_spec("numba_cuda") is None:
                raise BackendUnavailableError(
                    "the cuda backend needs the numba-cuda package, which is not installed: "
                    "pip install 'funcgrad[cuda]' (or pip install numba-cuda)")
            from numba import cuda as numba_cuda

            if not numba_cuda.is_available():
                raise BackendUnavailableError(_no_device_message())
            _cuda = numba_cuda
    return _cuda


def _no_device_message() -> str:
    return ("no CUDA device was found (numba.cuda.is_available() is False: no NVIDIA GPU, or "
            "no CUDA driver), so the cuda backend cannot run. funcgrad does not fall back to "
            "the CPU on its own: use backend='numba' for the CPU, or, to run the cuda "
            "backend's kernels on the CPU under Numba's CUDA simulator (slow; meant for "
            f"tests), start Python with {SIMULATOR_ENV}=1 in the environment, e.g. "
            f"`{SIMULATOR_ENV}=1 python train.py`.")


def simulated() -> bool:
    """Whether kernels run under Numba's CUDA simulator (on the CPU) rather than on a GPU."""
    from numba.core import config

    return bool(getattr(config, "ENABLE_CUDASIM", False))


# -- what crossed the bus ----------------------------------------------------------------------
@dataclass
class TransferStats:
    """Host<->device copies made by funcgrad, and the primitives that ran on the host.

    ``host_ops`` counts, per primitive name, the calls that ran on the host because
    the cuda backend has no kernel for that primitive (each also costs the copies of
    its operands and result, counted in the other fields).

    Examples:
        >>> stats = TransferStats()
        >>> stats.to_device, stats.to_host, dict(stats.host_ops)
        (0, 0, {})
    """

    to_device: int = 0
    to_host: int = 0
    bytes_to_device: int = 0
    bytes_to_host: int = 0
    host_ops: collections.Counter = field(default_factory=collections.Counter)

    def reset(self) -> None:
        """Set every count back to zero."""
        with _lock:
            self.to_device = self.to_host = self.bytes_to_device = self.bytes_to_host = 0
            self.host_ops.clear()

    def snapshot(self) -> TransferStats:
        """A copy of the counts as they are now."""
        with _lock:
            return TransferStats(self.to_device, self.to_host, self.bytes_to_device,
                                 self.bytes_to_host, collections.Counter(self.host_ops))


#: The process's counts (also ``funcgrad.backends.get_backend("cuda").stats``).
STATS = TransferStats()


def is_device_array(x) -> bool:
    """Whether ``x`` is a ``numba.cuda`` device array (real or simulated); imports nothing."""
    return bool(getattr(type(x), "__cuda_ndarray__", False))


def to_device(x):
    """Copy a host array (or scalar) to the device, counted in :data:`STATS`; a device array is returned as is."""
    if is_device_array(x):
        return x
    host = np.asarray(x, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    out = cuda().to_device(host)
    with _lock:
        STATS.to_device += 1
        STATS.bytes_to_device += host.nbytes
    return out


def to_host(x) -> np.ndarray:
    """Copy a device array to a new host array, counted in :data:`STATS`; anything else is returned as is."""
    if not is_device_array(x):
        return x
    out = x.copy_to_host()
    with _lock:
        STATS.to_host += 1
        STATS.bytes_to_host += out.nbytes
    return out


def count_host_op(name: str) -> None:
    with _lock:
        STATS.host_ops[name] += 1


def empty(shape: Sequence[int], dtype) -> Any:
    """A new uninitialised C-contiguous device array."""
    return cuda().device_array(tuple(int(s) for s in shape), np.dtype(dtype))


def view(x, shape: Sequence[int], strides: Sequence[int]):
    """A view of device array ``x``'s memory with ``shape`` and byte ``strides`` from its first element.

    No copy: broadcasting (zero strides), transposing and reshaping a contiguous array
    are views.  The caller vouches that every element it addresses lies inside ``x``.
    """
    shape, strides = tuple(int(s) for s in shape), tuple(int(s) for s in strides)
    if hasattr(x, "_ary"):  # the simulator's FakeCUDAArray wraps a NumPy array
        ary = np.lib.stride_tricks.as_strided(x._ary, shape, strides, writeable=False)
        return type(x)(ary)
    from numba.cuda.cudadrv.devicearray import DeviceNDArray

    return DeviceNDArray(shape, strides, x.dtype, stream=x.stream, gpu_data=x.gpu_data)


def c_strides(shape: Sequence[int], itemsize: int) -> tuple[int, ...]:
    """The byte strides of a C-contiguous array of ``shape``."""
    strides, step = [], itemsize
    for s in reversed(tuple(shape)):
        strides.append(step)
        step *= max(int(s), 1)
    return tuple(reversed(strides))


def is_c_contiguous(x) -> bool:
    """Whether device array ``x`` is laid out C-contiguously (size-1 axes' strides do not matter)."""
    expected = c_strides(x.shape, x.dtype.itemsize)
    return all(n <= 1 or s == e for n, s, e in zip(x.shape, x.strides, expected))


def host_kernel(primitive) -> Callable:
    """``primitive``'s NumPy reference, run on the host: operands copied out, result copied in."""
    impl, name = primitive.impl, primitive.name

    def run(*args, **params):
        count_host_op(name)
        out = impl(*[to_host(a) for a in args], **params)
        return to_device(out) if isinstance(out, np.ndarray | np.generic) else out
    run.host = True
    return run


def host_call(primitive, *args, **params):
    """Run ``primitive`` on the host for operands a kernel does not handle (dtypes, layouts)."""
    return host_kernel(primitive)(*args, **params)


# -- device_put / device_get ---------------------------------------------------------------------
def device_put(x: Any, device: Any = None) -> Any:
    """Copy every array leaf of pytree ``x`` to the CUDA device (as ``jax.device_put``).

    Functions jitted with ``backend="cuda"`` take such leaves without copying them
    again, and return their results on the device when any argument was on the
    device, so parameters stay there across the steps of a training loop.  Leaves
    already on the device are kept; scalars become 0-d device arrays.  ``device``
    is accepted for JAX's signature and must be ``None`` or ``"cuda"`` (one device).

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> params = fg.device_put({"w": np.ones((2, 2))})  # doctest: +SKIP
        >>> fg.device_get(params)["w"].sum()                # doctest: +SKIP
        4.0
    """
    if device not in (None, "cuda", "gpu"):
        raise BackendUnavailableError(f"device_put: device must be None or 'cuda' (funcgrad "
                                      f"uses one CUDA device), got {device!r}")
    from funcgrad import tree

    return tree.map(to_device, x)


def device_get(x: Any) -> Any:
    """Copy every device-array leaf of pytree ``x`` back to a NumPy array (as ``jax.device_get``).

    Other leaves are returned as they are.

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> fg.device_get({"w": np.ones(2)})["w"]
        array([1., 1.])
    """
    from funcgrad import tree

    return tree.map(to_host, x)
