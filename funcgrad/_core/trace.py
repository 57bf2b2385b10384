"""Tracing: :class:`Tracer` values flow through the user's Python code and record nodes.

A trace is opened by a transformation (``grad``, ``make_graph``, ...) and
closed when it returns.  Traces nest dynamically: the innermost open trace that
owns one of an operation's operands records it.  Operands that belong to an
enclosing trace are *lifted* into the inner trace as extra inputs (this is how
closures are differentiated), so an inner derivative never confuses its own
perturbation with an outer one.

* :class:`ConcreteTrace` keeps each tracer's value (a NumPy array, or a tracer
  of the enclosing trace), so Python control flow on values works and the
  backward pass reuses the forward values.
* :class:`AbstractTrace` keeps only shapes and dtypes (for ``make_graph`` and
  ``jit``); asking for a concrete value raises :class:`ConcretizationError`.

Turning a traced float or complex value into a Python or NumPy value (``float()``,
``math.exp``, ``np.asarray``, ``out[i] = x``) would make it a constant and silently
drop its derivative, so it raises :class:`TracerConversionError` even where the value
exists; ``bool()``, integer values and ``stop_gradient(x)`` convert (``Tracer._convert``).
"""

from __future__ import annotations

import gc
import importlib.util
import linecache
import math
import os
import re
import sys
import threading
from types import MappingProxyType
from typing import Any

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import CONSTANT, EMPTY_PARAMS, LIFTED, Node, has_effects, type_string
from funcgrad._core.hints import ambiguous_truth_value_error, item_assignment_error, operand_error
from funcgrad.errors import (
    ConcretizationError,
    ImmutableError,
    ShapeError,
    TracerConversionError,
    TracerLeakError,
)

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep
# SciPy's frames are not the user's either (scipy.special.softmax(x) converts x inside SciPy);
# find_spec locates SciPy without importing it.
_SCIPY_SPEC = importlib.util.find_spec("scipy")
_SCIPY_DIRS = tuple(os.path.abspath(d) + os.sep
                    for d in (_SCIPY_SPEC.submodule_search_locations or ())) if _SCIPY_SPEC else ()
_SKIP_DIRS = (_PKG_DIR, _NUMPY_DIR) + _SCIPY_DIRS
_state = threading.local()

#: Pause Python's cyclic garbage collector while the outermost trace is open (see docs/performance.md).
PAUSE_GC_WHILE_TRACING = True


#: The params of an operation without any, passed by the binders of
#: :mod:`funcgrad._core.primitive` (and only by them: it also tells
#: :meth:`ConcreteTrace.process` that its caller is a binder).  Never mutated.
NO_PARAMS: dict = {}

_skip_code: dict = {}  # id(code object) -> (code object, whether it belongs to funcgrad or NumPy)


def _skipped(code) -> bool:
    """Whether frames running ``code`` are funcgrad's or NumPy's (not the user's); cached."""
    entry = _skip_code.get(id(code))
    if entry is None or entry[0] is not code:  # the id of a freed code object can be reused
        entry = _skip_code[id(code)] = (code, code.co_filename.startswith(_SKIP_DIRS))
    return entry[1]


def user_location(depth: int = 1) -> tuple[str, int] | None:
    """``(filename, lineno)`` of the innermost frame outside funcgrad, NumPy and SciPy.

    ``depth`` frames are skipped first (they are known to be funcgrad's own).
    """
    f = sys._getframe(depth)
    while f is not None:
        if not _skipped(f.f_code):
            return (f.f_code.co_filename, f.f_lineno)
        f = f.f_back
    return None


# What else calls a conversion method (the user's code may not say "float(" at all).
_CALLERS = {
    "float()": "math functions (math.exp(x)), NumPy scalar types (np.float64(x)) and "
               "assignment into a NumPy array (out[i] = x)",
    "int()": "math functions (math.floor(x)) and assignment into an integer NumPy array",
    "complex()": "cmath functions and assignment into a complex NumPy array",
    "operator.index()": "indexing and sizes (a[i], range(n))",
    "np.asarray()": "np.array, NumPy functions that are not ufuncs, NumPy scalar types "
                    "(np.float32(x)) and assignment into a slice of a NumPy array (out[:2] = x)",
}
# math's names that funcgrad.numpy spells differently.
_MATH_TO_FNP = {"fabs": "abs", "pow": "power", "atan2": "arctan2", "asin": "arcsin",
                "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
                "atanh": "arctanh", "dist": "linalg.norm", "fsum": "sum"}
