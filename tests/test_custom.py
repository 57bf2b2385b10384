"""User-defined derivatives (``custom_vjp``, ``custom_jvp``) and the library functions built
on them (``funcgrad.scipy.special``: ``logsumexp``, ``softmax``, ``log_softmax``).

Each custom rule is chosen to differ from the true derivative somewhere (a clipped
gradient, a straight-through estimator, a derivative scaled on purpose), so the
tests can tell that the rule is what was used.  The special functions are checked
against closed forms at logits of size 1e3 and against finite differences.
"""

import doctest

import numpy as np
import pytest

import funcgrad.numpy as fnp
import funcgrad.scipy
from funcgrad import (
    custom_jvp,
    custom_vjp,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    make_graph,
    value_and_grad,
    vjp,
    vmap,
)
from funcgrad.errors import ArgumentError, ShapeError, TreeStructureError
from funcgrad.scipy import special
from funcgrad.scipy.special import log_softmax, logsumexp, softmax
from funcgrad.testing import check_grads

RNG = np.random.default_rng(3)


# -- custom_vjp ------------------------------------------------------------------------

@custom_vjp
def clip_gradient(x):
    """The identity, whose gradient is clipped to [-1, 1]."""
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (fnp.clip(g, -1.0, 1.0),))


@custom_vjp
def ste_round(x):
    """Rounding with a straight-through (identity) gradient."""
    return fnp.round(x)


ste_round.defvjp(lambda x: (fnp.round(x), None), lambda _, g: (g,))


@custom_vjp
def scaled_product(w, x):
    """sum(w * x), whose gradient in w is 10 times the true one (to show the rule is used)."""
    return fnp.sum(w * x)


scaled_product.defvjp(lambda w, x: (fnp.sum(w * x), (w, x)),
                      lambda res, g: (10.0 * g * res[1], g * res[0]))


@custom_vjp
def sin_vjp(x):
    return fnp.sin(x)


sin_vjp.defvjp(lambda x: (fnp.sin(x), (x, fnp.cos(x))), lambda res, g: (g * res[1],))


def test_custom_vjp_clipped_gradient_is_used():
    x = np.array([1.0, -2.0, 3.0])
    # the true derivative of sum(5 * x) is 5; the rule clips it to 1
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(5.0 * clip_gradient(x)))(x), np.ones(3))
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(-0.5 * clip_gradient(x)))(x),
                                  np.full(3, -0.5))
    np.testing.assert_array_equal(clip_gradient(x), x)


def test_straight_through_estimator():
    x = np.array([0.4, 1.6, -2.3])
    np.testing.assert_array_equal(ste_round(x), np.round(x))
    # the true derivative of round is 0 almost everywhere; the rule passes g through
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(ste_round(x) * x))(x), np.round(x) + x)


def test_custom_vjp_with_two_arguments_and_pytree_residuals():
    w, x = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    gw, gx = grad(scaled_product, argnums=(0, 1))(w, x)
    np.testing.assert_array_equal(gw, 10.0 * x)
    np.testing.assert_array_equal(gx, w)
    value, pullback = vjp(scaled_product, w, x)
    assert float(value) == -5.0
    gw, gx = pullback(2.0)
    np.testing.assert_array_equal(gw, 20.0 * x)
    np.testing.assert_array_equal(gx, 2.0 * w)


def test_custom_vjp_vector_output_and_vjp():
    x = np.array([0.5, 1.0, -0.3])
    out, pullback = vjp(sin_vjp, x)
    np.testing.assert_allclose(out, np.sin(x), rtol=1e-15)
    ct = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(pullback(ct)[0], ct * np.cos(x), rtol=1e-15)
    check_grads(sin_vjp, (x,), order=1, modes="rev")  # a custom_vjp has no forward mode


def test_grad_of_grad_of_custom_vjp_differentiates_the_backward_rule():
    # bwd = g * cos(x) is written in funcgrad ops, so it differentiates again
    for x in (0.5, -1.2):
        assert float(grad(grad(sin_vjp))(x)) == pytest.approx(-np.sin(x), rel=1e-14)
    check_grads(sin_vjp, (np.array([0.5, -1.2]),), order=2, modes="rev")


