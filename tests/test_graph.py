"""``make_graph`` and the Graph it returns: printing, DOT export, topological order,
graphs of transformed functions, lifted closures and unused inputs.
"""

import inspect
import os
import re

import numpy as np
import pytest

import funcgrad.numpy as fnp
from funcgrad import Graph, grad, make_graph, tree
from funcgrad._core.graph import toposort

HERE = os.path.basename(__file__)


def f(x, y):
    z = fnp.sin(x) * y
    return fnp.sum(z ** 2)


F_LINE = inspect.getsourcelines(f)[1]  # the `def` line; the body starts one line below


@pytest.fixture
def graph():
    return make_graph(f)(np.ones(3), 2.0)


def op_names(g):
    return [n.name for n in g.nodes if n.primitive is not None]


def test_make_graph_returns_a_graph(graph):
    assert isinstance(graph, Graph)
    assert len(graph.inputs) == 2 and len(graph.outputs) == 1
    assert [(n.shape, n.dtype) for n in graph.inputs] == [((3,), np.float64), ((), np.float64)]
    assert (graph.outputs[0].shape, graph.outputs[0].dtype) == ((), np.float64)
    assert op_names(graph) == ["sin", "multiply", "integer_pow", "sum"]
    assert graph.in_tree == tree.structure((np.ones(3), 2.0))
    assert graph.out_tree == tree.structure(0.0)


def test_print_has_one_line_per_node_with_types_and_source_lines(graph, capsys):
    print(graph)
    lines = capsys.readouterr().out.rstrip("\n").splitlines()
    assert lines[0] == "graph(a:f64[3], b:f64[]) {"
    assert lines[-2:] == ["  return (f)", "}"]
    body = lines[1:-2]
    # Inputs are named in the header; every other node has one line.
    assert len(body) == len(graph.nodes) - len(graph.inputs)
    by_op = {line.split(" = ")[1].split()[0]: line for line in body}
    assert by_op["sin"].startswith("  c:f64[3] = sin a")
    assert by_op["multiply"].startswith("  d:f64[3] = multiply c b")
    assert by_op["integer_pow"].startswith("  e:f64[3] = integer_pow y=2 d")
    assert by_op["sum"].startswith("  f:f64[] = sum axis=(0,) keepdims=False e")
    assert by_op["sin"].endswith(f"# {HERE}:{F_LINE + 1}")
    assert by_op["multiply"].endswith(f"# {HERE}:{F_LINE + 1}")
    assert by_op["integer_pow"].endswith(f"# {HERE}:{F_LINE + 2}")
    assert by_op["sum"].endswith(f"# {HERE}:{F_LINE + 2}")
    assert repr(graph) == str(graph)


def test_to_dot_is_valid_looking_dot(graph):
    dot = graph.to_dot()
    lines = dot.splitlines()
    assert lines[0].startswith("digraph") and lines[0].endswith("{") and lines[-1] == "}"
    node_statements = [ln for ln in lines if re.fullmatch(r'\s*\w+ \[label=".*"[^\]]*\];', ln)]
    edges = [ln for ln in lines if re.fullmatch(r"\s*\w+ -> \w+;", ln)]
    assert len(node_statements) == len(graph.nodes)
    assert len(edges) == sum(len(n.inputs) for n in graph.nodes)
    names = {re.match(r"\s*(\w+) ", ln).group(1) for ln in node_statements}
    assert len(names) == len(graph.nodes)
    for edge in edges:  # every edge joins two declared nodes
        src, dst = re.findall(r"\w+", edge)
        assert src in names and dst in names
    assert "f64[3]" in dot and f"{HERE}:{F_LINE + 1}" in dot
    assert dot.count('"') % 2 == 0 and dot.count("{") == dot.count("}")


def test_nodes_are_in_topological_order(graph):
    position = {id(n): i for i, n in enumerate(graph.nodes)}
    assert len(position) == len(graph.nodes)  # no duplicates
    for node in graph.nodes:
        for inp in node.inputs:
            assert position[id(inp)] < position[id(node)]
    assert [id(n) for n in toposort(graph.outputs)] == [id(n) for n in graph.nodes]


