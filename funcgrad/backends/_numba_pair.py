"""The Numba kernel of ``scan_pair``: a loop's forward scan and its gradient's scan in one call.

When both bodies are elementwise (see :mod:`funcgrad.backends._numba_loops`), one
generated kernel runs the first loop, writing the ys that the second reads into arrays it
allocates itself, then the second loop: one dispatch instead of two, the residuals never
boxed for Python, and the first scan's results that nothing reads never written.  Each
loop is the code the scan's own loop kernel runs (:func:`scan_loop`), so the numbers are
the same to the last bit.  Otherwise the two scans run one after the other through the
scan kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import types

from funcgrad.backends import _numba_loops as loops
from funcgrad.backends._numba_bodies import source_header
from funcgrad.backends._numba_fused import Unsupported
from funcgrad.backends._numba_loops import (
    STATS,
    _flat,
    _indent,
    _plan,
    _stacked,
    compile_loop,
    compiled_body,
    loop_shape,
    lower,
    scan_kernel,
    scan_loop,
)
from funcgrad.ops.control_scan_pair import second_operands
from funcgrad.ops.results import Results


class PairPlan(NamedTuple):
    """The pair's kernel, its source, and what the Python side needs to call it."""

    kernel: Callable
    source: str
    sizes: tuple        # elements of each loop's shape
    extras: tuple       # both bodies' constant arrays, flat
    avals: tuple        # per scan: ((shape, dtype) per body output)
    kept_ys: tuple      # the first scan's ys in ``keep`` (indices among its ys)
    num_extras1: int    # how many of ``extras`` are the first body's


def _dtype_code(d: np.dtype) -> str:
    return "np.bool_" if d == np.bool_ else f"np.{d.name}"


def pair_plan(p) -> PairPlan | None:
    """The plan of a ``scan_pair`` node's params (``None``: a body is not elementwise)."""
    key = ("pair", p["body"], p["body2"], p["num_consts"], p["num_carry"], p["num_consts2"],
           p["num_carry2"], p["reverse"], p["reverse2"], p["sources"], p["keep"],
           loops.LOOP_KERNELS)
    return _plan(key, lambda: _make_plan(p) if loops.LOOP_KERNELS else None)


