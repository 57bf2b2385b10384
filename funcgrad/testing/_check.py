"""Gradient checking: funcgrad's reverse and forward mode against central finite differences.

``check_grads`` draws a fixed random cotangent ``u`` over the outputs of ``f``
and, along each direction ``d`` (every input element, or ``k`` random
directions), compares the central difference of ``<u, f>`` with reverse mode
(``<vjp(u), d>``, one ``vjp`` for all directions) and forward mode
(``<u, jvp(d)>``, one ``jvp`` per direction).  At order ``k + 1`` the same check
runs on each order-``k`` derivative function, ``x -> vjp(f_k, x)(u_k)`` and
``x -> jvp(f_k, x, t_k)``, in each mode (reverse over reverse, forward over
reverse, reverse over forward, forward over forward), as JAX's ``check_grads``
does: they are funcgrad functions because every rule is written in funcgrad
ops.  The first disagreement is named in a
:class:`~funcgrad.errors.GradientCheckError`.  The finite-difference side lives
in :mod:`funcgrad.testing._directions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad.errors import ArgumentError, DTypeError, GradientCheckError, NonScalarOutputError
from funcgrad.testing._directions import (
    Direction,
    central_difference,
    defaults,
    element_directions,
    is_complex,
    is_inexact,
    machine_eps,
    output_leaves,
    pair,
    random_direction,
    random_like,
    restricted,
    split_args,
    wide,
)
from funcgrad.transforms import jvp, vjp

_MODE_WORDS = {"rev": "reverse mode", "fwd": "forward mode"}


def _as_modes(modes: Any, fname: str) -> tuple[str, ...]:
    """``modes`` as a tuple of "rev"/"fwd"; a single string is one mode."""
    seq = (modes,) if isinstance(modes, str) else modes
    if not isinstance(seq, (tuple, list)) or not seq or not all(m in _MODE_WORDS for m in seq):
        raise ArgumentError(f"{fname}: modes must be 'rev', 'fwd' or a non-empty tuple of them "
                            f"(e.g. ('rev', 'fwd')), got {modes!r}")
    if len(set(seq)) != len(seq):
        raise ArgumentError(f"{fname}: modes={modes!r} names a mode twice")
    return tuple(seq)


class _Settings:
    """What every stage of one ``check_grads`` call shares."""

    def __init__(self, leaves, order, modes, projections, rng, rtol, atol, fname):
        self.leaves, self.order, self.modes, self.projections = leaves, order, modes, projections
        self.rng, self.rtol, self.atol, self.fname = rng, rtol, atol, fname


def _call_mode(mode: str, order: int, fname: str, fn: Callable, *args):
    """Run ``vjp``/``jvp``; a function that has no rule for this mode gets a hint to drop it."""
    try:
        return fn(*args)
    except (NotImplementedError, ArgumentError) as err:
        other = "fwd" if mode == "rev" else "rev"
        if "derivative" not in str(err) and "JVP" not in str(err) and "VJP" not in str(err):
            raise
        raise ArgumentError(
            f"{fname}: the order-{order} check in {_MODE_WORDS[mode]} ('{mode}') could not "
            f"differentiate the function: {err}\n  To check {_MODE_WORDS[other]} only, pass "
            f"modes=('{other}',).") from err


def _jvp_of(F: Callable, values: list, tangents: list):
    return jvp(lambda *xs: F(list(xs)), tuple(values), tuple(tangents))


def _derivative(F: Callable, mode: str, u_tree: Any, t: list) -> Callable:
    """The next order's function of the same leaves: ``vjp(F, x)(u)`` or ``jvp(F, x, t)``."""
    if mode == "rev":
        def gradient(values):
            return vjp(lambda *xs: F(list(xs)), *values)[1](u_tree)
        return gradient

    def tangent(values):
        return _jvp_of(F, values, t)[1]
    return tangent


def _probe(path: tuple[str, ...]) -> str:
    """The scalar whose derivative a stage compares, in words (``path``: modes so far)."""
    order = len(path) + 1
    if order == 1:
        return "<u1, f(x)>"
    defs = []
    for j, mode in enumerate(path, start=1):
        inner = "f" if j == 1 else f"f{j}"
        defs.append(f"f{j + 1}(x) = vjp({inner}, x)(u{j})" if mode == "rev"
                    else f"f{j + 1}(x) = jvp({inner}, x, t{j})")
    return f"<u{order}, f{order}(x)>, " + ", ".join(defs)


