"""Compile a fused elementwise :class:`~funcgrad.optimize.fusion.Program` into one Numba loop.

The kernel for a Program is Python source generated from a table of scalar
expressions (one row per elementwise primitive, shared with the CUDA backend:
:mod:`funcgrad.backends._elementwise_table`), compiled with ``@njit``: one
loop over the output, every instruction evaluated per element in registers,
no temporaries.  Each operand is cast to the dtypes of the loop NumPy itself
would run (``ufunc.resolve_dtypes``, with weak Python-scalar constants), and
each result to NumPy's result dtype, so float32 programs stay float32 and a
constant such as ``0.1`` compared with float32 data is ``float32(0.1)``, as in
NumPy.  A row may give its own expression for one loop dtype: float32 ``tanh``
is a rational approximation (:data:`HELPERS`), as in XLA, because libm's
``tanhf`` is a scalar call that no loop vectorises.  A Program with a primitive
the table lacks, or a dtype the kernels do not handle (complex, float16), runs
the NumPy reference instead.

Two loop shapes are generated:

* ``flat``: every array input has the output's shape and is C-contiguous (the
  common case): one 1-D loop over ``C`` arrays, which LLVM vectorises; above
  :data:`PARALLEL_MIN_SIZE` elements (on enough cores) a ``prange`` variant splits it;
* ``strided``: anything else (broadcast, transposed, sliced inputs): one loop
  per output axis over any-layout arrays, each input indexed with ``0`` on its
  broadcast (size-1) axes and with only its trailing loop indices when it has
  fewer axes.

Inputs of size 1 are passed as scalars in both.  Kernels are cached per
(Program, input dtypes, loop shape, input patterns) in memory, and the source is
written to a module under the cache directory so Numba's disk cache holds the
machine code across processes (in memory only when no directory is writable).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import pathlib
import sys
import threading
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np
from numba import types

from funcgrad.backends import _elementwise_table as _table
from funcgrad.backends import _numba_cache, _numba_kernels, _numba_math
from funcgrad.backends._elementwise_table import (  # noqa: F401  (names other modules import from here)
    SCALAR_TABLE,
    TANH32_CLAMP,
    TANH32_DEN,
    TANH32_NUM,
    TANH32_TINY,
    Scalar,
    Typed,
    Unsupported,
    _cast,
    _literal,
    tanh_float32_source,
)
from funcgrad.backends._elementwise_table import SUPPORTED as _SUPPORTED  # noqa: F401
from funcgrad.backends._numba_kernels import array_type, njit
from funcgrad.ops import elementwise as ew
from funcgrad.optimize.fusion import Program, fused_p

#: Outputs of at least PARALLEL_MIN_SIZE elements use the multi-threaded
#: (``prange``) flat loop when Numba has at least PARALLEL_MIN_THREADS threads.
#: Measured on the 2-core CI machine, idle (``benchmarks/numba_kernels.py``, float64,
#: serial vs parallel, microseconds):
#:
#:   size   (x*2+y)*x - y/3     tanh(x*2+y)        exp(x-y)*y
#:   2e5        74 /    78       3578 /  1862       1031 /   639
#:   1e6       653 /   340      18933 /  9135       5555 /  3095
#:   4e6      3732 /  3237      73800 / 37654      22251 / 19999
#:
#: Compute-bound programs gain ~2x from 2e5 elements, memory-bound ones only around
#: 1e6 (above, memory bandwidth is the limit).  When another process keeps a core
#: busy, a split loop waits for its descheduled half (seen: 0.65 ms -> 8 ms), so the
#: threshold is the conservative 1e6; ``NUMBA_NUM_THREADS=1`` turns it off.
PARALLEL_MIN_SIZE = 1_000_000
PARALLEL_MIN_THREADS = 2

#: When is one loop slower than NumPy's ufuncs?  NumPy runs some float32 (and a
#: few float64) functions with SIMD code that Numba's scalar libm calls do not
#: match.  The extra nanoseconds per element the loop spends on each, from
#: ``python benchmarks/numba_kernels.py --ops`` (1e5 elements; e.g. float32 sin:
#: NumPy 1.7 ns, loop 7.6 ns; float64 tanh 13.5 vs 16.3; every function not listed
#: is within noise of NumPy, or faster; float32 tanh, 2.7 ns in NumPy, was 16 ns as
#: a libm call and is now ~1 ns, see :func:`tanh_float32_source`):
LOOP_PENALTY_NS = {
    (ew.sin_p, "float32"): 5.0, (ew.cos_p, "float32"): 5.0,
    (ew.exp_p, "float32"): 1.7, (ew.log_p, "float32"): 1.9, (ew.log1p_p, "float32"): 2.0,
    (ew.power_p, "float32"): 1.5, (ew.tanh_p, "float64"): 0.6,
}
# (float64 tanh was 3.0 as libm's call; :func:`~funcgrad.backends._numba_math.tanh_float64_source`
# takes 2.3 ns to NumPy's 1.7 on an AVX-512 machine, 2026-12-08; float64 exp: 1.7 ns to 0.9.)
#: ... against what fusion saves for each instruction after the first: one NumPy
#: call (its overhead) and one pass over a temporary (per element, for an 8-byte
#: element; a float32 temporary saves half as much).  A Program whose penalty
#: exceeds its saving runs the NumPy reference.  (Measured on float32 chains at 1e6
#: elements: ``1/(1+exp(-x))`` takes 2.1 ms in NumPy and 3.1 ms as one loop, which a
#: size-blind temporary saving got the wrong way round.)
NUMPY_CALL_NS = 1000.0
TEMPORARY_NS = 0.5


# -- scalar functions for one dtype -------------------------------------------------------
def cpu_has_fma() -> bool:
    """Whether Numba compiles for a CPU with fused multiply-add (x86's ``+fma``).

    Numba's own choice of target features: ``NUMBA_CPU_FEATURES`` (``""`` for
    ``NUMBA_CPU_NAME=generic``), else the host's.  Other architectures answer
    ``False``: their kernels round every multiply and add.
    """
    from numba.core import codegen

    features = numba.config.CPU_FEATURES
    if features is None:
        features = codegen.get_host_cpu_features()
    return "+fma" in features.split(",")


#: Scalar functions that templates call: name -> source.  A generated module holds
#: the source of each one its kernel calls, so its file (and Numba's disk cache of
#: it) changes when the function does.
HELPERS = {"tanh_float32": tanh_float32_source(cpu_has_fma()),
           "exp_float64": _numba_math.exp_float64_source(cpu_has_fma()),
           "tanh_float64": _numba_math.tanh_float64_source(cpu_has_fma())}


def type_program(program: Program, in_dtypes: tuple) -> Typed:
    """The scalar code of ``program`` for inputs of ``in_dtypes`` in this backend's loops
    (:func:`funcgrad.backends._elementwise_table.type_program` with :data:`LOOP_PENALTY_NS`);
    raises :class:`Unsupported`."""
    return _table.type_program(program, in_dtypes, SCALAR_TABLE, LOOP_PENALTY_NS)


def pays(typed: Typed, size: int) -> bool:
    """Whether one loop over ``size`` elements beats NumPy's instruction-by-instruction run."""
    saving = ((len(typed.body) - 1) * NUMPY_CALL_NS
              + TEMPORARY_NS * typed.temp_bytes / 8 * size)
    return typed.penalty_ns * size <= saving


