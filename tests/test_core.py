"""Behaviour of the engine: nesting, control flow, the grad/vjp API, dtypes, pytrees,
the tracer's array interface, very long chains, conventions at non-differentiable
points, and immutability.

Every expected value is a closed form or a NumPy computation written out here.
"""

import collections
import copy
import dataclasses
import doctest
import math
import os
import sys

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import grad, make_graph, stop_gradient, tree, value_and_grad, vjp
from funcgrad._core.graph import Graph, Node, toposort
from funcgrad.errors import ImmutableError

# -- perturbation confusion and closures ----------------------------------------------

def test_perturbation_confusion_classic():
    # d/dx [x * (d/dy (x + y))] = d/dx [x * 1] = 1, not 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(2.0) == 1.0


def test_closure_over_outer_tracer_in_inner_grad():
    # d/dy (x*y) = x, so d/dx [x * x] = 2x.
    for x in (3.0, -1.5):
        assert grad(lambda x: x * grad(lambda y: x * y)(1.0))(x) == pytest.approx(2 * x)


def test_grad_of_function_that_calls_grad_on_a_closure():
    # d/dy (x^2 y) = x^2, so d/dx = 2x.
    assert grad(lambda x: grad(lambda y: x * x * y)(1.0))(3.0) == pytest.approx(6.0)


def test_inner_grad_evaluated_at_the_outer_variable():
    # d/dy (x*y) at y=x is x, so f(x) = x * x and f'(x) = 2x.
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == pytest.approx(6.0)


def test_three_levels_of_closures():
    # d/dy d/dz (x y z) = x, so f(x) = x * x and f'(x) = 2x.
    f = lambda x: grad(lambda y: grad(lambda z: x * y * z)(1.0))(1.0) * x
    assert grad(f)(3.0) == pytest.approx(6.0)


def test_mixed_partial_through_closure():
    # f(x) = d/dy sin(x y) at y=2 = x cos(2x);  f'(x) = cos(2x) - 2x sin(2x).
    x = 0.5
    expected = math.cos(2 * x) - 2 * x * math.sin(2 * x)
    got = grad(lambda x: grad(lambda y: fnp.sin(x * y))(2.0))(x)
    assert got == pytest.approx(expected, rel=1e-12)


# -- Python control flow under grad -----------------------------------------------------

def _piecewise(x):
    if x > 0:
        return x * x
    return -3.0 * x


def test_if_on_values():
    assert grad(_piecewise)(2.5) == pytest.approx(5.0)
    assert grad(_piecewise)(-2.0) == pytest.approx(-3.0)


