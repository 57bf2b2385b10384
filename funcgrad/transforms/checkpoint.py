"""``checkpoint`` (alias ``remat``): trade compute for memory in reverse mode.

``checkpoint(f)`` traces ``f`` once into a sub-graph held by one ``checkpoint``
operation (an operation with several results, :mod:`funcgrad.ops.results`).  Run
forward, the operation evaluates the sub-graph and keeps only its outputs, plus the
intermediates that ``policy`` names saveable (extra results, the *residuals*).  Its
VJP is another ``checkpoint`` operation holding the *pullback* sub-graph: the forward
ops again (the residuals substituted for the saved ones) followed by their VJP rules.
So the enclosing backward pass stores only f's inputs and residuals, and under
``jit`` the recomputation lives inside its own operation, where the optimiser's CSE
cannot merge it back into the stored forward values.  Forward mode and ``vmap`` make a
``checkpoint`` of the ``jvp`` and of the ``vmap`` of the sub-graph, so the saving
survives every nesting; values ``f`` closes over from enclosing traces become operands.

Examples:
    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> layer = fg.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    >>> fg.grad(lambda x: fnp.sum(layer(x)))(np.array([0.0]))
    array([1.])
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import INEXACT
from funcgrad._core.graph import CONSTANT, Graph
from funcgrad._core.interpret import eval_graph
from funcgrad._core.primitive import Primitive
from funcgrad._core.subgraph import trace_closed
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError
from funcgrad.lax._common import aval, flatten_operands, trace_body
from funcgrad.ops.control_scan import _constant_bytes as constant_bytes  # the one walk
from funcgrad.ops.control_scan_vjp import lifted_as_inputs as _lifted_as_inputs
from funcgrad.ops.results import OBJECT, Results, bind_results, define_results, result_p

# -- policies ----------------------------------------------------------------------------


class Policy:
    """What a ``checkpoint`` saves: ``policy(prim, *avals, **params) -> bool`` per operation.

    ``avals`` have ``shape`` and ``dtype``; the operation's output is saved (kept from the
    forward pass instead of recomputed) when the policy returns True.  Any callable with
    this signature works as a policy; this class only gives the built-in ones a name.

    Examples:
        >>> Policy(lambda prim, *avals, **params: False, "nothing_saveable")
        nothing_saveable
    """

    __slots__ = ("fn", "name")

    def __init__(self, fn: Callable[..., bool], name: str):
        self.fn, self.name = fn, name

    def __call__(self, prim, *avals, **params) -> bool:
        return bool(self.fn(prim, *avals, **params))

    def __repr__(self) -> str:
        return self.name


def _dot_primitives() -> tuple:
    from funcgrad.ops.einsum import einsum_p
    from funcgrad.ops.linalg import matmul_p

    return matmul_p, einsum_p


def _is_dot(prim, *avals, **params) -> bool:
    return prim in _dot_primitives()


def _is_dot_without_batch_dims(prim, *avals, **params) -> bool:
    matmul_p, einsum_p = _dot_primitives()
    if prim is matmul_p:
        return all(len(a.shape) <= 2 for a in avals)
    if prim is einsum_p:
        from funcgrad.ops.einsum import _split_subscripts

        ins, out = _split_subscripts(params["subscripts"])
        # A batch dimension: an index every operand and the output carry.
        return len(ins) < 2 or not set.intersection(*map(set, ins)) & set(out)
    return False


def _names_in(names: Sequence[str], keep: bool) -> Policy:
    names = frozenset(names)
    label = "save_only_these_names" if keep else "save_any_names_but_these"

    def policy(prim, *avals, **params):
        return prim is name_p and (params["name"] in names) == keep
    return Policy(policy, f"{label}({', '.join(sorted(names))})")


def _save_from_both_policies(a: Callable, b: Callable) -> Policy:
    return Policy(lambda prim, *avals, **params: a(prim, *avals, **params)
                  or b(prim, *avals, **params), f"save_from_both_policies({a!r}, {b!r})")


def _save_anything_except_these_names(*names: str) -> Policy:
    excluded = frozenset(names)
    return Policy(lambda prim, *avals, **params: not (prim is name_p and params["name"] in excluded),
                  f"save_anything_except_these_names({', '.join(sorted(excluded))})")


#: JAX's ``jax.checkpoint_policies`` names (``funcgrad.checkpoint_policies``).
checkpoint_policies = SimpleNamespace(
    nothing_saveable=Policy(lambda prim, *avals, **params: False, "nothing_saveable"),
    everything_saveable=Policy(lambda prim, *avals, **params: True, "everything_saveable"),
    dots_saveable=Policy(_is_dot, "dots_saveable"),
    checkpoint_dots=Policy(_is_dot, "dots_saveable"),
    dots_with_no_batch_dims_saveable=Policy(_is_dot_without_batch_dims,
                                            "dots_with_no_batch_dims_saveable"),
    checkpoint_dots_with_no_batch_dims=Policy(_is_dot_without_batch_dims,
                                              "dots_with_no_batch_dims_saveable"),
    save_only_these_names=lambda *names: _names_in(names, True),
    save_any_names_but_these=lambda *names: _names_in(names, False),
    save_anything_except_these_names=_save_anything_except_these_names,
    save_from_both_policies=_save_from_both_policies,
)


# -- checkpoint_name ----------------------------------------------------------------------

#: ``name(x, name=...)``: the identity, marking ``x`` for the name-based policies.
name_p = Primitive("name", lambda x, name: x, lambda x, name: (x.shape, x.dtype))
name_p.defvjp(lambda g, ans, x, name: g)
name_p.defjvp_full(lambda primals, tangents, name: (name_p.bind(primals[0], name=name),
                                                    tangents[0]))
name_p.defbatch(lambda values, dims, name: (name_p.bind(values[0], name=name), dims[0]))


def checkpoint_name(x: Any, name: str) -> Any:
    """``x`` (a pytree), its leaves named ``name`` for ``save_only_these_names`` and the like.

    Examples:
        >>> checkpoint_name(np.ones(2), "hidden")
        array([1., 1.])
    """
    if not isinstance(name, str):
        raise ArgumentError(f"checkpoint_name: name must be a str, got {type(name).__name__} "
                            f"{name!r}")
    return tree.map(lambda leaf: name_p.bind(leaf, name=name), x)


# -- the operation ------------------------------------------------------------------------

def _impl(*xs, body: Graph, n_out: int, policy, prevent_cse: bool):
    return Results(eval_graph(body, xs))


remat_p = define_results(Primitive("checkpoint", _impl),
                         lambda *avals, body, **params: [(n.shape, n.dtype) for n in body.outputs])


#: Bodies whose constants take more bytes are not memoised (see :class:`_Derived`).
DERIVED_CONSTANT_BYTES = 1 << 16


class _Derived:
    """Graphs derived from a body (saving, pullback, jvp, batched), memoised per body.

    Keyed by the body's identity; the body is kept in the entry, so its id is not reused
    while the entry lives.  A loop body's (or a jitted graph's) are asked again and again;
    an eager call traces a new body each time, with the arrays it closes over copied in as
    constants, so only the 64 most recent bodies with at most
    :data:`DERIVED_CONSTANT_BYTES` of constants are kept.
    """

    def __init__(self, size: int = 64):
        self._entries: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, body: Graph, key, make: Callable):
        k = (id(body), key)
        with self._lock:
            entry = self._entries.get(k)
            if entry is not None:
                self._entries.move_to_end(k)
                return entry[1]
        value = make()
        if constant_bytes(body) > DERIVED_CONSTANT_BYTES:
            return value  # an eager call's body with large arrays: do not keep their copies
        with self._lock:
            self._entries[k] = (body, value)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


_derived = _Derived()


def _with_residuals(graph: Graph, policy) -> Graph:
    """``graph`` with the intermediates ``policy`` saves appended to its outputs."""
    outputs = set(map(id, graph.outputs))
    saved = [n for n in graph.nodes
             if n.primitive is not None and id(n) not in outputs and n.dtype != OBJECT
             and policy(n.primitive, *n.inputs, **n.params)]
    return (Graph(graph.inputs, graph.outputs + tuple(saved), effects=graph.effects) if saved
            else graph)


def remat_call(graph: Graph, operands: Sequence, policy, prevent_cse: bool = True) -> list:
    """``graph``'s outputs on ``operands``, as one ``checkpoint`` operation (plus residuals)."""
    body = _derived.get(graph, ("saving", policy),
                        lambda: _with_residuals(_lifted_as_inputs(graph), policy))
    n_out = len(graph.outputs)
    outs = bind_results(remat_p, *operands, body=body, n_out=n_out, policy=policy,
                        prevent_cse=prevent_cse)
    return outs[:n_out]


