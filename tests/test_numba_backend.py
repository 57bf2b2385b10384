"""The Numba CPU backend: every kernel against the NumPy reference, whole graphs against the
NumPy backend, the disk cache of a read-only install, and the lazy import of numba.

Numba compiles each kernel once per signature (then loads it from the disk cache), so
the tests reuse a few Programs and shapes: the scalar expression of every primitive in
the table is checked through one "selector" Program per arity and dtype.
"""

import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_table import FUSED_LAYOUTS

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.primitive import Primitive
from funcgrad.backends import (
    _numba_cache,
    _numba_fused,
    _numba_kernels,
    get_backend,
    numba_cpu,
)
from funcgrad.errors import ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops.linalg import matmul_p
from funcgrad.optimize import Program, fused_p, optimize

FLOATS = [np.float64, np.float32]
TOL = {np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
       np.dtype(np.float32): {"rtol": 2e-6, "atol": 1e-6}}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_matches(got, expected, tol=None):
    """Same type of result (NumPy scalar or array), shape and dtype; values equal up to rounding."""
    assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray), (type(got), type(expected))
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape and got.dtype == expected.dtype, (
        got.shape, got.dtype, expected.shape, expected.dtype)
    np.testing.assert_allclose(got, expected, equal_nan=True,
                               **(tol or TOL.get(expected.dtype, {"rtol": 0, "atol": 0})))


def rand(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)


# -- matmul (values: tests/kernel_table.py, run by tests/test_kernels.py) --------------
def test_matmul_uses_the_loops_only_for_batches_of_tiny_matrices(monkeypatch):
    calls = []
    for name in ("matmul_loops_c", "matmul_loops_a"):
        kernel = getattr(_numba_kernels, name)
        monkeypatch.setattr(_numba_kernels, name,
                            lambda kernel=kernel, name=name: calls.append(name) or kernel())
    numba_cpu.matmul_kernel(rand((8, 2, 2)), rand((8, 2, 2)))
    numba_cpu.matmul_kernel(rand((8, 2, 2)).transpose(0, 2, 1), rand((8, 2, 2)))
    assert calls == ["matmul_loops_c", "matmul_loops_a"]
    numba_cpu.matmul_kernel(rand((3, 3)), rand((3, 3)))                    # 2-D: BLAS
    numba_cpu.matmul_kernel(rand((2, 8, 8)), rand((2, 8, 8)))              # too big: BLAS
    numba_cpu.matmul_kernel(rand((2, 2, 2)).astype(np.int64), rand((2, 2, 2)).astype(np.int64))
    numba_cpu.matmul_kernel(rand((2, 2, 2), np.float32), rand((2, 2, 2)))  # mixed: NumPy
    assert len(calls) == 2


def test_matmul_of_integers_and_mixed_dtypes_is_numpys():
    i = np.arange(12).reshape(3, 2, 2)
    assert_matches(numba_cpu.matmul_kernel(i, i), np.matmul(i, i))
    f32, f64 = rand((3, 2, 2), np.float32), rand((3, 2, 2))
    assert_matches(numba_cpu.matmul_kernel(f32, f64), np.matmul(f32, f64))


@pytest.mark.parametrize("sa, sb", [((5, 2, 3), (5, 2, 3)), ((2, 2, 3), (3, 3, 2)), ((3,), (2, 4, 2))])
def test_matmul_shape_errors_are_the_references(sa, sb):
    with pytest.raises(ShapeError) as ours:
        numba_cpu.matmul_kernel(rand(sa), rand(sb))
    with pytest.raises(ShapeError) as reference:
        matmul_p.impl(rand(sa), rand(sb))
    assert str(ours.value) == str(reference.value)


# -- sum (values: tests/kernel_table.py) ----------------------------------------------
def test_sum_takes_the_loop_for_leading_blocks_only(monkeypatch):
    calls = []
    kernel = _numba_kernels.sum_rows
    monkeypatch.setattr(_numba_kernels, "sum_rows", lambda: calls.append(1) or kernel())
    x = rand((4, 1, 3, 2))
    numba_cpu.sum_kernel(x, (0,), False)
    numba_cpu.sum_kernel(x, (0, 1, 2), True)   # size-1 axes do not break the leading block
    assert len(calls) == 2
    numba_cpu.sum_kernel(x, (3,), False)       # trailing: NumPy's pairwise sum
    numba_cpu.sum_kernel(x, (0, 3), False)     # not a block
    numba_cpu.sum_kernel(x[::2], (0,), False)  # not C-contiguous
    assert len(calls) == 2


# -- fused elementwise: every scalar expression ---------------------------------------
def _arity(entry) -> int:
    return len(set(re.findall(r"{(\d)}", entry.template))) - len(entry.prefix)


