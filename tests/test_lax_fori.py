"""``lax.fori_loop`` (a ``scan`` with a static trip count, or a ``while_loop`` when its bounds
are traced), the Euler rollout of issue 12 item 6 (the loop compiles its body once, whatever
the trip count), and ``cond`` inside a ``scan``.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax, tree
from funcgrad.errors import ArgumentError, CarryError
from funcgrad.testing import check_grads

X = np.linspace(0.1, 1.0, 16)


def euler_step(i, x):
    return x + 0.01 * (fnp.sin(x) - 0.1 * x * x)


def rollout(x, n):
    return fnp.sum(lax.fori_loop(0, n, euler_step, x))


def rollout_loop(x, n):
    for i in range(n):
        x = euler_step(i, x)
    return fnp.sum(x)


def test_euler_rollout_matches_the_python_loop():
    np.testing.assert_allclose(rollout(X, 1000), rollout_loop(X, 1000), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(rollout)(X, 1000), fg.grad(rollout_loop)(X, 1000),
                               rtol=1e-12)
    np.testing.assert_allclose(fg.jit(fg.grad(rollout), static_argnums=1)(X, 1000),
                               fg.grad(rollout_loop)(X, 1000), rtol=1e-12)


def test_euler_rollout_graph_does_not_grow_with_the_trip_count():
    sizes = {n: len(fg.make_graph(fg.grad(lambda x, n=n: rollout(x, n)))(X).nodes)
             for n in (10, 1000)}
    assert sizes[10] == sizes[1000]
    optimized = {n: len(fg.jit(fg.grad(rollout), static_argnums=1).lower(X, n).nodes)
                 for n in (10, 1000)}
    assert optimized[10] == optimized[1000]
    # Against the unrolled loop, whose graph does grow: the check above can fail.
    unrolled = len(fg.make_graph(fg.grad(lambda x: rollout_loop(x, 10)))(X).nodes)
    assert unrolled > 10 * 5


def test_body_is_traced_once_whatever_the_trip_count():
    calls = []

    def body(i, x):
        calls.append(i)
        return euler_step(i, x)

    fg.jit(fg.grad(lambda x: fnp.sum(lax.fori_loop(0, 1000, body, x))))(X)
    assert len(calls) == 1


@pytest.mark.parametrize("bounds", [(0, 5), (3, 7), (np.int32(2), np.int64(4)), (5, 5), (6, 2)])
def test_values_and_gradients_match_the_python_loop(bounds):
    lo, hi = bounds

    def body(i, c):
        return {"x": c["x"] * fnp.cos(c["y"]) + i.astype(c["x"].dtype),
                "y": c["y"] + 0.3 * fnp.sin(c["x"])}

    def f(x, y):
        out = lax.fori_loop(lo, hi, body, {"x": x, "y": y})
        return fnp.sum(out["x"] ** 2) + fnp.sum(out["y"])

    def f_loop(x, y):
        c = {"x": x, "y": y}
        for i in range(int(lo), int(hi)):
            c = body(np.asarray(i), c)
        return fnp.sum(c["x"] ** 2) + fnp.sum(c["y"])

    x, y = np.array([0.3, -0.5]), np.array([0.2, 0.9])
    np.testing.assert_allclose(f(x, y), f_loop(x, y), rtol=1e-13)
    got = fg.grad(f, argnums=(0, 1))(x, y)
    want = fg.grad(f_loop, argnums=(0, 1))(x, y)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fg.hessian(f)(x, y), fg.hessian(f_loop)(x, y), rtol=1e-10,
                               atol=1e-12)
    check_grads(f, (x, y), order=2)


def test_index_has_the_bounds_dtype():
    seen = []
    lax.fori_loop(np.int32(0), 2, lambda i, x: (seen.append(i.dtype), x)[1], 1.0)
    lax.fori_loop(0, 2, lambda i, x: (seen.append(i.dtype), x)[1], 1.0)
    assert seen == [np.dtype(np.int32), np.dtype(np.int64)]


def test_vmap_and_jit_of_fori():
    xs = np.stack([X, 2 * X, X[::-1]])
    got = fg.vmap(lambda x: rollout(x, 50))(xs)
    np.testing.assert_allclose(got, [rollout_loop(x, 50) for x in xs], rtol=1e-13)
    got = fg.jit(fg.vmap(fg.grad(lambda x: rollout(x, 50))))(xs)
    np.testing.assert_allclose(got, np.stack([fg.grad(rollout_loop)(x, 50) for x in xs]),
                               rtol=1e-12)


def test_traced_bounds_become_a_while_loop_forward_mode_only():
    f = fg.jit(lambda n, x: lax.fori_loop(0, n, lambda i, x: x * 1.5 + i, x))
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(f(np.int64(3), x), ((x * 1.5 + 0) * 1.5 + 1) * 1.5 + 2)
    graph = fg.make_graph(lambda n, x: lax.fori_loop(0, n, lambda i, x: x * x, x))(np.int64(2), x)
    assert any(node.name == "while" for node in graph.nodes)
    tangent = fg.jit(lambda n, x: fg.jvp(lambda x: lax.fori_loop(0, n, lambda i, x: x * x, x),
                                         (x,), (np.ones(2),))[1])(np.int64(2), x)
    np.testing.assert_allclose(tangent, 4 * x ** 3)
    with pytest.raises(ArgumentError, match="fori_loop"):
        fg.jit(fg.grad(lambda x, n: fnp.sum(lax.fori_loop(0, n, lambda i, x: x * x, x))))(
            x, np.int64(2))


def test_errors():
    with pytest.raises(CarryError, match=r"body_fun's result at \['b'\] is f32\[2\].*f64\[2\]"):
        lax.fori_loop(0, 3, lambda i, c: {"a": c["a"], "b": c["b"].astype(np.float32)},
                      {"a": 0.0, "b": np.zeros(2)})
    with pytest.raises(ArgumentError, match="integers"):
        lax.fori_loop(0.0, 3, lambda i, c: c, 1.0)


# -- cond inside scan ---------------------------------------------------------------------
def test_cond_in_scan_matches_python_control_flow():
    def step(c, x):
        c = lax.cond(x > 0, lambda c: c * fnp.sin(x) + 1.0, lambda c: c - x * c * c, c)
        return c, c

    def f(c0, xs):
        c, ys = lax.scan(step, c0, xs)
        return fnp.sum(c) + fnp.sum(ys ** 2)

    def f_loop(c0, xs):
        c, total = c0, 0.0
        for x in xs:
            c = c * fnp.sin(x) + 1.0 if x > 0 else c - x * c * c
            total = total + fnp.sum(c ** 2)
        return fnp.sum(c) + total

    c0, xs = np.array([0.2, -0.4]), np.array([0.5, -0.3, 0.8, -0.6])
    np.testing.assert_allclose(f(c0, xs), f_loop(c0, xs), rtol=1e-13)
    # The loop's Python `if` needs concrete values: it runs under eager grad only.
    for transform, eager in ((fg.grad, fg.grad), (lambda f: fg.jit(fg.grad(f)), fg.grad),
                             (fg.hessian, fg.hessian)):
        np.testing.assert_allclose(transform(f)(c0, xs), eager(f_loop)(c0, xs), rtol=1e-11,
                                   atol=1e-13)
    batched = fg.vmap(f, in_axes=(None, 0))(c0, np.stack([xs, -xs]))
    np.testing.assert_allclose(batched, [f_loop(c0, xs), f_loop(c0, -xs)], rtol=1e-13)
    check_grads(f, (c0, xs), order=2, argnums=0)


def test_map_of_fori_under_grad_of_grad():
    def f(w):
        return fnp.sum(lax.map(lambda x: lax.fori_loop(0, 3, lambda i, c: fnp.tanh(c * w + x), x),
                               np.linspace(-0.5, 1.0, 4)))

    def f_loop(w):
        total = 0.0
        for x in np.linspace(-0.5, 1.0, 4):
            c = x
            for _ in range(3):
                c = fnp.tanh(c * w + x)
            total = total + c
        return total

    w = np.array(0.7)
    np.testing.assert_allclose(fg.grad(fg.grad(f))(w), fg.grad(fg.grad(f_loop))(w), rtol=1e-11)
    tree.map(np.testing.assert_allclose, fg.jit(fg.grad(f))(w), fg.grad(f_loop)(w))
