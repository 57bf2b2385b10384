"""Reverse mode of ``scan_p``: the forward scan saves the body's residuals, a reverse scan reads them.

As in JAX, a ``scan`` recorded for reverse mode runs a *saving body*
(:func:`saving_body`): the user's body whose stacked ys also hold, per step, the values
that the body's VJP rules read (the *residuals*: an ``exp``'s output, a ``tanh``'s
output, a matmul's operands...) and the carry that entered the step.  The VJP is one
reverse ``scan`` whose body (:func:`backward_body`) builds a tape over the body's
operations from those saved values and runs the eager backward pass
(:func:`funcgrad.transforms.grad.backward_pass`) on it: the same VJP rules, with
nothing of the forward body recomputed.  Which values to save is found once per body by
tracing that backward body with every intermediate available and keeping the ones it
reads (a linear op's output, read by no rule, is not stored).  What the rules compute
from saved values without a cotangent (``sin``'s ``cos(x)``, ``tanh``'s ``1 - y * y``)
is then moved into the saving body and saved instead (:func:`_hoist_known`, JAX's
partial evaluation): the forward loop computes ``sin`` and ``cos`` together, the
backward loop neither.

Operations with several results (a nested ``scan``/``cond``/``checkpoint``: a
``Results`` value) are not saved: their projections are, and the operation itself is
re-run inside the backward body when its rule reads its value, without its
``debug.print`` effects (:func:`quiet`).  So ``scan(checkpoint(body))`` stores only the
carries, and its backward pass recomputes each step's intermediates: the memory
trade-off is the user's choice, as in JAX.  A scan that was not recorded with a saving
body (one inlined from a jitted graph under ``grad``) gets its residuals from one more
forward scan of the saving body.

Examples:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> from funcgrad._core.subgraph import trace_closed
    >>> body, _ = trace_closed(lambda c, x: [fnp.tanh(c * x)], [((), np.float64)] * 2)
    >>> saved = saving_body(body, 0, 1)  # the new carry; 1 - y * y (tanh's rule); the old carry
    >>> [n.name for n in saved.outputs]
    ['tanh', 'subtract', 'input']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from types import MappingProxyType

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import (
    CONSTANT,
    LIFTED,
    Graph,
    Node,
    _graphs_in,
    has_effects,
    toposort,
)
from funcgrad.ops.control_scan import (
    _aval,
    _constant_bytes,
    _result,
    _zeros,
    bind_scan,
    has_residuals,
    trace_scan_body,
)
from funcgrad.ops.results import OBJECT

# -- graphs derived from a body, memoised --------------------------------------------------
#: Bodies whose constants take more bytes are not memoised (an eager scan traces a new body
#: per call, with the arrays it closes over copied in: keeping them would keep the copies).
DERIVED_CONSTANT_BYTES = 1 << 16
_derived: OrderedDict = OrderedDict()
_derived_lock = threading.Lock()


def _memo(body: Graph, key, make: Callable):
    """``make()``, memoised per ``(body, key)`` (64 entries; small bodies only)."""
    k = (id(body), key)
    with _derived_lock:
        entry = _derived.get(k)
        if entry is not None:
            _derived.move_to_end(k)
            return entry[1]
    value = make()
    _remember(body, key, value)
    return value


def _remember(body: Graph, key, value) -> None:
    if _constant_bytes(body) > DERIVED_CONSTANT_BYTES:
        return
    with _derived_lock:
        _derived[(id(body), key)] = (body, value)  # the body kept: its id is not reused
        if len(_derived) > 64:
            _derived.popitem(last=False)


# -- graph rewrites -------------------------------------------------------------------------
def lifted_as_inputs(graph: Graph) -> Graph:
    """``graph`` with its lifted inputs (values it closed over) made plain inputs: a backward
    pass over its nodes must carry cotangents into them, as into any operand (the eager
    backward pass skips lifted inputs).

    Examples:
        >>> lifted_as_inputs(Graph([], [])).inputs
        ()
    """
    fresh = {id(n): Node.input(n.shape, n.dtype, n.loc) for n in graph.inputs if n.kind == LIFTED}
    if not fresh:
        return graph
    return _rebuild(graph, fresh, lambda node: node.params, graph.effects)


def _rebuild(graph: Graph, env: dict, params_of: Callable, effects) -> Graph:
    """``graph`` with the nodes in ``env`` (by id) replaced and each op node given
    ``params_of(node)``: nodes whose inputs or params changed are new nodes."""
    for node in graph.nodes:
        if id(node) in env or node.primitive is None:
            env.setdefault(id(node), node)
            continue
        inputs = tuple([env[id(i)] for i in node.inputs])
        params = params_of(node)
        env[id(node)] = (node if inputs == node.inputs and params is node.params
                         else node._replace(inputs=inputs, params=params))
    return Graph([env[id(n)] for n in graph.inputs], [env[id(n)] for n in graph.outputs],
                 effects=[env[id(n)] for n in effects])


def quiet(graph: Graph) -> Graph:
    """``graph`` without its side effects (``debug.print``), in nested bodies too: for
    re-running a body only to recompute values (each step prints once, forward)."""
    if not graph.effects and not any(has_effects(n) for n in graph.nodes):
        return graph
    return _rebuild(graph, {}, lambda node: _quiet_params(node.params), ())


def _quiet_params(params):
    """``params`` with every sub-graph made :func:`quiet` (the same mapping if none changes)."""
    new = {}
    for k, v in params.items():
        graphs = _graphs_in(v)
        if graphs:
            q = tuple(quiet(g) for g in graphs)
            new[k] = q if isinstance(v, tuple) else q[0]
        else:
            new[k] = v
    changed = any(new[k] is not params[k] for k in params)
    return MappingProxyType(new) if changed else params


# -- what the forward scan saves ------------------------------------------------------------
def saving_body(body: Graph, num_consts: int, num_carry: int) -> Graph:
    """The body a scan recorded for reverse mode runs: ``body`` (lifted inputs made plain)
    whose ys also hold the residuals its VJP rules read, then the carry each step received.

    ``body`` itself when it saves all it needs already (or nothing is differentiable).
    """
    C, K = num_consts, num_carry
    if not any(is_inexact(n.dtype) for n in body.inputs):
        return body
    return _memo(body, "saving", lambda: _make_saving(body, C, K))


def _make_saving(body: Graph, C: int, K: int) -> Graph:
    plain = lifted_as_inputs(body)
    outs, carries = plain.outputs, plain.inputs[C:C + K]
    stored = set(map(id, outs[K:]))
    candidates = [n for n in toposort(outs) if n.primitive is not None
                  and n.dtype != OBJECT and id(n) not in stored]
    tail = () if has_residuals(plain, C, K) else carries
    probe = Graph(plain.inputs, outs + tuple(candidates) + tail, effects=plain.effects)
    Y = len(outs) - K
    dy = tuple(j for j in range(Y) if is_inexact(outs[K + j].dtype))
    graph, read = _make_backward(probe, C, K, dy)
    graph, read, hoisted = _hoist_known(graph, read, plain, C, K, len(dy))
    needed = set(map(id, read))
    keep = tuple(n for n in candidates if id(n) in needed)
    have = set(map(id, outs[K:] + keep))  # a hoisted value may be saved already
    hoisted = tuple(n for n in hoisted if id(n) not in have)
    if keep or hoisted or tail or plain is not body:
        saving = Graph(plain.inputs, outs + keep + hoisted + tail, effects=plain.effects)
        _remember(saving, "saving", saving)
    else:
        saving = body
    _remember(saving, ("backward", dy), (graph, read))  # read: nodes among saving's ys
    return saving


def _hoist_known(graph: Graph, read: list, plain: Graph, C: int, K: int, num_dy: int,
                 saved: dict | None = None):
    """``(graph, read, hoisted)``: the backward body ``graph`` (of :func:`_make_backward`)
    with its *known* per-step values (JAX's partial evaluation) moved to the forward body.

    A node of ``graph`` is known when it depends only on the consts, the xs and the saved
    values (no cotangent): a ``sin``'s rule's ``cos(x)``, a ``tanh``'s ``1 - y * y``.  Those
    that depend on a per-step value (an x or a saved value) and that a cotangent-dependent
    node (or an output) reads are rebuilt over ``plain``'s nodes (``hoisted``: new ys of the
    saving body, computed in the forward scan) and become inputs of the backward body,
    which then no longer computes them nor, where nothing else reads them, receives the
    saved values they were computed from.  Known values of the consts alone (a weight's
    transpose) stay in the backward body: saving them per step would cost memory.  So do
    known booleans and integers (a comparison, a product's rule's ``isfinite`` masks):
    cheaper to recompute than to store and load, and the values they read stay saved
    anyway (measured on the ``rollout_steady`` benchmark: moving them too cost ~2 us of
    ~25).
    Operations with several results or sub-graphs (nested loops, re-run where a rule
    reads them) and effects stay in the backward body.

    With ``saved`` (:func:`_by_structure` of a saving body's ys), nothing new is hoisted:
    the known values found among them are read from the saved ys (a backward body for
    fewer ys' cotangents than the one the saving body was made for).
    """
    ins = graph.inputs
    X, V = len(plain.inputs) - C - K, len(read)
    first = len(ins) - num_dy - V  # the consts, the carried cotangents and the xs end here
    fwd = {id(n): f for n, f in zip(ins[:C], plain.inputs[:C])}
    fwd.update((id(n), f) for n, f in zip(ins[first - X:first], plain.inputs[C + K:]))
    fwd.update((id(n), f) for n, f in zip(ins[first:first + V], read))
    step = set(map(id, ins[first - X:first + V]))  # per-step values
    known = set(fwd)
    frontier: dict = {}
    for node in graph.nodes:
        if node.primitive is None:
            if node.kind == CONSTANT:
                known.add(id(node))
                fwd[id(node)] = node
            continue
        if (all(id(i) in known for i in node.inputs) and node.dtype != OBJECT
                and not has_effects(node)
                and not any(_graphs_in(v) for v in node.params.values())):
            known.add(id(node))
            if any(id(i) in step for i in node.inputs):
                step.add(id(node))
            fwd[id(node)] = node._replace(inputs=tuple(fwd[id(i)] for i in node.inputs))
            continue
        for i in node.inputs:  # a cotangent-dependent node reads i
            if i.primitive is not None and id(i) in step and is_inexact(i.dtype):
                frontier[id(i)] = i
    for o in graph.outputs:
        if o.primitive is not None and id(o) in step and is_inexact(o.dtype):
            frontier[id(o)] = o
    # A known value that only moves data (the transpose of a saved value that a matmul's rule
    # reads) is recomputed from its operand, which is saved instead: no per-step copy (JAX
    # folds such a transpose into its dot).
    pending = [n for n in frontier.values() if n.primitive.moves_data]
    while pending:
        n = pending.pop()
        del frontier[id(n)]
        for i in n.inputs:
            if (i.primitive is not None and id(i) in step and is_inexact(i.dtype)
                    and id(i) not in frontier):
                frontier[id(i)] = i
                if i.primitive.moves_data:
                    pending.append(i)
    keys: dict = {}
    if saved is not None:
        found = {k: saved.get(_structure(fwd[k], keys)) for k in frontier}
        frontier = {k: n for k, n in frontier.items() if found[k] is not None}
        fwd.update((k, found[k]) for k in frontier)
    else:  # one saved value per distinct computation, the forward body's own if it has it
        first_of = _by_structure(plain, K, keys, every=True)
        for k in frontier:
            key = _structure(fwd[k], keys)
            if key is not None:
                fwd[k] = first_of.setdefault(key, fwd[k])
    if not frontier:
        return graph, read, ()
    values_of = {id(fwd[k]): fwd[k] for k in frontier}  # the saved values, in order
    fresh_of = {i: Node.input(n.shape, n.dtype, n.loc) for i, n in values_of.items()}
    fresh = {k: fresh_of[id(fwd[k])] for k in frontier}
    new = _rebuild(graph, dict(fresh), lambda node: node.params, graph.effects)
    used = set(map(id, toposort(new.outputs + new.effects)))
    values = new.inputs[first:first + V]
    read = [n for n, i in zip(read, values) if id(i) in used] + list(values_of.values())
    inputs = (new.inputs[:first] + tuple(i for i in values if id(i) in used)
              + tuple(fresh_of.values()) + new.inputs[first + V:])
    return (Graph(inputs, new.outputs, effects=new.effects), read,
            () if saved is not None else tuple(values_of.values()))


def _structure(node: Node, keys: dict):
    """A hashable key equal for nodes computing the same value from the same inputs and
    small constants (``None`` where a param is unhashable); ``keys`` memoises it by id."""
    for n in toposort([node]):
        if id(n) in keys:
            continue
        if n.primitive is None:
            value = None if n.kind != CONSTANT else np.asarray(n.value)
            k = (id(n) if value is None or value.nbytes > 256
                 else ("constant", value.dtype.str, value.shape, value.tobytes()))
        else:
            args = tuple(keys[id(i)] for i in n.inputs)
            try:
                params = tuple(sorted(n.params.items()))
                hash(params)
            except TypeError:
                params = None
            k = (None if params is None or None in args
                 else (id(n.primitive), params, n.shape, n.dtype.str, args))
        keys[id(n)] = k
    return keys[id(node)]


def _by_structure(body: Graph, K: int, keys: dict | None = None, every: bool = False) -> dict:
    """A saving body's op-node ys (the values it saves; ``every``: all its op nodes) by
    :func:`_structure`."""
    keys = {} if keys is None else keys
    out: dict = {}
    for n in (toposort(body.outputs) if every else body.outputs[K:]):
        if n.primitive is not None and n.dtype != OBJECT:
            k = _structure(n, keys)
            if k is not None:
                out.setdefault(k, n)
    return out


# -- the backward body ----------------------------------------------------------------------
def _differentiable(body: Graph, C: int, K: int) -> tuple[list, list, list]:
    """``(dc, dk, dx)``: the consts, carries and xs of inexact dtype (which get cotangents)."""
    ins = body.inputs
    X = len(ins) - C - K
    return ([j for j in range(C) if is_inexact(ins[j].dtype)],
            [k for k in range(K) if is_inexact(ins[C + k].dtype)],
            [j for j in range(X) if is_inexact(ins[C + K + j].dtype)])


def backward_body(body: Graph, num_consts: int, num_carry: int, dy: tuple) -> tuple[Graph, list]:
    """``(graph, read)``: one step of the reverse scan of ``body`` (a saving body), memoised.

    Inputs: the consts; carries: the cotangents of the differentiable carries, then the
    sums of the differentiable consts' cotangents; per step: the xs, the saved values of
    the nodes in ``read`` (nodes among ``body``'s ys), the cotangents of the ys in ``dy``.
    Outputs: the carries' cotangents for the step before, the sums, the xs' cotangents.
    """
    def make():
        graph, read = _make_backward(body, num_consts, num_carry, dy)
        return _hoist_known(graph, read, body, num_consts, num_carry, len(dy),
                            saved=_by_structure(body, num_carry))[:2]

    return _memo(body, ("backward", dy), make)


def _make_backward(body: Graph, C: int, K: int, dy: tuple) -> tuple[Graph, list]:
    from funcgrad.ops._family import real_part_for
    from funcgrad.transforms.grad import backward_pass

    ins, outs = body.inputs, body.outputs
    X = len(ins) - C - K
    dc, dk, dx = _differentiable(body, C, K)
    nc, nk = len(dc), len(dk)
    fixed = set(map(id, ins[:C])) | set(map(id, ins[C + K:]))
    values = list({id(n): n for n in outs[K:] if n.dtype != OBJECT and n.kind != CONSTANT
                   and id(n) not in fixed}.values())
    V = len(values)
    order = toposort(outs)

    def step(*flat):
        ct_k, acc = flat[C:C + nk], flat[C + nk:C + nk + nc]
        p = C + nk + nc
        env = {id(n): v for n, v in zip(ins[:C], flat[:C])}
        env.update((id(n), v) for n, v in zip(ins[C + K:], flat[p:p + X]))
        env.update((id(n), v) for n, v in zip(values, flat[p + X:p + X + V]))
        ct_y = flat[p + X + V:]
        tape = []
        for node in order:
            if node.primitive is None:
                if node.kind == CONSTANT:
                    env[id(node)] = node.value
                elif id(node) not in env:  # pragma: no cover - a saving body saves its carries
                    raise AssertionError("internal error: a scan's backward body has no saved "
                                         "value for a carry")
                continue
            args = [env[id(i)] for i in node.inputs]
            params = _quiet_params(node.params)
            ans = env.get(id(node))
            if ans is None:  # not saved: recomputed here (unused recomputations are dropped)
                ans = env[id(node)] = node.primitive.bind(*args, **params)
            tape.append((node, args, ans, dict(params)))
        seeds = ([(outs[k], c) for k, c in zip(dk, ct_k)]
                 + [(outs[K + j], c) for j, c in zip(dy, ct_y)])
        cts = backward_pass(tape, seeds)

        def ct_of(node):
            ct = cts.get(node)
            if ct is None:
                return np.zeros(node.shape, node.dtype)
            if ct.dtype != node.dtype:
                ct = real_part_for(ct, node.dtype).astype(node.dtype)
            return ct

        return ([ct_of(ins[C + k]) for k in dk] + [a + ct_of(ins[j]) for a, j in zip(acc, dc)]
                + [ct_of(ins[C + K + j]) for j in dx])

    graph, lifted = trace_scan_body(
        step, [_aval(n) for n in ins[:C]],
        [_aval(ins[C + k]) for k in dk] + [_aval(ins[j]) for j in dc],
        [_aval(n) for n in ins[C + K:]] + [_aval(n) for n in values]
        + [_aval(outs[K + j]) for j in dy], name="scan transpose")
    if lifted:  # pragma: no cover - the step reads nothing but its inputs and constants
        raise AssertionError("internal error: a scan's backward body closed over traced values")
    used = set(map(id, toposort(graph.outputs + graph.effects)))
    first = C + nk + nc + X
    read = [n for n, i in zip(values, graph.inputs[first:first + V]) if id(i) in used]
    inputs = (graph.inputs[:first] + tuple(i for i in graph.inputs[first:first + V] if id(i) in used)
              + graph.inputs[first + V:])
    return Graph(inputs, graph.outputs, effects=graph.effects), read


# -- the VJP rule ---------------------------------------------------------------------------
_last = threading.local()


def scan_vjp(i, g, ans, *args, body, num_consts, num_carry, length, reverse, unroll):
    """``scan_p``'s VJP rule (``defvjp_argnum``): the cotangent of operand ``i``."""
    # The backward pass asks once per input: transpose the scan once per (g, args), and
    # hand each cotangent out once (the memo lets go of it, and of g once all are out).
    memo = getattr(_last, "value", None)
    if (memo is None or memo[0] is not g or len(memo[1]) != len(args)
            or any(a is not b for a, b in zip(memo[1], args)) or i not in memo[2]):
        cts = _transpose(g, ans, args, body, num_consts, num_carry, length, reverse, unroll)
        memo = _last.value = (g, args, dict(enumerate(cts)))
    ct = memo[2].pop(i)
    if all(c is None for c in memo[2].values()):
        _last.value = None
    return ct


def _transpose(g, ans, args, body, C, K, length, reverse, unroll) -> list:
    """The cotangents of every operand: one reverse scan over the saved residuals."""
    n_out = len(body.outputs)
    Y = n_out - K
    dc, dk, dx = _differentiable(body, C, K)
    dy = tuple(j for j in range(Y) if g[K + j] is not None
               and is_inexact(body.outputs[K + j].dtype))
    if all(g[k] is None for k in dk) and not dy:
        return [None] * len(args)
    saving = (body if K and has_residuals(body, C, K)
              and not any(n.kind == LIFTED for n in body.inputs) else saving_body(body, C, K))
    if saving is body:
        stacked = [_result(ans, k, n_out) for k in range(K, n_out)]
    else:  # not recorded with its residuals (inlined from a jitted graph): one more forward scan
        stacked = bind_scan(args, body=quiet(saving), num_consts=C, num_carry=K, length=length,
                            reverse=reverse, unroll=unroll)[K:]
    graph, read = backward_body(saving, C, K, dy)
    where = {}
    for j, n in enumerate(saving.outputs[K:]):
        where.setdefault(id(n), j)
    consts, init, xs = args[:C], args[C:C + K], args[C + K:]
    operands = (list(consts) + [_zeros(init[k]) if g[k] is None else g[k] for k in dk]
                + [_zeros(consts[j]) for j in dc] + list(xs)
                + [stacked[where[id(n)]] for n in read] + [g[K + j] for j in dy])
    nk, nc = len(dk), len(dc)
    outs = bind_scan(operands, body=graph, num_consts=C, num_carry=nk + nc, length=length,
                     reverse=not reverse, unroll=unroll)
    cts: list = [None] * len(args)
    for k, ct in zip(dk, outs[:nk]):
        cts[C + k] = ct
    for j, ct in zip(dc, outs[nk:nk + nc]):
        cts[j] = ct
    for j, ct in zip(dx, outs[nk + nc:]):
        cts[C + K + j] = ct
    return cts


__all__ = ["backward_body", "lifted_as_inputs", "quiet", "saving_body", "scan_vjp"]
