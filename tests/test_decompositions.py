"""``fnp.linalg`` decompositions beyond the op table: degenerate points, errors, keywords,
complex inputs, the one-triangle convention, and jit/vmap of their derivatives.

Expected values come from NumPy or closed forms (stated next to each test).
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(20240611)


def _spd(n, rng=RNG):
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def _logdet_via_cholesky(a):
    return 2 * fnp.sum(fnp.log(fnp.diagonal(fnp.linalg.cholesky(a))))


def _logdet_grad_closed_form(s):
    """d logdet(S(A)) / dA for S built from A's lower triangle: S⁻¹ on the diagonal, 2 S⁻¹ below."""
    inv = np.linalg.inv(s)
    return 2 * np.tril(inv) - np.diag(np.diag(inv))


# -- degenerate points: well-defined quantities have finite, correct derivatives ---------------
REPEATED = [np.eye(3), np.diag([2.0, 2.0, 5.0]), np.eye(4) * 0.5]


@pytest.mark.parametrize("a", REPEATED, ids=["I3", "diag(2,2,5)", "0.5*I4"])
def test_sum_of_eigenvalues_has_the_identity_gradient_at_repeated_eigenvalues(a):
    # sum(eigvalsh(A)) = trace(A), so the gradient is I (closed form), through either function.
    expected = np.eye(len(a))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fnp.linalg.eigvalsh(x)))(a), expected)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.linalg.eigh(x)[0]))(a), expected,
                               atol=1e-15)
    # Forward mode: d trace(A)[T] = trace(T).
    t = RNG.standard_normal(a.shape)
    _, dw = fg.jvp(lambda x: fnp.sum(fnp.linalg.eigvalsh(x)), (a,), (t,))
    np.testing.assert_allclose(dw, np.trace(t), rtol=1e-12)


@pytest.mark.parametrize("a", REPEATED + [_spd(4)], ids=["I3", "diag(2,2,5)", "0.5*I4", "spd"])
def test_logdet_through_cholesky_is_finite_and_correct_at_repeated_eigenvalues(a):
    g = fg.grad(_logdet_via_cholesky)(a)
    np.testing.assert_allclose(g, _logdet_grad_closed_form(a), rtol=1e-12, atol=1e-14)
    check_grads(_logdet_via_cholesky, [a], order=2)  # second order against finite differences


def test_sum_of_singular_values_at_repeated_singular_values():
    # sum(svdvals(A)) is the nuclear norm; at A = c I (c > 0) its gradient is I (closed form).
    for a in (np.eye(3), 2.0 * np.eye(2)):
        np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.linalg.svdvals(x)))(a),
                                   np.eye(len(a)), atol=1e-15)
        np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(fnp.linalg.svd(x)[1]))(a),
                                   np.eye(len(a)), atol=1e-15)


def test_eigenvector_and_singular_vector_derivatives_at_ties_are_not_finite():
    # They do not exist there; like JAX (jax 0.10.2 returns all-NaN gradients for these two
    # functions at I), funcgrad returns NaN/inf rather than a finite number.
    with np.errstate(all="ignore"):
        g_eigh = fg.grad(lambda x: fnp.sum(fnp.linalg.eigh(x)[1]))(np.eye(3))
        g_svd = fg.grad(lambda x: fnp.sum(fnp.linalg.svd(x)[0]))(np.eye(3))
    assert not np.all(np.isfinite(g_eigh))
    assert not np.all(np.isfinite(g_svd))


def test_eigenvector_derivatives_are_finite_with_distinct_eigenvalues():
    a = np.diag([1.0, 2.0, 4.0]) + 0.1 * np.ones((3, 3))
    check_grads(lambda x: fnp.linalg.eigh(x)[1] ** 2, [a], order=2)


