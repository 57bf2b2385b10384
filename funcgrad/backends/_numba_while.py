"""``while_loop`` under ``jit`` on the Numba backend (see :mod:`funcgrad.backends._numba_loops`).

An elementwise body whose condition reads only size-1 values (a counter) runs as one
generated kernel with the loop inside; other bodies the generated functions of
:mod:`funcgrad.backends._numba_bodies` know run as one such function; the rest run the
compiled condition and body per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import types

from funcgrad._core.graph import Graph
from funcgrad.backends import _numba_loops as loops
from funcgrad.backends._numba_bodies import (
    WholeLoop,
    run_while,
    source_header,
    while_body_source,
)
from funcgrad.backends._numba_fused import Unsupported
from funcgrad.backends._numba_loops import (
    STATS,
    Lowered,
    _array_ins,
    _carry_ins,
    _carry_writes,
    _flat,
    _fused_or_none,
    _indent,
    _lock,
    _plan,
    _step,
    compile_loop,
    compiled_body,
    loop_shape,
    lower,
)
from funcgrad.ops.results import Results


def while_source(cond: Lowered, low: Lowered, num_cond_consts: int, num_body_consts: int,
                 carry_dtypes) -> str:
    """Source of ``kernel(size, c..., q..., k..., q_e..., b_e...)``: the carries updated in place.

    ``cond`` must read only size-1 values; raises :class:`Unsupported` otherwise.
    """
    if any(full for full, _ in cond.lines) or cond.outputs[0][0]:
        raise Unsupported("the condition reads a value of the loop's full shape")
    num_carry = len(low.outputs)
    carries = [f"c{j}" for j in range(num_carry)]
    qs = [f"q{j}" for j in range(num_cond_consts)]
    ks = [f"k{j}" for j in range(num_body_consts)]
    extras = ([f"q_e{j}" for j in range(len(cond.extra))]
              + [f"b_e{j}" for j in range(len(low.extra))])
    cond_ins = _array_ins(cond, "q_", qs, 0) + [
        v for v in _carry_ins(cond, "q_", num_cond_consts, num_carry) if v.each == "step"]
    body_ins = _array_ins(low, "b_", ks, 0) + _carry_ins(low, "b_", num_body_consts, num_carry)
    writes = _carry_writes(low, low.outputs, carry_dtypes)
    scalar_carries = [j for j in range(num_carry) if not low.input_full[num_body_consts + j]]
    src = source_header(f"while_loop, {len(cond.lines)} + {len(low.lines)} scalar lines",
                  cond.helpers | low.helpers)
    src.append(f"def kernel({', '.join(['size'] + carries + qs + ks + extras)}):")
    body = [f"{v.var} = {v.read}" for v in cond_ins + body_ins if v.each == "once"]
    body += [f"v{j} = c{j}[0]" for j in scalar_carries] + ["while True:"]
    body += _indent(_step(cond, cond_ins, []), 1)
    body += [f"    if not {cond.outputs[0][1]}:", "        break"]
    body += _indent(_step(low, body_ins, writes), 1)
    body += [f"c{j}[0] = v{j}" for j in scalar_carries] + ["return"]
    return "\n".join(src + _indent(body, 1)) + "\n"



class WhilePlan(NamedTuple):
    """How a while loop runs: one Numba kernel, or the condition and body per step."""

    cond_exe: Callable
    body_exe: Callable
    kernel: Callable | None
    size: int
    extra: tuple
    carry_avals: tuple
    source: str | None = None
    whole: WholeLoop | None = None
    optimized: Graph | None = None  # the body, optimised


def while_plan(cond: Graph, body: Graph, num_cond_consts: int, num_body_consts: int) -> WhilePlan:
    """The plan of a while loop (made once per pair of graphs)."""
    def make():
        cond_opt, cond_exe = compiled_body(cond)
        body_opt, body_exe = compiled_body(body)
        carry_avals = tuple((tuple(n.shape), np.dtype(n.dtype)) for n in body_opt.outputs)
        full = loop_shape([cond_opt, body_opt])

        def fused():
            low_c, low_b = lower(cond_opt, "q_", full), lower(body_opt, "b_", full)
            carry_dtypes = [d for _, d in carry_avals]
            source = while_source(low_c, low_b, num_cond_consts, num_body_consts, carry_dtypes)
            cins = [np.dtype(n.dtype) for n in cond_opt.inputs[:num_cond_consts]]
            bins = [np.dtype(n.dtype) for n in body_opt.inputs[:num_body_consts]]
            sig = types.void(types.int64, *[_flat(d) for d in carry_dtypes],
                             *[_flat(d, True) for d in cins + bins],
                             *[_flat(v.dtype, True) for v in low_c.extra + low_b.extra])
            extra = tuple(np.ascontiguousarray(v).reshape(-1) for v in low_c.extra + low_b.extra)
            return compile_loop(source, sig), extra, source
        kernel, extra, source = _fused_or_none(fused) or (None, (), None)
        whole = None
        if kernel is None and loops.LOOP_KERNELS:
            whole = WholeLoop(lambda: while_body_source(cond_opt, body_opt, num_cond_consts,
                                                        num_body_consts), compile_loop, _lock)
        return WhilePlan(cond_exe, body_exe, kernel, math.prod(full), extra, carry_avals, source,
                         whole, body_opt)
    return _plan(("while", cond, body, num_cond_consts, num_body_consts), make)


def while_kernel(*operands, cond: Graph, body: Graph, num_cond_consts: int, num_body_consts: int):
    """The Numba backend's kernel of ``while_p``: the reference's results, without Python per step
    when the body is elementwise and the condition reads only size-1 values (a counter)."""
    plan = while_plan(cond, body, num_cond_consts, num_body_consts)
    n = num_cond_consts + num_body_consts
    cond_consts, body_consts = list(operands[:num_cond_consts]), list(operands[num_cond_consts:n])
    carry = list(operands[n:])
    whole = plan.whole.kernel() if plan.kernel is None and plan.whole is not None else None
    out = None if whole is None else run_while(plan.whole, plan.optimized, cond_consts,
                                               body_consts, carry)
    if out is not None:
        STATS["body_kernel_runs"] += 1
        return Results(out)
    if plan.kernel is None:
        STATS["step_runs"] += 1
        while plan.cond_exe(cond_consts + carry)[0]:
            carry = plan.body_exe(body_consts + carry)
        return Results(carry)
    STATS["kernel_runs"] += 1
    carries = [np.array(c, dtype=d, order="C").reshape(-1)
               for c, (_, d) in zip(carry, plan.carry_avals)]
    plan.kernel(plan.size, *carries, *[np.ascontiguousarray(k).reshape(-1) for k in operands[:n]],
                *plan.extra)
    return Results([c.reshape(s) for c, (s, _) in zip(carries, plan.carry_avals)])
