"""Constant folding: an op whose inputs are all constants becomes a constant."""

from __future__ import annotations

import numpy as np

from funcgrad._core.graph import CONSTANT, Graph, Node, has_effects
from funcgrad.optimize._rewrite import rewrite, size_of

#: Results with more elements than this stay in the graph (a constant costs memory forever).
MAX_FOLDED_SIZE = 1_000_000


def fold_node(node: Node) -> Node:
    """``node`` evaluated with its NumPy reference when every input is a constant, else ``node``.

    A fold that raises (say, the inverse of a singular constant matrix) is not
    done: the error then happens when the graph runs, as it would have.
    """
    if (node.primitive is None or not node.inputs or node.dtype.hasobject
            or has_effects(node)):  # debug.print runs at run time
        return node  # (an operation with several results stays: see funcgrad.ops.results)
    for i in node.inputs:
        if i.kind != CONSTANT:
            return node
    if size_of(node.shape) > MAX_FOLDED_SIZE:
        return node
    try:
        with np.errstate(all="ignore"):
            value = node.primitive.impl(*[i.value for i in node.inputs], **node.params)
    except Exception:  # noqa: BLE001 - any failure means "do not fold"; the run will raise it
        return node
    value = np.asarray(value)
    if value.shape != node.shape or value.dtype != node.dtype:
        return node  # never change an abstract value
    return Node.constant(value, where=node.where)


def fold(graph: Graph) -> Graph:
    """Replace every op whose inputs are all constants by its (read-only) value.

    Folding runs inputs first, so whole constant subexpressions collapse.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: x + fnp.exp(np.zeros(2)) * 3.0)(np.ones(2))
        >>> [n.name for n in fold(g).nodes]
        ['input', 'constant', 'add']
    """
    return rewrite(graph, fold_node)