def test_if_on_an_array_reduction():
    def f(x):
        if fnp.sum(x) > 0:
            return fnp.sum(fnp.sin(x))
        return fnp.sum(x ** 3)

    x = np.array([0.3, 0.7])
    np.testing.assert_allclose(grad(f)(x), np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(grad(f)(-x), 3 * x ** 2, rtol=1e-14)


def test_while_loop_with_convergence_test():
    # Newton's iteration for sqrt(a); the derivative of the converged value is 1/(2 sqrt a).
    def newton_sqrt(a):
        x = a
        while fnp.abs(x * x - a) > 1e-13:
            x = 0.5 * (x + a / x)
        return x

    for a in (2.0, 9.0, 0.25):
        assert newton_sqrt(a) == pytest.approx(math.sqrt(a), rel=1e-12)
        assert grad(newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


def test_for_loop_with_data_dependent_count():
    # n = int(stop_gradient(x)) is a constant of the trace, so y = x^(n+1) and
    # y' = (n+1) x^n.  (int(x) itself raises: it would drop x's derivative.)
    def f(x):
        y = x
        for _ in range(int(stop_gradient(x))):
            y = y * x
        return y

    assert grad(f)(3.0) == pytest.approx(4 * 3.0 ** 3)
    assert grad(f)(2.5) == pytest.approx(3 * 2.5 ** 2)


# -- higher order -----------------------------------------------------------------------

def _nth(f, n):
    for _ in range(n):
        f = grad(f)
    return f


@pytest.mark.parametrize("x", [0.5, -1.3])
def test_third_and_fourth_derivatives(x):
    assert _nth(fnp.sin, 3)(x) == pytest.approx(-math.cos(x), rel=1e-12)
    assert _nth(fnp.sin, 4)(x) == pytest.approx(math.sin(x), rel=1e-12)
    assert _nth(fnp.exp, 3)(x) == pytest.approx(math.exp(x), rel=1e-12)
    assert _nth(fnp.exp, 4)(x) == pytest.approx(math.exp(x), rel=1e-12)
    p5 = lambda x: x ** 5
    assert _nth(p5, 3)(x) == pytest.approx(60 * x ** 2, rel=1e-12)
    assert _nth(p5, 4)(x) == pytest.approx(120 * x, rel=1e-12)
    assert _nth(p5, 5)(x) == pytest.approx(120.0, rel=1e-12)


def test_second_derivative_of_vector_function():
    # d/dx_i of sum(x_j^3) is 3 x_i^2; the gradient of sum(3 x^2) is 6 x.
    x = np.array([1.0, -2.0, 0.5])
    g2 = grad(lambda x: fnp.sum(grad(lambda z: fnp.sum(z ** 3))(x)))(x)
    np.testing.assert_allclose(g2, 6 * x)


# -- argnums, has_aux, value_and_grad, vjp ----------------------------------------------

def _f_xy(x, y):
    return x * y * y


def test_argnums_int_and_tuple():
    assert grad(_f_xy)(2.0, 3.0) == pytest.approx(9.0)
    assert grad(_f_xy, argnums=1)(2.0, 3.0) == pytest.approx(12.0)
    assert grad(_f_xy, argnums=-1)(2.0, 3.0) == pytest.approx(12.0)
    gx, gy = grad(_f_xy, argnums=(0, 1))(2.0, 3.0)
    assert (gx, gy) == (pytest.approx(9.0), pytest.approx(12.0))
    one = grad(_f_xy, argnums=(1,))(2.0, 3.0)
    assert isinstance(one, tuple) and len(one) == 1 and one[0] == pytest.approx(12.0)


def test_keyword_arguments_are_not_differentiated():
    assert grad(lambda x, scale=1.0: x * scale)(2.0, scale=3.0) == pytest.approx(3.0)


def test_has_aux():
    def f(x):
        return fnp.sum(x ** 2), {"double": 2 * x}

    x = np.array([1.0, -2.0])
    g, aux = grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x)
    np.testing.assert_allclose(aux["double"], 2 * x)
    assert isinstance(aux["double"], np.ndarray)  # aux values come back as plain arrays

    (value, aux), g = value_and_grad(f, has_aux=True)(x)
    assert value == pytest.approx(5.0)
    np.testing.assert_allclose(aux["double"], 2 * x)
    np.testing.assert_allclose(g, 2 * x)


def test_value_and_grad():
    x = np.array([1.0, 2.0, 3.0])
    value, g = value_and_grad(lambda x: fnp.sum(fnp.exp(x)))(x)
    assert value == pytest.approx(np.exp(x).sum())
    np.testing.assert_allclose(g, np.exp(x))
    value, (ga, gb) = value_and_grad(lambda a, b: fnp.sum(a * b), argnums=(0, 1))(x, 2 * x)
    assert value == pytest.approx(2 * (x * x).sum())
    np.testing.assert_allclose(ga, 2 * x)
    np.testing.assert_allclose(gb, x)


def test_vjp_with_pytree_outputs_and_cotangents():
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])

    def f(a, b):
        return {"s": a * b, "t": (a + b, fnp.sum(a))}

    out, f_vjp = vjp(f, a, b)
    np.testing.assert_allclose(out["s"], a * b)
    np.testing.assert_allclose(out["t"][0], a + b)
    assert out["t"][1] == pytest.approx(3.0)
    ct = {"s": np.array([1.0, 1.0]), "t": (np.array([2.0, 0.0]), 5.0)}
    ga, gb = f_vjp(ct)
    np.testing.assert_allclose(ga, b * 1.0 + np.array([2.0, 0.0]) + 5.0)
    np.testing.assert_allclose(gb, a * 1.0 + np.array([2.0, 0.0]))
    # The vjp function can be called again with another cotangent.
    ga2, gb2 = f_vjp({"s": np.zeros(2), "t": (np.ones(2), 0.0)})
    np.testing.assert_allclose(ga2, np.ones(2))
    np.testing.assert_allclose(gb2, np.ones(2))


