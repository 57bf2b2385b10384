"""``while_p``: repeat a body sub-graph while a cond sub-graph says so (``lax.while_loop``).

Operands ``(*cond_consts, *body_consts, *init)``; params ``cond`` (a graph of the cond
consts and the carry, returning one bool scalar), ``body`` (a graph of the body consts
and the carry, returning the new carry), ``num_cond_consts`` and ``num_body_consts``.
Results: the final carry.  The reference implementation plans each graph once and runs
the plans in a Python loop: no tracing per iteration.

* Reverse mode is refused (the trip count is only known at run time, so there is no
  bounded set of residuals): the error names ``lax.scan`` and ``lax.fori_loop`` with
  static bounds, as JAX's does.
* Forward mode: a ``while_p`` over (primal, tangent) carries, the body's JVP graph as
  body; tangents of the body consts are extra consts.  It is a ``while_p`` again, so
  forward mode nests (``jacfwd(jacfwd(f))``).
* Batching: with an unbatched predicate, a ``while_p`` of the batched body; with a
  batched predicate, the loop runs while any example's predicate holds and freezes the
  finished examples with a ``where`` (JAX's rule).

Examples:
    >>> import numpy as np
    >>> from funcgrad._core.subgraph import trace_closed
    >>> cond, _ = trace_closed(lambda x: [x < 10.0], [((), np.float64)])
    >>> body, _ = trace_closed(lambda x: [x * 2.0], [((), np.float64)])
    >>> bind_results(while_p, np.float64(1.0), cond=cond, body=body, num_cond_consts=0,
    ...              num_body_consts=0)
    [np.float64(16.0)]
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import Graph, source_location
from funcgrad._core.interpret import eval_graph
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError
from funcgrad.ops import reductions as red
from funcgrad.ops.control_cond import (
    aval_of,
    batch_first,
    batch_size,
    batch_subgraph,
    broadcast_batch,
    closed,
    executable,
    select_batched,
    substitute,
)
from funcgrad.ops.results import Results, bind_results, define_results


def _split(args, num_cond_consts: int, num_body_consts: int) -> tuple[list, list, list]:
    a, b = num_cond_consts, num_cond_consts + num_body_consts
    return list(args[:a]), list(args[a:b]), list(args[b:])


def _while_impl(*args, cond, body, num_cond_consts, num_body_consts):
    cond_consts, body_consts, carry = _split(args, num_cond_consts, num_body_consts)
    test, step = executable(cond), executable(body)
    while test(cond_consts + carry)[0]:
        carry = step(body_consts + carry)
    return Results(carry)


while_p = define_results(
    Primitive("while", _while_impl),
    lambda *avals, cond, body, num_cond_consts, num_body_consts: [(n.shape, n.dtype)
                                                                 for n in body.outputs])


def _while_params(cond: Graph, body: Graph, num_cond_consts: int, num_body_consts: int) -> dict:
    return {"cond": cond, "body": body, "num_cond_consts": num_cond_consts,
            "num_body_consts": num_body_consts}


# -- reverse mode: refused -----------------------------------------------------------------------
def _where_defined(*graphs: Graph) -> str:
    """`` (its body at file.py:12)``: the user's line of the first traced op of a loop's graphs."""
    for g in graphs:
        for node in g.nodes:
            where = source_location(node.loc) if node.primitive is not None else None
            if where:
                return f" (its body at {where[0]}:{where[1]})"
    return ""


def _while_vjp(i, g, ans, *args, cond, body, num_cond_consts, num_body_consts):
    raise ArgumentError(
        f"lax.while_loop{_where_defined(body, cond)}: reverse-mode differentiation (grad, vjp, "
        "jacrev, hessian) does not work for lax.while_loop, or for lax.fori_loop with traced "
        "(non-static) start/stop values, which is one: the number of iterations is only known "
        "when the loop runs. Use lax.scan, or lax.fori_loop with static (Python int) start and "
        "stop, which differentiate in reverse mode; forward mode (jvp, jacfwd) does work for "
        "while_loop.")


# -- forward mode: a while over (primal, tangent) carries ------------------------------------------
def _while_jvp(primals, tangents, cond, body, num_cond_consts, num_body_consts):
    from funcgrad.transforms.jvp import jvp

    nc, nb = num_cond_consts, num_body_consts
    cond_consts, body_consts, init = _split(primals, nc, nb)
    _, const_tangents, init_tangents = _split(tangents, nc, nb)
    params = _while_params(cond, body, nc, nb)
    diff_consts = [j for j, t in enumerate(const_tangents) if t is not None]
    if not diff_consts and all(t is None for t in init_tangents):
        return Results(bind_results(while_p, *primals, **params)), None
    # Every inexact carry leaf carries a tangent (zeros where it starts at zero).
    diff_carry = [j for j, x in enumerate(init) if is_inexact(x.dtype)]
    carry_tangents = [np.zeros(np.shape(init[j]), init[j].dtype) if init_tangents[j] is None
                      else init_tangents[j] for j in diff_carry]
    nt, ncarry = len(diff_consts), len(init)
    carry_avals = [aval_of(x) for x in init] + [aval_of(init[j]) for j in diff_carry]

    def new_cond(*xs):  # (cond consts, carry, carry tangents): the tangents play no part
        return eval_graph(cond, xs[:nc + ncarry])

    def new_body(*xs):  # (body consts, their tangents, carry, carry tangents)
        consts, consts_t = list(xs[:nb]), list(xs[nb:nb + nt])
        carry, carry_t = list(xs[nb + nt:nb + nt + ncarry]), list(xs[nb + nt + ncarry:])

        def f(*d):
            return eval_graph(body, substitute(consts, diff_consts, d[:nt])
                              + substitute(carry, diff_carry, d[nt:]))

        outs, out_t = jvp(f, [consts[j] for j in diff_consts] + [carry[j] for j in diff_carry],
                          consts_t + carry_t)
        return list(outs) + [out_t[j] for j in diff_carry]

    cond_g = closed(new_cond, [aval_of(x) for x in cond_consts] + carry_avals, "while cond (jvp)")
    body_g = closed(new_body, [aval_of(x) for x in body_consts]
                    + [aval_of(body_consts[j]) for j in diff_consts] + carry_avals,
                    "while body (jvp)")
    outs = bind_results(while_p, *cond_consts, *body_consts,
                        *[const_tangents[j] for j in diff_consts], *init, *carry_tangents,
                        **_while_params(cond_g, body_g, nc, nb + nt))
    out_t = iter(outs[ncarry:])
    return Results(outs[:ncarry]), Results([next(out_t) if j in diff_carry else None
                                            for j in range(ncarry)])


# -- batching ---------------------------------------------------------------------------------------
def _while_batch(values, dims, cond, body, num_cond_consts, num_body_consts):
    nc, nb = num_cond_consts, num_body_consts
    size = batch_size(values, dims)
    cond_consts, body_consts, init = _split(batch_first(values, dims), nc, nb)
    cond_b, body_b, carry_b = _split([d is not None for d in dims], nc, nb)
    # A carry leaf is batched if it starts batched or the body makes it so: iterate to a fixpoint.
    while True:
        out_b = batch_subgraph(body, body_b + carry_b, size)[1]
        grown = [a or b for a, b in zip(carry_b, out_b)]
        if grown == carry_b:
            break
        carry_b = grown
    pred_batched = batch_subgraph(cond, cond_b + carry_b, size)[1][0]
    if pred_batched:  # examples finish at different times: every carry leaf varies
        carry_b = [True] * len(init)
    init = [broadcast_batch(x, size) if b and d is None else x
            for x, b, d in zip(init, carry_b, dims[nc + nb:])]
    cond_g = batch_subgraph(cond, cond_b + carry_b, size)[0]
    body_g = batch_subgraph(body, body_b + carry_b, size, want=carry_b)[0]
    out_dims = tuple(0 if b else None for b in carry_b)
    if not pred_batched:
        outs = bind_results(while_p, *cond_consts, *body_consts, *init,
                            **_while_params(cond_g, body_g, nc, nb))
        return Results(outs), out_dims
    carry_avals = [(n.shape, n.dtype) for n in body_g.inputs[nb:]]
    ndims = [len(n.shape) for n in body.outputs]

    def any_cond(*xs):  # (cond consts, carry): run while any example's predicate holds
        return [red.any(eval_graph(cond_g, xs)[0])]

    def frozen_body(*xs):  # (cond consts, body consts, carry): finished examples keep their carry
        carry = list(xs[nc + nb:])
        (pred,) = eval_graph(cond_g, list(xs[:nc]) + carry)
        new = eval_graph(body_g, list(xs[nc:nc + nb]) + carry)
        return [select_batched(pred, n, c, d) for n, c, d in zip(new, carry, ndims)]

    const_avals = [(n.shape, n.dtype) for n in cond_g.inputs[:nc]]
    body_const_avals = [(n.shape, n.dtype) for n in body_g.inputs[:nb]]
    any_g = closed(any_cond, const_avals + carry_avals, "while cond (vmap)")
    frozen_g = closed(frozen_body, const_avals + body_const_avals + carry_avals,
                      "while body (vmap)")
    outs = bind_results(while_p, *cond_consts, *cond_consts, *body_consts, *init,
                        **_while_params(any_g, frozen_g, nc, nc + nb))
    return Results(outs), out_dims


while_p.defvjp_argnum(_while_vjp)
while_p.defjvp_full(_while_jvp)
while_p.defbatch(_while_batch)
