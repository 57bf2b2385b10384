"""Parity of the transformation API with JAX (issue 12, item 5).

* forward mode through ``softmax`` (jvp, jacfwd, hessian, Hessian-vector products through
  an attention block), against finite differences, reverse mode and JAX reference values;
* ``jit`` on methods, ``donate_argnums``/``donate_argnames``, ``static_argnames`` passed by
  position and ``static_argnums`` passed by keyword;
* ``grad``/``value_and_grad``/``jacrev`` with ``allow_int``;
* ``vmap`` with ``axis_size``;
* ``grad`` with ``argnums`` and keyword arguments.
"""

import dataclasses
import functools
import importlib
import pkgutil

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.scipy.special import log_softmax, softmax
from funcgrad.transforms import float0

RNG = np.random.default_rng(12)
FLOAT0 = np.dtype([("float0", np.void, 0)])  # jax.dtypes.float0, spelled out


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def fd_jvp(f, x, v, eps=1e-6):
    """Central finite difference of ``f`` at ``x`` along ``v``."""
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


# == 1. forward mode through softmax ====================================================
@pytest.mark.parametrize("axis", [-1, 0, None, (0, 1)], ids=str)
def test_softmax_jvp_matches_finite_differences_and_the_closed_form(axis):
    x, t = RNG.normal(size=(3, 4)) * 2, RNG.normal(size=(3, 4))
    out, tangent = fg.jvp(lambda x: softmax(x, axis=axis), (x,), (t,))
    s = np_softmax(x, axis=axis)
    np.testing.assert_allclose(out, s, rtol=1e-14)
    np.testing.assert_allclose(tangent, s * (t - np.sum(s * t, axis=axis, keepdims=True)),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tangent, fd_jvp(lambda x: np_softmax(x, axis=axis), x, t),
                               rtol=1e-6, atol=1e-9)


def test_softmax_jacfwd_equals_jacrev_and_the_closed_form():
    x = RNG.normal(size=5) * 3
    s = np_softmax(x)
    expected = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(fg.jacfwd(softmax)(x), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fg.jacrev(softmax)(x), expected, rtol=1e-12, atol=1e-15)
    # nn.softmax is the same function, over the last axis of a batch
    xb = RNG.normal(size=(2, 3))
    jf, jr = fg.jacfwd(nn.softmax)(xb), fg.jacrev(nn.softmax)(xb)
    assert jf.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-15)


def test_softmax_hessian_matches_finite_differences_of_the_gradient():
    x, w = RNG.normal(size=4), RNG.normal(size=4)
    f = lambda x: fnp.sum(w * softmax(x))
    h = fg.hessian(f)(x)
    g = fg.grad(f)
    fd = np.stack([fd_jvp(g, x, e) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-15)
    # reverse over reverse agrees with forward over reverse
    np.testing.assert_allclose(fg.jacrev(fg.grad(f))(x), h, rtol=1e-12, atol=1e-14)


def test_softmax_forward_mode_in_float32_keeps_the_dtype():
    x, t = RNG.normal(size=(2, 3)).astype(np.float32), RNG.normal(size=(2, 3)).astype(np.float32)
    out, tangent = fg.jvp(softmax, (x,), (t,))
    assert out.dtype == tangent.dtype == np.float32
    s = np_softmax(x.astype(np.float64))
    np.testing.assert_allclose(tangent, s * (t - np.sum(s * t, axis=-1, keepdims=True)),
                               rtol=1e-5, atol=1e-6)


def test_softmax_forward_mode_under_vmap_and_jit():
    x, t = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))
    s = np_softmax(x)
    expected = s * (t - np.sum(s * t, axis=-1, keepdims=True))
    per_row = fg.vmap(lambda x, t: fg.jvp(softmax, (x,), (t,))[1])(x, t)
    np.testing.assert_allclose(per_row, expected, rtol=1e-12, atol=1e-15)
    jitted = fg.jit(lambda x, t: fg.jvp(softmax, (x,), (t,))[1], backend="numpy")
    np.testing.assert_allclose(jitted(x, t), expected, rtol=1e-12, atol=1e-15)
    # vmap over a non-leading axis moves softmax's axis with it
    np.testing.assert_allclose(fg.vmap(softmax, in_axes=1, out_axes=1)(x), np_softmax(x, axis=0),
                               rtol=1e-14)