# -- source generation ------------------------------------------------------------------
def kernel_source(program: Program, typed: Typed, patterns: tuple, rank: int,
                  parallel: bool = False) -> str:
    """Python source of ``kernel(out, in0, in1, ...)`` computing ``program`` into ``out``.

    ``patterns[k]`` says how input ``k`` is read: ``None``, a scalar; an int ``r``,
    a C-contiguous array of rank ``r`` with the output's shape (the flat loop, used
    when no input is a tuple); a tuple, one bool per axis of the input (``True``:
    a size-1 axis, read at index 0), read with the trailing ``len(pattern)`` of the
    ``rank`` loop indices.
    """
    flat = not any(isinstance(p, tuple) for p in patterns)
    names = ", ".join(f"in{k}" for k in range(len(patterns)))
    lines = [f"# generated by funcgrad for {program!r}"[:2000],
             f"# helpers: {_HELPERS_STAMP}",  # Numba's cache does not see imported code change
             "import numpy as np", "import numba",
             "from funcgrad.backends._numba_kernels import maximum, minimum", ""]
    lines += [source for name, source in HELPERS.items()
              if any(f"{name}(" in line for line in typed.body)]
    lines.append(f"def kernel(out, {names}):")
    ind = "    "
    if flat:
        lines.append(f"{ind}o = out.reshape(out.size)")
        lines += [f"{ind}a{k} = in{k}.reshape(in{k}.size)"
                  for k, p in enumerate(patterns) if p is not None]
        lines.append(f"{ind}for i in {'numba.prange' if parallel else 'range'}(o.shape[0]):")
        ind += "    "
        target = "o[i]"
    else:
        for d in range(rank):
            lines.append(f"{ind}for i{d} in range(out.shape[{d}]):")
            ind += "    "
        target = f"out[{', '.join(f'i{d}' for d in range(rank))}]"
    for k, pat in enumerate(patterns):
        if pat is None:
            lines.append(f"{ind}x{k} = in{k}")
        elif flat:
            lines.append(f"{ind}x{k} = a{k}[i]")
        else:
            idx = ["0" if b else f"i{d}" for d, b in zip(range(rank - len(pat), rank), pat)]
            lines.append(f"{ind}x{k} = in{k}[{', '.join(idx)}]")
    lines += [ind + line for line in typed.body]
    lines.append(f"{ind}{target} = t{program.output}")
    return "\n".join(lines) + "\n"