def _backprop(body: Graph, n_out: int, xs, residuals, cts) -> dict:
    """Cotangents of ``body``'s nodes: the forward ops re-run (residuals substituted for the
    saved nodes) and recorded, then the backward pass over that record from ``cts``."""
    reverse = importlib.import_module("funcgrad.transforms.grad")  # the module, not grad()
    env = {id(n): x for n, x in zip(body.inputs, xs)}
    saved = {id(n): r for n, r in zip(body.outputs[n_out:], residuals)}
    tape = []
    for node in body.nodes:
        if id(node) in env:
            continue
        if node.kind == CONSTANT:
            env[id(node)] = node.value
            continue
        args = [env[id(i)] for i in node.inputs]
        ans = saved.get(id(node))
        if ans is None:
            ans = node.primitive.bind(*args, **node.params)
        env[id(node)] = ans
        tape.append((node, args, ans, dict(node.params)))
    seeds = [(n, ct) for n, ct in zip(body.outputs, cts) if ct is not None]
    return reverse.run_backward_pass(tape, seeds)


def _pullback_graph(body: Graph, n_out: int, mask: tuple) -> tuple[Graph, list]:
    """The pullback of ``body`` as a graph of (inputs, residuals, the cotangents in ``mask``),
    and which inputs it gives a cotangent (the others get none: a symbolic zero)."""
    n_in, n_res = len(body.inputs), len(body.outputs) - n_out
    which: list = []

    def pullback(*flat):
        xs, res, given = flat[:n_in], flat[n_in:n_in + n_res], iter(flat[n_in + n_res:])
        cts = [next(given) if m else None for m in mask]
        found = _backprop(body, n_out, xs, res, cts)
        for k, node in enumerate(body.inputs):
            if found.get(node) is not None:
                which.append(k)
        return [found[body.inputs[k]] for k in which]

    avals = ([(n.shape, n.dtype) for n in body.inputs] + [(n.shape, n.dtype) for n in body.outputs[n_out:]]
             + [(n.shape, n.dtype) for n, m in zip(body.outputs, mask) if m])
    graph, consts = trace_closed(pullback, avals, name="checkpoint pullback")
    if consts:  # pragma: no cover - the pullback reads nothing but its inputs
        raise AssertionError("internal error: a checkpoint pullback closed over traced values")
    return graph, which