# A small attention block: one head, inputs X (3 tokens, width 2), parameters wq, wk, wv.
ATT_X = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
ATT_P = {"wq": np.array([[0.5, -0.3], [0.2, 0.8]]), "wk": np.array([[-0.4, 0.1], [0.7, 0.3]]),
         "wv": np.array([[0.6, -0.2], [0.1, 0.9]])}
ATT_V = {"wq": np.array([[1.0, 0.0], [-0.5, 0.25]]), "wk": np.array([[0.0, 1.0], [0.3, -0.2]]),
         "wv": np.array([[0.2, 0.4], [-1.0, 0.5]])}
# jvp(grad(loss), (ATT_P,), (ATT_V,)) and loss(ATT_P), generated with jax 0.10.2
# (jax_enable_x64=True, jax.nn.softmax) from the same loss.
ATT_HVP_JAX = {
    "wq": np.array([[0.06323186406188148, 0.05465093062052231],
                    [0.10201490735757515, 0.2362635458094441]]),
    "wk": np.array([[-0.03910281981814864, 0.04872917746273147],
                    [-0.03910281981814866, 0.04872917746273145]]),
    "wv": np.array([[0.4009067699982494, 0.1218065382490892],
                    [-0.1727719729437851, 0.2572949390137597]]),
}
ATT_LOSS_JAX = -0.05021597336614031


def attention_loss(p):
    q, k, v = ATT_X @ p["wq"], ATT_X @ p["wk"], ATT_X @ p["wv"]
    a = softmax(q @ k.T / np.sqrt(2.0), axis=-1)
    out = a @ v
    return fnp.sum(out ** 2) + fnp.sum(out[:, 0])


def test_hessian_vector_product_through_attention():
    assert float(attention_loss(ATT_P)) == pytest.approx(ATT_LOSS_JAX, rel=1e-14)
    hvp = fg.jvp(fg.grad(attention_loss), (ATT_P,), (ATT_V,))[1]
    g = fg.grad(attention_loss)
    eps = 1e-6
    plus = g({k: ATT_P[k] + eps * ATT_V[k] for k in ATT_P})
    minus = g({k: ATT_P[k] - eps * ATT_V[k] for k in ATT_P})
    # reverse over reverse: grad of <grad(loss), v>
    rr = fg.grad(lambda p: sum(fnp.sum(g(p)[k] * ATT_V[k]) for k in ATT_P))(ATT_P)
    for k in ATT_P:
        np.testing.assert_allclose(hvp[k], ATT_HVP_JAX[k], rtol=1e-12, atol=1e-15, err_msg=k)
        np.testing.assert_allclose(hvp[k], (plus[k] - minus[k]) / (2 * eps), rtol=1e-6,
                                   atol=1e-8, err_msg=k)
        np.testing.assert_allclose(rr[k], hvp[k], rtol=1e-12, atol=1e-15, err_msg=k)


def test_hessian_vector_product_through_attention_under_jit():
    hvp = fg.jit(lambda p, v: fg.jvp(fg.grad(attention_loss), (p,), (v,))[1],
                 backend="numpy")(ATT_P, ATT_V)
    for k in ATT_P:
        np.testing.assert_allclose(hvp[k], ATT_HVP_JAX[k], rtol=1e-12, atol=1e-15, err_msg=k)


def test_cross_entropy_hessian_through_log_softmax_is_the_softmax_covariance():
    # d2/dz2 of -log_softmax(z)[c] is diag(s) - s s^T, whatever the label c
    z = RNG.normal(size=4)
    s = np_softmax(z)
    h = fg.hessian(lambda z: nn.softmax_cross_entropy(z[None, :], np.array([2])))(z)
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    h2 = fg.hessian(lambda z: -log_softmax(z)[2])(z)
    np.testing.assert_allclose(h2, h, rtol=1e-12, atol=1e-15)


_RULE_MODULES = ("funcgrad.ops", "funcgrad.numpy", "funcgrad.scipy", "funcgrad.nn")


def _primitives():
    found = {}
    for name in _RULE_MODULES:
        package = importlib.import_module(name)
        modules = [package] + [importlib.import_module(m.name)
                               for m in pkgutil.walk_packages(package.__path__, name + ".")]
        for module in modules:
            for attr, value in vars(module).items():
                if isinstance(value, Primitive):
                    found.setdefault(id(value), (f"{module.__name__}.{attr}", value))
    return sorted(found.values(), key=lambda pair: pair[0])


