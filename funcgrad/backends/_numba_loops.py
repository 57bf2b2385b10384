"""Loops under ``jit`` on the Numba backend: ``scan`` and ``while_loop`` bodies compiled once.

A ``scan``/``while_loop`` node holds its body as an immutable sub-graph.  The NumPy
reference runs it with the body's own kernels, one step at a time.  Here each body
is optimised (:func:`funcgrad.optimize.optimize`) and compiled **once per body
graph** (Graphs hash by identity), then run in one of three ways:

* **one Numba kernel with the loop inside**, when every operation of the body is
  elementwise (after fusion: ``fused`` nodes and lone elementwise primitives) on
  values of one shape ``S`` or of size 1.  The body's operations, fused nodes
  inlined, become one :class:`~funcgrad.optimize.fusion.Program` that the scalar
  code generator of :mod:`funcgrad.backends._numba_fused` types (NumPy's loop
  dtypes, weak Python scalars); the kernel loops over the steps and, inside each
  step, over the elements of ``S``, with the carries updated in place (each
  element of an elementwise body depends only on the same element) and the
  size-1 values computed once a step.  A ``while_loop`` qualifies when its
  condition reads size-1 values only (a counter).  The kernel's signature holds
  dtypes and ranks, never sizes or the trip count, so its machine code (cached on
  disk, like every fused kernel) serves every length and every element count;
  bodies with the same operations share one kernel.
* **one generated function with the loop inside** for other bodies made of the
  operations :mod:`funcgrad.backends._numba_bodies` knows (matmul, slicing, sums,
  elementwise code on values of different shapes: an LSTM cell and its VJP), for
  a ``scan`` of at least :data:`WHOLE_BODY_MIN_STEPS` steps and any ``while_loop``.
* **the compiled body, called per step**, for everything else (index arrays, a
  reduction other than ``sum``, a short scan): the body's Executable on this
  backend, with the stacked outputs preallocated, and no tracing per step.

The loop kernel evaluates the same scalar expressions in the same order as the
fused kernels of the body, so it gives their numbers to the last bit; the generated
functions' matmuls and sums may round differently (see ``_numba_bodies``).
:data:`STATS` counts body compilations, generated kernels and runs, for tests.
``while_loop``'s plans and kernel live in :mod:`funcgrad.backends._numba_while`; the
kernel of a scan and its gradient's scan joined (``scan_pair``) in
:mod:`funcgrad.backends._numba_pair`.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from numba import types

from funcgrad._core.graph import CONSTANT, Graph
from funcgrad.backends._numba_bodies import (
    WholeLoop,
    run_scan,
    scan_body_source,
    source_header,
)
from funcgrad.backends._numba_fused import (
    _SUPPORTED,
    HELPERS,
    SCALAR_TABLE,
    Unsupported,
    _cast,
    _load,
    type_program,
)
from funcgrad.backends._numba_kernels import array_type
from funcgrad.ops.results import Results, result_p
from funcgrad.optimize._rewrite import is_python_scalar
from funcgrad.optimize.fusion import CONST, IN, TMP, Program, fused_p

#: In this process: how many bodies were compiled (optimised and planned), how many loop
#: kernels were generated (compiled, or loaded from Numba's disk cache), and how many
#: loops ran as one kernel or step by step.
STATS = {"bodies": 0, "loop_kernels": 0, "kernel_runs": 0, "body_kernel_runs": 0,
         "step_runs": 0}
#: Set to ``False`` to run every body step by step (the bodies planned from then on).
LOOP_KERNELS = True
#: A scan of a body that is not elementwise runs as one generated function (see
#: :mod:`funcgrad.backends._numba_bodies`) from this many steps on; shorter scans run step
#: by step, which costs no compilation.  (A ``while_loop``'s trip count is unknown: always.)
WHOLE_BODY_MIN_STEPS = 16
#: Compiled bodies (and plans) kept per process, the oldest dropped past this: a body holds
#: the arrays it closed over, so the caches must not keep every jitted loop's body alive.
MAX_BODIES = 64

_lock = threading.RLock()


# -- lowering a body graph to scalar code ---------------------------------------------
class Lowered(NamedTuple):
    """A body graph as scalar code: what one element of one step computes."""

    input_full: tuple  # which of the graph's inputs have the full shape (the rest: size 1)
    lines: tuple       # (full?, "name = expr") in dependency order
    outputs: tuple     # (full?, expr) per graph output
    extra: tuple       # constant arrays the graph reads: kernel inputs after the graph's inputs
    extra_full: tuple  # which of them have the full shape
    helpers: frozenset  # names of HELPERS the lines call
    prefix: str = "b_"  # of the lines' names (``b_x0``, ``b_t3``)


_NAME = re.compile(r"\b([xt])(\d+)\b")


def _rename(expr: str, prefix: str) -> str:
    """``x3``/``t7`` of the code generator's lines as ``{prefix}x3``/``{prefix}t7``."""
    return _NAME.sub(lambda m: f"{prefix}{m[1]}{m[2]}", expr)