def _fmt(v: Any) -> str:
    return f"{float(v):.10g}"


def _tolerances(s: _Settings, out_flat) -> tuple[float, float]:
    """``(rtol, atol)`` of the least precise float among the inputs and outputs, unless given."""
    dtypes = [leaf.value.dtype for leaf in s.leaves] + [o.dtype for o in out_flat
                                                        if is_inexact(o.dtype)]
    loosest = max(dtypes, key=machine_eps)
    _, rtol, atol = defaults(loosest)
    return (rtol if s.rtol is None else float(s.rtol)), (atol if s.atol is None else float(s.atol))


class _Row:
    """One direction's numbers: the central difference, its rounding error, one mode's value."""

    __slots__ = ("analytic", "direction", "leaf", "numeric", "rounding", "where")

    def __init__(self, direction: Direction, numeric: float, rounding: float, analytic: float):
        self.leaf, self.where = direction.leaf, direction.where
        # A random direction is kept to find the leaf that fails along it; an element one is not.
        self.direction = direction if direction.leaf is None else None
        self.numeric, self.rounding, self.analytic = numeric, rounding, analytic


def _analytic(mode: str, F, values, g, u, direction: Direction, s: _Settings, order: int) -> float:
    """The derivative of ``<u, F>`` along ``direction`` in ``mode``."""
    if mode == "rev":
        return pair(direction.tangent, g)
    _, t_out = _call_mode(mode, order, s.fname, _jvp_of, F, values, direction.tangents_in(s.leaves))
    return pair(u, tree.leaves(t_out))


def _check_stage(F: Callable, path: tuple[str, ...], s: _Settings) -> None:
    """Check ``F`` (the derivative reached by ``path``) in every mode, then its derivatives."""
    order = len(path) + 1
    fname, leaves = s.fname, s.leaves
    values = [leaf.value for leaf in leaves]
    if "rev" in s.modes:
        out, F_vjp = _call_mode("rev", order, fname, vjp, lambda *xs: F(list(xs)), *values)
    else:
        out, F_vjp = F(values), None
    out_flat, out_tree = output_leaves(out, fname)
    if not any(is_inexact(o.dtype) for o in out_flat):
        raise DTypeError(f"{fname}: the function returned no floating-point output "
                         f"(structure {out_tree}, dtypes {[o.dtype.name for o in out_flat]}); "
                         "there is no derivative to check")
    # The cotangent is rounded to each output's dtype first, so both sides use the same u.
    u_cast = [np.zeros(o.shape, o.dtype) if r is None else r.astype(o.dtype)
              for o, r in zip(out_flat, (random_like(s.rng, o) for o in out_flat))]
    u = [wide(c) if is_inexact(c.dtype) else None for c in u_cast]
    u_tree = tree.unflatten(out_tree, u_cast)
    g = None
    if F_vjp is not None:
        g = [wide(a) for a in _call_mode("rev", order, fname, F_vjp, u_tree)]

    if s.projections is None:
        def directions():
            return element_directions(leaves, fname)  # regenerated per mode: one copy alive
    else:
        drawn = [random_direction(leaves, s.rng, j, s.projections, fname)
                 for j in range(s.projections)]

        def directions():
            return drawn
    # Mode by mode, so a failure in the first mode is reported before the second one runs;
    # the central differences are computed once and shared.
    rtol, atol = _tolerances(s, out_flat)
    differences: list[tuple[float, float]] = []
    for mode in s.modes:
        rows = []
        for i, d in enumerate(directions()):
            if i == len(differences):
                differences.append(central_difference(F, d, u, out_tree, fname))
            analytic = _analytic(mode, F, values, g, u, d, s, order)
            rows.append(_Row(d, *differences[i], analytic))
        _compare(mode, path, rows, rtol, atol, F, values, g, u, out_tree, s)
    if order < s.order:
        for mode in s.modes:
            t = None
            if mode == "fwd":
                t = [np.asarray(random_like(s.rng, x)).astype(x.dtype) for x in values]
            _check_stage(_derivative(F, mode, u_tree, t), path + (mode,), s)


def _bad(a: float, n: float, r: float, rtol: float, atol: float) -> tuple[bool, float]:
    tol = atol + rtol * max(abs(a), abs(n)) + r
    return not abs(a - n) <= tol, tol  # NaN on either side is a failure