def test_every_primitive_with_a_reverse_rule_has_a_forward_rule():
    prims = _primitives()
    assert any(p.name == "softmax" for _, p in prims)
    missing = [where for where, p in prims
               if (p.vjp_rules is not None or p.vjp_argnum is not None)
               and p.jvp_rules is None and p.jvp_rule is None]
    assert missing == []


# == 2. jit as a method decorator ===========================================================
@dataclasses.dataclass
class Scaler:
    """A pytree (a dataclass of arrays): as ``self`` it is an ordinary, traced argument."""

    w: np.ndarray

    @fg.jit
    def apply(self, x):
        return fnp.tanh(self.w * x)


class Config:
    """Hashable and not a pytree: as ``self`` it must be static."""

    def __init__(self, power):
        self.power = power

    def __hash__(self):
        return hash(self.power)

    def __eq__(self, other):
        return isinstance(other, Config) and other.power == self.power

    @functools.partial(fg.jit, static_argnums=0)
    def apply(self, x):
        return x ** self.power if self.power > 1 else -x   # Python control flow on self


def test_jit_method_binds_self_like_a_function():
    x = np.linspace(-1, 1, 3)
    a, b = Scaler(np.full(3, 2.0)), Scaler(np.full(3, 3.0))
    Scaler.apply.clear_cache()
    np.testing.assert_allclose(a.apply(x), np.tanh(2.0 * x), rtol=1e-15)
    np.testing.assert_allclose(b.apply(x), np.tanh(3.0 * x), rtol=1e-15)
    np.testing.assert_allclose(Scaler.apply(a, x), np.tanh(2.0 * x), rtol=1e-15)
    # self's leaves are traced: two instances of one signature share one trace
    info = a.apply.cache_info()
    assert (info.misses, info.size, info.hits) == (1, 1, 2)
    Scaler(np.ones(4)).apply(np.ones(4))
    assert "argument 0 ('self')" in Scaler.apply.cache_info().retraces[0]
    # differentiable through self like any argument: d/dw tanh(w x) = x (1 - tanh^2)
    g = fg.grad(lambda s: fnp.sum(s.apply(x)))(a)
    np.testing.assert_allclose(g.w, x * (1 - np.tanh(2.0 * x) ** 2), rtol=1e-14)


def test_jit_method_with_a_static_self_caches_per_distinct_instance():
    x = np.array([1.5, -2.0])
    Config.apply.clear_cache()
    np.testing.assert_allclose(Config(2).apply(x), x ** 2)
    np.testing.assert_allclose(Config(3).apply(x), x ** 3)
    np.testing.assert_allclose(Config(2).apply(x), x ** 2)     # equal to the first: a hit
    np.testing.assert_allclose(Config(1).apply(x), -x)
    info = Config.apply.cache_info()
    assert (info.misses, info.size, info.hits) == (3, 3, 1)


def test_jit_method_with_a_plain_self_says_to_mark_it_static():
    class Plain:
        @fg.jit
        def f(self, x):
            return x

    with pytest.raises(ArgumentError, match=r"argument 0 \('self'\).*static_argnames=\('self',\)"):
        Plain().f(np.ones(2))


# == 3. donate_argnums / donate_argnames ===================================================
def test_donated_arguments_are_accepted_and_left_intact():
    f = fg.jit(lambda x, y: x * 2 + y, donate_argnums=0, backend="numpy")
    x, y = np.arange(3.0), np.ones(3)
    np.testing.assert_allclose(f(x, y), 2 * np.arange(3.0) + 1)
    np.testing.assert_array_equal(x, np.arange(3.0))   # not invalidated: still readable
    g = fg.jit(lambda x, y: x - y, donate_argnames="y", backend="numpy")
    np.testing.assert_allclose(g(x, y=y), np.arange(3.0) - 1)
    assert g.donate_argnums == (1,) and g.donate_argnames == ("y",)   # inferred, as in JAX
    assert fg.jit(lambda x, y: x, donate_argnums=-1).donate_argnums == (1,)


