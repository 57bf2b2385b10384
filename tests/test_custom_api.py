"""custom_vjp and custom_jvp with JAX's API (issue 12): nondiff_argnums, keyword arguments,
pytree inputs and outputs, ``None`` cotangents, residuals stored by the operation (fwd runs
once), jit/vmap/second-order nestings, defjvps.  The rules and the special functions built on
them are in tests/test_custom.py.
"""

import functools

import numpy as np
import pytest

import funcgrad.numpy as fnp
from funcgrad import (
    custom_jvp,
    custom_vjp,
    grad,
    hessian,
    jacrev,
    jit,
    jvp,
    make_graph,
    tree,
    vmap,
)
from funcgrad.errors import ArgumentError, ShapeError, TreeStructureError

RNG = np.random.default_rng(5)

# -- JAX's API: nondiff_argnums, keyword arguments, pytrees, residuals stored -------------

def _counting_vjp():
    """``f(x, y) = sin(x) * y`` as a custom_vjp whose fwd counts its runs; dy scaled by 3."""
    runs = {"fwd": 0, "bwd": 0}

    @custom_vjp
    def f(x, y):
        return fnp.sin(x) * y

    def fwd(x, y):
        runs["fwd"] += 1
        return fnp.sin(x) * y, (fnp.cos(x), fnp.sin(x), y)

    def bwd(res, g):
        runs["bwd"] += 1
        cos_x, sin_x, y = res
        return g * cos_x * y, 3.0 * g * sin_x

    f.defvjp(fwd, bwd)
    return f, runs


X3 = np.array([0.3, -1.1, 2.0])
Y3 = np.array([1.5, 0.5, -2.0])


def test_fwd_runs_once_per_grad_call_and_bwd_reads_its_residuals():
    f, runs = _counting_vjp()
    loss = lambda x, y: fnp.sum(f(x, y) * f(x, y))
    gx, gy = grad(loss, argnums=(0, 1))(X3, Y3)
    assert runs == {"fwd": 2, "bwd": 2}                # once per call of f, never re-run
    v = np.sin(X3) * Y3
    np.testing.assert_allclose(gx, 2 * v * np.cos(X3) * Y3, rtol=1e-14)
    np.testing.assert_allclose(gy, 2 * v * 3.0 * np.sin(X3), rtol=1e-14)
    f(X3, Y3)                                          # plain arrays: the function itself
    assert runs == {"fwd": 2, "bwd": 2}


def test_custom_vjp_residuals_are_results_of_the_operation():
    f, _ = _counting_vjp()
    text = str(make_graph(lambda x, y: f(x, y))(X3, Y3))
    # one output and three residual leaves: four results
    assert "custom_vjp[f]" in text and "result index=0 count=4" in text


def test_custom_vjp_nondiff_argnums_are_passed_first_to_bwd():
    @functools.partial(custom_vjp, nondiff_argnums=(0,))
    def apply(fn, x):
        return fn(x)

    seen = []

    def fwd(fn, x):
        return fn(x), x

    def bwd(fn, x, g):          # fn first, as in JAX
        seen.append(fn)
        return (g * 10.0,)      # one cotangent: x (fn is not differentiable)

    apply.defvjp(fwd, bwd)
    g = grad(lambda x: fnp.sum(apply(fnp.sin, x)))(X3)
    np.testing.assert_array_equal(g, np.full(3, 10.0))
    assert seen == [fnp.sin]
    np.testing.assert_allclose(apply(fnp.sin, X3), np.sin(X3), rtol=1e-15)


def test_custom_vjp_keyword_arguments_resolve_to_positions():
    @custom_vjp
    def scale(x, factor=2.0):
        return x * factor

    scale.defvjp(lambda x, factor: (x * factor, factor), lambda factor, g: (g * factor * 10.0, None))
    # the default and a keyword are both positional for fwd/bwd
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(scale(x)))(X3), np.full(3, 20.0))
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(scale(x, factor=3.0)))(X3),
                                  np.full(3, 30.0))
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(scale(factor=0.5, x=x)))(X3),
                                  np.full(3, 5.0))
    with pytest.raises(ArgumentError, match=r"custom_vjp\[scale\].*signature"):
        scale(X3, nope=1.0)