def test_bwd_may_return_none_for_a_zero_cotangent():
    @custom_vjp
    def first_only(x, y):
        return x * y

    first_only.defvjp(lambda x, y: (x * y, y), lambda y, g: (g * y, None))
    gx, gy = grad(first_only, argnums=(0, 1))(2.0, 3.0)
    assert float(gx) == 3.0 and float(gy) == 0.0


def test_vmap_of_custom_vjp_keeps_the_rule():
    xs = np.array([[1.0, -2.0], [3.0, 0.5]])
    np.testing.assert_array_equal(vmap(clip_gradient)(xs), xs)
    # per-example gradients through the clipped rule
    g = vmap(grad(lambda x: fnp.sum(4.0 * clip_gradient(x))))(xs)
    np.testing.assert_array_equal(g, np.ones((2, 2)))
    # gradient of a batched computation
    g = grad(lambda xs: fnp.sum(3.0 * vmap(clip_gradient)(xs)))(xs)
    np.testing.assert_array_equal(g, np.ones((2, 2)))


def test_vmap_of_custom_vjp_with_an_unbatched_argument_sums_its_cotangents():
    w, xs = np.array([1.0, 2.0]), RNG.normal(size=(5, 2))
    values = vmap(scaled_product, in_axes=(None, 0))(w, xs)
    np.testing.assert_allclose(values, xs @ w, rtol=1e-15)
    g = grad(lambda w: fnp.sum(vmap(scaled_product, in_axes=(None, 0))(w, xs)))(w)
    np.testing.assert_allclose(g, 10.0 * xs.sum(axis=0), rtol=1e-14)
    per_example = vmap(grad(scaled_product), in_axes=(None, 0))(w, xs)
    np.testing.assert_allclose(per_example, 10.0 * xs, rtol=1e-15)


def test_custom_vjp_has_no_forward_mode():
    for transform in (lambda f: jvp(f, (np.ones(2),), (np.ones(2),)),
                      lambda f: jacfwd(f)(np.ones(2)),
                      lambda f: hessian(lambda x: fnp.sum(f(x)))(np.ones(2))):
        with pytest.raises(ArgumentError, match="forward mode"):
            transform(sin_vjp)
    # reverse-mode Jacobians are fine
    np.testing.assert_allclose(jacrev(sin_vjp)(np.ones(2)), np.diag(np.cos(np.ones(2))))


def test_custom_vjp_errors():
    @custom_vjp
    def no_rules(x):
        return x

    with pytest.raises(ArgumentError, match=r"custom_vjp\[no_rules\].*defvjp"):
        no_rules(np.ones(2))

    @custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(lambda x: (2.0 * x, None), lambda _, g: (2.0 * g, g))     # one too many
    with pytest.raises(ArgumentError, match=r"custom_vjp\[double\].*tuple of 1 cotangents, one per differentiable argument; got a tuple of 2"):
        grad(double)(1.0)
    double.defvjp(lambda x: (2.0 * x, None), lambda _, g: 2.0 * g)         # not a tuple
    with pytest.raises(ArgumentError, match="tuple"):
        grad(double)(1.0)

    @custom_vjp
    def named(x):
        return {"a": x, "b": "text"}

    named.defvjp(lambda x: (named(x), None), lambda _, g: (g["a"],))
    with pytest.raises(ArgumentError, match=r"custom_vjp\[named\].*\['b'\] is str"):
        grad(lambda x: fnp.sum(named(x)["a"]))(np.ones(2))


# -- custom_jvp ------------------------------------------------------------------------

@custom_jvp
def clipped_cube(x):
    """x ** 3, whose derivative 3 x^2 is clipped to [-1, 1] by its rule."""
    return x ** 3


@clipped_cube.defjvp
def _clipped_cube_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return x ** 3, fnp.clip(3.0 * x * x, -1.0, 1.0) * t


