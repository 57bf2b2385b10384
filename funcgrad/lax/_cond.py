"""``cond``, ``switch``, ``select`` and ``while_loop`` with ``jax.lax``'s names and signatures.

Each branch, loop condition and loop body is traced once, abstractly, into a sub-graph
(:func:`~funcgrad.lax._common.trace_body`); the results are checked against each other
(branches) or against the carry (loops), and one operation holds the graphs:
``cond_p`` (:mod:`funcgrad.ops.control_cond`) or ``while_p``
(:mod:`funcgrad.ops.control_while`).  On plain arrays the operation runs at once (only
the chosen branch; the loop without tracing per iteration); under ``grad``, ``jvp``,
``vmap`` and ``jit`` it is recorded with its graphs and its own rules apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import Graph, type_string
from funcgrad._core.trace import Tracer, user_location
from funcgrad.errors import ArgumentError, CarryError, DTypeError, ShapeError
from funcgrad.lax._common import aval, check_matches, flatten_operands, trace_body
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops._array_like import asarray
from funcgrad.ops.control_cond import cond_p, join_consts
from funcgrad.ops.control_while import while_p
from funcgrad.ops.results import bind_results

__all__ = ["cond", "select", "switch", "while_loop"]

_BRANCH_HINT = ("every branch must return the same structure, shapes and dtypes (cast with "
                "x.astype(dtype); a Python float is float64, a Python int int64)")
_INT32 = np.dtype(np.int32)


def _fail(cls: type[Exception], message: str) -> NoReturn:
    """Raise ``cls(message)``, naming the user's line that called the ``lax`` function."""
    loc = user_location()
    raise cls(f"{message} (called at {loc[0]}:{loc[1]})" if loc else message) from None


def _describe(x) -> str:
    shape, dtype = aval(x)
    return type_string(shape, dtype)


def _scalar(x, fname: str, what: str):
    """``x`` as an array or tracer; a clear error unless it is a scalar (shape ``()``)."""
    if x is None or isinstance(x, (list, tuple, dict, str)) or callable(x):
        _fail(ArgumentError, f"{fname}: {what} must be a scalar array or number, got "
                             f"{type(x).__name__} {x!r:.60}")
    if not isinstance(x, (np.ndarray, Tracer)):
        x = np.asarray(x)
    if np.shape(x) != ():
        _fail(ShapeError, f"{fname}: {what} must be a scalar (shape ()), got {_describe(x)}; "
                          "reduce it (fnp.any, fnp.all, x[0]) or use lax.select / fnp.where for "
                          "an elementwise choice")
    return x


def _to_int32(x):
    return x if x.dtype == _INT32 else misc.astype(x, _INT32)


def _check_callables(fname: str, fns: Sequence, names: Sequence[str]) -> None:
    for f, name in zip(fns, names):
        if not callable(f):
            _fail(ArgumentError, f"{fname}: {name} must be callable, got {type(f).__name__} "
                                 f"{f!r:.60}")


def _branches(fname: str, index, fns: Sequence[Callable], names: Sequence[str], order: Sequence[int],
              operands: tuple):
    """Trace ``fns`` on ``operands``, check their results agree, bind ``cond_p`` on ``index``.

    ``order`` lists the branches in the order the user wrote them (the first is the one
    the others are checked against).
    """
    leaves, _ = flatten_operands(operands, "operand", fname)
    bodies = [trace_body(f, operands, f"{fname} {name}") for f, name in zip(fns, names)]
    first = bodies[order[0]]
    for k in order[1:]:
        try:
            check_matches(fname, f"{names[order[0]]}'s result", first.out_tree,
                          first.out_avals, bodies[k].out_tree, bodies[k].out_avals,
                          f"{names[k]}'s result", hint=_BRANCH_HINT)
        except CarryError as e:
            _fail(CarryError, str(e))
    graphs, consts = join_consts([b.graph for b in bodies], [b.consts for b in bodies],
                                 len(leaves))
    outs = bind_results(cond_p, index, *leaves, *consts, branches=graphs)
    return tree.unflatten(first.out_tree, outs)


