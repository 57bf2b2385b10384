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
  ``+0.0``).  It is exact in value rather than in NumPy's rounding;
* ``sum(-x)`` -> ``-sum(x)`` when nothing else reads ``-x`` (the negation then runs
  on the smaller result): exact, since rounding is symmetric, except that a sum
  that is exactly zero may change the sign of that zero;
* ``reshape(sum(x, keepdims=False))`` to the keepdims shape -> ``sum(x, keepdims=True)``
  when nothing else reads the first sum;
* ``logical_or(x, True)`` -> ``True`` and ``where(True, x, y)`` -> ``x`` (a constant
  condition): the guard that keeps a zero cotangent zero in ``multiply``'s VJP
  (``where(isfinite(d) | (g != 0), d, 0)``) disappears when ``g`` is a nonzero constant,
  as it is for the seed of ``grad`` and the constant factors after it.

Two rules apply to the operands of every elementwise primitive (broadcasting
is implicit there):

* an operand ``broadcast_to(x)`` is ``x`` when the other operands broadcast to
  the result's shape anyway (the backends' kernels read the smaller operand in
  place, and the copy NumPy would make is gone);
* a constant array whose elements all have the same bits is a scalar when the
  other operands give the result its shape: a weak Python scalar when every
  other array operand has the constant's (real or integer) dtype, else a 0-d
  array of its dtype (so promotion is unchanged).
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.dtypes import is_complex, is_floating
from funcgrad._core.graph import CONSTANT, Graph, Node
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops import shape as sh
from funcgrad.optimize._rewrite import (
    PY_SCALARS,
    is_python_scalar,
    make_node,
    rewrite,
    size_of,
    with_inputs,
)


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
    if is_floating(x.dtype):
        return _const_all(z, _is_negative_zero if negative_zero else _is_positive_zero)
    return False  # complex and bool: the sign of an imaginary zero, or a dtype change


def _multiply(node: Node, used_once):
    a, b = node.inputs
    for x, c in ((a, b), (b, a)):
        if _same_aval(x, node) and not is_complex(x.dtype) and _const_all(c, _is_one):
            return x
    return None


def _add(node: Node, used_once):
    a, b = node.inputs
    for x, z in ((a, b), (b, a)):
        if _same_aval(x, node) and _identity_for_add(x, z, negative_zero=True):
            return x
    return None


def _subtract(node: Node, used_once):
    x, z = node.inputs
    if _same_aval(x, node) and _identity_for_add(x, z, negative_zero=False):
        return x
    return None


def _negative(node: Node, used_once):
    (x,) = node.inputs
    if x.primitive is ew.negative_p:
        return x.inputs[0]
    return None


def _transpose(node: Node, used_once):
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


def _reshape(node: Node, used_once):
    (x,) = node.inputs
    if (x.primitive is red.sum_p and not x.params["keepdims"] and used_once(x)
            and _keepdims_shape(x) == node.shape):
        return make_node(red.sum_p, x.inputs, {**x.params, "keepdims": True}, node.where)
    if (x.primitive is not None and x.primitive.elementwise and len(x.inputs) == 1
            and not x.params and used_once(x)
            and x.inputs[0].primitive in (red.sum_p, sh.reshape_p)):
        # reshape(f(y)) is f(reshape(y)) for an elementwise f; worth it when the inner
        # reshape then folds into y (one level: the inner rule does not come back here).
        inner = make_node(sh.reshape_p, x.inputs, node.params, node.where)
        folded = _reshape(inner, used_once)
        if folded is not None and folded.primitive is not sh.reshape_p:
            return make_node(x.primitive, (folded,), None, node.where)
    if x.primitive is sh.reshape_p:
        x = x.inputs[0]
    if x.shape == node.shape:
        return x
    if x is node.inputs[0]:
        return None
    return make_node(sh.reshape_p, (x,), {"shape": node.shape}, node.where)


def _broadcast_to(node: Node, used_once):
    (x,) = node.inputs
    return x if x.shape == node.shape else None


def _keepdims_shape(node: Node) -> tuple:
    """The shape of the ``keepdims=True`` form of the reduction ``node``."""
    axes = node.params["axis"]
    shape = node.inputs[0].shape
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def _sum(node: Node, used_once):
    """``sum(-x)`` is ``-sum(x)``; see :func:`_sum_of_broadcast` for ``sum(broadcast_to(x))``."""
    (x,) = node.inputs
    if x.primitive is ew.negative_p and used_once(x) and x.dtype == node.dtype:
        s = make_node(red.sum_p, x.inputs, node.params, node.where)
        if s.dtype == node.dtype:
            return make_node(ew.negative_p, (s,), None, node.where)
    return _sum_of_broadcast(node)


