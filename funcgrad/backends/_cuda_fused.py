"""CUDA kernels for fused elementwise Programs, single elementwise primitives and casts.

The fusion planner (:mod:`funcgrad.optimize.fusion`) is the same for every backend:
the CUDA backend runs the very ``fused`` nodes the Numba CPU backend runs.  Only the
code generator differs.  A Program is typed for its operand dtypes by the shared
:func:`funcgrad.backends._elementwise_table.type_program` (NumPy's loop dtypes, weak
Python-scalar constants, the same straight-line scalar body as the CPU loops), with
the rows of :data:`CUDA_TABLE` that spell a function the CUDA way (``np.sin`` is
``math.sin``, ``np.cbrt`` ``cuda.cbrt``, ``np.rint`` libdevice's ``rint``; float32
``tanh`` is the rational approximation of the CPU loops and XLA,
:func:`~funcgrad.backends._elementwise_table.tanh_float32_source`; float64 ``exp`` and
``tanh`` are libdevice's, since the CPU's table-driven versions exist only to
vectorise).  The body is then wrapped in one generated ``numba.cuda.jit`` kernel:

* one thread per output element, in a grid-stride loop (``BLOCK`` threads per block,
  at most ``MAX_BLOCKS`` blocks), writing a new C-contiguous output through a flat
  view: consecutive threads write consecutive addresses (coalesced);
* the operands' layouts are first simplified on the host: size-1 axes dropped and
  adjacent axes merged wherever every operand allows it (``_collapse``).  When every
  array operand is then C-contiguous with the output's shape, the kernel reads them
  as flat arrays (``flat``: ``x = in0[i]``, coalesced, no index arithmetic);
  otherwise each is a zero-copy strided view with the collapsed shape (zero strides
  on broadcast axes; operands with fewer axes padded on the left) indexed with the
  unravelled output index (``strided``);
* an array operand with one element (a 0-d device array, a size-1 or fully broadcast
  one) is read once per thread before the loop; NumPy scalars and Python floats and
  bools are kernel arguments (a Python float is weakly typed, as in NumPy); a Python
  int is written into the Program as a constant (NumPy types it by the loop that reads
  it, and refuses one that does not fit: that runs on the host and raises there).

A kernel is generated and compiled (lazily, by ``numba.cuda.jit`` on first launch)
once per (Program, operand dtypes, operand patterns, rank) and kept in memory; the
layout work of a call is cached per operand shapes, strides and dtypes.  What the
table does not compute (complex or float16 operands, a primitive without a scalar
expression, a primitive with parameters such as ``round``'s decimals, a device array
with negative strides) runs on the host through
:func:`funcgrad.backends._cuda_arrays.host_call`, counted in ``STATS``.

Under Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) the same kernel source
runs as Python threads: its function names are bound to NumPy's functions instead of
``math``'s (Python's ``math`` raises where CUDA's returns NaN or infinity), the
launch is smaller (``BLOCK``/``MAX_BLOCKS``, chosen when a kernel is launched), and
the float32 ``tanh`` uses the clamp for arithmetic without FMA (on a GPU, NVVM
contracts each multiply-add into one FMA by default: the generated code's own
arithmetic is contracted too, as in XLA).  Everything else is the same code path.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from funcgrad.backends import _cuda_arrays as dev
from funcgrad.backends import _elementwise_table as table
from funcgrad.backends._elementwise_table import (
    SCALAR_TABLE,
    SUPPORTED,
    Typed,
    Unsupported,
)
from funcgrad.ops import elementwise as ew
from funcgrad.ops.misc import convert_p
from funcgrad.optimize.fusion import CONST, IN, Program, fused_p

#: Threads per block and the most blocks of a launch, on a GPU and under the simulator
#: (where every thread is a Python thread: few threads, each looping over many elements).
#: 2048 blocks of 256 threads fill any current GPU (an H100 holds ~1,000 such blocks at once).
BLOCK = {False: 256, True: 32}
MAX_BLOCKS = {False: 2048, True: 2}

# -- how the CUDA target spells the table's functions -----------------------------------------
_UNARY = ("expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan",
          "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
          "floor", "ceil", "exp", "tanh", "isnan", "isfinite")

#: Name in the generated source -> the function numba.cuda compiles it to on a GPU.  Under
#: the simulator each name is NumPy's function of the same name (``rintf``: ``np.rint``).
GPU_FUNCTIONS = {
    **{name: f"math.{name}" for name in _UNARY},
    **{name: f"math.a{name[3:]}" for name in _UNARY if name.startswith("arc")},
    "cbrt": "cuda.cbrt", "arctan2": "math.atan2", "hypot": "math.hypot",
    "rint": "libdevice.rint", "rintf": "libdevice.rintf",
}

#: The rows of :data:`SCALAR_TABLE` written differently for CUDA: ``{primitive: (template, by_dtype)}``.
_CUDA_TEMPLATES = {
    **{getattr(ew, f"{name}_p"): (f"{name}({{0}})", ()) for name in _UNARY},
    ew.tanh_p: ("tanh({0})", (("float32", "tanh_float32({0})"),)),
    ew.arctan2_p: ("arctan2({0}, {1})", ()),
    ew.hypot_p: ("hypot({0}, {1})", ()),
    ew.logaddexp_p: ("logaddexp({0}, {1})", ()),
    ew.round_p: ("rint({0})", (("float32", "rintf({0})"),)),
    # NumPy's sign: +-1, zero for both zeros (x - x), NaN for NaN.
    ew.sign_p: ("(1.0 if {0} > 0 else (-1.0 if {0} < 0 else {0} - {0}))", ()),
}
CUDA_TABLE = table.with_templates(SCALAR_TABLE, _CUDA_TEMPLATES)

_DEVICE = "@cuda.jit(device=True)"

#: Device functions the templates call: name -> (source, the functions it calls).
HELPERS = {
    # NumPy's maximum and minimum: NaN propagates from either side (as _numba_kernels').
    "maximum": (f"{_DEVICE}\ndef maximum(x, y):\n    return x if (x >= y or x != x) else y\n", ()),
    "minimum": (f"{_DEVICE}\ndef minimum(x, y):\n    return x if (x <= y or x != x) else y\n", ()),
    # NumPy's npy_logaddexp: exact for equal arguments (infinities included), NaN stays NaN.
    "logaddexp": (f"""{_DEVICE}