def test_custom_vjp_pytree_inputs_outputs_and_none_cotangents():
    @custom_vjp
    def layer(params, x):
        h = fnp.tanh(params["w"] * x + params["b"])
        return {"h": h, "parts": (h * 2.0, fnp.sum(h))}

    def fwd(params, x):
        out = layer(params, x)
        return out, (params["w"], out["h"])

    def bwd(res, g):
        w, h = res
        gh = g["h"] + 2.0 * g["parts"][0] + g["parts"][1]
        d = gh * (1.0 - h * h)
        return {"w": None, "b": d}, d * w      # None: no gradient for w

    layer.defvjp(fwd, bwd)
    params = {"w": np.array([0.5, -1.0, 2.0]), "b": np.array([0.1, 0.2, -0.3])}

    def loss(p, x):
        out = layer(p, x)
        return fnp.sum(out["h"] ** 2) + out["parts"][1] + fnp.sum(out["parts"][0])

    def plain(p, x):
        h = fnp.tanh(p["w"] * x + p["b"])
        return fnp.sum(h ** 2) + fnp.sum(h) + fnp.sum(2.0 * h)

    gp, gx = grad(loss, argnums=(0, 1))(params, X3)
    wp, wx = grad(plain, argnums=(0, 1))(params, X3)
    np.testing.assert_array_equal(gp["w"], np.zeros(3))
    np.testing.assert_allclose(gp["b"], wp["b"], rtol=1e-14)
    np.testing.assert_allclose(gx, wx, rtol=1e-14)


def test_custom_vjp_bwd_structure_errors_name_the_argument():
    @custom_vjp
    def f(p):
        return p["a"] * p["b"]

    f.defvjp(lambda p: (f(p), p), lambda p, g: ({"a": g * p["b"]},))     # "b" missing
    with pytest.raises(TreeStructureError, match=r"custom_vjp\[f\].*argument 0 has structure"):
        grad(lambda p: fnp.sum(f(p)))({"a": X3, "b": Y3})
    f.defvjp(lambda p: (f(p), p), lambda p, g: ({"a": g * p["b"], "b": fnp.sum(g)},))
    with pytest.raises(ShapeError, match=r"custom_vjp\[f\].*cotangent 0 at \['b'\] has shape \(\)"):
        grad(lambda p: fnp.sum(f(p)))({"a": X3, "b": Y3})
    f.defvjp(lambda p: f(p), lambda p, g: (p,))
    with pytest.raises(ArgumentError, match=r"fwd must return a pair"):
        grad(lambda p: fnp.sum(f(p)))({"a": X3, "b": Y3})


def test_custom_vjp_closing_over_a_traced_value_is_an_error():
    def loss(w):
        @custom_vjp
        def f(x):
            return x * w

        f.defvjp(lambda x: (x * w, None), lambda _, g: (g,))
        return fnp.sum(f(X3))

    with pytest.raises(ArgumentError, match=r"custom_vjp\[f\].*traced value.*regular argument"):
        grad(loss)(Y3)
    with pytest.raises(ArgumentError, match="nondiff_argnums argument 1 is a traced value"):
        g = custom_vjp(lambda x, y: x * y, nondiff_argnums=(1,))
        g.defvjp(lambda x, y: (x * y, None), lambda y, _, g: (g,))
        grad(lambda y: fnp.sum(g(X3, y)))(Y3)


