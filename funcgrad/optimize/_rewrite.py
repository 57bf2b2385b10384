"""The one graph walk every pass is built on, and small helpers about nodes.

:func:`rewrite` visits the nodes in topological order (a loop, no recursion),
gives each its already-rewritten inputs, and lets the pass replace it.  Inputs
(and lifted inputs) are never replaced, so the optimised graph has exactly the
original signature.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import numpy as np

from funcgrad._core.graph import CONSTANT, EMPTY_PARAMS, Graph, Node

#: The weak Python scalar types (NEP 50): a constant of one of these yields its dtype to arrays.
PY_SCALARS = (bool, int, float, complex)
_new_node = tuple.__new__  # Node(...) without the Python-level __new__: this walk is the hot path


def rewrite(graph: Graph, replace: Callable[[Node], Node], uses: dict | None = None) -> Graph:
    """A new graph in which every op and constant node ``n`` becomes ``replace(n)``.

    ``replace`` sees each node with its inputs already replaced, in topological
    order, so a rule that looks at its inputs sees them in their final form.
    ``uses``, when given, is filled as the walk goes: ``uses[id(r)]`` is how many
    readers (graph outputs included) the nodes replaced by ``r`` had, so a rule
    can tell whether an input has other readers (new readers that rules create
    are not counted).
    """
    new: dict[int, Node] = {}
    counts = use_counts(graph) if uses is not None else None
    for node in graph.nodes:
        old = node
        if node.primitive is None:
            if node.kind == CONSTANT:
                node = replace(node)
        else:
            mapped = tuple([new[id(i)] for i in node.inputs])
            if mapped != node.inputs:  # Node equality is identity: "some input was replaced"
                node = with_inputs(node, mapped)
            node = replace(node)
        new[id(old)] = node
        if counts is not None:
            uses[id(node)] = uses.get(id(node), 0) + counts.get(id(old), 0)
    return Graph(graph.inputs, [new[id(n)] for n in graph.outputs], graph.in_tree, graph.out_tree,
                 [new[id(n)] for n in graph.effects])


def use_counts(graph: Graph) -> dict[int, int]:
    """``id(node) -> `` the number of input edges that read it, plus one per graph output it is."""
    counts: dict[int, int] = {}
    for node in graph.nodes:
        for i in node.inputs:
            counts[id(i)] = counts.get(id(i), 0) + 1
    for node in graph.outputs:
        counts[id(node)] = counts.get(id(node), 0) + 1
    return counts


def with_inputs(node: Node, inputs: tuple) -> Node:
    """``node`` with other inputs (same primitive, params and abstract value)."""
    return _new_node(Node, (node.primitive, inputs) + node[2:])


def make_node(prim, inputs, params=None, where=None) -> Node:
    """A new op node; its shape and dtype come from the primitive's abstract evaluation."""
    avals = [n.value if n.kind == CONSTANT else n for n in inputs]
    params = dict(params or {})
    shape, dtype = prim.abstract_eval(*avals, **params)
    return Node(prim, tuple(inputs), MappingProxyType(params) if params else EMPTY_PARAMS,
                tuple(shape), np.dtype(dtype), where)


def is_python_scalar(node: Node) -> bool:
    """A constant holding a weak Python scalar (not a NumPy scalar or a 0-d array)."""
    return node.kind == CONSTANT and type(node.value) in PY_SCALARS


def scalar_key(v) -> tuple:
    """A key for a Python scalar that tells ``1``, ``1.0``, ``True``, ``0.0`` and ``-0.0`` apart."""
    return (type(v).__name__, repr(v))


def size_of(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))