def test_vjp_accepts_python_scalar_cotangent():
    out, f_vjp = vjp(lambda x: x + 1.0, 2.0)
    assert out == 3.0
    (g,) = f_vjp(1.0)
    assert g == 1.0 and np.asarray(g).dtype == np.float64
    (g,) = vjp(lambda x: fnp.sum(x * 2.0), np.ones(2))[1](1.0)
    np.testing.assert_array_equal(g, [2.0, 2.0])


def test_vjp_has_aux():
    out, f_vjp, aux = vjp(lambda x: (fnp.sin(x), {"tag": 7, "x2": 2 * x}), np.array([0.0, 1.0]),
                          has_aux=True)
    np.testing.assert_allclose(out, np.sin([0.0, 1.0]))
    assert aux["tag"] == 7
    np.testing.assert_allclose(aux["x2"], [0.0, 2.0])
    (g,) = f_vjp(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g, np.cos([0.0, 1.0]) * [1.0, 2.0])


def test_unused_argument_gets_zero_gradient_of_its_shape_and_dtype():
    x, y = np.ones(2), np.ones((2, 3), np.float32)
    gx, gy = grad(lambda x, y: fnp.sum(x), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, np.ones(2))
    assert gy.shape == (2, 3) and gy.dtype == np.float32
    np.testing.assert_array_equal(gy, np.zeros((2, 3)))


def test_output_that_does_not_depend_on_the_input():
    g = grad(lambda x: 3.0)(np.ones(2))
    assert g.shape == (2,) and g.dtype == np.float64
    np.testing.assert_array_equal(g, 0.0)


def test_integer_argument_outside_argnums_is_fine():
    assert grad(lambda x, n: x * n)(2.0, 3) == pytest.approx(3.0)
    assert grad(lambda x, s: x * len(s))(2.0, "abc") == pytest.approx(3.0)
    assert grad(lambda x, n: x * x)(2.0, None) == pytest.approx(4.0)


# -- inputs, dtypes and pytrees ------------------------------------------------------------

def test_inputs_are_never_mutated():
    params = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": [np.array([0.5, -0.5])]}
    before = copy.deepcopy(params)
    w_id = id(params["w"])

    def loss(p):
        w = p["w"].at[0, 0].set(10.0).at[1].add(1.0)
        return fnp.sum(w @ p["b"][0]) + fnp.sum(p["w"] ** 2)

    grad(loss)(params)
    value_and_grad(loss)(params)
    vjp(loss, params)[1](np.ones(()))
    make_graph(loss)(params)
    assert id(params["w"]) == w_id and list(params) == ["w", "b"]
    np.testing.assert_array_equal(params["w"], before["w"])
    np.testing.assert_array_equal(params["b"][0], before["b"][0])
    assert params["w"].flags.writeable and params["b"][0].flags.writeable


def test_closed_over_array_is_not_mutated_nor_frozen():
    c = np.array([1.0, 2.0, 3.0])
    grad(lambda x: fnp.sum(x * c))(np.ones(3))
    make_graph(lambda x: x * c)(np.ones(3))
    np.testing.assert_array_equal(c, [1.0, 2.0, 3.0])
    assert c.flags.writeable


@pytest.mark.parametrize("fn", [
    lambda x: fnp.sum(x @ x),
    lambda x: fnp.sum(x),
    lambda x: fnp.mean(x),
    lambda x: fnp.sum(fnp.exp(x)),
    lambda x: fnp.sum(fnp.tanh(x)),
    lambda x: fnp.mean(fnp.tanh(fnp.exp(x @ x.T) * 0.1)) * 2.0 + 1.0,
], ids=["matmul", "sum", "mean", "exp", "tanh", "composite"])
def test_float32_input_gives_float32_gradient(fn):
    x32 = np.array([[0.1, 0.2], [0.3, 0.4]], np.float32)
    value, g32 = value_and_grad(fn)(x32)
    assert g32.dtype == np.float32 and g32.shape == (2, 2)
    assert np.asarray(value).dtype == np.float32
    g64 = grad(fn)(x32.astype(np.float64))
    assert g64.dtype == np.float64
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-6)


def test_python_scalars_are_weak_and_default_to_float64():
    g = grad(lambda x: x * 2.5 + 1.0)(np.float32(3.0))
    assert g.dtype == np.float32 and g == pytest.approx(2.5)
    g = grad(lambda x: fnp.sum(x * 2.5 + 1.0) / 3.0)(np.ones(2, np.float32))
    assert g.dtype == np.float32
    g = grad(lambda x: x * x)(3.0)
    assert np.asarray(g).dtype == np.float64 and g == 6.0