def _make_plan(p) -> PairPlan | None:
    C1, K1, C2, K2 = p["num_consts"], p["num_carry"], p["num_consts2"], p["num_carry2"]
    opts = [compiled_body(p["body"])[0], compiled_body(p["body2"])[0]]
    try:
        low1, low2 = lower(opts[0], "b_", loop_shape(opts[:1])), lower(opts[1], "r_",
                                                                      loop_shape(opts[1:]))
    except Unsupported:
        return None
    avals = tuple(tuple((tuple(n.shape), np.dtype(n.dtype)) for n in g.outputs) for g in opts)
    ins1 = [np.dtype(n.dtype) for n in opts[0].inputs]
    ins2 = [np.dtype(n.dtype) for n in opts[1].inputs]
    kept_ys = tuple(r - K1 for r in p["keep"] if r >= K1)
    second_xs = p["sources"][C2 + K2:]
    read = {-1 - s - K1 for s in second_xs if s < 0}  # the first's ys that the second reads
    ys1 = [f"f_y{j}" if j in read or j in kept_ys else None for j in range(len(avals[0]) - K1)]
    loop1 = scan_loop(low1, C1, K1, ins1[C1:C1 + K1], "f_", repr(bool(p["reverse"])), "size",
                      ys=ys1)
    xs2 = [f"f_y{-1 - s - K1}" if s < 0 else f"g_s{j}" for j, s in enumerate(second_xs)]
    loop2 = scan_loop(low2, C2, K2, ins2[C2:C2 + K2], "g_", repr(bool(p["reverse2"])), "size2",
                      xs=xs2, pingpong=True)
    inner = [j for j in sorted(read) if j not in kept_ys]
    alloc = [f"f_y{j} = np.empty((length, {'size' if low1.outputs[K1 + j][0] else 1}), "
             f"{_dtype_code(avals[0][K1 + j][1])})" for j in inner]
    outer_xs2 = [x for x in loop2.xs if x.startswith("g_")]
    params = (["length", "size", "size2"] + loop1.carries + loop1.xs + loop1.consts
              + loop1.extras + [f"f_y{j}" for j in kept_ys] + loop2.carries + outer_xs2
              + loop2.consts + loop2.extras + loop2.ys)
    src = source_header(f"scan pair, {len(low1.lines)} + {len(low2.lines)} scalar lines",
                        low1.helpers | low2.helpers)
    src.append(f"def kernel({', '.join(params)}):")
    src += _indent(alloc + loop1.lines + loop2.lines + ["return"], 1)
    source = "\n".join(src) + "\n"
    ys2 = [d for _, d in avals[1][K2:]]
    sig = types.void(
        types.int64, types.int64, types.int64, *[_flat(d) for d in ins1[C1:C1 + K1]],
        *[_stacked(d, True) for d in ins1[C1 + K1:]], *[_flat(d, True) for d in ins1[:C1]],
        *[_flat(v.dtype, True) for v in low1.extra],
        *[_stacked(avals[0][K1 + j][1]) for j in kept_ys],
        *[_flat(d) for d in ins2[C2:C2 + K2]],
        *[_stacked(ins2[C2 + K2 + j], True) for j, x in enumerate(loop2.xs) if x.startswith("g_")],
        *[_flat(d, True) for d in ins2[:C2]], *[_flat(v.dtype, True) for v in low2.extra],
        *[_stacked(d) for d in ys2])
    extras = tuple(np.ascontiguousarray(v).reshape(-1) for v in low1.extra + low2.extra)
    sizes = (math.prod(loop_shape(opts[:1])), math.prod(loop_shape(opts[1:])))
    return PairPlan(compile_loop(source, sig), source, sizes, extras, avals, kept_ys,
                    len(low1.extra))


def _reshape(name: str, shape: tuple, to: tuple) -> str:
    return name if tuple(shape) == tuple(to) else f"{name}.reshape({tuple(to)!r})"


def pair_run_source(plan: PairPlan, operands, p) -> str:
    """Source of ``run(o0, o1, ...)``: the pair's kernel call with its shapes written in
    (a node's operands and results have its graph's shapes: the reshapes are worked out once)."""
    C1, K1, C2, K2 = p["num_consts"], p["num_carry"], p["num_consts2"], p["num_carry2"]
    length, sources, n1 = p["length"], p["sources"], p["num_first"]
    a1, a2 = plan.avals
    names = {d: f"D{j}" for j, d in enumerate(dict.fromkeys(d for a in plan.avals for _, d in a))}
    lines, args, results = [], [], []

    def carries(tag, avals, ops):
        for j, ((s, d), o) in enumerate(zip(avals, ops)):  # fresh copies, updated in place
            lines.append(f"{tag}c{j} = array({o}, {names[d]}, order='C')"
                         + ("" if len(s) == 1 else ".reshape(-1)"))
            args.append(f"{tag}c{j}")

    def arrays(tag, letter, ks, stacked):
        for j, k in enumerate(ks):
            shape = np.shape(operands[k])
            to = (length, math.prod(shape[1:])) if stacked else (math.prod(shape),)
            lines.append(f"{tag}{letter}{j} = "
                         + _reshape(f"ascontiguousarray(o{k})", shape, to))
            args.append(f"{tag}{letter}{j}")

    def ys(tag, which, avals):
        for j in which:
            s, d = avals[j]
            lines.append(f"{tag}y{j} = empty({(length, math.prod(s))!r}, {names[d]})")
            args.append(f"{tag}y{j}")

    carries("f_", a1[:K1], [f"o{k}" for k in range(C1, C1 + K1)])
    arrays("f_", "s", range(C1 + K1, n1), True)
    arrays("f_", "k", range(C1), False)
    args += [f"e{j}" for j in range(plan.num_extras1)]
    ys("f_", plan.kept_ys, a1[K1:])
    carries("g_", a2[:K2], [f"o{k}" for k in sources[C2:C2 + K2]])
    arrays("g_", "s", [k for k in sources[C2 + K2:] if k >= 0], True)
    arrays("g_", "k", sources[:C2], False)
    args += [f"e{j}" for j in range(plan.num_extras1, len(plan.extras))]
    ys("g_", range(len(a2) - K2), a2[K2:])
    for r in p["keep"]:
        s = a1[r][0]
        results.append(_reshape(f"f_c{r}", (math.prod(s),), s) if r < K1
                       else _reshape(f"f_y{r - K1}", (length, math.prod(s)), (length,) + s))
    results += [_reshape(f"g_c{j}", (math.prod(s),), s) for j, (s, _) in enumerate(a2[:K2])]
    results += [_reshape(f"g_y{j}", (length, math.prod(s)), (length,) + s)
                for j, (s, _) in enumerate(a2[K2:])]
    lines.append(f"kernel({length}, {plan.sizes[0]}, {plan.sizes[1]}, {', '.join(args)})")
    lines.append("STATS['kernel_runs'] += 1")
    lines.append(f"return Results(({''.join(v + ', ' for v in results)}))")
    return (f"def run({', '.join(f'o{k}' for k in range(len(operands)))}):\n"
            + "".join(f"    {line}\n" for line in lines))


