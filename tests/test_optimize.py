"""The graph optimiser: each pass on its own, the pipeline, and what jit relies on.

Every pass is checked two ways: structurally (which nodes are left) and by
value (the optimised graph computes what the original computes, evaluated with
the reference interpreter).
"""

import importlib
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad._core.graph import CONSTANT, Graph, Node
from funcgrad._core.interpret import Executable, eval_graph
from funcgrad.errors import ArgumentError
from funcgrad.ops.elementwise import add_p, exp_p, multiply_p, sin_p
from funcgrad.ops.linalg import inv_p
from funcgrad.optimize import (
    DEFAULT_PASSES,
    Program,
    cse,
    dce,
    fold,
    fuse,
    fused_p,
    optimize,
    pair_scans,
    simplify,
)
from funcgrad.optimize._rewrite import make_node
from funcgrad.testing import check_grads
from funcgrad.testing.strategies import array_pairs, arrays

fold_mod = importlib.import_module("funcgrad.optimize.fold")  # the module; `fold` is the pass
SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan])


def graph_of(f, *args):
    return fg.make_graph(f)(*args)


def op_counts(g):
    return Counter(n.name for n in g.nodes if n.primitive is not None)


def constants(g):
    return [n for n in g.nodes if n.kind == CONSTANT]


