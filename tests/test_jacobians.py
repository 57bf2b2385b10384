"""Whole Jacobians and Hessians: ``jacfwd``, ``jacrev``, ``hessian``.

Both Jacobians must agree with each other and with central finite differences,
use JAX's layout (output shape + input shape; pytrees nest the input structure
inside the output structure), and compose (``jacfwd(jacrev(f))``).  Hessians are
checked against closed forms.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad.numpy as fnp
from funcgrad import grad, hessian, jacfwd, jacrev
from funcgrad.errors import ArgumentError, DTypeError

RNG = np.random.default_rng(1)


def fd_jacobian(f, x, eps=1e-6):
    """Central-difference Jacobian of ``f`` (arrays in and out) at ``x``: shape out + in."""
    x = np.asarray(x, dtype=np.float64)
    out_shape = np.shape(f(x))
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    J = np.stack(cols, axis=-1) if cols else np.zeros(out_shape + (0,))
    return J.reshape(out_shape + x.shape)


def rosenbrock(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """The closed-form (tridiagonal) Hessian of the Rosenbrock function."""
    n = len(x)
    H = np.zeros((n, n))
    a, b = x[:-1], x[1:]
    idx = np.arange(n - 1)
    H[idx, idx] += 1200 * a ** 2 - 400 * b + 2
    H[idx + 1, idx + 1] += 200
    H[idx, idx + 1] = H[idx + 1, idx] = -400 * a
    return H


# -- jacfwd == jacrev == finite differences on a table of functions -------------------

W34 = RNG.normal(size=(3, 4))
A23 = RNG.normal(size=(2, 3))

FUNCTIONS = {
    # name: (f, input shape)
    "elementwise chain": (lambda x: fnp.tanh(fnp.sin(x) * x + 0.5) ** 2, (5,)),
    "matrix in, matrix out": (lambda x: fnp.exp(0.3 * x) / (1.0 + x * x), (2, 3)),
    "matvec": (lambda x: W34 @ fnp.sin(x), (4,)),
    "matmul of the input": (lambda X: A23 @ X, (3, 2)),
    "input times itself": (lambda X: X @ X.T, (2, 3)),
    "sum over an axis": (lambda x: fnp.sum(x ** 3, axis=0), (3, 4)),
    "mean, keepdims, broadcast back": (lambda x: x - fnp.mean(x, axis=1, keepdims=True), (2, 3)),
    "max": (lambda x: fnp.max(x * x, axis=1), (3, 2)),
    "scalar output": (lambda x: fnp.sum(fnp.log1p(x * x)), (4,)),
    "scalar input": (lambda x: fnp.stack([fnp.sin(x), x ** 2]), ()),
    "slicing and reshape": (lambda x: fnp.reshape(x[1:, ::2], (-1,)) * 2.0, (3, 4)),
    "cumsum and prod": (lambda x: fnp.cumsum(x) * fnp.prod(x), (4,)),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_jacfwd_equals_jacrev_equals_finite_differences(name):
    f, shape = FUNCTIONS[name]
    x = RNG.uniform(0.2, 1.5, size=shape)
    Jf, Jr = jacfwd(f)(x), jacrev(f)(x)
    out_shape = np.shape(f(x))
    assert np.shape(Jf) == np.shape(Jr) == out_shape + shape
    np.testing.assert_allclose(Jf, Jr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Jf, fd_jacobian(f, x), rtol=1e-6, atol=1e-7)


def test_jacobian_of_matmul_has_the_kronecker_layout():
    # d(A X)[i, j] / dX[k, l] = A[i, k] delta(j, l)
    X = RNG.normal(size=(3, 2))
    expected = np.einsum("ik,jl->ijkl", A23, np.eye(2))
    np.testing.assert_allclose(jacfwd(lambda X: A23 @ X)(X), expected, rtol=1e-14)
    np.testing.assert_allclose(jacrev(lambda X: A23 @ X)(X), expected, rtol=1e-14)


def test_jacobian_of_elementwise_is_diagonal():
    x = np.array([0.1, 0.2, 0.3])
    for jac in (jacfwd, jacrev):
        np.testing.assert_allclose(jac(fnp.exp)(x), np.diag(np.exp(x)), rtol=1e-15)


def test_scalar_to_scalar_jacobian_is_the_derivative():
    for jac in (jacfwd, jacrev):
        j = jac(fnp.sin)(0.5)
        assert np.shape(j) == () and float(j) == pytest.approx(np.cos(0.5), rel=1e-15)


# -- random compositions (hypothesis) ---------------------------------------------------

_STEPS = {
    "sin": lambda x: fnp.sin(x),
    "tanh": lambda x: fnp.tanh(x),
    "square": lambda x: x * x,
    "exp": lambda x: fnp.exp(0.2 * x),
    "mix_rows": lambda x: fnp.sum(x, axis=0, keepdims=True) * x,
    "mix_cols": lambda x: x / (1.0 + fnp.mean(x * x, axis=1, keepdims=True)),
    "matmul": lambda x: x @ fnp.ones((x.shape[1], x.shape[1])) * 0.3 + x,
    "transpose_back": lambda x: (x.T * 1.5).T,
}


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       steps=st.lists(st.sampled_from(sorted(_STEPS)), min_size=1, max_size=4),
       seed=st.integers(0, 2 ** 16))
def test_random_compositions_jacfwd_equals_jacrev(shape, steps, seed):
    def f(x):
        for s in steps:
            x = _STEPS[s](x)
        return x

    x = np.random.default_rng(seed).uniform(-1, 1, size=shape)
    Jf, Jr = jacfwd(f)(x), jacrev(f)(x)
    assert np.shape(Jf) == np.shape(Jr) == shape + shape
    np.testing.assert_allclose(Jf, Jr, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(Jf, fd_jacobian(f, x), rtol=1e-5, atol=1e-7)


# -- pytrees and argnums ---------------------------------------------------------------

def _net(params, x):
    h = fnp.tanh(params["w"] @ x + params["b"])
    return {"h": h, "energy": fnp.sum(h ** 2)}


@pytest.mark.parametrize("jac", [jacfwd, jacrev], ids=["jacfwd", "jacrev"])
def test_pytree_in_and_out_nest_the_input_inside_the_output(jac):
    params = {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=2)}
    x = RNG.normal(size=3)
    J = jac(_net)(params, x)
    assert set(J) == {"h", "energy"}
    assert set(J["h"]) == set(J["energy"]) == {"w", "b"}
    assert np.shape(J["h"]["w"]) == (2, 2, 3) and np.shape(J["h"]["b"]) == (2, 2)
    assert np.shape(J["energy"]["w"]) == (2, 3) and np.shape(J["energy"]["b"]) == (2,)
    # each block against finite differences in that leaf alone
    for out_key in ("h", "energy"):
        for in_key in ("w", "b"):
            def f(leaf, in_key=in_key, out_key=out_key):
                return _net({**params, in_key: leaf}, x)[out_key]
            np.testing.assert_allclose(J[out_key][in_key], fd_jacobian(f, params[in_key]),
                                       rtol=1e-6, atol=1e-8)


def test_jacfwd_and_jacrev_agree_on_pytrees():
    params = {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=2)}
    x = RNG.normal(size=3)
    Jf, Jr = jacfwd(_net)(params, x), jacrev(_net)(params, x)
    for o in Jf:
        for i in Jf[o]:
            np.testing.assert_allclose(Jf[o][i], Jr[o][i], rtol=1e-12, atol=1e-14)


def test_tuple_output_and_tuple_input():
    f = lambda xy: (xy[0] * xy[1], fnp.sin(xy[0]))
    x, y = np.array([1.0, 2.0]), np.array(3.0)
    for jac in (jacfwd, jacrev):
        J = jac(f)((x, y))
        assert isinstance(J, tuple) and len(J) == 2 and all(isinstance(b, tuple) for b in J)
        np.testing.assert_allclose(J[0][0], 3.0 * np.eye(2))
        np.testing.assert_allclose(J[0][1], x)
        np.testing.assert_allclose(J[1][0], np.diag(np.cos(x)), rtol=1e-15)
        np.testing.assert_array_equal(J[1][1], np.zeros(2))


@pytest.mark.parametrize("jac", [jacfwd, jacrev], ids=["jacfwd", "jacrev"])
def test_argnums_tuple_gives_one_block_per_argument(jac):
    f = lambda x, y, z: fnp.sin(x) * y[0] + z
    x, y, z = np.array([0.1, 0.2]), np.array([2.0, 5.0]), np.array([1.0, 1.0])
    Jx, Jy = jac(f, argnums=(0, 1))(x, y, z)
    np.testing.assert_allclose(Jx, np.diag(np.cos(x) * 2.0), rtol=1e-15)
    np.testing.assert_allclose(Jy, np.stack([np.sin(x), np.zeros(2)], axis=1), rtol=1e-15)
    (Jz,) = jac(f, argnums=(2,))(x, y, z)
    np.testing.assert_allclose(Jz, np.eye(2))
    np.testing.assert_allclose(jac(f, argnums=-2)(x, y, z), Jy)


@pytest.mark.parametrize("jac, expected", [(jacfwd, np.full(2, 6.0)), (jacrev, np.full(2, 6.0)),
                                           (hessian, 6.0 * np.eye(2))],
                         ids=["jacfwd", "jacrev", "hessian"])
def test_bad_argnums_and_integer_inputs_are_clear_errors(jac, expected):
    f = lambda x, n: fnp.sum(x ** 2) * n
    with pytest.raises(ArgumentError, match="argnums"):
        jac(f, argnums=2)(np.ones(2), 3)
    with pytest.raises(DTypeError, match="int"):
        jac(f, argnums=1)(np.ones(2), np.array(3))
    # an integer argument outside argnums is fine
    np.testing.assert_allclose(jac(f)(np.ones(2), 3), expected)


# -- Hessians --------------------------------------------------------------------------

def test_hessian_of_quadratic_form_is_a_plus_a_transpose():
    A = RNG.normal(size=(4, 4))
    x = RNG.normal(size=4)
    np.testing.assert_allclose(hessian(lambda x: x @ A @ x)(x), A + A.T, rtol=1e-13, atol=1e-14)


def test_hessian_of_rosenbrock_matches_closed_form():
    x = RNG.uniform(-2, 2, size=6)
    H = hessian(rosenbrock)(x)
    np.testing.assert_allclose(H, rosenbrock_hessian(x), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(H, H.T, rtol=1e-14)


def test_all_four_second_order_compositions_agree():
    x = RNG.uniform(-2, 2, size=5)
    expected = rosenbrock_hessian(x)
    for name, h in {"jacfwd(jacrev)": jacfwd(jacrev(rosenbrock)),
                    "jacrev(jacfwd)": jacrev(jacfwd(rosenbrock)),
                    "jacrev(jacrev)": jacrev(jacrev(rosenbrock)),
                    "jacfwd(jacfwd)": jacfwd(jacfwd(rosenbrock)),
                    "jacfwd(grad)": jacfwd(grad(rosenbrock))}.items():
        np.testing.assert_allclose(h(x), expected, rtol=1e-12, atol=1e-10, err_msg=name)


def test_hessian_of_matrix_input_has_shape_in_plus_in():
    # f(X) = sum(X^3): H[i, j, k, l] = 6 X[i, j] delta(ik) delta(jl)
    X = RNG.normal(size=(2, 3))
    H = hessian(lambda X: fnp.sum(X ** 3))(X)
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H, np.einsum("ij,ik,jl->ijkl", 6 * X, np.eye(2), np.eye(3)),
                               rtol=1e-14)


def test_hessian_with_pytree_input_nests_input_in_input():
    # f(a, b) = a^2 b + sin(b):  H_aa = 2b, H_ab = 2a, H_bb = -sin(b)
    p = {"a": np.array(1.5), "b": np.array(0.7)}
    H = hessian(lambda p: p["a"] ** 2 * p["b"] + fnp.sin(p["b"]))(p)
    assert set(H) == {"a", "b"} and all(set(H[k]) == {"a", "b"} for k in H)
    assert float(H["a"]["a"]) == pytest.approx(1.4)
    assert float(H["a"]["b"]) == pytest.approx(3.0) and float(H["b"]["a"]) == pytest.approx(3.0)
    assert float(H["b"]["b"]) == pytest.approx(-np.sin(0.7))


def test_hessian_argnums():
    # f(x, y) = sum(x^2 * y): d2/dy2 = 0; mixed block from argnums=(0, 1)
    f = lambda x, y: fnp.sum(x ** 2 * y)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(hessian(f, argnums=1)(x, y), np.zeros((2, 2)))
    H = hessian(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(H[0][0], np.diag(2 * y))
    np.testing.assert_allclose(H[0][1], np.diag(2 * x))
    np.testing.assert_allclose(H[1][0], np.diag(2 * x))
    np.testing.assert_allclose(H[1][1], np.zeros((2, 2)))


def test_third_derivative_tensor():
    # f = sum(x^4) / 4: third derivative is 6 x_i on the superdiagonal i=j=k
    x = np.array([0.5, -1.0, 2.0])
    T = jacfwd(hessian(lambda x: fnp.sum(x ** 4) / 4))(x)
    expected = np.zeros((3, 3, 3))
    expected[np.arange(3), np.arange(3), np.arange(3)] = 6 * x
    np.testing.assert_allclose(T, expected, atol=1e-12)