def _selector_program(prims, arity):
    """One Program computing ``prims[k](*inputs)`` where the last input equals ``k``.

    ``where`` picks exactly one value per element, so each element checks one
    primitive's scalar expression, and one compiled kernel covers the whole table.
    """
    ins = tuple(("in", i) for i in range(arity))
    sel = ("in", arity)
    instructions = [(p, ins) for p in prims]
    result = ("tmp", len(prims) - 1)
    for k in range(len(prims) - 2, -1, -1):
        instructions.append((ew.equal_p, (sel, ("const", k))))
        instructions.append((ew.select_p, (("tmp", len(instructions) - 1), ("tmp", k), result)))
        result = ("tmp", len(instructions) - 1)
    return Program(instructions, len(instructions) - 1, arity + 1)


SPECIAL = [0.0, -0.0, 0.5, -0.5, 0.75, 1.0, -1.0, 1.5, -2.5, 3.0, 7.25, -7.25, 0.1,
           1e-30, 40.0, np.inf, -np.inf, np.nan]


def _check_selector(prims, arity, dtype):
    program = _selector_program(prims, arity)
    values = np.array(SPECIAL, dtype)
    grids = np.meshgrid(*[values] * arity, indexing="ij")
    columns = [g.ravel() for g in grids]
    n = columns[0].size
    args = [np.tile(c, len(prims)) for c in columns] + [np.repeat(np.arange(len(prims)), n)]
    with np.errstate(all="ignore"):
        expected = fused_p.impl(*args, program=program)
    got = _numba_fused.fused_kernel(*args, program=program)
    assert _numba_fused.typed_for(program, tuple(a.dtype for a in args)) is not None
    assert got.dtype == expected.dtype
    close = np.isclose(got, expected, equal_nan=True, **TOL[np.dtype(dtype)])
    wrong = sorted({prims[k].name for k in args[-1][~close]})
    assert not wrong, f"scalar expressions that differ from NumPy: {wrong}"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("arity", [1, 2])
def test_every_scalar_expression_matches_numpy(arity, dtype):
    prims = [p for p, e in _numba_fused.SCALAR_TABLE.items()
             if _arity(e) == arity and "f" in e.kinds]  # (bit operations: integers below)
    assert len(prims) >= (20 if arity == 1 else 15)
    _check_selector(prims, arity, dtype)


@pytest.mark.parametrize("dtype", [np.uint32, np.int8, np.int64, np.bool_])
def test_bit_operations_match_numpy(dtype):
    # Every pair of a few values of each kind, including the extremes of the dtype.
    values = np.array([0, 1, 5, 7, 100], np.int64).astype(dtype)
    if dtype is not np.bool_:
        info = np.iinfo(dtype)
        values = np.concatenate([values, np.array([info.min, info.max], dtype)])
    a, b = (g.ravel() for g in np.meshgrid(values, values, indexing="ij"))
    f = lambda x, y: ((x & y) ^ (~x | y), ~x, x ^ y)
    got = fg.jit(f, backend="numba")(a, b)
    for g, w in zip(got, f(a, b)):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_and_boolean_programs_match_numpy(dtype):
    x = np.array([-7, -3, -1, 0, 1, 2, 5, 9]).astype(dtype)
    y = np.array([2, -2, 3, 0, 0, 5, -4, 1]).astype(dtype)
    if dtype is np.bool_:
        f = lambda a, b: fnp.logical_xor(a, b) | ~(a & b) == (a + b)
    else:
        f = lambda a, b: fnp.where(a > b, (a * 3 + b) // (b + 2) % 5, fnp.maximum(a, -b) - 1)
    program = next(n for n in optimize(fg.make_graph(f)(x, y)).nodes
                   if n.primitive is fused_p).params["program"]
    with np.errstate(all="ignore"):
        expected = fused_p.impl(x, y, program=program)
    assert _numba_fused.typed_for(program, (x.dtype, y.dtype)) is not None
    assert_matches(_numba_fused.fused_kernel(x, y, program=program), expected)


# -- fused elementwise: dtypes and weak constants -------------------------------------
def _program(f, *args):
    """The Program of the single fused node of ``f``'s optimised graph."""
    nodes = [n for n in optimize(fg.make_graph(f)(*args)).nodes if n.primitive is fused_p]
    assert len(nodes) == 1
    return nodes[0].params["program"]


# One Program for the layout tests below: constants of both kinds, a comparison, where.
def _layout_fn(x, y):
    return fnp.where(x > 0.1, fnp.sqrt(fnp.abs(x * y)) * 3.0 - y, x * -2.0) + 1


def test_float32_stays_float32_and_constants_are_cast_like_numpy():
    x = np.array([0.1, 0.2, -0.1, 3.0], np.float32)  # float32(0.1) > 0.1 is False in NumPy
    y = np.float32(2.0) * np.ones(4, np.float32)
    program = _program(_layout_fn, x, y)
    got = _numba_fused.fused_kernel(x, y, program=program)
    assert got.dtype == np.float32
    assert_matches(got, fused_p.impl(x, y, program=program))
    typed = _numba_fused.typed_for(program, (x.dtype, y.dtype))
    assert "np.float32(0.10000000149011612)" in "\n".join(typed.body)  # the weak 0.1 as float32


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.int32, np.float32),
                                    (np.int64, np.int64), (np.bool_, np.float32)])
