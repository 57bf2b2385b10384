"""What the structured control-flow functions share: tracing a body into a sub-graph, and
checking that what it returns matches what it must (carry structure, shapes, dtypes).

A body is a user function of pytrees.  :func:`trace_body` traces it once, abstractly,
on the abstract values of its arguments, into a closed graph whose inputs are the flat
leaves of the arguments followed by the values of enclosing traces it closes over
(``consts``: the operation takes them as operands, so gradients and batching reach them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import Graph, type_string
from funcgrad._core.subgraph import trace_closed
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, CarryError


class Body(NamedTuple):
    """A traced body: its graph, the enclosing-trace values it uses, and its output layout."""

    graph: Graph
    consts: tuple
    out_tree: Any
    out_avals: list  # (shape, dtype) per output leaf


def aval(x) -> tuple[tuple, np.dtype]:
    """``(shape, dtype)`` of an array, a tracer, a Python scalar or a ShapeDtypeStruct-like."""
    if isinstance(x, (np.ndarray, Tracer, np.generic)) or (hasattr(x, "shape") and hasattr(x, "dtype")):
        return tuple(x.shape), np.dtype(x.dtype)
    return np.shape(x), np.asarray(x).dtype


def as_operand(x):
    """A leaf as an operand: arrays and tracers as they are, Python scalars as 0-d arrays."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic):
        return x
    return np.asarray(x)


def flatten_operands(value, what: str, fname: str) -> tuple[list, Any]:
    """``(leaves as operands, treedef)``; a leaf that is not array-like is an error naming it."""
    leaves, treedef = tree.flatten(value)
    out = []
    for i, leaf in enumerate(leaves):
        if leaf is None or isinstance(leaf, (str, bytes)) or callable(leaf):
            where = _path(treedef, i)
            where = "" if where == "(the whole value)" else f" at {where}"
            raise ArgumentError(f"{fname}: {what} leaf{where} is "
                                f"{type(leaf).__name__} {leaf!r}, not an array or a number")
        out.append(as_operand(leaf))
    return out, treedef


def trace_body(fn: Callable, arg_trees: Sequence, fname: str) -> Body:
    """Trace ``fn(*arg_trees)`` once on the abstract values of the leaves of ``arg_trees``."""
    leaves, in_tree = tree.flatten(tuple(arg_trees))
    avals = [aval(x) for x in leaves]
    out_box: list = []

    def flat(*tracers):
        out = fn(*tree.unflatten(in_tree, list(tracers)))
        out_leaves, out_tree = tree.flatten(out)
        out_box.append(out_tree)
        return [as_operand(o) for o in out_leaves]

    graph, consts = trace_closed(flat, avals, name=fname)
    return Body(graph, consts, out_box[0], [(n.shape, n.dtype) for n in graph.outputs])


def _path(treedef, i: int) -> str:
    """Where leaf ``i`` of ``treedef`` is, as JAX's ``keystr`` (``['w'][0]``) when available."""
    try:
        from funcgrad.tree import keystr, leaves_with_path

        paths = leaves_with_path(treedef.unflatten([0] * treedef.num_leaves))
        return keystr(paths[i][0]) or "(the whole value)"
    except (ImportError, AttributeError, IndexError):
        return f"#{i}"


def check_matches(fname: str, what: str, want_tree, want_avals: Sequence, got_tree,
                  got_avals: Sequence, got_what: str, hint: str | None = None) -> None:
    """Raise :class:`CarryError` unless ``got`` has ``want``'s structure, shapes and dtypes.

    ``what`` names the expected value (``"the carry"``), ``got_what`` the returned one
    (``"body_fun's result"``); the message names the first differing leaf's path and
    both types.  ``hint`` replaces the closing advice (a loop's by default).
    """
    if got_tree != want_tree:
        raise CarryError(f"{fname}: {got_what} has structure {got_tree}, but {what} has "
                         f"structure {want_tree}; they must be the same")
    for i, ((ws, wd), (gs, gd)) in enumerate(zip(want_avals, got_avals)):
        if tuple(ws) != tuple(gs) or np.dtype(wd) != np.dtype(gd):
            raise CarryError(
                f"{fname}: {got_what} at {_path(want_tree, i)} is {type_string(gs, gd)}, but "
                f"{what} there is {type_string(ws, wd)}; "
                + (hint or "the shape and dtype must stay the same (cast with x.astype(dtype), "
                   "or give the initial value the dtype the body produces)"))