@pytest.mark.parametrize("kwargs, match", [
    ({"donate_argnums": 2}, r"donate_argnums=\(2,\) is out of range.*2 positional"),
    ({"donate_argnums": (0, -3)}, "out of range"),
    ({"donate_argnames": "z"}, r"donate_argnames names \['z'\]"),
    ({"static_argnums": 0, "donate_argnums": 0}, "both static and donated"),
    ({"static_argnames": "y", "donate_argnames": "y"}, "both static and donated"),
    ({"donate_argnums": "0"}, "must be ints"),
], ids=str)
def test_bad_donate_arguments_are_clear_errors_when_jit_is_called(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        fg.jit(lambda x, y: x + y, **kwargs)


def test_donate_argnums_of_a_variadic_function_are_checked_per_call():
    f = fg.jit(lambda *xs: xs[0] + xs[-1], donate_argnums=1, backend="numpy")
    np.testing.assert_allclose(f(np.ones(2), np.ones(2)), 2 * np.ones(2))
    with pytest.raises(ArgumentError, match="donate_argnums contains 1.*1 positional"):
        f(np.ones(2))


# == 4. grad(allow_int=True) ===============================================================
def test_allow_int_gives_float0_zero_gradients():
    f = lambda x, n: x ** 2 * n
    gx, gn = fg.grad(f, argnums=(0, 1), allow_int=True)(3.0, 4)
    assert gx == pytest.approx(24.0)          # 2 x n
    assert gn.dtype == FLOAT0 and gn.shape == () and gn.itemsize == 0
    assert float0 == FLOAT0
    g = fg.grad(lambda x: fnp.sum(x * 1.5), allow_int=True)(np.arange(3, dtype=np.int32))
    assert g.dtype == FLOAT0 and g.shape == (3,)
    g = fg.grad(lambda m: fnp.sum(fnp.where(m, 1.0, 0.0)), allow_int=True)(np.array([True, False]))
    assert g.dtype == FLOAT0 and g.shape == (2,)


def test_allow_int_in_a_pytree_and_in_value_and_grad():
    params = {"w": np.array([1.0, -2.0]), "steps": np.array(3), "mask": np.array([True, False])}
    f = lambda p: fnp.sum(p["w"] * p["steps"] * p["mask"])
    value, g = fg.value_and_grad(f, allow_int=True)(params)
    assert value == pytest.approx(3.0)
    np.testing.assert_allclose(g["w"], [3.0, 0.0])
    assert g["steps"].dtype == g["mask"].dtype == FLOAT0
    assert g["mask"].shape == (2,)
    # second order: the integer stays a constant of the inner derivative
    assert fg.grad(fg.grad(lambda x, n: x ** 3 * n, allow_int=True), allow_int=True)(2.0, 3) \
        == pytest.approx(36.0)


def test_allow_int_under_jit_and_vmap():
    g = fg.grad(lambda x, n: x ** 2 * n, argnums=(0, 1), allow_int=True)
    gx, gn = fg.jit(g, backend="numpy")(3.0, 4)
    assert gx == pytest.approx(24.0) and gn.dtype == FLOAT0 and gn.shape == ()
    # per example: 2 x n, and one float0 zero per example
    gx, gn = fg.vmap(g)(np.arange(3.0), np.array([1, 2, 3]))
    np.testing.assert_allclose(gx, 2 * np.arange(3.0) * [1, 2, 3])
    assert gn.dtype == FLOAT0 and gn.shape == (3,)


def test_without_allow_int_an_integer_input_is_a_dtype_error_naming_the_option():
    with pytest.raises(DTypeError, match="int64.*allow_int=True"):
        fg.grad(lambda x, n: x * n, argnums=(0, 1))(2.0, np.int64(3))
    with pytest.raises(DTypeError, match="allow_int=True"):
        fg.jacrev(lambda n: n * 1.0)(np.arange(2))
    with pytest.raises(DTypeError, match="with allow_int=True inputs may be floating"):
        fg.grad(lambda s: 1.0, allow_int=True)(np.array("a"))


def test_jacrev_allow_int_gives_zero_blocks_of_the_input_dtype():
    # JAX's jacrev returns zeros of the integer input's dtype, shaped out_shape + in_shape
    jn, jy = fg.jacrev(lambda n, y: n[:2] * y, argnums=(0, 1), allow_int=True)(
        np.arange(3), np.array([2.0, 5.0]))
    assert jn.dtype == np.int64 and jn.shape == (2, 3) and not jn.any()
    np.testing.assert_allclose(jy, np.diag([0.0, 1.0]))


# == 5. vmap(axis_size=...) ================================================================
def test_vmap_axis_size_batches_when_no_argument_is_batched():
    out = fg.vmap(lambda x: fnp.sin(x), in_axes=None, axis_size=4)(np.array([0.5, 1.0]))
    np.testing.assert_allclose(out, np.broadcast_to(np.sin([0.5, 1.0]), (4, 2)))
    np.testing.assert_allclose(fg.vmap(lambda: np.float64(1.5), axis_size=3)(), [1.5] * 3)
    out = fg.vmap(lambda x: x * 2, in_axes=None, axis_size=2, out_axes=1)(np.ones(3))
    assert out.shape == (3, 2)
    # with a batched argument it must agree, and then changes nothing
    xs = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(fg.vmap(fnp.sum, axis_size=3, axis_name="batch")(xs), xs.sum(1))
    # under grad: d/da sum over 3 copies of a * 2 = 6
    assert fg.grad(lambda a: fnp.sum(fg.vmap(lambda x: x * a, in_axes=None, axis_size=3)(2.0)))(
        1.5) == pytest.approx(6.0)


def test_vmap_axis_size_errors():
    with pytest.raises(ShapeError, match=r"axis_size=4, but argument 0 .*has 3"):
        fg.vmap(lambda x: x, axis_size=4)(np.ones(3))
    with pytest.raises(ArgumentError, match="batches no argument.*axis_size must be given"):
        fg.vmap(lambda x: x, in_axes=None)(np.ones(3))
    with pytest.raises(ArgumentError, match="without array arguments.*axis_size"):
        fg.vmap(lambda: 1.0)()
    with pytest.raises(ArgumentError, match="axis_size must be an int"):
        fg.vmap(lambda x: x, axis_size=2.5)
    with pytest.raises(ArgumentError, match="non-negative"):
        fg.vmap(lambda x: x, axis_size=-1)


# == 6. static_argnames, static_argnums and argnums with keyword arguments =================
def scaled(x, n=2):
    if n > 2:          # Python control flow on a static argument
        return x * n
    return -x * n


def test_static_argnames_given_by_position_is_static_as_in_jax():
    f = fg.jit(scaled, static_argnames="n", backend="numpy")
    x = np.ones(2)
    np.testing.assert_allclose(f(x), -2 * x)            # the default, static
    np.testing.assert_allclose(f(x, n=3), 3 * x)
    np.testing.assert_allclose(f(x, 4), 4 * x)          # by position: static all the same
    assert f.static_argnums == (1,)


def test_static_argnums_given_by_keyword_is_static_as_in_jax():
    f = fg.jit(scaled, static_argnums=1, backend="numpy")
    np.testing.assert_allclose(f(np.ones(2), n=5), 5 * np.ones(2))
    np.testing.assert_allclose(f(np.ones(2)), -2 * np.ones(2))
    assert f.static_argnames == ("n",)


def test_unknown_static_argnames_and_out_of_range_static_argnums_are_errors():
    with pytest.raises(ArgumentError, match=r"static_argnames names \['m'\].*\('x', 'n'\)"):
        fg.jit(scaled, static_argnames="m")
    with pytest.raises(ArgumentError, match="static_argnums=.*out of range"):
        fg.jit(scaled, static_argnums=2)
    # with **kwargs, any name may be static
    f = fg.jit(lambda x, **kw: x * kw["k"], static_argnames="k", backend="numpy")
    np.testing.assert_allclose(f(np.ones(2), k=3), 3 * np.ones(2))


def test_grad_argnums_count_positional_arguments_and_keywords_are_not_differentiated():
    f = lambda x, y: x ** 2 * y
    assert fg.grad(f)(3.0, y=2.0) == pytest.approx(12.0)         # y held fixed
    gx, gy = fg.grad(f, argnums=(0, 1))(3.0, 2.0)
    assert (gx, gy) == (pytest.approx(12.0), pytest.approx(9.0))
    with pytest.raises(ArgumentError, match="keyword argument 'y', which are never differentiated"):
        fg.grad(f, argnums=(0, 1))(3.0, y=2.0)
    with pytest.raises(ArgumentError, match="never differentiated"):
        fg.jacrev(f, argnums=1)(3.0, y=2.0)
