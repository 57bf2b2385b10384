"""The CUDA backend: the optimised graph runs on the GPU with ``numba.cuda`` kernels.

==================  ===========================================================
primitive           kernel
==================  ===========================================================
``matmul``          a tiled shared-memory kernel, batched and broadcast leading
                    axes (:mod:`funcgrad.backends._cuda_matmul`)
``sum``, ``max``,   block-level tree reductions over any axes
``min``,            (:mod:`funcgrad.backends._cuda_reduce`); ``softmax``,
``softmax``, ...    ``log_softmax`` and ``logsumexp`` one block per row
``fused`` and the   one generated kernel per fused Program, from the same fusion
elementwise ops     groups and scalar table as the Numba CPU backend
                    (:mod:`funcgrad.backends._cuda_fused`)
``broadcast_to``,   views of the operand's device memory: no copy (a reshape of
``transpose``,      a non-contiguous array copies it first, on the device)
``reshape``
==================  ===========================================================

Arrays stay on the device for the whole executable: the inputs are copied in, the
outputs copied out (or kept on the device when an argument came from
:func:`funcgrad.device_put`).  A primitive with no kernel runs its NumPy reference on
the host: its operands are copied out and its result back in, and each copy and each
such call is counted in :data:`funcgrad.backends._cuda_arrays.STATS`
(``get_backend("cuda").stats``); the executable lists them in ``host_primitives``.

Importing this module raises :class:`~funcgrad.errors.BackendUnavailableError` when
``numba-cuda`` is not installed or no CUDA device (and no simulator) is found.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad._core.graph import Graph
from funcgrad._core.interpret import Executable
from funcgrad.backends import Backend
from funcgrad.backends import _cuda_arrays as dev
from funcgrad.ops.shape import broadcast_to_p, reshape_p, transpose_p

dev.cuda()  # no device, no simulator, no numba-cuda: a clear error, here

from funcgrad.backends import _cuda_fused, _cuda_matmul, _cuda_reduce


class CudaBackend(Backend):
    """Kernels on device arrays; any other primitive runs on the host, counted."""

    stats = dev.STATS

    def kernel_for(self, node, layout=None) -> Callable:
        kernel = self.kernels.get(node.primitive)
        if kernel is None:
            return dev.host_kernel(node.primitive)
        for_node = getattr(kernel, "for_node", None)
        return kernel if for_node is None else for_node(node, layout)

    def compile(self, graph: Graph) -> CudaExecutable:
        return CudaExecutable(graph, self)


class CudaExecutable:
    """An :class:`~funcgrad._core.interpret.Executable` whose values live on the device.

    ``host_primitives`` names the primitives of the graph that run on the host.
    """

    def __init__(self, graph: Graph, backend: CudaBackend):
        self.graph = graph
        self.inner = Executable(graph, backend.kernel_for)
        # Array constants go to the device once, here; scalars stay kernel arguments.
        self.inner.constants = [(s, dev.to_device(v) if isinstance(v, np.ndarray) else v)
                                for s, v in self.inner.constants]
        self.host_primitives = tuple(sorted({
            step.node.primitive.name for step in self.inner.steps
            if step.node.primitive not in backend.kernels}))

    @property
    def source(self) -> str | None:
        return self.inner.source

    @property
    def steps(self) -> list:
        return self.inner.steps

    def __call__(self, args: Sequence) -> list:
        on_device = False
        moved = []
        for a in args:
            if dev.is_device_array(a):
                on_device = True
                moved.append(a)
            else:
                moved.append(dev.to_device(a))
        outs = self.inner(moved)
        if on_device:
            return outs
        return [_host_value(o) for o in outs]


def _host_value(x):
    """A result copied out: a 0-d array becomes a NumPy scalar, as NumPy's reductions return."""
    if not dev.is_device_array(x):
        return x
    out = dev.to_host(x)
    return out[()] if out.ndim == 0 else out


# -- views: no data moves -------------------------------------------------------------------------
def broadcast_to_kernel(x, shape):
    """``np.broadcast_to`` as a view: zero strides on the broadcast axes."""
    if not dev.is_device_array(x):
        return dev.host_call(broadcast_to_p, x, shape=shape)
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    strides = [0] * lead
    for n, s, target in zip(x.shape, x.strides, shape[lead:]):
        if n not in (1, target):
            return dev.host_call(broadcast_to_p, x, shape=shape)  # the reference's error
        strides.append(s if n == target and n != 1 else 0)
    return dev.view(x, shape, strides)


def transpose_kernel(x, axes):
    """``np.transpose`` as a view: the strides permuted."""
    if not dev.is_device_array(x):
        return dev.host_call(transpose_p, x, axes=axes)
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(axes)
    return dev.view(x, [x.shape[a] for a in axes], [x.strides[a] for a in axes])


def reshape_kernel(x, shape):
    """``np.reshape``: a view of a C-contiguous array; anything else is copied to one first."""
    if not dev.is_device_array(x):
        return dev.host_call(reshape_p, x, shape=shape)
    shape = tuple(shape)
    if -1 in shape or math.prod(shape) != x.size:
        return dev.host_call(reshape_p, x, shape=shape)  # resolves -1, or raises the reference's error
    if not dev.is_c_contiguous(x):
        x = _cuda_fused.contiguous(x)
    return dev.view(x, shape, dev.c_strides(shape, x.dtype.itemsize))


BACKEND = CudaBackend("cuda", {
    broadcast_to_p: broadcast_to_kernel,
    transpose_p: transpose_kernel,
    reshape_p: reshape_kernel,
    **_cuda_matmul.KERNELS,
    **_cuda_reduce.KERNELS,
    **_cuda_fused.KERNELS,
})
