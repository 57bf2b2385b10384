"""``linearize`` and ``linear_transpose`` (JAX's names and semantics).

``linearize(f, *primals)`` runs ``f`` once under ``jvp`` with *abstract* tangents: the
nonlinear primal computation happens then, eagerly, and the tangent computation is
recorded as a graph whose only inputs are the tangents (primal-dependent values such as
``cos(x)`` are its constants).  ``f_jvp`` evaluates that graph: no primal work per call,
and as a graph it composes with ``jit``, ``vmap`` and ``grad`` like any function.

``linear_transpose(f, *primals)`` checks that ``f`` is linear, then transposes it with
the backward pass of ``vjp`` taken at zero (for a linear map the VJP is the same at every
point: it is the transpose).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import Graph, toposort
from funcgrad._core.interpret import eval_graph
from funcgrad._core.trace import AbstractTrace, Tracer
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError
from funcgrad.transforms._args import describe, flatten_differentiable
from funcgrad.transforms.eval_shape import _aval
from funcgrad.transforms.graph import close_graph
from funcgrad.transforms.jvp import jvp


class _LinearFunction:
    """``f_jvp``: evaluates the recorded tangent graph on new tangents."""

    def __init__(self, fname: str, graph: Graph, lifted: list, in_leaves: list):
        self._fname, self._graph, self._lifted = fname, graph, lifted
        self._avals = [(np.shape(x), np.dtype(x.dtype)) for x in in_leaves]
        self.__name__ = fname

    def __call__(self, *tangents):
        leaves, treedef = tree.flatten(tangents)
        if treedef != self._graph.in_tree:
            raise TreeStructureError(f"{self._fname}: the tangents have structure {treedef}, "
                                     f"but the primals had structure {self._graph.in_tree}")
        for i, (t, (shape, dtype)) in enumerate(zip(leaves, self._avals)):
            if np.shape(t) != shape:
                raise ShapeError(f"{self._fname}: tangent leaf {i} is {describe(t)}, but its "
                                 f"primal has shape {shape}")
            t_dtype = np.dtype(t.dtype) if hasattr(t, "dtype") else np.asarray(t).dtype
            if t_dtype != dtype:
                raise DTypeError(f"{self._fname}: tangent leaf {i} is {describe(t)}, but its "
                                 f"primal has dtype {dtype.name}: dtypes must match")
        outs = eval_graph(self._graph, list(leaves) + self._lifted)
        return tree.unflatten(self._graph.out_tree, outs)


def linearize(f: Callable, *primals) -> tuple[Any, Callable]:
    """``(f(*primals), f_jvp)``: ``f_jvp(*tangents)`` is ``jvp(f, primals, tangents)[1]``,
    evaluated without re-running ``f``'s nonlinear primal computation.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> out, f_jvp = linearize(fnp.sin, np.array([0.0, np.pi]))
        >>> f_jvp(np.array([1.0, 2.0]))
        array([ 1., -2.])
    """
    fname = f"linearize({getattr(f, '__name__', 'f')})"
    leaves, in_tree = flatten_differentiable(primals, fname)
    with AbstractTrace(fname) as trace:
        tangents = [trace.new_input(np.shape(x), x.dtype) for x in leaves]
        out, out_tangent = jvp(f, tuple(primals), tree.unflatten(in_tree, tangents))
        t_leaves, out_tree = tree.flatten(out_tangent)
        graph = close_graph(trace, tangents, t_leaves, in_tree, out_tree, fname)
    from funcgrad.optimize import cse, dce, fold, optimize, simplify

    graph = optimize(graph, (fold, cse, simplify, cse, dce))  # primitives only: still traceable
    lifted = [t for t, _ in trace.lifted.values()]
    return out, _LinearFunction(f"f_jvp of {fname}", graph, lifted, leaves)


def _first_nonlinear(primal_nodes: list, tangent_outputs: list):
    """The first node (in evaluation order) of the tangent computation that reads both a primal
    and a tangent: there the derivative depends on the point, so the function is not linear."""
    on_primal = {id(n) for n in primal_nodes}
    on_tangent: set = set()
    for node in toposort(tangent_outputs):
        if node.primitive is None:
            if node.kind == "input" and id(node) not in on_primal:
                on_tangent.add(id(node))
            continue
        p = any(id(i) in on_primal for i in node.inputs)
        t = any(id(i) in on_tangent for i in node.inputs)
        if p and t:
            return node
        if p:
            on_primal.add(id(node))
        if t:
            on_tangent.add(id(node))
    return None


def linear_transpose(f: Callable, *primals) -> Callable:
    """The transpose of the linear function ``f``: ``f_t(ct)`` gives a tuple with one cotangent per
    argument, ``<ct, f(x)> == <f_t(ct), x>``.  ``primals`` fix the arguments' shapes and dtypes
    (arrays or :class:`~funcgrad.ShapeDtypeStruct`); their values are not used.

    ``f`` must be linear: a derivative that depends on the point (``x * x``, ``relu``) and a
    nonzero ``f(0)`` (``x + 1``) raise :class:`~funcgrad.errors.ArgumentError`.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> f_t = linear_transpose(lambda x: fnp.cumsum(x), np.zeros(3))
        >>> f_t(np.array([1.0, 2.0, 3.0]))
        (array([6., 5., 3.]),)
    """
    from funcgrad.transforms.grad import vjp

    fname = f"linear_transpose({getattr(f, '__name__', 'f')})"
    leaves, in_tree = tree.flatten(tuple(primals))
    avals = [_aval(x, i, in_tree, fname) for i, x in enumerate(leaves)]
    for i, (shape, dtype) in enumerate(avals):
        if not is_inexact(dtype):
            raise DTypeError(f"{fname}: leaf {i} of the arguments has dtype {dtype.name}; a "
                             "linear map transposes only floating-point arguments")
    with AbstractTrace(fname) as trace:
        p = [trace.new_input(s, d) for s, d in avals]
        t = [trace.new_input(s, d) for s, d in avals]
        _, out_tangent = jvp(f, tree.unflatten(in_tree, p), tree.unflatten(in_tree, t))
        t_nodes = [leaf._node for leaf in tree.leaves(out_tangent)
                   if isinstance(leaf, Tracer) and leaf._trace is trace]
    culprit = _first_nonlinear([x._node for x in p], t_nodes)
    if culprit is not None:
        where = culprit.where
        at = f" at {where[0]}:{where[1]}" if where else ""
        raise ArgumentError(
            f"{fname}: the function is not linear in its arguments: the derivative of the "
            f"operation{at} depends on the point where it is taken (its rule's {culprit.name} "
            "reads both a tangent and a value computed from the arguments, as the derivative of "
            "x * x or of a mask from x > 0 does). linear_transpose needs a linear function; for "
            "the transpose of the linearisation at a point, use vjp(f, *primals)[1] (or "
            "linearize, then vjp of its f_jvp).")
    zeros = tree.unflatten(in_tree, [np.zeros(s, d) for s, d in avals])
    out, f_vjp = vjp(f, *zeros)
    for i, leaf in enumerate(tree.leaves(out)):
        value = leaf
        if np.any(np.asarray(value) != 0):
            raise ArgumentError(
                f"{fname}: the function is not linear: at zero arguments its output leaf {i} "
                f"is not zero ({describe(leaf)}, e.g. {np.asarray(value).flat[0]!r}), so it is "
                "affine at best; transpose its linear part f(x) - f(0) instead.")

    def f_transpose(ct):
        return f_vjp(ct)

    f_transpose.__name__ = f"transpose of {getattr(f, '__name__', 'f')}"
    return f_transpose


__all__ = ["linear_transpose", "linearize"]