def _is_full(shape: tuple, full: tuple) -> bool:
    """``shape`` is the loop's element shape; raise :class:`Unsupported` unless it is or has size 1."""
    if tuple(shape) == full and math.prod(full) != 1:
        return True
    if math.prod(shape) == 1 and len(shape) <= len(full):
        return False
    raise Unsupported(f"a value of shape {shape} in a loop over shape {full}")


def loop_shape(graphs: Sequence[Graph]) -> tuple:
    """The element shape ``S`` of elementwise bodies: the shape of their largest value."""
    shape: tuple = ()
    for g in graphs:
        for n in g.nodes:
            if math.prod(n.shape) > math.prod(shape):
                shape = tuple(n.shape)
    return shape


def lower(graph: Graph, prefix: str, full: tuple) -> Lowered:
    """Scalar code for ``graph``, its inputs named ``{prefix}x0, {prefix}x1, ...``.

    Raises :class:`Unsupported` when an operation is not elementwise, a value has
    another shape than ``full`` or size 1, or a dtype has no scalar code.
    """
    inputs = list(graph.inputs)
    input_full = [_is_full(n.shape, full) for n in inputs]
    operand: dict[int, tuple] = {id(n): (IN, k) for k, n in enumerate(inputs)}
    extra: list = []
    instructions: list = []
    for node in graph.nodes:
        if id(node) in operand:
            continue
        if node.kind == CONSTANT:
            if is_python_scalar(node):
                operand[id(node)] = (CONST, node.value)
                continue
            value = np.asarray(node.value)
            input_full.append(_is_full(value.shape, full))
            operand[id(node)] = (IN, len(inputs) + len(extra))
            extra.append(value)
            continue
        _is_full(node.shape, full)
        prim = node.primitive
        ins = [operand[id(i)] for i in node.inputs]
        if prim is fused_p:
            base = len(instructions)
            for p, ops in node.params["program"].instructions:
                instructions.append((p, tuple(ins[v] if tag == IN else (TMP, base + v)
                                              if tag == TMP else (tag, v) for tag, v in ops)))
            operand[id(node)] = (TMP, base + node.params["program"].output)
        elif prim in SCALAR_TABLE and prim.elementwise and not node.params:
            instructions.append((prim, tuple(ins)))
            operand[id(node)] = (TMP, len(instructions) - 1)
        else:
            raise Unsupported(f"{node.name} is not elementwise")
    dtypes = tuple(np.dtype(n.dtype) for n in inputs) + tuple(v.dtype for v in extra)
    lines, tmp_full = [], []
    if instructions:
        typed = type_program(Program(instructions, len(instructions) - 1, len(dtypes)), dtypes)
        for (_, ops), line in zip(instructions, typed.body):
            is_full = any(input_full[v] if tag == IN else tmp_full[v]
                          for tag, v in ops if tag != CONST)
            tmp_full.append(is_full)
            lines.append((is_full, _rename(line, prefix)))
    outputs = []
    for out in graph.outputs:
        tag, v = operand.get(id(out), (CONST, None))
        if tag == CONST:
            raise Unsupported("a constant output")
        if out.dtype not in _SUPPORTED:
            raise Unsupported(f"dtype {out.dtype}")
        is_full = input_full[v] if tag == IN else tmp_full[v]
        outputs.append((is_full, f"{prefix}{'x' if tag == IN else 't'}{v}"))
    helpers = frozenset(name for name in HELPERS if any(f"{name}(" in line for _, line in lines))
    return Lowered(tuple(input_full[:len(inputs)]), tuple(lines), tuple(outputs), tuple(extra),
                   tuple(input_full[len(inputs):]), helpers, prefix)


