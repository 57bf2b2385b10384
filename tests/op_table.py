"""The one op table that drives the primitive tests (forward, gradient, and later jvp/vmap/jit).

Each :class:`OpRecord` is data, in the spirit of JAX's ``lax_autodiff_test.op_record``:

* ``fun`` -- the funcgrad callable, positional array arguments only (static arguments
  such as ``axis`` are fixed by a lambda); ``ref`` -- the NumPy reference, same signature;
* ``shapes`` -- a hypothesis strategy drawing one shape per argument (see the shape
  helpers below: elementwise broadcasting pairs, reductions over any rank, matrices...);
* ``domains`` -- one :class:`Domain` per argument: where the op is smooth, so central
  finite differences are valid (``log`` on (0.1, 3), ``abs`` away from 0, ...);
* ``distinct`` -- draw every element of every argument from one well-separated grid,
  for ops whose kinks are at ties (``max``, ``maximum``, ``clip`` with array bounds);
* ``diff_argnums`` -- the arguments the gradient tests differentiate; ``()`` marks an op
  that is not differentiable (integer/boolean output): the tests then check that no
  gradient flows through it;
* ``tol`` / ``grad_tol`` -- ``{dtype: (rtol, atol)}`` for values and for gradients;
* ``reverse`` -- ``False`` for an op differentiable in forward mode only (``lax.while_loop``):
  it is in :data:`FORWARD_DIFFERENTIABLE` but not in :data:`DIFFERENTIABLE`, so the reverse-mode
  tests leave it out.

``record.draw_args(shapes, seed, dtype)`` builds concrete arguments; the strategy
``record.args(dtype)`` draws them.  A new op gets every generated test by adding one row.
"""

from __future__ import annotations

import dataclasses
import importlib
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import funcgrad.numpy as fnp

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
FLOATS = (F64, F32)


# -- value domains -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Domain:
    """Values drawn uniformly from a union of open intervals (weighted by length)."""

    intervals: tuple[tuple[float, float], ...]

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        lengths = np.array([hi - lo for lo, hi in self.intervals])
        which = rng.choice(len(self.intervals), size=shape, p=lengths / lengths.sum())
        lo = np.array([lo for lo, _ in self.intervals])[which]
        return lo + lengths[which] * rng.uniform(0.02, 0.98, size=shape)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.intervals[0][0], self.intervals[-1][1]


@dataclasses.dataclass(frozen=True)
class WellConditioned:
    """Square matrices (``[..., n, n]``) that are strictly diagonally dominant, either sign of det."""

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        n = shape[-1]
        a = rng.uniform(-1, 1, size=shape) + (n + 0.5) * np.eye(n)
        flip = rng.random(shape[:-2] + (1, 1)) < 0.5  # negate the first row: negative det
        a[..., :1, :] = np.where(flip, -a[..., :1, :], a[..., :1, :])
        return a


def interval(lo: float, hi: float) -> Domain:
    return Domain(((lo, hi),))


def away_from(points, lo: float, hi: float, gap: float = 0.1) -> Domain:
    """``(lo, hi)`` without the ``gap``-neighbourhoods of ``points`` (kinks, poles)."""
    edges, start = [], lo
    for p in sorted(points):
        edges.append((start, p - gap))
        start = p + gap
    edges.append((start, hi))
    return Domain(tuple(edges))


REAL = interval(-2.0, 2.0)
POSITIVE = interval(0.5, 2.0)
NONZERO = away_from([0.0], -2.0, 2.0, gap=0.2)  # divisors, kinks at 0
UNIT = interval(-0.9, 0.9)
SQUARE = WellConditioned()


# -- shapes ----------------------------------------------------------------------------
MAX_SIDE = 3


