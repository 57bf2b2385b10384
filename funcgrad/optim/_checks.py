"""Checks shared by the optimisers: hyperparameters, pytree structures, leaf dtypes.

Hyperparameters are checked once, when a transformation is built (a bad one
is an ``ArgumentError``), and stored as Python floats: Python scalars are weak
(NEP 50), so ``0.9 * m`` keeps a float32 moment float32.

The one exception is a traced 0-d hyperparameter: ``inject_hyperparams`` keeps
hyperparameters as arrays in the optimiser state and rebuilds the optimiser
from them inside ``update``, so under ``jit`` a factory receives tracers.  Their
values were checked when they were concrete (at ``init``, or eagerly), so a
traced scalar passes through unchecked.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad._core.trace import user_location
from funcgrad.errors import ArgumentError, ShapeError, TreeStructureError

PyTree = Any


def is_traced_scalar(value: Any) -> bool:
    """Whether ``value`` is a 0-d traced value (not a NumPy array, but array-like)."""
    return (not isinstance(value, (np.ndarray, np.generic)) and not callable(value)
            and getattr(value, "shape", None) == () and hasattr(value, "dtype"))


def real(value: Any, where: str, name: str, *, low: float | None = None,
         low_open: bool = False, high: float | None = None, high_open: bool = False) -> Any:
    """``value`` as a finite Python float within the given bounds, or a clear error.

    A traced 0-d value passes through unchecked (see the module docstring).
    """
    if is_traced_scalar(value) and np.issubdtype(value.dtype, np.number):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{where}: {name} must be a real number, got {value!r} "
                            f"({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ArgumentError(f"{where}: {name} must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ArgumentError(f"{where}: {name} must be {'>' if low_open else '>='} {low}, "
                            f"got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ArgumentError(f"{where}: {name} must be {'<' if high_open else '<='} {high}, "
                            f"got {value!r}")
    return value


def integer(value: Any, where: str, name: str, *, low: int = 0) -> int:
    """``value`` as a Python int ``>= low``, or a clear error."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if is_traced_scalar(value):
        raise ArgumentError(f"{where}: {name} must be a concrete int, got a traced value; "
                            f"with inject_hyperparams, name the optimiser argument that sets "
                            f"it in static_args")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"{where}: {name} must be an int, got {value!r} "
                            f"({type(value).__name__})")
    if value < low:
        raise ArgumentError(f"{where}: {name} must be >= {low}, got {value!r}")
    return int(value)


def real_or_schedule(value: Any, where: str, name: str) -> float | Callable[[Any], Any]:
    """A float hyperparameter, or a schedule (any callable of the step count)."""
    if callable(value):
        return value
    if is_traced_scalar(value):
        return real(value, where, name)
    if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, numbers.Real)
            or (isinstance(value, np.ndarray) and value.ndim == 0)):
        raise ArgumentError(f"{where}: {name} must be a real number or a schedule (a callable "
                            f"of the step count), got {value!r} ({type(value).__name__})")
    return real(value, where, name)


def same_structure(where: str, first: PyTree, first_name: str, second: PyTree,
                   second_name: str) -> None:
    """Raise :class:`TreeStructureError` naming both structures when they differ."""
    s1, s2 = tree.structure(first), tree.structure(second)
    if s1 != s2:
        raise TreeStructureError(f"{where}: {first_name} and {second_name} must have the same "
                                 f"pytree structure, got {first_name} {s1!r} and "
                                 f"{second_name} {s2!r}")


def same_shapes(where: str, first: PyTree, first_name: str, second: PyTree,
                second_name: str) -> None:
    """Raise :class:`ShapeError` naming the first leaf path whose array shapes differ.

    The trees have the same structure; leaves without a ``shape`` (Python scalars, masked
    placeholders) are not compared.  Without this a mismatch would broadcast silently
    (``sgd``) or fail inside NumPy with no name.
    """
    for a, b in zip(tree.leaves(first), tree.leaves(second)):
        if hasattr(a, "shape") and hasattr(b, "shape") and tuple(a.shape) != tuple(b.shape):
            break
    else:
        return
    for (path, a), b in zip(tree.leaves_with_path(first), tree.leaves(second)):
        if hasattr(a, "shape") and hasattr(b, "shape") and tuple(a.shape) != tuple(b.shape):
            key, loc = tree.keystr(path), user_location()
            called = f" (called at {loc[0]}:{loc[1]})" if loc else ""
            raise ShapeError(
                f"{where}: {first_name}{key} has shape {tuple(a.shape)}, but "
                f"{second_name}{key} has shape {tuple(b.shape)}{called}. Each gradient leaf "
                "must have the shape of its parameter: take the gradients with funcgrad.grad "
                "of the loss with respect to these very params (grad returns a tree shaped "
                "like its argument), and pass the params the optimiser was initialised with.")


def check_update(where: str, updates: PyTree, params: PyTree | None,
                 state_tree: PyTree | None = None, *, state_shapes: bool = True) -> None:
    """Raise ``TreeStructureError`` unless ``updates`` fits ``params`` and ``state_tree`` (if given),
    and ``ShapeError`` unless its leaves have their shapes (``state_shapes=False``: the state's
    leaves are not shaped like the parameters, e.g. factored moments)."""
    if params is not None:
        same_structure(where, updates, "grads", params, "params")
        same_shapes(where, updates, "grads", params, "params")
    if state_tree is not None:
        same_structure(where, updates, "grads", state_tree, "the state (made by init(params))")
        if state_shapes:
            same_shapes(where, updates, "grads", state_tree,
                        "the state (made by init(params)) at ")


def need_params(where: str, updates: PyTree, params: PyTree | None) -> None:
    """Raise ``ArgumentError`` when ``params`` is missing, then check it against ``updates``."""
    if params is None:
        raise ArgumentError(f"{where} needs the parameters: call update(grads, state, params)")
    check_update(where, updates, params)


def dtype_of(x: Any) -> np.dtype:
    """The dtype of an array, tracer or Python scalar."""
    dtype = getattr(x, "dtype", None)
    return np.dtype(dtype) if dtype is not None else np.result_type(x)


def cast_like(x: Any, ref: Any) -> Any:
    """``x`` in the dtype of ``ref`` (no node when it already is)."""
    dtype = dtype_of(ref)
    return x if dtype_of(x) == dtype else fnp.astype(x, dtype)


def boolean(value: Any, where: str, name: str) -> bool:
    """``value`` if it is a bool, else a clear error."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{where}: {name} must be a bool, got {value!r} "
                            f"({type(value).__name__})")
    return bool(value)


def quiet_when(discarded: Any) -> Any:
    """``np.errstate(all="ignore")`` when ``discarded`` is a concrete True, else a no-op context.

    For a result that is computed and then thrown away (the inner update of a
    skipped non-finite step): NumPy's warnings about it would be false alarms.
    Under ``jit`` the condition is traced and nothing is silenced.
    """
    if not is_traced_scalar(discarded) and bool(np.asarray(discarded)):
        return np.errstate(all="ignore")
    return contextlib.nullcontext()


def zeros_like(params: PyTree) -> PyTree:
    """A tree of zeros like ``params`` (same structure, shapes and dtypes)."""
    return tree.map(fnp.zeros_like, params)


def zero_count() -> np.ndarray:
    """A fresh step count: an int64 0-d array."""
    return np.zeros((), np.int64)


def increment(count: Any) -> Any:
    """``count + 1``, kept an int64 0-d array (a tracer under ``jit``)."""
    return fnp.asarray(count + 1)
