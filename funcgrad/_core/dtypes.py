"""Which dtypes are floating point: the one place that answers it.

NumPy's own floats and complex numbers have dtype kind ``'f'`` and ``'c'``, but the
reduced-precision types of ``ml_dtypes`` (``bfloat16``, the float8 family, ...) are
user-defined dtypes, most of kind ``'V'``: a ``dtype.kind in "fc"`` test takes them
for non-numbers, and a derivative through them is silently dropped.  Every
"is this differentiable?" question in funcgrad asks :func:`is_inexact` instead.

``ml_dtypes`` is recognised, never required: an array of one of its types can only
exist once it has been imported, so the answer for a user-defined dtype is looked up
in ``sys.modules`` and ``import funcgrad`` never imports it.  An ``ml_dtypes`` type
counts as floating when ``ml_dtypes.finfo`` describes it, and as complex when its
``finfo`` describes a different (real) dtype, as NumPy's does for ``complex64``.
Answers are kept per dtype in a dict, so a test costs one lookup.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["INEXACT", "finfo", "is_complex", "is_floating", "is_inexact", "issubdtype"]


def _ml_finfo(dtype: np.dtype) -> Any:
    """``ml_dtypes.finfo(dtype)`` for a user-defined dtype that ``ml_dtypes`` describes, else ``None``."""
    if dtype.isbuiltin != 2 or getattr(dtype.type, "__module__", None) != "ml_dtypes":
        return None
    ml_dtypes = sys.modules.get("ml_dtypes")
    if ml_dtypes is None:
        return None
    try:
        return ml_dtypes.finfo(dtype)
    except (TypeError, ValueError):  # an integer type such as ml_dtypes.int4
        return None


def _classify(dtype: np.dtype) -> str:
    """``'f'`` (real floating), ``'c'`` (complex) or ``''`` (anything else)."""
    info = _ml_finfo(dtype)
    if info is not None:
        return "f" if np.dtype(info.dtype) == dtype else "c"
    return dtype.kind if dtype.kind in "fc" else ""


class _Table(dict):
    """dtype (or anything ``np.dtype`` takes) → answer, filled in on the first question."""

    __slots__ = ("_answer",)

    def __init__(self, answer) -> None:
        super().__init__()
        self._answer = answer

    def __missing__(self, key) -> bool:
        value = self._answer(_classify(np.dtype(key)))
        self[key] = value
        return value


#: ``INEXACT[dtype]``: :func:`is_inexact` as one dict lookup, for the hottest loops.
INEXACT: dict = _Table(bool)
#: ``CARRIES_DERIVATIVE[dtype]``: whether values of ``dtype`` carry tangents and cotangents:
#: the inexact dtypes, and ``object``, the dtype of an operation's several results (one
#: ``Results`` value that carries its results' derivatives: :mod:`funcgrad.ops.results`).
CARRIES_DERIVATIVE: dict = _Table(bool)
CARRIES_DERIVATIVE[np.dtype(object)] = True
_FLOATING: dict = _Table(lambda c: c == "f")
_COMPLEX: dict = _Table(lambda c: c == "c")


def is_inexact(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating-point or complex type (NumPy's or ``ml_dtypes``').

    Examples:
        >>> is_inexact(np.float16), is_inexact(np.complex64), is_inexact(np.int32)
        (True, True, False)
    """
    return INEXACT[dtype]


def is_floating(dtype: Any) -> bool:
    """Whether ``dtype`` is a real floating-point type: float16/32/64, bfloat16, float8, ...

    Examples:
        >>> is_floating(np.float32), is_floating(np.complex128), is_floating(bool)
        (True, False, False)
    """
    return _FLOATING[dtype]


def is_complex(dtype: Any) -> bool:
    """Whether ``dtype`` is a complex type (complex64/128, ``ml_dtypes``' complex types).

    Examples:
        >>> is_complex(np.complex64), is_complex(np.float64)
        (True, False)
    """
    return _COMPLEX[dtype]


def finfo(dtype: Any) -> Any:
    """``np.finfo`` that also knows ``ml_dtypes``' types (``bfloat16``'s ``eps`` is 2**-7).

    Examples:
        >>> float(finfo(np.float16).eps)
        0.0009765625
    """
    dt = np.dtype(dtype)
    info = _ml_finfo(dt)
    return info if info is not None else np.finfo(dt)


_ABSTRACT = {np.number: "fc", np.inexact: "fc", np.floating: "f", np.complexfloating: "c"}


def issubdtype(arg1: Any, arg2: Any) -> bool:
    """``np.issubdtype`` that also places ``ml_dtypes``' types, as JAX does: bfloat16 is a ``np.floating``.

    Examples:
        >>> issubdtype(np.float16, np.floating), issubdtype(np.int8, np.inexact)
        (True, False)
    """
    if getattr(getattr(arg1, "type", arg1), "__module__", None) == "ml_dtypes" and arg2 in _ABSTRACT:
        kind = _classify(np.dtype(arg1))
        if kind:
            return kind in _ABSTRACT[arg2]
    return bool(np.issubdtype(arg1, arg2))