@pytest.mark.parametrize("transform", [
    lambda f: grad(f, argnums=(0, 1)),
    lambda f: jit(grad(f, argnums=(0, 1))),
    lambda f: grad(jit(f), argnums=(0, 1)),
    lambda f: jacrev(grad(f)),
    lambda f: jit(jacrev(grad(f))),
], ids=["grad", "jit-grad", "grad-jit", "grad-grad", "jit-grad-grad"])
def test_custom_vjp_under_jit_and_second_order(transform):
    # The rule is the true derivative here, so every nesting must agree with the plain function.
    f, _ = _counting_vjp()
    true = custom_vjp(lambda x, y: fnp.sin(x) * y)
    true.defvjp(lambda x, y: (fnp.sin(x) * y, (x, y)),
                lambda res, g: (g * fnp.cos(res[0]) * res[1], g * fnp.sin(res[0])))
    loss = lambda fn: lambda x, y: fnp.sum(fn(x, y) ** 2)
    got = transform(loss(true))(X3, Y3)
    want = transform(loss(lambda x, y: fnp.sin(x) * y))(X3, Y3)
    for a, b in zip(tree.leaves(got), tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    # and the deliberately scaled rule is used under jit
    gy = jit(grad(lambda x, y: fnp.sum(f(x, y)), argnums=1))(X3, Y3)
    np.testing.assert_allclose(gy, 3.0 * np.sin(X3), rtol=1e-14)


def test_custom_vjp_under_vmap_of_grad_and_grad_of_vmap():
    f, _ = _counting_vjp()
    xs = RNG.normal(size=(4, 3))
    per = vmap(grad(lambda x, y: fnp.sum(f(x, y)), argnums=1), in_axes=(0, None))(xs, Y3)
    np.testing.assert_allclose(per, 3.0 * np.sin(xs), rtol=1e-14)
    total = grad(lambda y: fnp.sum(vmap(f, in_axes=(0, None))(xs, y)))(Y3)
    # a sum of four terms of either sign: a few ulp of the largest, absolutely
    np.testing.assert_allclose(total, 3.0 * np.sin(xs).sum(axis=0), rtol=1e-14, atol=1e-15)
    out = jit(vmap(f, in_axes=(0, None)))(xs, Y3)
    np.testing.assert_allclose(out, np.sin(xs) * Y3, rtol=1e-15)


# -- custom_jvp: the same API ----------------------------------------------------------------

def test_custom_jvp_nondiff_argnums_and_keywords():
    @functools.partial(custom_jvp, nondiff_argnums=(1,))
    def power(x, n=3):
        return x ** n

    @power.defjvp
    def _power_jvp(n, primals, tangents):     # n first, as in JAX
        (x,), (t,) = primals, tangents
        return x ** n, 100.0 * n * x ** (n - 1) * t   # scaled to tell the rule apart

    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(jvp(lambda x: power(x, n=2), (x,), (np.ones(2),))[1],
                               200.0 * x, rtol=1e-15)
    np.testing.assert_allclose(grad(lambda x: fnp.sum(power(x)))(x), 300.0 * x ** 2, rtol=1e-15)
    np.testing.assert_allclose(power(x), x ** 3, rtol=1e-15)


def test_custom_jvp_pytree_inputs_and_outputs():
    @custom_jvp
    def polar(p):
        return {"r": fnp.hypot(p["x"], p["y"]), "theta": fnp.arctan2(p["y"], p["x"])}

    @polar.defjvp
    def _polar_jvp(primals, tangents):
        (p,), (t,) = primals, tangents
        r = fnp.hypot(p["x"], p["y"])
        dr = (p["x"] * t["x"] + p["y"] * t["y"]) / r
        dtheta = (p["x"] * t["y"] - p["y"] * t["x"]) / (r * r)
        return polar(p), {"r": dr, "theta": dtheta}

    p = {"x": np.array([1.0, -2.0]), "y": np.array([0.5, 3.0])}

    def plain(p):
        return {"r": fnp.hypot(p["x"], p["y"]), "theta": fnp.arctan2(p["y"], p["x"])}

    loss = lambda fn: lambda p: fnp.sum(fn(p)["r"] * fn(p)["theta"])
    batch = {k: np.stack([v, 2 * v]) for k, v in p.items()}
    for transform, arg in ((grad, p), (hessian, p), (lambda f: jit(grad(f)), p),
                           (lambda f: vmap(grad(f)), batch)):
        got, want = transform(loss(polar))(arg), transform(loss(plain))(arg)
        for a, b in zip(tree.leaves(got), tree.leaves(want)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_defjvps_one_rule_per_argument():
    @custom_jvp
    def f(x, y):
        return x * y

    f.defjvps(lambda tx, out, x, y: 10.0 * tx * y, None)   # y gets no derivative
    gx, gy = grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(X3, Y3)
    np.testing.assert_allclose(gx, 10.0 * Y3, rtol=1e-15)
    np.testing.assert_array_equal(gy, np.zeros(3))
    _, t = jvp(f, (X3, Y3), (np.ones(3), np.ones(3)))
    np.testing.assert_allclose(t, 10.0 * Y3, rtol=1e-15)


def test_custom_jvp_runs_the_function_on_values_eagerly():
    # Python control flow on values works in the function and in the rule (eager mode).
    @custom_jvp
    def relu_ish(x):
        return x if float(fnp.stop_gradient(fnp.sum(x))) > 0 else -x

    relu_ish.defjvp(lambda p, t: (relu_ish(p[0]), t[0]))
    np.testing.assert_array_equal(relu_ish(-X3), X3)
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(relu_ish(x)))(X3), np.ones(3))


def test_custom_vjp_with_an_integer_argument_to_second_order():
    @custom_vjp
    def f(x, n):
        return fnp.sin(x) * n

    f.defvjp(lambda x, n: (fnp.sin(x) * n, (fnp.cos(x), n)),
             lambda res, g: (g * res[0] * res[1], None))     # no cotangent for the integers
    n = np.array([1, 2, 3])
    np.testing.assert_allclose(grad(lambda x: fnp.sum(f(x, n)))(X3), np.cos(X3) * n, rtol=1e-15)
    # second order: the residual cos(x) is differentiated through fwd, n stays fixed
    hess = jacrev(grad(lambda x: fnp.sum(f(x, n))))(X3)
    np.testing.assert_allclose(hess, np.diag(-np.sin(X3) * n), rtol=1e-14, atol=1e-300)