def assert_identical(got, want):
    """Same shape, dtype and bits (NaN matches NaN, -0.0 does not match 0.0)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    if want.dtype.kind in "fc":
        np.testing.assert_array_equal(np.signbit(got.real), np.signbit(want.real))


def assert_same_outputs(g, go, args, exact=True):
    with np.errstate(all="ignore"):  # inf and NaN inputs are on purpose
        want, got = eval_graph(g, args), eval_graph(go, args)
    assert len(got) == len(want)
    for w, o, node in zip(want, got, go.outputs):
        assert np.shape(o) == node.shape and np.asarray(o).dtype == node.dtype
        if exact:
            assert_identical(o, w)
        else:
            assert np.asarray(o).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(o, w, rtol=1e-10, atol=1e-12, equal_nan=True)


# -- dead-code elimination ---------------------------------------------------------------
def test_dce_drops_nodes_no_output_needs_and_keeps_every_input():
    g = graph_of(lambda x, y: (fnp.sin(x) * 2.0, fnp.exp(y)), np.ones(3), np.ones(3))
    cut = dce(Graph(g.inputs, g.outputs[1:], g.in_tree))
    assert op_counts(cut) == {"exp": 1}
    assert cut.inputs == g.inputs  # x is unused now, but still an input
    assert_same_outputs(Graph(g.inputs, g.outputs[1:]), cut, [np.ones(3), np.arange(3.0)])


def test_dce_after_a_rewrite_drops_the_bypassed_nodes():
    g = graph_of(lambda x: fnp.negative(-x), np.ones(2))
    assert op_counts(g) == {"negative": 2}
    out = dce(simplify(g))
    assert op_counts(out) == {} and out.outputs == g.inputs


# -- common subexpressions -------------------------------------------------------------------
def test_cse_merges_duplicate_subexpressions():
    def f(x, y):
        return fnp.sin(x * y) + fnp.sin(x * y) + fnp.cos(x * y)

    g = graph_of(f, np.ones(3), np.ones(3))
    assert op_counts(g) == {"multiply": 3, "sin": 2, "cos": 1, "add": 2}
    out = cse(g)
    assert op_counts(out) == {"multiply": 1, "sin": 1, "cos": 1, "add": 2}
    assert_same_outputs(g, out, [np.linspace(-1, 1, 3), np.arange(3.0)])


def test_cse_keeps_nodes_whose_params_differ():
    g = graph_of(lambda x: (fnp.sum(x, axis=0), fnp.sum(x, axis=1), fnp.sum(x, axis=0)),
                 np.ones((2, 3)))
    out = cse(g)
    assert op_counts(out) == {"sum": 2}
    assert out.outputs[0] is out.outputs[2] and out.outputs[0] is not out.outputs[1]


def test_cse_merges_equal_constants_but_not_weak_with_strong_or_signed_zeros():
    c = np.array([1.0, 2.0])

    def f(x):
        return (x * c + c, x * 2.0 + 2.0, x * np.float64(2.0), x + 0.0, x + -0.0, x * 2)

    g = graph_of(f, np.ones(2, np.float32))
    out = cse(g)
    values = [n.value for n in constants(out)]
    assert sum(isinstance(v, np.ndarray) and v.shape == (2,) for v in values) == 1
    scalars = sorted((type(v).__name__, repr(v)) for v in values if np.ndim(v) == 0)
    # the weak 2.0, the NumPy float64 2.0 and the int 2 stay apart, as do 0.0 and -0.0
    assert scalars == [("float", "-0.0"), ("float", "0.0"), ("float", "2.0"),
                       ("float64", "np.float64(2.0)"), ("int", "2")]
    x = np.array([-0.0, 3.0], np.float32)
    assert_same_outputs(g, out, [x])
    dtypes = [o.dtype for o in eval_graph(out, [x])]
    assert dtypes == [np.float64, np.float32, np.float64, np.float32, np.float32, np.float32]


def test_cse_keeps_constants_of_different_shapes_apart():
    c1, c0 = Node.constant(np.array([0.5])), Node.constant(np.array(0.5))
    g = Graph([], [c1, c0, Node.constant(np.array([[0.5]])), Node.constant(np.array([0.5]))])
    out = cse(g)
    assert [np.shape(v) for v in eval_graph(out, [])] == [(1,), (), (1, 1), (1,)]
    assert out.outputs[3] is out.outputs[0]


def test_cse_merges_strided_constants_by_value():
    a = np.arange(6.0).reshape(2, 3)
    g = Graph([], [Node.constant(a.T), Node.constant(np.ascontiguousarray(a.T)), Node.constant(a)])
    out = cse(g)
    assert out.outputs[0] is out.outputs[1] and out.outputs[2] is not out.outputs[0]


# -- constant folding -------------------------------------------------------------------------
# Tracing runs an op on constants right away, so a traced graph rarely holds one; other passes
# and transformations make them.  These graphs are built node by node.
def const_graph(build, x):
    """The graph ``x -> build(x_node)``, where ``build`` makes nodes with ``make_node``."""
    inp = Node.input(np.shape(x), np.asarray(x).dtype)
    return Graph([inp], [build(inp)])


def test_fold_turns_constant_subexpressions_into_one_read_only_constant():
    c = np.array([0.0, 1.0])
    g = const_graph(lambda x: make_node(add_p, [x, make_node(
        multiply_p, [make_node(exp_p, [Node.constant(c)]), Node.constant(3.0)])]), np.ones(2))
    assert op_counts(g) == {"add": 1, "multiply": 1, "exp": 1}
    out = fold(g)
    assert op_counts(out) == {"add": 1}
    (k,) = [n for n in constants(out) if n.value is not c]
    np.testing.assert_array_equal(k.value, np.exp(c) * 3.0)
    assert not k.value.flags.writeable
    assert_same_outputs(g, out, [np.array([1.0, -2.0])])


def test_fold_keeps_the_dtype_numpy_would_give():
    # exp(float32) * 2.0 is float32; folded, it must not turn x + (...) into float64.
    g = const_graph(lambda x: make_node(add_p, [x, make_node(
        multiply_p, [make_node(exp_p, [Node.constant(np.float32(0.5))]), Node.constant(2.0)])]),
        np.ones(2, np.float32))
    out = fold(g)
    assert op_counts(out) == {"add": 1}
    assert_same_outputs(g, out, [np.array([1.0, 2.0], np.float32)])


def test_fold_skips_results_over_the_size_limit(monkeypatch):
    monkeypatch.setattr(fold_mod, "MAX_FOLDED_SIZE", 3)
    for n, folded in ((3, True), (4, False)):
        c = Node.constant(np.ones(n))
        g = const_graph(lambda x, c=c: make_node(add_p, [x, make_node(exp_p, [c])]), np.ones(n))
        assert op_counts(fold(g)) == ({"add": 1} if folded else {"add": 1, "exp": 1})


def test_fold_leaves_an_op_that_fails_for_the_run_to_report():
    singular = Node.constant(np.zeros((2, 2)))
    g = const_graph(lambda x: make_node(add_p, [x, make_node(inv_p, [singular])]), np.ones((2, 2)))
    out = fold(g)
    assert op_counts(out) == {"inv": 1, "add": 1}
    with pytest.raises(np.linalg.LinAlgError):
        eval_graph(out, [np.ones((2, 2))])


# -- algebraic simplification ------------------------------------------------------------------
def simplified(f, *args):
    g = graph_of(f, *args)
    out = simplify(g)
    assert_same_outputs(g, out, list(args))
    return out


@pytest.mark.parametrize("f", [lambda x: x * 1.0, lambda x: 1.0 * x, lambda x: x * 1,
                               lambda x: x * np.ones(7), lambda x: True * x])
def test_multiply_by_one_is_x(f):
    out = simplified(f, SPECIAL)
    assert op_counts(out) == {} and out.outputs == out.inputs


@pytest.mark.parametrize("f, x", [
    (lambda x: x * np.ones((2, 7)), SPECIAL),          # the shape would change
    (lambda x: x * 1.0, np.arange(3)),                 # int * float is float
    (lambda x: x * np.float64(1.0), SPECIAL.astype(np.float32)),  # strong float64 promotes
    (lambda x: x * 1.0, np.array([np.inf + 0j])),      # complex: inf * (1+0j) has a NaN part
])
def test_multiply_by_one_stays_when_it_would_change_shape_dtype_or_value(f, x):
    assert op_counts(simplified(f, x)) == {"multiply": 1}


@pytest.mark.parametrize("f, x", [
    (lambda x: x + 0, np.arange(-3, 3)),
    (lambda x: 0 + x, np.arange(-3, 3)),
    (lambda x: x - 0, np.arange(-3, 3)),
    (lambda x: x + -0.0, SPECIAL),       # -0.0 is the float additive identity
    (lambda x: -0.0 + x, SPECIAL),
    (lambda x: x - 0.0, SPECIAL),
    (lambda x: x + np.zeros(7, int), np.arange(7)),
])
def test_adding_the_identity_zero_is_x(f, x):
    out = simplified(f, x)
    assert op_counts(out) == {} and out.outputs == out.inputs


@pytest.mark.parametrize("f, x", [
    (lambda x: x + 0.0, SPECIAL),         # -0.0 + 0.0 is +0.0: the sign of zero would change
    (lambda x: x - -0.0, SPECIAL),
    (lambda x: x + 0.0, np.arange(3)),    # int + float is float
    (lambda x: x + 0, np.array([True, False])),  # bool + int is int
    (lambda x: x + np.zeros((2, 7)), SPECIAL),
])
def test_adding_zero_stays_when_it_is_not_exact(f, x):
    assert sum(op_counts(simplified(f, x)).values()) == 1


def test_plus_zero_really_changes_negative_zero():
    # Why x + 0.0 is kept: NumPy gives +0.0 where x is -0.0.
    assert not np.signbit(np.float64(-0.0) + 0.0)


def test_a_constant_true_condition_picks_its_branch_exactly():
    other = np.arange(7.0)
    for f in (lambda x: fnp.where(True, x, other), lambda x: fnp.where(np.ones(7, bool), x, 0.0),
              lambda x: fnp.where(fnp.logical_or(fnp.isfinite(x), True), x, 0.0)):
        assert op_counts(simplified(f, SPECIAL)) == {}   # NaN, inf and -0.0 pass unchanged
    out = simplified(lambda x: fnp.logical_or(x > 0, np.ones((2, 7), bool)), SPECIAL)
    assert op_counts(out) == {} and out.outputs[0].shape == (2, 7)
    # A condition that is not all True, or a branch that would broadcast, stays.
    assert op_counts(simplified(lambda x: fnp.where(np.arange(7) > 0, x, 0.0), SPECIAL)) == {
        "where": 1}
    assert op_counts(simplified(lambda x: fnp.where(np.ones((2, 7), bool), x, 0.0),
                                SPECIAL)) == {"where": 1}


def test_multiply_guards_vanish_under_a_constant_nonzero_cotangent():
    # grad's seed is 1 and 0.5 * it is a nonzero constant: the VJP of r * r needs no
    # "zero cotangent stays zero" guard, and jit's graph has none.
    f = fg.grad(lambda x: 0.5 * fnp.sum(x * x))
    out = optimize(graph_of(f, SPECIAL))
    assert "isfinite" not in str(out) and "where" not in str(out)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(fg.jit(f, backend="numpy")(SPECIAL), f(SPECIAL))


def test_double_negation_cancels():
    neg = fnp.negative
    assert op_counts(simplified(lambda x: neg(neg(x)), SPECIAL)) == {}
    assert op_counts(simplified(lambda x: neg(neg(neg(x))), SPECIAL)) == {"negative": 1}
    u = np.array([0, 1, 255], np.uint8)  # wraps around, and back
    assert op_counts(simplified(lambda x: neg(neg(x)), u)) == {}


def test_transpose_of_transpose_composes():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert op_counts(simplified(lambda x: fnp.transpose(fnp.transpose(x, (1, 2, 0)), (2, 0, 1)),
                                x)) == {}
    out = simplified(lambda x: fnp.transpose(fnp.transpose(x, (1, 2, 0)), (1, 0, 2)), x)
    assert op_counts(out) == {"transpose": 1}
    out = simplified(lambda x: x.T.T, np.arange(6.0).reshape(2, 3))
    assert op_counts(out) == {}


def test_reshape_of_reshape_composes():
    x = np.arange(24.0).reshape(2, 3, 4)
    out = simplified(lambda x: fnp.reshape(fnp.reshape(fnp.reshape(x, (24,)), (6, 4)), (4, 6)), x)
    assert op_counts(out) == {"reshape": 1}
    assert op_counts(simplified(lambda x: fnp.reshape(fnp.reshape(x, (6, 4)), (2, 3, 4)), x)) == {}


@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.float32, bool])
def test_sum_of_broadcast_is_a_scaled_value(dtype):
    x = (np.arange(3) - 1).astype(dtype)

    def f(x):
        return (fnp.sum(fnp.broadcast_to(x, (4, 3)), axis=0),
                fnp.sum(fnp.broadcast_to(x, (5, 4, 3)), axis=(0, 1), keepdims=True))

    g = graph_of(f, x)
    out = simplify(g)
    assert "sum" not in op_counts(out) and "broadcast_to" not in op_counts(out)
    assert_same_outputs(g, out, [x], exact=np.dtype(dtype).kind != "f")
    assert_same_outputs(g, out, [x], exact=False)


def test_sum_of_broadcast_over_some_replicated_axes_keeps_the_rest_broadcast():
    x = np.array([[1.5, -2.0, 0.25]])  # (1, 3)
    g = graph_of(lambda x: fnp.sum(fnp.broadcast_to(x, (5, 4, 3)), axis=0), x)
    out = simplify(g)
    assert op_counts(out) == {"multiply": 1, "broadcast_to": 1}
    assert_same_outputs(g, out, [x])  # these values are exact: 5 * x has no rounding


@pytest.mark.parametrize("f, x", [
    (lambda x: fnp.sum(fnp.broadcast_to(x, (4, 3)), axis=1), np.ones(3)),  # x's own axis
    (lambda x: fnp.sum(fnp.broadcast_to(x, (4, 3)), axis=0), np.ones(3, np.int32)),  # -> int64
    (lambda x: fnp.sum(fnp.broadcast_to(x, (0, 3)), axis=0), np.array([np.inf, 1.0, 2.0])),
])
def test_sum_of_broadcast_stays_when_not_a_pure_replication(f, x):
    assert op_counts(simplified(f, x))["sum"] == 1


def test_a_broadcast_operand_of_an_elementwise_op_is_read_in_place():
    x, y = np.linspace(-1, 1, 12).reshape(4, 3), np.array([[0.5], [-2.0], [0.0], [3.0]])

    def f(x, y):
        return x * fnp.broadcast_to(y, (4, 3)) + fnp.broadcast_to(y[0], (4, 3))

    out = simplified(f, x, y)
    assert "broadcast_to" not in op_counts(out)
    assert op_counts(out)["multiply"] == 1 and op_counts(out)["add"] == 1


@pytest.mark.parametrize("f", [
    lambda x, y: fnp.broadcast_to(y, (2, 4, 3)) * x,      # the broadcast gives the result its shape
    lambda x, y: fnp.exp(fnp.broadcast_to(y, (4, 3))),   # the only operand: nothing else broadcasts
])
def test_a_broadcast_that_shapes_the_result_stays(f):
    x, y = np.ones((4, 3)), np.arange(3.0)
    assert op_counts(simplified(f, x, y))["broadcast_to"] == 1


def uniform_graph(c, x):
    return const_graph(lambda n: make_node(multiply_p, [n, Node.constant(c)]), x)


@pytest.mark.parametrize("c, x, scalar", [
    (np.full((4, 3), -0.015625), np.linspace(-1, 1, 12).reshape(4, 3), -0.015625),
    (np.full(3, np.nan), np.linspace(-1, 1, 12).reshape(4, 3), np.nan),
    (np.full((4, 3), 3, np.int8), np.arange(12, dtype=np.int8).reshape(4, 3), 3),
    (np.full(3, 0.5, np.float32), np.linspace(-1, 1, 3, dtype=np.float32), 0.5),
])
def test_a_uniform_constant_array_becomes_a_weak_scalar(c, x, scalar):
    g = uniform_graph(c, x)
    out = simplify(g)
    (k,) = constants(out)
    assert type(k.value) is type(scalar) and (k.value == scalar or np.isnan(scalar))
    assert_same_outputs(g, out, [x])


def test_a_uniform_constant_of_another_dtype_becomes_a_0d_array():
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    g = uniform_graph(np.full((2, 3), 0.1), x)  # float32 * float64 array is float64
    out = simplify(g)
    (k,) = constants(out)
    assert type(k.value) is np.ndarray and k.value.shape == () and k.value.dtype == np.float64
    assert out.outputs[0].dtype == np.float64
    assert_same_outputs(g, out, [x])


@pytest.mark.parametrize("c, x", [
    (np.array([0.0, -0.0, 0.0]), np.ones(3)),        # equal, but not the same bits
    (np.array([1.0, 2.0, 3.0]), np.ones(3)),         # not uniform
    (np.full((2, 3), 2.0), np.ones(3)),              # it gives the result its shape
])
def test_a_constant_array_stays_when_not_a_uniform_scalar(c, x):
    out = simplify(uniform_graph(c, x))
    assert [np.shape(k.value) for k in constants(out)] == [c.shape]


def test_sum_of_a_negation_is_the_negated_sum():
    x = np.linspace(-1, 1, 12).reshape(4, 3)
    out = simplified(lambda x: fnp.sum(-x, axis=1), x)
    (neg,) = [n for n in out.nodes if n.name == "negative"]
    assert neg.shape == (4,) and neg.inputs[0].name == "sum"
    # ... but not when -x is needed anyway: that would add a negation
    def f(x):
        n = -x
        return fnp.sum(n, axis=1), n

    out = simplified(f, x)
    assert [n.shape for n in out.nodes if n.name == "negative"] == [(4, 3)]
    # (a traced graph may hold -x twice: CSE runs first in the pipeline)
    out = optimize(graph_of(lambda x: (fnp.sum(-x, axis=1), -x), x), (cse, simplify, dce))
    assert [n.shape for n in out.nodes if n.name == "negative"] == [(4, 3)]


def test_sum_of_a_negation_differs_only_in_the_sign_of_an_exact_zero():
    x = np.array([[0.0, -0.0], [1.5, -1.5], [2.0, 0.25]])
    g = graph_of(lambda x: fnp.sum(-x, axis=1), x)
    got, want = eval_graph(simplify(g), [x])[0], eval_graph(g, [x])[0]
    np.testing.assert_array_equal(got, want)  # equal values: -0.0 == 0.0
    assert np.signbit(got[:2]).all() and not np.signbit(want[:2]).any()


def test_a_reshaped_sum_becomes_a_keepdims_sum():
    x = np.linspace(-1, 1, 24).reshape(2, 3, 4)
    out = simplified(lambda x: fnp.reshape(fnp.sum(x, axis=(0, 2)), (1, 3, 1)), x)
    (s,) = [n for n in out.nodes if n.primitive is not None]
    assert s.name == "sum" and s.params["keepdims"] and s.shape == (1, 3, 1)
    # through an elementwise op: reshape(-sum(x)) is -sum(x, keepdims=True)
    out = simplified(lambda x: fnp.reshape(-fnp.sum(x, axis=2), (2, 3, 1)), x)
    assert op_counts(out) == {"sum": 1, "negative": 1}
    # not when the sum is needed as it is: both forms would be computed
    def f(x):
        s = fnp.sum(x, axis=2)
        return fnp.reshape(s, (2, 3, 1)), s

    assert op_counts(simplified(f, x)) == {"sum": 1, "reshape": 1}


def test_the_unbroadcast_of_a_softmax_gradient_simplifies():
    def loss(z, y):
        lse = fnp.log(fnp.sum(fnp.exp(z), axis=1, keepdims=True))
        return -fnp.sum(y * (z - lse)) / z.shape[0]

    z, y = np.linspace(-2, 2, 12).reshape(4, 3), np.eye(3)[[0, 2, 1, 1]]
    g = graph_of(fg.grad(loss), z, y)
    out = simplify(g)
    counts = op_counts(out)
    assert "reshape" not in counts and "broadcast_to" not in counts
    assert all(np.ndim(k.value) == 0 for k in constants(out))
    assert_same_outputs(g, out, [z, y], exact=False)


# -- fusion ---------------------------------------------------------------------------------
def ten_ops(x):
    y = fnp.exp(-(fnp.sin(x) * 2.0)) + 1.0   # 5 ops
    y = fnp.sqrt(fnp.tanh(y) * y - x)        # 4 more
    return fnp.log1p(y)                      # 10


def test_a_chain_of_ten_elementwise_ops_is_one_fused_node():
    x = np.linspace(-3, 0, 11)
    g = graph_of(ten_ops, x)
    assert sum(op_counts(g).values()) == 10
    out = fuse(g)
    assert op_counts(out) == {"fused": 1}
    (node,) = [n for n in out.nodes if n.primitive is fused_p]
    program = node.params["program"]
    assert len(program) == 10 and program.num_inputs == 1
    assert (node.shape, node.dtype) == (g.outputs[0].shape, g.outputs[0].dtype)
    assert_identical(fused_p.impl(x, program=program), eval_graph(g, [x])[0])
    assert_identical(fused_p.impl(x, program=program), ten_ops(x))


def test_a_value_also_needed_outside_is_not_fused_inside():
    def f(x):
        a = fnp.sin(x) * 2.0      # an output, and used by the rest
        b = fnp.exp(a) + 1.0
        return b * a, a

    x = np.linspace(-1, 1, 5)
    g = graph_of(f, x)
    out = fuse(g)
    assert op_counts(out) == {"fused": 2}
    first, second = [n for n in out.nodes if n.primitive is fused_p]
    assert out.outputs == (second, first) and first in second.inputs
    assert_same_outputs(g, out, [x])


def test_a_diamond_fuses_whole_and_a_reduction_splits_clusters():
    g = graph_of(lambda x: fnp.exp(fnp.sum(fnp.sin(x) * fnp.cos(fnp.sin(x)))) * 2.0,
                 np.ones(4))
    out = fuse(cse(g))
    assert op_counts(out) == {"fused": 2, "sum": 1}
    programs = [len(n.params["program"]) for n in out.nodes if n.primitive is fused_p]
    assert programs == [3, 2]  # sin, cos, multiply | exp, multiply
    assert_same_outputs(g, out, [np.linspace(0, 2, 4)])


def test_where_and_comparisons_fuse_but_smaller_operands_stay_outside():
    def f(x, b):
        return fnp.where(x > 0, x, 0.1 * x) + fnp.exp(b)  # exp(b) is (3,), the rest (4, 3)

    x, b = np.linspace(-1, 1, 12).reshape(4, 3), np.arange(3.0)
    g = graph_of(f, x, b)
    out = fuse(g)
    assert op_counts(out) == {"fused": 1, "exp": 1}
    (node,) = [n for n in out.nodes if n.primitive is fused_p]
    names = [prim.name for prim, _ in node.params["program"].instructions]
    assert names == ["greater", "multiply", "where", "add"]
    assert_same_outputs(g, out, [x, b])


def relu_layer_grad(w, b, x):
    return fg.grad(lambda w, b, x: fnp.sum(fnp.maximum(x @ w + b, 0.0) ** 2), (0, 1))(w, b, x)


RELU_ARGS = (np.linspace(-1, 1, 12).reshape(4, 3), np.array([0.5, -0.25, 0.0]),
             np.linspace(-2, 2, 20).reshape(5, 4))


def programs(g):
    return [[prim.name for prim, _ in n.params["program"].instructions]
            for n in g.nodes if n.primitive is fused_p]


def test_a_cheap_value_read_by_two_clusters_is_recomputed_in_each():
    g = graph_of(relu_layer_grad, *RELU_ARGS)
    out = optimize(g)
    # k = x @ w + b feeds relu(k) and, in the backward pass, the mask of maximum's VJP:
    # both clusters start from the matmul's result, and k is never written.
    assert "add" not in op_counts(out)
    with_add = [p for p in programs(out) if "add" in p and "maximum" in p]
    assert len(with_add) == 1 and with_add[0][:2] == ["add", "maximum"]
    mask = [p for p in programs(out) if "greater" in p]
    assert len(mask) == 1 and mask[0][0] == "add"
    assert_same_outputs(g, out, list(RELU_ARGS), exact=False)


@pytest.mark.parametrize("f, kept", [
    (lambda x: (fnp.exp(x + 1.0) * 2.0, fnp.sin(x + 1.0) * 3.0), None),  # recomputed: cheap
    (lambda x: (fnp.exp(x) * 2.0 + 1.0, fnp.sin(fnp.exp(x)) * 3.0), "exp"),  # exp is not cheap
    (lambda x: (fnp.sin(x + 1.0) * 2.0, fnp.sum(x + 1.0)), "add"),  # a reader is a reduction
    (lambda x: (fnp.sin(x + 1.0) * 2.0, x + 1.0), "add"),  # an output
    (lambda x: (fnp.sin(x + 1.0) * 2.0, (x + 1.0) * np.ones((2, 3))), "add"),  # a larger reader
])
def test_a_value_is_recomputed_only_when_cheap_and_every_reader_fuses(f, kept):
    x = np.linspace(-1, 1, 3)
    g = cse(graph_of(f, x))
    out = fuse(g)
    assert_same_outputs(g, out, [x])
    if kept is None:
        assert op_counts(out) == {"fused": 2} and all(p[0] == "add" for p in programs(out))
    else:
        assert op_counts(out)[kept] == 1  # written once, read by the rest
        assert all(p[0] != kept for p in programs(out))


def test_a_copy_is_not_made_inside_one_cluster():
    # y is read twice, but both readers are in one cluster: it fuses once, with its inputs.
    x = np.linspace(-3, 0, 11)
    out = fuse(graph_of(ten_ops, x))
    assert op_counts(out) == {"fused": 1} and len(programs(out)[0]) == 10


def test_ops_with_params_and_single_ops_are_not_fused():
    g = graph_of(lambda x: (fnp.round(fnp.sin(x), 2), fnp.cos(x)), np.ones(3))
    assert op_counts(fuse(g)) == {"sin": 1, "round": 1, "cos": 1}


def test_weak_scalars_stay_weak_inside_a_program():
    g = graph_of(lambda x: (x * 2.0 + 1) * np.float32(3.0), np.ones(3, np.float32))
    out = fuse(g)
    (node,) = [n for n in out.nodes if n.primitive is fused_p]
    assert node.dtype == np.float32
    assert_same_outputs(g, out, [np.array([1.0, -2.0, 0.5], np.float32)])


PROG = Program(((sin_p, (("in", 0),)), (multiply_p, (("tmp", 0), ("in", 1))),
                (add_p, (("tmp", 1), ("const", 2.0)))), 2, 2)


def test_programs_are_immutable_hashable_and_readable():
    same = Program([(sin_p, [("in", 0)]), (multiply_p, [("tmp", 0), ("in", 1)]),
                    (add_p, [("tmp", 1), ("const", 2.0)])], 2, 2)
    assert same == PROG and hash(same) == hash(PROG)
    assert same is PROG  # one object: kernel caches find it by identity
    for c in (2, -0.0, True):
        other = Program(PROG.instructions[:2] + ((add_p, (("tmp", 1), ("const", c))),), 2, 2)
        assert other != PROG
    assert repr(PROG) == ("Program(t0 = sin(in0); t1 = multiply(t0, in1); t2 = add(t1, 2.0); "
                          "return t2)")
    with pytest.raises(AttributeError):
        PROG.output = 0
    with pytest.raises(ArgumentError, match="bad operand"):
        Program(((sin_p, (("tmp", 0),)),), 0, 1)
    with pytest.raises(ArgumentError, match="bad operand"):
        Program(((sin_p, (("const", np.float64(1.0)),)),), 0, 0)


def fused_fn(x, y):
    return fused_p.bind(x, y, program=PROG)


def plain_fn(x, y):
    return fnp.sin(x) * y + 2.0


def test_the_fused_primitive_traces_differentiates_and_batches():
    x, y = np.linspace(-1, 1, 6).reshape(2, 3), np.array([0.5, -1.0, 2.0])
    g = graph_of(fused_fn, x.astype(np.float32), y.astype(np.float32))
    assert (g.outputs[0].shape, g.outputs[0].dtype) == ((2, 3), np.float32)
    def loss(f):
        return lambda x, y: fnp.sum(f(x, y) ** 2)

    expected = fg.grad(loss(plain_fn), (0, 1))(x, y)
    for got, want in zip(fg.grad(loss(fused_fn), (0, 1))(x, y), expected):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    check_grads(fused_fn, (x, y), order=2)
    tx, ty = np.ones_like(x), np.full_like(y, 0.5)
    for got, want in zip(fg.jvp(fused_fn, (x, y), (tx, ty)), fg.jvp(plain_fn, (x, y), (tx, ty))):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(fg.vmap(fused_fn, in_axes=(0, None))(x, y), plain_fn(x, y))


def test_a_fused_graph_can_still_be_differentiated():
    x = np.linspace(-2, -0.1, 5)
    fused = optimize(graph_of(ten_ops, x))
    via_graph = fg.grad(lambda x: fnp.sum(eval_graph(fused, [x])[0]))(x)
    np.testing.assert_allclose(via_graph, fg.grad(lambda x: fnp.sum(ten_ops(x)))(x), rtol=1e-13)


# -- the pipeline -------------------------------------------------------------------------
def f_elementwise(x, y):
    return fnp.tanh(x * y + 1.0) * 2.0 - fnp.sin(x) * 1.0 + fnp.cos(x * y) * fnp.cos(x * y)


def f_where(x, y):
    return fnp.where(x > y, x - 0.0, fnp.maximum(x, y) ** 2) + fnp.negative(-fnp.exp(-fnp.abs(y)))


def f_reduce(x, y):
    return fnp.sum(fnp.log1p(x * x) * y) / 3.0 + fnp.mean(fnp.sin(x + y)) * fnp.max(y)


PAIR_FUNCS = [f_elementwise, f_where, f_reduce]


@given(array_pairs(max_side=3))
def test_optimised_graphs_compute_the_same_values(pair):
    x, y = pair
    for f in PAIR_FUNCS:
        g = graph_of(f, x, y)
        assert_same_outputs(g, optimize(g), [x, y])


@given(array_pairs(max_side=3))
def test_optimised_gradient_graphs_compute_the_same_values(pair):
    x, y = pair
    for f in (f_elementwise, f_where, f_reduce):
        def scalar(x, y, f=f):
            return fnp.sum(f(x, y))

        g = graph_of(fg.grad(scalar, argnums=(0, 1)), x, y)
        go = optimize(g)
        assert sum(op_counts(go).values()) < sum(op_counts(g).values())
        assert_same_outputs(g, go, [x, y], exact=False)


def mlp_loss(w, x):
    h = fnp.tanh(x @ w[:, :3] + 0.5)
    return fnp.mean((h @ w[:3, :]) ** 2) + 0.01 * fnp.sum(w * w)


@given(arrays((4, 4), elements=(-2, 2)), arrays((5, 4), elements=(-2, 2)))
def test_optimised_graphs_of_first_and_second_derivatives(w, x):
    for f in (fg.grad(mlp_loss), fg.grad(lambda w, x: fnp.sum(fg.grad(mlp_loss)(w, x) ** 2))):
        g = graph_of(f, w, x)
        assert_same_outputs(g, optimize(g), [w, x], exact=False)


@given(st.floats(-3, 3))
def test_optimised_hessian_graph(t):
    f = fg.grad(fg.grad(lambda x: fnp.sin(x) * fnp.exp(x * 0.5) / (1.0 + x * x)))
    g = graph_of(f, 0.0)
    assert_same_outputs(g, optimize(g), [np.float64(t)], exact=False)


@pytest.mark.parametrize("rec", DIFFERENTIABLE, ids=lambda r: r.name)
@settings(max_examples=2)
@given(data=st.data())
def test_every_op_and_its_gradient_survive_optimisation(rec, data):
    args = data.draw(rec.args(np.float64), label="args")
    for f in (rec.fun, fg.grad(scalarize(rec.fun, rec.fun(*args)), argnums=rec.diff_argnums)):
        g = graph_of(f, *args)
        leaves = tree.leaves(args)
        assert_same_outputs(g, optimize(g), leaves, exact=False)


def test_optimize_runs_the_given_passes_in_order():
    g = graph_of(ten_ops, np.ones(3))
    assert op_counts(optimize(g, passes=())) == op_counts(g)
    assert op_counts(optimize(g, passes=[fuse])) == {"fused": 1}
    assert DEFAULT_PASSES == (fold, cse, simplify, cse, dce, fuse, dce, pair_scans)
    once = optimize(g)
    assert op_counts(optimize(once)) == op_counts(once)  # idempotent


def test_make_graph_can_return_the_optimised_graph():
    g = fg.make_graph(ten_ops, optimize=True)(np.ones(3))
    assert op_counts(g) == {"fused": 1}
    assert str(g) == str(optimize(fg.make_graph(ten_ops)(np.ones(3))))


def test_jit_runs_the_optimised_graph():
    f = fg.jit(f_where, backend="numpy")
    x, y = np.linspace(-1, 1, 6), np.linspace(1, -1, 6)
    assert "fused" in op_counts(f.lower(x, y))
    np.testing.assert_allclose(f(x, y), f_where(x, y), rtol=1e-15)


def test_a_chain_of_100k_nodes_optimises_without_recursion():
    def chain(x):
        for i in range(100_000):
            x = fnp.sin(x) if i % 2 else x * 1.0001
        return x

    x = np.array([0.3, -1.0])
    g = graph_of(chain, x)
    out = optimize(g)
    assert op_counts(out) == {"fused": 1}
    assert len(constants(out)) == 0
    assert_identical(eval_graph(out, [x])[0], eval_graph(g, [x])[0])


@pytest.mark.parametrize("fused", [False, True])
def test_buffer_planning_keeps_a_long_chain_small(fused):
    def chain(n):
        def f(x):
            for _ in range(n):
                x = fnp.cumsum(fnp.sin(x) * 0.5, axis=0)  # cumsum breaks the fusion
            return x
        return f

    passes = DEFAULT_PASSES if fused else (fold, simplify, cse, dce)
    x = np.linspace(0, 1, 4)
    peaks = []
    for n in (10, 300):
        g = optimize(graph_of(chain(n), x), passes)
        exe = Executable(g, lambda node: node.primitive.impl)
        np.testing.assert_array_equal(exe([x])[0], eval_graph(g, [x])[0])
        peaks.append(exe.peak_live())
    assert peaks[0] == peaks[1] <= 2
