"""Small checks shared by the layers, losses and io: argument validation and shape text."""

from __future__ import annotations

from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, DTypeError

_CONCRETE = (np.ndarray, np.generic, bool, int, float, complex, list, tuple)


def is_concrete(x: Any) -> bool:
    """True for NumPy arrays, NumPy scalars and Python numbers; False for traced values."""
    return isinstance(x, _CONCRETE)


def dtype_of(x: Any) -> np.dtype:
    """The dtype of an array, scalar or tracer."""
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.asarray(x).dtype


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, scalar or tracer."""
    return tuple(fnp.shape(x))


def is_key(rng: Any) -> bool:
    """True for a ``funcgrad.random`` key: a ``uint32[2]`` array or traced value."""
    return getattr(rng, "dtype", None) == np.uint32 and tuple(getattr(rng, "shape", ())) == (2,)


def check_rng(rng: Any, where: str) -> Any:
    """What draws the random numbers: ``rng`` itself if it is a ``numpy.random.Generator``,
    a :class:`~funcgrad.nn._initializers.KeyDraws` for a ``funcgrad.random`` key (or the one
    given); anything else is an :class:`ArgumentError`."""
    from funcgrad.nn._initializers import KeyDraws

    if isinstance(rng, (np.random.Generator, KeyDraws)):
        return rng
    if is_key(rng):
        return KeyDraws(rng)
    raise ArgumentError(
        f"{where}: rng must be a funcgrad.random key (e.g. funcgrad.random.key(0)) or a "
        f"numpy.random.Generator (e.g. np.random.default_rng(0)), "
        f"got {type(rng).__module__}.{type(rng).__qualname__}")


def check_float_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a floating-point ``np.dtype``; anything else is a :class:`DTypeError`."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{where}: dtype={dtype!r} is not a NumPy dtype") from None
    if not fnp.issubdtype(dt, np.floating):
        raise DTypeError(f"{where}: parameters must be floating point, got dtype={dt}")
    return dt


def check_positive_int(value: Any, name: str, where: str) -> None:
    """An :class:`ArgumentError` unless ``value`` is a positive ``int``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{where}: {name} must be a positive int, got {value!r}")


def check_choice(value: Any, choices: tuple[str, ...], name: str, where: str) -> None:
    """An :class:`ArgumentError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ArgumentError(f"{where}: {name} must be one of {choices}, got {value!r}")