# -- source generation ------------------------------------------------------------------
class _In(NamedTuple):
    """Where a variable of the lowered code comes from in the kernel."""

    var: str   # the name the lowered lines read
    read: str  # the expression that reads it (a per-element one indexes element ``i``)
    each: str  # "once" (before the loop), "step" (each step) or "element" (each element)


def _step(low: Lowered, ins: Sequence[_In], writes: Sequence[tuple], size: str = "size") -> list[str]:
    """One step: its per-step reads, the size-1 lines, the loop over the elements, the writes.

    ``writes`` are ``(full?, target, expr)``; a full one is written per element.  The
    carries are updated in place: an element's new values depend on that element only.
    """
    code = [f"{v.var} = {v.read}" for v in ins if v.each == "step"]
    code += [line for full, line in low.lines if not full]
    if any(full for full, _ in low.lines) or any(full for full, *_ in writes):
        code.append(f"for i in range({size}):")
        inner = [f"{v.var} = {v.read}" for v in ins if v.each == "element"]
        inner += [line for full, line in low.lines if full]
        inner += [f"{target} = {expr}" for full, target, expr in writes if full]
        code += ["    " + line for line in inner]
    return code + [f"{target} = {expr}" for full, target, expr in writes if not full]


def _array_ins(low: Lowered, prefix: str, names: Sequence[str], first: int) -> list[_In]:
    """Reads of constant operands (``names``, graph inputs ``first...``) and of the extras."""
    ins = []
    for j, name in enumerate(names):
        full = low.input_full[first + j]
        ins.append(_In(f"{prefix}x{first + j}", f"{name}[i]" if full else f"{name}[0]",
                       "element" if full else "once"))
    n_in = len(low.input_full)
    for j, full in enumerate(low.extra_full):
        ins.append(_In(f"{prefix}x{n_in + j}", f"{prefix}e{j}[i]" if full else f"{prefix}e{j}[0]",
                       "element" if full else "once"))
    return ins


def _carry_ins(low: Lowered, prefix: str, first: int, count: int, tag: str = "",
               array: str = "c") -> list[_In]:
    """Reads of the carries: per element from ``{tag}{array}0...`` (full), or the variables
    ``{tag}v0...`` (size 1)."""
    return [_In(f"{prefix}x{first + j}", f"{tag}{array}{j}[i]", "element")
            if low.input_full[first + j] else _In(f"{prefix}x{first + j}", f"{tag}v{j}", "step")
            for j in range(count)]


def _carry_writes(low: Lowered, outputs: Sequence, dtypes: Sequence, tag: str = "",
                  array: str = "c") -> list[tuple]:
    return [(full, f"{tag}{array}{j}[i]", expr) if full
            else (False, f"{tag}v{j}", _cast(expr, None, dtypes[j]))
            for j, (full, expr) in enumerate(outputs)]


def _indent(lines: Sequence[str], depth: int) -> list[str]:
    return ["    " * depth + line for line in lines]


class ScanLoop(NamedTuple):
    """One scan's loop as kernel code: its array parameters and its lines (see :func:`scan_loop`)."""

    carries: list  # parameter names, in the kernel's order
    xs: list
    consts: list
    extras: list
    ys: list
    lines: list    # the loop, at depth 0 (the kernel's body)


