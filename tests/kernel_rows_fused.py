"""Rows of tests/kernel_table.py added with the CUDA fused kernels (see that module for the format).

* every scalar expression of the shared table (``_elementwise_table.SCALAR_TABLE``), through
  one "selector" Program per arity and dtype (each element computes every primitive and
  keeps the one its selector input names), on both backends' fused kernels;
* the same for integer and boolean dtypes (every row that types for them), exactly;
* integer and boolean Programs formed by the fusion planner, the float32 tanh at its
  special values, and the CUDA kernels of single primitives (including weak Python
  floats, ``convert`` and 0-d, empty and strided operands).
"""

from __future__ import annotations

import re

import numpy as np
from kernel_table import ALL, Row, _program, rand

import funcgrad.numpy as fnp
from funcgrad.backends import _elementwise_table as table
from funcgrad.ops import elementwise as ew
from funcgrad.ops.misc import convert_p
from funcgrad.optimize import fused_p
from funcgrad.optimize.fusion import Program

INTS = (np.int8, np.int32, np.int64, np.uint32)


def arity(entry) -> int:
    """How many operands a row of the scalar table takes (its constant prefix not counted)."""
    return len(set(re.findall(r"{(\d)}", entry.template))) - len(entry.prefix)


def selector_program(prims, n: int) -> Program:
    """``prims[k](in0, .., in{n-1})`` where input ``n`` (the selector) equals ``k``.

    ``where`` keeps exactly one value per element, so every element checks one primitive's
    scalar expression, and one compiled kernel covers a whole column of the table.
    """
    ins = tuple(("in", i) for i in range(n))
    instructions = [(p, ins) for p in prims]
    result = len(prims) - 1
    for k in range(len(prims) - 2, -1, -1):
        instructions.append((ew.equal_p, (("in", n), ("const", k))))
        instructions.append((ew.select_p, (("tmp", len(instructions) - 1), ("tmp", k),
                                           ("tmp", result))))
        result = len(instructions) - 1
    return Program(instructions, result, n + 1)


def _typed_for(prim, dtype, n) -> bool:
    """Whether ``prim`` has a loop for ``n`` operands of ``dtype`` that computes in ``dtype``'s
    kind (integer and boolean rows: the float functions of an integer are the float rows)."""
    program = Program(((prim, tuple(("in", i) for i in range(n))),), 0, n)
    try:
        typed = table.type_program(program, (np.dtype(dtype),) * n)
    except table.Unsupported:
        return False
    return np.dtype(dtype).kind == "f" or typed.out_dtype.kind in "biu"


SPECIAL = [0.0, -0.0, 0.5, -0.5, 0.75, 1.0, -1.0, 1.5, -2.5, 3.0, 7.25, -7.25, 0.1,
           1e-30, 40.0, np.inf, -np.inf, np.nan]


def _values(dtype) -> np.ndarray:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.array(SPECIAL, dtype)
    if dtype.kind == "b":
        return np.array([False, True])
    info = np.iinfo(dtype)  # (not the minimum: its // -1 overflows, undefined in compiled code)
    values = np.array([0, 1, 2, 5, 7, -1, -3, -7, 100], np.int64).astype(dtype)
    return np.concatenate([values, np.array([info.min + 1, info.max], dtype)])


def _selector(n: int):
    """Every row of the table that takes ``n`` operands and types for the row's dtype."""
    def make(dtype):
        float_row = np.dtype(dtype).kind == "f"
        prims = [p for p, e in table.SCALAR_TABLE.items()
                 if arity(e) == n and p is not ew.select_p
                 and (not float_row or "f" in e.kinds) and _typed_for(p, dtype, n)]
        assert len(prims) >= ((20 if n == 1 else 15) if float_row else 3), prims
        values = _values(dtype)
        columns = [g.ravel() for g in np.meshgrid(*[values] * n, indexing="ij")]
        size = columns[0].size
        args = [np.tile(c, len(prims)) for c in columns]
        args.append(np.repeat(np.arange(len(prims)), size))
        return args, {"program": selector_program(prims, n)}
    return make


def _planned(fn, dtype):
    """The Program the fusion planner forms for ``fn`` on two arrays, with the arrays."""
    x = np.array([-7, -3, -1, 0, 1, 2, 5, 9]).astype(dtype)
    y = np.array([2, -2, 3, 0, 0, 5, -4, 1]).astype(dtype)
    return [x, y], {"program": _program(fn, x, y)}


