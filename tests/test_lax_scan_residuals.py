"""Reverse mode of ``lax.scan`` saves the body's residuals (JAX's model).

The forward scan recorded for reverse mode stacks the values the body's VJP rules read,
and computes there the values the rules derive from them without a cotangent (``sin``'s
``cos(x)``, ``tanh``'s ``1 - y * y``: JAX's partial evaluation); the backward scan applies
the rules to them and recomputes none of the body's nonlinear operations.
``scan(checkpoint(body))`` saves only the carries and recomputes.  Gradients are checked
against the recomputing variant, a Python loop and finite differences.
"""

import functools
import tracemalloc

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.testing import check_grads

RNG = np.random.default_rng(3)
N, B, D, T = 4, 3, 2, 6
P = {"wx": RNG.normal(size=(D, 4 * N)) * 0.5, "wh": RNG.normal(size=(N, 4 * N)) * 0.5,
     "b": RNG.normal(size=4 * N) * 0.1}
XS = RNG.normal(size=(T, B, D))


def cell(p, carry, x):
    """An LSTM cell: 3 exp (sigmoids) and 2 tanh per step."""
    h, c = carry
    z = x @ p["wx"] + h @ p["wh"] + p["b"]
    i, f, o, g = z[:, :N], z[:, N:2 * N], z[:, 2 * N:3 * N], z[:, 3 * N:]
    c = (1 / (1 + fnp.exp(-f))) * c + (1 / (1 + fnp.exp(-i))) * fnp.tanh(g)
    h = (1 / (1 + fnp.exp(-o))) * fnp.tanh(c)
    return h, c


def loss_scan(p, xs, remat=False):
    step = lambda carry, x: (cell(p, carry, x), fnp.sum(carry[0]))
    zero = fnp.zeros((B, N))
    (h, c), ys = lax.scan(fg.checkpoint(step) if remat else step, (zero, zero), xs)
    return fnp.sum(h * h) + fnp.sum(fnp.sin(c)) + fnp.sum(ys ** 2)


def loss_loop(p, xs):
    h = c = fnp.zeros((B, N))
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + fnp.sum(h) ** 2
        h, c = cell(p, (h, c), xs[t])
    return fnp.sum(h * h) + fnp.sum(fnp.sin(c)) + total


def _scans(graph):
    """The scan nodes of a graph (nested ones too), in order."""
    out, stack = [], [graph]
    while stack:
        for node in stack.pop().nodes:
            if node.primitive is not None and node.primitive.name == "scan":
                out.append(node)
                stack.append(node.params["body"])
    return out


def _count(graph, name):
    """How many ``name`` nodes a graph holds, in its sub-graphs too."""
    total, stack = 0, [graph]
    while stack:
        for node in stack.pop().nodes:
            if node.primitive is None:
                continue
            total += node.primitive.name == name
            for v in node.params.values():
                stack.extend(v if isinstance(v, tuple) and all(isinstance(g, fg.Graph) for g in v)
                             else [v] if isinstance(v, fg.Graph) else [])
    return total


def _known_per_step(node):
    """The floating-point op nodes of a backward scan's body that read a saved per-step
    value and no cotangent (known booleans, such as isfinite masks, are recomputed by
    design): its inputs are the consts, the carried cotangents, then per step the xs and
    saved values, and last the ys' cotangents (here one, the last input)."""
    body = node.params["body"]
    C, K = node.params["num_consts"], node.params["num_carry"]
    cotangent = set(map(id, body.inputs[C:C + K] + body.inputs[-1:]))
    per_step = set(map(id, body.inputs[C + K:-1]))
    out = []
    for n in body.nodes:
        if n.primitive is None:
            continue
        if any(id(i) in cotangent for i in n.inputs):
            cotangent.add(id(n))
        elif any(id(i) in per_step for i in n.inputs):
            per_step.add(id(n))
            if np.issubdtype(n.dtype, np.inexact):
                out.append(n)
    return out


def test_the_backward_body_recomputes_no_nonlinear_op():
    graph = fg.make_graph(fg.grad(loss_scan))(P, XS)
    forward, backward = [n for n in _scans(graph)]
    assert not forward.params["reverse"] and backward.params["reverse"]
    fbody, bbody = forward.params["body"], backward.params["body"]
    assert (_count(fbody, "exp"), _count(fbody, "tanh")) == (3, 2)
    assert (_count(bbody, "exp"), _count(bbody, "tanh"), _count(bbody, "matmul")) == (0, 0, 4)
    # The forward scan stacks the exp/tanh outputs the rules read (beyond the user's y and
    # the two carries that entered each step).
    saved = [o.primitive.name for o in fbody.outputs[3:] if o.primitive is not None]
    assert saved.count("exp") == 3 and saved.count("tanh") == 2
    # What the rules compute from saved values alone (tanh's 1 - y * y) is computed in the
    # forward scan and saved; values that only move data (the transposes of the step's
    # input and carry that the matmul rules read) are recomputed from the saved values
    # instead of saved as per-step copies. So the backward body's ops without a cotangent
    # operand are those transposes, and otherwise read only the consts.
    assert saved.count("subtract") == 2 and saved.count("transpose") == 0
    assert {n.primitive.name for n in _known_per_step(backward)} == {"transpose"}


