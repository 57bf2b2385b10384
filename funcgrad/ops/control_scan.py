"""``scan_p``: a loop over a sub-graph with a carry, one operation with several results.

Operands ``(*consts, *init_carry, *xs)``; params ``body`` (a :class:`Graph` of inputs
``(*consts, *carry, *x_t)`` and outputs ``(*new_carry, *y_t)``), ``num_consts``,
``num_carry``, ``length``, ``reverse`` and ``unroll`` (JAX's ``lax.scan_p`` layout);
results: the final carry, then each ``y`` stacked along a new leading axis of ``length``.

* Reference: the body is planned once (an :class:`Executable`) and run per step on
  arrays: no tracing per iteration.
* VJP (:mod:`funcgrad.ops.control_scan_vjp`): as JAX, a scan recorded for reverse mode
  runs a *saving body* whose stacked ys also hold the values the body's VJP rules read
  (its *residuals*: with what the rules compute from them alone, such as ``sin``'s
  ``cos(x)``, computed forward) and the carry that entered each step; the VJP is a reverse
  ``scan`` whose body applies the body's VJP rules to those saved values, recomputing nothing
  (``scan(checkpoint(body))`` saves only the carries and recomputes: docs/control_flow.md).
  A scan that did not save them (one inlined from a jitted graph) has them recomputed by
  one more forward scan.
* JVP: a scan over (primal, tangent) carries whose body is the body's JVP.
* Batching: a scan of the batched body; a carry that the body makes batched is batched
  from the start (a fixed point, as JAX).

Each rule binds a new ``scan_p``, so derivatives of derivatives and ``jit`` of them stay
one structured loop, never an unrolled one.

Examples:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> from funcgrad._core.subgraph import trace_closed
    >>> body, _ = trace_closed(lambda c, x: [c + x, c * x], [((), np.float64)] * 2)
    >>> bind_scan([np.array(0.0), np.arange(1.0, 4.0)], body=body, num_consts=0,
    ...           num_carry=1, length=3)
    [np.float64(6.0), array([0., 2., 9.])]
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Sequence

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import CONSTANT, Graph
from funcgrad._core.interpret import Executable, eval_graph
from funcgrad._core.primitive import Primitive
from funcgrad._core.subgraph import trace_closed
from funcgrad._core.trace import ConcreteTrace, Tracer
from funcgrad.ops.results import Results, bind_results, define_results, result_p

#: Planned bodies, most recently used last (a jitted scan runs its body graph on every
#: call): at most :data:`PLANS_KEPT`, and only bodies whose constants take at most
#: :data:`PLAN_CONSTANT_BYTES` (an eager scan traces a new body on every call, with the
#: arrays it closes over copied in as constants: keeping those would keep the copies).
_plans: collections.OrderedDict = collections.OrderedDict()
_plans_lock = threading.Lock()
PLANS_KEPT = 64
PLAN_CONSTANT_BYTES = 1 << 16


def _executable(body: Graph) -> Executable:
    """The body planned for the reference kernels (kept for small bodies: see :data:`_plans`)."""
    with _plans_lock:
        exe = _plans.get(body)
        if exe is not None:
            _plans.move_to_end(body)
            return exe
    exe = Executable(body, lambda node: node.primitive.impl)
    if _constant_bytes(body) <= PLAN_CONSTANT_BYTES:
        with _plans_lock:
            _plans[body] = exe
            if len(_plans) > PLANS_KEPT:
                _plans.popitem(last=False)
    return exe


def _constant_bytes(graph: Graph) -> int:
    """The bytes of the constants a graph holds, its sub-graphs' (nested loop bodies) included."""
    total, stack = 0, [graph]
    while stack:
        for node in stack.pop().nodes:
            if node.kind == CONSTANT:
                total += np.asarray(node.value).nbytes
            for v in node.params.values():
                stack.extend(v if isinstance(v, tuple) and all(isinstance(g, Graph) for g in v)
                             else [v] if isinstance(v, Graph) else [])
    return total


