"""Op-table rows for sorting, statistics, differences, integration and polynomials
(``tests/op_table.py`` imports this file): at least one record per function.

Sorting and order statistics have kinks at ties, so their rows draw distinct values
(``distinct=True``).  The NaN-skipping functions are fed arrays with NaNs in fixed places
(every entry whose last index is 1, so each slice along the last axis keeps a number):
the NaNs' inputs get zero gradient, which central differences confirm.
``tests/test_statistics.py`` covers ties, all-NaN slices, errors and keyword variants.
"""

import numpy as np
from op_table import (
    F32,
    F64,
    LINALG_TOL,
    NONZERO,
    POSITIVE,
    REAL,
    away_from,
    interval,
    op,
    same,
    sides,
)

import funcgrad.numpy as fnp

STAT_TOL = {F64: (1e-10, 1e-12), F32: (1e-4, 1e-5)}
QUANTILE = interval(0.05, 0.95)


def _rows(kind, name, fun, ref, shapes, domains=REAL, **kw):
    op(name, fun, ref, shapes=shapes, domains=domains, kind=kind, **kw)


def _both(fn: str, *args, **kw):
    """``fnp.<fn>`` and ``numpy.<fn>`` with the same extra arguments, as one-argument functions."""
    return (lambda x: getattr(fnp, fn)(x, *args, **kw)), (lambda x: getattr(np, fn)(x, *args, **kw))


def _kwlabel(kwargs) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items())


def _nan_mask(shape):
    """NaN positions fixed by the shape: every entry whose last index is 1."""
    mask = np.zeros(shape, bool)
    if len(shape) and shape[-1] > 1:
        mask[..., 1] = True
    return mask


def _with_nans(fn, ref):
    return (lambda x: fn(fnp.where(_nan_mask(x.shape), np.nan, x)),
            lambda x: ref(np.where(_nan_mask(x.shape), np.nan, x)))


# == sorting ===========================================================================
_AXES = [("axis=-1", {"axis": -1}, 1), ("axis=0", {"axis": 0}, 1), ("axis=None", {"axis": None}, 0)]
for _label, _kw, _nd in _AXES:
    _rows("sort", f"sort[{_label}]", *_both("sort", **_kw), same(min_dims=_nd), distinct=True)
    _rows("sort", f"argsort[{_label}]", *_both("argsort", **_kw), same(min_dims=_nd), distinct=True,
          diff=False)
# (Tracer .sort()/.argsort() are in tests/test_statistics.py: ndarray.sort() sorts in place.)
_rows("sort", "partition[kth=0]", *_both("partition", 0), same(min_dims=1), distinct=True)
_rows("sort", "partition[kth=(0,-1),axis=0]", *_both("partition", (0, -1), axis=0),
      same(min_dims=2, min_side=2), distinct=True)
_rows("sort", "argpartition[kth=-1]", *_both("argpartition", -1), same(min_dims=1), distinct=True,
      diff=False)
_rows("sort", "searchsorted", lambda a, v: fnp.searchsorted(fnp.sort(a), v),
      lambda a, v: np.searchsorted(np.sort(a), v), sides(2, lambda n, m: ((n,), (m, 2))),
      (REAL, REAL), distinct=True, diff=False)
_rows("sort", "searchsorted[side=right]", lambda a, v: fnp.searchsorted(fnp.sort(a), v, "right"),
      lambda a, v: np.searchsorted(np.sort(a), v, "right"), sides(1, lambda n: ((n,), ())),
      (REAL, REAL), distinct=True, diff=False)

# == order statistics ====================================================================
_rows("statistics", "median", *_both("median"), same(), distinct=True)
_rows("statistics", "median[axis=0,keepdims]", *_both("median", axis=0, keepdims=True),
      same(min_dims=1), distinct=True)
_rows("statistics", "median[axis=(0,-1)]", *_both("median", axis=(0, -1)), same(min_dims=2),
      distinct=True)
_METHOD_AXES = [{"axis": -1}, {"axis": None}, {"axis": 0, "keepdims": True}]
for _i, _method in enumerate(("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                              "averaged_inverted_cdf", "closest_observation",
                              "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
                              "normal_unbiased")):
    _kw = _METHOD_AXES[_i % 3]
    _q = [0.2, 0.5, 0.9] if _i % 2 else 0.3
    _rows("statistics", f"quantile[{_method},{_kwlabel(_kw)}]", *_both("quantile", _q, method=_method, **_kw),
          same(min_dims=0 if _kw["axis"] is None else 1), distinct=True, tol=STAT_TOL)
_rows("statistics", "quantile[traced_q]", lambda x, q: fnp.quantile(x, q, axis=-1),
      lambda x, q: np.quantile(x, q, axis=-1),
      sides(3, lambda a, n, k: ((a, n + 1), (k,))), (REAL, QUANTILE), tol=STAT_TOL)
_rows("statistics", "quantile[weights,inverted_cdf]",
      lambda x, w: fnp.quantile(x, [0.25, 0.75], axis=0, method="inverted_cdf", weights=w),
      lambda x, w: np.quantile(x, [0.25, 0.75], axis=0, method="inverted_cdf", weights=w),
      same(2, min_dims=1), (REAL, POSITIVE), diff=(0,))
