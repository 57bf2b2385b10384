"""Graph optimisation passes (Graph -> Graph) used by ``jit``."""

from __future__ import annotations

from funcgrad._core.graph import Graph


def optimize(graph: Graph) -> Graph:
    """Run the optimisation pipeline on ``graph`` and return the optimised graph."""
    return graph
