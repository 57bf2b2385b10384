"""The elementwise functions, aliases, creation functions, dtype casts, tracer methods and
``.at`` updates of issue 11 (item 2), beyond their op-table rows (``op_records_elementwise2.py``).

* At every kink and jump (``docs/conventions.md``) forward and reverse mode give the same
  Jacobian, and it is the documented one (closed forms derived in the comments).
* ``.at[...]`` with repeated indices: closed forms, finite differences, and JAX's numbers
  for ``max``/``min`` (generated with jax 0.10.2, float64; JAX refuses the derivative of
  ``multiply`` with repeated indices, funcgrad's is exact).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ConcretizationError, ShapeError, TracerConversionError
from funcgrad.testing import check_grads

NAN = np.nan


def both_jacobians(f, *args):
    """``(jacfwd, jacrev)`` of ``f`` with respect to every argument, stacked per argument."""
    argnums = tuple(range(len(args)))
    fwd = fg.jacfwd(f, argnums=argnums)(*args)
    rev = fg.jacrev(f, argnums=argnums)(*args)
    return [np.asarray(j) for j in fwd], [np.asarray(j) for j in rev]


# -- kinks: forward and reverse mode agree with the documented value -----------------------
KINKS = [
    # (name, f, args, documented Jacobian per argument)
    ("fmax tie", fnp.fmax, (1.0, 1.0), (0.5, 0.5)),          # 1/2 each, as maximum
    ("fmin tie", fnp.fmin, (1.0, 1.0), (0.5, 0.5)),
    ("fmax nan y", fnp.fmax, (1.0, NAN), (1.0, 0.0)),        # fmax(x, nan) = x
    ("fmax nan x", fnp.fmax, (NAN, 2.0), (0.0, 1.0)),
    ("fmin nan y", fnp.fmin, (1.0, NAN), (1.0, 0.0)),
    ("fmax both nan", fnp.fmax, (NAN, NAN), (0.0, 0.0)),     # a NaN result: no winner
    ("fmax wins", fnp.fmax, (3.0, 2.0), (1.0, 0.0)),
    ("copysign x=0", fnp.copysign, (0.0, -1.0), (0.0, 0.0)),   # |x| has derivative 0 at 0
    ("copysign", fnp.copysign, (2.0, -1.0), (-1.0, 0.0)),      # -|x|: -sign(x); y only picks a sign
    ("copysign y=0", fnp.copysign, (-2.0, 0.0), (-1.0, 0.0)),  # +|x| (the sign bit of +0)
    ("heaviside x=0", fnp.heaviside, (0.0, 0.3), (0.0, 1.0)),  # the value at 0 is h
    ("heaviside x>0", fnp.heaviside, (1.0, 0.3), (0.0, 0.0)),
    ("fmod jump", fnp.fmod, (3.0, 1.5), (1.0, -2.0)),          # x - trunc(x/y) y: -trunc(2)
    ("fmod negative", fnp.fmod, (-3.5, 1.5), (1.0, 2.0)),       # -trunc(-7/3) = 2
    ("fabs 0", fnp.fabs, (0.0,), (0.0,)),
    ("rint tie", fnp.rint, (0.5,), (0.0,)),
    ("trunc integer", fnp.trunc, (2.0,), (0.0,)),
    ("fix", fnp.fix, (-1.5,), (0.0,)),
    ("nan_to_num nan", fnp.nan_to_num, (NAN,), (0.0,)),      # replaced by a constant
    ("nan_to_num inf", fnp.nan_to_num, (np.inf,), (0.0,)),
    ("nan_to_num finite", fnp.nan_to_num, (1.5,), (1.0,)),
    ("sinc 0", fnp.sinc, (0.0,), (0.0,)),                     # an even function: sinc'(0) = 0
]


@pytest.mark.parametrize("name, f, args, jac", KINKS, ids=[k[0] for k in KINKS])
def test_kink_forward_and_reverse_agree_with_the_convention(name, f, args, jac):
    args = tuple(np.float64(a) for a in args)
    with np.errstate(invalid="ignore"):
        fwd, rev = both_jacobians(f, *args)
        jitted = fg.jit(fg.jacrev(f, argnums=tuple(range(len(args)))))(*args)
    np.testing.assert_array_equal(fwd, rev)
    np.testing.assert_array_equal(fwd, np.array(jac))
    np.testing.assert_array_equal(np.asarray(jitted), np.array(jac))


def test_sinc_derivatives_at_zero_are_the_maclaurin_coefficients():
    # sinc(x) = sum_n (-1)^n (pi x)^(2n) / (2n+1)!, so sinc''(0) = -pi^2/3, sinc''''(0) = pi^4/5.
    d2 = -math.pi ** 2 / 3
    assert float(fg.grad(fg.grad(fnp.sinc))(0.0)) == pytest.approx(d2, rel=1e-15)
    assert float(fg.jacfwd(fg.jacfwd(fnp.sinc))(0.0)) == pytest.approx(d2, rel=1e-15)
    assert float(fg.jacfwd(fg.grad(fnp.sinc))(0.0)) == pytest.approx(d2, rel=1e-15)
    assert float(fg.grad(fg.grad(fg.grad(fnp.sinc)))(0.0)) == 0.0
    d4 = fg.grad(fg.grad(fg.grad(fg.grad(fnp.sinc))))(0.0)
    assert float(d4) == pytest.approx(math.pi ** 4 / 5, rel=1e-14)
    # ... and continuous: finite differences of the first derivative around 0.
    h = 1e-4
    fd = (float(fg.grad(fnp.sinc)(h)) - float(fg.grad(fnp.sinc)(-h))) / (2 * h)
    assert fd == pytest.approx(d2, rel=1e-6)


def test_sinc_near_zero_and_under_jit_matches_numpy():
    x = np.array([0.0, 1e-9, -0.25, 2.0, 0.5])
    np.testing.assert_allclose(fg.jit(fnp.sinc)(x), np.sinc(x), rtol=1e-15)
    check_grads(lambda x: fnp.sinc(x), (np.array([1e-3, -0.7, 1.3]),), order=2)


def test_fmax_ignores_nan_in_value_and_gradient_elementwise():
    x = np.array([1.0, NAN, 3.0, NAN])
    y = np.array([NAN, 2.0, 3.0, NAN])
    np.testing.assert_array_equal(fnp.fmax(x, y), np.fmax(x, y))
    with np.errstate(invalid="ignore"):
        gx, gy = fg.grad(lambda x, y: fnp.sum(fnp.nan_to_num(fnp.fmax(x, y))), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, 0.0, 0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0, 0.5, 0.0])


def test_nan_to_num_keeps_numpy_options_and_dtype():
    x = np.array([NAN, np.inf, -np.inf, 2.0], np.float32)
    out = fg.jit(lambda x: fnp.nan_to_num(x, nan=1.0, posinf=7.0))(x)
    np.testing.assert_array_equal(out, np.nan_to_num(x, nan=1.0, posinf=7.0))
    assert out.dtype == np.float32
    z = np.array([complex(NAN, 1.0), complex(2.0, np.inf)])
    np.testing.assert_array_equal(fg.jit(fnp.nan_to_num)(z), np.nan_to_num(z))
    g = fg.grad(lambda x: fnp.sum(fnp.nan_to_num(x * x)))(np.array([np.inf, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0])


def test_float_power_computes_in_float64_and_returns_float32_gradients():
    x = np.array([1.5, 2.0], np.float32)
    assert fnp.float_power(x, 2).dtype == np.float64
    assert fg.jit(lambda x: fnp.float_power(x, 2.5))(x).dtype == np.float64
    g = fg.grad(lambda x: fnp.sum(fnp.float_power(x, 3)))(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 3 * x.astype(np.float64) ** 2, rtol=1e-7)


def test_angle_conversions_are_numpys_products():
    x = np.linspace(-400, 400, 9)
    np.testing.assert_array_equal(fg.jit(fnp.deg2rad)(x), np.deg2rad(x))
    np.testing.assert_array_equal(fg.jit(fnp.rad2deg)(x), np.rad2deg(x))
    assert float(fg.grad(fnp.radians)(1.0)) == math.pi / 180
    assert float(fg.grad(fnp.degrees)(1.0)) == 180 / math.pi


# -- aliases ------------------------------------------------------------------------------
@pytest.mark.parametrize("alias, name", [
    ("acos", "arccos"), ("acosh", "arccosh"), ("asin", "arcsin"), ("asinh", "arcsinh"),
    ("atan", "arctan"), ("atanh", "arctanh"), ("atan2", "arctan2"), ("pow", "power"),
    ("concat", "concatenate"), ("permute_dims", "transpose"), ("around", "round"),
    ("radians", "deg2rad"), ("degrees", "rad2deg"), ("fix", "trunc"),
])
def test_alias_computes_the_same_function(alias, name):
    a, f = getattr(fnp, alias), getattr(fnp, name)
    x = np.array([[0.3, 0.6], [0.2, 0.7]])
    args = {"atan2": (x, x.T), "pow": (x, x.T), "concat": ([x, x],), "around": (x * 10,)}.get(alias, (x,))
    np.testing.assert_array_equal(a(*args), f(*args))
    np.testing.assert_array_equal(a(*args), getattr(np, alias)(*args))
    if alias in ("acos", "acosh", "asin", "asinh", "atan", "atanh", "atan2", "pow", "concat",
                 "permute_dims", "around"):
        assert a is f  # the same object: one definition


def test_matrix_transpose_needs_two_dimensions():
    assert fnp.matrix_transpose(np.zeros((4, 2, 3))).shape == (4, 3, 2)
    with pytest.raises(ShapeError, match="at least 2-dimensional.*\\(3,\\)"):
        fg.jit(fnp.matrix_transpose)(np.zeros(3))


# -- dtype names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16",
                                  "uint32", "uint64", "float16", "float32", "float64",
                                  "complex64", "complex128"])
def test_dtype_names_are_still_dtypes(name):
    t, npt = getattr(fnp, name), getattr(np, name)
    assert np.dtype(t) == np.dtype(npt)
    assert np.zeros(2, dtype=t).dtype == npt
    assert np.ones(2).astype(t).dtype == npt
    assert np.array([1, 0], dtype=t).dtype == npt
    assert t == npt and npt == t and np.dtype(npt) == t and hash(t) == hash(npt)
    assert {npt: 1}[t] == 1
    assert np.issubdtype(t, npt) and np.issubdtype(npt, t)
    assert isinstance(npt(1), t) and not isinstance(1.0, t)
    assert fnp.zeros(3, dtype=t).dtype == npt
    assert fnp.astype(np.ones(2), t).dtype == npt
    v = t(1)  # plain values: NumPy's own scalar
    assert type(v) is npt


def test_dtype_names_cast_traced_values_differentiably():
    x = np.array([1.25, -2.5])
    y, t = fg.jvp(lambda x: fnp.float32(x) * 2, (x,), (np.ones(2),))
    assert y.dtype == t.dtype == np.float32
    np.testing.assert_array_equal(t, [2.0, 2.0])
    g = fg.grad(lambda x: fnp.sum(fnp.float32(x) ** 2))(x)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, 2 * x)
    assert fg.jit(lambda x: fnp.float32(x))(x).dtype == np.float32
    assert fg.jit(lambda x: fnp.int64(x))(x).dtype == np.int64
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.int64(x))(x), x.astype(np.int64))
    # a list of traced values, as np.float32([a, b]) takes one
    out = fg.grad(lambda x: fnp.sum(fnp.float64([x[0], 3 * x[1]])))(x)
    np.testing.assert_array_equal(out, [1.0, 3.0])
    # An integer cast has no derivative (as astype): the gradient is zero, not an error.
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fnp.int64(x) * 1.0) + 0.0 * x[0])(x), [0, 0])


def test_numpy_scalar_types_still_refuse_traced_values():
    # np.float32(x) cannot return a traced value: it raises (tests/test_conversions.py), fnp's casts.
    with pytest.raises(TracerConversionError):
        fg.grad(lambda x: np.float32(x) * x)(1.0)
    assert float(fg.grad(lambda x: fnp.float32(x) * x)(1.0)) == 2.0


# -- tracer methods ------------------------------------------------------------------------
def test_tracer_methods_round_clip_cumsum_cumprod():
    x = np.array([0.26, -1.74, 2.5])

    def f(x):
        return (fnp.sum(x.round(1)) + fnp.sum(x.clip(min=-1.0, max=1.0) * 2)
                + fnp.sum(x.clip(-1.0, 1.0)) + fnp.sum(x.cumsum()) + fnp.sum(x.cumprod(0)))

    expected = (np.sum(x.round(1)) + np.sum(x.clip(-1, 1) * 2) + np.sum(x.clip(-1, 1))
                + np.sum(x.cumsum()) + np.sum(x.cumprod(0)))
    assert float(fg.jit(f)(x)) == pytest.approx(expected, rel=1e-14)
    check_grads(lambda x: x.clip(min=-1.0, max=1.0) + x.cumprod() + x.cumsum(), (x,), order=2)


def test_tracer_nonzero_and_item():
    def f(x):
        (idx,) = (x > 0).nonzero()
        (idx2,) = x.nonzero()
        n = fnp.sum(x > 0).item()  # an integer value converts
        return fnp.sum(x[idx]) * n + fnp.sum(x[idx2])
    x = np.array([1.0, -2.0, 0.0, 3.0])
    assert float(f(x)) == 2 * 4.0 + 2.0
    np.testing.assert_array_equal(fg.grad(f)(x), [3.0, 1.0, 0.0, 3.0])
    with pytest.raises(ConcretizationError, match="nonzero"):
        fg.jit(f)(x)
    with pytest.raises(TracerConversionError, match="item"):
        fg.grad(lambda x: x * x.item())(2.0)


# -- .at[] with repeated indices ----------------------------------------------------------
X = np.array([1.0, 2.0, 3.0])
REPEATS = np.array([0, 2, 0])


def test_at_multiply_repeated_indices_value_and_exact_derivatives():
    v = np.array([2.0, 3.0, 4.0])

    def f(x, v):
        return fnp.at(x)[REPEATS].multiply(v)
    expected = X.copy()
    np.multiply.at(expected, REPEATS, v)
    np.testing.assert_array_equal(f(X, v), expected)  # [8, 2, 9]
    # out0 = x0 v0 v2, out2 = x2 v1: closed forms of both Jacobians.
    jx, jv = np.diag([v[0] * v[2], 1.0, v[1]]), np.array([[X[0] * v[2], 0, X[0] * v[0]],
                                                          [0, 0, 0], [0, X[2], 0]])
    fwd, rev = both_jacobians(f, X, v)
    for j in (fwd, rev):
        np.testing.assert_array_equal(j[0], jx)
        np.testing.assert_array_equal(j[1], jv)
    # d2 sum(out) / dv0 dv2 = x0: exact second order, also with a zero update.
    h = fg.hessian(lambda v: fnp.sum(f(X, v)))(np.array([0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(h, [[0, 0, 1], [0, 0, 0], [1, 0, 0]])
    check_grads(f, (X, v), order=2)
    check_grads(fg.jit(f), (X, v), order=1)


def test_at_multiply_with_traced_indices_refuses_the_derivative_unless_unique():
    v = np.array([2.0, 3.0])

    def loss(v, i, **kw):
        return fnp.sum(fnp.at(X)[i].multiply(v, **kw))

    # Forward only: fine.
    np.testing.assert_array_equal(fg.jit(lambda v, i: fnp.at(X)[i].multiply(v))(v, np.array([0, 0])),
                                  [6.0, 2.0, 3.0])
    with pytest.raises(ConcretizationError, match="unique_indices=True"):
        fg.jit(fg.grad(loss))(v, np.array([0, 2]))
    g = fg.jit(fg.grad(lambda v, i: loss(v, i, unique_indices=True)))(v, np.array([0, 2]))
    np.testing.assert_array_equal(g, [1.0, 3.0])


def test_at_divide_and_power_follow_numpy_and_differentiate():
    v = np.array([2.0, 4.0, 0.5])
    ref_div = X.copy()
    np.divide.at(ref_div, REPEATS, v)
    ref_pow = X.copy()
    np.power.at(ref_pow, REPEATS, v)
    np.testing.assert_allclose(fnp.at(X)[REPEATS].divide(v), ref_div, rtol=1e-15)
    np.testing.assert_allclose(fg.jit(lambda x, v: x.at[REPEATS].power(v))(X, v), ref_pow, rtol=1e-15)
    check_grads(lambda x, v: fnp.at(x)[REPEATS].divide(v), (X, v), order=2)
    check_grads(lambda x, v: fnp.at(x)[REPEATS].power(v), (X + 1.0, v), order=2)


# jax 0.10.2: x.at[idx].max(v) for x = [1, 2, 3], idx = [0, 2, 0, 0] (jacrev == jacfwd there).
JAX_MAX = {
    (1.0, 3.0, 1.0, 0.5): (np.diag([1 / 3, 1.0, 0.5]),  # x0 ties with v0 and v2: a third each
                           [[1 / 3, 0, 1 / 3, 0], [0, 0, 0, 0], [0, 0.5, 0, 0]]),
    (2.0, 3.0, 2.0, 0.5): (np.diag([0.0, 1.0, 0.5]),    # v0 and v2 win at 0: a half each
                           [[0.5, 0, 0.5, 0], [0, 0, 0, 0], [0, 0.5, 0, 0]]),
}


@pytest.mark.parametrize("v", list(JAX_MAX), ids=str)
def test_at_max_splits_ties_like_jax(v):
    idx = np.array([0, 2, 0, 0])
    v = np.array(v)
    f = fg.jit(lambda x, v: x.at[idx].max(v))
    expected = X.copy()
    np.maximum.at(expected, idx, v)
    np.testing.assert_array_equal(f(X, v), expected)
    fwd, rev = both_jacobians(lambda x, v: fnp.at(x)[idx].max(v), X, v)
    jx, jv = JAX_MAX[tuple(v)]
    for j in (fwd, rev):
        np.testing.assert_allclose(j[0], jx, rtol=1e-15)
        np.testing.assert_allclose(j[1], jv, rtol=1e-15)


def test_at_min_matches_at_max_of_the_negation():
    idx = np.array([1, 1, 2])
    v = np.array([0.5, 0.5, 4.0])
    fwd, rev = both_jacobians(lambda x, v: fnp.at(x)[idx].min(v), X, v)
    fwd2, _ = both_jacobians(lambda x, v: -fnp.at(-x)[idx].max(-v), X, v)
    for a, b, c in zip(fwd, rev, fwd2):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(fwd[1], [[0, 0, 0], [0.5, 0.5, 0], [0, 0, 0]])


def test_at_updates_under_vmap_match_a_loop():
    vs = np.array([[2.0, 3.0, 4.0], [1.0, -1.0, 0.5]])
    for method in ("multiply", "divide", "max", "min", "power"):
        def f(v, method=method):
            return getattr(fnp.at(X)[REPEATS], method)(v)
        batched = fg.vmap(f)(vs)
        np.testing.assert_allclose(batched, np.stack([f(v) for v in vs]), rtol=1e-15)
        gb = fg.vmap(fg.grad(lambda v, f=f: fnp.sum(f(v) * X)))(vs)
        np.testing.assert_allclose(gb, np.stack([fg.grad(lambda v, f=f: fnp.sum(f(v) * X))(v)
                                                 for v in vs]), rtol=1e-15)


def test_at_get_is_indexing():
    assert fnp.at(X)[REPEATS].get().tolist() == X[REPEATS].tolist()
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(x.at[REPEATS].get()))(X), [2, 0, 1])


# -- creation functions ---------------------------------------------------------------------
def test_linspace_derivatives_are_the_interpolation_weights():
    # y_i = start + i (stop - start) / (n - 1): dy_i/dstart = 1 - i/(n-1), dy_i/dstop = i/(n-1).
    fwd, rev = both_jacobians(lambda a, b: fnp.linspace(a, b, 5), 1.0, 3.0)
    w = np.arange(5) / 4
    for j in (fwd, rev):
        np.testing.assert_allclose(j[0], 1 - w, rtol=1e-15)
        np.testing.assert_allclose(j[1], w, rtol=1e-15)


def test_linspace_integer_dtype_and_errors_as_numpy():
    out = fg.jit(lambda a: fnp.linspace(a, 10.0, 4, dtype=int))(np.float64(-3.0))
    np.testing.assert_array_equal(out, np.linspace(-3.0, 10.0, 4, dtype=int))
    assert out.dtype == np.linspace(-3.0, 10.0, 4, dtype=int).dtype
    with pytest.raises(ValueError, match="must be non-negative"):
        fg.grad(lambda a: fnp.sum(fnp.linspace(a, 1.0, -1)))(0.0)
    np.testing.assert_array_equal(fg.jit(lambda a: fnp.linspace(a, 2.0, 1))(np.float64(1.0)), [1.0])


def test_geomspace_refuses_zero_like_numpy():
    with pytest.raises(ValueError, match="cannot include zero"):
        fg.grad(lambda a: fnp.sum(fnp.geomspace(a, 1.0, 3)))(0.0)
    # d/da of a^(1-t) b^t at a = 1, b = 8, t = i/3: sum_i (1 - t_i) 8^t_i / a.
    t = np.arange(4) / 3
    g = fg.grad(lambda a: fnp.sum(fnp.geomspace(a, 8.0, 4)))(1.0)
    assert float(g) == pytest.approx(np.sum((1 - t) * 8.0 ** t), rel=1e-13)


def test_full_differentiates_in_the_fill_value():
    g = fg.grad(lambda x: fnp.sum(fnp.full((2, 3), x) * np.arange(6.0).reshape(2, 3)))(1.0)
    assert float(g) == 15.0
    out = fg.jit(lambda x: fnp.full(3, x, dtype=fnp.float32))(np.float64(2.0))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full(3, 2.0, np.float32))


def test_elementwise_page_examples_run():
    import doctest
    import pathlib

    page = pathlib.Path(__file__).parent.parent / "docs" / "elementwise.md"
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5