#: Scans of at least this many steps run their body as generated code (an Executable's
#: codegen, ~20-40 us a line to compile, ~0.5 us a line faster per step); shorter ones
#: step through the plan in a loop.  Measured on an 8-unit tanh RNN under eager grad:
#: 5 steps 1.07 -> 0.65 ms without codegen, 50 steps 1.9 -> 1.7 ms, 500 steps 20 -> 28 ms.
CODEGEN_MIN_STEPS = 100


def _scan_impl(*operands, body, num_consts, num_carry, length, reverse, unroll):
    exe = _executable(body)
    run = exe if length >= CODEGEN_MIN_STEPS else exe._loop  # the plan, stepped in a loop
    consts = list(operands[:num_consts])
    carry = list(operands[num_consts:num_consts + num_carry])
    xs = operands[num_consts + num_carry:]
    ys = [np.empty((length,) + n.shape, n.dtype) for n in body.outputs[num_carry:]]
    for t in (range(length - 1, -1, -1) if reverse else range(length)):
        out = run(consts + carry + [x[t] for x in xs])
        carry = out[:num_carry]
        for y, v in zip(ys, out[num_carry:]):
            y[t] = v
    return Results([c if isinstance(c, (np.ndarray, np.generic)) else np.asarray(c, n.dtype)
                    for c, n in zip(carry, body.outputs)] + ys)


def _scan_results(*avals, body, num_consts, num_carry, length, reverse, unroll):
    outs = body.outputs
    return ([(n.shape, n.dtype) for n in outs[:num_carry]]
            + [((length,) + n.shape, n.dtype) for n in outs[num_carry:]])


#: ``scan(*consts, *init, *xs, body, num_consts, num_carry, length, reverse, unroll)``.
scan_p = define_results(Primitive("scan", _scan_impl), _scan_results)


# -- binding, residuals ---------------------------------------------------------------
def has_residuals(body: Graph, num_consts: int, num_carry: int) -> bool:
    """Whether the body's last ``num_carry`` outputs are its carry inputs (so the stacked
    ys end with the carry that entered each step: what reverse mode needs)."""
    outs, k = body.outputs, num_carry
    return k > 0 and len(outs) >= 2 * k and all(
        outs[len(outs) - k + i] is body.inputs[num_consts + i] for i in range(k))


def _recorded_for_reverse_mode(operands) -> bool:
    """Whether the innermost trace among the operands is a reverse-mode (concrete) trace."""
    top = None
    for a in operands:
        if isinstance(a, Tracer) and (top is None or a._trace.depth > top.depth):
            top = a._trace
    return isinstance(top, ConcreteTrace)


def bind_scan(operands: Sequence, *, body: Graph, num_consts: int, num_carry: int,
              length: int, reverse: bool = False, unroll: int = 1) -> list:
    """Apply ``scan_p``: the final carry, then the stacked ys (a list).

    Recorded by a reverse-mode trace, the scan runs the body's saving body instead
    (:func:`funcgrad.ops.control_scan_vjp.saving_body`): it also saves the residuals its
    VJP reads (results past the body's own outputs, not returned here).
    """
    _check_operands(operands, body, num_consts, num_carry, length)
    n_out = len(body.outputs)
    if (_recorded_for_reverse_mode(operands)
            and not (num_carry and has_residuals(body, num_consts, num_carry))):
        body = control_scan_vjp.saving_body(body, num_consts, num_carry)
    return bind_results(scan_p, *operands, body=body, num_consts=num_consts,
                        num_carry=num_carry, length=length, reverse=bool(reverse),
                        unroll=unroll)[:n_out]


def _check_operands(operands, body, num_consts, num_carry, length) -> None:
    """An internal consistency check: every operand matches the body input it feeds."""
    if len(operands) != len(body.inputs):
        raise TypeError(f"internal error: scan got {len(operands)} operands for a body of "
                        f"{len(body.inputs)} inputs")
    for k, (a, n) in enumerate(zip(operands, body.inputs)):
        shape = tuple(np.shape(a))
        want = n.shape if k < num_consts + num_carry else (length,) + n.shape
        if shape != want or np.dtype(a.dtype) != n.dtype:
            raise TypeError(f"internal error: scan operand {k} has shape {shape} and dtype "
                            f"{a.dtype}, the body wants {want} and {n.dtype}")