def test_mixed_dtypes_promote_like_numpy(dtypes):
    x, y = rand(5, dtypes[0], 1), rand(5, dtypes[1], 2)
    program = _program(_layout_fn, x, y)
    assert_matches(_numba_fused.fused_kernel(x, y, program=program),
                   fused_p.impl(x, y, program=program))


# -- fused elementwise: shapes and layouts (values: tests/kernel_table.py) -------------
@pytest.mark.parametrize("layout", FUSED_LAYOUTS)
def test_fused_kernel_runs_a_loop_for_every_layout(layout):
    x, y = FUSED_LAYOUTS[layout](rand((4, 3), np.float64, 1), rand(3, np.float64, 2))
    assert _numba_fused.make_plan(_program(_layout_fn, rand(3), rand(3)), (x, y)) is not None


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       flip=st.booleans(), seed=st.integers(0, 2**16))
def test_fused_kernel_matches_the_reference_for_drawn_broadcasts(shapes, flip, seed):
    program = _program(_layout_fn, rand(3), rand(3))
    x, y = (rand(s, np.float64, seed + i) for i, s in enumerate(shapes.input_shapes))
    if flip and x.ndim >= 2:
        x = np.ascontiguousarray(x.swapaxes(0, 1)).swapaxes(0, 1)  # same values, F-ordered axes
    with np.errstate(all="ignore"):
        expected = fused_p.impl(x, y, program=program)
    assert_matches(_numba_fused.fused_kernel(x, y, program=program), expected)


def test_kernels_are_compiled_once_per_loop_shape():
    program = _program(_layout_fn, rand(3), rand(3))
    a, b = rand((4, 3), seed=5), rand(3, seed=6)
    _numba_fused.fused_kernel(a, b, program=program)
    before = len(_numba_fused._kernels)
    for x, y in [(a + 1, b * 2), (rand((7, 3)), rand(3)), (rand((2, 5)), rand(5))]:
        assert_matches(_numba_fused.fused_kernel(x, y, program=program),
                       fused_p.impl(x, y, program=program))
    assert len(_numba_fused._kernels) == before  # new values and sizes, same kernel


def test_flat_and_parallel_loops_for_large_outputs(monkeypatch):
    program = _program(_layout_fn, rand(3), rand(3))
    x, y = rand(5000, seed=3), rand(5000, seed=4)
    monkeypatch.setattr(_numba_fused, "PARALLEL_MIN_SIZE", 1000)
    monkeypatch.setattr(_numba_fused, "PARALLEL_MIN_THREADS", 1)
    monkeypatch.setattr(_numba_fused, "_plans", {})
    key = (program, (x.dtype, y.dtype), (1, 1), 1, True, None)  # flat: no layouts
    assert_matches(_numba_fused.fused_kernel(x, y, program=program),
                   fused_p.impl(x, y, program=program))
    assert key in _numba_fused._kernels  # the prange loop ran
    source = _numba_fused.kernel_source(program, _numba_fused.typed_for(program, key[1]),
                                        (1, 1), 1, parallel=True)
    assert "numba.prange" in source


def test_programs_the_table_lacks_or_complex_data_run_the_reference():
    opaque = Primitive("opaque", lambda x: x + 1)
    program = Program([(ew.sin_p, (("in", 0),)), (opaque, (("tmp", 0),))], 1, 1)
    x = rand(4)
    assert _numba_fused.typed_for(program, (x.dtype,)) is None
    assert_matches(_numba_fused.fused_kernel(x, program=program), np.sin(x) + 1)
    z = x * (1 + 1j)
    simple = Program([(ew.sin_p, (("in", 0),)), (ew.multiply_p, (("tmp", 0), ("const", 2.0)))], 1, 1)
    assert_matches(_numba_fused.fused_kernel(z, program=simple), np.sin(z) * 2.0)
    assert_matches(_numba_fused.fused_kernel(0.5, program=simple), np.sin(0.5) * 2.0)


