"""``funcgrad.scipy.linalg`` beyond the op table: keywords, SciPy's errors, complex values,
the triangles that are read, closed-form derivatives, and cholesky's rules using
triangular solves.  The op table (``op_records_scipy_linalg.py``) checks values against
SciPy and derivatives against finite differences for every function."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg as sl

import funcgrad as fg
import funcgrad.numpy as fnp
import funcgrad.scipy.linalg as fsl
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 3)) + 4 * np.eye(3)
B = RNG.standard_normal((3, 2))
SPD = A @ A.T + np.eye(3)


# -- solve_triangular ------------------------------------------------------------------------
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular_complex_values_and_derivatives(trans, lower):
    a = A + 1j * RNG.standard_normal((3, 3))
    b = B + 1j * RNG.standard_normal((3, 2))
    np.testing.assert_allclose(fsl.solve_triangular(a, b, trans=trans, lower=lower),
                               sl.solve_triangular(a, b, trans=trans, lower=lower), rtol=1e-12)
    check_grads(lambda a, b: fsl.solve_triangular(a, b, trans=trans, lower=lower), (a, b),
                order=2)


@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
def test_solve_triangular_gradient_is_zero_where_a_is_not_read(lower, unit_diagonal):
    g = fg.grad(lambda a: fnp.sum(fsl.solve_triangular(a, B, lower=lower,
                                                       unit_diagonal=unit_diagonal)))(A)
    read = np.tril(np.ones((3, 3)), -unit_diagonal) if lower else \
        np.triu(np.ones((3, 3)), unit_diagonal)
    assert np.all(g[read == 0] == 0)
    assert np.all(g[read == 1] != 0)


def test_solve_triangular_accepts_integers_lists_and_scipy_keywords():
    a, b = [[2, 0], [1, 1]], [2, 3]
    got = fsl.solve_triangular(a, b, lower=True, overwrite_b=True, check_finite=False)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, sl.solve_triangular(a, b, lower=True))


def test_solve_triangular_float32_stays_float32():
    a, b = A.astype(np.float32), B.astype(np.float32)
    assert fsl.solve_triangular(a, b).dtype == np.float32
    assert fg.grad(lambda a: fnp.sum(fsl.solve_triangular(a, b)))(a).dtype == np.float32


def test_solve_triangular_errors_are_scipys():
    singular = np.triu(A)
    singular[1, 1] = 0.0
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        sl.solve_triangular(singular, B)  # SciPy's behaviour ...
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        fsl.solve_triangular(singular, B)  # ... is funcgrad's
    with pytest.raises(ArgumentError, match="trans"):
        fsl.solve_triangular(A, B, trans=3)
    with pytest.raises(ShapeError, match=r"\(3, 3\) and \(4, 2\)"):
        fsl.solve_triangular(A, np.ones((4, 2)))
    with pytest.raises(ShapeError, match=r"\(3, 3\) and \(2,\)"):
        fsl.solve_triangular(A, np.ones(2))
    with pytest.raises(ShapeError, match="broadcast"):
        fsl.solve_triangular(np.stack([A] * 2), np.ones((3, 3, 2)))


def test_solve_triangular_unit_diagonal_never_reads_the_diagonal():
    zero_diag = np.tril(A, -1)  # singular, but the diagonal is taken as ones
    np.testing.assert_allclose(fsl.solve_triangular(zero_diag, B, lower=True, unit_diagonal=True),
                               np.linalg.solve(zero_diag + np.eye(3), B), rtol=1e-12)


def test_solve_triangular_under_jit_and_vmap_with_a_vector_right_hand_side():
    stack = np.stack([A, 2 * A])
    v = B[:, 0]
    f = lambda a, b: fsl.solve_triangular(a, b, trans="T")  # noqa: E731
    expected = sl.solve_triangular(stack, v, trans="T")
    np.testing.assert_allclose(fg.jit(f)(stack, v), expected, rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(stack, v), expected, rtol=1e-12)


# -- cho_factor, cho_solve ---------------------------------------------------------------------
@pytest.mark.parametrize("lower", [False, True])
def test_cho_solve_reads_one_triangle_so_scipys_factor_works_too(lower):
    c, low = sl.cho_factor(SPD, lower=lower)  # SciPy's c keeps SPD's entries in the other triangle
    np.testing.assert_allclose(fsl.cho_solve((c, low), B), sl.cho_solve((c, low), B), rtol=1e-12)
    c_fg, low_fg = fsl.cho_factor(SPD, lower=lower)
    assert low_fg is lower
    np.testing.assert_array_equal(np.triu(c_fg, 1) if lower else np.tril(c_fg, -1), 0)


def test_cho_solve_gradient_in_b_is_the_closed_form():
    # d/dy yᵀ K⁻¹ y = 2 K⁻¹ y for symmetric K.
    y = B[:, 0]
    g = fg.grad(lambda y: y @ fsl.cho_solve(fsl.cho_factor(SPD), y))(y)
    np.testing.assert_allclose(g, 2 * np.linalg.solve(SPD, y), rtol=1e-12)


def test_gaussian_log_likelihood_gradient_matches_the_textbook_formula():
    # nll(θ) = ½ yᵀK⁻¹y + Σ log diag L,  K = θ₀ S + θ₁ I:  ∂nll/∂θᵢ = ½ tr((K⁻¹ - ααᵀ) ∂K/∂θᵢ).
    s, y = A @ A.T, B[:, 0]

    def nll(theta):
        k = theta[0] * s + theta[1] * np.eye(3)
        c = fsl.cho_factor(k, lower=True)
        return 0.5 * y @ fsl.cho_solve(c, y) + fnp.sum(fnp.log(fnp.diagonal(c[0])))

    theta = np.array([0.7, 1.3])
    k = theta[0] * s + theta[1] * np.eye(3)
    alpha = np.linalg.solve(k, y)
    w = np.linalg.inv(k) - np.outer(alpha, alpha)
    expected = [0.5 * np.sum(w * s), 0.5 * np.trace(w)]
    np.testing.assert_allclose(fg.grad(nll)(theta), expected, rtol=1e-10)
    np.testing.assert_allclose(fg.jit(fg.grad(nll))(theta), expected, rtol=1e-10)
    check_grads(nll, (theta,), order=2)


def test_cho_factor_of_a_matrix_that_is_not_positive_definite_raises_linalgerror():
    with pytest.raises(np.linalg.LinAlgError):
        sl.cho_factor(-SPD)
    with pytest.raises(np.linalg.LinAlgError):
        fsl.cho_factor(-SPD)
    with pytest.raises(ArgumentError, match=r"\(c, lower\)"):
        fsl.cho_solve(SPD, B)


# -- lu_factor, lu_solve -----------------------------------------------------------------------
def test_lu_factor_pivots_and_factors_are_scipys_on_a_pivoting_matrix():
    a = A[[2, 0, 1]]
    lu, piv = fsl.lu_factor(np.stack([a, A]))
    for i, m in enumerate([a, A]):
        s_lu, s_piv = sl.lu_factor(m)
        np.testing.assert_allclose(lu[i], s_lu, rtol=1e-12)
        np.testing.assert_array_equal(piv[i], s_piv)
    assert piv.dtype == np.int32 and not np.array_equal(piv[0], np.arange(3))


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_lu_solve_takes_scipys_factors_and_complex_input(trans):
    a = A[[1, 2, 0]] + 1j * RNG.standard_normal((3, 3))
    b = B + 1j * RNG.standard_normal((3, 2))
    factors = sl.lu_factor(a)
    np.testing.assert_allclose(fsl.lu_solve(factors, b, trans=trans),
                               sl.lu_solve(factors, b, trans=trans), rtol=1e-12)
    check_grads(lambda a, b: fsl.lu_solve(fsl.lu_factor(a), b, trans=trans), (a, b), order=1)


def test_lu_errors():
    with pytest.raises(ShapeError, match="square"):
        fsl.lu_factor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="pivots"):
        fsl.lu_solve((A, np.zeros(2, np.int32)), B)
    with pytest.raises(ArgumentError, match="trans"):
        fsl.lu_solve(fsl.lu_factor(A), B, trans="X")
    singular = np.ones((2, 2))
    with pytest.warns(sl.LinAlgWarning):
        sl.lu_factor(singular)  # SciPy warns and returns U with a zero pivot ...
    with pytest.warns(sl.LinAlgWarning):
        lu, _ = fsl.lu_factor(singular)  # ... and so does funcgrad
    assert lu[1, 1] == 0.0


def test_lu_pivots_carry_no_gradient():
    a = A[[2, 0, 1]]
    g = fg.grad(lambda a: fnp.sum(fsl.lu_factor(a)[1] * a[0]))(a)  # piv: a constant factor
    np.testing.assert_array_equal(g[0], sl.lu_factor(a)[1])
    np.testing.assert_array_equal(g[1:], 0.0)


# -- expm ----------------------------------------------------------------------------------------
def test_expm_closed_forms():
    t = 0.3
    rot = fsl.expm(np.array([[0.0, t], [-t, 0.0]]))
    np.testing.assert_allclose(rot, [[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]], rtol=1e-14)
    np.testing.assert_allclose(fsl.expm(np.array([[0.0, 1.0], [0.0, 0.0]])), [[1, 1], [0, 1]])
    # d/dt expm(tM) = M expm(tM);  ∇ tr(expm(X)) = expm(X)ᵀ.
    m = RNG.standard_normal((3, 3))
    _, tangent = fg.jvp(lambda s: fsl.expm(s * m), (np.array(0.4),), (np.array(1.0),))
    np.testing.assert_allclose(tangent, m @ sl.expm(0.4 * m), rtol=1e-12)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.trace(fsl.expm(x)))(m), sl.expm(m).T,
                               rtol=1e-12)


def test_expm_third_derivatives_and_integer_input():
    check_grads(fsl.expm, (0.5 * RNG.standard_normal((2, 2)),), order=3)
    assert fsl.expm(np.zeros((2, 2), int)).dtype == np.float64
    with pytest.raises(ShapeError):
        fsl.expm(np.ones((2, 3)))


# -- block_diag -----------------------------------------------------------------------------------
def test_block_diag_edge_cases_are_scipys():
    for args in [(), ([],), (1.0, [2, 3], [[4], [5]]), (np.ones((0, 2)), [[1.0]])]:
        got, expected = fsl.block_diag(*args), sl.block_diag(*args)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    assert fsl.block_diag(np.ones(2, np.float32), np.ones((1, 1), np.float32)).dtype == np.float32
    with pytest.raises(ShapeError, match="more than 2"):
        fsl.block_diag(np.ones((2, 2, 2)))


# -- cholesky's rules, laziness -------------------------------------------------------------------
def test_cholesky_rules_use_triangular_solves_not_lu_solves():
    def logdet(k):
        return fnp.sum(fnp.log(fnp.diagonal(fnp.linalg.cholesky(k))))

    text = str(fg.make_graph(fg.grad(logdet))(SPD))
    assert "cholesky_grad" in text  # one primitive: BLAS trmm and two triangular solves
    assert " solve" not in text.replace("triangular_solve", "")
    text = str(fg.make_graph(fg.hessian(logdet))(SPD))  # cholesky_grad's own rules
    assert "triangular_solve" in text
    assert " solve" not in text.replace("triangular_solve", "")


def _cholesky_grad_numpy(low, g):
    """Φ(Y + Yᵀ), Y = L⁻ᵀ Φ(Lᵀ G) L⁻¹, from the lower triangles, in plain NumPy (Φ: the lower
    triangle, diagonal halved)."""
    low, g = np.tril(low), np.tril(g)
    phi = np.tril(np.ones(low.shape)) - 0.5 * np.eye(len(low))
    inv = np.linalg.inv(low)
    y = inv.T @ (phi * (low.T @ g)) @ inv
    return phi * (y + y.T)


def test_cholesky_grad_values_rules_to_third_order_and_batching():
    from funcgrad.ops.cholesky_grad import cholesky_grad

    low = np.linalg.cholesky(SPD)
    junk = low + np.triu(RNG.standard_normal((3, 3)), 1)   # never read: only lower triangles
    g = RNG.standard_normal((3, 3))
    np.testing.assert_allclose(cholesky_grad(junk, g), _cholesky_grad_numpy(low, g), rtol=1e-12)
    check_grads(cholesky_grad, [junk, g], order=3, projections=3)
    # Ḡ's upper triangle is never read either: not even an inf there turns into NaN.
    g_inf = g + np.triu(np.full((3, 3), np.inf), 1)
    np.testing.assert_array_equal(cholesky_grad(low, g_inf), cholesky_grad(low, g))
    # It is cholesky's VJP: the cotangent of the lower triangle that cholesky reads.
    np.testing.assert_allclose(fg.vjp(fnp.linalg.cholesky, SPD)[1](g)[0],
                               cholesky_grad(low, g), rtol=1e-12)
    stack, gs = np.stack([low, 2 * low]), RNG.standard_normal((4, 2, 3, 3))
    np.testing.assert_allclose(cholesky_grad(stack, gs), [[_cholesky_grad_numpy(m, h) for m, h in
                                                           zip(stack, gi)] for gi in gs],
                               rtol=1e-12)
    by_example = fg.vmap(cholesky_grad, in_axes=(None, 0))(low, gs[:, 0])
    np.testing.assert_allclose(by_example, [_cholesky_grad_numpy(low, h) for h in gs[:, 0]],
                               rtol=1e-12)
    by_example = fg.vmap(cholesky_grad, in_axes=(0, 1))(stack, gs)
    np.testing.assert_allclose(by_example, np.swapaxes(cholesky_grad(stack, gs), 0, 1),
                               rtol=1e-12)
    out32 = cholesky_grad(low.astype(np.float32), g.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, _cholesky_grad_numpy(low, g), rtol=1e-4, atol=1e-5)


def test_importing_funcgrad_scipy_does_not_import_scipy():
    code = ("import sys, funcgrad, funcgrad.numpy, funcgrad.scipy.linalg; "
            "print(any(m == 'scipy' or m.startswith('scipy.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_no_warning_on_well_conditioned_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fsl.lu_solve(fsl.lu_factor(A), B)
        fsl.cho_solve(fsl.cho_factor(SPD), B)