def rollout(x):
    return fnp.sum(lax.fori_loop(0, 100, lambda i, x: x + 0.01 * (fnp.sin(x) - 0.1 * x * x), x))


def rollout_loop(x):
    for _ in range(100):
        x = x + 0.01 * (fnp.sin(x) - 0.1 * x * x)
    return fnp.sum(x)


def rollout_scan_ys(x, use_ys):
    step = lambda x, _: (x + 0.01 * (fnp.sin(x) - 0.1 * x * x), fnp.sin(x))
    x, ys = lax.scan(step, x, None, length=100)
    return fnp.sum(x) + (fnp.sum(ys) if use_ys else 0.0)


def rollout_loop_ys(x, use_ys):
    total = 0.0
    for _ in range(100):
        total = total + fnp.sum(fnp.sin(x))
        x = x + 0.01 * (fnp.sin(x) - 0.1 * x * x)
    return fnp.sum(x) + (total if use_ys else 0.0)


X16 = np.linspace(-1.0, 2.0, 16)


@pytest.mark.parametrize("f", [rollout, lambda x: rollout_scan_ys(x, True),
                               lambda x: rollout_scan_ys(x, False)],
                         ids=["fori_loop", "scan, ys used", "scan, ys unused"])
def test_the_rollout_computes_cos_in_the_forward_scan(f):
    # sin's rule reads cos(x): the forward scan computes it next to sin(x) (one sincos in
    # a compiled loop) and the backward scan reads it, computing neither sin nor cos.  So
    # also when the ys get no cotangent (a backward body made for fewer cotangents than
    # the saving body was).
    forward, backward = _scans(fg.make_graph(fg.grad(f))(X16))[:2]
    fbody, bbody = forward.params["body"], backward.params["body"]
    assert _count(fbody, "sin") >= 1 and _count(fbody, "cos") >= 1
    assert _count(bbody, "sin") == 0 and _count(bbody, "cos") == 0
    assert _known_per_step(backward) == []


def test_a_value_the_rules_read_that_is_a_new_carry_is_saved_once():
    # sin's rule reads cos(a), which the body computes as the new carry: the forward scan
    # saves that node (a carry is not among the stacked ys) instead of a copy of it.
    def f(a, b):
        step = lambda c, _: ((fnp.cos(c[0]), fnp.sin(c[0]) * c[1]), None)
        return fnp.sum(fnp.prod(fnp.stack(lax.scan(step, (a, b), None, length=5)[0]), 0))

    def loop(a, b):
        for _ in range(5):
            a, b = fnp.cos(a), fnp.sin(a) * b
        return fnp.sum(a * b)

    a, b = np.linspace(0, 1, 4), np.linspace(1, 2, 4)
    fbody = _scans(fg.make_graph(fg.grad(f, (0, 1)))(a, b))[0].params["body"]
    assert _count(fbody, "cos") == 1
    assert fbody.outputs[0].primitive.name == "cos" and fbody.outputs[0] in fbody.outputs[2:]
    for transform in (lambda g: g, fg.jit):
        for got, want in zip(transform(fg.grad(f, (0, 1)))(a, b), fg.grad(loop, (0, 1))(a, b)):
            np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


@pytest.mark.parametrize("transform", [lambda f: f, fg.jit], ids=["eager", "jit"])
def test_the_rollout_gradient_equals_the_unrolled_loop(transform):
    # The same operations, some computed in the forward scan: equal to rounding.
    np.testing.assert_allclose(transform(fg.grad(rollout))(X16), fg.grad(rollout_loop)(X16),
                               rtol=1e-15, atol=0)
    for use in (True, False):
        np.testing.assert_allclose(
            transform(fg.grad(functools.partial(rollout_scan_ys, use_ys=use)))(X16),
            fg.grad(functools.partial(rollout_loop_ys, use_ys=use))(X16), rtol=1e-14, atol=0)
    np.testing.assert_allclose(fg.grad(fg.jit(rollout))(X16), fg.grad(rollout_loop)(X16),
                               rtol=1e-15, atol=0)


def test_checkpointed_body_saves_only_the_carries_and_recomputes():
    graph = fg.make_graph(fg.grad(lambda p, xs: loss_scan(p, xs, remat=True)))(P, XS)
    forward, backward = _scans(graph)[:2]
    fbody = forward.params["body"]
    # outputs: 2 new carries, the y, then the 2 carries that entered the step: nothing else
    assert [o.kind for o in fbody.outputs[3:]] == ["input", "input"]
    assert _count(backward.params["body"], "exp") == 3  # the checkpoint's pullback recomputes


