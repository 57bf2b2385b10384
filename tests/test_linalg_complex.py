"""Complex derivatives of ``fnp.linalg``'s decompositions, ``lstsq`` and ``pinv``.

The convention is JAX's (``docs/complex.md``): ``jvp`` is the R-linear derivative, ``vjp``
its transpose without conjugation, so ``grad`` of a real loss is ``dL/dx - i dL/dy``.  Each
function is checked three ways, in float64: forward mode against central differences of
NumPy along complex directions, the transpose identity ``Re sum(ct_in * t) == Re
sum(ct_out * jvp(t))``, and reverse mode against central differences of a real loss in
the real and the imaginary part of every entry.  Complex eigenvectors and singular vectors
have a free phase each, so only phase-invariant functions of them are compared (``|V|``,
projectors, ``U diag(s) Vh``), as JAX's tests do.  A few numbers were generated once with
jax 0.10.2 (``jax_enable_x64``); the op-table rows are in ``tests/op_records_linalg_pinv.py``.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

L = fnp.linalg
RNG = np.random.default_rng(20240611)
H = 1e-6  # central-difference step: truncation error ~ H**2, rounding ~ eps / H


def _complex(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _hermitian_pd(n, batch=()):
    x = _complex(*batch, n, n)
    return x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)


def _hermitian(n, batch=()):
    x = _complex(*batch, n, n)
    return x + np.conj(np.swapaxes(x, -1, -2))


def _mH(m):
    return fnp.conj(fnp.swapaxes(m, -1, -2))


def _leaves(out):
    return [np.asarray(o) for o in fg.tree.leaves(out)]


def _fd_jvp(ref, a, t):
    """Central differences of the NumPy function ``ref`` at ``a`` along ``t``."""
    plus, minus = _leaves(ref(a + H * t)), _leaves(ref(a - H * t))
    return [(p - m) / (2 * H) for p, m in zip(plus, minus)]


def _fd_grad(loss, a):
    """``dL/dx - i dL/dy`` of a real NumPy loss, entry by entry."""
    g = np.zeros(a.shape, complex)
    for idx in np.ndindex(*a.shape):
        for step, weight in ((1.0, 1.0), (1j, -1j)):
            e = np.zeros(a.shape, complex)
            e[idx] = step * H
            g[idx] += weight * (loss(a + e) - loss(a - e)) / (2 * H)
    return g


def _check(fun, ref, a, atol=1e-7):
    """Forward mode against finite differences along two complex directions, and the
    transpose identity between ``vjp`` and ``jvp``."""
    for _ in range(2):
        t = _complex(*a.shape)
        out, tangent = fg.jvp(fun, (a,), (t,))
        for got, expected in zip(_leaves(tangent), _fd_jvp(ref, a, t)):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=atol)
        out_leaves = _leaves(out)
        cts = [_complex(*o.shape) if o.dtype.kind == "c" else RNG.standard_normal(o.shape)
               for o in out_leaves]
        _, pullback = fg.vjp(fun, a)
        (ct_in,) = pullback(fg.tree.unflatten(fg.tree.flatten(out)[1], cts))
        lhs = np.real(np.sum(ct_in * t))
        rhs = sum(np.real(np.sum(c * d)) for c, d in zip(cts, _leaves(tangent)))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


# -- forward mode and the transpose identity -------------------------------------------------
def _eigh_invariants(mod):
    def fun(a):
        w, v = mod.linalg.eigh(a)
        vh = mod.conj(mod.swapaxes(v, -1, -2))
        return w, mod.abs(v), (v * (w ** 3)[..., None, :]) @ vh
    return fun


def _svd_invariants(mod):
    def fun(a):
        u, s, vh = mod.linalg.svd(a, full_matrices=False)
        return mod.abs(u), s, mod.abs(vh), (u * (s * s)[..., None, :]) @ vh, u @ vh
    return fun


CASES = {  # id: (funcgrad function, NumPy function, input)
    "cholesky": (L.cholesky, np.linalg.cholesky, _hermitian_pd(3)),
    "cholesky[upper, stack]": (lambda a: L.cholesky(a, upper=True),
                               lambda a: np.linalg.cholesky(a, upper=True), _hermitian_pd(3, (2,))),
    "cholesky[non-Hermitian input: lower triangle]": (
        L.cholesky, np.linalg.cholesky, _hermitian_pd(3) + np.triu(_complex(3, 3), 1)),
    "eigvalsh": (L.eigvalsh, np.linalg.eigvalsh, _hermitian(4)),
    "eigvalsh[UPLO=U, stack]": (lambda a: L.eigvalsh(a, UPLO="U"),
                                lambda a: np.linalg.eigvalsh(a, UPLO="U"), _hermitian(3, (2,))),
    "eigh[w, |V|, V diag(w^3) V^H]": (_eigh_invariants(fnp), _eigh_invariants(np), _hermitian(4)),
    "eigh[non-Hermitian input]": (_eigh_invariants(fnp), _eigh_invariants(np), _complex(3, 3)),
    "svdvals[wide]": (L.svdvals, np.linalg.svdvals, _complex(2, 4)),
    "svd[compute_uv=False, stack]": (lambda a: L.svd(a, compute_uv=False),
                                     lambda a: np.linalg.svd(a, compute_uv=False),
                                     _complex(2, 3, 2)),
    "svd[tall]": (_svd_invariants(fnp), _svd_invariants(np), _complex(4, 2)),
    "svd[wide]": (_svd_invariants(fnp), _svd_invariants(np), _complex(2, 4)),
    "svd[square, stack]": (_svd_invariants(fnp), _svd_invariants(np), _complex(2, 3, 3)),
    "qr[tall]": (lambda a: tuple(L.qr(a)), lambda a: tuple(np.linalg.qr(a)), _complex(4, 2)),
    "qr[wide]": (lambda a: tuple(L.qr(a)), lambda a: tuple(np.linalg.qr(a)), _complex(2, 4)),
    "qr[complete, wide, stack]": (lambda a: tuple(L.qr(a, mode="complete")),
                                  lambda a: tuple(np.linalg.qr(a, mode="complete")),
                                  _complex(2, 2, 3)),
    "qr[r]": (lambda a: L.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"), _complex(3, 3)),
    "pinv[tall]": (L.pinv, np.linalg.pinv, _complex(4, 2)),
    "pinv[wide, stack]": (L.pinv, np.linalg.pinv, _complex(2, 2, 3)),
    "pinv[hermitian]": (lambda a: L.pinv(a, hermitian=True),
                        lambda a: np.linalg.pinv(a, hermitian=True), _complex(3, 3)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_jvp_matches_finite_differences_and_vjp_is_its_transpose(name):
    fun, ref, a = CASES[name]
    _check(fun, ref, a)


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (2, 4)])
def test_lstsq_in_a_and_b(shape):
    a, b = _complex(*shape), _complex(shape[0], 2)

    def in_a(mod):
        def fun(x):
            sol, res, _, s = mod.linalg.lstsq(x, b)
            return sol, res, s
        return fun

    _check(in_a(fnp), in_a(np), a)
    _check(lambda y: L.lstsq(a, y)[0], lambda y: np.linalg.lstsq(a, y)[0], b)


def test_pinv_at_a_rank_deficient_matrix_along_a_rank_preserving_curve():
    # A(h) = (B + h dB)(C + h dC) has rank 2 for every h, and pinv is differentiable along
    # it (the rule has no singular-value gap); its tangent at h = 0 is dB C + B dC.
    b, c, db, dc = _complex(4, 2), _complex(2, 3), _complex(4, 2), _complex(2, 3)
    _, tangent = fg.jvp(L.pinv, (b @ c,), (db @ c + b @ dc,))
    expected = (np.linalg.pinv((b + H * db) @ (c + H * dc))
                - np.linalg.pinv((b - H * db) @ (c - H * dc))) / (2 * H)
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-7)


# -- reverse mode: the gradient of a real loss is dL/dx - i dL/dy ----------------------------
def _real_loss(mod, decompose):
    def loss(a):
        return sum(mod.sum(mod.abs(o) ** 2 * w) for o, w in zip(decompose(a), (0.7, -0.3, 1.1)))
    return loss


LOSSES = {  # id: (funcgrad outputs, NumPy outputs, input)
    "cholesky": (lambda a: (L.cholesky(a),), lambda a: (np.linalg.cholesky(a),), _hermitian_pd(3)),
    "eigh": (lambda a: _eigh_invariants(fnp)(a), lambda a: _eigh_invariants(np)(a), _hermitian(3)),
    "svd": (lambda a: _svd_invariants(fnp)(a)[1:4], lambda a: _svd_invariants(np)(a)[1:4],
            _complex(3, 2)),
    "qr": (lambda a: tuple(L.qr(a)), lambda a: tuple(np.linalg.qr(a)), _complex(2, 3)),
    "lstsq": (lambda a: L.lstsq(a, np.arange(4.0) - 1j)[:2],
              lambda a: np.linalg.lstsq(a, np.arange(4.0) - 1j)[:2], _complex(4, 2)),
    "pinv": (lambda a: (L.pinv(a),), lambda a: (np.linalg.pinv(a),), _complex(2, 3)),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_grad_of_a_real_loss_is_dx_minus_i_dy(name):
    fun, ref, a = LOSSES[name]
    got = fg.grad(_real_loss(fnp, fun))(a)
    assert got.dtype == np.complex128
    np.testing.assert_allclose(got, _fd_grad(_real_loss(np, ref), a), rtol=1e-6, atol=1e-7)


# -- JAX's numbers -------------------------------------------------------------------------------
# Generated once with jax 0.10.2 (jax_enable_x64), the same functions written with jax.numpy:
# jax.grad of each loss below at X (or S), and jax.jvp at A along the Hermitian T.  JAX
# symmetrizes the input of cholesky and eigh where NumPy reads one triangle, so their
# losses build a Hermitian matrix first (the two conventions agree there).
X = np.array([[1.0 + 0.5j, -0.3 + 0.2j], [0.4 - 0.7j, 0.9 + 0.1j], [-0.6 + 0.3j, 0.2 - 0.4j]])
S = np.array([[0.7 - 0.2j, 0.1 + 0.6j], [-0.5 + 0.3j, 0.2 - 0.8j]])
W = np.array([[0.3 + 0.1j, -0.2 + 0.5j], [0.6 - 0.4j, 0.1 + 0.2j], [-0.7 + 0.3j, 0.5 - 0.1j]])
B = np.array([0.5 - 0.1j, -0.2 + 0.3j, 0.8 + 0.6j])

QR_GRAD = np.array([
    [0.7137202860634013-0.3726993310782986j, -0.23850632551014897+0.6315435940362877j],
    [-0.6601526636050746-0.009112207963859049j, 0.6365181031075147-0.31074549194675605j],
    [0.14172456366850075-0.7733286398346627j, 0.5573648330366557+0.32723652511781376j],
])
SVD_GRAD = np.array([
    [5.098556370388822-2.6144437071149182j, -1.6747200523952257-1.2825983938473928j],
    [2.6849193558281077+4.063647041602296j, 3.5380078347828423-1.0465848899903722j],
    [-4.336530172191384-0.5800515763704539j, 1.1371446445943145+2.3771259834302403j],
])
EIGH_GRAD = np.array([
    [7.160404719808936+0j, -2.3016250586506986+1.0946589309526404j],
    [-2.3016250586506986-1.0946589309526404j, 1.6595952801910643+0j],
])
CHOL_GRAD = np.array([
    [-0.05793554649143218+0.4352800005510534j, 0.5362502152085998-0.3558271199765642j],
    [-0.35437864705129374+0.4199390311372715j, 0.43255700695422294+0.29939094217937456j],
])
LSTSQ_GRAD = np.array([
    [-2.9082457946611373-1.1390070669413583j, 3.7330131426017914-4.397885083792083j],
    [-0.5195825553438962+2.811120399197743j, -3.556808940829444-2.5118392614380176j],
    [2.4717754732973027+0.20810846291665164j, -0.618712048101774+1.9236904759407192j],
])
PINV_GRAD = np.array([
    [-3.1260861082206+0.5922151404786672j, -0.9224180541103011-4.10775884495317j],
    [-1.3632479188345452+2.45737513007284j, -4.942488293444326-1.5477497398543167j],
    [-0.3554890738813735+1.3825117065556696j, -2.0323621227887596-0.7025039021852237j],
])
EIGVALSH_JVP = np.array([0.3666666666666667, 1.4333333333333336])
CHOL_JVP = np.array([
    [0.3824508552957071+0j, 0j],
    [-0.20141868072076682-0.026910188112491143j, 0.1267014409356092-6.9388939039072276e-18j],
])
SVDVALS_JVP = np.array([0.9882535915898925, 0.0790569415042095])
QR_JVP_R = np.array([
    [-0.9002127408137502+0j, 0.07952850762970688-0.44705291985215695j],
    [0j, -0.07195466007403069+0j],
])


def _qr_loss(a):
    q, r = L.qr(a)
    return fnp.sum(fnp.real(q * W)) + fnp.sum(fnp.imag(r * S)) + fnp.sum(fnp.abs(r) ** 2 * 0.1)


def _svd_loss(a):
    u, s, vh = L.svd(a, full_matrices=False)
    p = (u * s[None, :] ** 2) @ vh
    return fnp.sum(s ** 3) + fnp.sum(fnp.real(p * W)) + fnp.sum(fnp.abs(u) ** 2 * np.abs(W))


def _eigh_loss(b):
    w, v = L.eigh(X.conj().T @ X + b + _mH(b))
    p = (v * w[None, :] ** 2) @ _mH(v)
    return fnp.sum(w * np.array([1.0, -2.0])) + fnp.sum(fnp.real(p * S)) + fnp.sum(fnp.abs(v))


def _cholesky_loss(b):
    chol = L.cholesky(X.conj().T @ X + b @ _mH(b) + np.eye(2))
    return fnp.sum(fnp.real(chol * S)) + fnp.sum(fnp.imag(chol) ** 2)


def _lstsq_loss(a):
    x = L.lstsq(a, B)[0]
    return fnp.sum(fnp.abs(x) ** 2) + fnp.sum(fnp.real(x * np.array([1.0 + 2.0j, -0.5j])))


def _pinv_loss(a):
    return fnp.sum(fnp.real(L.pinv(a) * W.T)) + fnp.sum(fnp.abs(L.pinv(a)) ** 2)


JAX_GRADS = {  # id: (loss, point, jax.grad(loss)(point))
    "qr": (_qr_loss, X, QR_GRAD),
    "svd": (_svd_loss, X, SVD_GRAD),
    "eigh": (_eigh_loss, S, EIGH_GRAD),
    "cholesky": (_cholesky_loss, S, CHOL_GRAD),
    "lstsq": (_lstsq_loss, X, LSTSQ_GRAD),
    "pinv": (_pinv_loss, X, PINV_GRAD),
}


@pytest.mark.parametrize("name", list(JAX_GRADS))
def test_gradients_match_jax(name):
    loss, point, expected = JAX_GRADS[name]
    np.testing.assert_allclose(fg.grad(loss)(point), expected, rtol=1e-12, atol=1e-13)


def test_jvps_match_jax():
    a, t = X.conj().T @ X + np.eye(2), S + S.conj().T
    np.testing.assert_allclose(fg.jvp(L.eigvalsh, (a,), (t,))[1], EIGVALSH_JVP, rtol=1e-12)
    np.testing.assert_allclose(fg.jvp(L.cholesky, (a,), (t,))[1], CHOL_JVP, atol=1e-14)
    np.testing.assert_allclose(fg.jvp(L.svdvals, (X,), (W,))[1], SVDVALS_JVP, rtol=1e-12)
    np.testing.assert_allclose(fg.jvp(lambda x: L.qr(x)[1], (X,), (W,))[1], QR_JVP_R, atol=1e-14)


# -- degenerate points, jit, vmap, float32 ---------------------------------------------------------
def test_eigenvalue_and_singular_value_sums_are_differentiable_at_ties():
    # sum(eigvalsh(A)) = Re tr(A) reads the real diagonal: gradient I (closed form), also at
    # the identity, where every eigenvalue is repeated.
    g = fg.grad(lambda a: fnp.sum(L.eigvalsh(a)))(np.eye(3, dtype=complex))
    np.testing.assert_allclose(g, np.eye(3), atol=1e-14)
    # The nuclear norm at a unitary Q (every singular value 1): gradient conj(U Vh) = conj(Q).
    q = np.linalg.qr(_complex(3, 3))[0]
    g = fg.grad(lambda a: fnp.sum(L.svdvals(a)))(q)
    np.testing.assert_allclose(g, np.conj(q), atol=1e-12)
    # log det through cholesky at a multiple of the identity: d log det(A) = tr(A⁻¹ dA), read
    # from the lower triangle (off-diagonal entries count twice): 2 tril(A⁻ᵀ) - diag.
    a = 2.0 * np.eye(3, dtype=complex)
    g = fg.grad(lambda a: 2 * fnp.sum(fnp.log(fnp.real(fnp.diagonal(L.cholesky(a))))))(a)
    np.testing.assert_allclose(g, 0.5 * np.eye(3), atol=1e-14)


def test_complex_gradients_under_jit_and_vmap():
    a = _complex(3, 4, 2)
    loss = _real_loss(fnp, LOSSES["svd"][0])
    eager = [fg.grad(loss)(x) for x in a]
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(a[0]), eager[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fg.vmap(fg.grad(loss))(a), np.stack(eager), rtol=1e-12, atol=1e-13)
    h = _hermitian_pd(3, (2,))
    chol = _real_loss(fnp, LOSSES["cholesky"][0])
    np.testing.assert_allclose(fg.vmap(fg.grad(chol))(h), np.stack([fg.grad(chol)(x) for x in h]),
                               rtol=1e-12, atol=1e-13)


def test_complex64_gradients_are_complex64_and_close_to_complex128():
    a = _complex(3, 2)
    loss = _real_loss(fnp, LOSSES["qr"][0])
    g32 = fg.grad(loss)(a.astype(np.complex64))
    assert g32.dtype == np.complex64
    np.testing.assert_allclose(g32, fg.grad(loss)(a), rtol=1e-4, atol=1e-4)


def test_second_order_through_a_complex_decomposition():
    # The rules are funcgrad ops, so they differentiate again: forward over reverse against
    # central differences of the gradient.
    a = _hermitian_pd(2)
    loss = _real_loss(fnp, LOSSES["cholesky"][0])
    t = _complex(2, 2)
    _, hvp = fg.jvp(fg.grad(loss), (a,), (t,))
    expected = (fg.grad(loss)(a + H * t) - fg.grad(loss)(a - H * t)) / (2 * H)
    np.testing.assert_allclose(hvp, expected, rtol=1e-5, atol=1e-6)