def logaddexp(x, y):
    if x == y:
        return x + {math.log(2.0)!r}
    d = x - y
    if d > 0:
        return x + log1p(exp(-d))
    if d <= 0:
        return y + log1p(exp(d))
    return d
""", ("log1p", "exp")),
}


def _helper_source(name: str, simulated: bool) -> tuple[str, tuple]:
    if name == "tanh_float32":
        return table.tanh_float32_source(fma=not simulated, decorator=_DEVICE), ()
    return HELPERS[name]


def _function(name: str, simulated: bool) -> str:
    """What the generated source binds ``name`` to: numba.cuda's function, or NumPy's."""
    if simulated:
        return "np.rint" if name == "rintf" else f"np.{name}"
    return GPU_FUNCTIONS[name]


# -- source generation ------------------------------------------------------------------------
class Patterns(NamedTuple):
    """How the kernel reads each operand: ``"s"`` a scalar argument, ``"1"`` a one-element
    array read once, ``"c"`` a flat C-contiguous array, ``"a"`` a strided array of ``rank``."""

    kinds: tuple[str, ...]
    rank: int


def kernel_source(typed: Typed, output: int, patterns: Patterns, simulated: bool) -> str:
    """Python source of ``kernel(out, in0, in1, ...)``: ``typed``'s body per element of ``out``.

    ``out`` is the flat (1-D, C-contiguous) output; ``output`` the temporary it receives.

    Examples:
        >>> t = Typed(("t0 = (x0 + x1)",), np.dtype(np.float64), 0.0)
        >>> print(kernel_source(t, 0, Patterns(("c", "s"), 1), simulated=True))  # doctest: +ELLIPSIS
        # generated by funcgrad ...
        def kernel(out, in0, in1):
            x1 = in1
            for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
                x0 = in0[i]
                t0 = (x0 + x1)
                out[i] = t0
        <BLANKLINE>
    """
    kinds, rank = patterns
    code = "\n".join(typed.body)
    helpers, functions, seen = [], set(), set()
    pending = [name for name in (*HELPERS, "tanh_float32") if f"{name}(" in code]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            source, calls = _helper_source(name, simulated)
            helpers.append(source)
            functions.update(calls)
    functions.update(n for n in GPU_FUNCTIONS if re.search(rf"(?<![\w.]){n}\(", code))
    lines = [f"# generated by funcgrad ({'simulator' if simulated else 'GPU'}): {kinds} rank {rank}",
             "import math", "import numpy as np", "from numba import cuda"]
    if not simulated and any(GPU_FUNCTIONS[f].startswith("libdevice.") for f in functions):
        lines.append("from numba.cuda import libdevice")
    for f in sorted(functions):
        spelling = _function(f, simulated)
        if spelling.startswith("cuda."):  # numba.cuda types these only as attributes of cuda
            lines.append(f"{_DEVICE}\ndef {f}(x):\n    return {spelling}(x)\n")
        else:
            lines.append(f"{f} = {spelling}")
    lines += ["", *helpers]
    lines.append(f"def kernel(out, {', '.join(f'in{k}' for k in range(len(kinds)))}):")
    ind = "    "
    lines += [f"{ind}x{k} = in{k}" if p == "s" else f"{ind}x{k} = in{k}[0]"
              for k, p in enumerate(kinds) if p in "s1"]
    strided = [k for k, p in enumerate(kinds) if p == "a"]
    if strided:  # the loop bounds of the collapsed axes, from the first strided operand
        lines += [f"{ind}n{d} = in{strided[0]}.shape[{d}]" for d in range(1, rank)]
    lines.append(f"{ind}for i in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):")
    ind += "    "
    if strided:
        lines.append(f"{ind}r = i")
        for d in range(rank - 1, 0, -1):
            lines += [f"{ind}i{d} = r % n{d}", f"{ind}r = r // n{d}"]
        lines.append(f"{ind}i0 = r")
    index = ", ".join(f"i{d}" for d in range(rank))
    lines += [f"{ind}x{k} = in{k}[i]" if p == "c" else f"{ind}x{k} = in{k}[{index}]"
              for k, p in enumerate(kinds) if p in "ca"]
    lines += [ind + line for line in typed.body]
    lines.append(f"{ind}out[i] = t{output}")
    return "\n".join(lines) + "\n"


# -- layouts ------------------------------------------------------------------------------------
def _collapse(shape: tuple, strides: list) -> tuple[list, list]:
    """Drop size-1 axes and merge neighbours that are one axis for every operand.

    ``strides[k]`` are operand ``k``'s byte strides over ``shape`` (zero on broadcast
    axes).  Returns the collapsed shape and strides; the C order of the elements is kept.
    """
    out_shape: list = []
    out_strides: list = [[] for _ in strides]
    for d, n in enumerate(shape):
        if n == 1:
            continue
        if out_shape and all(s[-1] == st[d] * n for s, st in zip(out_strides, strides)):
            out_shape[-1] *= n
            for s, st in zip(out_strides, strides):
                s[-1] = st[d]
        else:
            out_shape.append(n)
            for s, st in zip(out_strides, strides):
                s.append(st[d])
    return out_shape, out_strides


class Plan(NamedTuple):
    """How to launch one kernel on operands of given shapes, strides and dtypes."""

    shape: tuple     # the result's shape
    dtype: np.dtype  # the result's dtype
    kernel: Any      # the numba.cuda kernel; None: the result is empty
    views: tuple     # per operand: None (passed as is) or (shape, strides) of its view


_lock = threading.RLock()
_kernels: dict = {}  # (key, operand types, patterns) -> numba.cuda kernel
_plans: dict = {}    # (key, operand layouts) -> Plan, or None: run on the host
_MAX_PLANS = 4096


def _signature(x) -> Any:
    """What a plan depends on for operand ``x``; ``None``: no kernel takes it (run on the host)."""
    if dev.is_device_array(x):
        if any(s < 0 for s in x.strides):
            return None  # (a view's memory begins at its first element: see _cuda_arrays.view)
        return (x.shape, tuple(x.strides), np.dtype(x.dtype))
    if isinstance(x, np.generic):
        return np.dtype(x.dtype)
    if type(x) is float or type(x) is bool:
        return type(x)
    return None  # a complex, a host array (Python ints were made constants: _with_constants)


def _typing_entry(sig) -> Any:
    """The entry of ``type_program``'s dtypes for an operand of signature ``sig``."""
    if sig is float:
        return 0.0  # a weak Python float
    if sig is bool:
        return np.dtype(bool)
    return sig[2] if isinstance(sig, tuple) else sig