def cond(pred, true_fun: Callable, false_fun: Callable, *operands) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, as one operation.

    ``pred`` is a boolean or integer scalar (an integer means ``pred != 0``); both branches
    must return the same pytree structure, shapes and dtypes (a :class:`CarryError` says
    where they differ).  Eagerly only the chosen branch runs; under ``jit`` the predicate
    may be traced; under ``vmap`` with a batched predicate both branches run and the
    results are selected per example.  Differentiable to any order in both modes.

    Examples:
        >>> import numpy as np, funcgrad.numpy as fnp
        >>> cond(np.float64(2.0) > 0, fnp.sin, fnp.cos, np.float64(0.0))
        np.float64(0.0)
    """
    _check_callables("cond", (true_fun, false_fun), ("true_fun", "false_fun"))
    pred = _scalar(pred, "cond", "the predicate")
    kind = np.dtype(pred.dtype).kind
    if kind not in "biu":
        _fail(DTypeError, f"cond: the predicate must be a boolean or integer scalar, got "
                          f"{_describe(pred)}; compare it (x > 0) to get a boolean")
    if kind != "b":
        pred = ew.not_equal(pred, 0)
    return _branches("cond", _to_int32(pred), (false_fun, true_fun), ("false_fun", "true_fun"),
                     (1, 0), operands)


def switch(index, branches: Sequence[Callable], *operands) -> Any:
    """``branches[index](*operands)``, as one operation; ``index`` is clamped into range.

    ``index`` is an integer scalar; an index below 0 runs ``branches[0]`` and one past the
    end runs the last branch (as ``jax.lax.switch``).  Every branch must return the same
    pytree structure, shapes and dtypes.

    Examples:
        >>> import numpy as np
        >>> switch(5, [lambda x: x, lambda x: 2 * x, lambda x: 3 * x], np.float64(1.0))
        np.float64(3.0)
    """
    if not isinstance(branches, Sequence) or isinstance(branches, str):
        _fail(ArgumentError, f"switch: branches must be a sequence (list or tuple) of callables, "
                             f"got {type(branches).__name__}")
    if not branches:
        _fail(ArgumentError, "switch: branches is empty; it needs at least one callable")
    names = [f"branches[{k}]" for k in range(len(branches))]
    _check_callables("switch", branches, names)
    index = _scalar(index, "switch", "the index")
    if np.dtype(index.dtype).kind not in "iu":
        _fail(DTypeError, f"switch: the index must be an integer scalar, got {_describe(index)}; "
                          "convert it with x.astype(int)")
    if len(branches) == 1:
        return branches[0](*operands)
    n = len(branches)
    if isinstance(index, Tracer):
        index = ew.clip(index, 0, n - 1)  # before the cast: a huge int64 must not wrap
    else:  # a concrete index: clamp it here, without recording anything
        index = np.int32(min(max(int(index), 0), n - 1))
    return _branches("switch", _to_int32(index), tuple(branches), names, tuple(range(n)), operands)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` holds, else ``on_false``, elementwise (``jax.lax.select``).

    Unlike ``fnp.where`` nothing broadcasts: ``on_true`` and ``on_false`` must have one shape
    and dtype, and ``pred`` is boolean, a scalar or of that shape.

    Examples:
        >>> import numpy as np
        >>> select(np.array([True, False]), np.array([1.0, 2.0]), np.array([3.0, 4.0]))
        array([1., 4.])
    """
    pred, on_true, on_false = (asarray(x) for x in (pred, on_true, on_false))
    if np.shape(on_true) != np.shape(on_false) or on_true.dtype != on_false.dtype:
        _fail(ShapeError, f"select: on_true is {_describe(on_true)} but on_false is "
                          f"{_describe(on_false)}; they must have the same shape and dtype")
    if np.dtype(pred.dtype) != np.dtype(bool):
        _fail(DTypeError, f"select: pred must be boolean, got {_describe(pred)}; compare it "
                          "(x > 0) to get a boolean")
    if np.shape(pred) not in ((), np.shape(on_true)):
        _fail(ShapeError, f"select: pred is {_describe(pred)}, but it must be a scalar or have "
                          f"the shape of on_true and on_false, {_describe(on_true)}")
    return ew.where(pred, on_true, on_false)


def _consts_first(graph: Graph, num_leaves: int) -> Graph:
    """A traced body's graph (leaves, then consts) with its consts moved first, as ``while_p`` takes them."""
    return Graph(graph.inputs[num_leaves:] + graph.inputs[:num_leaves], graph.outputs,
                 effects=graph.effects)


def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """``val = init_val; while cond_fun(val): val = body_fun(val)``, as one operation.

    ``cond_fun(val)`` must return a boolean scalar; ``body_fun(val)`` a value of
    ``init_val``'s structure, shapes and dtypes (a :class:`CarryError` names the leaf that
    differs).  Differentiable in forward mode (``jvp``, ``jacfwd``); reverse mode is an
    error (use ``lax.scan`` or ``lax.fori_loop`` with static bounds).  Under ``vmap`` a
    batched condition runs until every example is done.

    Examples:
        >>> import numpy as np
        >>> while_loop(lambda x: x < 10, lambda x: x * 2, np.float64(1.0))
        np.float64(16.0)
    """
    _check_callables("while_loop", (cond_fun, body_fun), ("cond_fun", "body_fun"))
    leaves, init_tree = flatten_operands(init_val, "init_val", "while_loop")
    carry = tree.unflatten(init_tree, leaves)
    avals = [aval(x) for x in leaves]
    test = trace_body(cond_fun, (carry,), "while_loop cond_fun")
    if (test.out_tree.num_leaves != 1 or tuple(test.out_avals[0][0]) != ()
            or np.dtype(test.out_avals[0][1]) != np.dtype(bool)):
        got = (", ".join(type_string(s, d) for s, d in test.out_avals)
               if test.out_tree.num_leaves else "nothing")
        _fail(CarryError, f"while_loop: cond_fun must return a boolean scalar (bool[]), but it "
                          f"returned {got} (structure {test.out_tree}); reduce it with fnp.all / "
                          "fnp.any, or compare (x < n)")
    body = trace_body(body_fun, (carry,), "while_loop body_fun")
    try:
        check_matches("while_loop", "the carry (init_val)", init_tree, avals, body.out_tree,
                      body.out_avals, "body_fun's result")
    except CarryError as e:
        _fail(CarryError, str(e))
    outs = bind_results(while_p, *test.consts, *body.consts, *leaves,
                        cond=_consts_first(test.graph, len(leaves)),
                        body=_consts_first(body.graph, len(leaves)),
                        num_cond_consts=len(test.consts), num_body_consts=len(body.consts))
    return tree.unflatten(init_tree, outs)
