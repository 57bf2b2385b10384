"""A loop whose body mixes matmuls, slices and elementwise code, as one Numba function.

:mod:`funcgrad.backends._numba_loops` runs an elementwise body as one flat loop kernel.
A body with a matmul, a slice or a reduction (an LSTM cell and its VJP) would otherwise
run as its compiled Executable once per step, paying a Python call and a Numba dispatch
for each of its kernels every step.  Here the whole loop becomes one generated
``@njit`` function: the step loop, and inside it one statement (or loop nest) per body
operation, on arrays whose shapes are the body's static shapes:

==================  ==========================================================
operation           generated code
==================  ==========================================================
``fused``, lone     loop nests over the result writing each element from the
elementwise ops     scalar code of :mod:`~funcgrad.backends._numba_fused` (NumPy's
                    loop dtypes, broadcasting by index); the operations of one
                    shape share loop nests (:mod:`~funcgrad.backends._numba_groups`)
``broadcast_to``,   the same loop nest, copying (casting)
``convert``
``matmul``          ``np.dot`` (BLAS) for float 1-D/2-D operands (a strided view
                    copied first; a ``.T`` passed as it is)
``getitem``         basic indexing (slices, integers): a view (read at an offset
                    by the loop nests)
``unslice``         zeros, then a slice assignment
``transpose``,      ``.T`` or ``np.transpose`` (a view); ``reshape`` of a contiguous copy
``reshape``
``sum``             a loop nest adding in the input's order
==================  ==========================================================

Anything else (index arrays, other reductions, linear algebra) raises
:class:`~funcgrad.backends._numba_fused.Unsupported` and the body runs step by step.

Numbers: elementwise code is the fused kernels' own; a matmul is BLAS as in NumPy
(Numba links SciPy's BLAS, which may round the last bit differently from NumPy's); a
sum over trailing axes adds in order where NumPy adds pairwise (a few ulp apart).
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
from numba.core.errors import NumbaError

from funcgrad._core.graph import CONSTANT, Graph
from funcgrad.backends._numba_fused import (
    _HELPERS_STAMP,
    _SUPPORTED,
    HELPERS,
    SCALAR_TABLE,
    Unsupported,
    _cast,
    _literal,
    type_program,
)
from funcgrad.backends._numba_groups import Groups, groupable, view_parts
from funcgrad.ops.indexing import gather_p, unslice_p
from funcgrad.ops.linalg import matmul_p
from funcgrad.ops.misc import convert_p
from funcgrad.ops.reductions import sum_p
from funcgrad.ops.shape import broadcast_to_p, reshape_p, transpose_p
from funcgrad.optimize._rewrite import is_python_scalar
from funcgrad.optimize.fusion import CONST, IN, Program, fused_p

_NAME = re.compile(r"\b([xt])(\d+)\b")
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


class Emitter:
    """Source lines of one function body; names for the values of the graphs it lowers.

    Loop nests go into small module-level functions (:meth:`function`), one per distinct
    source, that the loop calls: Numba and LLVM compile a few small functions in a fraction
    of the time one large function takes (a 50-node body inlined into the loop: ~45 s).
    """

    def __init__(self):
        self.lines: list[str] = []
        self.depth = 1
        self.count = 0
        self.helpers: set[str] = set()
        self.functions: dict[tuple, str] = {}  # (params, body lines) -> function name

    def function(self, params: list[str], body: Emitter) -> str:
        """The name of a module-level ``@njit`` function ``name(*params)`` running ``body``."""
        key = (tuple(params), tuple(body.lines))
        name = self.functions.get(key)
        if name is None:
            name = self.functions[key] = f"f{len(self.functions)}"
        self.helpers |= body.helpers
        return name

    def function_sources(self) -> list[str]:
        out = []
        for (params, lines), name in self.functions.items():
            out += ['@numba.njit(cache=True, error_model="numpy")',
                    f"def {name}({', '.join(params)}):", *lines, ""]
        return out

    def __call__(self, *lines: str) -> None:
        self.lines += ["    " * self.depth + line for line in lines]

    def fresh(self, prefix: str = "v") -> str:
        self.count += 1
        return f"{prefix}{self.count}"


def _loops(emit: Emitter, array: str, ndim: int) -> list[str]:
    """Open one ``for`` per axis of ``array`` (close with ``emit.depth -= ndim``); the indices.

    The bounds are read from the array: literal bounds let LLVM unroll and specialise every
    loop nest, which made a 50-node body take ~45 s to compile instead of a few seconds.
    """
    idx = []
    for d in range(ndim):
        i = emit.fresh("i")
        emit(f"for {i} in range({array}.shape[{d}]):")
        emit.depth += 1
        idx.append(i)
    return idx


def _read(var: str, shape: tuple, idx: list[str]) -> str:
    """Element ``idx`` (of a result of ``len(idx)`` axes) of a value of ``shape``, broadcast."""
    if not shape:
        return var
    rank = len(idx)
    sub = ["0" if s == 1 else idx[rank - len(shape) + d] for d, s in enumerate(shape)]
    return f"{var}[{', '.join(sub)}]"


def _index_source(index: tuple, ndim: int) -> str:
    """Basic indexing (slices, integers, one Ellipsis) as source; raises Unsupported otherwise."""
    explicit = sum(k is not Ellipsis for k in index)
    parts = []
    for k in index:
        if k is Ellipsis:
            parts += [":"] * (ndim - explicit)
        elif isinstance(k, slice):
            parts.append(":".join("" if v is None else repr(int(v))
                                  for v in (k.start, k.stop, k.step)))
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            parts.append(repr(int(k)))
        else:
            raise Unsupported(f"index {k!r}")
    return ", ".join(parts) if parts else "..."


class Lowering:
    """Lower graphs into an :class:`Emitter`, one rule (:data:`_RULES`) per operation; the
    graph's constant arrays become extra arguments of the generated function.

    Elementwise operations on arrays are grouped into one loop nest per shape
    (:mod:`funcgrad.backends._numba_groups`).  ``layout`` says which emitted arrays are C- or
    F-contiguous (a matmul copies the others), ``views`` which are basic slices (read at an
    offset by the loop nests), ``targets`` where a value may be written directly (a scan's
    ``y[t]``; ``written`` collects the targets used).
    """

    def __init__(self, emit: Emitter, constants: list, targets: dict | None = None):
        self.emit = emit
        self.constants = constants  # (name, value) pairs: extra arguments of the function
        self.layout: dict[str, str] = {}
        self.views: dict[str, tuple] = {}  # name -> (array name, parts of _read_view)
        self.targets = dict(targets or {})  # node id -> an array expression to write it into
        self.written: set[str] = set()

    def graph(self, graph: Graph, inputs: list[str]) -> list[str]:
        """Emit ``graph``'s operations on the values named ``inputs``; the names of its outputs.

        The inputs are C-contiguous arrays or scalars (:func:`run_scan` makes them so)."""
        env = {id(n): v for n, v in zip(graph.inputs, inputs)}
        self.layout.update((v, "C") for n, v in zip(graph.inputs, inputs) if n.shape)
        groups = Groups(self, env, graph, _rule)
        for node in graph.nodes:
            if id(node) in env:
                continue
            if node.kind == CONSTANT:
                env[id(node)] = self.constant(node)
            elif groupable(node) and id(node) not in groups.scatter:
                groups.add(node)
            else:
                _rule(node)  # (raises Unsupported now, not when the node's turn comes)
                groups.other(node)
        groups.flush_all()
        return [env[id(n)] for n in graph.outputs]

    def constant(self, node) -> str:
        if is_python_scalar(node):
            if np.dtype(node.dtype) not in _SUPPORTED:
                raise Unsupported(f"a constant of dtype {node.dtype}")
            return _literal(node.value, np.dtype(node.dtype))
        value = np.asarray(node.value)
        if value.dtype not in _SUPPORTED:
            raise Unsupported(f"dtype {value.dtype}")
        name = f"e{len(self.constants)}"
        self.constants.append((name, value[()] if value.ndim == 0 else np.ascontiguousarray(value)))
        self.layout[name] = "C"
        return name

    def contiguous(self, name: str) -> str:
        """``name``, or a C-contiguous copy of it when it is a strided view (for BLAS)."""
        return name if self.layout.get(name) in ("C", "F") else f"np.ascontiguousarray({name})"


def _rule(node):
    """The lowering rule of ``node``; raises :class:`Unsupported` when there is none."""
    rule = _RULES.get(node.primitive)
    if rule is None:
        if node.primitive in SCALAR_TABLE and node.primitive.elementwise and not node.params:
            rule = _elementwise
        else:
            raise Unsupported(f"{node.name} in a loop body")
    if node.dtype not in _SUPPORTED:
        raise Unsupported(f"dtype {node.dtype}")
    return rule


def _elementwise(low: Lowering, node, args: list[str]) -> str:
    """A loop nest over the node's shape computing its Program (a fused node's, or the one
    instruction of a lone elementwise primitive, its Python-scalar inputs as constants)."""
    program = node.params["program"] if node.primitive is fused_p else None
    operands = list(node.inputs)
    if program is None:
        ops, ins = [], []
        for i, a in zip(operands, args):
            if is_python_scalar(i):
                ops.append((CONST, i.value))
            else:
                ops.append((IN, len(ins)))
                ins.append((a, i))
        program = Program(((node.primitive, tuple(ops)),), 0, len(ins))
    else:
        ins = list(zip(args, operands))
    dtypes = tuple(np.dtype(i.dtype) for _, i in ins)
    typed = type_program(program, dtypes)
    if typed.out_dtype != np.dtype(node.dtype):
        raise Unsupported(f"{node.name} computes {typed.out_dtype}, the graph says {node.dtype}")
    emit = low.emit
    shape = tuple(node.shape)
    f = Emitter()
    f.helpers.update(name for name in HELPERS if any(f"{name}(" in b for b in typed.body))
    for k, (_, i) in enumerate(ins):
        if not i.shape:
            f(f"x{k} = a{k}")
    idx = _loops(f, "out", len(shape))
    for k, (_, i) in enumerate(ins):
        if i.shape:
            f(f"x{k} = {_read(f'a{k}', tuple(i.shape), idx)}")
    f(*typed.body)
    f(f"out[{', '.join(idx)}] = t{program.output}" if shape else f"return t{program.output}")
    params = [f"a{k}" for k in range(len(ins))]
    return _call(emit, node, ["out"] + params if shape else params, f, [a for a, _ in ins])


def _call(emit: Emitter, node, params: list[str], f: Emitter, args: list[str]) -> str:
    """Call the function ``f`` computing ``node``: into a new array, or for its scalar value."""
    name, out, shape = emit.function(params, f), emit.fresh(), tuple(node.shape)
    if params[:1] == ["out"]:
        emit(f"{out} = np.{'zeros' if node.primitive is sum_p else 'empty'}("
             f"{shape!r}, np.{node.dtype.name})", f"{name}({', '.join([out] + args)})")
    else:
        emit(f"{out} = {name}({', '.join(args)})")
    return out


def _broadcast(low: Lowering, node, args: list[str]) -> str:
    (x,), f = node.inputs, Emitter()
    shape = tuple(node.shape)
    idx = _loops(f, "out", len(shape))
    f(f"out[{', '.join(idx)}] = {_read('x', tuple(x.shape), idx)}")
    return _call(low.emit, node, ["out", "x"], f, args)


def _convert(low: Lowering, node, args: list[str]) -> str:
    """``x.astype(dtype)``: a cast per element (as NumPy's: float to int truncates)."""
    (x,), want = node.inputs, np.dtype(node.dtype)
    if np.dtype(x.dtype) not in _SUPPORTED:
        raise Unsupported(f"convert from {x.dtype}")
    if not node.shape:
        out = low.emit.fresh()
        low.emit(f"{out} = {_cast(args[0], None, want)}")
        return out
    f = Emitter()
    idx = _loops(f, "out", len(node.shape))
    f(f"out[{', '.join(idx)}] = {_cast(_read('x', tuple(x.shape), idx), None, want)}")
    return _call(low.emit, node, ["out", "x"], f, args)


def _matmul(low: Lowering, node, args: list[str]) -> str:
    a, b = node.inputs
    if not (1 <= len(a.shape) <= 2 and 1 <= len(b.shape) <= 2 and a.dtype == b.dtype
            and np.dtype(a.dtype) in _FLOATS):
        raise Unsupported(f"matmul of {a.shape} and {b.shape} ({a.dtype}, {b.dtype})")
    out = low.emit.fresh()
    # (C- or F-contiguous operands: np.dot would copy a strided view, with a performance warning)
    low.emit(f"{out} = np.dot({low.contiguous(args[0])}, {low.contiguous(args[1])})")
    low.layout[out] = "C"
    return out


def _basic_index(node) -> str:
    if len(node.inputs) != 1:  # index arrays
        raise Unsupported("indexing with arrays")
    return _index_source(node.params["index"], len(node.inputs[0].shape
                                                    if node.primitive is gather_p
                                                    else node.params["shape"]))


def _getitem(low: Lowering, node, args: list[str]) -> str:
    if not node.inputs[0].shape:
        raise Unsupported("indexing a 0-d value")
    out = low.emit.fresh()
    low.emit(f"{out} = {args[0]}[{_basic_index(node)}]")
    parts = view_parts(node.params["index"], tuple(node.inputs[0].shape))
    if parts is not None and args[0] not in low.views:  # (a slice of a slice: a plain view)
        low.views[out] = (args[0], parts)
        base, kept = tuple(node.inputs[0].shape), len(node.shape)
        whole = (tuple(node.shape) == base[len(base) - kept:]
                 and all(kind == "i" for kind, _ in parts[:len(base) - kept]))
        if whole and low.layout.get(args[0]) == "C":  # x[t]: a contiguous block, typed C
            low.layout[out] = "C"
    return out


def _unslice(low: Lowering, node, args: list[str]) -> str:
    out = low.emit.fresh()
    low.emit(f"{out} = np.zeros({tuple(node.params['shape'])!r}, np.{node.dtype.name})",
             f"{out}[{_basic_index(node)}] = {args[0]}")
    return out


def _transpose(low: Lowering, node, args: list[str]) -> str:
    out = low.emit.fresh()
    if tuple(node.params["axes"]) == (1, 0):  # ``.T``: Numba types it F- (C-) contiguous
        low.emit(f"{out} = {args[0]}.T")
        flip = {"C": "F", "F": "C"}.get(low.layout.get(args[0], "A"))
        if flip is not None:
            low.layout[out] = flip
    else:
        low.emit(f"{out} = np.transpose({args[0]}, {tuple(node.params['axes'])!r})")
    return out


def _reshape(low: Lowering, node, args: list[str]) -> str:
    (x,), shape, out = node.inputs, tuple(node.params["shape"]), low.emit.fresh()
    if not x.shape:
        low.emit(f"{out} = np.full({shape!r}, {args[0]})")
    elif not shape:
        low.emit(f"{out} = np.ascontiguousarray({args[0]}).ravel()[0]")
    else:
        low.emit(f"{out} = np.ascontiguousarray({args[0]}).reshape({shape!r})")
    return out


def _sum(low: Lowering, node, args: list[str]) -> str:
    (x,), f = node.inputs, Emitter()
    shape, axis = tuple(x.shape), node.params["axis"]
    axes = set(range(len(shape)) if axis is None else (a % len(shape) for a in axis))
    keep, dtype = node.params["keepdims"], np.dtype(node.dtype)
    if not shape:
        out = low.emit.fresh()
        low.emit(f"{out} = {_cast(args[0], None, dtype)}")
        return out
    if not node.shape:
        f(f"out = {_literal(0, dtype)}")
    idx = _loops(f, "x", len(shape))
    if node.shape:
        target = [("0" if d in axes else i) if keep else i
                  for d, i in enumerate(idx) if keep or d not in axes]
        f(f"out[{', '.join(target)}] += x[{', '.join(idx)}]")
    else:
        f(f"out += x[{', '.join(idx)}]")
    f.depth -= len(shape)
    if not node.shape:
        f("return out")
    return _call(low.emit, node, ["out", "x"] if node.shape else ["x"], f, args)


_RULES = {fused_p: _elementwise, broadcast_to_p: _broadcast, convert_p: _convert, matmul_p: _matmul,
          gather_p: _getitem, unslice_p: _unslice, transpose_p: _transpose,
          reshape_p: _reshape, sum_p: _sum}


# -- whole loops ----------------------------------------------------------------------------
def source_header(title: str, helpers) -> list[str]:
    """The first lines of a generated kernel module: a stamp of the helpers, the imports, and
    the source of each helper function the kernel calls."""
    lines = [f"# generated by funcgrad: {title}", f"# helpers: {_HELPERS_STAMP}",
             "import numpy as np", "import numba",
             "from funcgrad.backends._numba_kernels import maximum, minimum", ""]
    return lines + [HELPERS[name] for name in sorted(helpers)]


def _carry_update(node) -> str:
    """How a new carry value is kept: a C-contiguous array, or a scalar of the carry's dtype
    (so its Numba type is the same every step)."""
    if node.shape:
        return "np.ascontiguousarray({})"
    return _cast("{}", None, np.dtype(node.dtype))


def scan_body_source(body: Graph, num_consts: int, num_carry: int) -> tuple[str, list]:
    """``(source, constants)`` of ``kernel(length, reverse, c..., s..., k..., e..., y...)``.

    It returns the final carries (a tuple); the ys are written into ``y`` arrays of shape
    ``(length, ...)``.  ``constants`` are the body's constant arrays (the ``e`` arguments).
    """
    n_in = len(body.inputs)
    num_xs = n_in - num_consts - num_carry
    num_ys = len(body.outputs) - num_carry
    carries = [f"c{j}" for j in range(num_carry)]
    xs = [f"s{j}" for j in range(num_xs)]
    consts = [f"k{j}" for j in range(num_consts)]
    ys = [f"y{j}" for j in range(num_ys)]
    emit, constants = Emitter(), []
    emit("for step in range(length):")
    emit.depth += 1
    emit("t = length - 1 - step if reverse else step")
    x_vars = []
    for j in range(num_xs):
        x_vars.append(emit.fresh("x"))
        emit(f"{x_vars[-1]} = s{j}[t]")
    # A value saved only as a y is computed straight into its slot (its first one).
    targets: dict = {}
    carry_outs = set(map(id, body.outputs[:num_carry]))
    for j, o in enumerate(body.outputs[num_carry:]):
        if o.primitive is not None and id(o) not in carry_outs:
            targets.setdefault(id(o), f"y{j}[t]")
    low = Lowering(emit, constants, targets)
    outs = low.graph(body, consts + carries + x_vars)
    for j, o in enumerate(outs[num_carry:]):
        if f"y{j}[t]" not in low.written:
            emit(f"y{j}[t] = {o}")
    news = [_carry_update(body.outputs[j]).format(o) for j, o in enumerate(outs[:num_carry])]
    if news:
        emit(f"{', '.join(carries)} = {', '.join(news)}")
    emit.depth -= 1
    emit(f"return ({''.join(c + ', ' for c in carries)})")
    args = ["length", "reverse"] + carries + xs + consts + [n for n, _ in constants] + ys
    src = source_header(f"scan body of {len(body.nodes)} nodes", emit.helpers) + emit.function_sources()
    src.append(f"def kernel({', '.join(args)}):")
    return "\n".join(src + emit.lines) + "\n", constants


def while_body_source(cond: Graph, body: Graph, num_cond_consts: int,
                      num_body_consts: int) -> tuple[str, list]:
    """``(source, constants)`` of ``kernel(c..., q..., k..., e...)`` returning the final carries."""
    num_carry = len(body.outputs)
    carries = [f"c{j}" for j in range(num_carry)]
    qs = [f"q{j}" for j in range(num_cond_consts)]
    ks = [f"k{j}" for j in range(num_body_consts)]
    emit, constants = Emitter(), []
    emit("while True:")
    emit.depth += 1
    low = Lowering(emit, constants)
    (test,) = low.graph(cond, qs + carries)
    emit(f"if not {test}:", "    break")
    outs = low.graph(body, ks + carries)
    news = [_carry_update(body.outputs[j]).format(o) for j, o in enumerate(outs)]
    if news:
        emit(f"{', '.join(carries)} = {', '.join(news)}")
    emit.depth -= 1
    emit(f"return ({''.join(c + ', ' for c in carries)})")
    args = carries + qs + ks + [n for n, _ in constants]
    src = source_header(f"while_loop bodies of {len(cond.nodes)} + {len(body.nodes)} nodes",
                  emit.helpers) + emit.function_sources()
    src.append(f"def kernel({', '.join(args)}):")
    return "\n".join(src + emit.lines) + "\n", constants


def as_carry(value, node):
    """A carry's initial value as the kernel takes it: a fresh C array, or a NumPy scalar."""
    if node.shape:
        return np.array(value, dtype=node.dtype, order="C")  # writable, like the new values
    return np.asarray(value, dtype=node.dtype)[()]


def from_carry(value, node):
    return np.asarray(value, dtype=node.dtype) if not node.shape else value


_UNSET = object()


class WholeLoop:
    """A loop's generated function, compiled the first time it is asked for.

    ``make()`` returns ``(source, constants)`` or raises :class:`Unsupported`; then
    :meth:`kernel` is ``None`` and the loop runs step by step.
    """

    def __init__(self, make, compile_loop, lock):
        self._make, self._compile, self._lock = make, compile_loop, lock
        self._kernel = _UNSET
        self.ys_layouts: dict = {}  # length -> _Layout of the stacked outputs
        self.constants: tuple = ()
        self.source: str | None = None

    def kernel(self):
        if self._kernel is _UNSET:
            with self._lock:
                if self._kernel is _UNSET:
                    try:
                        source, constants = self._make()
                    except Unsupported:
                        self._kernel = None
                    else:
                        self.source, self.constants = source, tuple(v for _, v in constants)
                        self._kernel = self._compile(source, None)
        return self._kernel

    def __call__(self, *args):
        """The kernel's result; ``None`` when Numba cannot compile it for these arguments'
        types (the loop then runs step by step, now and from now on)."""
        try:
            return self._kernel(*args)
        except NumbaError:
            self._kernel = None
            return None


def run_scan(whole: WholeLoop, body: Graph, consts, init, xs, num_carry: int, length: int,
             reverse: bool) -> list | None:
    """The results of a scan (final carries, then ys) from its generated function (``None``:
    it could not be compiled)."""
    n = len(body.inputs) - len(xs) - num_carry
    ins = body.inputs
    carries = [as_carry(c, node) for c, node in zip(init, ins[n:n + num_carry])]
    layout = whole.ys_layouts.get(length)  # (worked out once per length: ~3 us a call)
    if layout is None:
        layout = whole.ys_layouts[length] = _stacked_layout(
            [((length,) + tuple(o.shape), o.dtype) for o in body.outputs[num_carry:]])
    ys = stacked_outputs(layout)
    final = whole(length, reverse, *carries, *[np.ascontiguousarray(x) for x in xs],
                  *[_operand(k) for k in consts], *whole.constants, *ys)
    if final is None:
        return None
    return [from_carry(c, node) for c, node in zip(final, body.outputs)] + ys


#: Stacked outputs of a loop taking at least this many bytes together share one buffer.
SHARED_OUTPUTS_MIN_BYTES = 1 << 22


def stacked_outputs(avals) -> list:
    """Empty arrays of these ``(shape, dtype)`` (or of a :func:`_stacked_layout` of them): views
    of one buffer when they are large together.

    A scan recorded for reverse mode stacks a dozen residuals; allocated one by one (4 MB
    each for a 1,000-step LSTM) each is faulted in page by page on its first write (20 of
    the 52 ms of that forward scan).  One buffer of at least 4 MiB gets NumPy's huge-page
    advice: 37 ms.  The views keep the whole buffer alive while any of them lives.
    """
    avals, sizes, shared = avals if isinstance(avals, _Layout) else _stacked_layout(avals)
    if not shared:
        return [np.empty(s, d) for s, d in avals]
    buffer, out, offset = np.empty(sum(sizes), np.uint8), [], 0
    for (shape, dtype), size in zip(avals, sizes):
        n = math.prod(shape) * np.dtype(dtype).itemsize
        out.append(buffer[offset:offset + n].view(dtype).reshape(shape))
        offset += size
    return out


class _Layout(NamedTuple):
    avals: list
    sizes: list   # bytes of each, rounded up to 64
    shared: bool  # one buffer for all


def _stacked_layout(avals) -> _Layout:
    sizes = [-(-math.prod(s) * np.dtype(d).itemsize // 64) * 64 for s, d in avals]
    return _Layout(avals, sizes, len(avals) >= 2 and sum(sizes) >= SHARED_OUTPUTS_MIN_BYTES)


def run_while(whole: WholeLoop, body: Graph, cond_consts, body_consts, init) -> list | None:
    """The final carries of a while loop from its generated function (``None``: it could not
    be compiled)."""
    carry_nodes = body.inputs[len(body_consts):]
    carries = [as_carry(c, node) for c, node in zip(init, carry_nodes)]
    final = whole(*carries, *[_operand(k) for k in cond_consts],
                  *[_operand(k) for k in body_consts], *whole.constants)
    if final is None:
        return None
    return [from_carry(c, node) for c, node in zip(final, body.outputs)]


def _operand(x):
    """A 0-d operand as a NumPy scalar (the generated code reads 0-d values as scalars), an
    array as a C-contiguous one (the lowering counts on it: see :class:`Lowering`)."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else np.ascontiguousarray(x)
