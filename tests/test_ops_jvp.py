"""Forward mode of every op in the op table.

For each differentiable record, in float64 over hypothesis-drawn shapes and values:
the ``jvp`` tangent equals the central finite-difference directional derivative, and
forward and reverse mode are transposes of each other: ``<vjp(u), v> == <u, jvp(v)>``.
In float32 the tangent has the output's dtype (NumPy's: float32 unless a float64
constant promotes it).  Records that are not differentiable get a zero output tangent.
Forward over reverse (``jvp`` of ``grad``) matches finite differences of the gradient,
and max/min average the tangents of tied extrema.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, F32, F64, FORWARD_DIFFERENTIABLE, NON_DIFFERENTIABLE, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree

by_name = {"ids": lambda r: r.name}
EXAMPLES = settings.default.max_examples  # 25 in the ci profile, more in dev
SEEDS = st.integers(0, 2**32 - 1)


def _split(rec, args):
    """``rec.fun`` as a function of its differentiated arguments only (the rest fixed)."""
    def f(*diff):
        full = list(args)
        for n, d in zip(rec.diff_argnums, diff):
            full[n] = d
        return rec.fun(*full)

    return f, [args[n] for n in rec.diff_argnums]


def _float_leaves(out):
    return [np.asarray(o) for o in tree.leaves(out) if np.asarray(o).dtype.kind == "f"]


def _random_like(rng, xs):
    return [np.asarray(rng.standard_normal(np.shape(x)), np.asarray(x).dtype) for x in xs]


@pytest.mark.parametrize("rec", FORWARD_DIFFERENTIABLE, **by_name)
@settings(max_examples=max(3, EXAMPLES // 5))
@given(data=st.data())
def test_jvp_matches_finite_differences(rec, data):
    args = data.draw(rec.args(F64), label="args")
    f, primals = _split(rec, args)
    v = _random_like(np.random.default_rng(data.draw(SEEDS, label="seed")), primals)
    out, tangent = fg.jvp(f, primals, v)
    assert tree.structure(out) == tree.structure(tangent)
    for o, t, e in zip(tree.leaves(out), tree.leaves(tangent), tree.leaves(rec.ref(*args))):
        assert (np.shape(t), np.asarray(t).dtype) == (np.shape(e), np.asarray(e).dtype)
    eps = 1e-6
    plus = f(*[x + eps * d for x, d in zip(primals, v)])
    minus = f(*[x - eps * d for x, d in zip(primals, v)])
    rtol, atol = rec.grad_tol[F64]
    for i, (t, p, m) in enumerate(zip(_float_leaves(tangent), _float_leaves(plus), _float_leaves(minus))):
        np.testing.assert_allclose(t, (p - m) / (2 * eps), rtol=rtol, atol=atol,
                                   err_msg=f"{rec.name}: output {i}")


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=max(3, EXAMPLES // 5))
@given(data=st.data())
def test_jvp_is_the_transpose_of_vjp(rec, data):
    args = data.draw(rec.args(F64), label="args")
    f, primals = _split(rec, args)
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    out, pullback = fg.vjp(f, *primals)
    u_leaves = _random_like(rng, tree.leaves(out))
    v = _random_like(rng, primals)
    cotangents = pullback(tree.unflatten(tree.structure(out), u_leaves))
    _, tangent = fg.jvp(f, primals, v)
    lhs_terms = [np.sum(c * x) for c, x in zip(cotangents, v)]
    rhs_terms = [np.sum(u * t) for u, t in zip(u_leaves, tree.leaves(tangent))]
    scale = sum(np.sum(np.abs(c * x)) for c, x in zip(cotangents, v)) + 1.0
    assert abs(sum(lhs_terms) - sum(rhs_terms)) <= 1e-10 * scale, (
        f"{rec.name}: <vjp(u), v> = {sum(lhs_terms)!r} but <u, jvp(v)> = {sum(rhs_terms)!r}")


@pytest.mark.parametrize("rec", FORWARD_DIFFERENTIABLE, **by_name)
@settings(max_examples=max(2, EXAMPLES // 10))
@given(data=st.data())
def test_jvp_float32_keeps_dtype_and_agrees_with_float64(rec, data):
    args = data.draw(rec.args(F32), label="args")
    f, primals = _split(rec, args)
    v = _random_like(np.random.default_rng(data.draw(SEEDS, label="seed")), primals)
    out, tangent = fg.jvp(f, primals, v)
    for o, t, e in zip(tree.leaves(out), tree.leaves(tangent), tree.leaves(rec.ref(*args))):
        assert np.asarray(t).dtype == np.asarray(o).dtype == np.asarray(e).dtype
    f64, primals64 = _split(rec, [a.astype(F64) for a in args])
    _, tangent64 = fg.jvp(f64, primals64, [d.astype(F64) for d in v])
    for t, t64 in zip(tree.leaves(tangent), tree.leaves(tangent64)):
        np.testing.assert_allclose(t, t64, rtol=1e-3, atol=1e-4, err_msg=rec.name)


@pytest.mark.parametrize("rec", NON_DIFFERENTIABLE, **by_name)
@settings(max_examples=max(2, EXAMPLES // 10))
@given(data=st.data())
def test_jvp_of_non_differentiable_is_zero(rec, data):
    args = data.draw(rec.args(F64), label="args")
    v = _random_like(np.random.default_rng(data.draw(SEEDS, label="seed")), args)
    out, tangent = fg.jvp(rec.fun, args, v)
    for o, t, e in zip(tree.leaves(out), tree.leaves(tangent), tree.leaves(rec.ref(*args))):
        np.testing.assert_array_equal(o, e)
        assert np.shape(t) == np.shape(e)
        np.testing.assert_array_equal(t, np.zeros(np.shape(e)))


@pytest.mark.parametrize("name", ["max", "min"])
def test_jvp_at_tied_extrema_averages_the_tangents(name):
    # Ties are where max/min have a kink; the tangent is the mean over the tied elements,
    # which makes forward mode the exact transpose of the VJP's even split.
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, 5.0, -1.0]])
    x = x if name == "max" else -x
    t = np.array([[10.0, 1.0, 2.0], [3.0, 4.0, 8.0], [1.0, 7.0, 2.0]])
    f = lambda a: getattr(fnp, name)(a, axis=1)
    _, tangent = fg.jvp(f, (x,), (t,))
    np.testing.assert_allclose(tangent, [1.5, 5.0, 7.0], rtol=1e-15)
    u = np.array([1.0, -2.0, 0.5])
    (cotangent,) = fg.vjp(f, x)[1](u)
    np.testing.assert_allclose(np.sum(cotangent * t), np.sum(u * tangent), rtol=1e-15)


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=2)
@given(data=st.data())
def test_jvp_of_grad_matches_finite_differences_of_grad(rec, data):
    # Forward over reverse (a Hessian-vector product): the JVP rules must trace the VJP rules' ops.
    args = data.draw(rec.args(F64), label="args")
    f, primals = _split(rec, args)
    scalar = scalarize(f, f(*primals))
    grad = fg.grad(scalar, argnums=tuple(range(len(primals))))
    v = _random_like(np.random.default_rng(data.draw(SEEDS, label="seed")), primals)
    _, hvp = fg.jvp(grad, primals, v)
    eps = 1e-6
    plus = grad(*[x + eps * d for x, d in zip(primals, v)])
    minus = grad(*[x - eps * d for x, d in zip(primals, v)])
    rtol, atol = rec.grad_tol[F64]
    for i, (h, p, m) in enumerate(zip(hvp, plus, minus)):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=rtol, atol=atol,
                                   err_msg=f"{rec.name}: argument {i}")
