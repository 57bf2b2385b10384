"""Common-subexpression elimination by structural hashing."""

from __future__ import annotations

import numpy as np

from funcgrad._core.graph import CONSTANT, Graph, Node, has_effects
from funcgrad.optimize._rewrite import PY_SCALARS, rewrite, scalar_key

#: Array constants up to this many bytes are merged by content (hashing reads every byte).
MAX_CONSTANT_BYTES = 1 << 20


def constant_key(node: Node):
    """The key under which equal constants meet: same bits, dtype, shape and weakness.

    ``None`` means "do not merge" (an object, or an array too large to hash).
    """
    v = node.value
    if type(v) in PY_SCALARS:
        return ("scalar",) + scalar_key(v)
    if isinstance(v, (np.ndarray, np.generic)) and v.dtype.kind in "biufc":
        if v.nbytes > MAX_CONSTANT_BYTES:
            return None
        # tobytes() reads in C order whatever the strides (np.ascontiguousarray would make 0-d 1-d)
        return ("array", type(v).__name__, v.shape, v.dtype.str, v.tobytes())
    return None


def cse(graph: Graph) -> Graph:
    """Merge nodes that compute the same value: same primitive, same inputs, equal params.

    Nodes are visited inputs first, so by the time a node is hashed its inputs
    are already the merged representatives, and ``Node.structural_key`` (which
    names inputs by identity) finds whole duplicate subexpressions.  Constants
    merge when their values have the same bits, dtype and shape; a weak Python
    scalar never merges with a NumPy value (they promote differently).

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: fnp.sin(x) + fnp.sin(x))(np.ones(2))
        >>> [n.name for n in cse(g).nodes]
        ['input', 'sin', 'add']
    """
    seen: dict = {}

    def merge(node: Node) -> Node:
        try:
            if node.kind == CONSTANT:
                key = constant_key(node)
            elif has_effects(node):
                return node  # two prints of one value are two prints
            elif node.params:
                key = node.structural_key()
            else:  # structural_key() of a node without params, built without sorting nothing
                key = (node.primitive, tuple([id(i) for i in node.inputs]), ())
            if key is None:
                return node
            return seen.setdefault(key, node)
        except TypeError:  # a parameter that cannot be hashed: leave the node alone
            return node

    return rewrite(graph, merge)