Point = collections.namedtuple("Point", ["a", "b"])


@dataclasses.dataclass
class Layer:
    w: object
    b: object


def test_pytree_arguments_give_same_structured_gradients():
    params = {
        "list": [np.array([1.0, 2.0])],
        "tuple": (1.5, Point(3.0, np.array([4.0, 5.0]))),
        "layer": Layer(w=2.0, b=np.array([5.0])),
        "none": None,
    }

    def f(p):
        return (fnp.sum(p["list"][0] * 2)
                + p["tuple"][1].a ** 2
                + p["layer"].w * fnp.sum(p["layer"].b)
                + fnp.sum(p["tuple"][1].b))

    g = grad(f)(params)
    assert tree.structure(g) == tree.structure(params)
    assert g["none"] is None
    assert isinstance(g["tuple"][1], Point) and isinstance(g["layer"], Layer)
    np.testing.assert_allclose(g["list"][0], [2.0, 2.0])
    assert g["tuple"][0] == 0.0                     # unused leaf: zero
    assert g["tuple"][1].a == pytest.approx(6.0)     # d a^2 = 2a
    np.testing.assert_allclose(g["tuple"][1].b, [1.0, 1.0])
    assert g["layer"].w == pytest.approx(5.0)       # sum(b)
    np.testing.assert_allclose(g["layer"].b, [2.0])  # w
    for leaf, ref in zip(tree.leaves(g), tree.leaves(params)):
        assert np.shape(leaf) == np.shape(ref)