def trace_scan_body(fn: Callable, const_avals: Sequence, carry_avals: Sequence,
                    x_avals: Sequence, name: str = "scan body") -> tuple[Graph, tuple]:
    """``(body, lifted)``: ``fn(*consts, *carry, *x_t) -> outputs`` traced once.

    Values of enclosing traces that ``fn`` uses become the body's first inputs (before the
    consts): pass ``lifted`` first among the operands and count them in ``num_consts``.
    """
    avals = list(const_avals) + list(carry_avals) + list(x_avals)
    graph, lifted = trace_closed(fn, avals, name=name)
    if lifted:
        n = len(avals)
        graph = Graph(graph.inputs[n:] + graph.inputs[:n], graph.outputs, effects=graph.effects)
    return graph, lifted


def _result(ans, index: int, count: int):
    """Result ``index`` of a scan's value (a :class:`Results`, or a tracer of one)."""
    if isinstance(ans, Results):
        return ans[index]
    return result_p.bind(ans, index=index, count=count)


def _aval(x) -> tuple:
    return tuple(np.shape(x)), np.dtype(x.dtype)


def _slice_aval(x) -> tuple:
    return tuple(np.shape(x)[1:]), np.dtype(x.dtype)


def _zeros(x) -> np.ndarray:
    return np.zeros(np.shape(x), x.dtype)


def _inexact(x) -> bool:
    return is_inexact(x.dtype)


# -- forward mode -----------------------------------------------------------------------
def _scan_jvp(primals, tangents, body, num_consts, num_carry, length, reverse, unroll):
    from funcgrad.transforms.jvp import jvp

    C, K = num_consts, num_carry
    n_out, X = len(body.outputs), len(primals) - C - K
    Y = n_out - K
    params = {"length": length, "reverse": reverse, "unroll": unroll}
    dc = [j for j in range(C) if tangents[j] is not None and _inexact(primals[j])]
    dk = [k for k in range(K) if _inexact(primals[C + k])]
    dx = [j for j in range(X) if tangents[C + K + j] is not None and _inexact(primals[C + K + j])]
    if not dc and not dx and all(tangents[C + k] is None for k in dk):
        out = bind_scan(primals, body=body, num_consts=C, num_carry=K, **params)
        return Results(out), None
    ey = [j for j in range(Y) if is_inexact(body.outputs[K + j].dtype)]
    positions = dc + [C + k for k in dk] + [C + K + j for j in dx]
    nc, nk = len(dc), len(dk)

    def tangent_step(*flat):
        cs, tcs = flat[:C], flat[C:C + nc]
        p = C + nc
        carry, tcarry = flat[p:p + K], flat[p + K:p + K + nk]
        p += K + nk
        x, tx = flat[p:p + X], flat[p + X:]
        point = list(cs) + list(carry) + list(x)

        def forward(*diff):
            full = list(point)
            for pos, v in zip(positions, diff):
                full[pos] = v
            return eval_graph(body, full)

        outs, touts = jvp(forward, tuple(point[pos] for pos in positions),
                          tuple(tcs) + tuple(tcarry) + tuple(tx))
        return (list(outs[:K]) + [touts[k] for k in dk] + list(outs[K:])
                + [touts[K + j] for j in ey])

    consts, init, xs = primals[:C], primals[C:C + K], primals[C + K:]
    fwd, lifted = trace_scan_body(
        tangent_step, [_aval(c) for c in consts] + [_aval(consts[j]) for j in dc],
        [_aval(c) for c in init] + [_aval(init[k]) for k in dk],
        [_slice_aval(x) for x in xs] + [_slice_aval(xs[j]) for j in dx], name="scan jvp")
    operands = (list(lifted) + list(consts) + [tangents[j] for j in dc] + list(init)
                + [_zeros(init[k]) if tangents[C + k] is None else tangents[C + k] for k in dk]
                + list(xs) + [tangents[C + K + j] for j in dx])
    res = bind_scan(operands, body=fwd, num_consts=len(lifted) + C + nc, num_carry=K + nk,
                    **params)
    carry, tcarry = res[:K], res[K:K + nk]
    ys, tys = res[K + nk:K + nk + Y], res[K + nk + Y:]
    out_t: list = [None] * n_out
    for k, t in zip(dk, tcarry):
        out_t[k] = t
    for j, t in zip(ey, tys):
        out_t[K + j] = t
    return Results(list(carry) + list(ys)), Results(out_t)


