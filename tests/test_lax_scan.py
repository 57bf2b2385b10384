"""``lax.scan`` and ``lax.map`` under every transformation.

Each number is checked against the same computation written as a Python loop (eager,
and under eager ``grad``/``jvp``/``vmap``), and derivatives also against central finite
differences (``funcgrad.testing.check_grads``, orders 1 and 2, both modes).
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax, tree
from funcgrad.errors import ArgumentError, CarryError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
H, T = 3, 5
PARAMS = {"W": RNG.normal(size=(H, H)) * 0.5, "U": RNG.normal(size=(2, H)) * 0.5,
          "b": RNG.normal(size=H) * 0.1}
XS = RNG.normal(size=(T, 2))
H0 = RNG.normal(size=H) * 0.3


def rnn_step(params, state, x):
    """One step of an RNN with a pytree state (hidden vector, running sum)."""
    h = fnp.tanh(state["h"] @ params["W"] + x @ params["U"] + params["b"])
    return {"h": h, "total": state["total"] + fnp.sum(h * h)}, {"out": fnp.sin(h), "x2": x * x}


def rnn_scan(params, h0, xs, reverse=False):
    state, ys = lax.scan(lambda s, x: rnn_step(params, s, x), {"h": h0, "total": 0.0}, xs,
                         reverse=reverse)
    return state, ys


def rnn_loop(params, h0, xs, reverse=False):
    state, outs = {"h": h0, "total": 0.0}, [None] * len(xs)
    for t in (reversed(range(len(xs))) if reverse else range(len(xs))):
        state, outs[t] = rnn_step(params, state, xs[t])
    return state, tree.map(lambda *ys: fnp.stack(ys), *outs)


def loss(run):
    def f(params, h0, xs):
        state, ys = run(params, h0, xs)
        return state["total"] + fnp.sum(state["h"] * ys["out"][-1]) + fnp.sum(ys["out"] ** 2)
    return f


def assert_trees_close(got, want, rtol=1e-12, atol=1e-13):
    assert tree.structure(got) == tree.structure(want)
    for g, w in zip(tree.leaves(got), tree.leaves(want)):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# -- values ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
def test_values_match_a_python_loop(reverse):
    got = rnn_scan(PARAMS, H0, XS, reverse)
    assert_trees_close(got, rnn_loop(PARAMS, H0, XS, reverse))
    assert np.asarray(got[0]["total"]).dtype == np.float64


def test_numpy_cumsum_and_reverse_alignment():
    xs = np.arange(1.0, 6.0)
    c, ys = lax.scan(lambda c, x: (c + x, c + x), 0.0, xs)
    np.testing.assert_array_equal(ys, np.cumsum(xs))
    c, ys = lax.scan(lambda c, x: (c + x, c + x), 0.0, xs, reverse=True)
    np.testing.assert_array_equal(ys, np.cumsum(xs[::-1])[::-1])  # ys stay aligned with xs
    assert c == 15.0


def test_length_without_xs_and_ys_none():
    c, ys = lax.scan(lambda c, x: (c * 2.0, None), np.array(1.5), None, length=4)
    assert ys is None and c == 1.5 * 16
    c, ys = lax.scan(lambda c, x: (c + 1, c), np.int32(0), length=3)
    np.testing.assert_array_equal(ys, [0, 1, 2])
    assert ys.dtype == np.int32


def test_zero_length_scan():
    c, ys = lax.scan(lambda c, x: (c * x, {"y": c + x}), np.ones(2), np.zeros((0, 2)))
    np.testing.assert_array_equal(c, np.ones(2))
    assert ys["y"].shape == (0, 2)
    g = fg.grad(lambda c: fnp.sum(lax.scan(lambda c, x: (c * x, c), c, np.zeros((0, 2)))[0]))(
        np.ones(2))
    np.testing.assert_array_equal(g, np.ones(2))


def test_body_is_traced_once_eagerly_and_under_grad():
    calls = []

    def step(c, x):
        calls.append(1)
        return c * fnp.cos(x), c

    xs = np.linspace(0, 1, 100)
    lax.scan(step, np.array(2.0), xs)
    assert len(calls) == 1
    fg.grad(lambda c: fnp.sum(lax.scan(step, c, xs)[1]))(np.array(2.0))
    assert len(calls) == 2


# -- reverse mode ----------------------------------------------------------------------------
@pytest.mark.parametrize("reverse", [False, True])
def test_grad_matches_the_python_loop(reverse):
    f_scan = loss(lambda p, h, x: rnn_scan(p, h, x, reverse))
    f_loop = loss(lambda p, h, x: rnn_loop(p, h, x, reverse))
    got = fg.grad(f_scan, argnums=(0, 1, 2))(PARAMS, H0, XS)
    assert_trees_close(got, fg.grad(f_loop, argnums=(0, 1, 2))(PARAMS, H0, XS))


def test_gradients_against_finite_differences_orders_1_and_2():
    check_grads(loss(rnn_scan), (PARAMS, H0, XS), order=2, modes=("rev", "fwd"))


def test_closed_over_weights_are_differentiated():
    # The weights are closed over (consts of the scan), not passed through the carry.
    def f(w):
        c, _ = lax.scan(lambda c, x: (fnp.tanh(w * c + x), None), np.zeros(3), XS[:, 0])
        return fnp.sum(c * c)

    def f_loop(w):
        c = np.zeros(3)
        for x in XS[:, 0]:
            c = fnp.tanh(w * c + x)
        return fnp.sum(c * c)

    w = np.array([0.5, -0.3, 1.1])
    assert_trees_close(fg.grad(f)(w), fg.grad(f_loop)(w))
    assert_trees_close(fg.hessian(f)(w), fg.hessian(f_loop)(w), rtol=1e-10, atol=1e-12)


def test_second_order_matches_the_python_loop():
    f_scan, f_loop = loss(rnn_scan), loss(rnn_loop)
    h_scan = fg.hessian(lambda h: f_scan(PARAMS, h, XS))(H0)
    h_loop = fg.hessian(lambda h: f_loop(PARAMS, h, XS))(H0)
    np.testing.assert_allclose(h_scan, h_loop, rtol=1e-10, atol=1e-12)
    gg = fg.jacrev(fg.grad(lambda h: f_scan(PARAMS, h, XS)))(H0)  # reverse over reverse
    np.testing.assert_allclose(gg, h_loop, rtol=1e-10, atol=1e-12)


def test_integer_carry_and_xs_get_no_cotangent():
    def f(x):
        (_, y), ks = lax.scan(lambda c, k: ((c[0] + k, c[1] * fnp.sin(c[1] + k)), c[0]),
                              (np.int64(0), x), np.arange(4))
        return fnp.sum(y) + fnp.sum(ks)

    def f_loop(x):
        y = x
        for k in range(4):
            y = y * fnp.sin(y + k)
        return fnp.sum(y) + (0 + 0 + 1 + 3)  # the counter before each step

    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(f(x), f_loop(x), rtol=1e-14)
    np.testing.assert_allclose(fg.grad(f)(x), fg.grad(f_loop)(x), rtol=1e-13)


def test_vjp_and_jvp_are_transposes():
    def f(h0, xs):
        state, ys = rnn_scan(PARAMS, h0, xs)
        return state["h"], ys["out"]

    out, pullback = fg.vjp(f, H0, XS)
    u = tree.map(lambda o: RNG.normal(size=np.shape(o)), out)
    v = (RNG.normal(size=H0.shape), RNG.normal(size=XS.shape))
    _, tangent = fg.jvp(f, (H0, XS), v)
    ct = pullback(u)
    lhs = sum(np.vdot(a, b) for a, b in zip(tree.leaves(u), tree.leaves(tangent)))
    rhs = sum(np.vdot(a, b) for a, b in zip(tree.leaves(ct), tree.leaves(v)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_reverse_mode_is_one_reverse_scan_over_saved_carries():
    # The forward scan saves each step's carry; the backward pass is one more scan (reverse).
    graph = fg.make_graph(fg.grad(loss(rnn_scan)))(PARAMS, H0, XS)
    scans = [n for n in graph.nodes if n.name == "scan"]
    assert [n.params["reverse"] for n in scans] == [False, True]
    forward = scans[0].params["body"]
    k = scans[0].params["num_carry"]
    assert forward.outputs[-k:] == forward.inputs[scans[0].params["num_consts"]:][:k]


def test_grad_of_jit_recomputes_the_carries():
    # Inlined from a jitted graph, the forward scan did not save its carries: the VJP
    # recomputes them with one forward scan, and the numbers are the same.
    f = loss(rnn_scan)
    got = fg.grad(fg.jit(f), argnums=(0, 1))(PARAMS, H0, XS)
    assert_trees_close(got, fg.grad(loss(rnn_loop), argnums=(0, 1))(PARAMS, H0, XS))


@pytest.mark.parametrize("transform", [
    lambda f: fg.jit(fg.grad(f, argnums=(0, 1))),
    lambda f: fg.grad(fg.jit(f), argnums=(0, 1)),
    lambda f: fg.jit(fg.hessian(f, argnums=1)),
    lambda f: fg.jacfwd(f, argnums=(0, 1)),
    lambda f: fg.jit(f),
], ids=["jit-grad", "grad-jit", "jit-hessian", "jacfwd", "jit"])
def test_transformations_match_the_python_loop(transform):
    got = transform(loss(rnn_scan))(PARAMS, H0, XS)
    want = transform(loss(rnn_loop))(PARAMS, H0, XS)
    assert_trees_close(got, want, rtol=1e-10, atol=1e-12)


def test_jit_matches_eager_with_pytree_outputs():
    got = fg.jit(rnn_scan, static_argnums=3)(PARAMS, H0, XS, True)
    assert_trees_close(got, rnn_scan(PARAMS, H0, XS, True))


# -- batching --------------------------------------------------------------------------------
def stack_loop(f, *batched):
    outs = [f(*args) for args in zip(*batched)]
    return tree.map(lambda *xs: np.stack(xs), *outs)


def test_vmap_batched_carry_and_xs():
    h0s, xss = RNG.normal(size=(4, H)), RNG.normal(size=(4, T, 2))
    f = lambda h0, xs: rnn_scan(PARAMS, h0, xs)
    assert_trees_close(fg.vmap(f)(h0s, xss), stack_loop(f, h0s, xss))


def test_vmap_xs_batched_along_their_second_axis():
    xss = RNG.normal(size=(T, 4, 2))  # the batch axis after the scan axis
    f = lambda xs: rnn_scan(PARAMS, H0, xs)
    got = fg.vmap(f, in_axes=1)(xss)
    assert_trees_close(got, stack_loop(f, np.moveaxis(xss, 1, 0)))


def test_vmap_batched_closed_over_params_makes_an_unbatched_carry_batched():
    # Only W is batched; the carry starts unbatched and the body makes it batched (fixed point).
    Ws = RNG.normal(size=(3, H, H)) * 0.5
    f = lambda W: rnn_scan({**PARAMS, "W": W}, H0, XS)
    assert_trees_close(fg.vmap(f)(Ws), stack_loop(f, Ws))


def test_vmap_of_grad_and_grad_of_vmap():
    h0s = RNG.normal(size=(3, H))
    f = lambda h0: loss(rnn_scan)(PARAMS, h0, XS)
    f_loop = lambda h0: loss(rnn_loop)(PARAMS, h0, XS)
    assert_trees_close(fg.vmap(fg.grad(f))(h0s), stack_loop(fg.grad(f_loop), h0s))
    g = fg.grad(lambda hs: fnp.sum(fg.vmap(f)(hs)))(h0s)
    assert_trees_close(g, stack_loop(fg.grad(f_loop), h0s))


# -- nesting ---------------------------------------------------------------------------------
def test_scan_in_scan_gradients():
    def f(w, xs):
        def outer(c, row):
            inner, _ = lax.scan(lambda d, x: (fnp.sin(d * w + x), None), c, row)
            return inner, fnp.sum(inner)
        return fnp.sum(lax.scan(outer, np.zeros(2), xs)[1])

    def f_loop(w, xs):
        c, total = np.zeros(2), 0.0
        for row in xs:
            for x in row:
                c = fnp.sin(c * w + x)
            total = total + fnp.sum(c)
        return total

    w, xs = np.array([0.7, -0.4]), RNG.normal(size=(3, 4, 2))
    assert_trees_close(fg.grad(f, argnums=(0, 1))(w, xs), fg.grad(f_loop, argnums=(0, 1))(w, xs))
    np.testing.assert_allclose(fg.hessian(f)(w, xs), fg.hessian(f_loop)(w, xs), rtol=1e-10,
                               atol=1e-12)
    check_grads(f, (w, xs), order=2)


# -- graphs ----------------------------------------------------------------------------------
def test_graph_prints_the_body_under_its_node():
    text = str(fg.make_graph(lambda h0: rnn_scan(PARAMS, h0, XS))(H0))
    assert "scan num_consts=" in text and "length=5" in text
    assert "    body = graph(" in text and "tanh" in text


# -- errors ----------------------------------------------------------------------------------
def test_carry_shape_change_names_the_leaf_and_both_types():
    with pytest.raises(CarryError, match=r"\['h'\] is f64\[1,3\].*f64\[3\]"):
        lax.scan(lambda c, x: ({"h": c["h"][None], "n": c["n"]}, None),
                 {"h": np.zeros(3), "n": 0.0}, XS)


def test_carry_dtype_change_names_both_dtypes():
    with pytest.raises(CarryError, match=r"f32\[2\].*f64\[2\]"):
        lax.scan(lambda c, x: (c.astype(np.float32), None), np.zeros(2), XS)


def test_carry_structure_change():
    with pytest.raises(CarryError, match="structure"):
        lax.scan(lambda c, x: ((c, c), None), np.zeros(2), XS)


def test_body_must_return_a_pair():
    with pytest.raises(CarryError, match=r"pair \(carry, y\).*tuple of length 3"):
        lax.scan(lambda c, x: (c, x, x), np.zeros(2), XS)


def test_xs_with_different_leading_axes():
    with pytest.raises(ShapeError, match=r"\['a'\] is f64\[5,2\] and \['b'\] is f64\[4\]"):
        lax.scan(lambda c, x: (c, None), 0.0, {"a": XS, "b": np.zeros(4)})


def test_scalar_xs_and_length_mismatch():
    with pytest.raises(ShapeError, match="leading axis"):
        lax.scan(lambda c, x: (c, None), 0.0, np.float64(1.0))
    with pytest.raises(ShapeError, match="length=3"):
        lax.scan(lambda c, x: (c, None), 0.0, XS, length=3)
    with pytest.raises(ArgumentError, match="length="):
        lax.scan(lambda c, x: (c, None), 0.0)


# -- map -------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [None, 1, 2, 3, 7])
def test_map_values_and_gradient(batch_size):
    xs = RNG.normal(size=(7, 3))
    f = lambda r: {"s": fnp.sum(fnp.sin(r)), "v": r * fnp.cos(r)}
    got = lax.map(f, xs, batch_size=batch_size)
    assert_trees_close(got, stack_loop(f, xs))
    g = fg.grad(lambda xs: fnp.sum(lax.map(f, xs, batch_size=batch_size)["v"] ** 2))(xs)
    np.testing.assert_allclose(g, 2 * xs * np.cos(xs) * (np.cos(xs) - xs * np.sin(xs)),
                               rtol=1e-12)


def test_map_under_vmap_and_jit():
    xs = RNG.normal(size=(2, 4, 3))
    f = lambda xs: lax.map(lambda r: fnp.prod(r) + r, xs)
    want = np.stack([np.prod(x, axis=1, keepdims=True) + x for x in xs])
    np.testing.assert_allclose(fg.vmap(f)(xs), want, rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.vmap(f))(xs), want, rtol=1e-14)


def test_unroll_is_accepted_and_changes_no_result():
    want = rnn_scan(PARAMS, H0, XS)
    for unroll in (2, True, 100):
        got = lax.scan(lambda s, x: rnn_step(PARAMS, s, x), {"h": H0, "total": 0.0}, XS,
                       unroll=unroll)
        assert_trees_close(got, want, rtol=0, atol=0)
    for bad in (0, -1, 1.5):
        with pytest.raises(ArgumentError, match="unroll"):
            lax.scan(lambda c, x: (c, None), 0.0, XS, unroll=bad)


def test_bad_length_and_f():
    with pytest.raises(ArgumentError, match=">= 0"):
        lax.scan(lambda c, x: (c, None), 0.0, length=-1)
    with pytest.raises(ArgumentError, match="Python int"):
        lax.scan(lambda c, x: (c, None), 0.0, length=2.0)
    with pytest.raises(ArgumentError, match="callable"):
        lax.scan(None, 0.0, XS)
    with pytest.raises(ArgumentError, match="init leaf"):
        lax.scan(lambda c, x: (c, None), {"a": "text"}, XS)


def test_eager_scans_do_not_keep_the_arrays_they_close_over():
    # Each eager scan traces a new body holding a copy of W (1 MB); none may outlive its call.
    import gc
    import tracemalloc

    W = np.full((360, 360), 1e-3)

    def run():
        f = lambda h: fnp.sum(lax.scan(lambda h, x: (fnp.tanh(h @ W + x), None), h,
                                       np.ones((3, 360)))[0])
        return f(np.zeros(360)), fg.grad(f)(np.zeros(360))

    run()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            run()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < W.nbytes, f"{grown} bytes retained after 10 eager scans"


def test_nested_grads_through_scans_keep_their_perturbations_apart():
    def inner(x):  # c = (x + y)^2 after two steps from 1, so d/dy = 2 (x + y) at y = 0.5
        return fg.grad(lambda y: lax.scan(lambda c, _: (c * x + y * c, None), 1.0, None,
                                          length=2)[0])(0.5)

    # d/dx [x * 2 (x + 0.5)] = 4x + 1
    for transform in (fg.grad, fg.jacfwd, lambda f: fg.jit(fg.grad(f))):
        np.testing.assert_allclose(transform(lambda x: x * inner(x))(2.0), 9.0, rtol=1e-14)
