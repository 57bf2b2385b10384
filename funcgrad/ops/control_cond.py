"""``cond_p``: run one of several sub-graphs, chosen by an integer index (``lax.cond``, ``lax.switch``).

Operands ``(index, *operands)``: ``index`` an int32 scalar, clamped into range; param
``branches``, a tuple of closed graphs that each take all the operands (every branch's
consts among them) and return the results, of the same types in every branch.  The
reference implementation runs only the chosen branch.

* VJP: a ``cond`` on the same index over the branches' VJP graphs (inputs: the operands
  and the nonzero cotangents; outputs: the cotangents of the inexact operands).  The
  chosen branch's forward ops run again inside its VJP graph (no residuals are saved).
* JVP: a ``cond`` over the branches' JVP graphs (outputs: results, then tangents).
* Where the index reaching a rule is a plain array (the backward pass of an eager ``grad``,
  an eager ``jvp``), the rule runs the chosen branch's VJP or JVP directly: the same
  numbers, without tracing the other branches' derivatives.
* Batching: an unbatched index keeps one ``cond``, of the batched branches; a batched
  index runs every branch batched and picks per example with a ``where`` chain (JAX's
  ``select``).

The derivatives are ``cond`` operations again, so they differentiate to any order and
jit compiles each once.  This module also holds the sub-graph helpers that ``while_p``
(:mod:`funcgrad.ops.control_while`) shares: :func:`run`, :func:`join_consts`,
:func:`close_branches`, :func:`batch_subgraph`.

Examples:
    >>> import numpy as np
    >>> from funcgrad._core.subgraph import trace_closed
    >>> avals = [((2,), np.float64)]
    >>> neg, _ = trace_closed(lambda x: [-x], avals)
    >>> dbl, _ = trace_closed(lambda x: [x + x], avals)
    >>> bind_results(cond_p, np.int32(1), np.array([1.0, 2.0]), branches=(neg, dbl))
    [array([2., 4.])]
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import INPUT, Graph, Node
from funcgrad._core.interpret import Executable, eval_graph
from funcgrad._core.primitive import Primitive
from funcgrad._core.subgraph import trace_closed
from funcgrad._core.trace import Tracer
from funcgrad.ops import elementwise as ew
from funcgrad.ops import shape as sh
from funcgrad.ops.results import Results, bind_results, define_results


# -- sub-graph helpers (shared with while_p) -------------------------------------------------
def _reference(node):
    return node.primitive.impl


@functools.lru_cache(maxsize=128)
def executable(graph: Graph) -> Executable:
    # Graphs hash by identity: a jitted cond or while runs the same plan on every call.
    return Executable(graph, _reference)


@functools.lru_cache(maxsize=128)
def _uses(graph: Graph) -> list:
    return [0]


def run(graph: Graph, args: Sequence) -> list:
    """``graph``'s outputs on plain arrays (no tracing).

    The first run evaluates the nodes directly (an eager ``cond`` runs its branch once);
    from the second on (a jitted ``cond`` called again) it runs a plan made once per graph.
    """
    uses = _uses(graph)
    uses[0] += 1
    return eval_graph(graph, args) if uses[0] == 1 else executable(graph)(args)


def aval_of(x) -> tuple[tuple, np.dtype]:
    """``(shape, dtype)`` of an operand (array, tracer or NumPy scalar)."""
    return tuple(np.shape(x)), np.dtype(x.dtype)


def join_consts(graphs: Sequence[Graph], consts_lists: Sequence[tuple], num_operands: int
                ) -> tuple[tuple[Graph, ...], tuple]:
    """Branch graphs that all take ``(operands..., every branch's consts...)``; and those consts.

    Each ``graphs[k]`` takes ``num_operands`` operands then ``consts_lists[k]`` (as
    :func:`~funcgrad._core.subgraph.trace_closed` makes them).  A const that several
    branches close over is one operand; a branch gets an unused input for each const of
    the others.  No re-tracing: the new graphs share their nodes with the old ones.
    """
    all_consts: list = []
    where: dict[int, int] = {}
    for consts in consts_lists:
        for c in consts:
            if id(c) not in where:
                where[id(c)] = len(all_consts)
                all_consts.append(c)
    if not all_consts:
        return tuple(graphs), ()
    out = []
    for g, consts in zip(graphs, consts_lists):
        own = {id(c): node for c, node in zip(consts, g.inputs[num_operands:])}
        extra = [own[id(c)] if id(c) in own else Node.input(c.shape, c.dtype, None, INPUT)
                 for c in all_consts]
        out.append(Graph(list(g.inputs[:num_operands]) + extra, g.outputs, effects=g.effects))
    return tuple(out), tuple(all_consts)


def close_branches(fns: Sequence[Callable], avals: Sequence[tuple], name: str
                   ) -> tuple[tuple[Graph, ...], tuple]:
    """Trace each ``fn(*tracers) -> list`` on ``avals``; graphs joined by :func:`join_consts`."""
    traced = [trace_closed(fn, avals, name) for fn in fns]
    return join_consts([g for g, _ in traced], [c for _, c in traced], len(avals))


def batch_subgraph(graph: Graph, in_batched: Sequence[bool], size: int,
                   want: Sequence[bool] | None = None) -> tuple[Graph, list[bool]]:
    """``graph`` vectorised: ``(batched graph, which outputs are batched)``.

    Batched inputs and outputs have the batch axis first (``size`` long).  An output is
    batched when it depends on a batched input, or when ``want`` asks for it (an
    unbatched value is then broadcast).
    """
    from funcgrad.transforms.vmap import BatchTrace, BatchTracer

    avals = [((size, *n.shape) if b else n.shape, n.dtype) for n, b in zip(graph.inputs, in_batched)]
    flags: list[bool] = []

    def batched(*xs):
        flags.clear()
        with BatchTrace("vmap of a sub-graph", size) as trace:
            args = [BatchTracer(trace, x, 0) if b else x for x, b in zip(xs, in_batched)]
            outs = []
            for k, o in enumerate(eval_graph(graph, args)):
                if isinstance(o, BatchTracer) and o._trace is trace:
                    o = o._value if o._bdim == 0 else sh.moveaxis(o._value, o._bdim, 0)
                    flags.append(True)
                elif want is not None and want[k]:
                    o = broadcast_batch(o, size)
                    flags.append(True)
                else:
                    flags.append(False)
                outs.append(o)
        return outs

    return closed(batched, avals, "vmap of a sub-graph"), list(flags)


def closed(fn: Callable, avals: Sequence[tuple], name: str) -> Graph:
    """``fn`` traced into a graph that closes over nothing: it reads only its inputs and
    closed sub-graphs, as every rule here does."""
    graph, consts = trace_closed(fn, avals, name)
    if consts:  # pragma: no cover - an internal error
        raise AssertionError(f"internal error: {name} closed over values of an enclosing trace")
    return graph


def broadcast_batch(x, size: int):
    """``x`` with a new leading batch axis of ``size`` (the same value for every example)."""
    shape = tuple(np.shape(x))
    return sh.broadcast_to(sh.reshape(x, (1, *shape)), (size, *shape))


def batch_size(values: Sequence, dims: Sequence) -> int:
    """The batch size of a batching rule's operands (from the first batched one)."""
    return next(np.shape(v)[d] for v, d in zip(values, dims) if d is not None)


def batch_first(values: Sequence, dims: Sequence) -> list:
    """Each batched operand with its batch axis moved first; unbatched ones as they are."""
    return [v if d is None or d == 0 else sh.moveaxis(v, d, 0) for v, d in zip(values, dims)]


def select_batched(pred, on_true, on_false, ndim: int):
    """``where`` of a ``(size,)`` predicate against ``ndim``-D values, each batched at axis 0 or not."""
    pick = sh.reshape(pred, (np.shape(pred)[0],) + (1,) * ndim)
    return ew.where(pick, on_true, on_false)


# -- the primitive -----------------------------------------------------------------------------
def clamp_index(index, n: int) -> int:
    """``index`` as a Python int in ``[0, n)`` (clamped, as ``lax.switch`` does)."""
    i = int(index)
    return 0 if i < 0 else n - 1 if i >= n else i


def _cond_impl(index, *operands, branches):
    return Results(run(branches[clamp_index(index, len(branches))], operands))


cond_p = define_results(Primitive("cond", _cond_impl),
                        lambda index, *operands, branches: [(n.shape, n.dtype)
                                                            for n in branches[0].outputs])


def _inexact_outputs(graph: Graph) -> list[int]:
    return [k for k, n in enumerate(graph.outputs) if is_inexact(n.dtype)]


def substitute(values: Sequence, positions: Sequence[int], new: Sequence) -> list:
    full = list(values)
    for j, v in zip(positions, new):
        full[j] = v
    return full


# -- reverse mode: a cond over the branches' VJPs ----------------------------------------------
def _vjp_branch(branch: Graph, diff: list[int], seeded: list[int]) -> Callable:
    """``(operands..., cotangents of outputs ``seeded``...) -> cotangents of operands ``diff``."""
    from funcgrad.transforms.grad import vjp

    n = len(branch.inputs)
    outputs = _inexact_outputs(branch)

    def fn(*xs):
        operands, given = list(xs[:n]), dict(zip(seeded, xs[n:]))

        def f(*d):
            outs = eval_graph(branch, substitute(operands, diff, d), effects=False)
            return [outs[k] for k in outputs]

        _, pullback = vjp(f, *[operands[j] for j in diff])
        cts = [given[k] if k in given else np.zeros(branch.outputs[k].shape, branch.outputs[k].dtype)
               for k in outputs]
        return list(pullback(cts))

    return fn


def _cond_cotangents(g: Results, index, operands: tuple, branches: tuple) -> list:
    """The cotangent of every operand (``None``: zero), from one ``cond`` over the branch VJPs."""
    first = branches[0]
    seeded = [k for k in _inexact_outputs(first) if g[k] is not None]
    diff = [j for j, x in enumerate(operands) if is_inexact(x.dtype)]
    full: list = [None] * len(operands)
    if not seeded or not diff:
        return full
    given = [g[k] for k in seeded]
    if not isinstance(index, Tracer):  # a concrete index: only its branch's VJP is needed
        chosen = branches[clamp_index(index, len(branches))]
        return substitute(full, diff, _vjp_branch(chosen, diff, seeded)(*operands, *given))
    avals = [aval_of(x) for x in operands] + [(first.outputs[k].shape, first.outputs[k].dtype)
                                              for k in seeded]
    graphs, consts = close_branches([_vjp_branch(b, diff, seeded) for b in branches], avals,
                                    "cond vjp")
    cts = bind_results(cond_p, index, *operands, *given, *consts, branches=graphs)
    return substitute(full, diff, cts)


_memo = threading.local()


def _cond_vjp(i, g, ans, index, *operands, branches):
    # The backward pass asks once per operand: compute all cotangents once per (g, operands).
    memo = getattr(_memo, "entry", None)
    if (memo is None or memo[0] is not g or memo[1] is not branches
            or any(a is not b for a, b in zip(memo[2], operands))):
        cts = _cond_cotangents(g, index, operands, branches)
        memo = _memo.entry = (g, branches, operands, cts)
    return None if i == 0 else memo[3][i - 1]


# -- forward mode: a cond over the branches' JVPs ----------------------------------------------
def _jvp_branch(branch: Graph, diff: list[int]) -> Callable:
    """``(operands..., tangents of operands ``diff``...) -> (results..., tangents of inexact results...)``."""
    from funcgrad.transforms.jvp import jvp

    n = len(branch.inputs)
    outputs = _inexact_outputs(branch)

    def fn(*xs):
        operands = list(xs[:n])
        outs, tangents = jvp(lambda *d: eval_graph(branch, substitute(operands, diff, d)),
                             [operands[j] for j in diff], list(xs[n:]))
        return list(outs) + [tangents[k] for k in outputs]

    return fn


def _cond_jvp(primals, tangents, branches):
    index, *operands = primals
    diff = [j for j, t in enumerate(tangents[1:]) if t is not None]
    if not diff:
        return Results(bind_results(cond_p, *primals, branches=branches)), None
    given = [tangents[1 + j] for j in diff]
    if isinstance(index, Tracer):
        avals = [aval_of(x) for x in operands]
        graphs, consts = close_branches([_jvp_branch(b, diff) for b in branches],
                                        avals + [avals[j] for j in diff], "cond jvp")
        outs = bind_results(cond_p, index, *operands, *given, *consts, branches=graphs)
    else:  # a concrete index: only its branch's JVP is needed
        outs = _jvp_branch(branches[clamp_index(index, len(branches))], diff)(*operands, *given)
    m = len(branches[0].outputs)
    out_tangents = iter(outs[m:])
    return Results(outs[:m]), Results([next(out_tangents) if is_inexact(n.dtype) else None
                                       for n in branches[0].outputs])


# -- batching ----------------------------------------------------------------------------------
def _cond_batch(values, dims, branches):
    size = batch_size(values, dims)
    index, *operands = batch_first(values, dims)
    in_batched = [d is not None for d in dims[1:]]
    if dims[0] is None:  # one branch for the whole batch: a cond of the batched branches
        natural = [batch_subgraph(b, in_batched, size)[1] for b in branches]
        want = [any(col) for col in zip(*natural)]
        graphs = tuple(batch_subgraph(b, in_batched, size, want)[0] for b in branches)
        outs = bind_results(cond_p, index, *operands, branches=graphs)
        return Results(outs), tuple(0 if w else None for w in want)
    # A branch per example: run them all batched, then pick (index >= k picks branch k or later).
    per_branch = []
    for b in branches:
        if any(in_batched):
            per_branch.append(eval_graph(batch_subgraph(b, in_batched, size)[0], operands))
        else:
            per_branch.append(eval_graph(b, operands))
    outs = per_branch[0]
    for k, branch_outs in enumerate(per_branch[1:], start=1):
        pick = ew.greater_equal(index, k)
        outs = [select_batched(pick, new, old, len(n.shape))
                for new, old, n in zip(branch_outs, outs, branches[0].outputs)]
    outs = [o if np.ndim(o) > len(n.shape) else broadcast_batch(o, size)
            for o, n in zip(outs, branches[0].outputs)]
    return Results(outs), (0,) * len(outs)


cond_p.defvjp_argnum(_cond_vjp)
cond_p.defjvp_full(_cond_jvp)
cond_p.defbatch(_cond_batch)
