"""Forward mode: ``jvp`` on pytrees, its errors, and its compositions with ``grad`` and ``vmap``.

Expected values are closed-form derivatives, NumPy computations written out
here, or central finite differences.
"""

import collections
import tracemalloc

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import custom_vjp, grad, jvp, vjp, vmap
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError

RNG = np.random.default_rng(0)


def _fd_directional(f, x, v, eps=1e-6):
    """Central difference of ``f`` at ``x`` along ``v`` (arrays only)."""
    return (np.asarray(f(x + eps * v)) - np.asarray(f(x - eps * v))) / (2 * eps)


# -- basic values ----------------------------------------------------------------------

def test_elementwise_tangent_is_derivative_times_tangent():
    x, t = np.array([0.3, -1.2, 2.0]), np.array([1.0, 2.0, -0.5])
    out, tan = jvp(lambda x: fnp.sin(x) * fnp.exp(x), (x,), (t,))
    np.testing.assert_allclose(out, np.sin(x) * np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(tan, (np.cos(x) + np.sin(x)) * np.exp(x) * t, rtol=1e-14)


def test_python_scalar_primals_and_tangents():
    out, tan = jvp(lambda x: x ** 3, (2.0,), (1.0,))
    assert float(out) == 8.0 and float(tan) == 12.0


def test_several_arguments_all_contribute():
    # d(x * y) = y dx + x dy
    x, y = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    dx, dy = np.array([0.5, 1.0]), np.array([2.0, 0.25])
    _, tan = jvp(lambda a, b: a * b, (x, y), (dx, dy))
    np.testing.assert_allclose(tan, y * dx + x * dy)


def test_matmul_tangent():
    A, B = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    dA, dB = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2))
    out, tan = jvp(lambda a, b: a @ b, (A, B), (dA, dB))
    np.testing.assert_allclose(out, A @ B)
    np.testing.assert_allclose(tan, dA @ B + A @ dB, rtol=1e-12)


def test_output_that_does_not_depend_on_the_input_has_a_zero_tangent():
    c = np.array([1.0, 2.0, 3.0])
    out, tan = jvp(lambda x: c, (np.array(1.0),), (np.array(1.0),))
    np.testing.assert_array_equal(out, c)
    np.testing.assert_array_equal(tan, np.zeros(3))
    assert tan.shape == c.shape and tan.dtype == c.dtype


def test_float32_stays_float32():
    x = np.array([0.5, 1.5], np.float32)
    out, tan = jvp(fnp.tanh, (x,), (np.ones(2, np.float32),))
    assert out.dtype == np.float32 and tan.dtype == np.float32
    np.testing.assert_allclose(tan, 1 - np.tanh(x) ** 2, rtol=1e-6)


def test_jvp_is_linear_in_the_tangent():
    f = lambda x: fnp.tanh(x) * x ** 2
    x, t1, t2 = RNG.normal(size=5), RNG.normal(size=5), RNG.normal(size=5)
    _, a = jvp(f, (x,), (t1,))
    _, b = jvp(f, (x,), (t2,))
    _, c = jvp(f, (x,), (3.0 * t1 - t2,))
    np.testing.assert_allclose(c, 3.0 * a - b, rtol=1e-12, atol=1e-14)


def test_jvp_agrees_with_finite_differences():
    f = lambda x: fnp.log1p(x * x) / (1.0 + fnp.cos(x) ** 2)
    x, v = RNG.normal(size=6), RNG.normal(size=6)
    _, tan = jvp(f, (x,), (v,))
    fd = _fd_directional(lambda z: np.log1p(z * z) / (1 + np.cos(z) ** 2), x, v)
    np.testing.assert_allclose(tan, fd, rtol=1e-7, atol=1e-9)


def test_jvp_and_vjp_are_transposes():
    # <u, J t> == <J^T u, t>
    W = RNG.normal(size=(3, 4))
    f = lambda x: fnp.tanh(W @ x) * fnp.sum(x ** 2)
    x, t, u = RNG.normal(size=4), RNG.normal(size=4), RNG.normal(size=3)
    _, Jt = jvp(f, (x,), (t,))
    _, pullback = vjp(f, x)
    (JTu,) = pullback(u)
    assert float(u @ Jt) == pytest.approx(float(JTu @ t), rel=1e-12)


# -- pytrees ---------------------------------------------------------------------------

Point = collections.namedtuple("Point", ["x", "y"])