_rows("statistics", "percentile[q=(10,50,90),axis=0]", *_both("percentile", [10, 50, 90], axis=0),
      same(min_dims=1), distinct=True, tol=STAT_TOL)
_rows("statistics", "nanmedian[axis=-1]", *_with_nans(*_both("nanmedian", axis=-1)),
      same(min_dims=1), distinct=True)
_rows("statistics", "nanquantile[hazen]", *_with_nans(*_both("nanquantile", [0.1, 0.6], method="hazen")),
      same(), distinct=True, tol=STAT_TOL)
_rows("statistics", "nanpercentile[axis=-1,keepdims]",
      *_with_nans(*_both("nanpercentile", 30, axis=-1, keepdims=True)), same(min_dims=1),
      distinct=True, tol=STAT_TOL)

# == NaN-skipping reductions ============================================================
for _name, _kw, _extra in [("nansum", {"axis": -1}, {}), ("nanmean", {"axis": None}, {}),
                           ("nanprod", {"axis": -1, "keepdims": True},
                            {"domains": away_from([0.0], -1.5, 1.5, gap=0.5)}),
                           ("nanvar", {"axis": -1, "ddof": 1}, {}),
                           ("nanstd", {"axis": None}, {}),
                           ("nanmax", {"axis": -1}, {"distinct": True}),
                           ("nanmin", {"axis": None, "keepdims": True}, {"distinct": True}),
                           ("nancumsum", {"axis": -1}, {}),
                           ("nancumprod", {"axis": None},
                            {"domains": away_from([0.0], -1.5, 1.5, gap=0.5)})]:
    # nanvar with ddof=1 and nanstd need two numbers per slice: sides >= 3 keep two after the NaN.
    _side = 3 if _name in ("nanvar", "nanstd") else 1
    _rows("statistics", f"{_name}[{_kwlabel(_kw)}]", *_with_nans(*_both(_name, **_kw)),
          same(min_dims=1, min_side=_side), tol=STAT_TOL, **_extra)
_rows("statistics", "nanargmax[axis=-1]", *_with_nans(*_both("nanargmax", axis=-1)),
      same(min_dims=1), distinct=True, diff=False)
_rows("statistics", "nanargmin", *_with_nans(*_both("nanargmin")), same(min_dims=1), distinct=True,
      diff=False)
_rows("statistics", "count_nonzero[axis=0]", lambda x: fnp.count_nonzero(fnp.round(x), axis=0),
      lambda x: np.count_nonzero(np.round(x), axis=0), same(min_dims=1), diff=False)

# == average, ptp, cov, corrcoef ========================================================
_rows("statistics", "average[weights,axis=-1]", lambda x, w: fnp.average(x, -1, w),
      lambda x, w: np.average(x, -1, w), same(2, min_dims=1), (REAL, POSITIVE), tol=STAT_TOL)
_rows("statistics", "average[1-D_weights,returned]",
      lambda x, w: fnp.average(x, 0, w, returned=True),
      lambda x, w: np.average(x, 0, w, returned=True),
      sides(2, lambda n, m: ((n, m), (n,))), (REAL, POSITIVE), tol=STAT_TOL)
_rows("statistics", "average[keepdims]", lambda x: fnp.average(x, axis=0, keepdims=True),
      lambda x: np.average(x, axis=0, keepdims=True), same(min_dims=1))
_rows("statistics", "ptp", *_both("ptp"), same(), distinct=True)
_rows("statistics", "ptp[axis=0,keepdims]", *_both("ptp", axis=0, keepdims=True), same(min_dims=1),
      distinct=True)
_VARS = sides(2, lambda v, n: ((v, n + 1),))  # v variables, n + 1 >= 2 observations
_rows("statistics", "cov", *_both("cov"), _VARS, tol=STAT_TOL)
_rows("statistics", "cov[rowvar=False,bias]", *_both("cov", rowvar=False, bias=True),
      sides(2, lambda v, n: ((n + 1, v),)), tol=STAT_TOL)
_rows("statistics", "cov[y,aweights,ddof=0]",
      lambda x, y, w: fnp.cov(x, y, aweights=w, ddof=0), lambda x, y, w: np.cov(x, y, aweights=w, ddof=0),
      sides(2, lambda v, n: ((v, n + 1), (n + 1,), (n + 1,))), (REAL, REAL, POSITIVE), tol=STAT_TOL)
_rows("statistics", "corrcoef", *_both("corrcoef"), sides(2, lambda v, n: ((v + 1, n + 2),)),
      tol=STAT_TOL, grad_tol={F64: (1e-4, 1e-6), F32: (5e-2, 5e-3)})

# == differences and integration =========================================================
_rows("calculus", "diff", *_both("diff"), same(min_dims=1))
_rows("calculus", "diff[n=2,axis=0]", *_both("diff", 2, 0), same(min_dims=1))
_rows("calculus", "diff[prepend,append]", lambda x, p: fnp.diff(x, prepend=p, append=0.5),
      lambda x, p: np.diff(x, prepend=p, append=0.5), sides(2, lambda n, m: ((m, n), (m, 1))),
      (REAL, REAL))