def same(n: int = 1, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
         max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """``n`` arguments of one shape."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).map(lambda s: (s,) * n)


def broadcasting(n: int = 2, min_dims: int = 0, max_dims: int = 3) -> st.SearchStrategy:
    """``n`` mutually broadcastable shapes (size-1 axes and missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                             max_side=MAX_SIDE).map(lambda b: b.input_shapes)


def sides(k: int, make: Callable[..., tuple], min_side: int = 1,
          max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Shapes built by ``make`` from ``k`` drawn side lengths (matrix products, concatenation...)."""
    return st.tuples(*[st.integers(min_side, max_side)] * k).map(lambda s: make(*s))


def fixed(*shapes) -> st.SearchStrategy:
    return st.just(tuple(shapes))


# -- records ---------------------------------------------------------------------------
DEFAULT_TOL = {F64: (1e-12, 1e-12), F32: (1e-5, 1e-6)}
DEFAULT_GRAD_TOL = {F64: (1e-5, 1e-6), F32: (2e-2, 2e-3)}  # check_grads defaults
LINALG_TOL = {F64: (1e-10, 1e-12), F32: (1e-4, 1e-5)}


@dataclasses.dataclass(frozen=True)
class OpRecord:
    """One row of the table (see the module docstring).

    ``kind`` groups rows by shape constraint: ``elementwise`` (any shapes; several arguments
    broadcast), ``reduce`` (any rank, an axis variant per row), ``shape``, ``index``,
    ``linalg`` (matrix, square and batched operands), ``compare`` and ``creation``.
    With ``distinct``, every value lies on one grid spanning the first domain's bounds.
    """

    name: str
    fun: Callable
    ref: Callable
    shapes: st.SearchStrategy
    domains: tuple
    kind: str
    diff_argnums: tuple[int, ...]
    distinct: bool = False
    tol: dict = dataclasses.field(default_factory=lambda: DEFAULT_TOL)
    grad_tol: dict = dataclasses.field(default_factory=lambda: DEFAULT_GRAD_TOL)
    reverse: bool = True

    @property
    def nargs(self) -> int:
        return len(self.domains)

    @property
    def differentiable(self) -> bool:
        return bool(self.diff_argnums)

    def draw_args(self, shapes, seed: int, dtype) -> list[np.ndarray]:
        """Concrete arguments of the given shapes, in each argument's domain."""
        rng = np.random.default_rng(seed)
        if self.distinct:
            sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
            lo, hi = self.domains[0].bounds
            n = sum(sizes)
            # A shuffled grid with jitter: any two values differ by at least (hi - lo) / (2n).
            grid = lo + (hi - lo) * (rng.permutation(n) + 0.5 + rng.uniform(-0.25, 0.25, n)) / n
            parts = np.split(grid, np.cumsum(sizes)[:-1])
            args = [p.reshape(s) for p, s in zip(parts, shapes)]
        else:
            args = [d.sample(rng, s) for d, s in zip(self.domains, shapes)]
        return [np.asarray(a, dtype=dtype) for a in args]

    def args(self, dtype) -> st.SearchStrategy:
        """A strategy drawing a list of arguments (shapes from ``shapes``, values from ``domains``)."""
        return st.tuples(self.shapes, st.integers(0, 2**32 - 1)).map(
            lambda p: self.draw_args(p[0], p[1], dtype))


RECORDS: list[OpRecord] = []


def op(name: str, fun, ref, shapes=None, domains=REAL, *, nargs: int = 1, kind: str = "elementwise",
       diff=True, distinct: bool = False, tol=None, grad_tol=None, reverse: bool = True) -> OpRecord:
    """Add one record to the table. ``domains``: one domain for all arguments, or one each.

    ``diff``: True (all arguments), False (not differentiable), or a tuple of argnums;
    ``reverse=False``: differentiable in forward mode only.
    """
    if not isinstance(domains, tuple):
        domains = (domains,) * nargs
    if shapes is None:
        shapes = same() if len(domains) == 1 else broadcasting(len(domains))
    argnums = tuple(range(len(domains))) if diff is True else () if diff is False else diff
    rec = OpRecord(name, fun, ref, shapes, domains, kind, argnums, distinct,
                   {**DEFAULT_TOL, **(tol or {})}, {**DEFAULT_GRAD_TOL, **(grad_tol or {})}, reverse)
    RECORDS.append(rec)
    return rec


# == arithmetic =========================================================================
op("add", fnp.add, np.add, nargs=2)
op("add[x + y]", lambda x, y: x + y, lambda x, y: x + y, nargs=2)
op("subtract", fnp.subtract, np.subtract, nargs=2)
op("subtract[x - y]", lambda x, y: x - y, lambda x, y: x - y, nargs=2)
op("multiply", fnp.multiply, np.multiply, nargs=2)
op("multiply[ndarray * x]", lambda x: np.linspace(-1, 2, 3) * x, lambda x: np.linspace(-1, 2, 3) * x,
   shapes=sides(2, lambda a, b: ((a, b, 3),)) | fixed((3,)))
op("divide", fnp.divide, np.divide, domains=(REAL, NONZERO))
op("divide[x / y]", lambda x, y: x / y, lambda x, y: x / y, domains=(REAL, NONZERO))
op("negative", fnp.negative, np.negative)
op("negative[-x]", lambda x: -x, lambda x: -x)
op("power", fnp.power, np.power, domains=(POSITIVE, REAL))
op("power[x ** y]", lambda x, y: x ** y, lambda x, y: x ** y, domains=(POSITIVE, REAL))
op("power[x ** 2]", lambda x: fnp.power(x, 2), lambda x: np.power(x, 2))
op("power[x ** 3.0]", lambda x: x ** 3.0, lambda x: x ** 3.0)
op("power[x ** 0.5]", lambda x: x ** 0.5, lambda x: x ** 0.5, domains=POSITIVE)
op("power[2 ** y]", lambda y: 2.0 ** y, lambda y: 2.0 ** y)
op("reciprocal", fnp.reciprocal, np.reciprocal, domains=NONZERO)
op("square", fnp.square, np.square)
op("abs", fnp.abs, np.abs, domains=NONZERO)
op("abs[abs(x)]", lambda x: abs(x), lambda x: abs(x), domains=NONZERO)
op("sign", fnp.sign, np.sign, domains=NONZERO)  # zero derivative away from 0
op("maximum", fnp.maximum, np.maximum, nargs=2, distinct=True)
op("minimum", fnp.minimum, np.minimum, nargs=2, distinct=True)
op("clip", lambda x: fnp.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
   domains=away_from([-0.5, 0.5], -1.5, 1.5))
op("clip[max only]", lambda x: fnp.clip(x, None, 0.5), lambda x: np.clip(x, None, 0.5),
   domains=away_from([0.5], -1.5, 1.5))
op("clip[array bounds]", fnp.clip, np.clip, nargs=3, distinct=True)
op("where", lambda c, x, y: fnp.where(c > 0, x, y), lambda c, x, y: np.where(c > 0, x, y),
   domains=(NONZERO, REAL, REAL), diff=(1, 2))
op("where[scalar branch]", lambda c, x: fnp.where(c > 0, x, 0.5),
   lambda c, x: np.where(c > 0, x, 0.5), domains=(NONZERO, REAL), diff=(1,))

# == transcendental ====================================================================
for _name, _dom in [("exp", REAL), ("expm1", REAL), ("log", interval(0.1, 3.0)),
                    ("log1p", interval(-0.5, 2.0)), ("log2", interval(0.1, 3.0)),
                    ("log10", interval(0.1, 3.0)), ("sqrt", interval(0.1, 3.0)),
                    ("cbrt", NONZERO), ("sin", REAL), ("cos", REAL),
                    ("tan", interval(-1.2, 1.2)), ("arcsin", UNIT), ("arccos", UNIT),
                    ("arctan", REAL), ("sinh", REAL), ("cosh", REAL), ("tanh", REAL),
                    ("arcsinh", REAL), ("arccosh", interval(1.1, 3.0)), ("arctanh", UNIT)]:
    op(_name, getattr(fnp, _name), getattr(np, _name), domains=_dom)
op("arctan2", fnp.arctan2, np.arctan2, domains=(NONZERO, NONZERO))  # off the branch cut y = 0
op("logaddexp", fnp.logaddexp, np.logaddexp, nargs=2)
op("hypot", fnp.hypot, np.hypot, domains=(NONZERO, NONZERO))


# == reductions ========================================================================
_AXIS_VARIANTS = [  # (label, kwargs, min_dims)
    ("axis=None", {"axis": None}, 0),
    ("axis=None,keepdims", {"axis": None, "keepdims": True}, 0),
    ("axis=0", {"axis": 0}, 1),
    ("axis=-1,keepdims", {"axis": -1, "keepdims": True}, 1),
    ("axis=(0,-1)", {"axis": (0, -1)}, 2),
    ("axis=(-1,0),keepdims", {"axis": (-1, 0), "keepdims": True}, 2),
]


def _reductions(name, fn, ref, variants=_AXIS_VARIANTS, min_side=1, min_dims=0, **kw):
    for label, kwargs, ndim in variants:
        op(f"{name}[{label}]", lambda x, kwargs=kwargs: fn(x, **kwargs),
           lambda x, kwargs=kwargs: ref(x, **kwargs),
           shapes=same(min_dims=max(ndim, min_dims), min_side=min_side), kind="reduce", **kw)


_reductions("sum", fnp.sum, np.sum)
_reductions("sum[method]", lambda x, **k: x.sum(**k), lambda x, **k: x.sum(**k), _AXIS_VARIANTS[3:4])
_reductions("mean", fnp.mean, np.mean)
_reductions("prod", fnp.prod, np.prod, domains=away_from([0.0], -1.5, 1.5, gap=0.5))
_reductions("max", fnp.max, np.max, distinct=True)
_reductions("min", fnp.min, np.min, distinct=True)
_reductions("amax", fnp.amax, np.amax, _AXIS_VARIANTS[2:4], distinct=True)
_reductions("amin", fnp.amin, np.amin, _AXIS_VARIANTS[2:4], distinct=True)
for _ddof in (0, 1):
    # At least two elements per reduction (sides >= 2, no 0-d): ddof=1 divides by n - 1, and
    # std = sqrt(0) of a single element is a kink.
    _reductions(f"var[ddof={_ddof}]", lambda x, d=_ddof, **k: fnp.var(x, ddof=d, **k),
                lambda x, d=_ddof, **k: np.var(x, ddof=d, **k), min_side=2, min_dims=_ddof)
    _reductions(f"std[ddof={_ddof}]", lambda x, d=_ddof, **k: fnp.std(x, ddof=d, **k),
                lambda x, d=_ddof, **k: np.std(x, ddof=d, **k), min_side=2, min_dims=1)
_SCAN_VARIANTS = [("axis=None", {"axis": None}, 0), ("axis=0", {"axis": 0}, 1),
                  ("axis=-1", {"axis": -1}, 1)]
_reductions("cumsum", fnp.cumsum, np.cumsum, _SCAN_VARIANTS)
_reductions("cumprod", fnp.cumprod, np.cumprod, _SCAN_VARIANTS,
            domains=away_from([0.0], -1.5, 1.5, gap=0.5))
_ARG_VARIANTS = [("axis=None", {"axis": None}, 0), ("axis=-1", {"axis": -1}, 1),
                 ("axis=0,keepdims", {"axis": 0, "keepdims": True}, 1)]
_reductions("argmax", fnp.argmax, np.argmax, _ARG_VARIANTS, distinct=True, diff=False)
_reductions("argmin", fnp.argmin, np.argmin, _ARG_VARIANTS, distinct=True, diff=False)
_BOOL_VARIANTS = [("axis=None", {"axis": None}, 0), ("axis=0", {"axis": 0}, 1),
                  ("axis=(0,-1),keepdims", {"axis": (0, -1), "keepdims": True}, 2)]
_reductions("all", lambda x, **k: fnp.all(x > 0, **k), lambda x, **k: np.all(x > 0, **k),
            _BOOL_VARIANTS, domains=NONZERO, diff=False)
_reductions("any", lambda x, **k: fnp.any(x > 1, **k), lambda x, **k: np.any(x > 1, **k),
            _BOOL_VARIANTS, domains=away_from([1.0], -2.0, 2.0), diff=False)


# == shape ============================================================================
def shape_op(name, fun, ref, shapes=None, **kw):
    op(name, fun, ref, shapes=shapes, kind="shape", **kw)


def _bigger(shape):
    """A shape ``shape`` broadcasts to: a new leading axis and size-1 axes stretched."""
    return (2,) + tuple(3 if n == 1 else n for n in shape)


shape_op("reshape[-1]", lambda x: fnp.reshape(x, (-1,)), lambda x: np.reshape(x, (-1,)))
shape_op("reshape[(n, -1)]", lambda x: fnp.reshape(x, (x.shape[0], -1)),
         lambda x: np.reshape(x, (x.shape[0], -1)), same(min_dims=1))
shape_op("reshape[method]", lambda x: x.reshape(1, -1, 1), lambda x: x.reshape(1, -1, 1))
shape_op("ravel", fnp.ravel, np.ravel)
shape_op("transpose", fnp.transpose, np.transpose)
shape_op("transpose[axes]", lambda x: fnp.transpose(x, (1, 2, 0)), lambda x: np.transpose(x, (1, 2, 0)),
         same(min_dims=3))
shape_op("transpose[.T]", lambda x: x.T, lambda x: x.T)
shape_op("swapaxes", lambda x: fnp.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1), same(min_dims=1))
shape_op("moveaxis", lambda x: fnp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), same(min_dims=1))
shape_op("moveaxis[lists]", lambda x: fnp.moveaxis(x, [0, 1], [-1, 0]),
         lambda x: np.moveaxis(x, [0, 1], [-1, 0]), same(min_dims=3, max_dims=3))
