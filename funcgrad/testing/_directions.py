"""The finite-difference side of ``check_grads``: input leaves, directions, central differences.

A *direction* ``d`` moves the differentiated input leaves to ``x + h d`` and
``x - h d``; the central difference of ``<u, f>`` along it is compared with the
derivative that reverse mode (``Re sum(vjp(u) * d)``) and forward mode
(``<u, jvp(d)>``) give.  Element directions move one element (and, for a complex
leaf, one element's real or imaginary part): one check per element, so a report
can name the element.  Random directions move every element of every leaf at
once: ``k`` of them cost ``2k`` calls of ``f`` whatever the input size.

Each leaf is perturbed in its own dtype, and ``d`` is the step *really* taken
after rounding, so the comparison stays exact in float16 or bfloat16.
``<u, y>`` is ``Re(sum(u * y))`` (no conjugate), the pairing under which
funcgrad's VJP of a complex function is the transpose of its JVP (JAX's
convention): for a real scalar ``L`` of complex ``z`` the gradient is
``dL/dx - i dL/dy``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import finfo, is_complex, is_inexact
from funcgrad.errors import ArgumentError, DTypeError, TreeStructureError
from funcgrad.transforms._args import normalize_argnums

# dtype name -> (eps, rtol, atol).  eps balances truncation error (~eps**2) against
# rounding error (~machine epsilon / eps) of the central difference.  Keyed by name
# because bfloat16 (ml_dtypes) is a kind-'V' dtype that NumPy cannot name itself.
_DEFAULTS = {
    "float64": (1e-6, 1e-5, 1e-6),
    "complex128": (1e-6, 1e-5, 1e-6),
    "float32": (1e-3, 2e-2, 2e-3),
    "complex64": (1e-3, 2e-2, 2e-3),
    "float16": (1e-2, 1e-1, 1e-2),
    "bfloat16": (1e-1, 1e-1, 5e-2),
}
_WIDEST = (1e-6, 1e-5, 1e-6)  # longdouble, clongdouble
_NARROW = _DEFAULTS["bfloat16"]  # any other reduced-precision type (ml_dtypes' float8, ...)
# The rounding term of the tolerance: this many machine epsilons of every output
# value that enters a difference, divided by the step.
_ROUNDING_ULPS = 8.0
_LEAF = tree.structure(0.0)


def defaults(dtype: Any) -> tuple[float, float, float]:
    """``(eps, rtol, atol)`` for ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype.name in _DEFAULTS:
        return _DEFAULTS[dtype.name]
    return _WIDEST if machine_eps(dtype) <= np.finfo(np.float64).eps else _NARROW


def machine_eps(dtype: Any) -> float:
    """The machine epsilon of a floating dtype; 0 for anything else (it has no derivative)."""
    return float(finfo(dtype).eps) if is_inexact(dtype) else 0.0


def wide(a: Any) -> np.ndarray:
    """``a`` in float64, or complex128 if it is complex: where every pairing is accumulated."""
    a = np.asarray(a)
    return a.astype(np.complex128 if is_complex(a.dtype) else np.float64)


def pair(u: Sequence[np.ndarray], y: Sequence[Any]) -> float:
    """``<u, y> = Re(sum(u * y))`` over matching lists of arrays (``None`` in ``u`` skips a leaf)."""
    total = 0.0
    for c, v in zip(u, y):
        if c is not None:
            total += float(np.real(np.sum(c * wide(v))))
    return total


# -- the differentiated leaves ----------------------------------------------------------

class Leaf:
    """One differentiated input leaf: its value (a private copy), where it came from, its step."""

    __slots__ = ("eps", "label", "value")

    def __init__(self, value: np.ndarray, label: str, eps: float):
        self.value = value
        self.label = label
        self.eps = eps


def _inexact_leaf(x: Any, label: str, fname: str) -> np.ndarray:
    """A private copy of an argument leaf; anything but a float or complex is a :class:`DTypeError`."""
    if isinstance(x, (bool, int, float, complex, np.generic, np.ndarray)):
        arr = np.array(x)  # a copy: the caller's arrays are never touched
    else:
        raise DTypeError(f"{fname}: {label} is a {type(x).__module__}.{type(x).__qualname__} "
                         f"({x!r:.60}); expected a floating-point array or scalar")
    if not is_inexact(arr.dtype):
        raise DTypeError(
            f"{fname}: {label} has dtype {arr.dtype}, but gradients can only be checked with "
            "respect to floating-point (real or complex) inputs. Pass floats "
            "(e.g. x.astype(float)), or leave this argument out of argnums.")
    return arr