def scan_loop(low: Lowered, num_consts: int, num_carry: int, carry_dtypes, tag: str = "",
              reverse: str = "reverse", size: str = "size", xs: Sequence | None = None,
              ys: Sequence | None = None, pingpong: bool = False) -> ScanLoop:
    """The loop of a scan over the lowered body ``low``: carries ``{tag}c...`` updated in place,
    xs ``{tag}s...`` and ys ``{tag}y...`` (``(length, m)`` arrays), consts ``{tag}k...``.

    ``reverse`` and ``size`` are the expressions for the direction and the element count;
    ``xs``/``ys`` rename those arrays (a ``None`` y is not written: nothing reads it).
    With ``pingpong``, each step reads the full carries from one buffer and writes them to
    another (swapped after the step; the last one copied into ``c`` when it is the other):
    a loop whose reads and writes do not alias vectorises where an in-place update with
    data-dependent selects (a product's rule's ``where``) does not: ~2 us less for the
    ``rollout_steady`` gradient's loop (100 steps of 16 elements, 21.0 -> 18.8 us for the
    pair kernel of :mod:`~funcgrad.backends._numba_pair`).
    """
    prefix = low.prefix
    num_xs = len(low.input_full) - num_consts - num_carry
    num_ys = len(low.outputs) - num_carry
    carries = [f"{tag}c{j}" for j in range(num_carry)]
    xs = list(xs) if xs is not None else [f"{tag}s{j}" for j in range(num_xs)]
    ys = list(ys) if ys is not None else [f"{tag}y{j}" for j in range(num_ys)]
    consts = [f"{tag}k{j}" for j in range(num_consts)]
    extras = [f"{prefix}e{j}" for j in range(len(low.extra))]
    swapped = [j for j in range(num_carry) if low.input_full[num_consts + j]]
    pingpong = pingpong and bool(swapped)
    ins = _array_ins(low, prefix, consts, 0) + _carry_ins(low, prefix, num_consts, num_carry, tag,
                                                         "p" if pingpong else "c")
    for j in range(num_xs):
        k = num_consts + num_carry + j
        full = low.input_full[k]
        ins.append(_In(f"{prefix}x{k}", f"{xs[j]}[t, i]" if full else f"{xs[j]}[t, 0]",
                       "element" if full else "step"))
    writes = _carry_writes(low, low.outputs[:num_carry], carry_dtypes, tag,
                           "n" if pingpong else "c")
    writes += [(is_full, f"{y}[t, i]" if is_full else f"{y}[t, 0]", expr)
               for y, (is_full, expr) in zip(ys, low.outputs[num_carry:]) if y is not None]
    scalar_carries = [j for j in range(num_carry) if not low.input_full[num_consts + j]]
    body = [f"{v.var} = {v.read}" for v in ins if v.each == "once"]
    body += [f"{tag}v{j} = {tag}c{j}[0]" for j in scalar_carries]
    if pingpong:
        body += [f"{tag}p{j}, {tag}n{j} = {tag}c{j}, np.empty_like({tag}c{j})" for j in swapped]
    body += ["for step in range(length):",
             f"    t = length - 1 - step if {reverse} else step"]
    body += _indent(_step(low, ins, writes, size), 1)
    if pingpong:
        body += [f"    {tag}p{j}, {tag}n{j} = {tag}n{j}, {tag}p{j}" for j in swapped]
        # (An element loop: a slice assignment takes Numba ~2 s more to compile.)
        body += ["if length % 2:", f"    for i in range({size}):"]
        body += [f"        {tag}c{j}[i] = {tag}p{j}[i]" for j in swapped]
    body += [f"{tag}c{j}[0] = {tag}v{j}" for j in scalar_carries]
    return ScanLoop(carries, xs, consts, extras, [y for y in ys if y is not None], body)


def scan_source(low: Lowered, num_consts: int, num_carry: int, carry_dtypes) -> str:
    """Source of ``kernel(length, reverse, size, c..., s..., k..., b_e..., y...)``.

    ``c`` are the carries (flat, updated in place), ``s`` the xs and ``y`` the ys
    (``(length, m)`` arrays), ``k`` the consts and ``b_e`` the body's constant arrays (flat).
    """
    loop = scan_loop(low, num_consts, num_carry, carry_dtypes)
    src = source_header(f"scan, {len(low.lines)} scalar lines", low.helpers)
    src.append(f"def kernel({', '.join(['length', 'reverse', 'size'] + loop.carries + loop.xs + loop.consts + loop.extras + loop.ys)}):")
    return "\n".join(src + _indent(loop.lines + ["return"], 1)) + "\n"


_loop_kernels: dict = {}  # source -> compiled kernel