def _compare(mode, path, rows, rtol, atol, F, values, g, u, out_tree, s: _Settings) -> None:
    """Raise a :class:`GradientCheckError` for the first row where ``mode`` disagrees."""
    flags = [_bad(r.analytic, r.numeric, r.rounding, rtol, atol) for r in rows]
    bad = [i for i, (b, _) in enumerate(flags) if b]
    if not bad:
        return
    first = rows[bad[0]]
    tol = flags[bad[0]][1]
    order = len(path) + 1
    chain = " over ".join((mode,) + tuple(reversed(path)))
    a, n = first.analytic, first.numeric
    leaves = s.leaves
    if first.leaf is not None:
        leaf = leaves[first.leaf]
        part = "element(s)" if not is_complex(leaf.value.dtype) else "real/imaginary part(s)"
        here = sum(1 for i in bad if rows[i].leaf == first.leaf)
        size = sum(1 for r in rows if r.leaf == first.leaf)
        count = (f"  {here} of {size} {part} of this leaf disagree, {len(bad)} of {len(rows)} "
                 "in all.\n")
        along = "with respect to that element"
        step = f"eps={leaf.eps:g}, input dtype {leaf.value.dtype}"
    else:
        count = (f"  {len(bad)} of {len(rows)} random direction(s) disagree.\n"
                 + _localize(mode, first.direction, F, values, g, u, out_tree, rtol, atol, s,
                             order))
        along = "along that direction d (the step really taken is 2 * eps * d)"
        steps = dict.fromkeys(f"eps={leaf.eps:g} ({leaf.value.dtype})" for leaf in leaves)
        step = ", ".join(steps)
    complex_note = ""
    if any(is_complex(leaf.value.dtype) for leaf in leaves) or any(
            c is not None and is_complex(c.dtype) for c in u):
        complex_note = " <u, y> means Re(sum(u * y)) (JAX's convention for complex values)."
    raise GradientCheckError(
        f"{s.fname}: the order-{order} derivative, mode {chain}, disagrees with finite "
        f"differences at {first.where}:\n"
        f"  analytic ({_MODE_WORDS[mode]})       = {_fmt(a)}\n"
        f"  numeric (central differences) = {_fmt(n)}\n"
        f"  |analytic - numeric| = {abs(a - n):.3g} > tolerance {tol:.3g} "
        f"(atol={atol:g} + rtol={rtol:g} * max(|analytic|, |numeric|) + rounding "
        f"{first.rounding:.2g})\n"
        + count +
        f"  Each value is the derivative of {_probe(path)} {along}, for fixed random "
        f"cotangents u{' and tangents t' if 'fwd' in path else ''} (seeded); {step}."
        + complex_note)


def _localize(mode, direction, F, values, g, u, out_tree, rtol, atol, s: _Settings,
              order: int) -> str:
    """The first leaf that disagrees along ``direction`` restricted to it alone (2 calls of f per leaf)."""
    if len(s.leaves) == 1:
        return ""
    for k, leaf in enumerate(s.leaves):
        part = restricted(direction, k, s.leaves)
        numeric, rounding = central_difference(F, part, u, out_tree, s.fname)
        a = _analytic(mode, F, values, g, u, part, s, order)
        if _bad(a, numeric, rounding, rtol, atol)[0]:
            return (f"  Restricted to one leaf at a time, this direction first disagrees at "
                    f"{leaf.label}: analytic {_fmt(a)}, numeric {_fmt(numeric)}.\n")
    return "  Restricted to one leaf at a time, no single leaf disagrees on its own.\n"