def test_float32_programs_of_simd_functions_stay_with_numpy():
    sin_chain = _program(lambda x: fnp.sin(x * 2.0) + 1.0, rand(3, np.float32))
    arithmetic = _program(lambda x: (x * 2.0 + 1.0) * x, rand(3, np.float32))
    big = rand(100_000, np.float32)
    assert _numba_fused.make_plan(sin_chain, (big,)) is None          # NumPy's SIMD sin wins
    assert _numba_fused.make_plan(sin_chain, (big[:10],)) is not None  # call overhead wins
    assert _numba_fused.make_plan(arithmetic, (big,)) is not None


def test_float32_temporaries_save_half_as_much_as_float64_ones():
    """The planner's saving per temporary scales with its bytes: float32 sigmoid (exp is
    NumPy SIMD code) stays with NumPy, the same chain in float64 fuses."""
    def sigmoid(x):
        return 1.0 / (1.0 + fnp.exp(-x))

    big32, big64 = rand(100_000, np.float32), rand(100_000, np.float64)
    assert _numba_fused.make_plan(_program(sigmoid, big32[:3]), (big32,)) is None
    assert _numba_fused.make_plan(_program(sigmoid, big64[:3]), (big64,)) is not None
    typed32 = _numba_fused.type_program(_program(sigmoid, big32[:3]), (np.dtype(np.float32),))
    typed64 = _numba_fused.type_program(_program(sigmoid, big64[:3]), (np.dtype(np.float64),))
    assert typed64.temp_bytes == 2 * typed32.temp_bytes == 24  # three temporaries


# -- float32 tanh: the rational approximation -----------------------------------------------
TANH = Program([(ew.tanh_p, (("in", 0),))], 0, 1)


def _float32_range(lo, hi, stride):
    """Every ``stride``-th float32 from ``lo`` to ``hi`` (both >= 0), by bit pattern."""
    a, b = (int(np.float32(v).view(np.int32)) for v in (lo, hi))
    return np.arange(a, b + 1, stride, dtype=np.int32).view(np.float32)


def _ulps(got, want):
    """Units in the last place between float32 arrays of the same signs."""
    return np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))


#: The largest error of tanh_float32 against tanh in float64 rounded to float32, measured
#: over every positive float32 (negative ones are exactly the negated results): with FMA
#: (multiply-adds contracted) and without (each multiply and add rounded).
TANH32_MAX_ULPS = {True: 5, False: 7}
#: Where the exhaustive search found those maxima (on the grid below as well).
TANH32_WORST = np.array([3.7372892, 5.7402925], np.float32)
TANH32_SPECIAL = np.array([  # float32 values: sign, limits, the clamp and the "tiny" cut
    0.0, 1e-45, 1e-40, 1.1754944e-38, 1e-30, 1e-8, 2.4e-4, 3.9999998e-4, 4e-4, 4.0000004e-4,
    0.5, 1.0, 2.0, 7.9053111, 7.998811, 7.9988117, 7.998812, 8.0, 9.0, 9.011, 10.0, 20.0,
    88.7, 1e10, 3.4028235e38, np.inf], np.float32)


def _tanh32_grid():
    """A fine float32 grid on [0, 10] (|x| >= 2e-4: every 31st float, relative steps < 4e-6;
    below: every 40009th), the worst cases and the special values."""
    return np.unique(np.concatenate([_float32_range(0.0, 2e-4, 40_009),
                                     _float32_range(2e-4, 10.0, 31),
                                     TANH32_WORST, TANH32_SPECIAL]))


def _check_tanh32(fn, x, max_ulps):
    """``fn`` is tanh on float32 ``x >= 0`` within ``max_ulps``, odd, and at most 1."""
    got = fn(x)
    assert got.dtype == np.float32
    want = np.tanh(x.astype(np.float64)).astype(np.float32)
    ulps = _ulps(got, want)
    worst = int(np.argmax(ulps))
    assert ulps[worst] <= max_ulps, (x[worst], got[worst], want[worst], ulps[worst])
    assert ulps[worst] >= max_ulps - 1  # the grid holds the known worst cases: the bound is tight
    assert np.all(got <= 1) and np.all(got >= 0) and not np.signbit(got).any()
    negated = fn(-x)
    assert np.array_equal(negated.view(np.int32), (-got).view(np.int32))  # odd, bit for bit
    return got