@pytest.mark.parametrize("transform", [lambda f: f, fg.jit], ids=["eager", "jit"])
def test_gradients_equal_recomputation_and_a_python_loop(transform):
    saved = transform(fg.grad(loss_scan))(P, XS)
    recomputed = transform(fg.grad(lambda p, xs: loss_scan(p, xs, remat=True)))(P, XS)
    looped = fg.grad(loss_loop)(P, XS)
    for k in P:
        np.testing.assert_allclose(saved[k], recomputed[k], rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(saved[k], looped[k], rtol=1e-13, atol=1e-14)


def test_gradients_against_finite_differences():
    check_grads(loss_scan, (P, XS), order=2, modes=("rev",))


def test_grad_of_jit_recomputes_the_residuals_once():
    # The jitted graph's scan has no residuals: one more forward scan computes them.
    expected = fg.grad(loss_loop)(P, XS)
    got = fg.grad(fg.jit(loss_scan))(P, XS)
    for k in P:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-13, atol=1e-14)


# -- nested operations in the body ----------------------------------------------------------
W = RNG.normal(size=(3, 3)) * 0.4
YS = RNG.normal(size=(5, 3))


def nested(w, ys):
    def inner(c, y):
        return fnp.tanh(c @ w + y), fnp.exp(-c * c)

    def outer(c, y):
        c2, zs = lax.scan(inner, c, fnp.stack([y, 2 * y]))
        c3 = lax.cond(fnp.sum(c2) > 0, lambda v: fnp.sin(v) * 2, lambda v: fnp.cos(v), c2)
        return c3, fnp.sum(zs)

    c, out = lax.scan(outer, fnp.ones(3) * 0.2, ys)
    return fnp.sum(c ** 2) + fnp.sum(out)


def nested_loop(w, ys):
    c, total = fnp.ones(3) * 0.2, 0.0
    for t in range(ys.shape[0]):
        zs = 0.0
        for y in (ys[t], 2 * ys[t]):
            zs = zs + fnp.sum(fnp.exp(-c * c))
            c = fnp.tanh(c @ w + y)
        c = fnp.sin(c) * 2 if float(fg.stop_gradient(fnp.sum(c))) > 0 else fnp.cos(c)
        total = total + zs
    return fnp.sum(c ** 2) + total


@pytest.mark.parametrize("transform", [lambda f: f, fg.jit], ids=["eager", "jit"])
def test_nested_scan_and_cond_bodies_differentiate(transform):
    expected = fg.grad(nested_loop, (0, 1))(W, YS)
    got = transform(fg.grad(nested, (0, 1)))(W, YS)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    check_grads(nested, (W, YS), order=2, modes=("rev",))


def test_a_nested_print_runs_once_per_step_under_grad(capsys):
    def f(x):
        def inner(c, _):
            fg.debug.print("inner {c}", c=c)
            return fnp.sin(c), None

        def outer(c, _):
            return lax.scan(inner, c, None, length=2)[0] * 2.0, None

        return lax.scan(outer, x, None, length=3)[0]

    fg.grad(f)(0.5)
    assert capsys.readouterr().out.count("inner") == 6


# -- memory ---------------------------------------------------------------------------------
def _peak(fn, *args) -> int:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_saved_residuals_take_memory_that_checkpoint_gives_back():
    # Per step the plain scan stores the carry h and the residuals the rules read: tanh's
    # output a and -a (the operands of -a * a), exp's output e (exp's rule), and what the
    # rules compute from them without a cotangent: cos(e) (sin's rule) and 1 - a * a
    # (tanh's): 6 arrays of 2 KB, about 12 MB for 1,000 steps.  The checkpointed body
    # stores only the carry (2 MB): a peak about 6x smaller (measured 11.9 and 2.1 MiB);
    # asserted: 2x.
    w = np.linspace(0.5, 1.5, 256)

    def body(h, _):
        a = fnp.tanh(h * w)
        e = fnp.exp(-a * a)
        return fnp.sin(e) + 0.5 * a, None

    def loss(h0, remat):
        return fnp.sum(lax.scan(fg.checkpoint(body) if remat else body, h0, None,
                                length=1000)[0])

    h0 = np.full(256, 0.1)
    g_plain, g_remat = fg.grad(loss)(h0, False), fg.grad(loss)(h0, True)
    np.testing.assert_allclose(g_plain, g_remat, rtol=1e-14, atol=0)
    plain = _peak(fg.grad(loss), h0, False)
    remat = _peak(fg.grad(loss), h0, True)
    assert plain > 2.0 * remat, (plain, remat)
