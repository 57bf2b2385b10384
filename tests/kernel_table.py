"""One table of kernel cases, run against every backend that has kernels (Numba CPU and CUDA).

A row names a primitive, a way to build its operands for a dtype (any layout:
transposed, sliced, zero-stride, 0-d, empty) and its parameters.  ``test_kernels.py``
runs each row's kernel on each backend and compares it with the primitive's NumPy
reference.  On the CUDA backend the operands are put on the device *with their
layout* (a transposed host array becomes a transposed device view), and the test
checks that the kernel, not the host fallback, ran.

Rows come from the sections below and from ``kernel_rows_*.py`` (rows a kernel's
author added).  Shapes stay small: CUDA rows run under Numba's simulator in CI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.ops import reductions
from funcgrad.ops.linalg import matmul_p
from funcgrad.ops.shape import broadcast_to_p, reshape_p, transpose_p
from funcgrad.optimize import fused_p, optimize

FLOATS = (np.float64, np.float32)
ALL = ("numba", "cuda")


class Row(NamedTuple):
    """``primitive(*make(dtype)[0], **make(dtype)[1])`` on ``backends``, for each of ``dtypes``.

    ``exact`` names the backends whose result must equal NumPy's to the last bit
    (the others: up to rounding, see ``TOL``).
    """

    name: str
    primitive: Any
    make: Callable[[Any], tuple[list, dict]]
    dtypes: tuple = FLOATS
    backends: tuple = ALL
    exact: tuple = ()


def rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)


def _program(f, *args):
    """The Program of the single fused node of ``f``'s optimised graph."""
    nodes = [n for n in optimize(fg.make_graph(f)(*args)).nodes if n.primitive is fused_p]
    assert len(nodes) == 1
    return nodes[0].params["program"]


# -- matmul ---------------------------------------------------------------------------------
MATMUL_SHAPES = {  # name: (shape of a, shape of b)
    "2-D": ((3, 4), (4, 5)),
    "2-D, not multiples of any tile": ((17, 33), (33, 19)),
    "batched": ((6, 2, 3), (6, 3, 2)),
    "batched @ 2-D": ((5, 2, 2), (2, 4)),
    "2-D @ batched": ((2, 3), (4, 3, 2)),
    "broadcast batch axes": ((2, 1, 2, 3), (4, 3, 2)),
    "vector @ batched": ((3,), (5, 3, 2)),
    "batched @ vector": ((5, 2, 3), (3,)),
    "vector @ vector": ((4,), (4,)),
    "vector @ 2-D": ((3,), (3, 4)),
    "larger batched": ((3, 16, 16), (3, 16, 16)),
    "empty batch": ((0, 2, 3), (0, 3, 2)),
    "empty contraction": ((4, 2, 0), (4, 0, 3)),
    "empty rows": ((4, 0, 3), (4, 3, 2)),
}


def _matmul(sa, sb):
    return lambda dtype: ([rand(sa, dtype, 1), rand(sb, dtype, 2)], {})


def _matmul_layouts(k):
    def make(dtype):
        a, b = rand((6, 3, 2), dtype, 1), rand((18, 3, 3), dtype, 2)
        return [[a.transpose(0, 2, 1), b[::3]],                  # transposed, sliced batch
                [np.broadcast_to(a[0].T, (6, 2, 3)), b[:6]],     # zero stride on the batch axis
                [a.transpose(0, 2, 1)[:, :, ::2], rand((6, 2, 4), dtype, 3)[:, :, 1:3]]][k], {}
    return make


MATMUL = [Row(f"matmul {name}", matmul_p, _matmul(*shapes))
          for name, shapes in MATMUL_SHAPES.items()]
MATMUL += [Row(f"matmul layout {k}", matmul_p, _matmul_layouts(k)) for k in range(3)]


