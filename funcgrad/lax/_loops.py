"""``scan``, ``fori_loop`` and ``map`` with ``jax.lax``'s names and signatures.

``scan`` traces its body once into a sub-graph and binds one ``scan_p`` operation
(:mod:`funcgrad.ops.control_scan`), whose rules make it differentiable in both modes to
any order, batchable and jittable as one loop.  ``fori_loop`` with concrete bounds is a
``scan`` with a static trip count (so reverse mode works); with traced bounds it is a
``while_loop`` (forward mode only, as in JAX).  ``map`` is a ``scan`` without a carry.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import Graph, type_string
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, CarryError, ShapeError
from funcgrad.lax._common import (
    _path,
    aval,
    check_matches,
    flatten_operands,
    trace_body,
)
from funcgrad.ops.control_scan import bind_scan


class _Slice:
    """The abstract value of one step's slice of an ``xs`` leaf (a leaf to the pytree code)."""

    __slots__ = ("dtype", "shape")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)


def _int_param(fname: str, name: str, value, minimum: int, kind: str) -> int:
    """``value`` as a Python int of at least ``minimum``, else an :class:`ArgumentError`."""
    try:
        value = operator.index(value)
    except TypeError:
        raise ArgumentError(f"{fname}: {name} must be {kind}, got "
                            f"{type(value).__name__} {value!r}") from None
    if value < minimum:
        raise ArgumentError(f"{fname}: {name} must be >= {minimum}, got {value}")
    return value


def _scan_length(x_leaves, x_tree, length, fname: str) -> int:
    """The trip count: every xs leaf's leading axis, and ``length`` if given, must agree."""
    if length is not None:
        length = _int_param(fname, "length", length, 0, "a Python int")
    first = None
    for i, x in enumerate(x_leaves):
        shape = tuple(np.shape(x))
        if not shape:
            raise ShapeError(f"{fname}: xs leaf {_path(x_tree, i)} is "
                             f"{type_string(shape, x.dtype)}, a scalar; every xs leaf needs a "
                             "leading axis to scan over")
        if first is None:
            first = (i, shape)
        elif shape[0] != first[1][0]:
            raise ShapeError(
                f"{fname}: xs leaves must have the same leading axis length, but "
                f"{_path(x_tree, first[0])} is {type_string(first[1], x_leaves[first[0]].dtype)} "
                f"and {_path(x_tree, i)} is {type_string(shape, x.dtype)}")
    if first is None:
        if length is None:
            raise ArgumentError(f"{fname}: with xs=None (or no xs leaves), pass length= to "
                                "say how many steps to run")
        return length
    if length is not None and length != first[1][0]:
        raise ShapeError(f"{fname}: length={length}, but the xs leaves have a leading axis of "
                         f"{first[1][0]} (xs leaf {_path(x_tree, first[0])} is "
                         f"{type_string(first[1], x_leaves[first[0]].dtype)})")
    return first[1][0]


def _unroll(unroll, length: int, fname: str) -> int:
    if isinstance(unroll, (bool, np.bool_)):
        return max(length, 1) if unroll else 1
    return _int_param(fname, "unroll", unroll, 1, "a positive int or a bool")