def test_pytree_primals_and_tangents():
    params = {"w": np.array([1.0, 2.0]), "b": np.array(0.5)}
    dparams = {"w": np.array([0.1, -0.2]), "b": np.array(2.0)}
    p, dp = Point(np.array(3.0), np.array([1.0, -1.0])), Point(np.array(1.0), np.array([0.5, 0.5]))

    def f(params, p):
        return {"lin": params["w"] * p.x + params["b"], "sq": [p.y ** 2, fnp.sum(params["w"])]}

    out, tan = jvp(f, (params, p), (dparams, dp))
    assert set(out) == set(tan) == {"lin", "sq"}
    assert isinstance(tan["sq"], list) and len(tan["sq"]) == 2
    # lin = w x + b: d = dw x + w dx + db
    np.testing.assert_allclose(out["lin"], params["w"] * 3.0 + 0.5)
    np.testing.assert_allclose(tan["lin"], dparams["w"] * 3.0 + params["w"] * 1.0 + 2.0)
    np.testing.assert_allclose(tan["sq"][0], 2 * p.y * dp.y)
    assert float(tan["sq"][1]) == pytest.approx(-0.1)


def test_primals_may_be_a_list():
    out, tan = jvp(lambda a, b: a * b, [2.0, 3.0], [1.0, 0.0])
    assert float(out) == 6.0 and float(tan) == 3.0


# -- errors ----------------------------------------------------------------------------

def test_tangent_shape_mismatch_names_both_shapes():
    with pytest.raises(ShapeError) as e:
        jvp(fnp.sin, (np.ones((2, 3)),), (np.ones(3),))
    msg = str(e.value)
    assert "[2, 3]" in msg and "[3]" in msg and "tangent" in msg


def test_tangent_dtype_mismatch_names_both_dtypes():
    with pytest.raises(DTypeError) as e:
        jvp(fnp.sin, (np.ones(3),), (np.ones(3, np.float32),))
    msg = str(e.value)
    assert "float64" in msg and "float32" in msg


def test_tangent_structure_mismatch_names_both_structures():
    with pytest.raises(TreeStructureError) as e:
        jvp(lambda p: p["a"] * p["b"], ({"a": 1.0, "b": 2.0},), ({"a": 1.0, "c": 2.0},))
    msg = str(e.value)
    assert "'b'" in msg and "'c'" in msg


def test_tangent_count_mismatch_is_a_structure_error():
    with pytest.raises(TreeStructureError):
        jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))


def test_primals_must_be_a_tuple():
    with pytest.raises(TreeStructureError, match="tuple"):
        jvp(fnp.sin, np.ones(2), np.ones(2))


def test_integer_primal_is_a_dtype_error():
    with pytest.raises(DTypeError, match="int"):
        jvp(lambda n: n * 2.0, (np.arange(3),), (np.arange(3),))


def test_non_array_tangent_is_an_argument_error():
    with pytest.raises(ArgumentError, match="str"):
        jvp(fnp.sin, (1.0,), ("one",))


# -- Hessian-vector products -----------------------------------------------------------

def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hvp(x, v):
    """The exact Hessian-vector product of the Rosenbrock function (tridiagonal H)."""
    a, b = x[:-1], x[1:]
    hv = np.zeros_like(x)
    hv[:-1] += (1200 * a ** 2 - 400 * b + 2) * v[:-1] - 400 * a * v[1:]
    hv[1:] += -400 * a * v[:-1] + 200 * v[1:]
    return hv


def test_hvp_of_quadratic_form_is_symmetrised_matrix_times_vector():
    A = RNG.normal(size=(4, 4))
    x, v = RNG.normal(size=4), RNG.normal(size=4)
    _, hv = jvp(grad(lambda x: x @ A @ x), (x,), (v,))
    np.testing.assert_allclose(hv, (A + A.T) @ v, rtol=1e-12)


def test_hvp_of_rosenbrock_small_matches_closed_form():
    x, v = RNG.normal(size=7), RNG.normal(size=7)
    _, hv = jvp(grad(rosenbrock), (x,), (v,))
    np.testing.assert_allclose(hv, rosenbrock_hvp(x, v), rtol=1e-12)


def test_hvp_of_rosenbrock_n2000_matches_and_never_builds_the_hessian():
    n = 2000
    x, v = RNG.uniform(-2, 2, size=n), RNG.normal(size=n)
    tracemalloc.start()
    try:
        g, hv = jvp(grad(rosenbrock), (x,), (v,))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(hv, rosenbrock_hvp(x, v), rtol=1e-10)
    # The gradient comes out too, exactly as grad gives it.
    np.testing.assert_allclose(g, grad(rosenbrock)(x), rtol=1e-14)
    # A dense Hessian alone would take n * n * 8 bytes = 32 MB; the HVP works in O(n)
    # memory (about 0.5 MB here), far below even one eighth of that.
    assert peak < 4e6, f"peak traced memory {peak / 1e6:.1f} MB"


def test_second_directional_derivative_by_jvp_of_jvp():
    # w^T H v for f = sum(sin(x) * x): H = diag(2 cos x - x sin x)
    f = lambda x: fnp.sum(fnp.sin(x) * x)
    x, v, w = RNG.normal(size=5), RNG.normal(size=5), RNG.normal(size=5)
    inner = lambda x: jvp(f, (x,), (v,))[1]
    _, d2 = jvp(inner, (x,), (w,))
    assert float(d2) == pytest.approx(float(w @ ((2 * np.cos(x) - x * np.sin(x)) * v)), rel=1e-12)


