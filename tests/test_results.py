"""Operations with several results (funcgrad.ops.results) under every transformation.

The operation under test, ``call``, runs a sub-graph (funcgrad._core.subgraph) and returns
all its outputs; its rules are the sub-graph's own derivatives, so every number here is
checked against the same function written without the multi-result node.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.interpret import eval_graph
from funcgrad._core.primitive import Primitive
from funcgrad._core.subgraph import trace_closed
from funcgrad.ops.results import Results, bind_results, define_results

call_p = define_results(Primitive("call", lambda *xs, body: Results(eval_graph(body, xs))),
                        lambda *avals, body: [(n.shape, n.dtype) for n in body.outputs])


def _call_vjp(i, g, ans, *args, body):
    cts = [np.zeros(n.shape, n.dtype) if c is None else c for c, n in zip(g, body.outputs)]
    _, pullback = fg.vjp(lambda *xs: eval_graph(body, xs), *args)
    return pullback(cts)[i]


def _call_jvp(primals, tangents, body):
    tangents = [fnp.zeros(np.shape(p), p.dtype) if t is None else t
                for p, t in zip(primals, tangents)]
    out, tan = fg.jvp(lambda *xs: eval_graph(body, xs), tuple(primals), tuple(tangents))
    return Results(out), Results(tan)


def _call_batch(values, dims, body):
    out = fg.vmap(lambda *xs: eval_graph(body, xs), in_axes=tuple(dims))(*values)
    return Results(out), (0,) * len(out)


call_p.defvjp_argnum(_call_vjp)
call_p.defjvp_full(_call_jvp)
call_p.defbatch(_call_batch)


def body_fn(x, y):
    return [fnp.sin(x) * y, x * x, fnp.sum(y)]


def via_call(x, y):
    body, consts = trace_closed(body_fn, [(np.shape(x), x.dtype), (np.shape(y), y.dtype)])
    a, b, c = bind_results(call_p, x, y, *consts, body=body)
    return fnp.sum(a * b) + c * c


def direct(x, y):
    a, b, c = body_fn(x, y)
    return fnp.sum(a * b) + c * c


X, Y = np.array([0.3, -1.2, 2.0]), np.array([1.5, 0.4, -0.7])


def test_eager_values_and_graph():
    np.testing.assert_allclose(via_call(X, Y), direct(X, Y), rtol=1e-15)
    text = str(fg.make_graph(via_call)(X, Y))
    assert "body = graph(" in text and "result index=2 count=3" in text


@pytest.mark.parametrize("transform", [
    lambda f: fg.grad(f, argnums=(0, 1)),
    lambda f: fg.jit(fg.grad(f, argnums=(0, 1))),
    lambda f: fg.grad(fg.jit(f), argnums=(0, 1)),
    lambda f: fg.jacfwd(f, argnums=(0, 1)),
    lambda f: fg.hessian(f),
    lambda f: fg.jacrev(fg.grad(f)),
    lambda f: fg.jit(fg.hessian(f)),
], ids=["grad", "jit-grad", "grad-jit", "jacfwd", "hessian", "jacrev-grad", "jit-hessian"])
def test_derivatives_match_the_direct_function(transform):
    got, want = transform(via_call)(X, Y), transform(direct)(X, Y)
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_closure_over_a_differentiated_value():
    # The body closes over ``y``, a value of grad's trace: it becomes a const operand.
    def f(y):
        body, consts = trace_closed(lambda x: [fnp.sin(x) * y], [((3,), np.float64)])
        assert len(consts) == 1
        (a,) = bind_results(call_p, X, *consts, body=body)
        return fnp.sum(a)

    np.testing.assert_allclose(fg.grad(f)(Y), np.sin(X), rtol=1e-15)


@pytest.mark.parametrize("transform", [fg.vmap, lambda f: fg.jit(fg.vmap(f)),
                                       lambda f: fg.vmap(fg.grad(f))])
def test_vmap_matches_a_loop(transform):
    xs = np.linspace(-1, 1, 12).reshape(4, 3)
    got = transform(lambda x: via_call(x, Y))(xs)
    want = np.stack([transform(lambda x: direct(x, Y))(xs)[i] for i in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_zero_cotangents_reach_the_rule_as_none():
    seen = []

    def spy(i, g, ans, *args, body):
        seen.append(tuple(c is None for c in g))
        return _call_vjp(i, g, ans, *args, body=body)

    spy_p = define_results(Primitive("spy", call_p.impl), call_p.results_eval)
    spy_p.defvjp_argnum(spy)

    def f(x):
        body, _ = trace_closed(lambda x: [fnp.sin(x), x * x], [((3,), np.float64)])
        a, _ = bind_results(spy_p, x, body=body)
        return fnp.sum(a)

    np.testing.assert_allclose(fg.grad(f)(X), np.cos(X), rtol=1e-15)
    assert seen == [(False, True)]


def test_results_add_entrywise():
    r = Results([np.ones(2), None]) + Results([np.ones(2), 3.0])
    np.testing.assert_array_equal(r[0], [2.0, 2.0])
    assert r[1] == 3.0
