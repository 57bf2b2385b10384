"""``fnp.fft`` beyond the op table: complex inputs, every kind, norm, ``n``/``s`` and axes.

The op table (``tests/op_records_fft.py``) runs one record per function through the
generated tests.  Here: values against NumPy for complex and real inputs; gradients
against central finite differences along the real *and* imaginary direction of each
input element (JAX's convention: ``grad`` of a real loss ``L`` at ``z = x + iy`` is
``∂L/∂x − i ∂L/∂y``); JVPs of complex functions against finite differences along
complex tangents; the transpose identity ``Re<u, jvp(v)> == Re<vjp(u), v>`` (no
conjugation) for every transform kind; a few gradients generated once with JAX; vmap
without the loop fallback; jit on both backends; float32; and NumPy's errors.
"""

import re
import sys
from unittest import mock

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.backends import get_backend
from funcgrad.ops.fft import fft_p

vmap_module = sys.modules["funcgrad.transforms.vmap"]
RNG = np.random.default_rng(20240611)


def crandn(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


# -- helpers -----------------------------------------------------------------------------
def fd_grad(f, z, eps=1e-6):
    """``∂f/∂x − i ∂f/∂y`` (real ``z``: ``∂f/∂x``) of a real scalar ``f`` by central differences."""
    z = np.asarray(z)
    g = np.zeros(z.shape, z.dtype)
    directions = [1.0, 1j] if z.dtype.kind == "c" else [1.0]
    for idx in np.ndindex(z.shape):
        for d in directions:
            e = np.zeros(z.shape, z.dtype)
            e[idx] = d * eps
            slope = (f(z + e) - f(z - e)) / (2 * eps)
            g[idx] += slope if d == 1.0 else -1j * slope
    return g


def fd_jvp(f, z, t, eps=1e-6):
    return (f(z + eps * t) - f(z - eps * t)) / (2 * eps)


def loss_of(f, out_example, seed=0):
    """A real, non-linear scalar of ``f``'s (complex or real) output: second derivatives are not zero."""
    rng = np.random.default_rng(seed)
    shape = np.shape(out_example)
    wr, wi = rng.standard_normal(shape), rng.standard_normal(shape)

    def loss(z):
        y = f(z)
        r, i = (fnp.real(y), fnp.imag(y)) if np.iscomplexobj(out_example) else (y, 0.0)
        return fnp.sum(r * wr) + fnp.sum(fnp.sin(i * wi)) + 0.25 * fnp.sum(r * r)

    return loss


# Every kind, with and without n, each norm, axis choices; (id, funcgrad call, NumPy call, input).
def _case(name, input_, **kw):
    return pytest.param(lambda a: getattr(fnp.fft, name)(a, **kw),
                        lambda a: getattr(np.fft, name)(a, **kw), input_,
                        id=f"{name}[{','.join(f'{k}={v}' for k, v in kw.items())}]")


Z1, X1 = crandn(6), RNG.standard_normal(6)
Z2, X2 = crandn(3, 4), RNG.standard_normal((3, 4))
Z3, X3 = crandn(2, 3, 4), RNG.standard_normal((2, 3, 4))
CASES = [
    _case("fft", Z1), _case("fft", X1), _case("fft", Z2, n=6, axis=0, norm="ortho"),
    _case("fft", Z1, n=4, norm="forward"),
    _case("ifft", Z1), _case("ifft", Z2, n=2, norm="ortho"), _case("ifft", X2, axis=0, norm="forward"),
    _case("rfft", X1), _case("rfft", X1, n=9, norm="ortho"), _case("rfft", X2, n=3, axis=0, norm="forward"),
    _case("irfft", Z1), _case("irfft", Z1, n=7), _case("irfft", Z2, n=4, axis=0, norm="ortho"),
    _case("irfft", X1, n=5, norm="forward"),
    _case("hfft", Z1), _case("hfft", Z2, n=9, norm="ortho"), _case("hfft", Z2, n=2, axis=0, norm="forward"),
    _case("ihfft", X1), _case("ihfft", X1, n=11, norm="ortho"), _case("ihfft", X2, n=2, axis=0, norm="forward"),
    _case("fftn", Z3), _case("fftn", Z3, s=(5, 2), axes=(2, 0), norm="ortho"),
    _case("fftn", Z2, s=(4, 2), axes=(1, 1)),  # an axis listed twice is transformed twice
    _case("ifftn", Z3, axes=(1,), norm="forward"), _case("ifftn", X2, s=(2, 5), axes=(0, 1)),
    _case("fft2", Z3), _case("fft2", X2, s=(4, 4), norm="ortho"), _case("ifft2", Z3, axes=(0, 2)),
    _case("rfftn", X3), _case("rfftn", X3, s=(3, 4), axes=(2, 1), norm="ortho"),
    _case("rfftn", X2, s=(4, 6), axes=(1, 1)),
    _case("rfft2", X3, norm="forward"), _case("rfft2", X2, s=(2, 7)),
    _case("irfftn", Z3), _case("irfftn", Z3, s=(3, 5), axes=(0, 2), norm="ortho"),
    _case("irfftn", Z2, s=(4, 6), axes=(1, 1)),
    _case("irfft2", Z3, norm="forward"), _case("irfft2", Z2, s=(2, 3)),
    _case("fftshift", Z3), _case("fftshift", X2, axes=1), _case("ifftshift", Z3, axes=(0, -1)),
    _case("ifftshift", X1),
]


# -- values ------------------------------------------------------------------------------
@pytest.mark.parametrize("fun, ref, a", CASES)
def test_values_match_numpy_eager_traced_and_abstract(fun, ref, a):
    expected = ref(a)
    for got in (fun(a), fg.vjp(fun, a)[0]):
        assert (got.shape, got.dtype) == (expected.shape, expected.dtype)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    (node,) = fg.make_graph(fun)(a).outputs
    assert (node.shape, node.dtype) == (expected.shape, expected.dtype)


@pytest.mark.parametrize("fun, ref, a", CASES)
def test_values_float32_and_complex64(fun, ref, a):
    a32 = a.astype(np.complex64 if a.dtype.kind == "c" else np.float32)
    expected, got = ref(a32), fg.vjp(fun, a32)[0]
    assert (got.shape, got.dtype) == (expected.shape, expected.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


# -- derivatives -------------------------------------------------------------------------
@pytest.mark.parametrize("fun, ref, a", CASES)
def test_grad_matches_finite_differences_along_real_and_imaginary_parts(fun, ref, a):
    loss = loss_of(fun, ref(a))
    g = fg.grad(loss)(a)
    assert (g.shape, g.dtype) == (a.shape, a.dtype)
    np.testing.assert_allclose(g, fd_grad(loss, a), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fun, ref, a", CASES)
def test_second_order_grad_matches_finite_differences(fun, ref, a):
    loss = loss_of(fun, ref(a))
    grad = fg.grad(loss)
    v = RNG.standard_normal(a.shape) + (1j * RNG.standard_normal(a.shape) if a.dtype.kind == "c" else 0)
    # d/dh of the (real) directional derivative <grad, v> at a + h v: a Hessian quadratic form.
    directional = lambda z: np.real(np.sum(np.asarray(grad(z)) * v))
    hvv = fd_jvp(directional, a, v, eps=1e-5)
    _, hv = fg.jvp(grad, (a,), (v,))
    np.testing.assert_allclose(np.real(np.sum(hv * v)), hvv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fun, ref, a", CASES)
def test_jvp_matches_finite_differences_along_complex_tangents(fun, ref, a):
    t = RNG.standard_normal(a.shape) + (1j * RNG.standard_normal(a.shape) if a.dtype.kind == "c" else 0)
    out, tangent = fg.jvp(fun, (a,), (t,))
    assert (tangent.shape, tangent.dtype) == (out.shape, out.dtype)
    np.testing.assert_allclose(tangent, fd_jvp(ref, a, t), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fun, ref, a", CASES)
def test_vjp_is_the_transpose_of_jvp_without_conjugation(fun, ref, a):
    out, pullback = fg.vjp(fun, a)
    u = RNG.standard_normal(out.shape) + (1j * RNG.standard_normal(out.shape) if out.dtype.kind == "c" else 0)
    v = RNG.standard_normal(a.shape) + (1j * RNG.standard_normal(a.shape) if a.dtype.kind == "c" else 0)
    (ct,) = pullback(u)
    _, tangent = fg.jvp(fun, (a,), (v,))
    lhs, rhs = np.real(np.sum(ct * v)), np.real(np.sum(u * tangent))
    assert abs(lhs - rhs) <= 1e-10 * (1 + np.sum(np.abs(ct * v))), (lhs, rhs)


Z4 = np.array([1 + 2j, -0.5 + 0.25j, 0.75 - 1j, 2 + 0.5j])
X5 = np.array([0.5, -1.0, 2.0, 0.25, 1.5])


def test_grads_generated_with_jax():
    # Values generated with jax 0.10.2 (jax.grad of the same losses, x64 enabled).
    # irfft, n=6: closed form for the ends: d/dRe z0 = sum(w) / 6 = 3.5, d/dRe z3 (Nyquist)
    # = sum(w_j (-1)^j) / 6 = -0.5, and the ignored imaginary parts of z0 and z3 get 0.
    w6 = np.arange(1.0, 7.0)
    g = fg.grad(lambda z: fnp.sum(fnp.fft.irfft(z, n=6) * w6))(Z4)
    np.testing.assert_allclose(g, [3.5, -1 - 1.7320508075688772j, -1 - 0.5773502691896257j, -0.5],
                               rtol=1e-13, atol=1e-14)
    g = fg.grad(lambda z: fnp.sum(fnp.fft.hfft(z, n=7, norm="ortho") * np.arange(1.0, 8.0)))(Z4)
    np.testing.assert_allclose(g, [10.583005244258361, -2.64575131106459 + 5.493959207434934j,
                                   -2.64575131106459 + 2.109916264174742j,
                                   -2.6457513110645903 + 0.6038754716096767j], rtol=1e-13)
    w3 = np.arange(1.0, 4.0)
    g = fg.grad(lambda x: fnp.sum(fnp.imag(fnp.fft.rfft(x)) * w3)
                + fnp.sum(fnp.real(fnp.fft.rfft(x)) ** 2))(X5)
    np.testing.assert_allclose(g, [5.750000000000001, 0.8345312105322731, 10.552599044300514,
                                   7.197400955699486, 8.165468789467727], rtol=1e-13)
    # ihfft(x, 4, norm="forward") = sum_j x_j e^{+2 pi i jk/4} over x[:4]: Im parts are
    # sum_j x_j sin(pi jk/2), so the gradient is 2 * sin(pi j/2) for j < 4 and 0 for the cropped x4.
    g = fg.grad(lambda x: fnp.sum(fnp.imag(fnp.fft.ihfft(x, n=4, norm="forward")) * w3))(X5)
    np.testing.assert_allclose(g, [0.0, 2.0, 0.0, -2.0, 0.0], atol=1e-14)
    g = fg.grad(lambda z: fnp.sum((fnp.real(y := fnp.fft.fft(z, norm="ortho")) ** 2
                                   + fnp.imag(y) ** 2) * np.arange(1.0, 5.0)))(Z4)
    np.testing.assert_allclose(g, [3 - 7.75j, -3.25 + 0.5j, 1 + 5.25j, 5.75 - 1.5j], rtol=1e-13)


def test_round_trip_has_identity_gradient():
    x = RNG.standard_normal(7)
    for norm in (None, "ortho", "forward"):
        f = lambda x, norm=norm: fnp.sum(fnp.fft.irfft(fnp.fft.rfft(x, norm=norm), 7, norm=norm) * x)
        np.testing.assert_allclose(fg.grad(f)(x), 2 * x, rtol=1e-12)


def test_list_of_tracers_is_an_array_like():
    x = RNG.standard_normal(4)
    f = lambda x: fnp.sum(fnp.real(fnp.fft.fft([x, 2 * x], axis=0)))
    # sum over both frequencies of Re fft along axis 0 = 2 * first row = 2x: gradient 2.
    np.testing.assert_allclose(fg.grad(f)(x), np.full(4, 2.0), rtol=1e-14)


def test_fftfreq_differentiates_in_the_spacing():
    f = lambda d: fnp.sum(fnp.fft.fftfreq(6, d) * np.arange(6.0)) + fnp.sum(fnp.fft.rfftfreq(6, d))
    k, kr = np.fft.fftfreq(6), np.fft.rfftfreq(6)  # frequencies for d = 1; they scale as 1/d
    expected = -(np.sum(k * np.arange(6.0)) + np.sum(kr)) / 0.5 ** 2
    np.testing.assert_allclose(fg.grad(f)(0.5), expected, rtol=1e-14)
    np.testing.assert_array_equal(fnp.fft.fftfreq(6, 0.5), np.fft.fftfreq(6, 0.5))


# -- vmap and jit ------------------------------------------------------------------------
def _no_loop(prim, *args, **kwargs):
    raise AssertionError(f"vmap fell back to a loop over the batch for primitive {prim.name!r}")


@pytest.mark.parametrize("fun, ref, a", CASES)
@pytest.mark.parametrize("in_axis", [0, -1])
def test_vmap_is_native_and_matches_a_loop(fun, ref, a, in_axis):
    batch = np.stack([a, 2 * a + 1, -a], axis=in_axis)
    loss = loss_of(fun, ref(a))
    with mock.patch.object(vmap_module, "loop_rule", _no_loop):
        got = fg.vmap(fun, in_axes=in_axis)(batch)
        grads = fg.vmap(fg.grad(loss), in_axes=in_axis)(batch)
    elems = [np.take(batch, i, axis=in_axis) for i in range(3)]
    np.testing.assert_allclose(got, np.stack([ref(e) for e in elems]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads, np.stack([fg.grad(loss)(e) for e in elems]), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("fun, ref, a", CASES[::4])
def test_jit_and_jit_of_grad_equal_eager(fun, ref, a, backend):
    loss = loss_of(fun, ref(a))
    np.testing.assert_allclose(fg.jit(fun, backend=backend)(a), ref(a), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(loss), backend=backend)(a), fg.grad(loss)(a),
                               rtol=1e-12, atol=1e-12)


def test_numba_backend_runs_the_numpy_reference_for_fft():
    # No Numba FFT kernel: jit's Numba backend falls back to the primitive's NumPy reference.
    assert fft_p not in get_backend("numba").kernels
    assert get_backend("numba").kernels.get(fft_p, fft_p.impl) is fft_p.impl


def test_grad_float32_stays_float32():
    x = RNG.standard_normal((3, 8)).astype(np.float32)
    loss = lambda x: fnp.sum(fnp.fft.irfft(fnp.fft.rfft(x, axis=0) ** 2, 3, axis=0))
    g = fg.grad(loss)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, fg.grad(loss)(x.astype(np.float64)), rtol=1e-4, atol=1e-4)


# -- errors: NumPy's, on plain arrays and on traced values alike ----------------------------
ERRORS = [  # (id, function, array, keyword arguments, exception type, message)
    ("norm", "fft", np.ones(4), {"norm": "bad"}, ValueError, "Invalid norm value bad"),
    ("n=0", "rfft", np.ones(4), {"n": 0}, ValueError, "Invalid number of FFT data points (0)"),
    ("n float", "ifft", np.ones(4), {"n": 2.5}, TypeError, None),
    ("axis", "fft", np.ones((2, 3)), {"axis": 2}, IndexError, None),
    ("0-d", "fft", np.ones(()), {}, IndexError, None),
    ("irfft of one frequency", "irfft", np.ones(1), {}, ValueError,
     "Invalid number of FFT data points (0)"),
    ("s and axes", "fftn", np.ones((2, 3)), {"s": (2,), "axes": (0, 1)}, ValueError,
     "Shape and axes have different lengths"),
    ("s entry 0", "rfftn", np.ones((2, 3)), {"s": (2, 0), "axes": (0, 1)}, ValueError,
     "Invalid number of FFT data points (0)"),
    ("fft2 of 1-D", "fft2", np.ones(3), {}, IndexError, None),
    ("rfft of complex", "rfft", np.ones(4, complex), {}, TypeError, None),
]


@pytest.mark.parametrize("name, a, kw, exc, message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_numpys_errors(name, a, kw, exc, message):
    match = None if message is None else re.escape(message)
    with pytest.raises(exc, match=match):
        getattr(np.fft, name)(a, **kw)  # the reference behaviour
    with pytest.raises(exc, match=match):
        getattr(fnp.fft, name)(a, **kw)  # plain arrays
    with pytest.raises(exc, match=match):
        fg.vjp(lambda t: getattr(fnp.fft, name)(t, **kw), a)  # traced values


def test_s_without_axes_is_numpys_deprecated_behaviour():
    z = crandn(3, 4)
    with pytest.warns(DeprecationWarning):
        expected = np.fft.fftn(z, s=(2, 5))
    with pytest.warns(DeprecationWarning, match="axes"):
        got, _ = fg.vjp(lambda t: fnp.fft.fftn(t, s=(2, 5)), z)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_namespace():
    import funcgrad.numpy.fft as module

    assert fnp.fft is module
    assert sorted(module.__all__) == sorted(
        ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
         "ifftn", "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"])
    assert all(callable(getattr(module, name)) for name in module.__all__)


# -- the fused transposes of rfft and irfft ----------------------------------------------
@pytest.mark.parametrize("n", [8, 9])
@pytest.mark.parametrize("shape_axes", [((0,), (None,)), ((1,), (3, None)), ((0,), (None, 3)),
                                        ((0, 1), (4, None)), ((1, 0), (None, 4))])
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_transposes_match_numpy_hfft_and_ihfft(n, shape_axes, norm, dtype):
    # rfftᵀ(c) = hfft(c / w) and irfftᵀ(t) = w · ihfft(t) (NumPy's hfftn/ihfftn written out
    # as irfftn(conj) / conj(rfftn) with the norm swapped), also for a non-contiguous c.
    axes, shape = shape_axes[0], tuple(n if s is None else s for s in shape_axes[1])
    lengths = tuple(shape[a] for a in axes)
    swap = {"backward": "forward", "ortho": "ortho", "forward": "backward"}[norm]
    t = RNG.standard_normal(shape).astype(dtype)
    c = np.fft.rfftn(RNG.standard_normal(shape), axes=axes)
    c = (c + 1j * RNG.standard_normal(c.shape)).astype(np.result_type(dtype, np.complex64))
    m = lengths[-1]
    w = np.where((np.arange(m // 2 + 1) == 0) | (2 * np.arange(m // 2 + 1) == m), 1.0, 2.0)
    w = w.reshape((-1,) + (1,) * (len(shape) - 1 - axes[-1]))
    params = dict(axes=axes, lengths=lengths, norm=norm)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    expected_t = np.conj(np.fft.rfftn(t, axes=axes, norm=swap)) * w
    got_t = fft_p.bind(t, kind="irfft_t", **params)
    assert got_t.dtype == np.result_type(dtype, np.complex64)  # the input's precision
    np.testing.assert_allclose(got_t, expected_t, rtol=tol, atol=tol)
    expected_c = np.fft.irfftn(np.conj(c / w), s=lengths, axes=axes, norm=swap)
    for operand in (c, np.asfortranarray(c)):
        got_c = fft_p.bind(operand, kind="rfft_t", **params)
        assert got_c.dtype == dtype
        np.testing.assert_allclose(got_c, expected_c, rtol=tol, atol=tol)
