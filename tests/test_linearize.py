"""``linearize`` and ``linear_transpose``: against ``jvp``/``vjp``, finite differences, and
explicit matrices; composed with ``jit``, ``vmap`` and ``grad``."""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError

RNG = np.random.default_rng(0)


def f2(x, y):
    return {"a": fnp.sin(x) * y[:, 0], "b": fnp.sum(fnp.exp(0.3 * x) @ y)}


X, Y = RNG.normal(size=3), RNG.normal(size=(3, 2))


def _fd(f, primals, tangents, eps=1e-6):
    plus = f(*[p + eps * t for p, t in zip(primals, tangents)])
    minus = f(*[p - eps * t for p, t in zip(primals, tangents)])
    return fg.tree.map(lambda a, b: (a - b) / (2 * eps), plus, minus)


def test_linearize_matches_jvp_and_finite_differences():
    out, f_jvp = fg.linearize(f2, X, Y)
    ref_out = f2(X, Y)
    for k in ("a", "b"):
        np.testing.assert_array_equal(out[k], ref_out[k])
    for _ in range(3):
        tx, ty = RNG.normal(size=3), RNG.normal(size=(3, 2))
        got = f_jvp(tx, ty)
        want = fg.jvp(f2, (X, Y), (tx, ty))[1]
        fd = _fd(f2, (X, Y), (tx, ty))
        for k in ("a", "b"):
            np.testing.assert_allclose(got[k], want[k], rtol=1e-13, atol=1e-13)
            np.testing.assert_allclose(got[k], fd[k], rtol=1e-6, atol=1e-8)


def test_f_jvp_does_not_rerun_the_primal_computation():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.tanh(fnp.sin(x) * 3.0)
    _, f_jvp = fg.linearize(f, X)
    assert len(calls) == 1
    for _ in range(3):
        np.testing.assert_allclose(f_jvp(np.ones(3)), 3 * np.cos(X) / np.cosh(3 * np.sin(X)) ** 2)
    assert len(calls) == 1
    # The recorded graph holds tangent work only: no sin or tanh of the primal.
    assert not {"sin", "tanh"} & {n.name for n in f_jvp._graph.nodes}


def test_f_jvp_composes_with_jit_vmap_and_grad():
    _, f_jvp = fg.linearize(lambda x: fnp.sin(x) * x, X)
    T = RNG.normal(size=(4, 3))
    want = np.stack([(np.cos(X) * X + np.sin(X)) * t for t in T])
    np.testing.assert_allclose(fg.vmap(f_jvp)(T), want, rtol=1e-13)
    np.testing.assert_allclose(fg.jit(f_jvp)(T[0]), want[0], rtol=1e-13)
    # f_jvp is linear: its gradient of sum is the Jacobian's column sum (diagonal here).
    np.testing.assert_allclose(fg.grad(lambda t: fnp.sum(f_jvp(t)))(T[0]),
                               np.cos(X) * X + np.sin(X), rtol=1e-13)


def test_linearize_inside_grad_gives_hessian_vector_products():
    def f(x):
        return fnp.sum(fnp.sin(x) * x ** 2)
    v = RNG.normal(size=3)

    def directional(x):
        _, f_jvp = fg.linearize(f, x)
        return f_jvp(v)
    hvp = fg.grad(directional)(X)
    want = fg.jvp(fg.grad(f), (X,), (v,))[1]
    np.testing.assert_allclose(hvp, want, rtol=1e-12)


def test_linearize_under_jit_and_constant_outputs():
    _, f_jvp = fg.linearize(lambda x: (x * 2.0, np.ones(2)), X)
    t_out = f_jvp(np.ones(3))
    np.testing.assert_array_equal(t_out[0], 2 * np.ones(3))
    np.testing.assert_array_equal(t_out[1], np.zeros(2))
    jl = fg.jit(lambda x, t: fg.linearize(fnp.exp, x)[1](t))
    np.testing.assert_allclose(jl(X, np.ones(3)), np.exp(X), rtol=1e-13)


