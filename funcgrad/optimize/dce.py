"""Dead-code elimination: keep only what the outputs depend on (and every input)."""

from __future__ import annotations

from funcgrad._core.graph import Graph


def dce(graph: Graph) -> Graph:
    """The graph rebuilt from its outputs: nodes that no output depends on are dropped
    (except the graph's effects, such as ``debug.print``, and what they read).

    Inputs are kept even when unused (they are the graph's signature).  A new
    :class:`Graph` computes its node list afresh by an iterative walk back from
    its outputs, so whatever another pass cut off from the outputs disappears.

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> g = fg.make_graph(lambda x, y: (x * 2.0, y))(np.ones(2), np.ones(2))
        >>> [n.name for n in dce(Graph(g.inputs, g.outputs[1:])).nodes]  # the multiply is gone
        ['input', 'input']
    """
    return Graph(graph.inputs, graph.outputs, graph.in_tree, graph.out_tree, graph.effects)