def _make_plan(key, typer: Callable, sigs: tuple) -> Plan | None:
    """The plan for operands of signatures ``sigs``; ``typer(dtypes)`` gives (Typed, output)."""
    try:
        typed, output = typer(tuple(_typing_entry(s) for s in sigs))
        shape = np.broadcast_shapes(*[s[0] if isinstance(s, tuple) else () for s in sigs])
    except (Unsupported, ValueError):
        return None  # the host runs it (and raises NumPy's error for shapes that do not broadcast)
    if math.prod(shape) == 0:
        return Plan(shape, typed.out_dtype, None, (None,) * len(sigs))
    arrays = [k for k, s in enumerate(sigs) if isinstance(s, tuple)]
    strides = []
    for k in arrays:
        x_shape, x_strides, _ = sigs[k]
        pad = len(shape) - len(x_shape)
        strides.append([0] * pad + [0 if n == 1 else s for n, s in zip(x_shape, x_strides)])
    rank_shape, rank_strides = _collapse(shape, strides)
    rank = len(rank_shape)
    kinds = ["s"] * len(sigs)
    views: list = [None] * len(sigs)
    one = [all(s == 0 for s in st) for st in rank_strides]
    flat = rank == 1 and all(o or st[0] == sigs[k][2].itemsize
                             for k, o, st in zip(arrays, one, rank_strides))
    for k, o, st in zip(arrays, one, rank_strides):
        itemsize = sigs[k][2].itemsize
        if o:
            kinds[k], views[k] = "1", ((1,), (itemsize,))
        elif flat:
            kinds[k], views[k] = "c", (tuple(rank_shape), (itemsize,))
        else:
            kinds[k], views[k] = "a", (tuple(rank_shape), tuple(st))
        if views[k] == sigs[k][:2]:
            views[k] = None  # already laid out so: passed as is (no view to build per call)
    patterns = Patterns(tuple(kinds), rank if "a" in kinds else 1)
    simulated = dev.simulated()
    kernel_key = (key, tuple(_typing_entry(s) for s in sigs), patterns, simulated)
    with _lock:
        kernel = _kernels.get(kernel_key)
        if kernel is None:
            kernel = _kernels[kernel_key] = _compile(
                kernel_source(typed, output, patterns, simulated), str(key))
    return Plan(shape, typed.out_dtype, kernel, tuple(views))