shape_op("expand_dims", lambda x: fnp.expand_dims(x, 0), lambda x: np.expand_dims(x, 0))
shape_op("expand_dims[(0,-1)]", lambda x: fnp.expand_dims(x, (0, -1)),
         lambda x: np.expand_dims(x, (0, -1)))
shape_op("squeeze", fnp.squeeze, np.squeeze, same(max_side=2))
shape_op("squeeze[axis=0]", lambda x: fnp.squeeze(x, 0), lambda x: np.squeeze(x, 0),
         same(max_dims=2).map(lambda s: ((1,) + s[0],)))
shape_op("broadcast_to", lambda x: fnp.broadcast_to(x, _bigger(x.shape)),
         lambda x: np.broadcast_to(x, _bigger(x.shape)), same(max_side=2))
shape_op("concatenate", lambda x, y: fnp.concatenate([x, y]), lambda x, y: np.concatenate([x, y]),
         sides(3, lambda a, b, c: ((a, c), (b, c))), nargs=2)
shape_op("concatenate[axis=-1,3 arrays]", lambda x, y, z: fnp.concatenate([x, y, z], axis=-1),
         lambda x, y, z: np.concatenate([x, y, z], axis=-1),
         sides(4, lambda a, b, c, d: ((d, a), (d, b), (d, c))), nargs=3)