# -- the triangle NumPy reads ------------------------------------------------------------------
def test_only_one_triangle_is_read_and_differentiated():
    s = _spd(3)
    junk = s + np.triu(RNG.standard_normal((3, 3)), 1)  # garbage above the diagonal
    np.testing.assert_allclose(fnp.linalg.cholesky(junk), np.linalg.cholesky(junk), rtol=1e-12)
    np.testing.assert_allclose(fnp.linalg.eigvalsh(junk), np.linalg.eigvalsh(junk), rtol=1e-12)
    g = fg.grad(lambda x: fnp.sum(fnp.linalg.cholesky(x) ** 2))(junk)
    np.testing.assert_array_equal(np.triu(g, 1), 0.0)
    check_grads(lambda x: fnp.linalg.cholesky(x), [junk], order=1)
    low = s + np.tril(RNG.standard_normal((3, 3)), -1)
    np.testing.assert_allclose(fnp.linalg.cholesky(low, upper=True),
                               np.linalg.cholesky(low, upper=True), rtol=1e-12)
    np.testing.assert_allclose(fnp.linalg.eigvalsh(low, UPLO="U"),
                               np.linalg.eigvalsh(low, UPLO="U"), rtol=1e-12)
    g = fg.grad(lambda x: fnp.sum(fnp.linalg.eigvalsh(x, UPLO="U") ** 2))(low)
    np.testing.assert_array_equal(np.tril(g, -1), 0.0)


# -- errors ---------------------------------------------------------------------------------------
def test_not_positive_definite_raises_linalgerror_eagerly_under_grad_and_jit():
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError):
        fnp.linalg.cholesky(bad)
    with pytest.raises(np.linalg.LinAlgError):
        fg.grad(_logdet_via_cholesky)(bad)
    with pytest.raises(np.linalg.LinAlgError):
        fg.jit(fnp.linalg.cholesky)(bad)
    assert np.linalg.LinAlgError is fnp.linalg.LinAlgError


@pytest.mark.parametrize("fn", [fnp.linalg.cholesky, fnp.linalg.eigh, fnp.linalg.eigvalsh],
                         ids=["cholesky", "eigh", "eigvalsh"])
