"""``make_graph``: trace a function abstractly and return its immutable :class:`Graph`."""

from __future__ import annotations

from typing import Callable

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import Graph, Node
from funcgrad._core.trace import AbstractTrace, Tracer
from funcgrad.transforms._args import array_leaves, as_array_leaf


def close_graph(trace, tracers, out_leaves, in_tree, out_tree, fname: str) -> Graph:
    """The Graph an abstract trace recorded: its inputs (then lifted values) and outputs.

    An output that does not depend on the inputs becomes a (read-only) constant node.
    """
    outputs = []
    for leaf in out_leaves:
        if isinstance(leaf, Tracer) and leaf._trace is trace:
            outputs.append(leaf._node)
        else:
            value = np.asarray(as_array_leaf(leaf, "an output leaf", fname))
            outputs.append(Node.constant(value, copy=True))
    inputs = [t._node for t in tracers] + [node for _, node in trace.lifted.values()]
    return Graph(inputs, outputs, in_tree, out_tree, trace.effects)


def make_graph(f: Callable, optimize: bool = False) -> Callable[..., Graph]:
    """A function that traces ``f`` on arguments of the given shapes and dtypes and returns its Graph.

    With ``optimize=True`` it returns the graph after :func:`funcgrad.optimize.optimize`
    (what ``jit`` runs).

    Tracing is abstract (shapes and dtypes only), so Python control flow on values
    raises :class:`~funcgrad.errors.ConcretizationError`.  ``print(graph)`` shows
    one line per node with its shape, dtype and the user's source line.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> g = make_graph(lambda x: fnp.exp(x) + 1.0)(np.zeros(3))
        >>> print(g)  # doctest: +ELLIPSIS
        graph(a:f64[3]) {
          b:f64[3] = exp a  # ...
          c:f64[] = const 1.0
          d:f64[3] = add b c  # ...
          return (d)
        }
    """

    def graph_of(*args) -> Graph:
        leaves, in_tree = tree.flatten(args)
        leaves = array_leaves(leaves, lambda i: f"leaf {i} of the arguments {in_tree}",
                              "make_graph")
        with AbstractTrace("make_graph") as trace:
            tracers = [trace.new_input(np.shape(x), x.dtype) for x in leaves]
            out = f(*tree.unflatten(in_tree, tracers))
            out_leaves, out_tree = tree.flatten(out)
        graph = close_graph(trace, tracers, out_leaves, in_tree, out_tree, "make_graph")
        if optimize:
            from funcgrad.optimize import optimize as run_passes

            graph = run_passes(graph)
        return graph

    graph_of.__name__ = f"make_graph({getattr(f, '__name__', 'f')})"
    return graph_of
