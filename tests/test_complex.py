"""Complex numbers follow JAX's convention, checked against finite differences and JAX's numbers.

The convention (``docs/complex.md``): a JVP is the ordinary R-linear derivative; a VJP is
its transpose for the pairing ``<a, b> = Re(sum(a * b))`` (no conjugate).  So for a real
loss ``L`` of ``z = x + iy``, ``grad`` gives ``dL/dx - i dL/dy``, and a real input of a
complex operation receives the real part of the cotangent.

Every rule is checked three ways at complex points, with the finite-difference helpers
below (central differences, float64):

* ``jvp`` along a real, an imaginary and a general complex direction ``t`` against
  ``(f(z + h t) - f(z - h t)) / 2h``;
* the transpose identity ``<ct, jvp(t)> == <vjp(ct), t>`` for random ``ct`` and ``t``;
* ``grad`` of the real loss ``Re(sum(w * f(z)))`` against ``dL/dx - i dL/dy`` computed by
  finite differences along the real and the imaginary direction of each element.

The numbers of the issue's examples were computed with jax 0.10.2 (``jax_enable_x64``),
and each is derived in a comment; jax is never imported here.
"""

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import DTypeError, NonScalarOutputError

# No rule may drop an imaginary part through NumPy's complex-to-real cast.
pytestmark = pytest.mark.filterwarnings("error::numpy.exceptions.ComplexWarning")

H = 1e-6
RTOL, ATOL = 1e-6, 1e-7


# -- finite differences ----------------------------------------------------------------------
def fd_jvp(f, z, t):
    """``(f(z + h t) - f(z - h t)) / 2h``: the directional derivative along (complex) ``t``."""
    return (np.asarray(f(z + H * t)) - np.asarray(f(z - H * t))) / (2 * H)


def fd_grad(loss, z):
    """JAX's gradient of a real ``loss``: ``dL/dx - i dL/dy`` per element (``dL/dx`` for real ``z``)."""
    z = np.asarray(z)
    out = np.zeros(z.shape, z.dtype)
    for k in np.ndindex(z.shape):
        e = np.zeros(z.shape, z.dtype)
        e[k] = 1
        dx = float(fd_jvp(loss, z, e))
        out[k] = dx - 1j * float(fd_jvp(loss, z, 1j * e)) if z.dtype.kind == "c" else dx
    return out


def pair(a, b) -> float:
    """The real pairing ``Re(sum(a * b))`` that JAX's transposes are taken for."""
    return float(np.real(np.sum(np.asarray(a) * np.asarray(b))))


def rand_like(rng, x):
    x = np.asarray(x)
    r = rng.standard_normal(x.shape)
    return r + 1j * rng.standard_normal(x.shape) if x.dtype.kind == "c" else r


def check_rules(f, *args):
    """jvp, vjp and grad of ``f`` in each argument, at ``args``, against finite differences."""
    rng = np.random.default_rng(0)
    out = np.asarray(f(*args))
    w = rand_like(rng, out)

    def loss(*a):
        return fnp.sum(fnp.real(fnp.asarray(f(*a)) * w))

    for i, x in enumerate(args):
        def fi(xi, i=i):
            return f(*args[:i], xi, *args[i + 1:])

        r = rng.standard_normal(np.shape(x))
        directions = [r, 1j * r, rand_like(rng, x)] if np.iscomplexobj(x) else [r]
        for t in directions:
            t = np.asarray(t, np.asarray(x).dtype)
            _, tangent = fg.jvp(fi, (x,), (t,))
            np.testing.assert_allclose(tangent, fd_jvp(fi, x, t), rtol=RTOL, atol=ATOL,
                                       err_msg=f"jvp, argument {i}, direction {t}")
            _, pullback = fg.vjp(fi, x)
            ct = np.asarray(rand_like(rng, out), out.dtype)
            (x_bar,) = pullback(ct)
            assert np.asarray(x_bar).dtype == np.asarray(x).dtype
            np.testing.assert_allclose(pair(ct, tangent), pair(x_bar, t), rtol=1e-10, atol=1e-10,
                                       err_msg=f"transpose identity, argument {i}")
        g = fg.grad(loss, argnums=i)(*args)
        np.testing.assert_allclose(g, fd_grad(lambda xi, i=i: loss(*args[:i], xi, *args[i + 1:]), x),
                                   rtol=RTOL, atol=ATOL, err_msg=f"grad, argument {i}")


