"""Gradient checking: funcgrad's reverse mode against central finite differences.

``check_grads`` draws a fixed random cotangent ``u`` over the outputs of ``f``
and compares, element by element, the reverse-mode gradient of ``<u, f(x)>``
(one ``vjp``) with the central difference of ``<u, f>`` along each input
element.  Order ``k + 1`` repeats the check on the order-``k`` gradient
``x -> vjp(f_k, x)(u_k)``, which is itself a funcgrad function because every
VJP rule is written in funcgrad ops.  The first element that disagrees is
named in a :class:`~funcgrad.errors.GradientCheckError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad.errors import (
    ArgumentError,
    DTypeError,
    GradientCheckError,
    NonScalarOutputError,
    TreeStructureError,
)
from funcgrad.transforms import vjp
from funcgrad.transforms._args import normalize_argnums

# dtype -> (eps, rtol, atol).  eps balances truncation error (~eps**2) against
# rounding error (~machine epsilon / eps) of the central difference.
_DEFAULTS = {
    np.dtype(np.float64): (1e-6, 1e-5, 1e-6),
    np.dtype(np.float32): (1e-3, 2e-2, 2e-3),
    np.dtype(np.float16): (1e-2, 1e-1, 1e-2),
}
_LONGDOUBLE = (1e-6, 1e-5, 1e-6)
# The rounding term of the tolerance: this many machine epsilons of every output
# value that enters a difference, divided by the step.
_ROUNDING_ULPS = 8.0
_LEAF = tree.structure(0.0)


def _defaults(dtype: np.dtype) -> tuple[float, float, float]:
    return _DEFAULTS.get(np.dtype(dtype), _LONGDOUBLE)


class _Leaf:
    """One differentiated input leaf: its value (a private copy) and where it came from."""

    __slots__ = ("eps", "label", "value")

    def __init__(self, value: np.ndarray, label: str, eps: float):
        self.value = value
        self.label = label
        self.eps = eps


def _float_leaf(x: Any, label: str, fname: str) -> np.ndarray:
    """A private float copy of an argument leaf; anything else is a :class:`DTypeError`."""
    if isinstance(x, (bool, int, float, complex, np.generic, np.ndarray)):
        arr = np.array(x)  # a copy: the caller's arrays are never touched
    else:
        raise DTypeError(f"{fname}: {label} is a {type(x).__module__}.{type(x).__qualname__} "
                         f"({x!r:.60}); expected a floating-point array or scalar")
    if arr.dtype.kind != "f":
        raise DTypeError(
            f"{fname}: {label} has dtype {arr.dtype}, but gradients can only be checked with "
            "respect to real floating-point inputs. Pass floats (e.g. x.astype(float)), or "
            "leave this argument out of argnums.")
    return arr


def _leaf_label(argnum: int, i: int, treedef: Any, is_leaf: bool) -> str:
    return f"argument {argnum}" if is_leaf else f"argument {argnum}, leaf {i} of {treedef}"


def _split_args(args: Sequence[Any], argnums, eps: float | None, fname: str):
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
    leaves: list[_Leaf] = []
    treedefs = []
    for n in nums:
        flat, treedef = tree.flatten(args[n])
        is_leaf = treedef == _LEAF
        treedefs.append((n, treedef, len(flat)))
        for i, x in enumerate(flat):
            label = _leaf_label(n, i, treedef, is_leaf)
            value = _float_leaf(x, label, fname)
            leaf_eps = _defaults(value.dtype)[0] if eps is None else float(eps)
            leaves.append(_Leaf(value, label, leaf_eps))
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


def _output_leaves(out: Any, fname: str, expected: Any = None):
    flat, treedef = tree.flatten(out)
    if expected is not None and treedef != expected:
        raise TreeStructureError(f"{fname}: the function returned structure {treedef} at a "
                                 f"perturbed input, but {expected} at the original input")
    return [np.asarray(v) for v in flat], treedef


def _perturbed(value: np.ndarray, idx: tuple, step: float) -> tuple[np.ndarray, float]:
    """A copy of ``value`` with ``value[idx] += step`` in its own dtype, and the step really taken."""
    out = value.copy()
    out[idx] = value[idx] + value.dtype.type(step)
    return out, float(out[idx]) - float(value[idx])


def _central_differences(F: Callable, leaves: list[_Leaf], u: list[np.ndarray], out_tree: Any,
                         fname: str):
    """For every element of every leaf: the central difference of ``<u, F>`` and its rounding error.

    The inner product is accumulated in float64 over the elementwise difference
    ``F(x + h e_i) - F(x - h e_i)``, so only the rounding of ``F`` itself (not of a
    large sum) limits the accuracy.
    """
    values = [leaf.value for leaf in leaves]
    u64 = [np.asarray(c, np.float64) for c in u]
    ulp = [np.finfo(c.dtype).eps if c.dtype.kind == "f" else 0.0 for c in u]
    numeric, rounding = [], []
    for k, leaf in enumerate(leaves):
        num = np.zeros(leaf.value.shape)
        err = np.zeros(leaf.value.shape)
        for idx in np.ndindex(leaf.value.shape):
            plus, up = _perturbed(leaf.value, idx, leaf.eps)
            minus, down = _perturbed(leaf.value, idx, -leaf.eps)
            step = up - down
            if step == 0.0:
                raise ArgumentError(
                    f"{fname}: eps={leaf.eps:g} is too small to change {leaf.label}, element "
                    f"{idx} (value {leaf.value[idx]!r}, dtype {leaf.value.dtype}); pass a larger eps")
            fp, _ = _output_leaves(F(values[:k] + [plus] + values[k + 1:]), fname, out_tree)
            fm, _ = _output_leaves(F(values[:k] + [minus] + values[k + 1:]), fname, out_tree)
            total = 0.0
            noise = 0.0
            for c, c_ulp, a, b in zip(u64, ulp, fp, fm):
                if c_ulp == 0.0:
                    continue  # a non-float output has no derivative
                a = a.astype(np.float64)
                b = b.astype(np.float64)
                total += float(np.sum(c * (a - b)))
                noise += c_ulp * float(np.sum(np.abs(c) * (np.abs(a) + np.abs(b))))
            num[idx] = total / step
            err[idx] = _ROUNDING_ULPS * noise / step
        numeric.append(num)
        rounding.append(err)
    return numeric, rounding


def _random_cotangent(rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
    if out.dtype.kind != "f":
        return np.zeros(out.shape)  # integer and boolean outputs carry no cotangent
    return rng.standard_normal(out.shape).astype(out.dtype)


def _next_order(F: Callable, u_tree: Any) -> Callable:
    """``x -> vjp(F, x)(u)``: the gradient of ``<u, F>``, a new function of the same leaves."""

    def gradient(values):
        _, F_vjp = vjp(lambda *xs: F(list(xs)), *values)
        return F_vjp(u_tree)

    return gradient


def _probe(order: int) -> str:
    """The scalar whose gradient order ``order`` compares, in words."""
    if order == 1:
        return "<u1, f(x)>"
    inner = "f" if order == 2 else f"f{order - 1}"
    return f"<u{order}, f{order}(x)>, f{order}(x) = vjp({inner}, x)(u{order - 1})"


def _fmt(v: Any) -> str:
    return f"{float(v):.10g}"


def _check_order(F: Callable, leaves: list[_Leaf], order: int, rng: np.random.Generator,
                 rtol: float | None, atol: float | None, fname: str) -> Any:
    """One order of the check; returns the cotangent tree it used (for the next order)."""
    values = [leaf.value for leaf in leaves]
    out, F_vjp = vjp(lambda *xs: F(list(xs)), *values)
    out_flat, out_tree = _output_leaves(out, fname)
    if not any(o.dtype.kind == "f" for o in out_flat):
        raise DTypeError(f"{fname}: the function returned no floating-point output "
                         f"(structure {out_tree}, dtypes {[o.dtype.name for o in out_flat]}); "
                         "there is no derivative to check")
    u = [_random_cotangent(rng, o) for o in out_flat]
    u_tree = tree.unflatten(out_tree, u)
    analytic = [np.asarray(a, np.float64) for a in F_vjp(u_tree)]
    numeric, rounding = _central_differences(F, leaves, u, out_tree, fname)

    # The tolerance follows the least precise float among the inputs and outputs.
    dtypes = [leaf.value.dtype for leaf in leaves] + [o.dtype for o in out_flat if o.dtype.kind == "f"]
    loosest = max(dtypes, key=lambda d: np.finfo(d).eps)
    _, default_rtol, default_atol = _defaults(loosest)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)

    first = None
    bad_total = 0
    size_total = 0
    for leaf, a, n, r in zip(leaves, analytic, numeric, rounding):
        tol = atol + rtol * np.maximum(np.abs(a), np.abs(n)) + r
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(a - n) <= tol)  # NaN on either side is a failure
        bad_total += int(bad.sum())
        size_total += bad.size
        if first is None and bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            first = (leaf, idx, int(bad.sum()), a[idx], n[idx], tol[idx], r[idx])
    if first is not None:
        leaf, idx, bad_here, a_bad, n_bad, tol_bad, r_bad = first
        raise GradientCheckError(
            f"{fname}: the order-{order} derivative disagrees with finite differences at "
            f"{leaf.label}, element {idx}:\n"
            f"  analytic (reverse mode)       = {_fmt(a_bad)}\n"
            f"  numeric (central differences) = {_fmt(n_bad)}\n"
            f"  |analytic - numeric| = {abs(a_bad - n_bad):.3g} > tolerance {tol_bad:.3g} "
            f"(atol={atol:g} + rtol={rtol:g} * max(|analytic|, |numeric|) + rounding {r_bad:.2g})\n"
            f"  {bad_here} of {leaf.value.size} element(s) of this leaf disagree, "
            f"{bad_total} of {size_total} in all.\n"
            f"  Each value is the derivative of {_probe(order)} with respect to that element, "
            f"for fixed random cotangents u; eps={leaf.eps:g}, input dtype {leaf.value.dtype}.")
    return u_tree


def check_grads(f: Callable, args: Sequence[Any], order: int = 2, *, eps: float | None = None,
                rtol: float | None = None, atol: float | None = None,
                argnums: int | Sequence[int] | None = None) -> None:
    """Check funcgrad's derivatives of ``f`` at ``args`` against central finite differences.

    ``f(*args)`` may return any array or pytree of arrays.  For a fixed random
    cotangent ``u`` (seed 0) over the outputs, every element of the reverse-mode
    gradient of ``<u, f(x)>`` with respect to every float leaf of ``args[argnums]``
    (all arguments by default) is compared with the central difference
    ``(<u, f(x + eps e_i)> - <u, f(x - eps e_i)>) / 2 eps``.  ``order=2`` (the
    default) also checks the second derivatives: the check is repeated on the
    gradient ``x -> vjp(f, x)(u)``.  Each element must satisfy
    ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|) + rounding``,
    where ``rounding`` bounds the floating-point error of the difference.

    Defaults follow the dtype: float64 ``eps=1e-6, rtol=1e-5, atol=1e-6``;
    float32 ``eps=1e-3, rtol=2e-2, atol=2e-3``.  Returns ``None``; raises
    :class:`~funcgrad.errors.GradientCheckError` naming the order, the argument
    leaf, the element and both values of the first element that disagrees.
    The arguments are never modified.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> check_grads(lambda x, y: fnp.sin(x) * y, (np.array([0.5, 1.0]), np.array(2.0)))
    """
    fname = "check_grads"
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ArgumentError(f"{fname}: order must be a positive int, got {order!r}")
    if not callable(f):
        raise ArgumentError(f"{fname}: f must be callable, got {type(f).__name__}")
    leaves, full_args = _split_args(args, argnums, eps, fname)

    def F(values):
        return f(*full_args(values))

    rng = np.random.default_rng(0)
    for k in range(1, order + 1):
        u_tree = _check_order(F, leaves, k, rng, rtol, atol, fname)
        if k < order:
            F = _next_order(F, u_tree)


def numerical_grad(f: Callable, args: Sequence[Any], eps: float | None = None) -> Any:
    """The central-difference gradient of a scalar ``f(*args)`` w.r.t. every argument.

    The result has the structure of ``args`` (a tuple) and the dtypes of its
    leaves; differences are taken in each leaf's dtype and accumulated in float64.
    ``eps`` defaults to 1e-6 for float64 leaves and 1e-3 for float32 ones.

    Examples:
        >>> numerical_grad(lambda x: (x ** 2).sum(), (np.array([1.0, 2.0]),))[0].round(6)
        array([2., 4.])
    """
    fname = "numerical_grad"
    leaves, full_args = _split_args(args, None, eps, fname)
    out = np.asarray(f(*full_args([leaf.value for leaf in leaves])))
    if out.shape != () or out.dtype.kind != "f":
        raise NonScalarOutputError(
            f"{fname}: the function must return a real floating-point scalar, but returned "
            f"{out.dtype.name}{list(out.shape)}")

    def F(values):
        return f(*full_args(values))

    numeric, _ = _central_differences(F, leaves, [np.ones((), out.dtype)],
                                      tree.structure(out), fname)
    grads = [n.astype(leaf.value.dtype) for leaf, n in zip(leaves, numeric)]
    return full_args(grads)
