"""The scalar code of elementwise primitives, shared by the Numba CPU and CUDA backends.

A fused elementwise :class:`~funcgrad.optimize.fusion.Program` (formed by the
backend-independent planner, :mod:`funcgrad.optimize.fusion`) is compiled by each
backend into one loop over its output.  What one element costs is the same on
every backend and lives here: :data:`SCALAR_TABLE`, one :class:`Scalar` row per
elementwise primitive (a source template), and :func:`type_program`, which types
a Program for its input dtypes exactly as NumPy would run it (each operand cast
to the dtypes of NumPy's loop, ``ufunc.resolve_dtypes``, with weak Python-scalar
constants; each result cast to NumPy's result dtype) and returns its body as
straight-line source (:class:`Typed`).  Only the loop around the body differs:
:mod:`funcgrad.backends._numba_fused` (``@njit`` loops on the CPU) and
:mod:`funcgrad.backends._cuda_fused` (``numba.cuda`` kernels, which replace the
rows whose functions the CUDA target spells differently: :func:`with_templates`).

This module imports NumPy and funcgrad's primitives only (no Numba).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from funcgrad.ops import elementwise as ew
from funcgrad.optimize.fusion import CONST, IN, TMP, Program

#: The dtypes generated code computes in; any other (float16, complex, ...) runs NumPy.
SUPPORTED = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float32, np.float64))


# -- the scalar expression table ----------------------------------------------------------
class Scalar(NamedTuple):
    """How one primitive computes one element.

    ``template`` formats the operands (already cast to the loop dtypes) into a
    Numba expression; ``ufunc`` is the NumPy function whose loop resolution
    gives the operand and result dtypes; ``kinds`` are the dtype kinds of the
    loop the template is exact for; ``prefix`` are constant operands the
    primitive's impl passes first (``reciprocal`` is ``divide(1, x)``);
    ``boolean`` says the template already yields a bool; ``by_dtype`` are
    ``(dtype name, template)`` pairs that replace ``template`` when the loop's
    result has that dtype (a template may call a helper function of the backend,
    e.g. ``tanh_float32``: :data:`funcgrad.backends._numba_fused.HELPERS`).
    """

    template: str
    ufunc: Any  # a NumPy ufunc, or np.where
    kinds: str = "biuf"
    prefix: tuple = ()
    boolean: bool = False
    by_dtype: tuple = ()

    def template_for(self, dtype: np.dtype) -> str:
        """The template of the loop whose result has ``dtype``."""
        for name, template in self.by_dtype:
            if name == dtype.name:
                return template
        return self.template


def _float(name: str, arity: int = 1, **by_dtype: str) -> Scalar:
    args = ", ".join(f"{{{i}}}" for i in range(arity))
    return Scalar(f"np.{name}({args})", getattr(np, name), "f", by_dtype=tuple(by_dtype.items()))


# -- scalar functions for one dtype -------------------------------------------------------
#: float32 tanh as XLA and Eigen compute it (Eigen's ``generic_fast_tanh_float``):
#: ``x * P(x**2) / Q(x**2)``, an odd [13/6] rational approximation evaluated in
#: float32 on the input clamped to +-TANH32_CLAMP, where the float32 evaluation
#: gives exactly 1.0 (so tanh(inf) == 1): 7.9988... with FMA, 7.9053... without;
#: inputs below TANH32_TINY in magnitude are their own tanh (keeps -0.0 and
#: denormals).  Pure arithmetic and selects, so LLVM vectorises the loop around it.
TANH32_CLAMP = {True: 7.99881172180175781, False: 7.90531110763549805}  # by: FMA or not
TANH32_TINY = 0.0004
TANH32_NUM = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
              5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
              -2.76076847742355e-16)  # P: the coefficients of x**0, x**2, ..., x**12
TANH32_DEN = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
              1.19825839466702e-06)   # Q: x**0, x**2, x**4, x**6


def _f32(value: float) -> str:
    return f"np.float32({float(np.float32(value))!r})"


def _horner(coefficients, var: str) -> str:
    """Source of the polynomial with ``coefficients`` (lowest power first) in ``var``, in float32."""
    expr = _f32(coefficients[-1])
    for c in reversed(coefficients[:-1]):
        expr = f"({expr} * {var} + {_f32(c)})"
    return expr


def tanh_float32_source(fma: bool, decorator: str | None = None) -> str:
    """Source of ``tanh_float32(y)`` for a CPU with FMA or without.

    Measured against ``np.tanh`` in float64 rounded to float32, over every float32:
    at most 5 ulp with FMA (XLA's float32 tanh, bit for bit), 7 ulp without
    (NumPy's SIMD tanh: 1 ulp).  ``fma=True`` compiles with ``fastmath={"contract"}``,
    and only that: LLVM fuses each multiply-add into one FMA (one rounding instead
    of two: faster and more accurate); NaN, infinities and signed zeros keep IEEE
    semantics (NaN passes the clamps: comparisons with it are false).  Numba must
    not inline the function (``inline="always"`` compiles it with the caller's
    flags); LLVM inlines it and vectorises the loop through it.  ``decorator``
    replaces that ``@numba.njit(...)`` line (the CUDA backend's device function,
    where NVVM contracts multiply-adds into FMAs by default).
    """
    flags = 'fastmath={"contract"}, ' if fma else ""
    return "\n".join([
        decorator or f'@numba.njit({flags}error_model="numpy")',
        "def tanh_float32(y):",
        f"    c = {_f32(TANH32_CLAMP[fma])}",
        "    x = c if y > c else y",
        "    x = -c if x < -c else x",
        "    x2 = x * x",
        f"    p = x * {_horner(TANH32_NUM, 'x2')}",
        f"    q = {_horner(TANH32_DEN, 'x2')}",
        f"    return y if abs(y) < {_f32(TANH32_TINY)} else p / q",
    ]) + "\n"


def _compare(op: str, ufunc) -> Scalar:
    return Scalar(f"({{0}} {op} {{1}})", ufunc, boolean=True)


SCALAR_TABLE: dict = {
    ew.negative_p: Scalar("(-{0})", np.negative, "iuf"),
    ew.reciprocal_p: Scalar("({0} / {1})", np.true_divide, "f", prefix=(1,)),
    ew.square_p: Scalar("({0} * {0})", np.square, "iuf"),
    ew.abs_p: Scalar("abs({0})", np.absolute, "iuf"),
    ew.sign_p: Scalar("np.sign({0})", np.sign, "f"),
    **{getattr(ew, f"{name}_p"): _float(name) for name in (
        "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos", "tan",
        "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh",
        "floor", "ceil")},
    ew.exp_p: _float("exp", float64="exp_float64({0})"),  # <= 0.51 ulp: see _numba_math
    ew.tanh_p: _float("tanh", float32="tanh_float32({0})", float64="tanh_float64({0})"),
    ew.round_p: Scalar("np.rint({0})", np.rint, "f"),  # round(x) with 0 decimals: half to even
    ew.isnan_p: Scalar("np.isnan({0})", np.isnan, "f", boolean=True),
    ew.isfinite_p: Scalar("np.isfinite({0})", np.isfinite, "f", boolean=True),
    ew.logical_not_p: Scalar("({0} == 0)", np.logical_not, boolean=True),
    ew.add_p: Scalar("({0} + {1})", np.add),
    ew.subtract_p: Scalar("({0} - {1})", np.subtract, "iuf"),
    ew.multiply_p: Scalar("({0} * {1})", np.multiply),
    ew.divide_p: Scalar("({0} / {1})", np.true_divide, "f"),
    ew.power_p: Scalar("({0} ** {1})", np.power, "f"),
    ew.maximum_p: Scalar("maximum({0}, {1})", np.maximum, "iuf"),  # NaN-propagating helpers
    ew.minimum_p: Scalar("minimum({0}, {1})", np.minimum, "iuf"),
    ew.arctan2_p: _float("arctan2", 2),
    ew.hypot_p: _float("hypot", 2),
    ew.logaddexp_p: _float("logaddexp", 2),
    ew.equal_p: _compare("==", np.equal),
    ew.not_equal_p: _compare("!=", np.not_equal),
    ew.less_p: _compare("<", np.less),
    ew.less_equal_p: _compare("<=", np.less_equal),
    ew.greater_p: _compare(">", np.greater),
    ew.greater_equal_p: _compare(">=", np.greater_equal),
    ew.logical_and_p: Scalar("(({0} != 0) and ({1} != 0))", np.logical_and, boolean=True),
    ew.logical_or_p: Scalar("(({0} != 0) or ({1} != 0))", np.logical_or, boolean=True),
    ew.logical_xor_p: Scalar("(({0} != 0) != ({1} != 0))", np.logical_xor, boolean=True),
    ew.bitwise_and_p: Scalar("({0} & {1})", np.bitwise_and, "biu"),
    ew.bitwise_or_p: Scalar("({0} | {1})", np.bitwise_or, "biu"),
    ew.bitwise_xor_p: Scalar("({0} ^ {1})", np.bitwise_xor, "biu"),
    # ~ of a bool is "not" in NumPy (Python's ~True is -2). Shifts are left to NumPy:
    # a shift by the width or more is defined there and not in the compiled code.
    ew.invert_p: Scalar("(~{0})", np.invert, "biu", by_dtype=(("bool", "(not {0})"),)),
    ew.floor_divide_p: Scalar("({0} // {1})", np.floor_divide, "iuf"),
    ew.mod_p: Scalar("({0} % {1})", np.remainder, "iuf"),
    ew.select_p: Scalar("({1} if {0} else {2})", np.where),  # typed in _loop_dtypes
}


class Unsupported(Exception):
    """This Program cannot be compiled for these dtypes: run the NumPy reference."""


def _weak(t):
    """What NumPy's loop resolution takes for an operand: a dtype, or a weak Python type."""
    if isinstance(t, np.dtype):
        return t
    return np.dtype(bool) if isinstance(t, bool) else type(t)


def _loop_dtypes(entry: Scalar, operands) -> tuple[list, np.dtype]:
    """The (operand dtypes, result dtype) of the NumPy loop ``entry`` stands for."""
    if entry.ufunc is np.where:
        value = np.result_type(*operands[1:])
        return [np.dtype(bool), value, value], value
    try:
        resolved = entry.ufunc.resolve_dtypes(tuple(_weak(t) for t in operands) + (None,))
    except (TypeError, ValueError) as e:  # no such loop (e.g. subtract on bools)
        raise Unsupported(str(e)) from None
    return list(resolved[:-1]), resolved[-1]


def _literal(value, dtype: np.dtype) -> str:
    """Source for the Python scalar ``value`` as a ``dtype`` value (NumPy's cast of a weak scalar)."""
    try:
        v = dtype.type(value)  # raises like NumPy for an int that does not fit
    except (OverflowError, ValueError) as e:
        raise Unsupported(str(e)) from None
    if dtype.kind == "b":
        return repr(bool(v))
    if dtype.kind == "f":
        x = float(v)
        text = ("np.nan" if math.isnan(x) else ("np.inf" if x > 0 else "-np.inf")
                if math.isinf(x) else repr(x))
        return text if dtype == np.float64 else f"np.{dtype.name}({text})"
    return repr(int(v)) if dtype == np.int64 else f"np.{dtype.name}({int(v)})"


def _cast(expr: str, have: np.dtype | None, want: np.dtype) -> str:
    """Source converting ``expr`` (of dtype ``have``; ``None``: unknown) to ``want``, as NumPy casts."""
    if isinstance(have, np.dtype) and have == want:  # (np.dtype("float64") == None is True)
        return expr
    if want.kind == "b":
        return f"({expr} != 0)"
    return f"np.{want.name}({expr})"


class Typed(NamedTuple):
    """A Program typed for one tuple of input dtypes: its scalar body and result dtype."""

    body: tuple[str, ...]  # one assignment per instruction, over x0.. (inputs) and t0.. (temps)
    out_dtype: np.dtype
    penalty_ns: float      # the loop's extra cost per element over NumPy's SIMD functions
    temp_bytes: int = 0    # bytes per element of the temporaries the loop does not write


def type_program(program: Program, in_dtypes: tuple, table: Mapping = SCALAR_TABLE,
                 penalties: Mapping = MappingProxyType({})) -> Typed:
    """The scalar code of ``program`` for inputs of ``in_dtypes``; raises :class:`Unsupported`.

    An entry of ``in_dtypes`` is an input's dtype, or a Python ``float`` standing for
    a weakly typed Python float input (cast to the dtype of each loop that reads it,
    as NumPy casts a Python scalar).  ``table`` gives each primitive's :class:`Scalar`
    (a backend's own spelling of some rows: :func:`with_templates`); ``penalties``
    maps ``(primitive, result dtype name)`` to the nanoseconds per element that the
    backend's loop loses to NumPy (summed into :attr:`Typed.penalty_ns`).

    Examples:
        >>> from funcgrad.ops.elementwise import multiply_p
        >>> p = Program(((multiply_p, (("in", 0), ("const", 0.5))),), 0, 1)
        >>> type_program(p, (np.dtype(np.float32),)).body
        ('t0 = np.float32((x0 * np.float32(0.5)))',)
    """
    if any(not (type(d) is float or d in SUPPORTED) for d in in_dtypes):
        raise Unsupported(f"dtypes {in_dtypes}")
    tmp_dtypes: list[np.dtype] = []
    body = []
    penalty = 0.0
    for j, (prim, ops) in enumerate(program.instructions):
        entry = table.get(prim)
        if entry is None:
            raise Unsupported(f"no scalar expression for {prim.name}")
        operands = [(CONST, v) for v in entry.prefix] + list(ops)
        kinds = [in_dtypes[v] if tag == IN else tmp_dtypes[v] if tag == TMP else v
                 for tag, v in operands]
        loop_in, loop_out = _loop_dtypes(entry, kinds)
        if any(d not in SUPPORTED or d.kind not in entry.kinds for d in loop_in):
            raise Unsupported(f"{prim.name} on {loop_in}")
        if loop_out not in SUPPORTED:
            raise Unsupported(f"{prim.name} gives {loop_out}")
        args = []
        for (tag, v), have, want in zip(operands, kinds, loop_in):
            if tag == CONST:
                args.append(_literal(v, want))
            else:
                args.append(_cast(f"x{v}" if tag == IN else f"t{v}", have, want))
        expr = entry.template_for(loop_out).format(*args)
        if not (entry.boolean and loop_out.kind == "b"):
            expr = _cast(expr, None, loop_out)
        body.append(f"t{j} = {expr}")
        tmp_dtypes.append(loop_out)
        penalty += penalties.get((prim, loop_out.name), 0.0)
    temp_bytes = sum(d.itemsize for j, d in enumerate(tmp_dtypes) if j != program.output)
    return Typed(tuple(body), tmp_dtypes[program.output], penalty, temp_bytes)


def with_templates(table: Mapping, templates: Mapping) -> dict:
    """``table`` with the templates of some rows replaced: ``{primitive: (template, by_dtype)}``.

    The rows keep their NumPy loop (``ufunc``, ``kinds``, ``prefix``), so a Program
    is typed the same way on every backend; only the source of each element differs
    (the CUDA target spells ``np.sin`` as ``math.sin``, say).

    Examples:
        >>> t = with_templates(SCALAR_TABLE, {ew.sin_p: ("sine({0})", ())})
        >>> t[ew.sin_p].template, t[ew.sin_p].ufunc is np.sin
        ('sine({0})', True)
    """
    out = dict(table)
    for prim, (template, by_dtype) in templates.items():
        out[prim] = table[prim]._replace(template=template, by_dtype=tuple(by_dtype))
    return out
