"""Checking and flattening the arguments and outputs of transformed functions."""

from __future__ import annotations

import inspect
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import is_inexact
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, DTypeError

_SCALARS = (bool, int, float, complex, np.generic)


def normalize_argnums(argnums, nargs: int, fname: str, kwargs=()) -> tuple[tuple[int, ...], bool]:
    """``(argnums as a tuple, whether one int was given)``; a clear error when out of range.

    ``kwargs`` (the call's keyword arguments) only improves that error: as in JAX, ``argnums``
    count positional arguments, and keyword arguments are never differentiated.
    """
    single = isinstance(argnums, int)
    if not single and not isinstance(argnums, (tuple, list)):
        raise ArgumentError(f"{fname}: argnums must be an int or a tuple of ints, got "
                            f"{argnums!r} ({type(argnums).__name__})")
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ArgumentError(f"{fname}: argnums must name at least one argument, got {argnums!r}")
    out = []
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise ArgumentError(f"{fname}: argnums must be ints, got {n!r} ({type(n).__name__})")
        if not -nargs <= n < nargs:
            hint = (f" and keyword argument{'s' if len(kwargs) != 1 else ''} "
                    f"{', '.join(map(repr, kwargs))}, which are never differentiated: pass "
                    "the arguments to differentiate by position" if kwargs else "")
            raise ArgumentError(
                f"{fname}: argnums={argnums!r} is out of range: the function was called "
                f"with {nargs} positional argument{'s' if nargs != 1 else ''}{hint}")
        out.append(n % nargs)
    return tuple(out), single


def as_array_leaf(x, where: str, fname: str):
    """A leaf of an argument as an array (or tracer); anything else is an :class:`ArgumentError`."""
    if isinstance(x, (np.ndarray, Tracer)):
        return x
    if isinstance(x, _SCALARS):
        return np.asarray(x)
    raise ArgumentError(
        f"{fname}: {where} is a {type(x).__module__}.{type(x).__qualname__} ({x!r:.60}); "
        "expected an array, a Python or NumPy scalar, or a pytree of them "
        "(dict, list, tuple, namedtuple, dataclass)")


def array_leaves(leaves, describe, fname: str) -> list:
    """:func:`as_array_leaf` over ``leaves``; ``describe(i)`` names leaf ``i`` (only called on error)."""
    out = []
    for i, x in enumerate(leaves):
        if isinstance(x, (np.ndarray, Tracer)) or getattr(type(x), "__cuda_ndarray__", False):
            out.append(x)  # (a CUDA device array from device_put: for the cuda backend)
        else:
            out.append(as_array_leaf(x, describe(i), fname))
    return out


def flatten_differentiable(args: Sequence[Any], fname: str) -> tuple[list, Any]:
    """Flatten the differentiated arguments; every leaf must be a floating-point array."""
    leaves, treedef = tree.flatten(tuple(args))
    out = []
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, (np.ndarray, Tracer)):
            leaf = as_array_leaf(leaf, f"leaf {i} of the differentiated arguments {treedef}", fname)
        if not is_inexact(leaf.dtype):
            where = f"leaf {i} of the differentiated arguments {treedef}"
            raise DTypeError(
                f"{fname}: {where} has dtype {leaf.dtype}, but it can only differentiate with "
                "respect to floating-point inputs. Pass floats (e.g. x.astype(float)), leave "
                "integer arguments out of argnums, or pass allow_int=True to grad, "
                "value_and_grad or jacrev (integer inputs then get float0 zero gradients).")
        out.append(leaf)
    return out, treedef


def describe(x) -> str:
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"{np.dtype(x.dtype).name}{list(x.shape)}"
    return type(x).__name__


index = operator.index


def _leaf_dtype(x) -> np.dtype:
    return np.dtype(x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype)


def require_complex(leaves, fname: str, what: str) -> None:
    """``holomorphic=True``: every leaf of the ``what`` ("inputs", "outputs") must be complex, as in JAX.

    Examples:
        >>> require_complex([np.ones(2, complex)], "grad", "inputs")
    """
    for i, leaf in enumerate(leaves):
        dt = _leaf_dtype(leaf)
        if dt.kind != "c":
            raise DTypeError(
                f"{fname} with holomorphic=True requires {what} with a complex dtype, but "
                f"{what[:-1]} leaf {i} has dtype {dt.name}. "
                + ("Pass complex values (e.g. x.astype(complex))" if what == "inputs"
                   else "The function must return complex values")
                + ", or leave holomorphic=False.")


def refuse_complex(leaves, fname: str, what: str, direct: str) -> None:
    """Without ``holomorphic=True``, complex ``what`` ("inputs", "outputs") are refused, as in JAX.

    ``direct`` names the transformation that handles the non-holomorphic case (``vjp``, ``jvp``).

    Examples:
        >>> refuse_complex([np.ones(2)], "jacfwd", "inputs", "jvp")
    """
    for i, leaf in enumerate(leaves):
        dt = _leaf_dtype(leaf)
        if dt.kind == "c":
            raise DTypeError(
                f"{fname} requires real-valued {what} (a floating dtype), but {what[:-1]} leaf "
                f"{i} has dtype {dt.name}. For a holomorphic function pass holomorphic=True; for "
                f"a non-holomorphic function with complex {what} use funcgrad.{direct} directly "
                "(see docs/complex.md).")