_MATH_CALL = re.compile(r"\bc?math\.(\w+)\s*\(")
_SCALAR_TYPE_CALL = re.compile(
    r"\b(?:np|numpy)\.(float\d*|complex\d*|int\d*|double|single|half|longdouble)\s*\(")
_ASSIGNMENT = re.compile(r"[\w)\]]\s*\[[^\]]*\]\s*=(?!=)")


def _on_the_line(what: str, line: str) -> tuple[str, str]:
    """``(sentence naming what the user's line does that converts, a funcgrad.numpy example)``."""
    found = _MATH_CALL.search(line) if what in ("float()", "complex()") else None
    if found:
        name = found.group(1)
        return (f"This line calls {found.group(0)[:-1].strip()}(), which calls {what}. ",
                f"fnp.{_MATH_TO_FNP.get(name, name)} instead of math.{name}")
    if what in ("float()", "int()", "complex()", "np.asarray()"):
        found = _SCALAR_TYPE_CALL.search(line)
        if found:
            return (f"This line calls np.{found.group(1)}(), which converts its argument; "
                    f"x.astype(np.{found.group(1)}) changes the dtype and keeps the "
                    "derivative. ", "fnp.exp instead of math.exp")
        if _ASSIGNMENT.search(line):
            return ("This line assigns into an array; if it is a NumPy array, NumPy "
                    "converts the value. ", "fnp.exp instead of math.exp")
    return "", "fnp.exp instead of math.exp"


def conversion_hint(what: str, loc: tuple[str, int] | None) -> str:
    """The sentences of an error message that say what called ``what`` and how to keep the value traced.

    ``loc`` is the user's ``(file, line)``; a ``math.f(...)`` call, a NumPy scalar type or
    an assignment on that line is named (``math.f`` with its ``funcgrad.numpy``
    replacement).  ``bool()`` (control flow) gets no hint.

    Examples:
        >>> conversion_hint("bool()", None)
        ''
    """
    if what == "bool()" or what == "boolean mask indexing":
        return ""
    if what.startswith("format("):
        return ("To print a traced value where it has none (under jit or vmap), use "
                "funcgrad.debug.print(\"{x:.3f}\", x=x): it prints when the function runs. ")
    line = linecache.getline(loc[0], loc[1]) if loc else ""
    prefix, example = _on_the_line(what, line)
    callers = None if prefix else _CALLERS.get(what)
    callers = f"The same conversion happens in {callers}. " if callers else ""
    return (f"{prefix}{callers}Keep the value traced: compute with "
            f"funcgrad.numpy functions ({example}; import funcgrad.numpy as fnp), change a "
            "dtype with x.astype(dtype), and build arrays with fnp.at(out)[i].set(v) "
            "(x.at[i].set(v) on a traced x) or fnp.stack instead of writing into a NumPy "
            "buffer. ")


def _stack() -> list:
    try:
        return _state.stack
    except AttributeError:
        _state.stack = []
        return _state.stack


class gc_paused:
    """Pause the cyclic garbage collector inside a block (when :data:`PAUSE_GC_WHILE_TRACING`)."""

    def __enter__(self):
        self.resume = PAUSE_GC_WHILE_TRACING and gc.isenabled()
        if self.resume:
            gc.disable()

    def __exit__(self, *exc):
        if self.resume:
            gc.enable()