def split_args(args: Sequence[Any], argnums: Any, eps: float | None, fname: str):
    """The differentiated leaves (copies) and a function that rebuilds the full argument list."""
    if not isinstance(args, (tuple, list)):
        raise ArgumentError(f"{fname}: args must be a tuple of positional arguments, got "
                            f"{type(args).__name__}; wrap a single argument as (x,)")
    args = tuple(args)
    if not args:
        raise ArgumentError(f"{fname}: args is empty; there is nothing to differentiate")
    nums, _ = normalize_argnums(tuple(range(len(args))) if argnums is None else argnums,
                                len(args), fname)
    if len(set(nums)) != len(nums):
        raise ArgumentError(f"{fname}: argnums={argnums!r} names an argument twice")
    leaves: list[Leaf] = []
    treedefs = []
    for n in nums:
        flat, treedef = tree.flatten(args[n])
        treedefs.append((n, treedef, len(flat)))
        for i, x in enumerate(flat):
            label = f"argument {n}" if treedef == _LEAF else f"argument {n}, leaf {i} of {treedef}"
            value = _inexact_leaf(x, label, fname)
            leaf_eps = defaults(value.dtype)[0] if eps is None else float(eps)
            leaves.append(Leaf(value, label, leaf_eps))
    if not leaves:
        raise ArgumentError(f"{fname}: the arguments at argnums={nums} hold no array leaves")

    def full_args(values: Sequence[Any]) -> tuple:
        out = list(args)
        start = 0
        for n, treedef, count in treedefs:
            out[n] = tree.unflatten(treedef, list(values[start:start + count]))
            start += count
        return tuple(out)

    return leaves, full_args


def output_leaves(out: Any, fname: str, expected: Any = None):
    """The leaves of ``f``'s output as arrays, and its structure (which must be ``expected``)."""
    flat, treedef = tree.flatten(out)
    if expected is not None and treedef != expected:
        raise TreeStructureError(f"{fname}: the function returned structure {treedef} at a "
                                 f"perturbed input, but {expected} at the original input")
    return [np.asarray(v) for v in flat], treedef


def random_like(rng: np.random.Generator, a: np.ndarray) -> np.ndarray | None:
    """Standard normal values shaped like ``a`` (complex for a complex ``a``), in float64/complex128;
    ``None`` for an integer or boolean ``a``, which carries no derivative."""
    if not is_inexact(a.dtype):
        return None
    r = rng.standard_normal(a.shape)
    if is_complex(a.dtype):
        r = r + 1j * rng.standard_normal(a.shape)
    return r


# -- directions --------------------------------------------------------------------------

class Direction:
    """A perturbation ``x +- h d`` of the leaves.

    ``plus``/``minus`` are the full lists of leaf values at the two points;
    ``tangent[k]`` is leaf ``k``'s part of ``d`` (``None`` where it does not move),
    in float64/complex128, scaled so that ``plus - minus == 2 * scale * d`` exactly.
    ``leaf`` is the index of the one leaf an element direction moves (``None`` for a
    random direction); ``where`` says in words where it points.
    """

    __slots__ = ("leaf", "minus", "plus", "scale", "tangent", "where")

    def __init__(self, leaf, where, plus, minus, tangent, scale):
        self.leaf, self.where = leaf, where
        self.plus, self.minus, self.tangent, self.scale = plus, minus, tangent, scale

    def tangents_in(self, leaves: Sequence[Leaf]) -> list[np.ndarray]:
        """``d`` as one array per leaf in the leaf's dtype: the tangents for ``jvp``."""
        return [np.zeros_like(leaf.value) if t is None else
                (t if is_complex(leaf.value.dtype) else t.real).astype(leaf.value.dtype)
                for leaf, t in zip(leaves, self.tangent)]