def compile_loop(source: str, signature) -> Callable:
    """The compiled kernel of ``source`` (compiled, or loaded from Numba's disk cache, once)."""
    kernel = _loop_kernels.get(source)
    if kernel is None:
        with _lock:
            kernel = _loop_kernels.get(source)
            if kernel is None:
                kernel = _loop_kernels[source] = _load(source, False, signature)
                STATS["loop_kernels"] += 1
    return kernel


def _flat(dtype, readonly=False):
    return array_type(dtype, 1, "C", readonly)


def _stacked(dtype, readonly=False):
    return array_type(dtype, 2, "C", readonly)


# -- compiled bodies and plans ----------------------------------------------------------
def compiled_body(graph: Graph):
    """``(optimised graph, Executable on the Numba backend)`` of a body, made once per graph."""
    entry = _bodies.get(graph)
    if entry is None:
        from funcgrad.backends.numba_cpu import BACKEND
        from funcgrad.optimize import optimize

        with _lock:
            entry = _bodies.get(graph)
            if entry is None:
                optimized = optimize(graph)
                entry = (optimized, BACKEND.compile(optimized))
                if len(_bodies) >= MAX_BODIES:
                    _bodies.pop(next(iter(_bodies)))
                _bodies[graph] = entry
                STATS["bodies"] += 1
    return entry


_bodies: dict = {}  # Graph (by identity) -> (optimised graph, Executable)
_plans: dict = {}   # (primitive name, body graph(s), layout params) -> plan


def _plan(key: tuple, make: Callable):
    plan = _plans.get(key)
    if plan is None:
        with _lock:
            plan = _plans.get(key)
            if plan is None:
                if len(_plans) >= MAX_BODIES:
                    _plans.pop(next(iter(_plans)))
                plan = _plans[key] = make()
    return plan


def _fused_or_none(make: Callable):
    """``make()``, or ``None`` when the body is not elementwise (then it runs step by step)."""
    if not LOOP_KERNELS:
        return None
    try:
        return make()
    except Unsupported:
        return None


class ScanPlan(NamedTuple):
    """How a scan runs: ``kernel`` (the loop in one Numba kernel) or ``exe`` (the body per step)."""

    exe: Callable
    kernel: Callable | None
    size: int          # elements of the loop's shape
    extra: tuple       # the body's constant arrays, flat
    out_avals: tuple   # (shape, dtype) per body output
    source: str | None = None
    whole: WholeLoop | None = None  # the generated function of a body that is not elementwise
    optimized: Graph | None = None


def scan_plan(body: Graph, num_consts: int, num_carry: int) -> ScanPlan:
    """The plan of a scan over ``body`` (made once per body graph)."""
    def make():
        optimized, exe = compiled_body(body)
        out_avals = tuple((tuple(n.shape), np.dtype(n.dtype)) for n in optimized.outputs)
        full = loop_shape([optimized])
        low = _fused_or_none(lambda: lower(optimized, "b_", full))
        if low is None:
            whole = WholeLoop(lambda: scan_body_source(optimized, num_consts, num_carry),
                              compile_loop, _lock) if LOOP_KERNELS else None
            return ScanPlan(exe, None, 0, (), out_avals, None, whole, optimized)
        ins = [np.dtype(n.dtype) for n in optimized.inputs]
        carry_dtypes = ins[num_consts:num_consts + num_carry]
        source = scan_source(low, num_consts, num_carry, carry_dtypes)
        sig = types.void(types.int64, types.boolean, types.int64,
                         *[_flat(d) for d in carry_dtypes],
                         *[_stacked(d, True) for d in ins[num_consts + num_carry:]],
                         *[_flat(d, True) for d in ins[:num_consts]],
                         *[_flat(v.dtype, True) for v in low.extra],
                         *[_stacked(d) for _, d in out_avals[num_carry:]])
        extra = tuple(np.ascontiguousarray(v).reshape(-1) for v in low.extra)
        return ScanPlan(exe, compile_loop(source, sig), math.prod(full), extra, out_avals, source)
    return _plan(("scan", body, num_consts, num_carry), make)