class Tracer:
    """A traced array: a node of the open trace, plus its value when the trace is concrete.

    Tracers are immutable and behave like arrays: the operators, ``.shape``,
    ``.T``, ``.sum()`` and friends all record operations (they are installed by
    :mod:`funcgrad.numpy`).
    """

    __slots__ = ("_trace", "_node", "_value")
    __array_priority__ = 1000  # win over np.ndarray in mixed binary operators
    __hash__ = None  # like NumPy arrays: == is elementwise, so tracers are unhashable

    def __init__(self, trace: "Trace", node: Node, value: Any):
        _set_trace(self, trace)
        _set_node(self, node)
        _set_value(self, value)

    def __setattr__(self, name, value):
        raise ImmutableError(f"traced values are immutable: cannot set {name!r}; "
                             "use x.at[idx].set(v) for a functional update")

    def __delattr__(self, name):
        raise ImmutableError(f"traced values are immutable: cannot delete {name!r}")

    @property
    def shape(self) -> tuple[int, ...]:
        return self._node.shape

    @property
    def dtype(self) -> np.dtype:
        return self._node.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced array")
        return shape[0]

    def __iter__(self):
        shape = self.shape
        if not shape:
            raise TypeError("iteration over a 0-d traced array")
        return (self[i] for i in range(shape[0]))

    def concrete_value(self, what: str):
        """The NumPy value behind this tracer, or a :class:`ConcretizationError` saying why there is none.

        A tracer whose value is a tracer of an enclosing trace asks that one: under
        ``jit(grad(f))`` or ``vmap(grad(f))`` there is no single concrete value either.
        """
        if not self._trace.active:
            raise self._trace.leak_error()
        v = self._value
        if isinstance(v, Tracer):
            return v.concrete_value(what)
        if v is None:
            loc = user_location()
            where = f" at {loc[0]}:{loc[1]}" if loc else ""
            raise ConcretizationError(
                f"{what} needs a concrete value, but this is an abstract tracer "
                f"{type_string(self.shape, self.dtype)} (traced by {self._trace.name}){where}. "
                f"{conversion_hint(what, loc)}"
                "Python control flow cannot depend on traced values here: use "
                "funcgrad.numpy.where to select values, funcgrad.lax.cond / switch for "
                "branches and funcgrad.lax.while_loop / fori_loop / scan for loops, mark the "
                "argument static (static_argnums), or compute the condition outside the "
                "function.")
        return v

    def _convert(self, what: str):
        """The concrete value for a conversion to a Python or NumPy value (``what``).

        Raises :class:`ConcretizationError` where there is no single value (abstract or
        batched tracing) and :class:`TracerConversionError` where the value exists but has
        an inexact dtype: the result would be a constant, its derivative silently dropped.
        Integer and boolean values carry no derivative and convert.
        """
        value = self.concrete_value(what)
        if is_inexact(self.dtype):
            loc = user_location()
            where = f" at {loc[0]}:{loc[1]}" if loc else ""
            raise TracerConversionError(
                f"{what} of a traced {type_string(self.shape, self.dtype)} value (traced by "
                f"{self._trace.name}){where} would drop its derivative: the result would be a "
                "constant, and the derivative silently wrong. "
                f"{conversion_hint(what, loc)}If a constant is really meant, convert "
                "funcgrad.stop_gradient(x) instead.")
        return value

    # bool() loses no derivative: Python control flow on concrete values stays allowed.
    def __bool__(self) -> bool:
        shape = self.shape
        if shape and math.prod(shape) != 1:
            raise ambiguous_truth_value_error(self._described("array"), math.prod(shape),
                                              user_location())
        return bool(self.concrete_value("bool()"))

    def __format__(self, spec: str) -> str:
        """``f"{x:.3f}"`` formats the value (a side effect: no derivative is lost); ``f"{x}"`` is ``repr``."""
        if not spec:
            return str(self)
        return format(self.concrete_value(f"format(x, {spec!r})"), spec)

    def __setitem__(self, index, value):
        raise item_assignment_error(self._described("value"), index, user_location())

    def _described(self, noun: str) -> str:
        """``a traced f64[3] <noun> (traced by grad of f)``, for error messages."""
        return (f"a traced {type_string(self.shape, self.dtype)} {noun} "
                f"(traced by {self._trace.name})")

    def __float__(self) -> float:
        return float(self._convert("float()"))

    def __int__(self) -> int:
        return int(self._convert("int()"))

    def __complex__(self) -> complex:
        return complex(self._convert("complex()"))

    def __index__(self) -> int:
        return int(self._convert("operator.index()").__index__())

    def __round__(self, ndigits: int | None = None):
        value = self._convert("round()")
        return round(value.item() if np.ndim(value) == 0 else value, ndigits)

    def item(self, *args):
        """The element as a Python scalar (integer and boolean values only: see :meth:`_convert`)."""
        return self._convert("item()").item(*args)

    def tolist(self):
        """The value as nested lists (integer and boolean values only: see :meth:`_convert`)."""
        return np.asarray(self._convert("tolist()")).tolist()

    def __array__(self, dtype=None, copy=None):
        value = self._convert("np.asarray()")
        return np.array(value, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        v = self._value
        while isinstance(v, Tracer):
            v = v._value
        body = "abstract" if v is None else np.array2string(np.asarray(v), threshold=20)
        return f"Tracer<{type_string(self.shape, self.dtype)}, {self._trace.name}>({body})"


_set_trace, _set_node, _set_value = (getattr(Tracer, n).__set__ for n in Tracer.__slots__)
_CONVERSION_ERRORS = (TracerConversionError, ConcretizationError)
_new_node = tuple.__new__  # Node(...) without the Python-level __new__ call, on the hot path
_new_object = object.__new__
_FLOAT64 = np.dtype(np.float64)
_FLOAT64_CONSTANTS: dict = {}  # nonzero Python float -> read-only 0-d float64 array


def _float64_constant(value: float) -> np.ndarray:
    """``value`` as a read-only 0-d float64 array, cached (for the first 4096 values).

    Only nonzero values are cached: ``0.0 == -0.0``, so one key would serve both signs.
    """
    array = np.array(value)
    array.flags.writeable = False
    if len(_FLOAT64_CONSTANTS) < 4096:
        _FLOAT64_CONSTANTS[value] = array
    return array


class Trace:
    """An open trace: records the nodes that operations on its tracers create."""

    kind = "trace"
    #: Whether a tracer's ``_value`` is its primal: the same value without this trace's
    #: derivative (concrete and forward-mode traces); ``stop_gradient`` unwraps such tracers.
    carries_primal = False

    def __init__(self, name: str):
        self.name = name
        self.depth = 0
        self.active = False
        self.opened_at = user_location()
        self.tape: list = []     # recorded op nodes in creation (= topological) order
        self.lifted: dict = {}   # id(outer tracer) -> (outer tracer, lifted node)
        self.plain = True        # no value is a tracer of an enclosing trace (all NumPy)
        self.effects: list = []  # nodes of operations run for a side effect (debug.print), in order
        self._resume_gc = False

    def __enter__(self) -> "Trace":
        stack = _stack()
        self.depth = len(stack)
        if not stack and PAUSE_GC_WHILE_TRACING and gc.isenabled():
            # A trace allocates several tracked objects per operation and frees none until it
            # ends, so the cyclic collector only rescans live objects: pause it meanwhile.
            gc.disable()
            self._resume_gc = True
        stack.append(self)
        self.active = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.active = False
        stack = _stack()
        if stack and stack[-1] is self:
            stack.pop()
        else:  # pragma: no cover - only reachable if traces are closed out of order
            stack.remove(self)
        if self._resume_gc:
            gc.enable()
        if exc_type is ValueError and isinstance(exc.__cause__, _CONVERSION_ERRORS):
            # ``out[i] = tracer`` into a NumPy array: NumPy replaces any error of float()
            # on a sequence-like object (a tracer has __getitem__) by "setting an array
            # element with a sequence".  Raise ours, which says what happened and the fix.
            raise exc.__cause__.with_traceback(tb) from None

    def _operand(self, a):
        """The node and value of an operand: own tracer, lifted outer tracer, or constant."""
        if isinstance(a, Tracer):
            if a._trace is self:
                return a._node, a._value
            entry = self.lifted.get(id(a))
            if entry is None:
                self.plain = False
                node = Node.input(a.shape, a.dtype, user_location(), kind=LIFTED)
                entry = self.lifted[id(a)] = (a, node)
            return entry[1], a
        if a is None or isinstance(a, (str, bytes, list, tuple)) or (
                isinstance(a, np.ndarray) and a.dtype.kind in "OUSV"):
            error = operand_error(a, user_location())
            if error is not None:
                raise error
        return self.constant(a), a

    def constant(self, value) -> Node:
        return Node.constant(value)

    def unpack(self, args, cls, slot: str) -> tuple[list, list]:
        """``(values, extras)``: each operand's value, and its ``slot`` attribute if it is a
        ``cls`` tracer of this trace (else ``None``: a constant here)."""
        values, extras = [], []
        for a in args:
            if isinstance(a, cls) and a._trace is self:
                values.append(a._value)
                extras.append(getattr(a, slot))
            else:
                values.append(a)
                extras.append(None)
        return values, extras

    def leak_error(self) -> TracerLeakError:
        where = f" (opened at {self.opened_at[0]}:{self.opened_at[1]})" if self.opened_at else ""
        return TracerLeakError(
            f"a traced value from {self.name}{where} was used after {self.name} returned. "
            "Traced values must not escape the function being transformed (e.g. via a "
            "global, a closure or a list); return them as outputs instead.")


class ConcreteTrace(Trace):
    """Tracing with values: each node's value is computed as it is recorded."""

    kind = "concrete"
    carries_primal = True

    def _operands(self, args) -> tuple[tuple, tuple]:
        """``(nodes, values)`` of an operation's operands (see :meth:`Trace._operand`)."""
        nodes, values = [], []
        for a in args:
            if isinstance(a, Tracer) and a._trace is self:  # the common case, inlined
                nodes.append(a._node)
                values.append(a._value)
            elif type(a) is float:  # the next most common: a Python float constant
                nodes.append(_new_node(Node, (None, (), EMPTY_PARAMS, (), _FLOAT64, None,
                                              CONSTANT, a)))
                values.append(a)
            else:
                n, v = self._operand(a)
                nodes.append(n)
                values.append(v)
        return tuple(nodes), values

    def new_input(self, value) -> Tracer:
        if isinstance(value, Tracer):
            self.plain = False
        node = Node.input(np.shape(value), value.dtype, user_location())
        return Tracer(self, node, value)

    def process(self, prim, args, params) -> Tracer:
        # The commonest operands inlined: one own tracer, or one with another or with a float.
        a = args[0]
        if type(a) is Tracer and a._trace is self and (n := len(args)) <= 2:
            if n == 1:
                nodes, values = (a._node,), (a._value,)
            elif type(b := args[1]) is Tracer and b._trace is self:
                nodes, values = (a._node, b._node), (a._value, b._value)
            elif type(b) is float:
                nodes = (a._node, _new_node(Node, (None, (), EMPTY_PARAMS, (), _FLOAT64, None,
                                                   CONSTANT, b)))
                v = a._value
                if self.plain and b and v.dtype is _FLOAT64:
                    # NumPy takes a slow path for a Python float (a "weak" scalar); a 0-d
                    # float64 array gives the same bits in two thirds of the time.
                    c = _FLOAT64_CONSTANTS.get(b)
                    values = (v, _float64_constant(b) if c is None else c)
                else:
                    values = (v, b)
            else:
                nodes, values = self._operands(args)
        else:
            nodes, values = self._operands(args)
        if self.plain:  # every value is a NumPy array: run the reference directly
            try:
                value = prim.impl(*values, **params) if params else prim.impl(*values)
            except np.linalg.LinAlgError:
                raise
            except ValueError as e:
                raise prim.shape_error(values, params, e) from None
        else:
            value = prim.bind(*values, **params)
        # Where the user's code called us: the first frame outside funcgrad and NumPy, kept
        # as (code, instruction offset); graph.source_location turns it into a line on demand.
        # A binder's call (its params are NO_PARAMS) skips the binder's own frame.
        f, where = sys._getframe(2 if params is NO_PARAMS else 1), None
        while f is not None:
            code = f.f_code
            entry = _skip_code.get(id(code))
            if entry is None or entry[0] is not code:
                entry = (code, code.co_filename.startswith(_SKIP_DIRS))
                _skip_code[id(code)] = entry
            if not entry[1]:
                where = (code, f.f_lasti)
                break
            f = f.f_back
        node = _new_node(Node, (prim, nodes, MappingProxyType(params) if params else EMPTY_PARAMS,
                                value.shape, value.dtype, where, "op", None))
        # The tape keeps the plain dict: ``**mappingproxy`` costs three times ``**dict``.
        self.tape.append((node, values, value, params))
        out = _new_object(Tracer)  # Tracer(self, node, value) without the __init__ frame
        _set_trace(out, self)
        _set_node(out, node)
        _set_value(out, value)
        return out


class AbstractTrace(Trace):
    """Tracing with shapes and dtypes only; builds a :class:`~funcgrad._core.graph.Graph`."""

    kind = "abstract"

    def new_input(self, shape, dtype) -> Tracer:
        return Tracer(self, Node.input(tuple(shape), np.dtype(dtype), user_location()), None)

    def constant(self, value) -> Node:
        # The graph outlives this call: it must not see later writes to the user's array.
        return Node.constant(value, copy=True)

    def process(self, prim, args, params) -> Tracer:
        nodes = []
        for a in args:
            nodes.append(self._operand(a)[0])
        avals = [n.value if n.kind == "constant" else n for n in nodes]
        try:
            shape, dtype = prim.abstract_eval(*avals, **params)
        except ShapeError as e:
            loc = user_location(3)
            raise ShapeError(f"{e} (at {loc[0]}:{loc[1]})" if loc else str(e)) from None
        node = Node(prim, tuple(nodes), MappingProxyType(params) if params else EMPTY_PARAMS,
                    tuple(shape), np.dtype(dtype),
                    user_location(3))
        self.tape.append(node)
        if params and has_effects(node):  # a loop or branch whose body prints: keep it
            self.effects.append(node)
        return Tracer(self, node, None)