# -- reductions -----------------------------------------------------------------------------
SUM_CASES = [  # (shape, axis, keepdims): the leading-block kernel, the trailing one, the rest
    ((5, 3), (0,), False), ((5, 3), (0,), True), ((7, 1, 3), (0, 1), False),
    ((7, 1, 3), (0, 1), True), ((1, 4, 3), (0, 1), False), ((2, 3, 4), (0, 1), False),
    ((6, 5), (1,), False), ((2, 3, 4), (0, 2), True), ((2, 3, 4), (0, 1, 2), False),
    ((4, 3), (), False), ((), (), False), ((0, 3), (0,), False), ((3, 0), (0,), True),
    ((3, 1), (0,), False), ((1, 1, 5), (0, 1), False), ((300,), (0,), False),
    ((37, 3), (0,), False),
]


def _reduce(shape, axis, keepdims, layout=None):
    def make(dtype):
        x = rand(shape, dtype)
        if layout is not None:
            x = layout(x)
        return [x], {"axis": axis, "keepdims": keepdims}
    return make


SUM_LAYOUTS = {  # name: (input from a (6, 4) array, axis)
    "transposed": (lambda x: x.T, (0,)),
    "sliced": (lambda x: x[::2], (0,)),
    "zero stride, reduced": (lambda x: np.broadcast_to(x[0], (5, 4)), (0,)),
    "zero stride, kept": (lambda x: np.broadcast_to(x[:, :1], (6, 4)), (1,)),
    "transposed, both axes": (lambda x: x.T, (0, 1)),
}

REDUCE = [Row(f"sum {shape} axis={axis} keepdims={keepdims}", reductions.sum_p,
              _reduce(shape, axis, keepdims), exact=("numba",))
          for shape, axis, keepdims in SUM_CASES]
REDUCE += [Row(f"sum {name}", reductions.sum_p, _reduce((6, 4), axis, False, layout))
           for name, (layout, axis) in SUM_LAYOUTS.items()]
REDUCE += [
    Row("sum of integers", reductions.sum_p, _reduce((3, 4), (0,), False), dtypes=(np.int32,),
        exact=ALL),
    Row("sum of booleans", reductions.sum_p,
        lambda dtype: ([rand((6, 4)) > 0], {"axis": (0, 1), "keepdims": False}),
        dtypes=(np.bool_,), exact=ALL),
    Row("sum of a NumPy scalar", reductions.sum_p,
        lambda dtype: ([dtype(3.0)], {"axis": (), "keepdims": False}), backends=("numba",)),
]
EXTREMA_CASES = [((5, 3), (0,), False), ((6, 5), (1,), True), ((2, 3, 4), (0, 2), False),
                 ((2, 3, 4), (0, 1, 2), False), ((), (), False), ((300,), (0,), False),
                 ((3, 0), (0,), False)]
for _p in (reductions.max_p, reductions.min_p):
    REDUCE += [Row(f"{_p.name} {shape} axis={axis} keepdims={keepdims}", _p,
                   _reduce(shape, axis, keepdims), backends=("cuda",), exact=("cuda",))
               for shape, axis, keepdims in EXTREMA_CASES]
    REDUCE += [Row(f"{_p.name} transposed", _p, _reduce((6, 4), (0,), False, lambda x: x.T),
                   backends=("cuda",), exact=("cuda",))]


# -- views ----------------------------------------------------------------------------------
def _view(prim, in_shape, layout, **params):
    return lambda dtype: ([layout(rand(in_shape, dtype))], params)