def scan_kernel(*operands, body: Graph, num_consts: int, num_carry: int, length: int,
                reverse: bool, unroll: int = 1):
    """The Numba backend's kernel of ``scan_p``: the reference's results, without Python per step
    when the body is elementwise (``unroll`` changes nothing here: the loop is compiled)."""
    plan = (_plans.get(("scan", body, num_consts, num_carry))  # (no closure made per call)
            or scan_plan(body, num_consts, num_carry))
    consts = operands[:num_consts]
    init = operands[num_consts:num_consts + num_carry]
    xs = operands[num_consts + num_carry:]
    if plan.kernel is None:
        whole = (plan.whole.kernel() if plan.whole is not None and length >= WHOLE_BODY_MIN_STEPS
                 else None)
        out = None if whole is None else run_scan(plan.whole, plan.optimized, consts, init, xs,
                                                  num_carry, length, reverse)
        if out is not None:
            STATS["body_kernel_runs"] += 1
            return Results(out)
        STATS["step_runs"] += 1
        return _scan_steps(plan, consts, init, xs, num_carry, length, reverse)
    STATS["kernel_runs"] += 1
    avals = plan.out_avals
    carries = [np.array(c, dtype=d, order="C").reshape(-1)  # a fresh copy, updated in place
               for c, (_, d) in zip(init, avals)]
    ys = [np.empty((length, math.prod(s)), d) for s, d in avals[num_carry:]]
    plan.kernel(length, reverse, plan.size, *carries,
                *[np.ascontiguousarray(x).reshape(length, math.prod(x.shape[1:])) for x in xs],
                *[np.ascontiguousarray(k).reshape(-1) for k in consts], *plan.extra, *ys)
    return Results([c.reshape(s) for c, (s, _) in zip(carries, avals)]
                   + [y.reshape((length,) + s) for y, (s, _) in zip(ys, avals[num_carry:])])


def fast_scan_source(plan: ScanPlan, operands, num_consts: int, num_carry: int,
                     length: int) -> str:
    """Source of ``run(o0, o1, ...)``: one scan node's loop-kernel call, its shapes written in.

    A scan node's operands and results have the shapes of its graph, so the reshapes to
    the kernel's flat and ``(length, m)`` layouts (and back) are worked out once, and
    only those that change a shape are written.
    """
    avals = plan.out_avals
    dtypes = _dtype_names(plan)
    n = num_consts + num_carry
    ops = [f"o{j}" for j in range(len(operands))]
    lines, carries, ys = [], [], []
    for j, (s, d) in enumerate(avals[:num_carry]):  # a fresh copy, updated in place
        flat = "" if len(s) == 1 else ".reshape(-1)"
        lines.append(f"c{j} = array({ops[num_consts + j]}, {dtypes[d]}, order='C'){flat}")
        carries.append(f"c{j}" if len(s) == 1 else f"c{j}.reshape({s!r})")
    for j, x in enumerate(operands[n:]):
        m = "" if np.ndim(x) == 2 else f".reshape({(length, math.prod(np.shape(x)[1:]))!r})"
        lines.append(f"s{j} = ascontiguousarray({ops[n + j]}){m}")
    for j, k in enumerate(operands[:num_consts]):
        flat = "" if np.ndim(k) == 1 else ".reshape(-1)"
        lines.append(f"k{j} = ascontiguousarray({ops[j]}){flat}")
    for j, (s, d) in enumerate(avals[num_carry:]):
        lines.append(f"y{j} = empty({(length, math.prod(s))!r}, {dtypes[d]})")
        ys.append(f"y{j}" if len(s) == 1 else f"y{j}.reshape({(length,) + s!r})")
    args = ([f"c{j}" for j in range(num_carry)] + [f"s{j}" for j in range(len(operands) - n)]
            + [f"k{j}" for j in range(num_consts)] + [f"e{j}" for j in range(len(plan.extra))]
            + [f"y{j}" for j in range(len(avals) - num_carry)])
    lines.append(f"kernel(length, reverse, {plan.size}, {', '.join(args)})")
    lines.append("STATS['kernel_runs'] += 1")
    lines.append(f"return Results(({''.join(v + ', ' for v in carries + ys)}))")
    return (f"def run({', '.join(ops + ['length', 'reverse'])}):\n"
            + "".join(f"    {line}\n" for line in lines))


def _dtype_names(plan: ScanPlan) -> dict:
    """``{dtype: "D0", ...}``: the names the generated code gives the results' dtypes."""
    return {d: f"D{j}" for j, d in enumerate(dict.fromkeys(d for _, d in plan.out_avals))}