def _sum_of_broadcast(node: Node):
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


def _is_true(v):
    return v == True  # noqa: E712 - elementwise on arrays


def _all_true(node: Node) -> Node:
    """A read-only constant of ``node``'s shape holding True (a broadcast view: no copy)."""
    return Node.constant(np.broadcast_to(np.True_, node.shape), where=node.where)


def _logical_or(node: Node, used_once):
    a, b = node.inputs
    if node.dtype == np.bool_ and (_const_all(a, _is_true) or _const_all(b, _is_true)):
        return _all_true(node)
    return None


def _where(node: Node, used_once):
    cond, x, y = node.inputs
    if _same_aval(x, node) and _const_all(cond, _is_true):
        return x
    return None


#: primitive -> rule; the whole simplifier, readable in one screen.
RULES = {
    ew.logical_or_p: _logical_or,
    ew.select_p: _where,
    ew.multiply_p: _multiply,
    ew.add_p: _add,
    ew.subtract_p: _subtract,
    ew.negative_p: _negative,
    sh.transpose_p: _transpose,
    sh.reshape_p: _reshape,
    sh.broadcast_to_p: _broadcast_to,
    red.sum_p: _sum,
}


def _never(node: Node) -> bool:
    return False


def simplify_node(node: Node, used_once=_never) -> Node:
    """``node`` rewritten by the operand rules and its primitive's rule (or ``node`` itself).

    ``used_once(n)`` says whether ``n`` has a single reader (the rules that would
    otherwise duplicate work ask it); by default they assume it has more.
    """
    prim = node.primitive
    if prim is None:
        return node
    out = node
    if prim.elementwise:
        out = _operands(node) or node
    rule = RULES.get(prim)
    if rule is not None:
        out = rule(out, used_once) or out
    if out is node:
        return node
    if out.shape != node.shape or out.dtype != node.dtype:  # a guard against a broken rule
        raise AssertionError(f"internal error: simplifying {node!r} gave {out!r}")
    return out


# -- the operands of elementwise primitives ------------------------------------------------
def _operands(node: Node) -> Node | None:
    """``node`` with broadcast operands unwrapped and uniform constants made scalars (or ``None``)."""
    ins = list(node.inputs)
    for k, b in enumerate(ins):
        if b.primitive is sh.broadcast_to_p and not is_python_scalar(b.inputs[0]):
            ins[k] = b.inputs[0]
            if _broadcast(ins) != node.shape:
                ins[k] = b
    if not node.params:  # a fused Program may treat a scalar input differently
        for k, c in enumerate(ins):
            if c.kind == CONSTANT and type(c.value) is np.ndarray and c.value.ndim:
                others = ins[:k] + ins[k + 1:]
                if others and _broadcast(others) == node.shape:
                    ins[k] = _uniform_scalar(c, others) or c
    if all(a is b for a, b in zip(ins, node.inputs)):
        return None
    # The rules above keep the result's shape and dtype by construction; check anyway.
    shape, dtype = node.primitive.abstract_eval(
        *[n.value if n.kind == CONSTANT else n for n in ins], **node.params)
    if tuple(shape) != node.shape or np.dtype(dtype) != node.dtype:
        return None
    return with_inputs(node, tuple(ins))


def _broadcast(nodes) -> tuple:
    return tuple(np.broadcast_shapes(*[n.shape for n in nodes]))


def _uniform_scalar(c: Node, others) -> Node | None:
    """The scalar constant that ``c`` (an array of one repeated value) stands for, or ``None``."""
    v = c.value
    if v.size == 0 or (v.dtype.kind not in "biu" and not is_floating(v.dtype)):
        return None
    flat = np.ascontiguousarray(v).reshape(-1)
    bits = flat.view(np.uint8).reshape(flat.size, v.dtype.itemsize)
    if not (bits == bits[0]).all():  # bits, not ==: -0.0 is not 0.0, and NaN is NaN
        return None
    first = flat[0]
    if v.dtype.kind != "b" and all(is_python_scalar(o) or o.dtype == v.dtype for o in others):
        item = first.item()
        if type(item) in (int, float):  # (a long double's item is not a Python float)
            return Node.constant(item, where=c.where)
    return Node.constant(np.array(first), where=c.where)


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
    uses: dict[int, int] = {}  # a node a rule made inside a replacement has that one reader
    return rewrite(graph, lambda node: simplify_node(node, lambda n: uses.get(id(n), 1) == 1),
                   uses)
