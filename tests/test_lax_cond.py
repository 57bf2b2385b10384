"""``lax.cond``, ``lax.switch`` and ``lax.select`` under every transformation.

Every number is checked against the same computation written with Python control flow
(``if``/indexing a list of functions) and evaluated eagerly, or against central finite
differences (``check_grads``); nothing is hard-coded.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax, tree
from funcgrad.errors import ArgumentError, CarryError, DTypeError, ShapeError
from funcgrad.testing import check_grads

X = np.array([0.3, -1.2, 0.8])
W = np.array([1.5, 0.4, -0.7])


def on_true(x, w):
    return {"a": fnp.sin(x) * w, "b": fnp.sum(x * x)}


def on_false(x, w):
    return {"a": fnp.cos(x) + w * x, "b": fnp.prod(x)}


def via_cond(x, w):
    out = lax.cond(fnp.sum(x) > 0, on_true, on_false, x, w)
    return fnp.sum(out["a"] * out["a"]) + out["b"]


def via_python(x, w):  # the same function with Python control flow
    out = on_true(x, w) if fnp.sum(x) > 0 else on_false(x, w)
    return fnp.sum(out["a"] * out["a"]) + out["b"]


BRANCHES = [lambda x: fnp.sin(x) * x, lambda x: fnp.exp(-x * x), lambda x: x ** 3 - x]


def via_switch(i, x):
    return fnp.sum(lax.switch(i, BRANCHES, x) * W)


def via_list(i, x):
    return fnp.sum(BRANCHES[min(max(i, 0), 2)](x) * W)


POINTS = [X, -X]  # sum(X) < 0 and sum(-X) > 0: both branches are taken


def close(got, want, rtol=1e-12, atol=1e-12):
    assert tree.structure(got) == tree.structure(want)
    for g, e in zip(tree.leaves(got), tree.leaves(want)):
        assert np.shape(g) == np.shape(e) and np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# -- values ---------------------------------------------------------------------------------
@pytest.mark.parametrize("x", POINTS, ids=["false", "true"])
def test_cond_values_match_python_if(x):
    close(lax.cond(fnp.sum(x) > 0, on_true, on_false, x, W),
          on_true(x, W) if np.sum(x) > 0 else on_false(x, W))


@pytest.mark.parametrize("pred", [True, False, 1, 0, 7, np.int32(-2), np.bool_(True)])
def test_cond_accepts_python_and_integer_predicates(pred):
    got = lax.cond(pred, lambda x: x + 1.0, lambda x: x - 1.0, X)
    np.testing.assert_array_equal(got, X + 1.0 if pred else X - 1.0)


@pytest.mark.parametrize("i", [-3, 0, 1, 2, 3, 10])
def test_switch_clamps_the_index(i):
    np.testing.assert_allclose(lax.switch(i, BRANCHES, X), BRANCHES[min(max(i, 0), 2)](X),
                               rtol=1e-15)


def test_switch_clamps_traced_indices_beyond_int32():
    # Clamped in their own dtype first: 2**32 + 1 must not wrap around to 1.
    idx = np.array([2**32 + 1, -2**40, 1])
    got = fg.vmap(lambda i: lax.switch(i, BRANCHES, X))(idx)
    close(got, np.stack([BRANCHES[2](X), BRANCHES[0](X), BRANCHES[1](X)]))
    close(fg.jit(lambda i: lax.switch(i, BRANCHES, X))(idx[0]), BRANCHES[2](X))


def test_switch_with_one_branch_calls_it():
    np.testing.assert_array_equal(lax.switch(4, [lambda x: 2 * x], X), 2 * X)


def test_only_the_chosen_branch_runs_eagerly():
    # log of a negative number raises under errstate(all="raise"): the false branch must not run.
    x = np.array([-1.0, -2.0])
    with np.errstate(all="raise"):
        got = lax.cond(True, lambda v: v * 2.0, lambda v: fnp.log(v), x)
        np.testing.assert_array_equal(got, 2 * x)
        with pytest.raises(FloatingPointError):
            lax.cond(False, lambda v: v * 2.0, lambda v: fnp.log(v), x)


def test_operands_may_be_any_pytree_with_integer_leaves_and_none_at_all():
    ops = {"x": X, "n": np.int32(2), "t": (1.5, np.arange(3))}

    def branch(o):
        return o["x"] * o["n"] + o["t"][0], o["t"][1] + o["n"]

    got = lax.cond(True, branch, lambda o: (o["x"] - o["t"][0], o["t"][1] * 0), ops)
    close(got, branch(ops))
    # No operands: the branches close over what they use.
    assert lax.cond(False, lambda: X[0], lambda: X[1]) == X[1]


# -- derivatives ----------------------------------------------------------------------------
@pytest.mark.parametrize("x", POINTS, ids=["false", "true"])
def test_cond_gradients_order_1_and_2_match_finite_differences(x):
    check_grads(via_cond, (x, W), order=2)


_GRAD = lambda f: fg.grad(f, argnums=(0, 1))
_THIRD = np.arange(9.0).reshape(3, 3)


@pytest.mark.parametrize("x", POINTS, ids=["false", "true"])
@pytest.mark.parametrize("transform, eager", [
    (_GRAD, _GRAD),
    (fg.hessian, fg.hessian),
    (lambda f: fg.grad(lambda x, w: fnp.sum(fg.hessian(f)(x, w) * _THIRD)),) * 2,
    (lambda f: fg.jacfwd(fg.grad(f)),) * 2,
    (lambda f: fg.jacrev(fg.grad(f, argnums=1), argnums=0),) * 2,
    # Python control flow cannot be jitted: under jit, the reference is the eager derivative.
    (lambda f: fg.jit(_GRAD(f)), _GRAD),
    (lambda f: fg.grad(fg.jit(f), argnums=(0, 1)), _GRAD),
    (lambda f: fg.jit(fg.hessian(f)), fg.hessian),
], ids=["grad", "hessian", "third order", "jacfwd-grad", "jacrev-grad", "jit-grad", "grad-jit",
        "jit-hessian"])
def test_cond_derivatives_match_python_control_flow(x, transform, eager):
    close(transform(via_cond)(x, W), eager(via_python)(x, W), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("i", [-1, 1, 2, 5])
def test_switch_gradients_match_python_and_finite_differences(i):
    check_grads(lambda x: via_switch(i, x), (X,), order=2)
    close(fg.grad(lambda x: via_switch(i, x))(X), fg.grad(lambda x: via_list(i, x))(X))
    close(fg.hessian(lambda x: via_switch(i, x))(X), fg.hessian(lambda x: via_list(i, x))(X))


@pytest.mark.parametrize("x", POINTS, ids=["false", "true"])
def test_jvp_is_the_transpose_of_vjp(x):
    def f(x, w):
        return lax.cond(fnp.sum(x) > 0, on_true, on_false, x, w)

    rng = np.random.default_rng(0)
    out, pullback = fg.vjp(f, x, W)
    u = tree.map(lambda o: rng.standard_normal(np.shape(o)), out)
    v = (rng.standard_normal(3), rng.standard_normal(3))
    cts = pullback(u)
    _, t = fg.jvp(f, (x, W), v)
    lhs = sum(np.sum(c * d) for c, d in zip(cts, v))
    rhs = sum(np.sum(a * b) for a, b in zip(tree.leaves(u), tree.leaves(t)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_gradient_through_a_closure_over_the_differentiated_value():
    def f(x):  # the branches take no operands: x reaches them as a closed-over value
        return lax.cond(x > 0, lambda: x ** 3, lambda: fnp.sin(x) * x)

    for x in (0.7, -0.7):
        close(fg.grad(f)(x), fg.grad(lambda x: x ** 3 if x > 0 else fnp.sin(x) * x)(x))
        check_grads(f, (x,), order=2)


def test_integer_results_get_no_cotangent_and_float_results_do():
    def f(x):
        y, n = lax.cond(x[0] > 0, lambda x: (x * 2.0, np.int64(3)),
                        lambda x: (x * x, fnp.sum(x > 0).astype(np.int64)), x)
        return fnp.sum(y) * n

    for x in (X, -X):
        close(fg.grad(f)(x), fg.grad(lambda x: fnp.sum(x * 2.0) * 3 if x[0] > 0 else
                                     fnp.sum(x * x) * np.sum(x > 0))(x))


# -- vmap -----------------------------------------------------------------------------------
XS = np.array([[0.3, -1.2, 0.8], [-0.3, 1.2, -0.8], [1.0, 2.0, 3.0], [-1.0, 0.5, 0.1]])


@pytest.mark.parametrize("batched, per_example", [
    (fg.vmap, lambda f: f),
    (lambda f: fg.jit(fg.vmap(f)), lambda f: f),
    (lambda f: fg.vmap(fg.grad(f)), fg.grad),
    (lambda f: fg.vmap(fg.hessian(f)), fg.hessian),
    (lambda f: fg.jit(fg.vmap(fg.grad(f))), fg.grad),
], ids=["vmap", "jit-vmap", "vmap-grad", "vmap-hessian", "jit-vmap-grad"])
def test_vmap_with_a_batched_predicate_matches_a_loop(batched, per_example):
    # The predicate depends on the batched x: XS's rows take both branches.
    got = batched(lambda x: via_cond(x, W))(XS)
    want = np.stack([per_example(lambda x: via_python(x, W))(x) for x in XS])
    close(got, want, rtol=1e-10, atol=1e-12)


def test_vmap_with_an_unbatched_predicate_keeps_one_cond():
    # The predicate comes from an unbatched argument: one cond of the batched branches.
    def f(p, x):
        return lax.cond(p > 0, lambda x: fnp.sin(x) * W, lambda x: x - fnp.sum(x), x)

    for p in (1.0, -1.0):
        got = fg.vmap(f, in_axes=(None, 0))(p, XS)
        close(got, np.stack([f(p, x) for x in XS]))
        graph = str(fg.make_graph(fg.vmap(f, in_axes=(None, 0)))(p, XS))
        assert "cond" in graph and "where" not in graph


def test_vmap_with_a_batched_predicate_is_a_select():
    graph = str(fg.make_graph(fg.vmap(lambda x: via_cond(x, W)))(XS))
    assert " cond " not in graph and "where" in graph


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
def test_vmap_of_switch_matches_a_loop(in_axes):
    idx = np.array([-1, 0, 2, 7])  # out of range on both sides: clamped per example
    xs = XS if in_axes[1] == 0 else XS[0]
    got = fg.vmap(via_switch, in_axes=in_axes)(idx if in_axes[0] == 0 else idx[2], xs)
    want = [via_list(int(idx[k] if in_axes[0] == 0 else idx[2]),
                     XS[k] if in_axes[1] == 0 else XS[0]) for k in range(4)]
    close(got, np.array(want), rtol=1e-13)
    grads = fg.vmap(fg.grad(via_switch, argnums=1), in_axes=in_axes)(
        idx if in_axes[0] == 0 else idx[2], xs)
    want = [fg.grad(via_list, argnums=1)(int(idx[k] if in_axes[0] == 0 else idx[2]),
                                         XS[k] if in_axes[1] == 0 else XS[0]) for k in range(4)]
    close(grads, np.stack(want), rtol=1e-13)


def test_vmap_of_cond_batched_only_through_a_closure():
    def f(p):  # the branches close over the batched p; no operands
        return lax.cond(p > 0, lambda: p * W, lambda: -W)

    ps = np.array([0.5, -1.0, 2.0])
    close(fg.vmap(f)(ps), np.stack([f(p) for p in ps]))


# -- jit, nesting, printing --------------------------------------------------------------------
def test_jit_traces_once_and_matches_eager():
    jf = fg.jit(via_cond, backend="numpy")
    for x in POINTS + [2 * X, -2 * X]:
        close(jf(x, W), via_cond(x, W))
    assert jf.cache_info().misses == 1


def test_cond_inside_cond_and_inside_jit_of_grad():
    def f(x):
        def outer_true(x):
            return lax.cond(x[1] > 0, lambda x: fnp.sin(x), lambda x: x * x, x)
        return fnp.sum(lax.cond(x[0] > 0, outer_true, lambda x: fnp.exp(x), x) ** 2)

    def python(x):
        inner = (fnp.sin(x) if x[1] > 0 else x * x) if x[0] > 0 else fnp.exp(x)
        return fnp.sum(inner ** 2)

    for x in (X, -X, np.array([1.0, 2.0, 3.0])):
        close(fg.jit(fg.grad(f))(x), fg.grad(python)(x))
        close(fg.hessian(f)(x), fg.hessian(python)(x), rtol=1e-10)


def test_graph_prints_the_branches_under_the_node():
    text = str(fg.make_graph(via_cond)(X, W))
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if " = cond " in line)
    assert lines[at + 1].startswith("    branches[0] = graph(")
    assert "branches[1] = graph(" in text
    assert "test_lax_cond.py" in text  # the user's source lines are shown
    assert "result index=1 count=2" in text  # one projection per result
    assert "cos" in text and "sin" in text


def test_the_traced_gradient_is_a_cond_over_the_branch_vjps():
    # Under tracing the index has no value: the backward pass is one more cond, over the
    # branches' VJP graphs (each branch's forward ops again, then its VJP rules).
    text = str(fg.make_graph(fg.grad(via_cond))(X, W))
    assert text.count(" = cond ") == 2 and text.count("branches[1] = graph(") == 2
    jf = fg.jit(fg.grad(via_cond), backend="numpy")
    for x in POINTS:
        close(jf(x, W), fg.grad(via_python)(x, W))
    assert jf.cache_info().misses == 1


# -- errors ---------------------------------------------------------------------------------
def test_branches_returning_different_structures_name_both():
    with pytest.raises(CarryError, match=r"false_fun's result has structure .* but "
                                         r"true_fun's result has structure"):
        lax.cond(True, lambda x: (x, x), lambda x: [x, x], X)


def test_branches_returning_different_shapes_name_the_leaf_and_both_types():
    with pytest.raises(CarryError) as info:
        lax.cond(True, lambda x: {"a": x, "b": x}, lambda x: {"a": x, "b": x[:2]}, X)
    msg = str(info.value)
    assert "['b']" in msg and "f64[2]" in msg and "f64[3]" in msg and "every branch" in msg
    assert "test_lax_cond.py" in msg  # the line that called cond


def test_branches_returning_different_dtypes_are_an_error():
    with pytest.raises(CarryError, match=r"branches\[2\]'s result .* f32\[3\].* f64\[3\]"):
        lax.switch(0, [lambda x: x, lambda x: x, lambda x: x.astype(np.float32)], X)


@pytest.mark.parametrize("pred, error, match", [
    (np.array([True, False]), ShapeError, r"scalar \(shape \(\)\), got bool\[2\]"),
    (np.float64(1.0), DTypeError, r"boolean or integer scalar, got f64\[\]"),
    ([True], ArgumentError, "scalar array or number"),
])
def test_bad_predicates(pred, error, match):
    with pytest.raises(error, match=match):
        lax.cond(pred, lambda x: x, lambda x: x, X)


def test_bad_switch_arguments():
    with pytest.raises(ArgumentError, match="empty"):
        lax.switch(0, [], X)
    with pytest.raises(DTypeError, match="integer scalar"):
        lax.switch(np.float64(1.0), BRANCHES, X)
    with pytest.raises(ArgumentError, match=r"branches\[1\] must be callable"):
        lax.switch(0, [lambda x: x, 3], X)
    with pytest.raises(ArgumentError, match="sequence"):
        lax.switch(0, lambda x: x, X)


def test_traced_predicate_inside_a_branch_is_a_concretization_error():
    from funcgrad.errors import ConcretizationError

    with pytest.raises(ConcretizationError, match="cond true_fun"):
        lax.cond(True, lambda x: x if x[0] > 0 else -x, lambda x: x, X)


# -- select ----------------------------------------------------------------------------------
def test_select_values_and_gradients():
    p = np.array([True, False, True])
    np.testing.assert_array_equal(lax.select(p, X, W), np.where(p, X, W))
    np.testing.assert_array_equal(lax.select(np.bool_(False), X, W), W)
    gx, gw = fg.grad(lambda x, w: fnp.sum(lax.select(p, x, w) ** 2), argnums=(0, 1))(X, W)
    np.testing.assert_array_equal(gx, np.where(p, 2 * X, 0.0))
    np.testing.assert_array_equal(gw, np.where(p, 0.0, 2 * W))
    close(fg.vmap(lax.select)(np.stack([p, ~p]), np.stack([X, W]), np.stack([W, X])),
          np.stack([np.where(p, X, W), np.where(~p, W, X)]))


def test_select_refuses_broadcasting_and_non_boolean_predicates():
    with pytest.raises(ShapeError, match="same shape and dtype"):
        lax.select(True, X, W[:2])
    with pytest.raises(ShapeError, match="same shape and dtype"):
        lax.select(True, X, W.astype(np.float32))
    with pytest.raises(DTypeError, match="boolean"):
        lax.select(np.ones(3), X, W)
    with pytest.raises(ShapeError, match="scalar or have the shape"):
        lax.select(np.array([True, False]), X, W)