def test_f_jvp_checks_its_tangents():
    _, f_jvp = fg.linearize(f2, X, Y)
    with pytest.raises(TreeStructureError, match="structure"):
        f_jvp(np.ones(3))
    with pytest.raises(ShapeError, match="tangent leaf 0"):
        f_jvp(np.ones(4), np.ones((3, 2)))
    with pytest.raises(DTypeError, match="dtypes must match"):
        f_jvp(np.ones(3, np.float32), np.ones((3, 2)))
    with pytest.raises(DTypeError, match="floating-point"):
        fg.linearize(lambda n: n * 2, np.arange(3))


# -- linear_transpose ----------------------------------------------------------------------
A = RNG.normal(size=(4, 3))


@pytest.mark.parametrize("f, x", [
    (lambda v: A @ v, np.zeros(3)),
    (lambda v: fnp.cumsum(v[::-1]) * 2.0 - v, np.zeros(5)),
    (lambda m: fnp.sum(m, axis=0) + fnp.trace(m), np.zeros((3, 3))),
    (lambda v: fnp.real(fnp.fft.fft(v)), np.zeros(8)),
    (lambda v: fnp.pad(v, 2)[1:] / 3.0, np.zeros(4)),
])
def test_linear_transpose_is_the_transpose(f, x):
    f_t = fg.linear_transpose(f, x)
    n = x.size
    # The Jacobian of a linear map, column by column from the map itself.
    J = np.stack([np.ravel(f(np.eye(n)[i].reshape(x.shape))) for i in range(n)], axis=1)
    ct = RNG.normal(size=np.shape(f(x)))
    (got,) = f_t(ct)
    np.testing.assert_allclose(np.ravel(got), J.T @ np.ravel(ct), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, fg.vjp(f, RNG.normal(size=x.shape))[1](ct)[0], rtol=1e-12,
                               atol=1e-12)


def test_linear_transpose_pytrees_and_shape_dtype_structs():
    def f(d):
        return {"y": d["u"] @ A.T + 2.0 * d["w"], "s": fnp.sum(d["u"])}
    spec = {"u": fg.ShapeDtypeStruct((3,), np.float64), "w": fg.ShapeDtypeStruct((4,), "f8")}
    f_t = fg.linear_transpose(f, spec)
    ct = {"y": RNG.normal(size=4), "s": np.array(1.5)}
    (got,) = f_t(ct)
    u, w = RNG.normal(size=3), RNG.normal(size=4)
    out = f({"u": u, "w": w})
    lhs = np.dot(ct["y"], out["y"]) + ct["s"] * out["s"]
    rhs = np.dot(got["u"], u) + np.dot(got["w"], w)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_linear_transpose_composes_with_jit_and_vmap():
    f_t = fg.linear_transpose(lambda v: A @ v, np.zeros(3))
    C = RNG.normal(size=(5, 4))
    np.testing.assert_allclose(fg.vmap(lambda c: f_t(c)[0])(C), C @ A, rtol=1e-12)
    np.testing.assert_allclose(fg.jit(lambda c: f_t(c)[0])(C[0]), A.T @ C[0], rtol=1e-12)


@pytest.mark.parametrize("f, what", [
    (lambda v: v * v, "not linear in its arguments"),
    (lambda v: fnp.maximum(v, 0.0), "not linear in its arguments"),
    (lambda v: fnp.sin(v), "not linear in its arguments"),
    (lambda v: v + 1.0, "at zero arguments its output leaf 0 is not zero"),
])
def test_linear_transpose_refuses_nonlinear_functions(f, what):
    with pytest.raises(ArgumentError, match=what):
        fg.linear_transpose(f, np.zeros(3))


def test_linear_transpose_names_the_nonlinear_line():
    import inspect

    def f(v):
        w = v * 2.0
        return w * v  # <- nonlinear
    lines, start = inspect.getsourcelines(f)
    line = start + next(i for i, t in enumerate(lines) if "<- nonlinear" in t)
    with pytest.raises(ArgumentError, match=f"{__file__}:{line}"):
        fg.linear_transpose(f, np.zeros(2))


def test_linear_transpose_refuses_integer_arguments():
    with pytest.raises(DTypeError, match="int64"):
        fg.linear_transpose(lambda n: n * 2, np.arange(3))