shape_op("stack", lambda x, y: fnp.stack([x, y]), lambda x, y: np.stack([x, y]), same(2), nargs=2)
shape_op("stack[axis=-1]", lambda x, y, z: fnp.stack([x, y, z], axis=-1),
         lambda x, y, z: np.stack([x, y, z], axis=-1), same(3), nargs=3)
shape_op("hstack", lambda x, y: fnp.hstack([x, y]), lambda x, y: np.hstack([x, y]), same(2), nargs=2)
shape_op("vstack", lambda x, y: fnp.vstack([x, y]), lambda x, y: np.vstack([x, y]), same(2), nargs=2)
shape_op("split[sections]", lambda x: fnp.split(x, 2), lambda x: np.split(x, 2),
         same(max_dims=2).map(lambda s: ((2 * s[0][0],) + s[0][1:],) if s[0] else ((4,),)))
shape_op("split[indices,axis=-1]", lambda x: fnp.split(x, [1, 2], axis=-1),
         lambda x: np.split(x, [1, 2], axis=-1), same(min_dims=1, min_side=2))
shape_op("tile", lambda x: fnp.tile(x, 2), lambda x: np.tile(x, 2))
shape_op("tile[(2, 1, 3)]", lambda x: fnp.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)),
         same(max_dims=2))