def check_grads(f: Callable, args: Sequence[Any], order: int = 2, *,
                modes: str | Sequence[str] = ("rev", "fwd"), projections: int | None = None,
                seed: int = 0, eps: float | None = None, rtol: float | None = None,
                atol: float | None = None, argnums: int | Sequence[int] | None = None) -> None:
    """Check funcgrad's derivatives of ``f`` at ``args`` against central finite differences.

    ``f(*args)`` may return any array or pytree of arrays.  For a fixed random
    cotangent ``u`` over the outputs, the derivative of ``<u, f(x)>`` along each
    direction ``d`` is computed in reverse mode (``<vjp(u), d>``) and in forward
    mode (``<u, jvp(d)>``) and compared with the central difference
    ``(<u, f(x + eps d)> - <u, f(x - eps d)>) / 2 eps``.  The directions are every
    element of every float leaf of ``args[argnums]`` (all arguments by default;
    real and imaginary parts of a complex leaf separately) or, with
    ``projections=k``, ``k`` random directions over all of them, so the cost does
    not grow with the input size.  ``modes`` picks ``"rev"``, ``"fwd"`` or both.
    ``order=2`` (the default) repeats the check, in every mode, on each
    derivative function ``x -> vjp(f, x)(u)`` and ``x -> jvp(f, x, t)``; higher
    orders continue the same way.  Each value must satisfy
    ``|analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|) + rounding``.
    For complex values ``<u, y>`` is ``Re(sum(u * y))``: JAX's convention, where
    the gradient of a real ``L(z)`` is ``dL/dx - i dL/dy``.

    Defaults follow the dtype: float64/complex128 ``eps=1e-6, rtol=1e-5,
    atol=1e-6``; float32/complex64 ``eps=1e-3, rtol=2e-2, atol=2e-3``; float16
    ``1e-2, 1e-1, 1e-2``; bfloat16 ``1e-1, 1e-1, 5e-2``.  Random draws come from
    ``np.random.default_rng(seed)``.  Returns ``None``; raises
    :class:`~funcgrad.errors.GradientCheckError` naming the order, the mode, the
    argument leaf and element (or the random direction), both values and the
    tolerance.  The arguments are never modified.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> check_grads(lambda x, y: fnp.sin(x) * y, (np.array([0.5, 1.0]), np.array(2.0)))
        >>> check_grads(fnp.tanh, (np.linspace(-1, 1, 1000),), projections=3)
        >>> check_grads(lambda z: fnp.exp(z) * z, (np.array([0.5 + 1j, -1j]),))
    """
    fname = "check_grads"
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ArgumentError(f"{fname}: order must be a positive int, got {order!r}")
    if not callable(f):
        raise ArgumentError(f"{fname}: f must be callable, got {type(f).__name__}")
    modes = _as_modes(modes, fname)
    if projections is not None and (not isinstance(projections, int)
                                    or isinstance(projections, bool) or projections < 1):
        raise ArgumentError(f"{fname}: projections must be None (check every element) or a "
                            f"positive int (that many random directions), got {projections!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ArgumentError(f"{fname}: seed must be an int, got {seed!r}")
    leaves, full_args = split_args(args, argnums, eps, fname)

    def F(values):
        return f(*full_args(values))

    settings = _Settings(leaves, order, modes, projections, np.random.default_rng(seed),
                         rtol, atol, fname)
    _check_stage(F, (), settings)


def numerical_grad(f: Callable, args: Sequence[Any], eps: float | None = None) -> Any:
    """The central-difference gradient of a real scalar ``f(*args)`` w.r.t. every argument.

    The result has the structure of ``args`` (a tuple) and the dtypes of its
    leaves; differences are taken in each leaf's dtype and accumulated in float64.
    ``eps`` defaults to 1e-6 for float64 leaves and 1e-3 for float32 ones.  For a
    complex leaf the gradient is ``dL/dx - i dL/dy`` (JAX's convention).

    Examples:
        >>> numerical_grad(lambda x: (x ** 2).sum(), (np.array([1.0, 2.0]),))[0].round(6)
        array([2., 4.])
    """
    fname = "numerical_grad"
    leaves, full_args = split_args(args, None, eps, fname)
    out = np.asarray(f(*full_args([leaf.value for leaf in leaves])))
    if out.shape != () or not is_inexact(out.dtype) or is_complex(out.dtype):
        raise NonScalarOutputError(
            f"{fname}: the function must return a real floating-point scalar, but returned "
            f"{out.dtype.name}{list(out.shape)}")

    def F(values):
        return f(*full_args(values))

    grads = [np.zeros(leaf.value.shape, np.complex128 if is_complex(leaf.value.dtype)
                      else np.float64) for leaf in leaves]
    for d in element_directions(leaves, fname):
        numeric, _ = central_difference(F, d, [np.ones(())], tree.structure(out), fname)
        # d is 1 or i at one element: <g, d> = Re(g d) gives g's real part, or minus its imaginary part.
        grads[d.leaf] += numeric * np.conj(d.tangent[d.leaf])
    return full_args([g.astype(leaf.value.dtype) for leaf, g in zip(leaves, grads)])