def _fast(plan: ScanPlan, operands, num_consts: int, num_carry: int, length: int) -> Callable:
    """``run(*operands, length, reverse)``: :func:`fast_scan_source` compiled."""
    names = {"array": np.array, "ascontiguousarray": np.ascontiguousarray, "empty": np.empty,
             "kernel": plan.kernel, "STATS": STATS, "Results": Results}
    names.update((name, d) for d, name in _dtype_names(plan).items())
    names.update((f"e{j}", e) for j, e in enumerate(plan.extra))
    exec(compile(fast_scan_source(plan, operands, num_consts, num_carry, length),  # noqa: S102
                 "<funcgrad scan node>", "exec"), names)
    return names["run"]


def _scan_for_node(node, layout) -> Callable:
    """``scan_kernel`` for one node of an executable: on its first call, its plan and a
    function with the node's reshapes written in (:func:`fast_scan_source`), then only that.
    It holds the node's params (``params_bound``: the executable passes the operands alone)."""
    memo: list = [None]  # the node's run(), or False when its body is not one loop kernel
    p = dict(node.params)
    body, num_consts, num_carry = p["body"], p["num_consts"], p["num_carry"]
    length, reverse = p["length"], p["reverse"]

    def kernel(*operands):
        run = memo[0]
        if run is None:
            plan = scan_plan(body, num_consts, num_carry)
            run = memo[0] = (False if plan.kernel is None
                             else _fast(plan, operands, num_consts, num_carry, length))
        if run is False:
            return scan_kernel(*operands, **p)
        return run(*operands, length, reverse)
    kernel.params_bound = True
    return kernel


scan_kernel.for_node = _scan_for_node


def _scan_steps(plan: ScanPlan, consts, init, xs, num_carry: int, length: int, reverse: bool):
    """A scan as a Python loop over the compiled body, the ys written into preallocated arrays."""
    exe, consts, carry = plan.exe, list(consts), list(init)
    ys = [np.empty((length,) + s, d) for s, d in plan.out_avals[num_carry:]]
    for t in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = exe(consts + carry + [x[t] for x in xs])
        carry = outs[:num_carry]
        for y, o in zip(ys, outs[num_carry:]):
            y[t] = o
    return Results(carry + ys)


def loop_source(node) -> str | None:
    """The source of the loop kernel a ``scan`` or ``while`` node runs (``None``: step by step).

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> f = fg.jit(lambda x: fg.lax.fori_loop(0, 3, lambda i, x: fnp.sin(x), x))
        >>> (node,) = [n for n in f.lower(np.ones(2)).nodes if n.name == "scan"]
        >>> print(loop_source(node).splitlines()[-11])
            for step in range(length):
    """
    from funcgrad.backends._numba_while import while_plan

    p = node.params
    if "cond" in p:  # the while layout: (cond, body); a scan has a body only
        plan = while_plan(p["cond"], p["body"], p["num_cond_consts"], p["num_body_consts"])
    else:
        plan = scan_plan(p["body"], p["num_consts"], p["num_carry"])
    if plan.source is None and plan.whole is not None:
        plan.whole.kernel()
        return plan.whole.source
    return plan.source


def kernels() -> dict:
    """``{primitive: kernel}`` for the Numba backend's table."""
    from funcgrad.backends._numba_pair import pair_kernel
    from funcgrad.backends._numba_while import while_kernel
    from funcgrad.ops.control_scan import scan_p
    from funcgrad.ops.control_scan_pair import scan_pair_p
    from funcgrad.ops.control_while import while_p

    return {scan_p: scan_kernel, scan_pair_p: pair_kernel, while_p: while_kernel,
            result_p: result_kernel}


def result_kernel(results, index: int, count: int):
    """``result_p``'s kernel: result ``index`` of a loop's ``Results`` (as the reference)."""
    return results[index]


def _result_for_node(node, layout) -> Callable:
    """``result_kernel`` with the node's index bound (called with the operand alone)."""
    index = node.params["index"]

    def kernel(results):
        return results[index]
    kernel.params_bound = True
    return kernel


result_kernel.for_node = _result_for_node