def _compile(source: str, name: str):
    """``numba.cuda.jit`` of the generated ``source``'s ``kernel`` (compiled on its first launch)."""
    namespace: dict = {}
    # Running generated code is the point; the source is built from our own tables.
    exec(compile(source, f"<funcgrad cuda {name[:60]}>", "exec"), namespace)  # noqa: S102
    return dev.cuda().jit(namespace["kernel"])


def run(key, typer: Callable, operands, host: Callable):
    """Launch the kernel of ``key`` on ``operands``, or ``host()`` when no kernel applies.

    ``typer(dtypes)`` types the computation (see :func:`_make_plan`); the result is a new
    C-contiguous device array of NumPy's result shape and dtype (0-d for a 0-d result).
    """
    sigs = tuple(_signature(x) for x in operands)
    if any(s is None for s in sigs):  # (not "None in sigs": np.dtype("float64") == None)
        return host()
    plan_key = (key, sigs)
    plan = _plans.get(plan_key, False)
    if plan is False:
        with _lock:
            if len(_plans) >= _MAX_PLANS:
                _plans.clear()
            plan = _plans[plan_key] = _make_plan(key, typer, sigs)
    if plan is None:
        return host()
    out = dev.empty(plan.shape, plan.dtype)
    size = math.prod(plan.shape)
    if plan.kernel is None:
        return out
    args = [x if view is None else dev.view(x, *view) for x, view in zip(operands, plan.views)]
    flat = out if out.ndim == 1 else out.reshape(size)  # a writable view (dev.view's are read-only)
    simulated = dev.simulated()
    block = BLOCK[simulated]
    blocks = min(-(-size // block), MAX_BLOCKS[simulated])
    plan.kernel[blocks, block](flat, *args)
    return out


# -- the kernels ---------------------------------------------------------------------------------
_typed: dict = {}  # (program, dtypes) -> (Typed, output)


def _program_typer(program: Program) -> Callable:
    def typer(dtypes):
        key = (program, dtypes)
        got = _typed.get(key)
        if got is None:
            typed = table.type_program(program, dtypes, CUDA_TABLE)
            got = _typed[key] = (typed, program.output)
        return got
    return typer


_bound: dict = {}  # (program, ((operand index, Python int), ...)) -> (program, kept operands)


def _with_constants(program: Program, operands: tuple) -> tuple[Program, tuple]:
    """``program`` with its Python-int operands written in as constants (weak, as in NumPy).

    A Python int is typed by the loop that reads it and must fit that loop's dtype
    (NumPy raises otherwise: such a Program runs on the host and raises there), so it
    is part of the kernel, like the graph's own constants; there are few such values.
    """
    ints = tuple((k, x) for k, x in enumerate(operands) if type(x) is int)
    if not ints:
        return program, operands
    key = (program, ints)
    bound = _bound.get(key)
    if bound is None:
        values = dict(ints)
        keep = tuple(k for k in range(len(operands)) if k not in values)
        number = {k: j for j, k in enumerate(keep)}
        instructions = [(prim, tuple(((CONST, values[v]) if v in values else (IN, number[v]))
                                     if tag == IN else (tag, v) for tag, v in ops))
                        for prim, ops in program.instructions]
        with _lock:
            if len(_bound) >= _MAX_PLANS:
                _bound.clear()
            bound = _bound[key] = (Program(instructions, program.output, len(keep)), keep)
    program, keep = bound
    return program, tuple(operands[k] for k in keep)


def fused_kernel(*operands, program: Program):
    """The CUDA kernel of ``fused_p``: ``program`` on device arrays of any layout, or scalars.

    Examples:
        >>> import numpy as np, funcgrad.backends._cuda_arrays as dev   # doctest: +SKIP
        >>> from funcgrad.ops.elementwise import sin_p
        >>> p = Program(((sin_p, (("in", 0),)),), 0, 1)                  # doctest: +SKIP
        >>> dev.to_host(fused_kernel(dev.to_device(np.zeros(3)), program=p))  # doctest: +SKIP
        array([0., 0., 0.])
    """
    host = lambda: dev.host_call(fused_p, *operands, program=program)
    program, operands = _with_constants(program, operands)
    return run(program, _program_typer(program), operands, host)


def _arity(prim) -> int:
    entry = SCALAR_TABLE[prim]
    return len(set(re.findall(r"{(\d)}", entry.template))) - len(entry.prefix)


def single_kernel(prim) -> Callable:
    """The kernel of one elementwise primitive: a one-instruction Program, built once."""
    program = Program(((prim, tuple((IN, k) for k in range(_arity(prim)))),), 0, _arity(prim))
    typer = _program_typer(program)

    def kernel(*operands, **params):
        host = lambda: dev.host_call(prim, *operands, **params)
        if params or len(operands) != program.num_inputs:
            return host()  # (round with decimals, ...)
        bound, args = _with_constants(program, operands)
        return run(bound, typer if bound is program else _program_typer(bound), args, host)
    kernel.__name__ = kernel.__qualname__ = f"{prim.name}_kernel"
    kernel.__doc__ = f"The CUDA kernel of ``{prim.name}``: the one-instruction Program {program!r}."
    return kernel


def convert_kernel(x, dtype):
    """``x.astype(dtype)`` on the device: a cast per element, as NumPy's (float to int truncates;
    NaN and out-of-range values are undefined there, as in NumPy)."""
    want = np.dtype(dtype)

    def typer(dtypes):
        if type(dtypes[0]) is float or dtypes[0] not in SUPPORTED or want not in SUPPORTED:
            raise Unsupported(f"convert {dtypes[0]} to {want}")
        return Typed((f"t0 = {table._cast('x0', None, want)}",), want, 0.0), 0
    return run(("convert", want), typer, (x,), lambda: dev.host_call(convert_p, x, dtype=dtype))


def contiguous(x):
    """A new C-contiguous device array with the elements of device array ``x`` (any strides).

    The identity elementwise kernel: any dtype Numba reads (complex and float16 too).
    """
    def typer(dtypes):
        return Typed(("t0 = x0",), np.dtype(dtypes[0]), 0.0), 0
    return run("copy", typer, (x,), lambda: dev.to_device(dev.to_host(x)))


KERNELS: dict = {
    fused_p: fused_kernel,
    convert_p: convert_kernel,
    **{prim: single_kernel(prim) for prim in SCALAR_TABLE},
}