def test_float32_tanh_is_within_a_few_ulps_of_the_true_tanh():
    x = _tanh32_grid()
    assert x.size > 3_000_000
    typed = _numba_fused.typed_for(TANH, (np.dtype(np.float32),))
    assert len(typed.body) == 1 and "tanh_float32(x0)" in typed.body[0]
    assert _numba_fused.make_plan(TANH, (x,)) is not None  # the loop runs, not NumPy
    fma = _numba_fused.cpu_has_fma()
    assert ('fastmath={"contract"}' in _numba_fused.HELPERS["tanh_float32"]) == fma
    got = _check_tanh32(lambda v: _numba_fused.fused_kernel(v, program=TANH), x,
                        TANH32_MAX_ULPS[fma])
    small = x < np.float32(_numba_fused.TANH32_TINY)
    assert np.array_equal(got[small], x[small])  # tanh(x) = x below the cut: denormals, +0.0
    assert got[x == np.inf] == 1 and got[x == 3.4028235e38] == 1 and got[x == 9.011] == 1
    # The loop's scalar remainder (one element at a time) computes what its vector body does.
    few = np.concatenate([TANH32_WORST, TANH32_SPECIAL[:3]])  # 5 elements: below one vector
    at = np.searchsorted(x, few)
    assert np.array_equal(_numba_fused.fused_kernel(few, program=TANH), got[at])


def test_float32_tanh_for_cpus_without_fma():
    # The variant without contraction, on any CPU (the test above checks this CPU's variant).
    import numba

    namespace = {"np": np, "numba": numba}
    exec(_numba_fused.tanh_float32_source(fma=False), namespace)  # noqa: S102 - our own source
    tanh32 = namespace["tanh_float32"]

    @numba.njit
    def loop(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = tanh32(x[i])
        return out

    got = _check_tanh32(loop, _tanh32_grid(), TANH32_MAX_ULPS[False])
    assert got[-1] == 1  # tanh(inf), through the clamp: the float32 evaluation gives 1.0
    special = np.array([np.nan, -np.inf, -0.0, -1e-45], np.float32)
    assert np.isnan(loop(special)[0]) and loop(special)[1] == -1
    assert np.array_equal(loop(special)[2:].view(np.int32), special[2:].view(np.int32))


def test_float32_tanh_special_values():
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, -3.4028235e38,
                  -8.0, -1e-3], np.float32)
    got = _numba_fused.fused_kernel(x, program=TANH)
    assert np.isnan(got[:2]).all()
    assert got[2:4].tolist() == [1.0, -1.0]
    assert got[4:8].view(np.int32).tolist() == x[4:8].view(np.int32).tolist()  # -0.0 stays -0.0
    assert got[8:10].tolist() == [-1.0, -1.0]
    np.testing.assert_allclose(got[10], np.tanh(np.float64(x[10])), rtol=3e-7)
    assert_matches(_numba_fused.fused_kernel(np.float32(0.5), program=TANH),  # a scalar
                   np.tanh(np.float32(0.5)), {"rtol": 3e-7, "atol": 0})


def test_float64_tanh_is_its_own_helper_and_kernels_hold_only_the_helpers_they_call():
    # float64 tanh is tanh_float64 (funcgrad/backends/_numba_math.py, <= 0.81 ulp measured in
    # tests/test_numba_math.py); the float32 helper stays out of float64 kernels.
    f64 = _numba_fused.typed_for(TANH, (np.dtype(np.float64),))
    assert len(f64.body) == 1 and "tanh_float64(x0)" in f64.body[0]
    x = np.linspace(-10, 10, 2001)
    assert_matches(_numba_fused.fused_kernel(x, program=TANH), np.tanh(x), {"rtol": 1e-15, "atol": 0})
    f32 = _numba_fused.typed_for(TANH, (np.dtype(np.float32),))
    assert "def tanh_float32(" in _numba_fused.kernel_source(TANH, f32, (1,), 1)
    assert "def tanh_float32(" not in _numba_fused.kernel_source(TANH, f64, (1,), 1)
    mixed = _program(lambda x, y: fnp.tanh(x) * y, rand(3, np.float32), rand(3))
    typed = _numba_fused.typed_for(mixed, (np.dtype(np.float32), np.dtype(np.float64)))
    assert "tanh_float32(x0)" in typed.body[0]  # tanh runs in float32, as in NumPy
    x32, y64 = rand(50, np.float32, 1), rand(50, np.float64, 2)
    assert_matches(_numba_fused.fused_kernel(x32, y64, program=mixed), np.tanh(x32) * y64,
                   {"rtol": 5e-7, "atol": 0})


def test_float32_tanh_chain_under_jit_and_its_parallel_loop(monkeypatch):
    def f(x):
        return fnp.tanh(0.5 * x + 0.25) * 1.5

    x = np.random.default_rng(0).normal(size=5000).astype(np.float32) * 4
    x[:4] = [np.inf, -np.inf, np.nan, -0.0]
    got = fg.jit(f, backend="numba")(x)
    expected = fg.jit(f, backend="numpy")(x)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert got[:2].tolist() == [1.5, -1.5] and np.isnan(got[2])
    program = _program(f, x[:3])
    monkeypatch.setattr(_numba_fused, "PARALLEL_MIN_SIZE", 1000)
    monkeypatch.setattr(_numba_fused, "PARALLEL_MIN_THREADS", 1)
    monkeypatch.setattr(_numba_fused, "_plans", {})
    parallel = _numba_fused.fused_kernel(x, program=program)
    assert (program, (x.dtype,), (1,), 1, True, None) in _numba_fused._kernels  # the prange loop ran
    assert np.array_equal(parallel, got, equal_nan=True)