def test_stop_gradient():
    # d/dx [x * sg(x^2)] = x^2 (the stopped factor is a constant).
    assert grad(lambda x: x * stop_gradient(x * x))(3.0) == pytest.approx(9.0)
    assert grad(lambda x: fnp.sum(stop_gradient(x)))(np.ones(2)).tolist() == [0.0, 0.0]
    a, b = stop_gradient({"a": np.ones(2), "b": (3.0,)}).values()
    np.testing.assert_array_equal(a, np.ones(2))
    assert b == (3.0,)
    # A pytree of tracers: every leaf is stopped.
    f = lambda p: fnp.sum(p[0] * stop_gradient(p)[1]) + fnp.sum(stop_gradient(p)[0])
    g = grad(f)((np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    np.testing.assert_array_equal(g[0], [3.0, 4.0])
    np.testing.assert_array_equal(g[1], [0.0, 0.0])


# -- the tracer's array interface ----------------------------------------------------------

def test_numpy_array_on_either_side_of_a_tracer():
    w = np.array([1.0, 2.0, 3.0])

    def left(x):
        y = np.ones(3) * x
        assert isinstance(y, fg._core.trace.Tracer)
        return fnp.sum(w * y)

    def right(x):
        y = x * np.ones(3)
        assert isinstance(y, fg._core.trace.Tracer)
        return fnp.sum(y * w)

    x = np.array([0.5, 0.5, 0.5])
    np.testing.assert_allclose(grad(left)(x), w)
    np.testing.assert_allclose(grad(right)(x), w)
    # The other operators too, with the NumPy array on the left.
    g = grad(lambda x: fnp.sum(w + x) + fnp.sum(w - x) + fnp.sum(w / x) + fnp.sum(w ** x))(x)
    np.testing.assert_allclose(g, 1 - 1 - w / x ** 2 + w ** x * np.log(w))
    g = grad(lambda x: fnp.sum(np.eye(3) @ x))(x)
    np.testing.assert_allclose(g, np.ones(3))


def test_numpy_ufuncs_route_to_funcgrad_ops():
    x = np.array([0.1, 0.2])

    def f(x):
        y = np.exp(x)
        assert isinstance(y, fg._core.trace.Tracer)
        return fnp.sum(np.sin(y) + np.multiply(x, x))

    np.testing.assert_allclose(grad(f)(x), np.cos(np.exp(x)) * np.exp(x) + 2 * x)


def test_tracer_attributes_and_methods_under_grad():
    x = np.arange(6.0).reshape(2, 3)

    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
        assert x.dtype == np.float64
        assert x.T.shape == (3, 2)
        flat = x.T.reshape(3, 2).reshape((6,))
        total = flat.sum()                        # d = 1 everywhere
        total = total + x.mean()                  # 1/6 everywhere
        total = total + x.max()                   # 1 at x[1, 2] (= 5)
        total = total + x.astype(np.float32).sum().astype(np.float64)  # 1 everywhere
        total = total + x[0, 1] + x[1][2]         # 1 at [0,1] and at [1,2]
        total = total + x.sum(axis=0)[1]          # 1 in column 1
        total = total + fnp.where(x > 1.5, x, 0.0).sum()     # 1 where x > 1.5
        total = total + (x >= 2).sum() * 1.0 + (x == 3).sum() * 1.0   # constants
        assert (x < 10).dtype == np.bool_ and (x != 0).shape == (2, 3)
        return total

    expected = np.full((2, 3), 2.0 + 1 / 6)
    expected[1, 2] += 2.0
    expected[0, 1] += 1.0
    expected[:, 1] += 1.0
    expected[x > 1.5] += 1.0
    np.testing.assert_allclose(grad(f)(x), expected, rtol=1e-14)


def test_tracer_iteration_and_python_conversions_under_grad():
    x = np.array([1.0, 2.0, 3.0])

    def f(x):
        parts = list(x)
        # bool() (the comparison) loses no derivative; float() and int() would, so they
        # take the stop_gradient of a part (tests/test_conversions.py checks they raise).
        assert len(parts) == 3 and parts[1] == 2.0
        assert float(stop_gradient(parts[1])) == 2.0 and int(stop_gradient(parts[2])) == 3
        return parts[0] * parts[2]

    np.testing.assert_allclose(grad(f)(x), [3.0, 0.0, 1.0])


# -- very long chains ---------------------------------------------------------------------

N_CHAIN = 100_000
RATE = 1.0000001


def _multiply_chain(x):
    for _ in range(N_CHAIN):
        x = x * RATE
    return x


def _mixed_chain(x):
    for i in range(N_CHAIN):
        x = x * RATE if i % 2 == 0 else x + 0.0
    return x


def test_grad_of_100k_op_chain():
    assert sys.getrecursionlimit() < N_CHAIN  # a recursive walk would fail here
    expected = math.exp(N_CHAIN * math.log1p(RATE - 1))  # RATE ** N_CHAIN
    assert grad(_multiply_chain)(2.0) == pytest.approx(expected, rel=1e-10)


@pytest.fixture(scope="module")
def chain_graph():
    return make_graph(_mixed_chain)(2.0)


def test_make_graph_of_100k_op_chain(chain_graph):
    ops = [n for n in chain_graph.nodes if n.primitive is not None]
    assert len(ops) == N_CHAIN
    assert [n.name for n in ops[:4]] == ["multiply", "add", "multiply", "add"]
    order = toposort(chain_graph.outputs)
    assert len(order) == len(chain_graph.nodes)
    assert order[-1] is chain_graph.outputs[0]
    text = str(chain_graph)
    assert len(text.splitlines()) == len(chain_graph.nodes) - len(chain_graph.inputs) + 3


# -- conventions at non-differentiable points ------------------------------------------------

def test_max_and_min_split_the_gradient_between_ties():
    np.testing.assert_array_equal(grad(fnp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(grad(fnp.min)(np.array([1.0, 1.0, 3.0])), [0.5, 0.5, 0.0])
    third = grad(fnp.max)(np.array([2.0, 2.0, 2.0]))
    np.testing.assert_allclose(third, [1 / 3] * 3, rtol=1e-15)
    x = np.array([[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(fnp.max(x, axis=1)))(x),
                                  [[0.5, 0.5], [1.0, 0.0]])
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(x.min(axis=0)))(x),
                                  [[1.0, 0.0], [0.0, 1.0]])


def test_maximum_and_minimum_at_ties():
    assert grad(lambda x: fnp.maximum(x, x))(2.0) == 1.0
    assert grad(lambda x: fnp.minimum(x, x))(2.0) == 1.0
    assert grad(lambda x: fnp.maximum(x, 0.0))(0.0) == 0.5
    assert grad(lambda x: fnp.maximum(x, 0.0))(1.0) == 1.0
    assert grad(lambda x: fnp.maximum(x, 0.0))(-1.0) == 0.0
    ga, gb = grad(lambda a, b: fnp.maximum(a, b), argnums=(0, 1))(1.0, 1.0)
    assert (ga, gb) == (0.5, 0.5)


@pytest.mark.parametrize("fn, with_ties, without_ties", [
    (fnp.maximum, [0.0, 0.5, 3.0, 0.0], [0.0, 3.0, 0.0]),
    (fnp.minimum, [1.0, 0.5, 0.0, 0.0], [1.0, 0.0, 1.0]),
])
def test_extremum_gradients_on_arrays_with_and_without_ties(fn, with_ties, without_ties):
    """Plain arrays with no tie take a shortcut in the VJP rule; the values must not change.
    A NaN operand compares false both ways, so it gets no gradient."""
    for x, w, want in ((np.array([-1.0, 0.0, 2.0, np.nan]), np.array([1.0, 1.0, 3.0, 1.0]),
                        with_ties),
                       (np.array([-1.0, 2.0, -3.0]), np.array([1.0, 3.0, 1.0]), without_ties)):
        got = grad(lambda x, w=w: fnp.sum(fn(x, 0.0) * w))(x)
        np.testing.assert_array_equal(got, want)


def test_abs_log_sqrt_at_zero():
    assert grad(fnp.abs)(0.0) == 0.0
    assert grad(fnp.abs)(-2.0) == -1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        assert grad(fnp.log)(0.0) == math.inf
        g = grad(fnp.sqrt)(0.0)
    assert g == math.inf and not np.isnan(g)


def test_powers_at_zero_and_negative_bases():
    assert grad(lambda x: x ** 2)(0.0) == 0.0
    assert grad(lambda x: x ** 1)(0.0) == 1.0
    assert grad(lambda x: x ** 0)(0.0) == 0.0
    assert grad(lambda x: x ** 3)(-2.0) == 12.0
    assert grad(lambda x: x ** 2)(-3.0) == -6.0
    assert grad(grad(lambda x: x ** 3))(-2.0) == -12.0
    assert grad(grad(lambda x: x ** 2))(0.0) == 2.0
    g = grad(lambda x: fnp.sum(x ** 3))(np.array([-2.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [12.0, 0.0, 12.0])


def test_where_with_a_singular_unchosen_branch_is_finite():
    x = np.array([-1.0, 0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        g = grad(lambda x: fnp.sum(fnp.where(x > 0, fnp.sqrt(x), 0.0)))(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.25])


def test_clip_passes_the_gradient_inside_the_bounds_bounds_included():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(fnp.clip(x, 0.0, 1.0)))(x),
                                  [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(x.clip(None, 1.0)))(x),
                                  [1.0, 1.0, 1.0, 1.0, 0.0])


def test_repeated_indices_accumulate():
    idx = np.array([0, 0, 2])
    np.testing.assert_array_equal(grad(lambda x: fnp.sum(x[idx]))(np.ones(3)), [2.0, 0.0, 1.0])
    w = np.array([1.0, 2.0, 3.0])
    # out[0] += u0 + u1, out[2] += u2, then weighted by w.
    g = grad(lambda u: fnp.sum(fnp.at(np.zeros(3))[idx].add(u) * w))(np.ones(3))
    np.testing.assert_array_equal(g, [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(fnp.at(np.zeros(3))[idx].add(np.ones(3)), [2.0, 0.0, 1.0])


def test_at_set_with_repeated_indices_last_write_wins():
    out = fnp.at(np.zeros(3))[np.array([0, 0])].set(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(out, [2.0, 0.0, 0.0])
    # The gradient w.r.t. the overwritten operand positions is zero.
    g = grad(lambda x: fnp.sum(x.at[np.array([0, 0])].set(5.0) * 2.0))(np.ones(3))
    np.testing.assert_array_equal(g, [0.0, 2.0, 2.0])


# -- immutability ------------------------------------------------------------------------

@pytest.fixture
def small_graph():
    return make_graph(lambda x: x * np.arange(3.0) + 1.0)(np.ones(3))


def test_nodes_are_immutable(small_graph):
    node = small_graph.nodes[-1]
    for name, value in [("shape", (4,)), ("inputs", ()), ("params", {}), ("new_attr", 1)]:
        with pytest.raises(ImmutableError) as info:
            setattr(node, name, value)
        assert isinstance(info.value, AttributeError)
        assert name in str(info.value)
    with pytest.raises(ImmutableError):
        del node.shape
    assert node.shape == (3,)


def test_graphs_are_immutable(small_graph):
    for name in ("inputs", "outputs", "in_tree", "new_attr"):
        with pytest.raises(ImmutableError) as info:
            setattr(small_graph, name, ())
        assert isinstance(info.value, AttributeError)
    with pytest.raises(ImmutableError):
        del small_graph.inputs
    assert len(small_graph.inputs) == 1


def test_tracers_are_immutable():
    seen = []

    def f(x):
        for name in ("shape", "_value", "_node", "new_attr"):
            with pytest.raises(ImmutableError) as info:
                setattr(x, name, 1)
            assert isinstance(info.value, AttributeError)
            seen.append(name)
        with pytest.raises(ImmutableError):
            del x._value
        seen.append("del")
        return fnp.sum(x * x)

    np.testing.assert_array_equal(grad(f)(np.ones(2)), [2.0, 2.0])
    assert seen == ["shape", "_value", "_node", "new_attr", "del"]


def test_graph_constants_are_read_only(small_graph):
    consts = [n for n in small_graph.nodes if n.kind == "constant"]
    arrays = [n.value for n in consts if isinstance(n.value, np.ndarray)]
    assert arrays
    for value in arrays:
        assert not value.flags.writeable
        with pytest.raises(ValueError):
            value[0] = 5.0
    const = Node.constant(np.ones(2))
    with pytest.raises(ValueError):
        const.value[0] = 3.0


def test_graph_constant_does_not_change_when_the_users_array_does():
    c = np.array([1.0, 2.0, 3.0])
    g = make_graph(lambda x: x * c)(np.ones(3))
    c[0] = 100.0
    (const,) = [n for n in g.nodes if n.kind == "constant"]
    np.testing.assert_array_equal(const.value, [1.0, 2.0, 3.0])


def test_transformations_return_new_objects():
    assert isinstance(make_graph(fnp.sin)(np.ones(2)), Graph)
    f = lambda x: x * x
    assert grad(f) is not f and grad(f) is not grad(f)


# -- the docs that describe this behaviour run as written ----------------------------------

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


@pytest.mark.parametrize("page", ["complex.md", "conventions.md", "errors.md", "graph.md",
                                  "transformations.md"])
def test_doc_examples_run(page):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(os.path.join(DOCS, page), module_relative=False, optionflags=flags,
                              raise_on_error=False, report=True, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in docs/{page} failed (see stdout)"


def test_second_derivative_through_a_singular_rule_at_zero_cotangent():
    # d/dt [t * log(p)] = log(p) even where t == 0 (the binary cross-entropy case);
    # the zero-cotangent guard of singular rules must not hide this slope.
    from funcgrad.testing import check_grads

    p = np.array([0.2, 0.5, 0.9])
    t = np.array([0.0, 1.0, 0.0])
    check_grads(lambda p, t: fnp.sum(t * fnp.log(p)), (p, t), order=2)
    dt = grad(lambda t: fnp.sum(t * fnp.log(p)))(t)
    np.testing.assert_allclose(dt, np.log(p), rtol=1e-15)


# -- Python float constants ---------------------------------------------------------------------

@pytest.mark.parametrize("c", [1.01, -3.0, 0.0, -0.0, 1e-310, float("inf"), float("nan")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_python_float_constants_give_numpy_bits(c, dtype):
    """Eager tracing may hand NumPy a float constant as a 0-d array (it is faster than a
    Python float): the values, their dtype and the signs of zeros must not change."""
    x = np.linspace(-2.0, 2.0, 7).astype(dtype)

    def f(x):
        y = (x * c + c) / c - c
        return fnp.sum(y), (y, x * c)

    with np.errstate(all="ignore"):
        (_, (y, scaled)), g = value_and_grad(f, has_aux=True)(x)
        expected = (x * c + c) / c - c
        expected_scaled = x * c
        # The backward pass, in the same order: subtract passes g, divide gives g / c, multiply
        # g * c -- where a zero cotangent stays zero even when c is infinite (the convention
        # that keeps where's unchosen branch at zero, docs/conventions.md): 1/inf * inf is 0.
        g_div = np.ones_like(x) / c
        expected_grad = np.where(g_div == 0, g_div, g_div * c)
    assert y.dtype == expected.dtype == dtype
    assert g.dtype == dtype
    np.testing.assert_array_equal(np.signbit(y), np.signbit(expected))
    np.testing.assert_array_equal(np.signbit(scaled), np.signbit(expected_scaled))  # 0.0, -0.0
    np.testing.assert_array_equal(scaled, expected_scaled)
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(g, expected_grad)
