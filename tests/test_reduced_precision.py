"""float16 and bfloat16 are floating-point types everywhere (issue 10, item 3).

A gradient flows through a cast to and from a reduced-precision type, every result keeps
the dtype of its inputs (bfloat16 stays bfloat16 through matmul, reductions and Python
scalars), and jit, jvp and vmap give the same values and dtypes as eager code.
bfloat16 comes from ``ml_dtypes``, which funcgrad recognises but does not require: only
the tests that need it skip without it (it is in the ``dev`` extra, so CI runs them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import RECORDS, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.dtypes import finfo

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)


def _bfloat16() -> np.dtype:
    ml_dtypes = pytest.importorskip(
        "ml_dtypes", reason="bfloat16 is ml_dtypes' type; funcgrad recognises it but does not require it")
    return np.dtype(ml_dtypes.bfloat16)


@pytest.fixture(params=["float16", "bfloat16"])
def low(request) -> np.dtype:
    """A reduced-precision float dtype: float16 (NumPy's own) or bfloat16 (ml_dtypes')."""
    return F16 if request.param == "float16" else _bfloat16()


def _eps(dtype) -> float:
    return float(finfo(dtype).eps)


# -- the example: a round trip through a cast ----------------------------------------
@pytest.mark.parametrize("outer", [F32, F64])
def test_grad_flows_through_a_cast_to_bfloat16_and_back(outer):
    bf16 = _bfloat16()
    g = fg.grad(lambda x: fnp.exp(fnp.astype(fnp.astype(x, bf16), outer)))(np.asarray(1.0, outer))
    # The cast is the identity for derivatives; the cotangent exp(1) = e is rounded to bfloat16
    # on its way back through the cast (bfloat16(e) = 2.71875: 8 significant bits), so
    # |g - e| <= e * eps / 2 with bfloat16's eps = 2**-7.
    assert g.dtype == outer
    assert abs(float(g) - math.e) <= math.e * 2.0**-8
    assert float(g) == float(np.asarray(math.e, outer).astype(bf16).astype(outer))


def test_grad_flows_through_a_cast_to_float16_and_back():
    g = fg.grad(lambda x: fnp.exp(fnp.astype(fnp.astype(x, np.float16), np.float64)))(np.float64(1.0))
    # float16 has 11 significant bits: |g - e| <= e * 2**-11.
    assert g.dtype == F64
    assert abs(float(g) - math.e) <= math.e * 2.0**-11


def test_bfloat16_step_inside_a_float32_computation():
    bf16 = _bfloat16()
    x = np.array([0.5, -1.0, 2.0], np.float32)

    def f(x):
        y = fnp.astype(fnp.tanh(x) * 3.0, bf16)  # a bfloat16 stage ...
        return fnp.sum(fnp.astype(y, np.float32) ** 2)  # ... and back

    g = fg.grad(f)(x)
    # d/dx (3 tanh x)^2 = 18 tanh(x) (1 - tanh(x)^2), up to the bfloat16 roundings of y and its cotangent.
    t = np.tanh(x.astype(np.float64))
    assert g.dtype == F32
    np.testing.assert_allclose(g, 18 * t * (1 - t**2), rtol=4 * _eps(bf16))


def test_grad_of_a_reduced_precision_input_keeps_its_dtype(low):
    x = np.array([1.0, -2.0, 0.5], low)
    g = fg.grad(lambda x: fnp.sum(x * x))(x)
    assert g.dtype == low
    np.testing.assert_array_equal(g.astype(np.float64), 2 * x.astype(np.float64))  # exact: doubling


def test_grad_accepts_a_reduced_precision_scalar_output(low):
    value, g = fg.value_and_grad(lambda x: fnp.sum(fnp.sin(x)))(np.array([0.25, 1.0], low))
    assert np.asarray(value).dtype == low and g.dtype == low
    np.testing.assert_allclose(g.astype(np.float64), np.cos([0.25, 1.0]), rtol=2 * _eps(low))


# -- a small MLP against float64 -----------------------------------------------------------
def _mlp_loss(params, x):
    w1, b1, w2 = params
    h = fnp.tanh(x @ w1 + b1)
    return fnp.mean((h @ w2) ** 2) + 0.5 * fnp.sum(w1 * w1)


def _mlp_inputs(dtype):
    rng = np.random.default_rng(0)
    params = (rng.uniform(-1, 1, (4, 3)), rng.uniform(-0.5, 0.5, 3), rng.uniform(-1, 1, (3, 2)))
    x = rng.uniform(-1, 1, (5, 4))
    return tuple(p.astype(dtype) for p in params), x.astype(dtype)


def test_mlp_grads_in_reduced_precision_match_float64(low):
    params, x = _mlp_inputs(low)
    grads = fg.grad(_mlp_loss)(params, x)
    # The reference: float64 at the same (already rounded) inputs.
    exact = fg.grad(_mlp_loss)(tuple(p.astype(np.float64) for p in params), x.astype(np.float64))
    for g, e in zip(grads, exact):
        assert g.dtype == low
        # Each entry passes through a handful of roundings (matmul, tanh, products) of relative
        # size eps/2 on values of order 1: 16 eps of the largest entry bounds their sum.
        np.testing.assert_allclose(g.astype(np.float64), e, rtol=0,
                                   atol=16 * _eps(low) * np.abs(e).max())


# -- bfloat16 stays bfloat16 ----------------------------------------------------------------
def test_bfloat16_matmul_dot_sum_mean_keep_the_dtype():
    bf16 = _bfloat16()
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (3, 4)).astype(bf16)
    b = rng.uniform(-1, 1, (4, 2)).astype(bf16)
    assert np.matmul(a, b).dtype == F32  # why funcgrad casts back: NumPy+ml_dtypes widen matmul
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    for out in (fnp.matmul(a, b), fnp.dot(a, b), fg.jit(lambda a, b: a @ b)(a, b)):
        assert out.dtype == bf16
        np.testing.assert_allclose(out.astype(np.float64), a64 @ b64, rtol=0, atol=4 * _eps(bf16))
    assert fnp.sum(a).dtype == bf16 and fnp.mean(a).dtype == bf16
    assert fnp.sum(a, axis=0).dtype == bf16 and fnp.mean(a, axis=1, keepdims=True).dtype == bf16


def test_bfloat16_matmul_grads_keep_the_dtype():
    bf16 = _bfloat16()
    rng = np.random.default_rng(2)
    a = rng.uniform(-1, 1, (3, 4)).astype(bf16)
    b = rng.uniform(-1, 1, (4, 2)).astype(bf16)
    out, vjp = fg.vjp(fnp.matmul, a, b)
    assert out.dtype == bf16
    ga, gb = vjp(np.ones((3, 2), bf16))
    assert ga.dtype == bf16 and gb.dtype == bf16
    # d sum(a @ b) / da = ones @ b.T, d / db = a.T @ ones.
    np.testing.assert_allclose(ga.astype(np.float64), np.ones((3, 2)) @ b.astype(np.float64).T,
                               rtol=0, atol=4 * _eps(bf16))
    np.testing.assert_allclose(gb.astype(np.float64), a.astype(np.float64).T @ np.ones((3, 2)),
                               rtol=0, atol=4 * _eps(bf16))
    gm = fg.grad(lambda a: fnp.mean(fnp.dot(a, b)))(a)
    assert gm.dtype == bf16


def test_python_scalars_are_weak_with_reduced_precision(low):
    x = np.array([1.0, 2.0], low)
    assert (x * 2.5).dtype == low  # NumPy's own rule (NEP 50) ...
    out, g = fg.value_and_grad(lambda x: fnp.sum(x * 2.5 + 1))(x)
    assert np.asarray(out).dtype == low and g.dtype == low  # ... kept under tracing
    np.testing.assert_array_equal(g.astype(np.float64), [2.5, 2.5])


# -- jit, jvp, vmap ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_jit_equals_eager(low, backend):
    params, x = _mlp_inputs(low)
    f = fg.value_and_grad(_mlp_loss)
    eager_value, eager_grads = f(params, x)
    value, grads = fg.jit(f, backend=backend)(params, x)
    # The Numba backend compiles no float16 or bfloat16 kernel: those nodes run NumPy, as eagerly.
    assert np.asarray(value).dtype == low
    np.testing.assert_allclose(np.float64(value), np.float64(eager_value), rtol=2 * _eps(low))
    for g, e in zip(grads, eager_grads):
        assert g.dtype == e.dtype == low
        np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=0,
                                   atol=2 * _eps(low) * np.abs(e.astype(np.float64)).max())


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_jit_elementwise_chain_in_reduced_precision(low, backend):
    x = np.linspace(-2, 2, 11).astype(low)
    f = fg.jit(lambda x: fnp.tanh(x) * 2.5 + fnp.exp(-x * x), backend=backend)
    out = f(x)
    assert out.dtype == low
    np.testing.assert_array_equal(out, np.tanh(x) * 2.5 + np.exp(-x * x))  # NumPy's own roundings


def test_jvp_keeps_the_dtype(low):
    x = np.array([0.25, 1.0, -2.0], low)
    t = np.array([1.0, 0.5, -1.0], low)
    out, tangent = fg.jvp(fnp.sin, (x,), (t,))
    assert out.dtype == low and tangent.dtype == low
    exact = np.cos(x.astype(np.float64)) * t.astype(np.float64)
    np.testing.assert_allclose(tangent.astype(np.float64), exact, rtol=0, atol=2 * _eps(low))


def test_vmap_keeps_the_dtype(low):
    xs = np.arange(6.0).reshape(3, 2).astype(low)
    out = fg.vmap(lambda r: fnp.sum(r * r))(xs)
    assert out.dtype == low
    np.testing.assert_array_equal(out.astype(np.float64), [1.0, 13.0, 41.0])  # small integers: exact
    grads = fg.vmap(fg.grad(lambda r: fnp.sum(r * r)))(xs)
    assert grads.dtype == low
    np.testing.assert_array_equal(grads.astype(np.float64), 2 * xs.astype(np.float64))


# -- the elementwise rows of the op table in float16 -----------------------------------------
ELEMENTWISE = [r for r in RECORDS if r.kind == "elementwise"]


@pytest.mark.parametrize("rec", ELEMENTWISE, ids=[r.name for r in ELEMENTWISE])
@settings(max_examples=3)
@given(data=st.data())
def test_op_table_elementwise_in_float16(rec, data):
    args = data.draw(rec.args(F16))
    with np.errstate(all="ignore"):
        expected = rec.ref(*args)  # NumPy itself, in float16
        # Traced (concrete tracing, as under grad) and jitted, the values are NumPy's.
        traced, _ = fg.vjp(rec.fun, *args)
        jitted = fg.jit(rec.fun, backend="numpy")(*args)
    for out in (traced, jitted):
        assert np.asarray(out).dtype == np.asarray(expected).dtype
        np.testing.assert_allclose(np.asarray(out), expected, rtol=2 * _eps(F16), atol=0)
    if not rec.differentiable:
        return
    with np.errstate(all="ignore"):
        grads = fg.grad(scalarize(rec.fun, expected), argnums=rec.diff_argnums)(*args)
        # The reference: float64 at the same (already rounded) inputs and weights.
        wide = [a.astype(np.float64) for a in args]
        exact = fg.grad(scalarize(rec.fun, expected), argnums=rec.diff_argnums)(*wide)
    for g, e in zip(grads, exact):
        assert g.dtype == F16
        # A few float16 roundings (relative 2**-11 each) on the way: 8 eps of the largest entry.
        scale = max(1.0, float(np.abs(e).max(initial=0.0)))
        np.testing.assert_allclose(g.astype(np.float64), e, rtol=0, atol=8 * _eps(F16) * scale)


# -- the dtype predicates -------------------------------------------------------------------
def test_numpy_dtypes_are_classified_like_numpy():
    from funcgrad._core.dtypes import is_complex, is_floating, is_inexact

    for t in (np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8,
              np.uint32, np.bool_, np.str_, np.object_, "V4", [("a", "f4")]):
        dt = np.dtype(t)
        assert is_inexact(dt) == np.issubdtype(dt, np.inexact)
        assert is_floating(dt) == np.issubdtype(dt, np.floating)
        assert is_complex(dt) == np.issubdtype(dt, np.complexfloating)
        assert fnp.issubdtype(dt, np.floating) == np.issubdtype(dt, np.floating)


def test_ml_dtypes_floats_are_floating_and_its_integers_are_not():
    ml_dtypes = pytest.importorskip(
        "ml_dtypes", reason="ml_dtypes' types are recognised when it is installed, never required")
    from funcgrad._core.dtypes import is_complex, is_floating, is_inexact

    for t in (ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2):
        assert is_floating(t) and is_inexact(np.dtype(t)) and not is_complex(t)
        assert fnp.issubdtype(t, np.floating) and fnp.issubdtype(t, np.inexact)
        assert not fnp.issubdtype(t, np.complexfloating)
        assert fnp.finfo(t).eps == ml_dtypes.finfo(t).eps
    assert not np.issubdtype(ml_dtypes.bfloat16, np.floating)  # why fnp.issubdtype exists
    assert not is_inexact(ml_dtypes.int4) and not fnp.issubdtype(ml_dtypes.int4, np.floating)
    with pytest.raises(fg.errors.DTypeError, match="int4"):
        fg.grad(lambda x: fnp.sum(x))(np.ones(2, ml_dtypes.int4))


def test_import_funcgrad_does_not_import_ml_dtypes():
    import subprocess
    import sys

    code = "import sys, funcgrad, funcgrad.numpy, funcgrad.nn; print('ml_dtypes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