shape_op("repeat", lambda x: fnp.repeat(x, 2), lambda x: np.repeat(x, 2))
shape_op("repeat[axis=-1]", lambda x: fnp.repeat(x, 3, axis=-1), lambda x: np.repeat(x, 3, axis=-1),
         same(min_dims=1))
shape_op("repeat[counts,axis=0]", lambda x: fnp.repeat(x, [2, 0, 1], axis=0),
         lambda x: np.repeat(x, [2, 0, 1], axis=0), same(min_dims=1).map(lambda s: ((3,) + s[0][1:],)))
shape_op("flip", fnp.flip, np.flip)
shape_op("flip[axis=-1]", lambda x: fnp.flip(x, -1), lambda x: np.flip(x, -1), same(min_dims=1))
shape_op("flip[axis=(0,-1)]", lambda x: fnp.flip(x, (0, -1)), lambda x: np.flip(x, (0, -1)),
         same(min_dims=2))
shape_op("pad", lambda x: fnp.pad(x, 1), lambda x: np.pad(x, 1), same(min_dims=1))  # NumPy: no 0-d
shape_op("pad[widths,value]", lambda x: fnp.pad(x, ((1, 0), (0, 2)), constant_values=1.5),
         lambda x: np.pad(x, ((1, 0), (0, 2)), constant_values=1.5), same(min_dims=2, max_dims=2))
for _k in (0, 1, -1):
    shape_op(f"triu[k={_k}]", lambda x, k=_k: fnp.triu(x, k), lambda x, k=_k: np.triu(x, k),
             same(min_dims=2))
    shape_op(f"tril[k={_k}]", lambda x, k=_k: fnp.tril(x, k), lambda x, k=_k: np.tril(x, k),
             same(min_dims=2))
    shape_op(f"diag[1-D,k={_k}]", lambda x, k=_k: fnp.diag(x, k), lambda x, k=_k: np.diag(x, k),
             same(min_dims=1, max_dims=1))
    shape_op(f"diag[2-D,k={_k}]", lambda x, k=_k: fnp.diag(x, k), lambda x, k=_k: np.diag(x, k),
             same(min_dims=2, max_dims=2))
shape_op("diagonal", fnp.diagonal, np.diagonal, same(min_dims=2))
shape_op("diagonal[offset=1,axes=(-1,0)]", lambda x: fnp.diagonal(x, 1, -1, 0),
         lambda x: np.diagonal(x, 1, -1, 0), same(min_dims=2))
shape_op("trace", fnp.trace, np.trace, same(min_dims=2, max_dims=2))
shape_op("trace[offset=-1,axes=(1,2)]", lambda x: fnp.trace(x, -1, 1, 2),
         lambda x: np.trace(x, -1, 1, 2), same(min_dims=3, max_dims=3))


# == indexing ============================================================================
def index_op(name, fun, ref, shapes, **kw):
    op(name, fun, ref, shapes=shapes, kind="index", **kw)


def _every_other(shape):
    """A boolean mask of ``shape`` (fixed by the shape alone, so it is static under tracing)."""
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape) % 2 == 0


def _along_index(shape, axis):
    """An index array for take_along_axis: same rank, repeated entries along ``axis``."""
    out = list(shape)
    out[axis] = 4
    return (np.arange(int(np.prod(out))).reshape(out) * 5 + 1) % shape[axis]


def _set(x, idx, v):
    y = np.array(x, copy=True)
    y[idx] = v
    return y


def _add(x, idx, v):
    y = np.array(x, copy=True)
    np.add.at(y, idx, v)
    return y


_ROWS3 = same(max_dims=3).map(lambda s: ((3,) + s[0][1:] if s[0] else (3,),))  # axis 0 has 3 rows
index_op("getitem[slices]", lambda x: x[1:, ::-1], lambda x: x[1:, ::-1], same(min_dims=2))
index_op("getitem[ellipsis,int]", lambda x: x[..., -1], lambda x: x[..., -1], same(min_dims=1))
index_op("getitem[None,step]", lambda x: x[None, ::2], lambda x: x[None, ::2], same(min_dims=1))
index_op("getitem[int]", lambda x: x[0], lambda x: x[0], same(min_dims=1))
index_op("getitem[int array,repeats]", lambda x: x[np.array([0, 2, 0, 0])],
         lambda x: x[np.array([0, 2, 0, 0])], _ROWS3)
index_op("getitem[list,axis 1]", lambda x: x[:, [1, 1, 0]], lambda x: x[:, [1, 1, 0]],
         same(min_dims=2, min_side=2))
index_op("getitem[two int arrays]", lambda x: x[np.array([0, 1, 1]), np.array([1, 0, 1])],
         lambda x: x[np.array([0, 1, 1]), np.array([1, 0, 1])], same(min_dims=2, min_side=2))
index_op("getitem[bool mask]", lambda x: x[_every_other(x.shape)],
         lambda x: x[_every_other(x.shape)], same(min_dims=1))
