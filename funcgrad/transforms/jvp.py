"""Forward mode: ``jvp``, and the Jacobians and Hessian built on it and on ``vjp``.

A :class:`JVPTrace` carries a tangent beside each value.  Each primitive's JVP
rule maps input tangents to the output tangent with funcgrad ops, so the
tangent computation is itself traced by any enclosing transformation
(``jvp(grad(f), ...)`` is a Hessian-vector product, ``grad`` of a ``jvp`` works).
Values from enclosing traces are constants here: their tangent is zero.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import CARRIES_DERIVATIVE
from funcgrad._core.trace import Trace, Tracer
from funcgrad.errors import DTypeError, ShapeError, TreeStructureError
from funcgrad.transforms._args import as_array_leaf, describe, flatten_differentiable


class JVPTracer(Tracer):
    """A value with its tangent (``None`` never: zero tangents are not traced)."""

    __slots__ = ("_tangent",)

    def __init__(self, trace, value, tangent):
        Tracer.__init__(self, trace, None, value)
        _set_tangent(self, tangent)

    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)


_set_tangent = JVPTracer._tangent.__set__


class JVPTrace(Trace):
    """Forward-mode tracing: every operation also computes its output tangent."""

    kind = "jvp"
    carries_primal = True

    def process(self, prim, args, params):
        primals, tangents = self.unpack(args, JVPTracer, "_tangent")
        ans, tangent = prim.jvp(primals, tangents, params)
        if tangent is None or not CARRIES_DERIVATIVE[ans.dtype]:
            return ans
        if tangent.dtype != ans.dtype:
            tangent = tangent.astype(ans.dtype)
        return JVPTracer(self, ans, tangent)


def _check_tangents(primals, tangents):
    p_leaves, p_tree = flatten_differentiable(primals, "jvp")
    t_leaves, t_tree = tree.flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TreeStructureError(f"jvp: primals have structure {p_tree} but tangents have "
                                 f"structure {t_tree}")
    out = []
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        t = as_array_leaf(t, f"tangent leaf {i}", "jvp")
        if np.shape(t) != np.shape(p):
            raise ShapeError(f"jvp: tangent leaf {i} is {describe(t)} but its primal is "
                             f"{describe(p)}: shapes must match")
        if t.dtype != p.dtype:
            raise DTypeError(f"jvp: tangent leaf {i} is {describe(t)} but its primal is "
                             f"{describe(p)}: dtypes must match")
        out.append(t)
    return p_leaves, out, p_tree


def jvp(f: Callable, primals, tangents) -> tuple[Any, Any]:
    """``(f(*primals), J·tangents)``: the output and its directional derivative.

    ``primals`` and ``tangents`` are tuples (or lists) of pytrees with matching
    structure, shapes and dtypes.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> jvp(fnp.sin, (np.array([0.0]),), (np.array([2.0]),))
        (array([0.]), array([2.]))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TreeStructureError("jvp: primals and tangents must be tuples (or lists) of "
                                 f"arguments, got {type(primals).__name__} and "
                                 f"{type(tangents).__name__}")
    p_leaves, t_leaves, in_tree = _check_tangents(tuple(primals), tuple(tangents))
    with JVPTrace("jvp") as trace:
        tracers = [JVPTracer(trace, p, t) for p, t in zip(p_leaves, t_leaves)]
        out = f(*tree.unflatten(in_tree, tracers))
        out_leaves, out_tree = tree.flatten(out)
        values, out_tangents = [], []
        for leaf in out_leaves:
            if isinstance(leaf, JVPTracer) and leaf._trace is trace:
                values.append(leaf._value)
                out_tangents.append(leaf._tangent)
            else:
                leaf = as_array_leaf(leaf, "an output leaf", "jvp")
                values.append(leaf)
                out_tangents.append(np.zeros(np.shape(leaf), leaf.dtype))
    return tree.unflatten(out_tree, values), tree.unflatten(out_tree, out_tangents)
