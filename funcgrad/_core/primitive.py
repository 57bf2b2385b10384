"""The :class:`Primitive`: one object that carries everything about one operation.

A primitive has a name, a NumPy reference implementation, an abstract-evaluation
(shape/dtype) rule, and derivative rules written in funcgrad ops.  The JVP and
batching rules of later transformations attach to the same object.  Binding a
primitive to plain arrays calls the reference implementation directly: no node,
no tracer, one ``isinstance`` check per argument.
"""

from __future__ import annotations

import sys
from typing import Callable

import numpy as np

from funcgrad._core import trace as _trace
from funcgrad._core.graph import type_string
from funcgrad.errors import ShapeError

Tracer = _trace.Tracer
NO_PARAMS = _trace.NO_PARAMS
_SEQUENCES = frozenset((list, tuple))


def _no_conversion(a):
    return a


#: ``convert(a)``: a list or tuple operand that holds tracers as one traced array, anything
#: else unchanged (``_core`` names no primitive: :mod:`funcgrad.ops._array_like` installs it).
_as_operand: Callable = _no_conversion


def install_sequence_conversion(convert: Callable) -> None:
    """Install the conversion of list and tuple operands that :meth:`Primitive.bind` applies."""
    global _as_operand
    _as_operand = convert


class Primitive:
    """One operation, defined once.

    ``impl(*args, **params)`` is the NumPy reference.  ``abstract_eval(*avals,
    **params) -> (shape, dtype)`` gives the output's abstract value; the default
    runs ``impl`` on zero-stride dummy arrays, which is exact for any shape-only
    operation.  VJP rules are per input: ``rule(g, ans, *args, **params)``
    returns the cotangent of that input, built from funcgrad ops.

    Examples:
        >>> double = Primitive("double", lambda x: 2 * x)
        >>> double.defvjp(lambda g, ans, x: 2 * g)
        >>> double.bind(np.ones(2))
        array([2., 2.])
    """

    #: True for broadcasting elementwise ops (set by their family helpers); the optimiser fuses them.
    elementwise: bool = False
    #: ``fit(ct, like)``: brings a VJP rule's cotangent to its input's shape and dtype when
    #: they differ (broadcasting ops: :func:`~funcgrad.ops._family.unbroadcast`); without
    #: one, a cotangent of the wrong shape is an internal error.
    fit_cotangent: Callable | None = None
    #: True for operations that only move or repeat their operand's elements (reshape,
    #: transpose, broadcast_to): reverse-mode scan recomputes such a value instead of saving it.
    moves_data: bool = False
    #: ``results_eval(*avals, **params) -> [(shape, dtype), ...]`` for an operation with
    #: several results (its value is a tuple: see :mod:`funcgrad.ops.results`), else ``None``.
    results_eval: Callable | None = None

    def __init__(self, name: str, impl: Callable, abstract_eval: Callable | None = None,
                 differentiable: bool = True):
        self.name = name
        self.impl = impl
        self.abstract_eval = abstract_eval or self._dummy_eval
        self.vjp_rules: tuple | None = None
        self.vjp_argnum: Callable | None = None
        self.jvp_rules: tuple | None = None
        self.jvp_rule: Callable | None = None
        self.batch_rule: Callable | None = None
        self.differentiable = differentiable

    def __repr__(self) -> str:
        return self.name

    # -- rules -------------------------------------------------------------
    def defvjp(self, *rules: Callable | None) -> None:
        """One rule per input: ``rule(g, ans, *args, **params) -> cotangent``; ``None`` means no gradient."""
        self.vjp_rules = rules

    def defvjp_argnum(self, rule: Callable) -> None:
        """One rule for every input of a variadic op: ``rule(i, g, ans, *args, **params)``."""
        self.vjp_argnum = rule

    def vjp(self, i: int, g, ans, args, params):
        """The cotangent of input ``i`` (``None`` for a symbolic zero), fitted to the input's shape."""
        if self.vjp_rules is not None:
            rule = self.vjp_rules[i] if i < len(self.vjp_rules) else None
            ct = None if rule is None else rule(g, ans, *args, **params)
        elif self.vjp_argnum is not None:
            ct = self.vjp_argnum(i, g, ans, *args, **params)
        elif not self.differentiable:
            return None
        else:
            raise NotImplementedError(f"reverse-mode derivative of {self.name!r} is not defined")
        if ct is not None and self.fit_cotangent is not None:
            ct = self.fit_cotangent(ct, args[i])
        return ct

    def defjvp(self, *rules: Callable | None) -> None:
        """One rule per input: ``rule(t, ans, *args, **params)`` is that input's share of the output tangent."""
        self.jvp_rules = rules

    def defjvp_full(self, rule: Callable) -> None:
        """A rule for the whole op: ``rule(primals, tangents, **params) -> (ans, tangent)``; zero tangents are ``None``."""
        self.jvp_rule = rule

    def jvp(self, primals, tangents, params):
        """``(output, output tangent)``; the tangent is ``None`` when it is zero."""
        if self.jvp_rule is not None:
            return self.jvp_rule(primals, tangents, **params)
        ans = self.bind(*primals, **params)
        rules = self.jvp_rules
        if rules is None:
            if not self.differentiable:
                return ans, None
            raise NotImplementedError(f"forward-mode derivative of {self.name!r} is not defined")
        out = None
        for i, t in enumerate(tangents):
            rule = rules[i] if i < len(rules) else None
            if t is None or rule is None:
                continue
            contribution = rule(t, ans, *primals, **params)
            if contribution is not None:
                out = contribution if out is None else out + contribution
        return ans, out

    def defbatch(self, rule: Callable) -> None:
        """The batching rule: ``rule(args, dims, **params) -> (out, out_dim)``.

        ``dims[i]`` is the batch axis of ``args[i]`` (``None`` if it is not batched).
        Without a rule, ``vmap`` falls back to a loop over the batch.
        """
        self.batch_rule = rule

    # -- evaluation --------------------------------------------------------
    def bind(self, *args, **params):
        """Apply the primitive: NumPy directly on arrays, recorded in a trace on tracers.

        A list or tuple operand that holds tracers (``fnp.sum([x, y])``) is first made one
        traced array, so its tracers take part in choosing the trace.
        """
        top, sequence = None, False
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if t is not top:
                    if not t.active:
                        raise t.leak_error()
                    if top is None or t.depth > top.depth:
                        top = t
            elif type(a) in _SEQUENCES:
                sequence = True
        if sequence:
            converted = tuple(map(_as_operand, args))
            if any(c is not a for c, a in zip(converted, args)):
                return self.bind(*converted, **params)
        if top is not None:  # record it in the innermost trace among the operands'
            return top.process(self, args, params)
        try:
            return self.impl(*args, **params)
        except np.linalg.LinAlgError:
            raise
        except ValueError as e:
            raise self.shape_error(args, params, e) from None

    def shape_error(self, args, params, cause) -> ShapeError:
        """A :class:`ShapeError` naming this op, every operand's type and the user's line."""
        operands = ", ".join(_describe(a) for a in args)
        loc = _trace.user_location()
        where = f" at {loc[0]}:{loc[1]}" if loc else ""
        extra = f" ({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else ""
        return ShapeError(f"{self.name}: incompatible operands {operands}{extra}{where}: {cause}")

    def _dummy_eval(self, *avals, **params):
        dummies = [_dummy(a) for a in avals]
        try:
            out = self.impl(*dummies, **params)
        except ValueError as e:
            raise self.shape_error(avals, params, e) from None
        return np.shape(out), np.result_type(out)