index_op("getitem[bool rows]", lambda x: x[np.array([True, False, True])],
         lambda x: x[np.array([True, False, True])], _ROWS3)
index_op("take", lambda x: fnp.take(x, [2, 0, 0]), lambda x: np.take(x, [2, 0, 0]),
         same(min_dims=1).map(lambda s: ((3,) + s[0][1:],)))
index_op("take[axis=-1]", lambda x: fnp.take(x, np.array([[1, 0], [1, 1]]), axis=-1),
         lambda x: np.take(x, np.array([[1, 0], [1, 1]]), axis=-1), same(min_dims=1, min_side=2))
for _ax in (0, -1):
    index_op(f"take_along_axis[axis={_ax}]",
             lambda x, a=_ax: fnp.take_along_axis(x, _along_index(x.shape, a), a),
             lambda x, a=_ax: np.take_along_axis(x, _along_index(x.shape, a), a), same(min_dims=1))
index_op("at.set[int array]", lambda x, v: fnp.at(x)[np.array([2, 0])].set(v),
         lambda x, v: _set(x, np.array([2, 0]), v),
         _ROWS3.map(lambda s: (s[0], (2,) + s[0][1:])), nargs=2)
index_op("at.set[slice,scalar]", lambda x, v: fnp.at(x)[1:].set(v), lambda x, v: _set(x, slice(1, None), v),
         same(min_dims=1).map(lambda s: (s[0], ())), nargs=2)
index_op("at.add[repeats]", lambda x, v: fnp.at(x)[np.array([0, 2, 0])].add(v),
         lambda x, v: _add(x, np.array([0, 2, 0]), v),
         _ROWS3.map(lambda s: (s[0], (3,) + s[0][1:])), nargs=2)
index_op("at.add[broadcast]", lambda x, v: fnp.at(x)[:, 1].add(v), lambda x, v: _add(x, (slice(None), 1), v),
         same(min_dims=2, max_dims=2, min_side=2).map(lambda s: (s[0], ())), nargs=2)


# == linear algebra ==========================================================================
def linalg_op(name, fun, ref, shapes, domains=REAL, **kw):
    op(name, fun, ref, shapes=shapes, domains=domains, kind="linalg", tol=LINALG_TOL, **kw)


_MATMUL_SHAPES = {
    "1-D,1-D": lambda b, m, n, k: ((n,), (n,)),
    "2-D,1-D": lambda b, m, n, k: ((m, n), (n,)),
    "1-D,2-D": lambda b, m, n, k: ((n,), (n, k)),
    "2-D,2-D": lambda b, m, n, k: ((m, n), (n, k)),
    "batched,2-D": lambda b, m, n, k: ((b, m, n), (n, k)),
    "batched,batched": lambda b, m, n, k: ((b, m, n), (b, n, k)),
    "broadcast batch": lambda b, m, n, k: ((1, m, n), (b, 1, n, k)),
    "batched,1-D": lambda b, m, n, k: ((b, m, n), (n,)),
}
for _label, _make in _MATMUL_SHAPES.items():
    linalg_op(f"matmul[{_label}]", fnp.matmul, np.matmul, sides(4, _make), nargs=2)
linalg_op("matmul[a @ b]", lambda a, b: a @ b, lambda a, b: a @ b,
          sides(3, lambda m, n, k: ((m, n), (n, k))), nargs=2)
_DOT_SHAPES = {
    "1-D,1-D": lambda m, n, k: ((n,), (n,)),
    "2-D,2-D": lambda m, n, k: ((m, n), (n, k)),
    "2-D,1-D": lambda m, n, k: ((m, n), (n,)),
    "1-D,2-D": lambda m, n, k: ((n,), (n, k)),
    "0-D,2-D": lambda m, n, k: ((), (n, k)),
    "3-D,1-D": lambda m, n, k: ((k, m, n), (n,)),
    "3-D,2-D": lambda m, n, k: ((k, m, n), (n, m)),
}
for _label, _make in _DOT_SHAPES.items():
    linalg_op(f"dot[{_label}]", lambda a, b: fnp.dot(a, b), np.dot, sides(3, _make), nargs=2)
linalg_op("vdot", lambda a, b: fnp.vdot(a, b), np.vdot, same(2, min_dims=1), nargs=2)
linalg_op("inner[1-D]", lambda a, b: fnp.inner(a, b), np.inner, sides(1, lambda n: ((n,), (n,))), nargs=2)
linalg_op("inner[2-D,3-D]", lambda a, b: fnp.inner(a, b), np.inner,
          sides(3, lambda m, n, k: ((m, n), (k, m, n))), nargs=2)
linalg_op("outer", lambda a, b: fnp.outer(a, b), np.outer, sides(2, lambda m, n: ((m,), (n,))), nargs=2)
linalg_op("outer[flattens]", lambda a, b: fnp.outer(a, b), np.outer,
          sides(3, lambda m, n, k: ((m, n), (k,))), nargs=2)
