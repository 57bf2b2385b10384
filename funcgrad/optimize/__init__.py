"""Graph optimisation passes (Graph -> Graph) used by ``jit``.

Each pass is a pure function from graph to graph and can be run on its own:

* :func:`fold` -- constant folding;
* :func:`simplify` -- exact algebraic rewrites (``x * 1``, ``-(-x)``, transpose and
  reshape chains, ``sum`` of ``broadcast_to``);
* :func:`cse` -- common-subexpression elimination by structural hashing;
* :func:`dce` -- dead-code elimination;
* :func:`fuse` -- elementwise fusion into ``fused`` nodes (see :mod:`.fusion`);
* :func:`pair_scans` -- a scan and the scan that reads its stacked ys (a loop's gradient)
  as one ``scan_pair`` node (see :mod:`.scan_pair`).

:func:`optimize` runs fold, CSE, simplify, CSE, DCE, fusion, DCE once more and the scan pairing.  Every pass walks
the graph with loops, never recursion, so graphs of 100,000 nodes are fine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from funcgrad._core.graph import Graph
from funcgrad._core.trace import gc_paused
from funcgrad.optimize.cse import cse
from funcgrad.optimize.dce import dce
from funcgrad.optimize.fold import fold
from funcgrad.optimize.fusion import Program, fuse, fused_p
from funcgrad.optimize.scan_pair import pair_scans
from funcgrad.optimize.simplify import simplify

#: The pipeline :func:`optimize` runs by default.  CSE runs before simplify too: the
#: rules that must not duplicate work ask whether a value has a single reader, and
#: a traced graph reads one value through several equal nodes.  Fusion comes last,
#: so every other pass sees the original primitives.
DEFAULT_PASSES: tuple[Callable[[Graph], Graph], ...] = (fold, cse, simplify, cse, dce, fuse, dce,
                                                        pair_scans)


def optimize(graph: Graph, passes: Sequence[Callable[[Graph], Graph]] | None = None) -> Graph:
    """Run ``passes`` (default :data:`DEFAULT_PASSES`) on ``graph``, one after another.

    The result computes the same outputs from the same inputs.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: fnp.exp(-(-x)) * 1.0 + fnp.exp(x))(np.ones(3))
        >>> print(optimize(g))  # doctest: +ELLIPSIS
        graph(a:f64[3]) {
          b:f64[3] = fused program=Program(t0 = exp(in0); t1 = add(t0, t0); return t1) a  # ...
          return (b)
        }
    """
    with gc_paused():  # the passes allocate many nodes and free few: skip the GC rescans
        for p in DEFAULT_PASSES if passes is None else passes:
            graph = p(graph)
    return graph


__all__ = ["DEFAULT_PASSES", "Program", "cse", "dce", "fold", "fuse", "fused_p", "optimize",
           "pair_scans", "simplify"]