def test_non_square_input_is_a_shape_error(fn):
    with pytest.raises(ShapeError, match=r"square.*\(2, 3\)"):
        fn(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        fn(np.ones(3))


def test_bad_keywords_are_argument_errors():
    with pytest.raises(ArgumentError, match="UPLO"):
        fnp.linalg.eigh(np.eye(2), UPLO="X")
    with pytest.raises(ArgumentError, match="mode"):
        fnp.linalg.qr(np.eye(2), mode="raw")
    with pytest.raises(ShapeError):
        fnp.linalg.svd(np.ones(3))


def test_derivatives_that_do_not_exist_raise_clear_errors():
    a = RNG.standard_normal((4, 2))
    with pytest.raises(ArgumentError, match="full_matrices=False"):
        fg.grad(lambda x: fnp.sum(fnp.linalg.svd(x)[0]))(a)
    with pytest.raises(ArgumentError, match="mode='reduced'"):
        fg.grad(lambda x: fnp.sum(fnp.linalg.qr(x, mode="complete")[0]))(a)
    # The singular values of the same call still differentiate (their rule needs no U columns
    # beyond the first min(m, n)).
    g = fg.grad(lambda x: fnp.sum(fnp.linalg.svd(x)[1]))(a)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(g, u @ vh, rtol=1e-12)


def test_complex_values_match_numpy():
    h = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    h = h @ h.conj().T + 3 * np.eye(3)
    z = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    np.testing.assert_allclose(fnp.linalg.cholesky(h), np.linalg.cholesky(h), rtol=1e-12)
    np.testing.assert_allclose(fnp.linalg.cholesky(h, upper=True),
                               np.linalg.cholesky(h, upper=True), rtol=1e-12)
    np.testing.assert_allclose(fnp.linalg.eigvalsh(h), np.linalg.eigvalsh(h), rtol=1e-12)
    w, v = fnp.linalg.eigh(h)
    assert w.dtype == np.float64 and v.dtype == np.complex128
    np.testing.assert_allclose((v * w) @ v.conj().T, h, atol=1e-12)
    np.testing.assert_allclose(fnp.linalg.svdvals(z), np.linalg.svdvals(z), rtol=1e-12)
    q, r = fnp.linalg.qr(z)
    np.testing.assert_allclose(q @ r, z, atol=1e-12)
    # (Their derivatives: tests/test_linalg_complex.py.)


# -- keywords and results ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (3, 3), (2, 4, 3)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_shapes_and_values_match_numpy(shape, full_matrices):
    a = RNG.standard_normal(shape)
    got, ref = fnp.linalg.svd(a, full_matrices=full_matrices), np.linalg.svd(a, full_matrices)
    assert got._fields == ("U", "S", "Vh")
    for g, e in zip(got, ref):
        assert g.shape == e.shape and g.dtype == e.dtype
    np.testing.assert_allclose(got.S, ref.S, rtol=1e-12)
    k = min(shape[-2:])
    np.testing.assert_allclose((got.U[..., :k] * got.S[..., None, :]) @ got.Vh[..., :k, :], a,
                               atol=1e-12)
    np.testing.assert_allclose(fnp.linalg.svd(a, compute_uv=False), ref.S, rtol=1e-12)


def test_svd_hermitian_gives_numpys_singular_values():
    s = _spd(3) - 4 * np.eye(3)  # symmetric, eigenvalues of both signs
    u, sv, vh = fnp.linalg.svd(s, hermitian=True)
    np.testing.assert_allclose(sv, np.linalg.svd(s, hermitian=True).S, rtol=1e-12)
    np.testing.assert_allclose((u * sv) @ vh, s, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (3, 3), (2, 3, 2)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_modes_match_numpy(shape, mode):
    a = RNG.standard_normal(shape)
    got, ref = fnp.linalg.qr(a, mode=mode), np.linalg.qr(a, mode=mode)
    if mode == "r":
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
        return
    assert got._fields == ("Q", "R")
    for g, e in zip(got, ref):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14)


def test_eigh_result_fields_and_integer_input():
    a = np.array([[2, 1], [1, 2]])
    w, v = res = fnp.linalg.eigh(a)
    assert res._fields == ("eigenvalues", "eigenvectors")
    assert w.dtype == np.float64
    np.testing.assert_allclose(w, [1.0, 3.0], rtol=1e-14)
    assert fnp.linalg.cholesky(np.array([[4, 2], [2, 5]])).dtype == np.float64


def test_a_mutated_input_is_not_served_a_stale_decomposition():
    a = RNG.standard_normal((3, 3))
    fnp.linalg.svd(a)
    a[0, 0] += 1.0
    np.testing.assert_allclose(fnp.linalg.svdvals(a), np.linalg.svdvals(a), rtol=1e-12)
    u1 = fnp.linalg.svd(a).U
    u1[:] = 0.0  # the caller owns its result: the next call is unaffected
    np.testing.assert_allclose(np.abs(fnp.linalg.svd(a).U), np.abs(np.linalg.svd(a).U), rtol=1e-12)


# -- under jit and vmap ---------------------------------------------------------------------------
def test_jit_of_grad_equals_eager():
    a = _spd(4)
    for f in (_logdet_via_cholesky, lambda x: fnp.sum(fnp.linalg.eigvalsh(x) ** 3),
              lambda x: fnp.sum(fnp.linalg.qr(x).R ** 2),
              lambda x: fnp.sum(fnp.linalg.svdvals(x[:, :3]) ** 2)):
        np.testing.assert_allclose(fg.jit(fg.grad(f))(a), fg.grad(f)(a), rtol=1e-10)


def test_vmap_over_the_stack_and_the_matrix_axes():
    stack = np.stack([_spd(3) for _ in range(4)])
    expected = np.linalg.eigvalsh(stack)
    np.testing.assert_allclose(fg.vmap(fnp.linalg.eigvalsh)(stack), expected, rtol=1e-12)
    np.testing.assert_allclose(fg.vmap(fnp.linalg.eigvalsh, in_axes=2)(np.moveaxis(stack, 0, 2)),
                               expected, rtol=1e-12)
    grads = fg.vmap(fg.grad(_logdet_via_cholesky))(stack)
    np.testing.assert_allclose(grads, np.stack([_logdet_grad_closed_form(s) for s in stack]),
                               rtol=1e-10)
    batched = fg.vmap(fg.vmap(fnp.linalg.cholesky))(stack.reshape(2, 2, 3, 3))
    np.testing.assert_allclose(batched, np.linalg.cholesky(stack).reshape(2, 2, 3, 3), rtol=1e-12)