_TENSORDOT = {
    "axes=1": (1, lambda m, n, k: ((m, n), (n, k))),
    "axes=2": (2, lambda m, n, k: ((k, m, n), (m, n))),
    "axes=0": (0, lambda m, n, k: ((m,), (n, k))),
    "axes=([1,0],[0,2])": (([1, 0], [0, 2]), lambda m, n, k: ((m, n, k), (n, k, m))),
}
for _label, (_axes, _make) in _TENSORDOT.items():
    linalg_op(f"tensordot[{_label}]", lambda a, b, ax=_axes: fnp.tensordot(a, b, axes=ax),
              lambda a, b, ax=_axes: np.tensordot(a, b, axes=ax), sides(3, _make), nargs=2)
_EINSUM = {
    "ij,jk->ik": lambda m, n, k: ((m, n), (n, k)),
    "i,i->": lambda m, n, k: ((n,), (n,)),
    "bij,bjk->bik": lambda m, n, k: ((k, m, n), (k, n, m)),
    "ij,ij->ij": lambda m, n, k: ((m, n), (m, n)),
    "ij,jk": lambda m, n, k: ((m, n), (n, k)),
    "i,j->ij": lambda m, n, k: ((m,), (n,)),
}
for _spec, _make in _EINSUM.items():
    linalg_op(f"einsum[{_spec}]", lambda a, b, s=_spec: fnp.einsum(s, a, b),
              lambda a, b, s=_spec: np.einsum(s, a, b), sides(3, _make), nargs=2)
# (Repeated indices within one operand, sublists, ellipses and paths: tests/op_records_assembly.py.)
for _spec, _make in {"ij->": lambda n: ((n, n),), "ij->ji": lambda n: ((n, n + 1),),
                     "ijk->ki": lambda n: ((n, 2, n),), "ijk->k": lambda n: ((n, 2, n),)}.items():
    linalg_op(f"einsum[{_spec}]", lambda a, s=_spec: fnp.einsum(s, a),
              lambda a, s=_spec: np.einsum(s, a), sides(1, _make))

_NORMS = {  # label: (kwargs, shapes, domain, distinct)
    "vector": ({}, same(min_dims=1, max_dims=1), NONZERO, False),
    "flattened": ({}, same(min_dims=1, max_dims=2), NONZERO, False),
    "ord=1": ({"ord": 1}, same(min_dims=1, max_dims=1), NONZERO, False),
    "ord=2": ({"ord": 2}, same(min_dims=1, max_dims=1), NONZERO, False),
    "ord=3": ({"ord": 3}, same(min_dims=1, max_dims=1), NONZERO, False),
    "ord=inf": ({"ord": np.inf}, same(min_dims=1, max_dims=1), interval(0.2, 2.0), True),
    "ord=-inf": ({"ord": -np.inf}, same(min_dims=1, max_dims=1), interval(0.2, 2.0), True),
    "axis=-1,keepdims": ({"axis": -1, "keepdims": True}, same(min_dims=2), NONZERO, False),
    "fro": ({"ord": "fro"}, same(min_dims=2, max_dims=2), NONZERO, False),
    "fro,axis=(1,2)": ({"ord": "fro", "axis": (1, 2)}, same(min_dims=3, max_dims=3), NONZERO, False),
    # max/min over column (row) sums of |x|: ties between sums have probability 0.
    "matrix ord=1": ({"ord": 1}, same(min_dims=2, max_dims=2), NONZERO, False),
    "matrix ord=inf,keepdims": ({"ord": np.inf, "axis": (0, 1), "keepdims": True},
                                same(min_dims=2, max_dims=2), NONZERO, False),
}
for _label, (_kw, _shapes, _dom, _distinct) in _NORMS.items():
    linalg_op(f"linalg.norm[{_label}]", lambda x, kw=_kw: fnp.linalg.norm(x, **kw),
              lambda x, kw=_kw: np.linalg.norm(x, **kw), _shapes, _dom, distinct=_distinct)