@custom_jvp
def log1pexp(x):
    """log(1 + exp(x)); its derivative 1 - 1/(1 + exp(x)) stays finite for large x."""
    return fnp.log1p(fnp.exp(x))


log1pexp.defjvp(lambda p, t: (log1pexp(p[0]), (1.0 - 1.0 / (1.0 + fnp.exp(p[0]))) * t[0]))


def test_defjvp_works_as_a_decorator():
    # the decorated name still refers to the rule (defjvp returns it)
    out, tan = _clipped_cube_jvp((np.array(2.0),), (np.array(3.0),))
    assert float(out) == 8.0 and float(tan) == 3.0


def test_custom_jvp_rule_is_used_by_jvp_and_grad():
    # inside the clip: the true derivative 3 x^2; outside: the clipped value 1
    for x, d in ((0.3, 0.27), (2.0, 1.0), (-5.0, 1.0)):
        out, tan = jvp(clipped_cube, (x,), (2.0,))
        assert float(out) == pytest.approx(x ** 3) and float(tan) == pytest.approx(2.0 * d)
        assert float(grad(clipped_cube)(x)) == pytest.approx(d)


def test_grad_of_grad_and_hessian_of_custom_jvp_differentiate_the_rule():
    # d/dx clip(3x^2, -1, 1) = 6x inside the clip, 0 outside
    assert float(grad(grad(clipped_cube))(0.3)) == pytest.approx(1.8)
    assert float(grad(grad(clipped_cube))(2.0)) == 0.0
    H = hessian(lambda x: fnp.sum(clipped_cube(x)))(np.array([0.3, 2.0]))
    np.testing.assert_allclose(H, np.diag([1.8, 0.0]), atol=1e-14)
    check_grads(clipped_cube, (np.array([0.3, -0.4]),), order=2)


def test_custom_jvp_gives_a_finite_derivative_where_the_naive_one_overflows():
    x = np.array([-3.0, 0.0, 5.0, 1000.0])
    sigmoid = 1.0 / (1.0 + np.exp(-x[:3]))
    with np.errstate(over="ignore"):   # the value log1p(exp(1000)) overflows; the derivative must not
        g = grad(lambda x: fnp.sum(log1pexp(x)))(x)
        _, tan = jvp(log1pexp, (x,), (np.ones(4),))
    np.testing.assert_allclose(g[:3], sigmoid, rtol=1e-13)
    assert g[3] == 1.0
    np.testing.assert_array_equal(tan, g)