# -- whole graphs -------------------------------------------------------------------------
def _mlp_loss(params, x, y):
    (w1, b1), (w2, b2) = params
    h = fnp.tanh(x @ w1 + b1)
    out = h @ w2 + b2
    return fnp.mean((out - y) ** 2) + 1e-3 * fnp.sum(w1 * w1)


def _softmax_xent(logits, labels):
    z = logits - fnp.max(logits, axis=-1, keepdims=True)
    logp = z - fnp.log(fnp.sum(fnp.exp(z), axis=-1, keepdims=True))
    return -fnp.sum(labels * logp) / logits.shape[0]


def _mlp_args(dtype):
    rng = np.random.default_rng(0)
    params = [(rng.normal(size=(3, 5)), rng.normal(size=5)), (rng.normal(size=(5, 2)), rng.normal(size=2))]
    params = [tuple(p.astype(dtype) for p in layer) for layer in params]
    return params, rng.normal(size=(7, 3)).astype(dtype), rng.normal(size=(7, 2)).astype(dtype)


GRAPHS = {  # name: (function, arguments)
    "mlp loss": (_mlp_loss, _mlp_args(np.float64)),
    "grad of mlp loss": (fg.grad(_mlp_loss), _mlp_args(np.float64)),
    "grad of mlp loss, float32": (fg.grad(_mlp_loss), _mlp_args(np.float32)),
    "softmax cross-entropy and its gradient": (
        fg.value_and_grad(_softmax_xent), (rand((6, 4)), np.eye(4)[[0, 1, 2, 3, 0, 1]])),
    "batched tiny matmuls": (lambda a, b: fnp.sum(a @ b, axis=0) * 2.0 + 1.0,
                             (rand((9, 2, 3)), rand((9, 3, 2)))),
    "clip, relu and comparisons": (
        lambda x, y: (fnp.clip(x, -0.5, 0.5) + fnp.maximum(y, 0.0), (x > y) & (y < 1.0)),
        (rand((4, 3)), rand(3))),
    "second derivative": (fg.grad(fg.grad(lambda t: fnp.sin(t) * t ** 3)), (np.array(0.7),)),
    "gradient of a broadcasting sum": (
        fg.grad(lambda x, b: fnp.sum(fnp.exp(x + b) * b), argnums=(0, 1)),
        (rand((5, 1, 3)), rand((4, 1)))),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_jit_with_numba_equals_jit_with_numpy(name):
    f, args = GRAPHS[name]
    got = fg.jit(f, backend="numba")(*args)
    expected = fg.jit(f, backend="numpy")(*args)
    for g, e in zip(fg.tree.leaves(got), fg.tree.leaves(expected)):
        assert_matches(np.asarray(g), np.asarray(e),
                       {"rtol": 1e-5, "atol": 1e-6} if np.asarray(e).dtype == np.float32 else None)


def test_backend_compiles_raw_and_optimised_graphs():
    params, x, y = _mlp_args(np.float64)
    graph = fg.make_graph(fg.grad(_mlp_loss))(params, x, y)
    leaves = fg.tree.leaves((params, x, y))
    expected = get_backend("numpy").compile(graph)(leaves)
    for g in (graph, optimize(graph)):
        executable = get_backend("numba").compile(g)
        for got, want in zip(executable(leaves), expected):
            assert_matches(np.asarray(got), np.asarray(want))
    assert any(step.node.primitive is fused_p for step in get_backend("numba").compile(
        optimize(graph)).steps)


def test_the_backend_kernels_are_the_documented_ones():
    backend = get_backend("numba")
    assert backend.name == "numba"
    from funcgrad.ops.control_scan import scan_p
    from funcgrad.ops.control_scan_pair import scan_pair_p
    from funcgrad.ops.control_while import while_p

    from funcgrad.ops.results import result_p

    assert set(backend.kernels) == {matmul_p, numba_cpu.sum_p, numba_cpu.broadcast_to_p, fused_p,
                                    scan_p, scan_pair_p, while_p, result_p}


# -- imports and the disk cache -------------------------------------------------------------
def _run(code, env=None, **kwargs):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, env=env, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_importing_funcgrad_does_not_import_numba():
    out = _run("""
        import sys
        import numpy as np
        import funcgrad, funcgrad.numpy as fnp, funcgrad.optimize
        from funcgrad.backends import get_backend
        print(funcgrad.jit(lambda x: fnp.sin(x) * 2.0, backend="numpy")(np.ones(2)))
        assert "numba" not in sys.modules, "numba imported too early"
        get_backend("numba")
        assert "numba" in sys.modules
        print("ok")
    """)
    assert out.strip().endswith("ok")


def test_without_numba_the_default_backend_is_numpy():
    out = _run("""
        import sys
        sys.modules["numba"] = None  # makes `import numba` raise ImportError
        import numpy as np
        import funcgrad, funcgrad.numpy as fnp
        from funcgrad.backends import default_backend_name
        try:
            import funcgrad.backends.numba_cpu
        except ImportError:
            print("ImportError")
        print(default_backend_name())
        print(funcgrad.jit(lambda x: fnp.sum(x * 2.0))(np.ones(3)))
    """)
    assert out.split() == ["ImportError", "numpy", "6.0"]


_READ_ONLY_SCRIPT = """
    import os, sys, pathlib
    if os.geteuid() == 0:  # root writes anywhere: run the check as an unprivileged user
        import numba, numba.core.caching, numpy, hashlib, importlib.util, tempfile
        numba.njit(lambda x: x + 1)(1)  # load the compiler's modules while they are readable
        os.setgid(65534)
        os.setuid(65534)
    import numpy as np
    import funcgrad, funcgrad.numpy as fnp
    assert funcgrad.__file__.startswith(os.environ["SITE"]), funcgrad.__file__
    f = funcgrad.jit(lambda x, y: fnp.sum(fnp.tanh(x * 2.0 + y) * y, axis=0), backend="numba")
    x, y = np.linspace(-1, 1, 12).reshape(4, 3), np.linspace(0, 1, 3)
    np.testing.assert_allclose(f(x, y), np.sum(np.tanh(x * 2.0 + y) * y, axis=0), rtol=1e-12)
    from funcgrad.backends import _numba_fused, _numba_kernels
    kernels = list(_numba_fused._kernels.values()) + [_numba_kernels.sum_rows()]
    print(os.environ.get("NUMBA_CACHE_DIR"))
    print(sum(sum(k.stats.cache_hits.values()) for k in kernels))
"""


def _make_read_only(path):
    for root, dirs, files in os.walk(path):
        for name in files:
            os.chmod(os.path.join(root, name), 0o444)
        os.chmod(root, 0o555)


def test_read_only_install_caches_kernels_in_the_user_cache_dir():
    top = tempfile.mkdtemp(prefix="funcgrad-ro-")
    try:
        os.chmod(top, 0o755)
        site, cache, home = (os.path.join(top, d) for d in ("site", "cache", "home"))
        shutil.copytree(os.path.join(ROOT, "funcgrad"), os.path.join(site, "funcgrad"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        _make_read_only(site)
        files_before = sorted(os.path.join(r, f) for r, _, fs in os.walk(site) for f in fs)
        for d in (cache, home):
            os.makedirs(d)
            os.chmod(d, 0o777)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
        env.update(PYTHONPATH=site, SITE=site, XDG_CACHE_HOME=cache, HOME=home,
                   PYTHONDONTWRITEBYTECODE="1")
        first = _run(_READ_ONLY_SCRIPT, env=env, cwd=top).split()
        second = _run(_READ_ONLY_SCRIPT, env=env, cwd=top).split()
        expected_dir = os.path.join(cache, "funcgrad", "numba")
        assert first[0] == second[0] == expected_dir
        assert int(first[1]) == 0 and int(second[1]) >= 2  # compiled, then loaded from disk
        cached = [f for _, _, files in os.walk(expected_dir) for f in files]
        assert any(f.endswith(".nbi") for f in cached) and any(f.endswith(".nbc") for f in cached)
        files_after = sorted(os.path.join(r, f) for r, _, fs in os.walk(site) for f in fs)
        assert files_after == files_before  # nothing was written into the package
    finally:
        for root, dirs, _ in os.walk(top):
            for d in dirs:
                os.chmod(os.path.join(root, d), stat.S_IRWXU)
        shutil.rmtree(top, ignore_errors=True)


def test_cache_dir_respects_the_users_numba_cache_dir(tmp_path):
    out = _run("""
        from funcgrad.backends import _numba_cache
        print(_numba_cache.configure())
    """, env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "mine")})
    assert out.strip() == str(tmp_path / "mine")
    assert _numba_cache.kernel_source_dir() is None or os.path.isdir(_numba_cache.kernel_source_dir())


def test_without_a_writable_cache_dir_kernels_compile_in_memory(monkeypatch):
    monkeypatch.setattr(_numba_cache, "kernel_source_dir", lambda: None)
    monkeypatch.setattr(_numba_fused, "_kernels", {})
    monkeypatch.setattr(_numba_fused, "_plans", {})
    program = _program(lambda x: fnp.cos(x) * 2.0 - x, rand(3))
    x = rand((3, 2))
    assert_matches(_numba_fused.fused_kernel(x, program=program), np.cos(x) * 2.0 - x)
    (kernel,) = _numba_fused._kernels.values()
    assert kernel.py_func.__code__.co_filename.startswith("<funcgrad fused")  # no file behind it


def _unaligned(shape, dtype=np.float64):
    """A C-contiguous array whose data pointer is not a multiple of its itemsize."""
    itemsize = np.dtype(dtype).itemsize
    n = int(np.prod(shape))
    buf = np.zeros(n * itemsize + 1, np.uint8)
    x = np.frombuffer(buf.data, dtype, n, offset=1).reshape(shape)
    x[...] = rand(shape, dtype)  # frombuffer on a writable buffer is writable
    assert not x.flags.aligned
    return x


def test_unaligned_arrays_match_numpy():
    x = _unaligned((4, 3))
    assert_matches(numba_cpu.sum_kernel(x, (0,), False), np.sum(x, axis=0))
    a = _unaligned((5, 2, 2))
    assert_matches(numba_cpu.matmul_kernel(a, a), np.matmul(a, a))
    program = _program(_layout_fn, rand(3), rand(3))
    assert_matches(_numba_fused.fused_kernel(x, x, program=program),
                   fused_p.impl(x, x, program=program))


def test_strided_loops_type_contiguous_inputs_as_c_arrays():
    """A row-broadcast operand makes the loop strided; inputs that are C-contiguous are
    typed as C arrays (so the inner loop vectorises), others as any-layout arrays."""
    program = _program(lambda x, b: fnp.maximum(x + b, 0.0), rand((4, 3)), rand(3))
    x, b = rand((64, 32)), rand(32, seed=1)
    assert_matches(_numba_fused.fused_kernel(x, b, program=program), np.maximum(x + b, 0.0))
    xt = rand((32, 64), seed=2).T  # the same shape, not C-contiguous
    assert_matches(_numba_fused.fused_kernel(xt, b, program=program), np.maximum(xt + b, 0.0))
    dtypes = (np.dtype(np.float64),) * 2
    layouts = {key[-1] for key in _numba_fused._kernels if key[0] is program and key[1] == dtypes}
    assert {(True, True), (False, True)} <= layouts


# -- plans memoised per input layout ------------------------------------------------------------

def _bias_relu_sum(x, b):
    return fnp.sum(fnp.maximum(x * 2.0 + b, 0.0), axis=0), fnp.sum(x * b, axis=1)


def _expected_bias_relu_sum(x, b):
    return np.maximum(x * 2.0 + b, 0.0).sum(axis=0), (x * b).sum(axis=1)


def test_memoised_plans_follow_every_change_of_input_layout():
    """One executable, called with C-ordered, Fortran-ordered, sliced and differently shaped
    inputs, in turn and back: each node's memoised plan must be dropped when the layout
    changes (a stale flat-loop plan on a transposed input would read the wrong elements)."""
    x = np.linspace(-1.0, 1.0, 24).reshape(4, 6)
    b = np.linspace(0.5, -0.5, 6)
    graph = optimize(fg.make_graph(_bias_relu_sum)(x, b))
    executable = get_backend("numba").compile(graph)
    assert executable._layout is not None  # the fused and sum kernels memoise by layout
    wide = np.linspace(-1.0, 1.0, 48).reshape(8, 6)
    cases = [x, np.asfortranarray(x), x, wide[::2], x, np.asfortranarray(x), x]
    for xx in cases * 2:
        got = executable([xx, b])
        for g, want in zip(got, _expected_bias_relu_sum(xx, b)):
            np.testing.assert_allclose(g, want, rtol=1e-14)


def test_memoised_plans_are_per_thread_layout():
    import threading

    x = np.linspace(-1.0, 1.0, 24).reshape(4, 6)
    b = np.linspace(0.5, -0.5, 6)
    executable = get_backend("numba").compile(optimize(fg.make_graph(_bias_relu_sum)(x, b)))
    layouts = [x, np.asfortranarray(x)]
    errors = []

    def work(xx):
        want = _expected_bias_relu_sum(xx, b)
        for _ in range(300):
            got = executable([xx, b])
            if not all(np.allclose(g, w, rtol=1e-14) for g, w in zip(got, want)):
                errors.append(xx.flags.f_contiguous)
                return

    threads = [threading.Thread(target=work, args=(layouts[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_numpy_backend_executables_do_not_track_layouts():
    x = np.ones((2, 3))
    executable = get_backend("numpy").compile(optimize(fg.make_graph(_bias_relu_sum)(x, x[0])))
    assert executable._layout is None
