"""Forward and reverse mode agree at every non-differentiable point of ``docs/conventions.md``.

One table of convention points: (name, function, point, Jacobian at the point, whether
the convention promises a finite derivative).  The Jacobian is the documented value,
derived by hand in the comment on each row (rows: outputs, columns: inputs, both
flattened in C order).  For each point and several random cotangents ``ct`` and
tangents ``t``:

* the transpose identity ``<ct, jvp(t)> == <vjp(ct), t>`` holds at that exact point;
* ``vjp(ct) == ct J`` and ``jvp(t) == J t``, the documented value in both modes;
* both are finite wherever the convention promises a finite derivative, and
* ``jit`` (NumPy backend) gives the same numbers as eager evaluation.

Where JAX's number is quoted, it was generated with jax 0.10.2 (float64).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.nn import relu

SEEDS = (0, 1, 2)
INF = np.inf


@dataclasses.dataclass(frozen=True)
class Kink:
    name: str
    fun: Callable
    point: list
    jac: list  # the documented Jacobian at ``point``; inf where the derivative is infinite
    finite: bool = True  # the convention promises a finite derivative

    def __repr__(self) -> str:
        return self.name


def diag(*d) -> list:
    return np.diag(np.array(d, float)).tolist()


def _std_row_jacobian(row, ddof):
    """d std / d x_i = (x_i - mean) / ((n - ddof) std): the closed form, away from a constant row."""
    row = np.asarray(row, float)
    c = row - row.mean()
    s = math.sqrt(np.sum(c * c) / (row.size - ddof))
    return c / ((row.size - ddof) * s)


def _clip_array(v):
    x, lo, hi = v[:5], v[5:10], v[10:]
    return fnp.clip(x, lo, hi)


# x = [0, 1, 0.5, -1, 2], lo = 0, hi = [1, 1, 0.5, 1, 1]: x at lo (0), at hi (1 and 0.5) gets 1;
# x below lo takes lo (out 3 <- lo 3), above hi takes hi (out 4 <- hi 4).
_CLIP_POINT = [0.0, 1.0, 0.5, -1.0, 2.0] + [0.0] * 5 + [1.0, 1.0, 0.5, 1.0, 1.0]
_CLIP_JAC = np.zeros((5, 15))
_CLIP_JAC[[0, 1, 2], [0, 1, 2]] = 1.0
_CLIP_JAC[3, 5 + 3] = 1.0
_CLIP_JAC[4, 10 + 4] = 1.0

_STD_ROWS = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]

KINKS = [
    # abs: sign(x), with sign(0) = 0.
    Kink("abs at 0", fnp.abs, [0.0, 1.0, -1.0], diag(0, 1, -1)),
    # Piecewise constant functions: derivative 0 everywhere, also at their jumps.
    Kink("sign at 0", fnp.sign, [0.0, 1.0, -2.0], diag(0, 0, 0)),
    Kink("floor at an integer", fnp.floor, [1.0, 0.5, -1.0], diag(0, 0, 0)),
    Kink("ceil at an integer", fnp.ceil, [1.0, 0.5, -1.0], diag(0, 0, 0)),
    Kink("round at a half", fnp.round, [0.5, 1.5, 2.0], diag(0, 0, 0)),
    Kink("floor_divide at a jump", lambda x: x // 2.0, [2.0, 3.0], diag(0, 0)),
    # max/min ties: the cotangent is split evenly among the k tied elements (1/k each).
    Kink("max ties", fnp.max, [1.0, 3.0, 3.0], [[0, 0.5, 0.5]]),
    Kink("min ties", fnp.min, [1.0, 1.0, 3.0], [[0.5, 0.5, 0]]),
    # axis=0 of [[1, 2], [1, 0]]: column 0 ties (x00, x10), column 1 is won by x01.
    Kink("max axis=0 ties", lambda x: fnp.max(fnp.reshape(x, (2, 2)), axis=0),
         [1.0, 2.0, 1.0, 0.0], [[0.5, 0, 0.5, 0], [0, 1, 0, 0]]),
    # axis=1, keepdims of [[1, 1, 1], [1, 0, 2]]: a three-way tie (1/3 each), then x12 wins.
    Kink("max axis=1 keepdims three-way tie",
         lambda x: fnp.max(fnp.reshape(x, (2, 3)), axis=1, keepdims=True),
         [1.0, 1.0, 1.0, 1.0, 0.0, 2.0], [[1 / 3, 1 / 3, 1 / 3, 0, 0, 0], [0, 0, 0, 0, 0, 1]]),
    # axis=1 of [[2, 2, 3], [0, 1, 0]]: ties (x00, x01) and (x10, x12).
    Kink("min axis=1 ties", lambda x: fnp.min(fnp.reshape(x, (2, 3)), axis=1),
         [2.0, 2.0, 3.0, 0.0, 1.0, 0.0], [[0.5, 0.5, 0, 0, 0, 0], [0, 0, 0, 0.5, 0, 0.5]]),
    # maximum/minimum at x == y: 1/2 to each operand.
    Kink("maximum tie", lambda v: fnp.maximum(v[0], v[1]), [2.0, 2.0], [[0.5, 0.5]]),
    Kink("minimum tie", lambda v: fnp.minimum(v[0], v[1]), [2.0, 2.0], [[0.5, 0.5]]),
    Kink("maximum(x, x)", lambda x: fnp.maximum(x, x), [2.0], [[1.0]]),
    Kink("maximum(x, 0.0) at 0", lambda x: fnp.maximum(x, 0.0), [0.0, 1.0, -1.0], diag(0.5, 1, 0)),
    Kink("minimum(x, 0.0) at 0", lambda x: fnp.minimum(x, 0.0), [0.0, 1.0, -1.0], diag(0.5, 0, 1)),
    # nn.relu is where(x > 0, x, 0): 0 at 0.
    Kink("nn.relu at 0", relu, [0.0, 1.0, -1.0], diag(0, 1, 0)),
    # clip: the bounds belong to the interval, so x at a bound gets 1.
    Kink("clip at scalar bounds", lambda x: fnp.clip(x, 0.0, 1.0),
         [-1.0, 0.0, 0.5, 1.0, 2.0], diag(0, 1, 1, 1, 0)),
    Kink("clip at array bounds", _clip_array, _CLIP_POINT, _CLIP_JAC.tolist()),
    # Infinite derivatives: d sqrt = 1/(2 sqrt x), d log = 1/x, d cbrt = 1/(3 x^(2/3)): +inf at 0.
    Kink("sqrt at 0", fnp.sqrt, [0.0, 4.0], diag(INF, 0.25), finite=False),
    Kink("log at 0", fnp.log, [0.0, 2.0], diag(INF, 0.5), finite=False),
    Kink("cbrt at 0", fnp.cbrt, [0.0, 8.0], diag(INF, 1 / 12), finite=False),
    Kink("x ** 0.5 at 0", lambda x: x ** 0.5, [0.0, 4.0], diag(INF, 0.25), finite=False),
    # d log2 = 1/(x ln 2), d log10 = 1/(x ln 10), d log1p = 1/(1 + x): +inf at their poles.
    Kink("log2 at 0", fnp.log2, [0.0, 2.0], diag(INF, 1 / (2 * math.log(2))), finite=False),
    Kink("log10 at 0", fnp.log10, [0.0, 10.0], diag(INF, 1 / (10 * math.log(10))), finite=False),
    Kink("log1p at -1", fnp.log1p, [-1.0, 1.0], diag(INF, 0.5), finite=False),
    # d arcsin = 1/sqrt(1 - x^2): +inf at 1; d arccos is its negative.
    Kink("arcsin at 1", fnp.arcsin, [1.0, 0.0], diag(INF, 1), finite=False),
    Kink("arccos at 1", fnp.arccos, [1.0, 0.0], diag(-INF, -1), finite=False),
    # d (1/x) = -1/x^2: -inf at 0 (the same through divide, reciprocal and integer_pow).
    Kink("1 / x at 0", lambda x: 1 / x, [0.0, 2.0], diag(-INF, -0.25), finite=False),
    Kink("reciprocal at 0", fnp.reciprocal, [0.0, 2.0], diag(-INF, -0.25), finite=False),
    Kink("x ** -1 at 0", lambda x: x ** -1, [0.0, 2.0], diag(-INF, -0.25), finite=False),
    # x ** n: n x^(n-1); 0 ** 0 = 1 in n 0^(n-1), and x ** 0 has derivative 0 everywhere.
    Kink("x ** 2 at 0 and below", lambda x: x ** 2, [0.0, -3.0], diag(0, -6)),
    Kink("x ** 3 at 0 and below", lambda x: x ** 3, [0.0, -2.0], diag(0, 12)),
    Kink("x ** 1 at 0", lambda x: x ** 1, [0.0], [[1.0]]),
    Kink("x ** 0 at 0", lambda x: x ** 0, [0.0, 2.0], diag(0, 0)),
    Kink("x ** 2.0 (power) at 0", lambda x: x ** 2.0, [0.0, -3.0], diag(0, -6)),
    # x ** y at x = 0: d/dx = y 0^(y-1) (0 for y = 2, and 0 for y = 0 by the x ** 0 rule);
    # d/dy = x^y log x, taken as 0 at x = 0 (x ** y is flat in y there for y > 0).
    Kink("x ** y at x = 0", lambda v: v[0] ** v[1], [0.0, 2.0], [[0, 0]]),
    Kink("x ** y at 0 ** 0", lambda v: v[0] ** v[1], [0.0, 0.0], [[0, 0]]),
    # prod: d/dx_i is the product of the other elements, exact with zeros.
    Kink("prod with one zero", fnp.prod, [2.0, 0.0, 3.0], [[0, 6, 0]]),
    Kink("prod with two zeros", fnp.prod, [0.0, 0.0, 3.0], [[0, 0, 0]]),
    Kink("prod axis=1 with zeros", lambda x: fnp.prod(fnp.reshape(x, (2, 2)), axis=1),
         [0.0, 2.0, 0.0, 0.0], [[2, 0, 0, 0], [0, 0, 0, 0]]),
    # where with a singular (inf or NaN) branch: the unchosen branch gets 0 in both modes;
    # the chosen one its ordinary derivative (1/(2 sqrt 4) = 1/4, 1/2, -1/2^2, log 1 + 1, ...).
    Kink("where(x > 0, sqrt(x), 0)", lambda x: fnp.where(x > 0, fnp.sqrt(x), 0.0),
         [-1.0, 0.0, 4.0], diag(0, 0, 0.25)),
    Kink("where(x > 0, log(x), 0)", lambda x: fnp.where(x > 0, fnp.log(x), 0.0),
         [-1.0, 0.0, 2.0], diag(0, 0, 0.5)),
    Kink("where(x != 0, 1 / x, 0)", lambda x: fnp.where(x != 0, 1 / x, 0.0),
         [0.0, 2.0], diag(0, -0.25)),
    Kink("where(x != 0, reciprocal(x), 0)", lambda x: fnp.where(x != 0, fnp.reciprocal(x), 0.0),
         [0.0, 2.0], diag(0, -0.25)),
    Kink("where(x != 0, x ** -1, 0)", lambda x: fnp.where(x != 0, x ** -1, 0.0),
         [0.0, 2.0], diag(0, -0.25)),
    Kink("where(x > 0, x ** 0.5, 0)", lambda x: fnp.where(x > 0, x ** 0.5, 0.0),
         [-1.0, 0.0, 4.0], diag(0, 0, 0.25)),
    Kink("where(x > 0, x * log(x), 0)", lambda x: fnp.where(x > 0, x * fnp.log(x), 0.0),
         [0.0, 1.0], diag(0, 1)),
    Kink("where(|x| < 1, arcsin(x), 0)", lambda x: fnp.where(fnp.abs(x) < 1, fnp.arcsin(x), 0.0),
         [1.0, 0.0], diag(0, 1)),
    # norm at 0: 0 for every supported ord (a subgradient; |x| has derivative 0 at 0).
    *[Kink(f"norm(ord={o!r}) at 0", lambda x, o=o: fnp.linalg.norm(x, o), [0.0, 0.0], [[0, 0]])
      for o in (None, 2, 1, INF, -INF, 0, 3, 0.5, -1, -2)],
    # A negative order with one zero entry: the norm is 0 and behaves like |x_0| near it
    # ((|x_0|^-1 + 1)^-1 = |x_0| / (1 + |x_0|)), flat in x_1: derivative 0 (abs's convention).
    # ord=inf with a tie in |x|: max's even split times sign: [3, -3] -> [1/2, -1/2].
    Kink("norm(ord=inf) tie", lambda x: fnp.linalg.norm(x, INF), [3.0, -3.0], [[0.5, -0.5]]),
    Kink("norm(ord=-1) with a zero entry", lambda x: fnp.linalg.norm(x, -1), [0.0, 1.0], [[0, 0]]),
    *[Kink(f"matrix norm(ord={o!r}) at 0", lambda x, o=o: fnp.linalg.norm(fnp.reshape(x, (2, 2)), o),
           [0.0] * 4, [[0] * 4]) for o in (None, "fro", 1, -1, INF, -INF)],
    # norm along axis 1 with one zero row: row 0 gets 0, row 1 = [3, 4] gets x / |x| = [0.6, 0.8].
    Kink("norm(axis=1) with a zero row", lambda x: fnp.linalg.norm(fnp.reshape(x, (2, 2)), axis=1),
         [0.0, 0.0, 3.0, 4.0], [[0, 0, 0, 0], [0, 0, 0.6, 0.8]]),
    # std of a constant slice: 0 (std is |x - mean| / sqrt(n - ddof), norm's convention at 0).
    # var is smooth: 2 (x - mean) / (n - ddof) = 0 there.
    Kink("std of a constant vector", fnp.std, [1.0, 1.0, 1.0], [[0, 0, 0]]),
    Kink("var of a constant vector", fnp.var, [1.0, 1.0, 1.0], [[0, 0, 0]]),
    Kink("std(axis=1, ddof=1), one constant row",
         lambda x: fnp.std(fnp.reshape(x, (2, 3)), axis=1, ddof=1),
         sum(_STD_ROWS, []), [[0] * 6, [0, 0, 0, *_std_row_jacobian(_STD_ROWS[1], 1)]]),
    Kink("std(axis=0, keepdims) of constant columns",
         lambda x: fnp.std(fnp.reshape(x, (2, 2)), axis=0, keepdims=True),
         [5.0, -1.0, 5.0, -1.0], [[0] * 4, [0] * 4]),
    Kink("var(axis=0, ddof=1) of constant columns",
         lambda x: fnp.var(fnp.reshape(x, (2, 2)), axis=0, ddof=1),
         [5.0, -1.0, 5.0, -1.0], [[0] * 4, [0] * 4]),
    # hypot at the origin: 0, like norm at 0 (hypot(x, 0) = |x|, and |x|' = 0 at 0).  JAX gives
    # [0.5, 0.5] there (jax 0.10.2), a consequence of its abs'(0) = 1, which funcgrad does not share.
    Kink("hypot at the origin", lambda v: fnp.hypot(v[0], v[1]), [0.0, 0.0], [[0, 0]]),
    # Off the origin on an axis hypot is smooth: (x, y) / hypot = (0, 1) at (0, 2).
    Kink("hypot on an axis", lambda v: fnp.hypot(v[0], v[1]), [0.0, 2.0], [[0, 1]]),
    # arctan2 at the origin is not even continuous: 0 by convention (JAX gives NaN).
    Kink("arctan2 at the origin", lambda v: fnp.arctan2(v[0], v[1]), [0.0, 0.0], [[0, 0]]),
]


def _apply(jac, v, transpose):
    """``J v`` (or ``v J``) where ``0 * inf`` counts as 0: a zero entry of J is no dependence."""
    terms = jac * (v[:, None] if transpose else v[None, :])
    return np.where(jac == 0, 0.0, terms).sum(axis=0 if transpose else 1)


def _modes(fun, x, ct, t):
    """(vjp(ct), jvp(t)) of ``fun`` at ``x``, eagerly."""
    _, pullback = fg.vjp(fun, x)
    (g,) = pullback(ct)
    _, tangent = fg.jvp(fun, (x,), (t,))
    return np.asarray(g), np.asarray(tangent)


@pytest.fixture(autouse=True)
def _quiet_numpy():
    # The singular points evaluate sqrt(0)' and friends on purpose; no RuntimeWarnings.
    with np.errstate(divide="ignore", invalid="ignore"):
        yield


@pytest.mark.parametrize("kink", KINKS, ids=repr)
@pytest.mark.parametrize("seed", SEEDS)
def test_forward_and_reverse_agree(kink, seed):
    x = np.array(kink.point, float)
    jac = np.array(kink.jac, float)
    out = np.asarray(kink.fun(x))
    assert jac.shape == (out.size, x.size)
    rng = np.random.default_rng(seed)
    ct = rng.standard_normal(out.shape)
    t = rng.standard_normal(x.shape)

    g, tangent = _modes(kink.fun, x, ct, t)
    assert g.shape == x.shape and tangent.shape == out.shape

    # The transpose identity, at this exact point.
    lhs, rhs = np.sum(ct * tangent), np.sum(g * t)
    assert np.isclose(lhs, rhs, rtol=1e-12, atol=1e-12) or lhs == rhs, (lhs, rhs)

    # The documented value, in both modes.
    np.testing.assert_allclose(g.ravel(), _apply(jac, ct.ravel(), transpose=True), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tangent.ravel(), _apply(jac, t.ravel(), transpose=False),
                               rtol=1e-12, atol=1e-15)
    if kink.finite:
        assert np.all(np.isfinite(g)) and np.all(np.isfinite(tangent))
    else:  # infinite, never NaN: both modes report the same infinity
        assert not np.any(np.isnan(g)) and not np.any(np.isnan(tangent))
        assert not np.all(np.isfinite(g)) and not np.all(np.isfinite(tangent))


@pytest.mark.parametrize("kink", KINKS, ids=repr)
def test_jit_equals_eager(kink):
    x = np.array(kink.point, float)
    out = np.asarray(kink.fun(x))
    rng = np.random.default_rng(7)
    ct, t = rng.standard_normal(out.shape), rng.standard_normal(x.shape)
    g, tangent = _modes(kink.fun, x, ct, t)

    pullback = fg.jit(lambda x, ct: fg.vjp(kink.fun, x)[1](ct)[0], backend="numpy")
    push = fg.jit(lambda x, t: fg.jvp(kink.fun, (x,), (t,))[1], backend="numpy")
    np.testing.assert_allclose(pullback(x, ct), g, rtol=1e-13, atol=0)
    np.testing.assert_allclose(push(x, t), tangent, rtol=1e-13, atol=0)


def test_reported_examples():
    """The two cases in the issue: std of a constant vector and hypot at the origin (were NaN)."""
    assert np.array_equal(fg.grad(fnp.std)(np.ones(3)), np.zeros(3))
    _, tangent = fg.jvp(fnp.std, (np.ones(3),), (np.array([1.0, 0.0, 0.0]),))
    assert tangent == 0.0
    assert np.array_equal(fg.grad(lambda x: fnp.hypot(x[0], x[1]))(np.zeros(2)), np.zeros(2))


# -- second order at the kinks with a finite convention ------------------------------------
# The rules pick the value with a where whose branch is a constant there, so the second
# derivative at the kink is 0: finite (JAX, jax 0.10.2: 0 for hypot at the origin, NaN for
# std of a constant vector and for norm at 0).  Forward-over-reverse must equal
# reverse-over-reverse.
SECOND_ORDER = [
    ("std of a constant vector", fnp.std, np.ones(3)),
    ("norm at 0", fnp.linalg.norm, np.zeros(2)),
    ("hypot at the origin", lambda v: fnp.hypot(v[0], v[1]), np.zeros(2)),
    ("arctan2 at the origin", lambda v: fnp.arctan2(v[0], v[1]), np.zeros(2)),
    ("norm(ord=-1) with a zero entry", lambda x: fnp.linalg.norm(x, -1), np.array([0.0, 1.0])),
]


@pytest.mark.parametrize("name, fun, x", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_order_is_zero_and_modes_agree(name, fun, x):
    rev = fg.jacrev(fg.grad(fun))(x)
    fwd = fg.jacfwd(fg.grad(fun))(x)
    np.testing.assert_array_equal(rev, np.zeros((x.size, x.size)))
    np.testing.assert_array_equal(fwd, rev)


def test_var_second_order_is_smooth():
    """var is smooth at a constant vector: Hessian 2 (I - 1/n) / n (JAX gives the same numbers)."""
    n = 3
    want = 2 * (np.eye(n) - 1 / n) / n
    np.testing.assert_allclose(fg.hessian(fnp.var)(np.ones(n)), want, rtol=1e-14)
    np.testing.assert_allclose(fg.jacfwd(fg.grad(fnp.var))(np.ones(n)), want, rtol=1e-14)


def test_where_singular_branch_keeps_second_order_finite():
    """The guard keeps a zero cotangent zero at second order too: hessian of x log x under where."""
    f = lambda x: fnp.sum(fnp.where(x > 0, x * fnp.log(x), 0.0))  # noqa: E731
    x = np.array([0.0, 2.0])
    # d2/dx2 (x log x) = 1/x: 1/2 at 2; 0 at 0 (unchosen branch).
    np.testing.assert_allclose(fg.hessian(f)(x), np.diag([0.0, 0.5]), rtol=1e-14)
    np.testing.assert_allclose(fg.jacfwd(fg.grad(f))(x), np.diag([0.0, 0.5]), rtol=1e-14)