RNG = np.random.default_rng(42)
Z = np.array([0.7 + 0.4j, -0.5 + 1.1j, 1.3 - 0.6j])     # off every branch cut (imag != 0)
W = np.array([0.3 - 0.8j, 1.2 + 0.5j, -0.4 - 0.9j])
M = np.array([[2.0 + 0.5j, 0.3 - 0.2j], [-0.4 + 0.1j, 1.5 - 0.7j]])   # well conditioned
M2 = np.array([[1.0 - 0.3j, 0.2 + 0.9j], [0.5 + 0.5j, -1.1 + 0.2j]])
X = np.array([0.8, -1.3, 2.1])


# -- the examples: JAX's numbers -----------------------------------------------------
def test_grad_of_abs_of_a_complex_built_from_a_real_is_positive():
    # |1 + i b| = sqrt(1 + b^2), d/db = b / sqrt(1 + b^2) = 2 / sqrt(5) = +0.894427191 at b = 2
    # (jax 0.10.2: jax.grad(lambda b: jnp.sum(jnp.abs(1.0 + 1j * b)))(jnp.array([2.0])) = [0.89442719])
    g = fg.grad(lambda b: fnp.sum(fnp.abs(1.0 + 1j * b)))(np.array([2.0]))
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [2 / np.sqrt(5)], rtol=1e-14)


def test_jvp_of_abs_keeps_the_imaginary_part_of_the_tangent():
    # d|z| = Re(conj(z) t) / |z| = Re((3 - 4i)(1 + i)) / 5 = (3 + 4) / 5 = 1.4
    # (jax 0.10.2: jax.jvp(jnp.abs, ([3+4j],), ([1+1j],)) = ([5.], [1.4]))
    out, t = fg.jvp(fnp.abs, (np.array([3 + 4j]),), (np.array([1 + 1j]),))
    np.testing.assert_allclose(out, [5.0])
    np.testing.assert_allclose(t, [1.4], rtol=1e-14)
    assert t.dtype == np.float64


def test_grad_of_abs_squared_is_jax_s_conjugate():
    # L = |z|^2 = x^2 + y^2: dL/dx - i dL/dy = 2x - 2iy = 2 - 2j at z = 1 + 1j
    # (jax 0.10.2: jax.grad(lambda z: jnp.abs(z) ** 2)(1 + 1j) = (2-2j))
    assert fg.grad(lambda z: fnp.abs(z) ** 2)(np.array(1 + 1j)) == 2 - 2j
    assert fg.grad(lambda z: fnp.real(z * fnp.conj(z)))(np.array(1 + 1j)) == 2 - 2j