VIEWS = [
    Row("broadcast_to new and size-1 axes", broadcast_to_p,
        _view(broadcast_to_p, (3, 1), lambda x: x, shape=(2, 3, 4)), exact=ALL),
    Row("broadcast_to of a 0-d array", broadcast_to_p,
        _view(broadcast_to_p, (), lambda x: x, shape=(2, 3)), exact=ALL),
    Row("broadcast_to of a transposed array", broadcast_to_p,
        _view(broadcast_to_p, (3, 2), lambda x: x.T, shape=(4, 2, 3)), exact=ALL),
    Row("transpose 3-D", transpose_p, _view(transpose_p, (2, 3, 4), lambda x: x, axes=(2, 0, 1)),
        backends=("cuda",), exact=ALL),
    Row("transpose of a slice", transpose_p,
        _view(transpose_p, (4, 6), lambda x: x[1:, ::2], axes=(1, 0)),
        backends=("cuda",), exact=ALL),
    Row("reshape contiguous", reshape_p, _view(reshape_p, (2, 3, 4), lambda x: x, shape=(6, 4)),
        backends=("cuda",), exact=ALL),
    Row("reshape to 0-d", reshape_p, _view(reshape_p, (1, 1), lambda x: x, shape=()),
        backends=("cuda",), exact=ALL),
    Row("reshape of a transposed array", reshape_p,
        _view(reshape_p, (3, 4), lambda x: x.T, shape=(2, 6)), backends=("cuda",), exact=ALL),
    Row("reshape of an empty array", reshape_p,
        _view(reshape_p, (0, 4), lambda x: x, shape=(2, 0, 2)), backends=("cuda",), exact=ALL),
]


# -- fused elementwise ----------------------------------------------------------------------
def _read_only(x):
    x = x.copy()
    x.flags.writeable = False
    return x


FUSED_LAYOUTS = {  # name: (x, y) from a (4, 3) array `a` and a (3,) array `b`
    "same shape": lambda a, b: (a, a[::-1].copy()),
    "row broadcast": lambda a, b: (a, b),
    "column broadcast": lambda a, b: (a[:, :1], b),
    "outer": lambda a, b: (a[:, :1], b[None, :]),
    "0-d and array": lambda a, b: (np.asarray(a[0, 0]), a),
    "NumPy scalar and array": lambda a, b: (a, a[1, 1]),
    "size-1 array": lambda a, b: (a[:1, :1], a),
    "transposed": lambda a, b: (a.T, b[:, None]),
    "sliced": lambda a, b: (a[::2, ::2], a[1::2, :2]),
    "zero stride": lambda a, b: (np.broadcast_to(b, (4, 3)), a),
    "read-only": lambda a, b: (_read_only(a), _read_only(b)),
    "all scalars (0-d result)": lambda a, b: (np.asarray(a[0, 0]), a[0, 1]),
    "empty": lambda a, b: (a[:0], b),
    "rank 4": lambda a, b: (a.reshape(2, 1, 2, 3), b.reshape(1, 3, 1, 1)),
}


def layout_fn(x, y):
    """The Program of the layout rows: constants of both kinds, a comparison, where."""
    return fnp.where(x > 0.1, fnp.sqrt(fnp.abs(x * y)) * 3.0 - y, x * -2.0) + 1


def tanh_fn(x, y):
    """float32 tanh is a rational approximation in both backends' kernels."""
    return fnp.tanh(x * 2.0 + y)


def _fused(layout, fn=layout_fn):
    def make(dtype):
        program = _program(fn, rand(3, dtype), rand(3, dtype))
        x, y = layout(rand((4, 3), dtype, 1), rand(3, dtype, 2))
        return [x, y], {"program": program}
    return make


FUSED = [Row(f"fused {name}", fused_p, _fused(layout)) for name, layout in FUSED_LAYOUTS.items()]
FUSED += [Row("fused tanh chain", fused_p, _fused(lambda a, b: (a, b), tanh_fn))]


def rows() -> list[Row]:
    """Every row: the sections above and the ``kernel_rows_*`` modules."""
    import kernel_rows_fused
    import kernel_rows_matmul
    import kernel_rows_reduce

    return (MATMUL + REDUCE + VIEWS + FUSED + kernel_rows_matmul.ROWS + kernel_rows_reduce.ROWS
            + kernel_rows_fused.ROWS)