_SQUARE = sides(2, lambda b, n: ((n, n),)) | sides(2, lambda b, n: ((b, n, n),))
linalg_op("linalg.inv", lambda a: fnp.linalg.inv(a), np.linalg.inv, _SQUARE, SQUARE)
linalg_op("linalg.det", lambda a: fnp.linalg.det(a), np.linalg.det, _SQUARE, SQUARE)
linalg_op("linalg.slogdet", lambda a: tuple(fnp.linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
          _SQUARE, SQUARE)
linalg_op("linalg.solve[vector]", lambda a, b: fnp.linalg.solve(a, b), np.linalg.solve,
          sides(1, lambda n: ((n, n), (n,))), (SQUARE, REAL))
linalg_op("linalg.solve[matrix]", lambda a, b: fnp.linalg.solve(a, b), np.linalg.solve,
          sides(3, lambda b, n, k: ((n, n), (n, k))), (SQUARE, REAL))
linalg_op("linalg.solve[batched]", lambda a, b: fnp.linalg.solve(a, b), np.linalg.solve,
          sides(3, lambda b, n, k: ((b, n, n), (b, n, k))), (SQUARE, REAL))


# == comparisons and logical ops (forward only) ============================================
def _compare(name: str, on_grid: bool) -> None:
    fn, ref = getattr(fnp, name), getattr(np, name)
    if on_grid:  # rounded values, so that equal elements actually occur
        op(name, lambda x, y: fn(fnp.round(x), fnp.round(y)), lambda x, y: ref(np.round(x), np.round(y)),
           nargs=2, kind="compare", diff=False)
    else:  # logical ops on signs
        op(name, lambda x, y: fn(x > 0, y > 0), lambda x, y: ref(x > 0, y > 0), domains=NONZERO,
           nargs=2, kind="compare", diff=False)


for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    _compare(_name, on_grid=True)
for _name in ("logical_and", "logical_or", "logical_xor"):
    _compare(_name, on_grid=False)
op("less[x < y]", lambda x, y: x < y, lambda x, y: x < y, nargs=2, kind="compare", diff=False)
op("greater_equal[x >= y]", lambda x, y: x >= y, lambda x, y: x >= y, nargs=2, kind="compare", diff=False)
op("logical_not", lambda x: fnp.logical_not(x > 0), lambda x: np.logical_not(x > 0), domains=NONZERO,
   kind="compare", diff=False)


# == creation on traced arguments =========================================================
op("zeros_like", lambda x: x + fnp.zeros_like(x), lambda x: x + np.zeros_like(x), kind="creation")
op("ones_like", lambda x: x * fnp.ones_like(x), lambda x: x * np.ones_like(x), kind="creation")
op("full_like", lambda x: x * fnp.full_like(x, 2.5), lambda x: x * np.full_like(x, 2.5), kind="creation")
op("asarray", lambda x: fnp.asarray(x), np.asarray, kind="creation")
op("array[list of arrays]", lambda x, y: fnp.array([x, y, x]), lambda x, y: np.array([x, y, x]),
   same(2), nargs=2, kind="creation")


#: Creation functions with no array argument: (id, funcgrad call, NumPy call).
CREATION: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
    ("zeros", lambda: fnp.zeros((2, 3)), lambda: np.zeros((2, 3))),
    ("zeros[float32]", lambda: fnp.zeros(3, dtype=fnp.float32), lambda: np.zeros(3, dtype=np.float32)),
    ("ones", lambda: fnp.ones((3,)), lambda: np.ones((3,))),
    ("full", lambda: fnp.full((2, 2), 1.5), lambda: np.full((2, 2), 1.5)),
    ("full[int]", lambda: fnp.full(3, 7), lambda: np.full(3, 7)),
    ("eye", lambda: fnp.eye(3), lambda: np.eye(3)),
    ("eye[3x4,k=1]", lambda: fnp.eye(3, 4, k=1), lambda: np.eye(3, 4, k=1)),
    ("arange", lambda: fnp.arange(5), lambda: np.arange(5)),
    ("arange[float step]", lambda: fnp.arange(0.0, 1.0, 0.25), lambda: np.arange(0.0, 1.0, 0.25)),
    ("linspace", lambda: fnp.linspace(0.0, 1.0, 5), lambda: np.linspace(0.0, 1.0, 5)),
    ("zeros_like", lambda: fnp.zeros_like(np.ones((2, 2), np.float32)),
     lambda: np.zeros_like(np.ones((2, 2), np.float32))),
    ("ones_like", lambda: fnp.ones_like(np.arange(3)), lambda: np.ones_like(np.arange(3))),
    ("array", lambda: fnp.array([[1.0, 2.0], [3.0, 4.0]]), lambda: np.array([[1.0, 2.0], [3.0, 4.0]])),
    ("asarray[float32]", lambda: fnp.asarray([1, 2], dtype=fnp.float32),
     lambda: np.asarray([1, 2], dtype=np.float32)),
]

# Families kept in files of their own (tests/op_records_*.py) add their rows with op() too;
# they import what they need from this module, which is complete up to this point.
for _path in sorted(pathlib.Path(__file__).parent.glob("op_records_*.py")):
    importlib.import_module(_path.stem)

_ids = [r.name for r in RECORDS]
if len(set(_ids)) != len(_ids):
    raise ValueError(f"op record names must be unique: {sorted(n for n in _ids if _ids.count(n) > 1)}")
DIFFERENTIABLE = [r for r in RECORDS if r.differentiable and r.reverse]  # in both modes
FORWARD_DIFFERENTIABLE = [r for r in RECORDS if r.differentiable]  # in forward mode at least
NON_DIFFERENTIABLE = [r for r in RECORDS if not r.differentiable]


# == helpers shared by the generated tests ==================================================
def scalarize(f, example_out, seed: int = 0):
    """``sum(out * w)`` over the float outputs of ``f``, fixed random weights in each output's dtype."""
    from funcgrad import tree

    rng = np.random.default_rng(seed)
    weights = [np.asarray(rng.standard_normal(np.shape(o)), np.asarray(o).dtype)
               if np.asarray(o).dtype.kind == "f" else None for o in tree.leaves(example_out)]

    def scalar(*args):
        total = 0.0
        for o, w in zip(tree.leaves(f(*args)), weights):
            if w is not None:
                total = total + fnp.sum(o * w)
        return total

    return scalar
