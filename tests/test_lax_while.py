"""``lax.while_loop`` under every transformation.

Values and forward-mode derivatives are checked against the same loop written as a
Python ``while`` and evaluated eagerly, and against central finite differences
(``check_grads`` in forward mode); reverse mode must fail with an error naming the way out.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, FORWARD_DIFFERENTIABLE, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax, tree
from funcgrad.errors import ArgumentError, CarryError
from funcgrad.testing import check_grads

X = np.array([0.3, -1.2, 0.8])
A = np.float64(0.7)


def body(a, state):
    i, y = state["i"], state["y"]
    return {"i": i + 1, "y": fnp.sin(y) * a + y * fnp.cos(a)}


def via_while(a, x, n=4):
    return lax.while_loop(lambda s: s["i"] < n, lambda s: body(a, s), {"i": 0, "y": x})["y"]


def via_python(a, x, n=4):
    state = {"i": 0, "y": x}
    while state["i"] < n:
        state = body(a, state)
    return state["y"]


def close(got, want, rtol=1e-12, atol=1e-12):
    assert tree.structure(got) == tree.structure(want)
    for g, e in zip(tree.leaves(got), tree.leaves(want)):
        assert np.shape(g) == np.shape(e) and np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# -- values --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 5])
def test_values_match_a_python_loop(n):
    close(via_while(A, X, n), via_python(A, X, n))


def test_pytree_carry_with_integer_and_python_scalar_leaves():
    def cond_fun(c):
        return c[0] < c[2]["stop"]

    def body_fun(c):
        i, v, d = c
        return i + 1, v * 2.0, {"stop": d["stop"], "acc": d["acc"] + fnp.sum(v)}

    init = (np.int32(0), X, {"stop": np.int32(3), "acc": 0.0})
    got = lax.while_loop(cond_fun, body_fun, init)
    want = init
    while cond_fun(want):
        want = body_fun(want)
    close(got, want)


def test_data_dependent_trip_count():
    # Newton's method for sqrt(2): stops when the step is small, as a Python loop would.
    def cond_fun(c):
        return fnp.abs(c[1] * c[1] - 2.0) > 1e-12

    def body_fun(c):
        return c[0] + 1, 0.5 * (c[1] + 2.0 / c[1])

    n, root = lax.while_loop(cond_fun, body_fun, (0, np.float64(1.0)))
    assert root == pytest.approx(np.sqrt(2.0), rel=1e-15) and 3 <= n <= 6


# -- forward mode ---------------------------------------------------------------------------------
def test_forward_mode_matches_finite_differences_to_order_2():
    check_grads(via_while, (A, X), order=2, modes="fwd")


@pytest.mark.parametrize("transform, eager", [
    (lambda f: fg.jacfwd(f, argnums=(0, 1)),) * 2,
    (lambda f: fg.jacfwd(fg.jacfwd(f, argnums=0), argnums=(0, 1)),) * 2,
    (lambda f: fg.jacfwd(fg.jacfwd(fg.jacfwd(f, argnums=1), argnums=1), argnums=0),) * 2,
    (lambda f: fg.jit(fg.jacfwd(f, argnums=(0, 1))), lambda f: fg.jacfwd(f, argnums=(0, 1))),
    (lambda f: fg.jacfwd(fg.jit(f), argnums=(0, 1)), lambda f: fg.jacfwd(f, argnums=(0, 1))),
], ids=["jacfwd", "jacfwd-jacfwd", "third order", "jit-jacfwd", "jacfwd-jit"])
def test_forward_derivatives_match_python_loop(transform, eager):
    close(transform(via_while)(A, X), eager(via_python)(A, X), rtol=1e-10, atol=1e-12)


def test_jvp_carries_the_tangents_of_closed_over_values():
    # ``a`` reaches the body only as a closed-over value (a const of the loop): its tangent too.
    def f(a):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * a + 1.0),
                              (0, X))[1]

    out, t = fg.jvp(f, (A,), (np.float64(1.0),))
    # Closed form: y3 = a^3 x + a^2 + a + 1, dy3/da = 3a^2 x + 2a + 1.
    np.testing.assert_allclose(out, A ** 3 * X + A ** 2 + A + 1, rtol=1e-14)
    np.testing.assert_allclose(t, 3 * A ** 2 * X + 2 * A + 1, rtol=1e-14)


def test_jvp_with_a_zero_tangent_keeps_the_plain_loop():
    out, t = fg.jvp(lambda x: via_while(A, x), (X,), (np.zeros(3),))
    close(out, via_python(A, X))
    np.testing.assert_array_equal(t, np.zeros(3))


# -- reverse mode: refused with the way out --------------------------------------------------------
@pytest.mark.parametrize("transform", [
    lambda f: fg.grad(lambda x: fnp.sum(f(x))),
    lambda f: (lambda x: fg.vjp(f, x)[1](np.ones(3))),
    fg.jacrev,
    lambda f: fg.hessian(lambda x: fnp.sum(f(x))),
], ids=["grad", "vjp", "jacrev", "hessian"])
def test_reverse_mode_is_a_clear_error(transform):
    with pytest.raises(ArgumentError) as info:
        transform(lambda x: via_while(A, x))(X)
    msg = str(info.value)
    assert "Reverse-mode differentiation".lower() in msg.lower()
    assert "lax.scan" in msg and "fori_loop" in msg and "static" in msg
    assert "test_lax_while.py" in msg  # where the loop's body is


def test_no_error_when_no_cotangent_reaches_the_loop():
    def f(x):
        n = lax.while_loop(lambda c: c < 3, lambda c: c + 1, 0)
        return fnp.sum(x * x) * n

    np.testing.assert_allclose(fg.grad(f)(X), 6 * X, rtol=1e-15)


# -- vmap -------------------------------------------------------------------------------------------
XS = np.array([[0.3, -1.2, 0.8], [1.0, 0.5, -0.4], [-2.0, 0.1, 0.2]])


def test_vmap_with_an_unbatched_predicate_batches_the_body():
    got = fg.vmap(lambda x: via_while(A, x))(XS)
    close(got, np.stack([via_python(A, x) for x in XS]))
    graph = str(fg.make_graph(fg.vmap(lambda x: via_while(A, x)))(XS))
    assert "while" in graph and "any" not in graph  # no per-example predicate


def steps(limit, x):
    """Multiply by 1.5 and add 0.1 while the counter is below ``limit`` (a data-dependent trip count)."""
    return lax.while_loop(lambda c: c[0] < limit, lambda c: (c[0] + 1.0, c[1] * 1.5 + 0.1),
                          (0.0, x))


def steps_python(limit, x):
    c = (0.0, x)
    while c[0] < limit:
        c = (c[0] + 1.0, c[1] * 1.5 + 0.1)
    return c


LIMITS = np.array([0.5, 3.5, 1.5])  # 1, 4 and 2 iterations


@pytest.mark.parametrize("transform", [fg.vmap, lambda f: fg.jit(fg.vmap(f))],
                         ids=["vmap", "jit-vmap"])
def test_vmap_with_a_batched_predicate_runs_each_member_its_own_trip_count(transform):
    got = transform(steps)(LIMITS, XS)
    want = [steps_python(n, x) for n, x in zip(LIMITS, XS)]
    close(got, (np.array([w[0] for w in want]), np.stack([w[1] for w in want])))
    assert list(got[0]) == [1.0, 4.0, 2.0]


def test_vmap_with_only_a_batched_limit_and_an_unbatched_carry():
    got = fg.vmap(steps, in_axes=(0, None))(LIMITS, X)
    close(got[1], np.stack([steps_python(n, X)[1] for n in LIMITS]))


def test_vmap_where_the_body_batches_an_unbatched_carry():
    # The carry starts unbatched; the body adds the batched w to it, so it must be batched.
    def f(w):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] + w), (0, X))[1]

    ws = np.array([0.5, -1.0])
    close(fg.vmap(f)(ws), np.stack([X + 3 * w for w in ws]))


@pytest.mark.parametrize("order", ["vmap-jvp", "jvp-vmap"])
def test_vmap_and_jvp_compose(order):
    v = np.ones(3)
    if order == "vmap-jvp":
        got = fg.vmap(lambda n, x: fg.jvp(lambda x: steps(n, x)[1], (x,), (v,)))(LIMITS, XS)
    else:
        got = fg.jvp(lambda xs: fg.vmap(lambda n, x: steps(n, x)[1])(LIMITS, xs),
                     (XS,), (np.ones_like(XS),))
    want_out = np.stack([steps_python(n, x)[1] for n, x in zip(LIMITS, XS)])
    want_t = np.stack([np.full(3, 1.5 ** k) for k in (1, 4, 2)])  # d/dx of 1.5^k x + c
    close(got, (want_out, want_t), rtol=1e-14)


# -- jit, nesting, printing -------------------------------------------------------------------------
def test_jit_matches_eager_and_compiles_once_for_any_trip_count():
    jf = fg.jit(steps, backend="numpy")
    for n in (0.5, 2.5, 7.5):
        close(jf(np.float64(n), X), steps_python(n, X))
    assert jf.cache_info().misses == 1


def test_cond_inside_while_and_while_inside_cond():
    def f(x):
        def body_fun(c):
            i, y = c
            return i + 1, lax.cond(i % 2 == 0, lambda y: y * 2.0, lambda y: fnp.sin(y), y)
        return lax.while_loop(lambda c: c[0] < 5, body_fun, (0, x))[1]

    def python(x):
        for i in range(5):
            x = x * 2.0 if i % 2 == 0 else fnp.sin(x)
        return x

    close(f(X), python(X))
    close(fg.jacfwd(f)(X), fg.jacfwd(python)(X))
    close(fg.jit(fg.jacfwd(f))(X), fg.jacfwd(python)(X))
    close(fg.vmap(f)(XS), np.stack([python(x) for x in XS]))

    def g(x):
        return lax.cond(fnp.sum(x) > 0, lambda x: via_while(A, x), lambda x: -x, x)

    for x in (X, -X):
        close(fg.jacfwd(g)(x), fg.jacfwd(lambda x: via_python(A, x) if np.sum(x) > 0 else -x)(x))


def test_graph_prints_cond_and_body_under_the_node():
    text = str(fg.make_graph(lambda x: via_while(A, x))(X))
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if " = while " in line)
    assert "num_cond_consts=0 num_body_consts=" in lines[at]
    assert lines[at + 1].startswith("    cond = graph(")
    assert any(line.startswith("    body = graph(") for line in lines[at + 1:])
    assert "test_lax_while.py" in text and "sin" in text


# -- errors -----------------------------------------------------------------------------------------
def test_body_changing_a_carry_shape_names_the_leaf_and_both_types():
    with pytest.raises(CarryError) as info:
        lax.while_loop(lambda c: c["i"] < 3, lambda c: {"i": c["i"] + 1, "y": c["y"][:2]},
                       {"i": 0, "y": X})
    msg = str(info.value)
    assert "body_fun's result at ['y'] is f64[2]" in msg and "f64[3]" in msg
    assert "test_lax_while.py" in msg  # the line that called while_loop


def test_body_changing_a_carry_dtype_is_an_error():
    with pytest.raises(CarryError, match=r"\[1\] is f32\[3\].*f64\[3\]"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1].astype(np.float32)), (0, X))
    # A Python int counter is int64; adding a float to it changes its dtype.
    with pytest.raises(CarryError, match=r"\[0\] is f64\[\].*i64\[\]"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1.0, c[1]), (0, X))


def test_body_changing_the_carry_structure_is_an_error():
    with pytest.raises(CarryError, match="structure"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: [c[0] + 1, c[1]], (0, X))


@pytest.mark.parametrize("cond_fun, got", [
    (lambda c: c[1], r"f64\[3\]"),
    (lambda c: c[1] > 0, r"bool\[3\]"),
    (lambda c: c[0] + 1, r"i64\[\]"),
    (lambda c: (c[0] < 3, c[0] < 4), r"bool\[\], bool\[\]"),
])
def test_cond_fun_must_return_a_boolean_scalar(cond_fun, got):
    with pytest.raises(CarryError, match=rf"boolean scalar \(bool\[\]\), but it returned {got}"):
        lax.while_loop(cond_fun, lambda c: c, (0, X))


def test_non_callables_and_bad_leaves_are_argument_errors():
    with pytest.raises(ArgumentError, match="body_fun must be callable"):
        lax.while_loop(lambda c: c < 3, 3, 0)
    with pytest.raises(ArgumentError, match="init_val"):
        lax.while_loop(lambda c: c[0] < 3, lambda c: c, (0, "text"))


# -- the op table's forward-only rows ---------------------------------------------------------------
_FORWARD_ONLY = [r for r in FORWARD_DIFFERENTIABLE if r not in DIFFERENTIABLE]


def test_the_op_table_marks_the_while_loop_rows_forward_only():
    assert {r.name for r in _FORWARD_ONLY} >= {"lax.while_loop[fixed trips]",
                                               "lax.while_loop[trips from data]"}


@pytest.mark.parametrize("rec", _FORWARD_ONLY, ids=lambda r: r.name)
@settings(max_examples=2)
@given(data=st.data())
def test_forward_only_rows_really_refuse_reverse_mode(rec, data):
    # The rows the reverse-mode table tests leave out must fail there, not silently pass.
    args = data.draw(rec.args(np.float64), label="args")
    loss = scalarize(rec.fun, rec.fun(*args))
    with pytest.raises(ArgumentError, match="lax.scan"):
        fg.grad(loss, argnums=rec.diff_argnums)(*args)