def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int | bool = 1) -> tuple[Any, Any]:
    """Loop ``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``; ``(final carry, stacked ys)``.

    As ``jax.lax.scan``: ``init``, ``xs`` and each ``y`` are pytrees; ``xs=None`` with
    ``length`` scans ``length`` times with ``x = None``; ``reverse=True`` runs from the
    last step to the first (ys stay aligned with xs).  ``f`` is traced once; the carry it
    returns must have ``init``'s structure, shapes and dtypes (else a
    :class:`~funcgrad.errors.CarryError` naming the leaf).  ``unroll`` is accepted for
    compatibility; the reference runs one step at a time (docs/control_flow.md).

    Examples:
        >>> import numpy as np, funcgrad.numpy as fnp
        >>> scan(lambda c, x: (c + x, c * x), 0.0, np.arange(1.0, 4.0))
        (np.float64(6.0), array([0., 2., 9.]))
    """
    fname = "scan"
    if not callable(f):
        raise ArgumentError(f"{fname}: f must be callable, got {type(f).__name__}")
    carry, carry_tree = flatten_operands(init, "init", fname)
    x_leaves, x_tree = flatten_operands(xs, "xs", fname)
    n = _scan_length(x_leaves, x_tree, length, fname)
    unroll = _unroll(unroll, n, fname)
    trees: list = []

    def step(c, x):
        out = f(c, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            got = (f"a {type(out).__name__} of length {len(out)}"
                   if isinstance(out, (tuple, list)) else type(out).__name__)
            raise CarryError(f"{fname}: f must return a pair (carry, y), but it returned {got}")
        trees.append((tree.structure(out[0]), tree.structure(out[1])))
        return tuple(out)

    slices = tree.unflatten(x_tree, [_Slice(np.shape(x)[1:], x.dtype) for x in x_leaves])
    body = trace_body(step, (tree.unflatten(carry_tree, carry), slices), fname)
    new_tree, y_tree = trees[0]
    k = len(carry)
    carry_avals = [aval(c) for c in carry]
    got = body.out_avals[:new_tree.num_leaves]
    check_matches(fname, "the carry (init)", carry_tree, carry_avals, new_tree, got,
                  "the carry f returned")
    graph = body.graph
    nl = len(body.consts)
    if nl:  # values f closes over from enclosing traces: the first inputs (the consts)
        graph = Graph(graph.inputs[-nl:] + graph.inputs[:-nl], graph.outputs,
                      effects=graph.effects)
    out = bind_scan(list(body.consts) + carry + x_leaves, body=graph, num_consts=nl,
                    num_carry=k, length=n, reverse=bool(reverse), unroll=unroll)
    return tree.unflatten(carry_tree, out[:k]), tree.unflatten(y_tree, out[k:])


def _concrete_bound(x) -> int | None:
    """A loop bound as a Python int, or ``None`` when it is traced (no static value)."""
    if isinstance(x, Tracer):
        return None
    try:
        return operator.index(x)
    except TypeError:
        a = np.asarray(x)
        if a.shape == () and a.dtype.kind in "iu":
            return int(a)
        raise ArgumentError(f"fori_loop: the bounds must be integers, got "
                            f"{type(x).__name__} {x!r}") from None


def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any, *,
              unroll: int | bool | None = None) -> Any:
    """``body_fun(i, val)`` for ``i`` in ``range(lower, upper)``, starting from ``init_val``.

    As ``jax.lax.fori_loop``: with concrete bounds (Python or NumPy integers) it is a
    ``scan`` with a static trip count, differentiable in both modes; with traced bounds
    it is a ``while_loop``, differentiable in forward mode only.  ``i`` is a 0-d integer
    array of the bounds' dtype (``int64`` for Python ints).

    Examples:
        >>> import numpy as np
        >>> fori_loop(0, 4, lambda i, x: x + i, np.array(0.5))
        np.float64(6.5)
    """
    if not callable(body_fun):
        raise ArgumentError(f"fori_loop: body_fun must be callable, got {type(body_fun).__name__}")
    lo, hi = _concrete_bound(lower), _concrete_bound(upper)
    # A Python int is weak (as in JAX): the other bound's dtype wins.
    typed = [aval(b)[1] for b in (lower, upper) if not isinstance(b, int)]
    dtype = np.result_type(*typed) if typed else np.dtype(np.int64)
    if dtype.kind not in "iu":
        raise ArgumentError(f"fori_loop: the bounds must be integers, got dtypes "
                            f"{aval(lower)[1]} and {aval(upper)[1]}")
    if lo is None or hi is None:
        if unroll not in (None, 1, False):
            raise ArgumentError("fori_loop: unroll needs concrete bounds (a static trip count)")
        return _fori_while(lower, upper, body_fun, init_val, dtype)

    val_leaves, val_tree = flatten_operands(init_val, "init_val", "fori_loop")
    val_avals = [aval(v) for v in val_leaves]

    def step(carry, _):
        i, val = carry
        new = body_fun(i, val)
        leaves, new_tree = tree.flatten(new)
        check_matches("fori_loop", "init_val", val_tree, val_avals, new_tree,
                      [aval(v) for v in leaves], "body_fun's result")
        return (i + np.ones((), dtype), new), None

    init = (np.asarray(lo, dtype), tree.unflatten(val_tree, val_leaves))
    (_, out), _ = scan(step, init, None, length=builtins.max(hi - lo, 0),
                       unroll=1 if unroll is None else unroll)
    return out


def _fori_while(lower, upper, body_fun, init_val, dtype):
    """``fori_loop`` with traced bounds: a ``while_loop`` over ``(i, upper, val)``."""
    try:
        from funcgrad.lax import while_loop
    except ImportError:  # pragma: no cover - while_loop is part of funcgrad.lax
        raise ArgumentError("fori_loop with traced bounds needs lax.while_loop, which is not "
                            "available; pass concrete (Python int) bounds") from None
    from funcgrad.ops.elementwise import less

    lower, upper = _as_index(lower, dtype), _as_index(upper, dtype)

    def body(state):
        i, hi, val = state
        return i + np.ones((), dtype), hi, body_fun(i, val)

    return while_loop(lambda state: less(state[0], state[1]), body, (lower, upper, init_val))[2]


def _as_index(x, dtype):
    if isinstance(x, Tracer):
        return x if x.dtype == dtype else x.astype(dtype)
    return np.asarray(x, dtype)


def map(f: Callable, xs: Any, *, batch_size: int | None = None) -> Any:
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked.

    As ``jax.lax.map``: a ``scan`` with no carry, so ``f`` is traced once and the loop
    stays one operation under every transformation.  With ``batch_size``, ``f`` is
    vectorised (``vmap``) over chunks of that many slices and scanned over the chunks
    (the remainder, if any, runs as one more vectorised call).

    Examples:
        >>> import numpy as np, funcgrad.numpy as fnp
        >>> map(lambda x: fnp.sum(x * x), np.arange(6.0).reshape(3, 2))
        array([ 1., 13., 41.])
    """
    if not callable(f):
        raise ArgumentError(f"map: f must be callable, got {type(f).__name__}")
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    return _batched_map(f, xs, batch_size)


def _batched_map(f, xs, batch_size):
    from funcgrad.ops.shape import concatenate, reshape
    from funcgrad.transforms.vmap import vmap

    batch_size = _int_param("map", "batch_size", batch_size, 1, "a positive int")
    leaves, x_tree = flatten_operands(xs, "xs", "map")
    n = _scan_length(leaves, x_tree, None, "map")
    if n == 0:
        return map(f, xs)
    chunks, rest = divmod(n, batch_size)
    vf = vmap(f)
    parts = []
    if chunks:
        main = [reshape(x[:chunks * batch_size], (chunks, batch_size) + tuple(np.shape(x)[1:]))
                for x in leaves]
        ys = scan(lambda _, x: ((), vf(x)), (), tree.unflatten(x_tree, main))[1]
        parts.append(tree.map(lambda y: reshape(y, (chunks * batch_size,) + tuple(np.shape(y)[2:])),
                              ys))
    if rest:
        parts.append(vf(tree.unflatten(x_tree, [x[chunks * batch_size:] for x in leaves])))
    if len(parts) == 1:
        return parts[0]
    return tree.map(lambda a, b: concatenate([a, b], axis=0), *parts)