def test_no_perturbation_confusion_in_nested_jvp():
    # d/dx [x * (d/dy (x + y))] = 1
    inner = lambda x: jvp(lambda y: x + y, (1.0,), (1.0,))[1]
    _, tan = jvp(lambda x: x * inner(x), (2.0,), (1.0,))
    assert float(tan) == 1.0
    # d/dx [x * d/dy (x y)] = d/dx x^2 = 2x
    inner2 = lambda x: jvp(lambda y: x * y, (1.0,), (1.0,))[1]
    _, tan2 = jvp(lambda x: x * inner2(x), (3.0,), (1.0,))
    assert float(tan2) == pytest.approx(6.0)


# -- grad of jvp -----------------------------------------------------------------------

def test_grad_of_a_function_that_calls_jvp():
    # h(x) = d/dt sin(x + t v) at t=0 = cos(x) v;  grad_x sum(h) = -sin(x) v
    v = np.array([1.0, -2.0, 0.5])
    h = lambda x: fnp.sum(jvp(fnp.sin, (x,), (v,))[1])
    x = np.array([0.1, 0.7, -1.3])
    np.testing.assert_allclose(grad(h)(x), -np.sin(x) * v, rtol=1e-14)


def test_grad_with_respect_to_the_tangent():
    # jvp is linear in t, so grad_t <u, J t> = J^T u
    W = RNG.normal(size=(3, 4))
    f = lambda x: fnp.tanh(W @ x)
    x, u = RNG.normal(size=4), RNG.normal(size=3)
    g = grad(lambda t: fnp.sum(u * jvp(f, (x,), (t,))[1]))(np.zeros(4))
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(g, J.T @ u, rtol=1e-12)


def test_grad_of_jvp_gives_the_hessian_vector_product_too():
    # reverse-over-forward: grad_x <grad f(x), v> = H v
    x, v = RNG.normal(size=6), RNG.normal(size=6)
    hv = grad(lambda x: jvp(rosenbrock, (x,), (v,))[1])(x)
    np.testing.assert_allclose(hv, rosenbrock_hvp(x, v), rtol=1e-12)


# -- vmap of jvp -----------------------------------------------------------------------

def test_vmap_of_jvp_over_tangents_gives_jacobian_columns():
    W = RNG.normal(size=(3, 4))
    f = lambda x: fnp.tanh(W @ x)
    x = RNG.normal(size=4)
    cols = vmap(lambda t: jvp(f, (x,), (t,))[1])(np.eye(4))      # row i = J e_i
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W
    np.testing.assert_allclose(cols, J.T, rtol=1e-12)


def test_vmap_of_jvp_over_primals_and_tangents():
    xs, ts = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)
    outs, tans = vmap(lambda x, t: jvp(f, (x,), (t,)))(xs, ts)
    np.testing.assert_allclose(outs, np.sum(np.sin(xs) ** 2, axis=1), rtol=1e-14)
    np.testing.assert_allclose(tans, np.sum(2 * np.sin(xs) * np.cos(xs) * ts, axis=1), rtol=1e-13)


def test_jvp_of_vmap():
    xs, ts = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    _, tan = jvp(vmap(lambda x: fnp.sum(fnp.exp(x))), (xs,), (ts,))
    np.testing.assert_allclose(tan, np.sum(np.exp(xs) * ts, axis=1), rtol=1e-13)


def test_vmapped_hvp_gives_the_hessian():
    x = RNG.normal(size=5)
    H = vmap(lambda v: jvp(grad(rosenbrock), (x,), (v,))[1])(np.eye(5))
    np.testing.assert_allclose(H, np.stack([rosenbrock_hvp(x, e) for e in np.eye(5)]), rtol=1e-12)


# -- custom_vjp has no forward mode ----------------------------------------------------

def test_jvp_of_a_custom_vjp_function_is_a_clear_error():
    @custom_vjp
    def square(x):
        return x * x

    square.defvjp(lambda x: (x * x, x), lambda x, g: (2 * x * g,))
    assert float(grad(square)(3.0)) == 6.0
    with pytest.raises(ArgumentError) as e:
        jvp(square, (3.0,), (1.0,))
    msg = str(e.value)
    assert "custom_vjp[square]" in msg and "forward mode" in msg and "custom_jvp" in msg
    with pytest.raises(ArgumentError, match="forward mode"):
        fg.jacfwd(square)(np.array(3.0))


def test_jvp_does_not_modify_its_arguments():
    x, t = np.array([1.0, 2.0]), np.array([0.5, 0.5])
    x0, t0 = x.copy(), t.copy()
    jvp(lambda x: fnp.sin(x) * 2.0, (x,), (t,))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)
