"""Algebraic simplification: a table of exact rewrite rules, one per primitive.

Each rule looks at a node (whose inputs are already simplified) and returns a
replacement, or ``None`` to leave it.  Every rule is guarded so that it never
changes a shape or a dtype, and so that it is exact, bit for bit, on every
input, including NaN, infinities and the sign of zero:

* ``x * 1``, ``1 * x`` -> ``x`` (real dtypes: for complex ``x``, ``inf * (1+0j)``
  makes a NaN);
* ``x + 0``, ``0 + x``, ``x - 0`` -> ``x``, where the zero is the additive
  identity of ``x``'s dtype: any zero for integers, but for floats only ``-0.0``
  in ``x + z`` and ``+0.0`` in ``x - z`` (``-0.0 + 0.0`` is ``+0.0``, not ``-0.0``);
* ``-(-x)`` -> ``x``;
* ``transpose(transpose(x))`` -> one transpose, or ``x`` when the permutations cancel;
  ``reshape(reshape(x))`` -> one reshape, or ``x``; an identity transpose,
  reshape or broadcast is ``x``;
* ``sum(broadcast_to(x))`` over axes that the broadcast only replicated ->
  ``x * count`` (then reshaped and broadcast over the axes not summed).  For
  integers this is exact; for floats it is the correctly rounded value of the
  exact sum, which may differ from NumPy's sequence of additions in the last
  place, and keeps the sign of a sum of ``-0.0`` (NumPy's reduction starts from
  ``+0.0``).  It is the one rule that is exact in value rather than in NumPy's
  rounding.
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.graph import CONSTANT, Graph, Node
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.optimize._rewrite import PY_SCALARS, make_node, rewrite, size_of


def _same_aval(x: Node, node: Node) -> bool:
    return x.shape == node.shape and x.dtype == node.dtype


def _const_all(node: Node, test) -> bool:
    """``node`` is a constant and ``test(value)`` holds for every element."""
    if node.kind != CONSTANT:
        return False
    v = node.value
    if type(v) in PY_SCALARS:  # the common case: a literal in the user's code
        return bool(test(v))
    return bool(np.all(test(np.asarray(v))))


def _is_one(v):
    return v == 1


def _is_zero(v):
    return v == 0


def _is_negative_zero(v):
    return (v == 0) & np.signbit(v)


def _is_positive_zero(v):
    return (v == 0) & ~np.signbit(v)


def _identity_for_add(x: Node, z: Node, negative_zero: bool) -> bool:
    """``z`` is a zero that leaves every ``x`` unchanged (``x + -0.0`` and ``x - +0.0`` for floats)."""
    kind = x.dtype.kind
    if kind in "iu":
        return _const_all(z, _is_zero)
    if kind == "f":
        return _const_all(z, _is_negative_zero if negative_zero else _is_positive_zero)
    return False  # complex and bool: the sign of an imaginary zero, or a dtype change


def _multiply(node: Node):
    a, b = node.inputs
    for x, c in ((a, b), (b, a)):
        if _same_aval(x, node) and x.dtype.kind != "c" and _const_all(c, _is_one):
            return x
    return None


def _add(node: Node):
    a, b = node.inputs
    for x, z in ((a, b), (b, a)):
        if _same_aval(x, node) and _identity_for_add(x, z, negative_zero=True):
            return x
    return None


def _subtract(node: Node):
    x, z = node.inputs
    if _same_aval(x, node) and _identity_for_add(x, z, negative_zero=False):
        return x
    return None


def _negative(node: Node):
    (x,) = node.inputs
    if x.primitive is ew.negative_p:
        return x.inputs[0]
    return None


def _transpose(node: Node):
    (x,) = node.inputs
    axes = node.params["axes"]
    if x.primitive is sh.transpose_p:
        inner = x.params["axes"]
        x = x.inputs[0]
        axes = tuple(inner[a] for a in axes)
    if axes == tuple(range(len(axes))):
        return x
    if x is node.inputs[0]:
        return None
    return make_node(sh.transpose_p, (x,), {"axes": axes}, node.where)


def _reshape(node: Node):
    (x,) = node.inputs
    if x.primitive is sh.reshape_p:
        x = x.inputs[0]
    if x.shape == node.shape:
        return x
    if x is node.inputs[0]:
        return None
    return make_node(sh.reshape_p, (x,), {"shape": node.shape}, node.where)


def _broadcast_to(node: Node):
    (x,) = node.inputs
    return x if x.shape == node.shape else None


def _sum(node: Node):
    """``sum(broadcast_to(x, S), axes)``, each summed axis a replication of ``x``: ``x * count``."""
    (b,) = node.inputs
    if b.primitive is not sh.broadcast_to_p:
        return None
    x = b.inputs[0]
    axes, keepdims = node.params["axis"], node.params["keepdims"]
    full = b.shape
    lead = len(full) - len(x.shape)
    padded = (1,) * lead + x.shape  # x's shape, aligned with the broadcast shape
    if any(padded[a] != 1 for a in axes):
        return None  # an axis of x itself is summed: not a replication
    count = size_of([full[a] for a in axes])
    if count < 1:
        return None  # the sum of nothing is 0, but x * 0 is NaN for infinite x
    if x.dtype != node.dtype and x.dtype.kind != "b":
        return None  # e.g. int32 sums to int64 but int32 * n stays int32: leave it
    kept = padded if keepdims else tuple(n for i, n in enumerate(padded) if i not in axes)
    y = x if kept == x.shape else make_node(sh.reshape_p, (x,), {"shape": kept}, node.where)
    if count > 1:
        y = make_node(ew.multiply_p, (y, Node.constant(count)), None, node.where)
    if y.dtype != node.dtype:
        return None
    if y.shape != node.shape:
        y = make_node(sh.broadcast_to_p, (y,), {"shape": node.shape}, node.where)
    return y


#: primitive -> rule; the whole simplifier, readable in one screen.
RULES = {
    ew.multiply_p: _multiply,
    ew.add_p: _add,
    ew.subtract_p: _subtract,
    ew.negative_p: _negative,
    sh.transpose_p: _transpose,
    sh.reshape_p: _reshape,
    sh.broadcast_to_p: _broadcast_to,
    red.sum_p: _sum,
}


def simplify_node(node: Node) -> Node:
    """``node`` rewritten by its primitive's rule, or ``node`` itself when no rule applies."""
    rule = RULES.get(node.primitive)
    if rule is None:
        return node
    out = rule(node)
    if out is None:
        return node
    if out.shape != node.shape or out.dtype != node.dtype:  # a guard against a broken rule
        raise AssertionError(f"internal error: simplifying {node!r} gave {out!r}")
    return out


def simplify(graph: Graph) -> Graph:
    """Apply the algebraic rules of :data:`RULES` to every node, inputs first.

    Because inputs are simplified first, chains collapse in one pass:
    ``-(-(-x))`` becomes ``-x`` and three reshapes become one.

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> g = fg.make_graph(lambda x: -(-x) * 1.0)(np.ones(2))
        >>> [n.name for n in simplify(g).nodes]
        ['input']
    """
    return rewrite(graph, simplify_node)