#: A stamp of the helper module the generated kernels import (``maximum``, ``minimum``):
#: it is part of the generated source, so editing the helpers changes every kernel's
#: file name and no stale machine code is loaded from the disk cache.
_HELPERS_STAMP = hashlib.sha1(pathlib.Path(_numba_kernels.__file__).read_bytes()).hexdigest()[:16]


def _load(source: str, parallel: bool, signature):
    """Compile ``source``'s ``kernel``: from a module file (disk-cached by Numba) when possible.

    ``signature`` ``None`` compiles lazily, for the types of the first call's arguments."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:24]
    directory = _numba_cache.kernel_source_dir()
    func = None
    if directory is not None:
        path = os.path.join(directory, f"fused_{digest}.py")
        name = f"funcgrad_fused_{digest}"
        try:
            if not os.path.exists(path):
                tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
                with open(tmp, "w") as f:
                    f.write(source)
                os.replace(tmp, path)  # atomic: a concurrent process sees all of it or nothing
            module = sys.modules.get(name)
            if module is None:
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise OSError(f"cannot load {path}")
                module = importlib.util.module_from_spec(spec)
                # Numba's disk cache finds a function's globals by importing its module by name.
                sys.modules[name] = module
                spec.loader.exec_module(module)
            func = module.kernel
        except OSError:
            sys.modules.pop(name, None)
    if func is None:  # no writable directory: an in-memory kernel (compiled once per process)
        namespace: dict = {}
        # Running generated code is the point; the source is built from our own table.
        exec(compile(source, f"<funcgrad fused {digest}>", "exec"), namespace)  # noqa: S102
        func = namespace["kernel"]
    # No signature: compiled for the argument types of the first call (and cached by them).
    return njit(func, None if signature is None else [signature], parallel=parallel)


def _signature(out_dtype, rank: int, in_dtypes, patterns, contiguous=None):
    """The kernel's Numba signature; ``contiguous[k]`` says a strided-loop input is C-contiguous.

    Typing such an input as a C array tells LLVM that its last axis has unit stride,
    so the innermost loop vectorises (a row-broadcast bias: 13 instead of 18 us at 64x256).
    """
    args = [array_type(out_dtype, rank, "C")]
    for k, (dt, pat) in enumerate(zip(in_dtypes, patterns)):
        if pat is None:
            args.append(numba.from_dtype(dt))
        elif isinstance(pat, int):
            args.append(array_type(dt, pat, "C", readonly=True))
        else:
            layout = "C" if contiguous is not None and contiguous[k] else "A"
            args.append(array_type(dt, len(pat), layout, readonly=True))
    return types.void(*args)


# -- the kernel -------------------------------------------------------------------------
class Plan(NamedTuple):
    """How to run one Program on inputs of given shapes, strides and dtypes."""

    kernel: Callable | None  # None: the output is empty
    shape: tuple             # the output array's shape ((1,) for a 0-d result)
    dtype: np.dtype
    scalars: tuple           # (input index, 0-d?) of the inputs passed as scalars
    zero_d: bool             # the result is 0-d: return a NumPy scalar, like NumPy


_typed: dict = {}    # (program, dtypes) -> Typed, or None when unsupported
_kernels: dict = {}  # (program, dtypes, patterns, rank, parallel, contiguous) -> compiled kernel
_plans: dict = {}    # (program, (shape, strides, dtype) per input) -> Plan, or None: use NumPy
_MAX_PLANS = 4096
_lock = threading.RLock()


def typed_for(program: Program, dtypes: tuple) -> Typed | None:
    """``program`` typed for ``dtypes``, or ``None`` when it must run the NumPy reference."""
    key = (program, dtypes)
    if key not in _typed:
        try:
            _typed[key] = type_program(program, dtypes)
        except Unsupported:
            _typed[key] = None
    return _typed[key]


def compiled_kernel(program: Program, typed: Typed, dtypes, patterns, rank, parallel=False,
                    contiguous=None):
    """The compiled kernel for one loop shape (compiled, or loaded from disk, once)."""
    key = (program, dtypes, patterns, rank, parallel, contiguous)
    k = _kernels.get(key)
    if k is None:
        with _lock:
            k = _kernels.get(key)
            if k is None:
                source = kernel_source(program, typed, patterns, rank, parallel)
                k = _load(source, parallel,
                          _signature(typed.out_dtype, rank, dtypes, patterns, contiguous))
                _kernels[key] = k
    return k


def make_plan(program: Program, inputs) -> Plan | None:
    """Choose the loop shape for these inputs and compile its kernel; ``None``: run NumPy."""
    if not all(type(x) is np.ndarray or isinstance(x, np.generic) for x in inputs):
        return None  # an ndarray subclass: NumPy knows what it means
    dtypes = tuple(np.dtype(x.dtype) for x in inputs)
    typed = typed_for(program, dtypes)
    if typed is None:
        return None
    shape = np.broadcast_shapes(*[np.shape(x) for x in inputs])
    size = math.prod(shape)
    if size == 0:
        return Plan(None, shape, typed.out_dtype, (), False)
    if not pays(typed, size):
        return None
    sizes = [math.prod(np.shape(x)) for x in inputs]
    scalars = tuple((k, np.ndim(x) == 0) for k, (x, n) in enumerate(zip(inputs, sizes)) if n == 1)
    flat = all(n == 1 or (x.shape == shape and x.flags.c_contiguous)
               for x, n in zip(inputs, sizes))
    contiguous = None
    if flat:
        patterns = tuple(None if n == 1 else x.ndim for x, n in zip(inputs, sizes))
        rank = max(len(shape), 1)
    else:
        patterns = tuple(None if n == 1 else tuple(d == 1 for d in x.shape)
                         for x, n in zip(inputs, sizes))
        contiguous = tuple(n != 1 and x.flags.c_contiguous for x, n in zip(inputs, sizes))
        rank = len(shape)
    threads = getattr(numba.config, "NUMBA_NUM_THREADS", 1)
    parallel = flat and size >= PARALLEL_MIN_SIZE and threads >= PARALLEL_MIN_THREADS
    kernel = compiled_kernel(program, typed, dtypes, patterns, rank, parallel, contiguous)
    return Plan(kernel, shape or (1,), typed.out_dtype, scalars, not shape)


def fused_kernel(*inputs, program: Program):
    """The numba kernel of ``fused_p``: same signature and result as its NumPy reference."""
    return _run_plan(_lookup_plan(program, inputs), inputs, program)


def _lookup_plan(program: Program, inputs) -> Plan | None:
    """The cached plan for these inputs' shapes, strides and dtypes (``None``: run NumPy)."""
    try:
        key = (program,) + tuple([(x.shape, x.strides, x.dtype) for x in inputs])
    except AttributeError:  # a Python scalar operand: leave its weak typing to NumPy
        return None
    try:
        return _plans[key]
    except KeyError:
        with _lock:
            if len(_plans) >= _MAX_PLANS:
                _plans.clear()
            plan = _plans[key] = make_plan(program, inputs)
        return plan


def _fused_for_node(node, layout) -> Callable:
    """``fused_kernel`` for one node of an executable: its plan is looked up once per
    input layout (see :class:`~funcgrad._core.interpret.InputLayout`), not per call."""
    program = node.params["program"]
    memo = [(0, None)]  # (epoch, plan), replaced as one tuple: threads never see half of it
    layout.used = True

    def kernel(*inputs, program=program):
        epoch = layout.epoch
        seen, plan = memo[0]
        if not epoch or seen != epoch:
            plan = _lookup_plan(program, inputs)
            memo[0] = (epoch, plan)
        return _run_plan(plan, inputs, program)
    return kernel


fused_kernel.for_node = _fused_for_node


def _run_plan(plan: Plan | None, inputs, program: Program):
    if plan is None:
        return fused_p.impl(*inputs, program=program)
    out = np.empty(plan.shape, plan.dtype)
    if plan.kernel is None:
        return out
    if plan.scalars:
        args = list(inputs)
        for k, zero_d in plan.scalars:
            args[k] = args[k][()] if zero_d else args[k].reshape(-1)[0]
        plan.kernel(out, *args)
    else:
        plan.kernel(out, *inputs)
    return out[0] if plan.zero_d else out