_memo = threading.local()


def _vjp(i, g, ans, *args, body: Graph, n_out: int, policy, prevent_cse: bool):
    # The backward pass asks once per input: compute every cotangent once per (g, ans).
    memo = getattr(_memo, "last", None)
    if memo is None or memo[0] is not g or memo[1] is not ans:
        count = len(body.outputs)
        residuals = [ans[k] if isinstance(ans, Results) else
                     result_p.bind(ans, index=k, count=count) for k in range(n_out, count)]
        given = [c for c in g if c is not None]
        if not any(isinstance(v, Tracer) for v in (*args, *residuals, *given)):
            # Plain arrays: nothing records this pullback, so run it directly (the same ops
            # on the same values as the unchecked backward pass, without tracing a graph).
            found = _backprop(body, n_out, args, residuals, list(g))
            cts = [found.get(n) for n in body.inputs]
        else:
            mask = tuple(c is not None for c in g)
            graph, which = _derived.get(body, ("pullback", n_out, mask),
                                        lambda: _pullback_graph(body, n_out, mask))
            outs = remat_call(graph, [*args, *residuals, *given], policy, prevent_cse)
            cts = [None] * len(args)
            for k, ct in zip(which, outs):
                cts[k] = ct
        memo = _memo.last = (g, ans, cts)
    if i == len(args) - 1:  # the last operand asked: do not keep the arrays alive
        _memo.last = None
    return memo[2][i]


def _jvp_graph(body: Graph, mask: tuple) -> tuple[Graph, list]:
    """The jvp of ``body`` as a graph of (inputs, the tangents in ``mask``): its outputs are
    body's outputs, then the tangents of those outputs that have one (listed in the second)."""
    from funcgrad.transforms.jvp import JVPTrace, JVPTracer

    n_in = len(body.inputs)
    which: list = []

    def jvp_fn(*flat):
        xs, ts = flat[:n_in], iter(flat[n_in:])
        with JVPTrace("checkpoint jvp") as trace:
            args = [JVPTracer(trace, x, next(ts)) if m else x for x, m in zip(xs, mask)]
            outs = eval_graph(body, args)
            primal, tangent = [], []
            for k, o in enumerate(outs):
                if isinstance(o, JVPTracer) and o._trace is trace:
                    primal.append(o._value)
                    tangent.append(o._tangent)
                    which.append(k)
                else:
                    primal.append(o)
        return primal + tangent

    avals = [(n.shape, n.dtype) for n in body.inputs]
    avals += [a for a, m in zip(avals, mask) if m]
    graph, consts = trace_closed(jvp_fn, avals, name="checkpoint jvp")
    if consts:  # pragma: no cover - the jvp reads nothing but its inputs
        raise AssertionError("internal error: a checkpoint jvp closed over traced values")
    return graph, which