def _reshape(name: str, shape: tuple, to: tuple) -> str:
    return name if tuple(shape) == tuple(to) else f"{name}.reshape({tuple(to)!r})"


def _fast(plan: PairPlan, operands, p) -> Callable:
    names = {"array": np.array, "ascontiguousarray": np.ascontiguousarray, "empty": np.empty,
             "kernel": plan.kernel, "STATS": STATS, "Results": Results}
    names.update((f"D{j}", d) for j, d in
                 enumerate(dict.fromkeys(d for a in plan.avals for _, d in a)))
    names.update((f"e{j}", e) for j, e in enumerate(plan.extras))
    # Running generated code is the point; every name in it is ours.
    exec(compile(pair_run_source(plan, operands, p), "<funcgrad scan pair>", "exec"),  # noqa: S102
         names)
    return names["run"]


def _two_scans(operands, p):
    """The pair as two scan kernels, one after the other (a body that is not elementwise)."""
    scan = {"length": p["length"], "unroll": 1}
    first = scan_kernel(*operands[:p["num_first"]], body=p["body"], num_consts=p["num_consts"],
                        num_carry=p["num_carry"], reverse=p["reverse"], **scan)
    second = scan_kernel(*second_operands(operands, first, p["sources"]), body=p["body2"],
                         num_consts=p["num_consts2"], num_carry=p["num_carry2"],
                         reverse=p["reverse2"], **scan)
    return Results([first[r] for r in p["keep"]] + list(second))


def pair_kernel(*operands, **params):
    """The Numba backend's kernel of ``scan_pair_p``: one loop kernel for both scans when
    both bodies are elementwise, else the two scans' kernels."""
    plan = pair_plan(params)
    if plan is None:
        return _two_scans(operands, params)
    return _fast(plan, operands, params)(*operands)


def _pair_for_node(node, layout) -> Callable:
    """``pair_kernel`` for one node: the plan and the call with its shapes made once; it
    holds the node's params (``params_bound``: the executable passes the operands alone)."""
    memo: list = [None]
    params = dict(node.params)

    def kernel(*operands):
        run = memo[0]
        if run is None:
            plan = pair_plan(params)
            run = memo[0] = (False if plan is None else _fast(plan, operands, params))
        if run is False:
            return _two_scans(operands, params)
        return run(*operands)
    kernel.params_bound = True
    return kernel


pair_kernel.for_node = _pair_for_node