@pytest.mark.parametrize("name, grad_value, jvp_value", [
    # At z = 1 + 2i, L = op(z) (real part for conj), t = 0.5 - 0.25i; |z| = sqrt(5).
    # abs:   grad conj(z)/|z| = (1 - 2i)/sqrt(5); jvp Re((1 - 2i)(0.5 - 0.25i))/sqrt(5) = 0
    ("abs", (1 - 2j) / np.sqrt(5), 0.0),
    # real:  L = x: grad 1;  jvp Re(t) = 0.5
    ("real", 1 + 0j, 0.5),
    # imag:  L = y: grad -i (dL/dy = 1);  jvp Im(t) = -0.25
    ("imag", -1j, -0.25),
    # conj:  Re(conj z) = x: grad 1;  jvp conj(t) = 0.5 + 0.25i
    ("conj", 1 + 0j, 0.5 + 0.25j),
    # angle: d/dx = -y/|z|^2 = -0.4, d/dy = x/|z|^2 = 0.2: grad -0.4 - 0.2i;
    #        jvp Im(conj(z) t)/|z|^2 = Im(-1.25i)/5 = -0.25
    ("angle", -0.4 - 0.2j, -0.25),
])  # all five pairs as printed by jax 0.10.2 (jax.grad of jnp.real(op(z)), jax.jvp of op)
def test_non_holomorphic_ops_match_jax(name, grad_value, jvp_value):
    f = getattr(fnp, name)
    z, t = np.array(1 + 2j), np.array(0.5 - 0.25j)
    np.testing.assert_allclose(fg.grad(lambda z: fnp.real(f(z)))(z), grad_value, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(fg.jvp(f, (z,), (t,))[1], jvp_value, rtol=1e-14, atol=1e-15)


def test_vjps_of_imag_and_real_and_angle_are_jax_s_transposes():
    # imag transposes to complex(0, -ct), real to complex(ct, 0) (jax 0.10.2: vjp(jnp.imag)(1.0) = -1j)
    z = np.array([1 + 2j])
    assert fg.vjp(fnp.imag, z)[1](np.array([1.0]))[0] == -1j
    assert fg.vjp(fnp.real, z)[1](np.array([3.0]))[0] == 3 + 0j
    assert fg.vjp(fnp.conj, z)[1](np.array([1 + 1j]))[0] == 1 - 1j
    # angle: ct * -i conj(z)/|z|^2 = -i (1 - 2i)/5 = -0.4 - 0.2i (jax 0.10.2: (-0.4-0.2j))
    np.testing.assert_allclose(fg.vjp(fnp.angle, z)[1](np.array([1.0]))[0], [-0.4 - 0.2j])


def test_holomorphic_vjp_has_no_conjugate():
    # exp is holomorphic: ct_in = ct * exp(z) (jax 0.10.2: vjp(jnp.exp, 1+2j)(1) = exp(1+2j))
    z = np.array(1 + 2j)
    np.testing.assert_allclose(fg.vjp(fnp.exp, z)[1](np.array(1 + 0j))[0], np.exp(z), rtol=1e-15)
    # matmul: ct_a = ct @ b.T, no conjugate
    _, pull = fg.vjp(fnp.matmul, M, M2)
    ct = M + 1j
    ca, cb = pull(ct)
    np.testing.assert_allclose(ca, ct @ M2.T, rtol=1e-14)
    np.testing.assert_allclose(cb, M.T @ ct, rtol=1e-14)


# -- every rule against finite differences ---------------------------------------------------
UNARY = ["abs", "real", "imag", "conj", "conjugate", "angle", "exp", "expm1", "log", "log1p",
         "log2", "log10", "sqrt", "square", "reciprocal", "negative", "sin", "cos", "tan",
         "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_rules_on_complex_inputs(name):
    check_rules(getattr(fnp, name), Z)


@pytest.mark.parametrize("name, f", [
    ("sign", fnp.sign),   # z/|z|: JAX's derivative is 0, which finite differences refute
    ("angle[deg]", lambda z: fnp.angle(z, deg=True)),
    ("z ** 2", lambda z: z ** 2),
    ("z ** 3", lambda z: fnp.power(z, 3)),
    ("z ** -2", lambda z: z ** -2),
    ("z ** 2.5", lambda z: z ** 2.5),
    ("2.0 ** z", lambda z: 2.0 ** z),
    ("abs(z) ** 2", lambda z: fnp.abs(z) ** 2),
    (".real + .imag", lambda z: z.real * 2 + z.imag * 3),
    (".conj()", lambda z: z.conj() * z),
    ("abs(z) [Python abs]", lambda z: abs(z)),
    ("sum", fnp.sum),
    ("mean", fnp.mean),
    ("prod", fnp.prod),
    ("cumsum", fnp.cumsum),
    ("cumprod", fnp.cumprod),
    ("var", fnp.var),
    ("std", fnp.std),
    ("norm", fnp.linalg.norm),
    ("norm[ord=1]", lambda z: fnp.linalg.norm(z, 1)),
    ("norm[ord=3]", lambda z: fnp.linalg.norm(z, 3)),
    ("norm[ord=inf]", lambda z: fnp.linalg.norm(z, np.inf)),
    ("reshape/transpose/index", lambda z: fnp.transpose(fnp.reshape(z, (3, 1)))[0, ::-1] * z[1]),
    ("where", lambda z: fnp.where(np.array([True, False, True]), z * z, fnp.exp(z))),
    ("where[real branch]", lambda z: fnp.where(np.array([True, False, True]), z, 2.0)),
    ("vdot", lambda z: fnp.vdot(z, W)),
    ("vdot[conjugated operand]", lambda z: fnp.vdot(W, z * z)),
    ("outer", lambda z: fnp.outer(z, W)),
    ("inner", lambda z: fnp.inner(z, W)),
    ("concatenate with a real array", lambda z: fnp.concatenate([z, X]) * 1j),
])
def test_more_rules_on_complex_inputs(name, f):
    check_rules(f, Z)


@pytest.mark.parametrize("name, f", [
    ("multiply", fnp.multiply), ("divide", fnp.divide), ("add", fnp.add),
    ("subtract", fnp.subtract), ("power", fnp.power),
    ("matmul", lambda a, b: fnp.matmul(fnp.reshape(a, (3, 1)), fnp.reshape(b, (1, 3)))),
    ("dot", fnp.dot),
    ("einsum", lambda a, b: fnp.einsum("i,j->ij", a, b * b)),
    ("tensordot", lambda a, b: fnp.tensordot(fnp.outer(a, b), b, axes=1)),
])
def test_binary_rules_on_complex_inputs(name, f):
    check_rules(f, Z, W)


@pytest.mark.parametrize("name, f", [
    ("multiply", fnp.multiply), ("divide", fnp.divide), ("add", fnp.add),
    ("subtract", fnp.subtract), ("power[real base]", lambda x, z: fnp.power(-x, z)),
    ("matmul", lambda x, z: fnp.outer(x, z) @ z),
    ("where", lambda x, z: fnp.where(x > 0, x, z)),
    ("astype real -> complex", lambda x, z: fnp.astype(x, np.complex128) * z),
    ("stack", lambda x, z: fnp.stack([x, z]) * 1j),
])
def test_real_and_complex_operands_mix(name, f):
    # The real operand's gradient is real: the real part of its complex cotangent.
    check_rules(f, X, Z)


def test_astype_complex_to_real_keeps_the_real_part():
    # NumPy warns on the user's own complex -> real cast (so does funcgrad's forward pass);
    # the JVP is the real part of the tangent and the VJP complex(ct, 0).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        check_rules(lambda z: fnp.astype(z, np.float64) * 2, Z)
        _, pull = fg.vjp(lambda z: fnp.astype(z, np.float64), Z)
        np.testing.assert_array_equal(pull(np.array([1.0, 2.0, 3.0]))[0], [1 + 0j, 2 + 0j, 3 + 0j])
        np.testing.assert_array_equal(fg.jvp(lambda z: fnp.astype(z, np.float64), (Z,), (W,))[1],
                                      W.real)


def test_mixed_real_complex_broadcasting():
    # x real (3, 1) broadcast against z complex (3,): each x_i meets all three z_j.
    x = X.reshape(3, 1)
    check_rules(lambda x, z: x * z + x / (z + 2), x, Z)
    check_rules(lambda s, z: fnp.sum(s * z, axis=0), np.float64(1.5), Z)
    g = fg.grad(lambda x: fnp.sum(fnp.abs(x * Z)))(x)
    np.testing.assert_allclose(g, np.sum(np.abs(Z)) * np.sign(x), rtol=1e-14)   # d|x z| = |z| sign x
    assert g.dtype == np.float64 and g.shape == (3, 1)


@pytest.mark.parametrize("name, f", [
    ("det", fnp.linalg.det),
    ("inv", fnp.linalg.inv),
    ("solve", lambda a: fnp.linalg.solve(a, M2)),
    ("solve[b]", lambda b: fnp.linalg.solve(M, b)),
    ("slogdet.logabsdet", lambda a: fnp.linalg.slogdet(a)[1]),
    ("slogdet.sign", lambda a: fnp.linalg.slogdet(a)[0]),
    ("norm[fro]", lambda a: fnp.linalg.norm(a, "fro")),
    ("norm[1]", lambda a: fnp.linalg.norm(a, 1)),
    ("matmul", lambda a: a @ M2 @ a),
    ("trace of a.T a", lambda a: fnp.trace(a.T @ a)),
])
def test_linalg_rules_on_complex_matrices(name, f):
    check_rules(f, M)


def test_slogdet_of_complex_matrix_matches_numpy():
    sign, logabsdet = fnp.linalg.slogdet(M)
    ref = np.linalg.slogdet(M)
    np.testing.assert_allclose(sign, ref[0], rtol=1e-14)
    np.testing.assert_allclose(logabsdet, ref[1], rtol=1e-14)
    assert np.isrealobj(logabsdet)


def test_forward_values_of_complex_reductions_match_numpy():
    assert fnp.var(Z) == pytest.approx(np.var(Z), rel=1e-14) and np.isrealobj(fnp.var(Z))
    assert fnp.std(Z) == pytest.approx(np.std(Z), rel=1e-14)
    assert fnp.linalg.norm(Z) == pytest.approx(np.linalg.norm(Z), rel=1e-14)
    assert fnp.linalg.norm(M, "fro") == pytest.approx(np.linalg.norm(M, "fro"), rel=1e-14)
    assert fnp.vdot(Z, W) == pytest.approx(np.vdot(Z, W), rel=1e-14)
    np.testing.assert_allclose(fnp.angle(Z, deg=True), np.angle(Z, deg=True), rtol=1e-14)


def test_second_order_through_complex_rules():
    # L = |z|^2 sums to grad 2 conj(z); its jvp along t is 2 conj(t) (the rules differentiate again)
    t = W
    _, dg = fg.jvp(fg.grad(lambda z: fnp.sum(fnp.abs(z) ** 2)), (Z,), (t,))
    np.testing.assert_allclose(dg, 2 * np.conj(t), rtol=1e-13)
    # and in general against finite differences of the gradient
    grad_l = fg.grad(lambda z: fnp.sum(fnp.real(fnp.exp(z) * fnp.conj(z)) + fnp.angle(z)))
    _, dg = fg.jvp(grad_l, (Z,), (t,))
    np.testing.assert_allclose(dg, fd_jvp(grad_l, Z, t), rtol=1e-6, atol=1e-7)


def test_abs_and_angle_at_zero_are_finite():
    # abs: conj(z)/|z| is taken as 0 at z = 0 (as JAX); angle: 0 there (JAX gives NaN, see docs)
    z = np.zeros(2, complex)
    assert np.all(fg.grad(lambda z: fnp.sum(fnp.abs(z)))(z) == 0)
    assert np.all(fg.grad(lambda z: fnp.sum(fnp.angle(z)))(z) == 0)
    assert np.all(fg.jvp(fnp.abs, (z,), (z + 1 + 1j,))[1] == 0)


def test_vmap_and_jit_of_the_complex_parts():
    zs = np.stack([Z, W, Z * W])
    for f in (fnp.real, fnp.imag, fnp.conj, fnp.angle, fnp.abs):
        np.testing.assert_allclose(fg.vmap(f)(zs), [f(z) for z in zs], rtol=1e-15)
        np.testing.assert_allclose(fg.jit(f)(Z), f(Z), rtol=1e-15)
        gl = fg.grad(lambda z: fnp.sum(fnp.real(f(z) * W)))
        np.testing.assert_allclose(fg.vmap(gl)(zs), [gl(z) for z in zs], rtol=1e-14)
        np.testing.assert_allclose(fg.jit(gl)(Z), gl(Z), rtol=1e-14)


def test_tracer_attributes():
    def f(z):
        assert z.real.dtype == np.float64 and z.imag.dtype == np.float64
        return fnp.sum(z.real ** 2 - z.imag + fnp.real(z.conjugate() * z.conj()))
    # L = sum(x^2 - y + x^2 - y^2): dL/dx = 4x, dL/dy = -1 - 2y, so grad = 4x + i(1 + 2y)
    np.testing.assert_allclose(fg.grad(f)(Z), 4 * Z.real + 1j * (1 + 2 * Z.imag), rtol=1e-14)


# -- holomorphic= ----------------------------------------------------------------------------
def test_holomorphic_grad_is_the_complex_derivative():
    # d/dz z^2 = 2z = 2 + 4j at 1 + 2j (jax 0.10.2: grad(lambda z: z*z, holomorphic=True) = (2+4j))
    assert fg.grad(lambda z: z * z, holomorphic=True)(np.array(1 + 2j)) == 2 + 4j
    # d/dz sin(z) exp(z) = (cos z + sin z) exp z
    z = np.array(0.3 - 0.7j)
    value, g = fg.value_and_grad(lambda z: fnp.sin(z) * fnp.exp(z), holomorphic=True)(z)
    np.testing.assert_allclose(value, np.sin(z) * np.exp(z), rtol=1e-15)
    np.testing.assert_allclose(g, (np.cos(z) + np.sin(z)) * np.exp(z), rtol=1e-14)


def test_holomorphic_jacobians_and_hessian():
    z = np.array([1 + 2j, 2j])
    # d z^3 / dz = diag(3 z^2) = diag(-9 + 12j, -12) (jax 0.10.2 jacrev/jacfwd holomorphic)
    expected = np.diag(3 * z ** 2)
    np.testing.assert_allclose(fg.jacrev(lambda z: z ** 3, holomorphic=True)(z), expected, rtol=1e-14)
    np.testing.assert_allclose(fg.jacfwd(lambda z: z ** 3, holomorphic=True)(z), expected, rtol=1e-14)
    # d^2 sum(z^3) / dz^2 = diag(6z) = diag(6 + 12j, 12j) (jax 0.10.2: hessian(..., holomorphic=True))
    np.testing.assert_allclose(fg.hessian(lambda z: fnp.sum(z ** 3), holomorphic=True)(z),
                               np.diag(6 * z), rtol=1e-14)


def test_non_holomorphic_jacobians_of_mixed_functions():
    # jacrev of a real output of complex inputs: rows are JAX gradients, conj(z)/|z| for abs
    z = np.array([1 + 2j])
    np.testing.assert_allclose(fg.jacrev(fnp.abs)(z), [[(1 - 2j) / np.sqrt(5)]], rtol=1e-14)
    # jacfwd of a complex output of real inputs: d(x i)/dx = i
    np.testing.assert_allclose(fg.jacfwd(lambda x: x * 1j)(np.array([1.0])), [[1j]])


@pytest.mark.parametrize("call, cls, words", [
    (lambda: fg.grad(lambda z: z * z)(np.array(1 + 2j)), NonScalarOutputError,
     ["complex128", "floating", "holomorphic=True", "vjp"]),
    (lambda: fg.value_and_grad(lambda x: x * 1j)(np.array(1.0)), NonScalarOutputError,
     ["complex128", "holomorphic=True"]),
    (lambda: fg.grad(fnp.abs, holomorphic=True)(np.array(1 + 2j)), NonScalarOutputError,
     ["holomorphic=True", "complex output", "float64"]),
    (lambda: fg.grad(lambda x: x * x, holomorphic=True)(np.array(1.0)), DTypeError,
     ["holomorphic=True", "inputs", "float64"]),
    (lambda: fg.jacrev(lambda z: z * z)(np.array([1 + 2j])), DTypeError,
     ["jacrev", "real-valued outputs", "complex128", "holomorphic=True", "vjp"]),
    (lambda: fg.jacrev(fnp.abs, holomorphic=True)(np.array([1 + 2j])), DTypeError,
     ["jacrev", "holomorphic=True", "outputs", "float64"]),
    (lambda: fg.jacrev(lambda z: z * 1j, holomorphic=True)(np.array([1.0])), DTypeError,
     ["jacrev", "holomorphic=True", "inputs", "float64"]),
    (lambda: fg.jacfwd(fnp.abs)(np.array([1 + 2j])), DTypeError,
     ["jacfwd", "real-valued inputs", "complex128", "holomorphic=True", "jvp"]),
    (lambda: fg.jacfwd(lambda z: z * z, holomorphic=True)(np.array([1.0])), DTypeError,
     ["jacfwd", "holomorphic=True", "inputs", "float64"]),
    (lambda: fg.jacfwd(fnp.abs, holomorphic=True)(np.array([1 + 2j])), DTypeError,
     ["jacfwd", "holomorphic=True", "outputs", "float64"]),
    (lambda: fg.hessian(lambda z: fnp.sum(fnp.abs(z)))(np.array([1 + 2j])), DTypeError,
     ["jacfwd", "real-valued inputs", "complex128"]),
])
def test_refusals_say_what_was_expected_and_suggest_the_fix(call, cls, words):
    # The same cases as JAX's TypeErrors (jax 0.10.2), with our error classes.
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, TypeError)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_no_complex_warning_anywhere():
    # The old rules dropped imaginary parts through ndarray.astype with a ComplexWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fg.grad(lambda b: fnp.sum(fnp.abs(1.0 + 1j * b)))(np.array([2.0]))
        fg.jvp(fnp.abs, (np.array([3 + 4j]),), (np.array([1 + 1j]),))
        fg.grad(lambda x: fnp.sum(fnp.real(fnp.astype(x, complex) * W)))(X)