def test_custom_jvp_with_two_arguments_and_a_constant_argument():
    @custom_jvp
    def prod(x, y):
        return x * y

    # dx is scaled by 10 on purpose, to tell the rule from the true derivative
    prod.defjvp(lambda p, t: (p[0] * p[1], 10.0 * t[0] * p[1] + p[0] * t[1]))
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    _, tan = jvp(prod, (x, y), (np.ones(2), np.zeros(2)))
    np.testing.assert_array_equal(tan, 10.0 * y)
    gx, gy = grad(lambda x, y: fnp.sum(prod(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 10.0 * y)
    np.testing.assert_array_equal(gy, x)
    # y as a constant: its tangent is a zero the rule still receives
    _, tan = jvp(lambda x: prod(x, y), (x,), (np.ones(2),))
    np.testing.assert_array_equal(tan, 10.0 * y)


def test_vmap_of_custom_jvp_and_its_compositions():
    xs = np.array([0.3, 2.0, -0.1])
    d = np.clip(3 * xs ** 2, -1, 1)
    np.testing.assert_allclose(vmap(clipped_cube)(xs), xs ** 3, rtol=1e-15)
    np.testing.assert_allclose(vmap(grad(clipped_cube))(xs), d, rtol=1e-14)
    np.testing.assert_allclose(grad(lambda xs: fnp.sum(vmap(clipped_cube)(xs)))(xs), d,
                               rtol=1e-14)
    np.testing.assert_allclose(jvp(vmap(clipped_cube), (xs,), (np.ones(3),))[1], d, rtol=1e-14)
    np.testing.assert_allclose(vmap(lambda x: jvp(clipped_cube, (x,), (1.0,))[1])(xs), d,
                               rtol=1e-14)


def test_custom_jvp_errors():
    @custom_jvp
    def no_rule(x):
        return x

    with pytest.raises(ArgumentError, match=r"custom_jvp\[no_rule\].*defjvp"):
        no_rule(np.ones(2))

    @custom_jvp
    def pair(x):
        return x, x

    pair.defjvp(lambda p, t: ((p[0], p[0]), t[0]))     # the tangent is not a pair
    with pytest.raises(TreeStructureError, match=r"custom_jvp\[pair\].*tangent has structure"):
        jvp(pair, (np.ones(2),), (np.ones(2),))


def test_custom_functions_are_one_node_in_a_graph():
    text = str(make_graph(lambda x: clip_gradient(x) + clipped_cube(x))(np.ones(2)))
    assert "custom_vjp[clip_gradient]" in text and "custom_jvp[clipped_cube]" in text
    assert "pow" not in text and "power" not in text


# -- funcgrad.scipy.special ------------------------------------------------------------

def np_logsumexp(x, axis=None, keepdims=False):
    """The closed form, max-shifted in NumPy."""
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    """x - max - log(sum(exp(x - max))): the closed form, stable in NumPy too."""
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


BIG = np.array([[1000.0, 1001.0, 999.5, 1000.25],
                 [-1000.0, -999.0, -1002.0, -1000.5],
                 [3.0, -2.0, 0.5, 1.0]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_values_at_large_logits(axis, keepdims):
    got = logsumexp(BIG, axis=axis, keepdims=keepdims)
    expected = np_logsumexp(BIG, axis=axis, keepdims=keepdims)
    assert np.shape(got) == np.shape(expected) == np.shape(np.sum(BIG, axis=axis,
                                                                  keepdims=keepdims))
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_logsumexp_known_values():
    assert float(logsumexp(np.array([1000.0, 1000.0]))) == pytest.approx(1000 + np.log(2),
                                                                         rel=1e-15)
    assert float(logsumexp(np.array([-1000.0, -1000.0]))) == pytest.approx(-1000 + np.log(2),
                                                                           rel=1e-15)
    assert float(logsumexp(np.array([0.0, np.log(3.0)]))) == pytest.approx(np.log(4.0))
    assert float(logsumexp(2.5)) == 2.5


def test_logsumexp_with_infinities():
    with np.errstate(divide="ignore"):
        assert float(logsumexp(np.array([-np.inf, 0.0]))) == 0.0
        assert float(logsumexp(np.array([-np.inf, -np.inf]))) == -np.inf
        assert float(logsumexp(np.array([np.inf, 0.0]))) == np.inf
        np.testing.assert_array_equal(grad(logsumexp)(np.array([-np.inf, 0.0])), [0.0, 1.0])


def test_logsumexp_keeps_float32():
    x = BIG.astype(np.float32)
    out = logsumexp(x, axis=1)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np_logsumexp(BIG, axis=1), rtol=1e-6)
    assert grad(lambda x: fnp.sum(logsumexp(x, axis=1)))(x).dtype == np.float32


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 1), None], ids=str)
def test_softmax_and_log_softmax_values_at_large_logits(axis):
    s, ls = softmax(BIG, axis=axis), log_softmax(BIG, axis=axis)
    ax = axis if axis is not None else (0, 1)
    expected_ls = np_log_softmax(BIG, axis=ax)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(ls))
    # |x| ~ 1e3: the subtraction leaves absolute errors of a few 1e3 * machine epsilon
    np.testing.assert_allclose(ls, expected_ls, rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(s, np.exp(expected_ls), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(np.sum(s, axis=ax), 1.0, rtol=1e-14)


def test_softmax_default_axis_is_last():
    np.testing.assert_allclose(softmax(BIG), np_softmax(BIG, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(BIG), np_log_softmax(BIG, axis=-1), atol=1e-12)


def test_gradient_of_logsumexp_is_softmax_at_large_logits():
    g = grad(lambda x: fnp.sum(logsumexp(x, axis=1)))(BIG)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, np_softmax(BIG, axis=1), rtol=1e-14)
    # jvp: sum(softmax * t) along the reduced axis
    t = RNG.normal(size=BIG.shape)
    _, tan = jvp(lambda x: logsumexp(x, axis=1), (BIG,), (t,))
    np.testing.assert_allclose(tan, np.sum(np_softmax(BIG, axis=1) * t, axis=1), rtol=1e-13)


def test_hessian_of_logsumexp_is_diag_s_minus_s_s_transpose():
    for x in (BIG[0], BIG[1], BIG[2]):
        s = np_softmax(x)
        H = hessian(logsumexp)(x)
        assert np.all(np.isfinite(H))
        np.testing.assert_allclose(H, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


def test_jacobian_of_softmax_by_reverse_mode():
    x = BIG[0]
    s = np_softmax(x)
    np.testing.assert_allclose(jacrev(softmax)(x), np.diag(s) - np.outer(s, s), rtol=1e-12,
                               atol=1e-15)
    np.testing.assert_allclose(jacfwd(log_softmax)(x), np.eye(4) - s[None, :], rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_gradients_order_2(axis, keepdims):
    x = RNG.normal(size=(3, 4)) * 3
    check_grads(lambda x: logsumexp(x, axis=axis, keepdims=keepdims), (x,), order=2)


@pytest.mark.parametrize("axis", [0, -1, (0, 1)], ids=str)
def test_log_softmax_gradients_order_2(axis):
    check_grads(lambda x: log_softmax(x, axis=axis), (RNG.normal(size=(3, 4)) * 3,), order=2)


@pytest.mark.parametrize("axis", [0, -1, (0, 1)], ids=str)
def test_softmax_gradients(axis):
    x = RNG.normal(size=(3, 4)) * 3
    # both rules are written in funcgrad ops: both modes, and second order
    check_grads(lambda x: softmax(x, axis=axis), (x,), order=2)


def test_gradients_near_large_logits_match_finite_differences():
    # shifted by 1e3 (finite differences at 1e3 would lose digits; the derivative is shift-invariant)
    x = BIG[0] - 1000.0
    for f in (logsumexp, lambda x: log_softmax(x)[1], lambda x: softmax(x)[2]):
        np.testing.assert_allclose(grad(f)(BIG[0]), grad(f)(x), rtol=1e-13, atol=1e-16)
    check_grads(logsumexp, (x,), order=2)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = BIG * 1.0
    labels = np.eye(4)[[1, 3, 0]]
    loss = lambda z: -fnp.mean(fnp.sum(labels * log_softmax(z), axis=1))
    value, g = value_and_grad(loss)(logits)
    ls = np_log_softmax(logits, axis=1)
    assert float(value) == pytest.approx(-np.mean(np.sum(labels * ls, axis=1)), rel=1e-14)
    np.testing.assert_allclose(g, (np_softmax(logits, axis=1) - labels) / 3, rtol=1e-12,
                               atol=1e-16)


def test_special_functions_under_vmap():
    np.testing.assert_allclose(vmap(logsumexp)(BIG), np_logsumexp(BIG, axis=1), rtol=1e-15)
    np.testing.assert_allclose(vmap(logsumexp, in_axes=1)(BIG), np_logsumexp(BIG, axis=0),
                               rtol=1e-15)
    np.testing.assert_allclose(vmap(softmax)(BIG), np_softmax(BIG, axis=1), rtol=1e-14)
    np.testing.assert_allclose(vmap(log_softmax, in_axes=1, out_axes=1)(BIG),
                               np_log_softmax(BIG, axis=0), atol=1e-12)
    # per-row gradients, both ways round
    np.testing.assert_allclose(vmap(grad(logsumexp))(BIG), np_softmax(BIG, axis=1), rtol=1e-14)
    np.testing.assert_allclose(grad(lambda x: fnp.sum(vmap(logsumexp)(x)))(BIG),
                               np_softmax(BIG, axis=1), rtol=1e-14)
    s = np_softmax(BIG, axis=1)
    np.testing.assert_allclose(vmap(grad(lambda r: softmax(r)[0]))(BIG),
                               s[:, :1] * (np.eye(4)[0] - s), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(grad(lambda x: fnp.sum(vmap(softmax)(x)[:, 0]))(BIG),
                               s[:, :1] * (np.eye(4)[0] - s), rtol=1e-12, atol=1e-300)


def test_special_functions_under_jvp_compositions():
    t = RNG.normal(size=BIG.shape)
    s = np_softmax(BIG, axis=1)
    expected = np.sum(s * t, axis=1)
    np.testing.assert_allclose(jvp(vmap(logsumexp), (BIG,), (t,))[1], expected, rtol=1e-13)
    np.testing.assert_allclose(vmap(lambda x, t: jvp(logsumexp, (x,), (t,))[1])(BIG, t),
                               expected, rtol=1e-13)
    # log_softmax inherits logsumexp's rule, so forward mode works: t - sum(s * t)
    np.testing.assert_allclose(jvp(log_softmax, (BIG,), (t,))[1], t - expected[:, None],
                               rtol=1e-12, atol=1e-14)
    # Hessian-vector product of logsumexp: (diag(s) - s s^T) v
    x, v = BIG[0], t[0]
    hv = jvp(grad(logsumexp), (x,), (v,))[1]
    np.testing.assert_allclose(hv, s[0] * v - s[0] * (s[0] @ v), rtol=1e-12, atol=1e-15)
    # softmax has a forward rule of its own: s * (t - sum(s * t)), as exp(log_softmax) gives
    np.testing.assert_allclose(jvp(softmax, (BIG,), (t,))[1], s * (t - expected[:, None]),
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(jvp(lambda x: fnp.exp(log_softmax(x)), (BIG,), (t,))[1],
                               s * (t - expected[:, None]), rtol=1e-12, atol=1e-300)


def test_special_functions_are_single_custom_nodes():
    text = str(make_graph(lambda x: softmax(x) + logsumexp(x, axis=1, keepdims=True))(BIG))
    assert "softmax axes=(1,)" in text and "logsumexp axes=(1,) keepdims=True" in text
    assert "exp" not in text.replace("logsumexp", "")


def test_bad_axis_is_a_clear_error():
    from funcgrad.errors import ShapeError

    with pytest.raises(ShapeError, match="axis"):
        logsumexp(np.ones((2, 3)), axis=2)
    with pytest.raises(ShapeError, match="axis"):
        softmax(np.ones(3), axis=1)


@pytest.mark.parametrize("module", [funcgrad.scipy, special])
def test_special_docstring_examples(module):
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE,
                                      extraglobs={"np": np})  # as tests/test_docstrings.py
    assert tried > 0 and failures == 0


def test_custom_function_on_a_python_scalar_returns_an_array():
    @custom_jvp
    def cube(x):
        return x ** 3

    cube.defjvp(lambda p, t: (p[0] ** 3, 3 * p[0] ** 2 * t[0]))
    assert np.asarray(cube(2.0)) == 8.0
    assert grad(cube)(2.0) == 12.0


def test_wrong_shaped_custom_derivatives_are_shape_errors_naming_the_rule():
    @custom_jvp
    def f(x):
        return x * 2.0

    f.defjvp(lambda p, t: (p[0] * 2.0, fnp.sum(t[0])))
    with pytest.raises(ShapeError, match=r"custom_jvp\[f\].*tangent has shape \(\).*\(2,\)"):
        jvp(f, (np.ones(2),), (np.ones(2),))

    @custom_vjp
    def h(x):
        return x * 2.0

    h.defvjp(lambda x: (x * 2.0, None), lambda res, g: (fnp.sum(g),))
    with pytest.raises(ShapeError, match=r"custom_vjp\[h\].*bwd's cotangent 0 has shape \(\)"):
        grad(lambda x: fnp.sum(h(x)))(np.ones(2))