def _int_program(a, b):
    return fnp.where(a > b, (a * 3 + b) // (b + 2) % 5, fnp.maximum(a, -b) - 1)


def _bool_program(a, b):
    return fnp.logical_xor(a, b) | ~(a & b) == (a + b)


TANH32 = np.concatenate([np.linspace(-10, 10, 161), [0.0, -0.0, 4e-4, -4e-4, 3.9e-4, 1e-30,
                                                     1e-40, 7.9, 8.0, -8.0, 20.0, 1e30,
                                                     np.inf, -np.inf, np.nan]])


def _tanh32(dtype):
    x = TANH32.astype(dtype)
    return [x], {"program": Program(((ew.tanh_p, (("in", 0),)),), 0, 1)}


ROWS: list = [
    Row(f"fused selector of every {n}-operand scalar expression", fused_p, _selector(n))
    for n in (1, 2)
]
ROWS += [
    Row(f"fused selector of every {n}-operand expression, integers and booleans", fused_p,
        _selector(n), dtypes=(*INTS, np.bool_), exact=ALL)
    for n in (1, 2)
]
ROWS += [
    Row("fused integer Program", fused_p, lambda dtype: _planned(_int_program, dtype),
        dtypes=(np.int64, np.int32), exact=ALL),
    Row("fused boolean Program", fused_p, lambda dtype: _planned(_bool_program, dtype),
        dtypes=(np.bool_,), exact=ALL),
    Row("fused float32 tanh: clamp, infinities, tiny, NaN", fused_p, _tanh32,
        dtypes=(np.float32,)),
]


# -- single primitives (the CUDA backend's kernels; the CPU backend runs NumPy for them) ----------
def _single(operands):
    """Operands ``operands(dtype)``; no params."""
    return lambda dtype: (operands(dtype), {})


SINGLE = {
    "exp of a transposed array": (ew.exp_p, lambda d: [rand((3, 4), d).T]),
    "tanh of a slice": (ew.tanh_p, lambda d: [rand((6, 5), d, 3)[::2, 1:] * 4]),
    "add, row broadcast": (ew.add_p, lambda d: [rand((4, 3), d), rand(3, d, 1)]),
    "add of a Python float (weak)": (ew.add_p, lambda d: [rand((2, 3), d), 0.1]),
    "multiply by a NumPy scalar": (ew.multiply_p, lambda d: [d(3.5), rand(5, d)]),
    "not_equal to a Python int": (ew.not_equal_p, lambda d: [rand((4, 1), d).round(), 0]),
    "maximum with NaN": (ew.maximum_p, lambda d: [np.array([1, np.nan, -2, 0], d),
                                                  np.array([np.nan, 2, -3, -0.0], d)]),
    "reciprocal of a 0-d array": (ew.reciprocal_p, lambda d: [np.asarray(d(4.0))]),
    "sign of zeros and NaN": (ew.sign_p, lambda d: [np.array([-0.0, 0.0, np.nan, -2, 3], d)]),
    "round half to even": (ew.round_p, lambda d: [np.array([0.5, 1.5, 2.5, -0.5, -2.5, 3.7], d)]),
    "logaddexp of infinities": (ew.logaddexp_p, lambda d: [
        np.array([np.inf, -np.inf, np.nan, 2, -np.inf, 1e3], d),
        np.array([np.inf, -np.inf, 1, 2, 3, -1e3], d)]),
    "where, broadcast condition": (ew.select_p, lambda d: [rand((4, 1), d) > 0, rand((4, 3), d),
                                                           rand(3, d, 2)]),
    "sqrt of an empty array": (ew.sqrt_p, lambda d: [rand((0, 3), d)]),
    "floor_divide, zero stride": (ew.floor_divide_p, lambda d: [
        np.broadcast_to(rand(3, d) * 5, (4, 3)), rand((4, 1), d, 1) + 3]),
}
ROWS += [Row(f"{prim.name}: {name}", prim, _single(make), backends=("cuda",))
         for name, (prim, make) in SINGLE.items()]
ROWS += [Row("add: a Python int to small integers (wraps)", ew.add_p,
             _single(lambda d: [np.array([1, -2, 127, -128]).astype(d), 3]), dtypes=(np.int8, np.uint8),
             backends=("cuda",), exact=ALL)]


def _convert(want, values=None):
    def make(dtype):
        x = rand((3, 4), dtype).T * 20 if values is None else np.array(values).astype(dtype)
        return [x], {"dtype": np.dtype(want)}
    return make


ROWS += [
    Row("convert float to float32", convert_p, _convert(np.float32), backends=("cuda",)),
    Row("convert float to int32 (truncates)", convert_p, _convert(np.int32), backends=("cuda",),
        exact=ALL),
    Row("convert to bool", convert_p, _convert(np.bool_, [0, -0.0, 2, np.nan, 1e-30]),
        backends=("cuda",), exact=ALL),
    Row("convert integers to float64", convert_p, _convert(np.float64, [-3, 0, 7, 2**40]),
        dtypes=(np.int64, np.int32), backends=("cuda",), exact=ALL),
]