def _caller_module() -> str:
    """The module that asked for a binder (two frames up): the binder becomes one of its public
    functions, so ``__module__`` names that module (``pickle``, ``help`` and the API reference
    look the function up there), as ``collections.namedtuple`` does for its classes."""
    return sys._getframe(2).f_globals.get("__name__", __name__)


def unary_binder(prim: Primitive) -> Callable:
    """``prim.bind`` for one operand, with the traced case inlined.

    Public elementwise functions are the hottest path of eager tracing: a traced
    operand goes straight to its trace's ``process`` (one Python frame fewer
    than ``bind``); everything else takes ``bind``.

    Examples:
        >>> unary_binder(Primitive("neg", np.negative))(np.ones(2))
        array([-1., -1.])
    """
    bind, sequences = prim.bind, _SEQUENCES

    def bind1(x):
        if isinstance(x, Tracer):
            t = x._trace
            if t.active:
                return t.process(prim, (x,), NO_PARAMS)
            return bind(x)  # raises TracerLeakError
        if type(x) in sequences:  # a list or tuple may hold tracers: bind converts it
            return bind(x)
        try:  # a plain operand: the reference implementation, as bind would
            return prim.impl(x)
        except np.linalg.LinAlgError:
            raise
        except ValueError as e:
            raise prim.shape_error((x,), NO_PARAMS, e) from None
    bind1.__module__ = _caller_module()
    return bind1


def binary_binder(prim: Primitive, swapped: bool = False) -> Callable:
    """``prim.bind`` for two operands, with the case of one trace inlined (see :func:`unary_binder`).

    ``swapped`` binds ``(y, x)``: the reflected operators (``__rsub__``).  When both
    operands are tracers of different traces, ``bind`` picks the innermost.

    Examples:
        >>> binary_binder(Primitive("sub", np.subtract), swapped=True)(1.0, 3.0)
        np.float64(2.0)
    """
    bind, sequences = prim.bind, _SEQUENCES

    def bind2(x, y):
        if swapped:
            x, y = y, x
        # A list or tuple operand may hold tracers of another trace: bind converts it.
        if isinstance(x, Tracer):
            t = x._trace
            if (y._trace is t if isinstance(y, Tracer) else type(y) not in sequences) and t.active:
                return t.process(prim, (x, y), NO_PARAMS)
        elif isinstance(y, Tracer):
            t = y._trace
            if t.active and type(x) not in sequences:
                return t.process(prim, (x, y), NO_PARAMS)
        return bind(x, y)
    bind2.__module__ = _caller_module()
    return bind2


def _dummy(aval):
    """An array of the aval's shape and dtype that costs no memory (all strides 0)."""
    if isinstance(aval, np.ndarray) or not hasattr(aval, "shape"):
        return aval  # a concrete constant: use its value
    return np.broadcast_to(np.zeros((), aval.dtype), aval.shape)


def _describe(a) -> str:
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return type_string(a.shape, a.dtype)
    return type(a).__name__