def _jvp(primals, tangents, body: Graph, n_out: int, policy, prevent_cse: bool):
    mask = tuple(t is not None and INEXACT[np.dtype(p.dtype)] for p, t in zip(primals, tangents))
    graph, which = _derived.get(body, ("jvp", mask), lambda: _jvp_graph(body, mask))
    count = len(body.outputs)
    outs = remat_call(graph, [*primals, *[t for t, m in zip(tangents, mask) if m]],
                      policy, prevent_cse)
    tangent = [None] * count
    for k, t in zip(which, outs[count:]):
        tangent[k] = t
    return Results(outs[:count]), Results(tangent)


def _batched_graph(body: Graph, dims: tuple, avals: list) -> Graph:
    from funcgrad.transforms.vmap import vmap

    batched = vmap(lambda *xs: eval_graph(body, xs), in_axes=dims)
    graph, consts = trace_closed(batched, avals, name="checkpoint vmap")
    if consts:  # pragma: no cover - the batched body reads nothing but its inputs
        raise AssertionError("internal error: a batched checkpoint closed over traced values")
    return graph


def _batch(values, dims, body: Graph, n_out: int, policy, prevent_cse: bool):
    dims = tuple(dims)
    avals = [aval(v) for v in values]
    graph = _derived.get(body, ("vmap", dims, tuple(avals)),
                         lambda: _batched_graph(body, dims, avals))
    outs = remat_call(graph, values, policy, prevent_cse)
    return Results(outs), (0,) * len(outs)


remat_p.defvjp_argnum(_vjp)
remat_p.defjvp_full(_jvp)
remat_p.defbatch(_batch)


# -- the public function ------------------------------------------------------------------

def checkpoint(fun: Callable, *, prevent_cse: bool = True, policy: Callable | None = None,
               static_argnums: int | Sequence[int] = ()) -> Callable:
    """``fun`` whose reverse-mode derivative recomputes its intermediates instead of storing them.

    ``policy(prim, *avals, **params) -> bool`` says which intermediates to save anyway (see
    :data:`checkpoint_policies`; default: none).  ``static_argnums`` are passed to ``fun``
    as they are (Python values, not traced).  ``fun`` is traced once per call, abstractly,
    as under ``jit``: Python control flow on its argument values is an error.  The
    recomputation always runs inside its own operation, so ``prevent_cse`` is accepted
    for JAX compatibility and changes nothing.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> f = fg.checkpoint(lambda x: fnp.sum(fnp.exp(x) * x))
        >>> fg.grad(f)(np.array([0.0, 1.0]))
        array([1.        , 5.43656366])
    """
    if not callable(fun):
        raise ArgumentError(f"checkpoint: expected a function, got {type(fun).__name__}")
    policy = checkpoint_policies.nothing_saveable if policy is None else policy
    if not callable(policy):
        raise ArgumentError(f"checkpoint: policy must be a callable "
                            f"policy(prim, *avals, **params) -> bool (see "
                            f"funcgrad.checkpoint_policies), got {type(policy).__name__}")
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    fname = f"checkpoint({getattr(fun, '__name__', 'f')})"

    @functools.wraps(fun)
    def remat_fun(*args, **kwargs):
        nargs = len(args)
        static = set()
        for s in statics:
            if not -nargs <= s < nargs:
                raise ArgumentError(f"{fname}: static_argnums {s} is out of range for "
                                    f"{nargs} positional arguments")
            static.add(s % nargs)
        dynamic = [a for k, a in enumerate(args) if k not in static]

        def full(dyn, kw):
            it = iter(dyn)
            return fun(*[args[k] if k in static else next(it) for k in range(nargs)], **kw)

        leaves, _ = flatten_operands((dynamic, kwargs), "argument", fname)
        body = trace_body(full, (dynamic, kwargs), fname)
        outs = remat_call(body.graph, [*leaves, *body.consts], policy, prevent_cse)
        return tree.unflatten(body.out_tree, outs)

    return remat_fun


remat = checkpoint

__all__ = [
    "Policy",
    "checkpoint",
    "checkpoint_name",
    "checkpoint_policies",
    "remat",
    "remat_call",
]