_rows("calculus", "ediff1d[to_begin,to_end]", lambda x: fnp.ediff1d(x, to_end=[1.0, 2.0], to_begin=x[..., :1]),
      lambda x: np.ediff1d(x, to_end=[1.0, 2.0], to_begin=x[..., :1]), same(min_dims=1))
_rows("calculus", "gradient[axis=-1]", *_both("gradient", axis=-1), same(min_dims=1, min_side=2))
_rows("calculus", "gradient[spacing,edge_order=2]", *_both("gradient", 0.5, edge_order=2),
      same(min_dims=1, max_dims=2, min_side=3))
_rows("calculus", "gradient[coordinates]",
      lambda f, d: fnp.gradient(f, fnp.cumsum(d), axis=0), lambda f, d: np.gradient(f, np.cumsum(d), axis=0),
      sides(2, lambda n, m: ((n + 1, m), (n + 1,))), (REAL, POSITIVE))
_rows("calculus", "trapezoid", *_both("trapezoid"), same(min_dims=1))
_rows("calculus", "trapezoid[x,axis=0]", lambda y, x: fnp.trapezoid(y, x, axis=0),
      lambda y, x: np.trapezoid(y, x, axis=0), sides(2, lambda n, m: ((n, m), (n,))), (REAL, REAL))
_rows("calculus", "cross", fnp.cross, np.cross,
      sides(2, lambda b, c: ((b, 3), (c, 1, 3))), (REAL, REAL))
_rows("calculus", "cross[axisa=0,axisc=0]", lambda a, b: fnp.cross(a, b, axisa=0, axisc=0),
      lambda a, b: np.cross(a, b, axisa=0, axisc=0), sides(1, lambda n: ((3, n), (n, 3))), (REAL, REAL))
_rows("calculus", "kron", fnp.kron, np.kron, sides(4, lambda a, b, c, d: ((a, b), (c, d))), (REAL, REAL))
_rows("calculus", "kron[1-D,3-D]", fnp.kron, np.kron,
      sides(3, lambda a, b, c: ((a,), (b, c, 2))), (REAL, REAL))
for _mode in ("full", "same", "valid"):
    _rows("calculus", f"convolve[{_mode}]", lambda a, v, m=_mode: fnp.convolve(a, v, m),
          lambda a, v, m=_mode: np.convolve(a, v, m), sides(2, lambda n, m: ((n,), (m,))), (REAL, REAL))
    _rows("calculus", f"correlate[{_mode}]", lambda a, v, m=_mode: fnp.correlate(a, v, m),
          lambda a, v, m=_mode: np.correlate(a, v, m), sides(2, lambda n, m: ((n,), (m,))), (REAL, REAL))
# Sample points cumsum(d) with steps in (0.5, 2); x strictly between and beyond them.
_rows("calculus", "interp", lambda x, d, fp: fnp.interp(x, fnp.cumsum(d), fp),
      lambda x, d, fp: np.interp(x, np.cumsum(d), fp), sides(2, lambda n, m: ((n,), (m + 1,), (m + 1,))),
      (interval(0.0, 5.0), POSITIVE, REAL))
_rows("calculus", "interp[left,right]", lambda x, fp: fnp.interp(x, np.array([-1.0, 0.3, 1.2]), fp, -3.0, 4.0),
      lambda x, fp: np.interp(x, np.array([-1.0, 0.3, 1.2]), fp, -3.0, 4.0),
      sides(2, lambda a, b: ((a, b), (3,))), (away_from([-1.0, 0.3, 1.2], -2.0, 2.0), REAL))

# == polynomials ==========================================================================
_rows("calculus", "polyval", fnp.polyval, np.polyval, sides(2, lambda n, m: ((n,), (m, 2))), (REAL, REAL))
_rows("calculus", "vander", lambda x: fnp.vander(x), np.vander, same(min_dims=1, max_dims=1), NONZERO)
_rows("calculus", "vander[N=4,increasing]", lambda x: fnp.vander(x, 4, increasing=True),
      lambda x: np.vander(x, 4, increasing=True), same(min_dims=1, max_dims=1))
_rows("calculus", "polyfit[deg=1]", lambda x, y: fnp.polyfit(x, y, 1), lambda x, y: np.polyfit(x, y, 1),
      sides(1, lambda n: ((n + 2,), (n + 2,))), (REAL, REAL), distinct=True, tol=LINALG_TOL,
      grad_tol={F32: (5e-2, 5e-3)})
_rows("calculus", "polyfit[deg=2,w,2-D y]", lambda x, y, w: fnp.polyfit(x, y, 2, w=w),
      lambda x, y, w: np.polyfit(x, y, 2, w=w), sides(1, lambda n: ((n + 3,), (n + 3, 2), (n + 3,))),
      (REAL, REAL, POSITIVE), diff=(1, 2), tol=LINALG_TOL, grad_tol={F32: (5e-2, 5e-3)})