# -- batching -----------------------------------------------------------------------------
def _scan_batch(values, dims, body, num_consts, num_carry, length, reverse, unroll):
    from funcgrad.ops.shape import broadcast_to, expand_dims, moveaxis

    C, K = num_consts, num_carry
    size = next(np.shape(v)[d] for v, d in zip(values, dims) if d is not None)
    consts, init, xs = [], [], []
    for k, (v, d) in enumerate(zip(values, dims)):
        if k < C:
            consts.append(v if d is None or d == 0 else moveaxis(v, d, 0))
        elif k < C + K:
            init.append(v if d is None or d == 0 else moveaxis(v, d, 0))
        else:  # the scan axis stays first; the batch axis goes second
            xs.append(v if d is None or d == 1 else moveaxis(v, d, 1))
    const_b = [d is not None for d in dims[:C]]
    x_b = [d is not None for d in dims[C + K:]]
    carry_b = [d is not None for d in dims[C:C + K]]
    while True:  # a carry the body makes batched is batched from the start
        graph, lifted, out_b = _batched_body(body, C, K, const_b, carry_b, x_b, size)
        grown = [a or b for a, b in zip(carry_b, out_b[:K])]
        if grown == carry_b:
            break
        carry_b = grown
    init = [broadcast_to(expand_dims(v, 0), (size,) + tuple(np.shape(v)))
            if b and d is None else v for v, b, d in zip(init, carry_b, dims[C:C + K])]
    out = bind_scan(list(lifted) + consts + init + xs, body=graph,
                    num_consts=len(lifted) + C, num_carry=K, length=length, reverse=reverse,
                    unroll=unroll)
    return Results(out), tuple([0 if b else None for b in carry_b]
                               + [1 if b else None for b in out_b[K:]])


def _batched_body(body, C, K, const_b, carry_b, x_b, size):
    """The body vectorised over axis 0 of its flagged inputs: ``(graph, lifted, batched outputs)``.

    A carry output is batched whenever its carry is (broadcast if the body left it unbatched).
    """
    from funcgrad.ops.shape import broadcast_to, expand_dims, moveaxis
    from funcgrad.transforms.vmap import BatchTrace, BatchTracer

    flags = list(const_b) + list(carry_b) + list(x_b)
    out_b: list = []

    def step(*flat):
        with BatchTrace("vmap of a scan body", size) as trace:
            args = [BatchTracer(trace, v, 0) if b else v for v, b in zip(flat, flags)]
            outs = eval_graph(body, args)
            vals = []
            for k, o in enumerate(outs):
                if isinstance(o, BatchTracer) and o._trace is trace:
                    vals.append(o._value if o._bdim == 0 else moveaxis(o._value, o._bdim, 0))
                    out_b.append(True)
                elif k < K and carry_b[k]:
                    vals.append(broadcast_to(expand_dims(o, 0), (size,) + tuple(np.shape(o))))
                    out_b.append(True)
                else:
                    vals.append(o)
                    out_b.append(False)
        return vals

    def batched(aval, b):
        return ((size,) + tuple(aval.shape), aval.dtype) if b else (aval.shape, aval.dtype)

    ins = body.inputs
    graph, lifted = trace_scan_body(
        step, [batched(n, b) for n, b in zip(ins[:C], const_b)],
        [batched(n, b) for n, b in zip(ins[C:C + K], carry_b)],
        [batched(n, b) for n, b in zip(ins[C + K:], x_b)], name="vmap of a scan body")
    return graph, lifted, out_b


from funcgrad.ops import control_scan_vjp

scan_p.defvjp_argnum(control_scan_vjp.scan_vjp)
scan_p.defjvp_full(_scan_jvp)
scan_p.defbatch(_scan_batch)