def _too_small(leaf: Leaf, where: str, fname: str) -> ArgumentError:
    return ArgumentError(f"{fname}: eps={leaf.eps:g} is too small to change {leaf.label}{where} "
                         f"(dtype {leaf.value.dtype}); pass a larger eps")


def element_directions(leaves: Sequence[Leaf], fname: str) -> Iterator[Direction]:
    """One direction per element of every leaf; two (real, imaginary) for a complex leaf.

    Yielded lazily, in argument, leaf, then C order, so only one perturbed copy is alive.
    """
    values = [leaf.value for leaf in leaves]
    for k, leaf in enumerate(leaves):
        x = leaf.value
        units = (1.0, 1j) if is_complex(x.dtype) else (1.0,)
        for idx in np.ndindex(x.shape):
            for unit in units:
                plus, minus = x.copy(), x.copy()
                plus[idx] = x[idx] + x.dtype.type(unit * leaf.eps)
                minus[idx] = x[idx] - x.dtype.type(unit * leaf.eps)
                step = complex(wide(plus[idx]) - wide(minus[idx])) / unit  # real: the step taken
                part = "" if unit == 1.0 else ", imaginary part"
                where = f", element {idx}{part}"
                if step.real == 0.0:
                    raise _too_small(leaf, f"{where} (value {x[idx]!r})", fname)
                d = np.zeros(x.shape, np.complex128 if unit == 1j else np.float64)
                d[idx] = unit
                tangent = [None] * len(leaves)
                tangent[k] = d
                yield Direction(k, f"{leaf.label}{where}",
                                values[:k] + [plus] + values[k + 1:],
                                values[:k] + [minus] + values[k + 1:], tangent, step.real / 2)


def random_direction(leaves: Sequence[Leaf], rng: np.random.Generator, number: int, count: int,
                     fname: str) -> Direction:
    """A standard-normal direction over every element of every leaf (complex ones in both parts).

    Leaf ``k`` moves by about ``eps_k`` per element; ``d`` is normalised by the largest eps.
    """
    scale = max(leaf.eps for leaf in leaves)
    plus, minus, tangent = [], [], []
    for leaf in leaves:
        x = leaf.value
        v = random_like(rng, x)
        p = (wide(x) + leaf.eps * v).astype(x.dtype)
        m = (wide(x) - leaf.eps * v).astype(x.dtype)
        d = (wide(p) - wide(m)) / (2 * scale)
        if x.size and not d.any():
            raise _too_small(leaf, f" along random direction {number}", fname)
        plus.append(p)
        minus.append(m)
        tangent.append(d)
    return Direction(None, f"random direction {number} of {count}", plus, minus, tangent, scale)


def restricted(direction: Direction, k: int, leaves: Sequence[Leaf]) -> Direction:
    """The part of ``direction`` that moves leaf ``k`` only."""
    values = [leaf.value for leaf in leaves]
    tangent = [None] * len(leaves)
    tangent[k] = direction.tangent[k]
    return Direction(k, f"{direction.where}, restricted to {leaves[k].label}",
                     values[:k] + [direction.plus[k]] + values[k + 1:],
                     values[:k] + [direction.minus[k]] + values[k + 1:], tangent, direction.scale)


def central_difference(F: Callable, direction: Direction, u: Sequence[Any], out_tree: Any,
                       fname: str) -> tuple[float, float]:
    """``(<u, F(x + h d) - F(x - h d)> / 2 h, its rounding error)`` for one direction.

    The pairing is accumulated in float64 (complex128) over the elementwise
    difference, so only the rounding of ``F`` itself limits the accuracy.
    """
    fp, _ = output_leaves(F(direction.plus), fname, out_tree)
    fm, _ = output_leaves(F(direction.minus), fname, out_tree)
    total = 0.0
    noise = 0.0
    for c, a, b in zip(u, fp, fm):
        if c is None:
            continue  # a non-float output has no derivative
        ulp = machine_eps(a.dtype)
        a, b = wide(a), wide(b)
        total += float(np.real(np.sum(c * (a - b))))
        noise += ulp * float(np.sum(np.abs(c) * (np.abs(a) + np.abs(b))))
    step = 2 * direction.scale
    return total / step, _ROUNDING_ULPS * noise / step
