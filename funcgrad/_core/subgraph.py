"""Sub-graphs: a function traced once into a closed :class:`Graph` that an operation holds.

Structured control flow (``lax.scan``, ``cond``...), ``checkpoint`` and custom rules
hold the user's functions as immutable graphs in their params.  :func:`trace_closed`
traces a function of flat arguments abstractly; values it closes over that belong to
an enclosing trace (a parameter being differentiated, a batched value) become extra
inputs of the graph, returned as ``consts`` for the operation to take as operands, so
every enclosing transformation sees the dependency.

Examples:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> graph, consts = trace_closed(lambda x: [fnp.sin(x)], [((3,), np.float64)])
    >>> [n.name for n in graph.nodes], consts
    (['input', 'sin'], ())
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from funcgrad._core.graph import Graph
from funcgrad._core.trace import AbstractTrace, Tracer


def trace_closed(fn: Callable, avals: Sequence[tuple], name: str = "body"
                 ) -> tuple[Graph, tuple]:
    """``(graph, consts)``: ``fn(*tracers) -> list of leaves`` traced on ``avals`` ((shape, dtype) pairs).

    The graph's inputs are one per aval, then one per value of an enclosing trace that
    ``fn`` uses (``consts``, in that order).  An output that is not traced becomes a
    constant node; an output that is a value of an enclosing trace becomes an input.
    """
    with AbstractTrace(name) as trace:
        tracers = [trace.new_input(tuple(shape), np.dtype(dtype)) for shape, dtype in avals]
        outs = fn(*tracers)
        nodes = [o._node if isinstance(o, Tracer) and o._trace is trace else trace._operand(o)[0]
                 for o in outs]
    lifted = list(trace.lifted.values())
    graph = Graph([t._node for t in tracers] + [node for _, node in lifted], nodes,
                  effects=trace.effects)  # debug.print in a body runs when the body runs
    return graph, tuple(outer for outer, _ in lifted)