def test_shared_subexpression_appears_once():
    def f(x):
        s = fnp.sin(x)
        return fnp.exp(x) * fnp.exp(x) + s * s

    g = make_graph(f)(np.ones(2))
    assert op_names(g).count("sin") == 1 and op_names(g).count("exp") == 2
    sin_node = next(n for n in g.nodes if n.name == "sin")
    square = next(n for n in g.nodes if n.name == "multiply" and n.inputs[0] is sin_node)
    assert square.inputs == (sin_node, sin_node)


def test_graph_of_grad_contains_the_backward_ops():
    g = make_graph(grad(lambda x: fnp.sum(fnp.sin(x))))(np.ones(3))
    assert "cos" in op_names(g)                 # d sin = cos
    assert g.outputs[0].shape == (3,) and g.outputs[0].dtype == np.float64
    g2 = make_graph(grad(lambda x: fnp.sum(fnp.exp(x) * x)))(np.ones(3))
    assert "exp" in op_names(g2) and op_names(g2).count("multiply") >= 2
    text = str(g2)
    assert HERE in text


def test_graph_of_grad_of_grad():
    g = make_graph(grad(grad(fnp.sin)))(0.5)
    # sin'' = -sin: the graph computes sin of its input.
    sin_node = next(n for n in g.nodes if n.name == "sin")
    assert sin_node.inputs == g.inputs
    assert g.outputs[0].shape == () and g.inputs[0].shape == ()


def test_closure_over_an_outer_tracer_is_lifted_as_an_extra_input():
    seen = []

    def outer(x):
        inner = make_graph(lambda y: y * x + 1.0)(np.ones(3))
        seen.append(inner)
        return fnp.sum(x * x)

    np.testing.assert_array_equal(grad(outer)(np.full(3, 2.0)), np.full(3, 4.0))
    (inner,) = seen
    assert [n.kind for n in inner.inputs] == ["input", "lifted"]
    assert [n.shape for n in inner.inputs] == [(3,), (3,)]
    multiply = next(n for n in inner.nodes if n.name == "multiply")
    assert multiply.inputs == inner.inputs
    assert str(inner).splitlines()[0] == "graph(a:f64[3], b:f64[3]) {"


def test_closure_under_make_graph_is_lifted_too():
    seen = []

    def outer(x):
        seen.append(make_graph(lambda y: fnp.sin(x) + y)(1.0))
        return x

    make_graph(outer)(np.ones(2))
    (inner,) = seen
    assert [n.kind for n in inner.inputs] == ["input", "lifted"]
    assert inner.outputs[0].shape == (2,)


def test_unused_input_still_appears():
    g = make_graph(lambda x, unused: fnp.sum(x))(np.ones(3), np.ones((2, 2), np.float32))
    assert len(g.inputs) == 2
    unused = g.inputs[1]
    assert unused.shape == (2, 2) and unused.dtype == np.float32
    assert any(n is unused for n in g.nodes)
    assert str(g).splitlines()[0] == "graph(a:f64[3], b:f32[2,2]) {"
    assert "f32[2,2]" in g.to_dot()


def test_pytree_inputs_and_outputs():
    params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
    g = make_graph(lambda p, x: {"out": x @ p["w"] + p["b"], "n": None})(params, np.ones(2))
    assert g.in_tree == tree.structure((params, np.ones(2)))
    assert g.out_tree == tree.structure({"out": 0.0, "n": None})
    assert [n.shape for n in g.inputs] == [(3,), (2, 3), (2,)]  # dict keys sorted: b, w
    assert op_names(g) == ["matmul", "add"]


def test_constant_output():
    g = make_graph(lambda x: (x, 3.0))(np.ones(2))
    assert g.outputs[0] is g.inputs[0]
    assert g.outputs[1].kind == "constant" and g.outputs[1].value == 3.0
    assert str(g).splitlines()[-2] == "  return (a, b)"


def test_abstract_tracing_does_not_compute_values():
    calls = []

    def f(x):
        calls.append(repr(x))
        return fnp.exp(x)

    g = make_graph(f)(np.full(2, 1e308))  # exp would overflow if it were computed
    assert "abstract" in calls[0]
    assert op_names(g) == ["exp"]