# -- argnums and argnames of jit (static_*, donate_*) --------------------------------------
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def signature_parameters(fun) -> dict | None:
    """``fun``'s parameters by name, or ``None`` when it has no inspectable signature."""
    try:
        return dict(inspect.signature(fun).parameters)
    except (TypeError, ValueError):
        return None


def resolve_argnums_argnames(params: dict | None, argnums, argnames, option: str,
                             fname: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """``(argnums, argnames)`` for one ``jit`` option (``"static"``, ``"donate"``), as JAX resolves them.

    Given only one of the two, the other is inferred from the signature (a positional
    parameter is named by both its position and its name); given both, they are used as
    they are.  With a signature that has no ``*args``, positions must be in range (negative
    ones count from the end) and names must be parameters unless there is ``**kwargs``:
    anything else is an :class:`ArgumentError` when ``jit`` is called, not when the
    function is.

    Examples:
        >>> resolve_argnums_argnames(signature_parameters(lambda x, n: x), (), "n", "static", "jit")
        ((1,), ('n',))
    """
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    names = (argnames,) if isinstance(argnames, str) else tuple(argnames)
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise ArgumentError(f"{fname}: {option}_argnums must be ints, got {n!r} "
                                f"({type(n).__name__})")
    for k in names:
        if not isinstance(k, str):
            raise ArgumentError(f"{fname}: {option}_argnames must be strings, got {k!r} "
                                f"({type(k).__name__})")
    if params is None:
        return nums, names
    kinds = [p.kind for p in params.values()]
    positional = [k for k, p in params.items() if p.kind in _POSITIONAL]
    if inspect.Parameter.VAR_POSITIONAL not in kinds:
        n_pos = len(positional)
        bad = [n for n in nums if not -n_pos <= n < n_pos]
        if bad:
            raise ArgumentError(f"{fname}: {option}_argnums={nums!r} is out of range: the function "
                                f"takes {n_pos} positional argument{'s' if n_pos != 1 else ''} "
                                f"{tuple(positional)!r}")
        nums = tuple(n % n_pos for n in nums)
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        by_keyword = {k for k, p in params.items()
                      if p.kind is not inspect.Parameter.POSITIONAL_ONLY and p.kind in
                      (*_POSITIONAL, inspect.Parameter.KEYWORD_ONLY)}
        bad_names = sorted(set(names) - by_keyword)
        if bad_names:
            raise ArgumentError(f"{fname}: {option}_argnames names {bad_names!r}, which the "
                                f"function does not take by keyword; its parameters are "
                                f"{tuple(params)!r}")
    if nums and not names:
        names = tuple(positional[n] for n in nums if 0 <= n < len(positional)
                      and params[positional[n]].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)
    elif names and not nums:
        nums = tuple(positional.index(k) for k in names if k in positional)
    return tuple(sorted(set(nums))), tuple(dict.fromkeys(names))


# -- allow_int: integer inputs at argnums get float0 gradients -------------------------------
#: JAX's dtype of the gradient of an integer or boolean input (``jax.dtypes.float0``): a
#: zero-size void field, so an array of it holds no data.
float0 = np.dtype([("float0", np.void, 0)])


class IntLeaves:
    """The differentiated arguments split into floating leaves (differentiated) and integer or
    boolean leaves (held fixed), for ``allow_int=True``.

    Examples:
        >>> split = IntLeaves((1.5, np.arange(2)), "grad")
        >>> split.float_leaves
        [array(1.5)]
        >>> split.gradients([np.float64(2.0)])[1].dtype == float0
        True
    """

    def __init__(self, diff_args: tuple, fname: str):
        leaves, self.treedef = tree.flatten(tuple(diff_args))
        leaves = array_leaves(leaves, lambda i: f"leaf {i} of the differentiated arguments "
                                                f"{self.treedef}", fname)
        self.leaves = leaves
        self.is_float = [is_inexact(x.dtype) for x in leaves]
        for i, (x, fl) in enumerate(zip(leaves, self.is_float)):
            if not fl and np.dtype(x.dtype).kind not in "biu":
                raise DTypeError(f"{fname}: leaf {i} of the differentiated arguments "
                                 f"{self.treedef} has dtype {x.dtype}; with allow_int=True "
                                 "inputs may be floating, integer or boolean")
        self.float_leaves = [x for x, fl in zip(leaves, self.is_float) if fl]

    def rebuild(self, float_leaves) -> tuple:
        """The differentiated arguments with the floating leaves replaced by ``float_leaves``."""
        it = iter(float_leaves)
        return tree.unflatten(self.treedef, [next(it) if fl else x
                                             for x, fl in zip(self.leaves, self.is_float)])

    def gradients(self, float_grads) -> tuple:
        """The gradients of every argument: ``float_grads`` and float0 zeros for the integer leaves."""
        it = iter(float_grads)
        return tree.unflatten(self.treedef, [next(it) if fl else np.zeros(np.shape(x), float0)
                                             for x, fl in zip(self.leaves, self.is_float)])
