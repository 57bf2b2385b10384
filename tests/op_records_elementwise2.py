"""Op-table rows for the elementwise functions, aliases, creation functions, dtype casts and
``.at`` updates of issue 11 (item 2): one row per function, away from its kinks.

``tests/op_table.py`` imports this file.  The conventions at the kinks (ties, zeros, NaN)
are checked in ``tests/test_numpy_extras.py``.
"""

import numpy as np
from op_table import NONZERO, POSITIVE, REAL, _ROWS3, away_from, broadcasting, fixed, interval, op, same

import funcgrad.numpy as fnp

# Away from the integers (jumps of rint/trunc/fmod's quotient) and from half-integers (rint's ties).
_OFF_GRID = away_from([k / 2 for k in range(-4, 5)], -2.2, 2.2, gap=0.05)

# == elementwise =============================================================================
op("exp2", fnp.exp2, np.exp2)
op("logaddexp2", fnp.logaddexp2, np.logaddexp2, nargs=2)
op("float_power", fnp.float_power, np.float_power, domains=(POSITIVE, REAL),
   tol={np.dtype(np.float32): (1e-5, 1e-6)})
op("float_power[x ** 3]", lambda x: fnp.float_power(x, 3), lambda x: np.float_power(x, 3))
op("fmax", fnp.fmax, np.fmax, nargs=2, distinct=True)
op("fmin", fnp.fmin, np.fmin, nargs=2, distinct=True)
op("fmax[nan operand]", lambda x, y: fnp.fmax(x, fnp.where(y > 0, np.nan, y)),
   lambda x, y: np.fmax(x, np.where(y > 0, np.nan, y)), nargs=2, distinct=True, diff=(0,))
# The sign of y never flips under the finite differences: NONZERO for y; x away from 0 (|x|).
op("copysign", fnp.copysign, np.copysign, domains=(NONZERO, NONZERO))
op("heaviside", fnp.heaviside, np.heaviside, domains=(NONZERO, REAL))  # d/dh = 0 off x == 0
op("heaviside[at 0]", lambda x, h: fnp.heaviside(x * 0.0, h), lambda x, h: np.heaviside(x * 0.0, h),
   nargs=2, diff=(1,))
op("fmod", fnp.fmod, np.fmod, domains=(_OFF_GRID, interval(0.6, 0.9)))
op("fmod[negative divisor]", fnp.fmod, np.fmod, domains=(_OFF_GRID, interval(-0.9, -0.6)))
op("sinc", fnp.sinc, np.sinc)
op("deg2rad", fnp.deg2rad, np.deg2rad)
op("rad2deg", fnp.rad2deg, np.rad2deg)
op("radians", fnp.radians, np.radians)
op("degrees", fnp.degrees, np.degrees)
op("nan_to_num", fnp.nan_to_num, np.nan_to_num)
op("nan_to_num[nan, inf replaced]", lambda x: fnp.nan_to_num(fnp.log(x) * x, nan=-1.0, posinf=5.0),
   lambda x: np.nan_to_num(np.log(x) * x, nan=-1.0, posinf=5.0), domains=interval(0.1, 2.0))
op("rint", fnp.rint, np.rint, domains=_OFF_GRID)
op("trunc", fnp.trunc, np.trunc, domains=_OFF_GRID)
op("fix", fnp.fix, np.fix, domains=_OFF_GRID)
op("fabs", fnp.fabs, np.fabs, domains=NONZERO)

# == array-API aliases ========================================================================
for _alias, _name, _dom in [("acos", "arccos", interval(-0.9, 0.9)), ("asin", "arcsin", interval(-0.9, 0.9)),
                            ("atan", "arctan", REAL), ("acosh", "arccosh", interval(1.1, 3.0)),
                            ("asinh", "arcsinh", REAL), ("atanh", "arctanh", interval(-0.9, 0.9))]:
    op(_alias, getattr(fnp, _alias), getattr(np, _alias), domains=_dom)
op("atan2", fnp.atan2, np.atan2, domains=(NONZERO, NONZERO))
op("pow", fnp.pow, np.pow, domains=(POSITIVE, REAL))
op("around", lambda x: fnp.around(x, 1), lambda x: np.around(x, 1),
   domains=away_from([k / 20 for k in range(-39, 40)], -1.99, 1.99, gap=0.01))
op("concat", lambda x, y: fnp.concat([x, y], axis=-1), lambda x, y: np.concat([x, y], axis=-1),
   same(2, min_dims=1), nargs=2, kind="shape")
op("permute_dims", lambda x: fnp.permute_dims(x, (2, 0, 1)), lambda x: np.permute_dims(x, (2, 0, 1)),
   same(min_dims=3, max_dims=3), kind="shape")
op("matrix_transpose", fnp.matrix_transpose, np.matrix_transpose, same(min_dims=2), kind="shape")

# == creation functions on traced arguments ==================================================
op("linspace", lambda a, b: fnp.linspace(a, b, 5), lambda a, b: np.linspace(a, b, 5), nargs=2,
   kind="creation")
op("linspace[no endpoint,axis=-1]", lambda a, b: fnp.linspace(a, b, 4, endpoint=False, axis=-1),
   lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=-1), nargs=2, kind="creation")
op("linspace[retstep]", lambda a, b: fnp.linspace(a, b, 3, retstep=True),
   lambda a, b: np.linspace(a, b, 3, retstep=True), same(2), nargs=2, kind="creation")
op("logspace", lambda a, b: fnp.logspace(a, b, 4), lambda a, b: np.logspace(a, b, 4), nargs=2,
   kind="creation")
op("logspace[base]", lambda a, b: fnp.logspace(0.5, a, 3, base=b), lambda a, b: np.logspace(0.5, a, 3, base=b),
   broadcasting(2, max_dims=2), (REAL, POSITIVE), kind="creation")
op("geomspace", lambda a, b: fnp.geomspace(a, b, 4), lambda a, b: np.geomspace(a, b, 4),
   domains=POSITIVE, nargs=2, kind="creation")
op("geomspace[negative,axis=-1]", lambda a, b: fnp.geomspace(-a, -b, 3, axis=-1),
   lambda a, b: np.geomspace(-a, -b, 3, axis=-1), domains=POSITIVE, nargs=2, kind="creation")
op("full", lambda x: fnp.full((2,) + x.shape, x), lambda x: np.full((2,) + x.shape, x), kind="creation")
op("full_like[traced fill]", lambda x, v: fnp.full_like(x, v) * x, lambda x, v: np.full_like(x, v) * x,
   fixed((2, 3), ()), nargs=2, kind="creation")

# == dtype names as casts =====================================================================
# (A narrowing cast such as fnp.float32(x) of float64 arguments cannot meet the float64
# tolerances of the generated tests: tests/test_numpy_extras.py checks it.)
op("float64(x)", lambda x: fnp.float64(x), lambda x: np.asarray(x).astype(np.float64), kind="creation")
op("int64(x)", lambda x: fnp.int64(x), lambda x: np.asarray(x).astype(np.int64), kind="creation",
   diff=False)

# == tracer methods ===========================================================================
op("clip[method, min/max]", lambda x: x.clip(min=-0.5, max=0.5), lambda x: x.clip(min=-0.5, max=0.5),
   domains=away_from([-0.5, 0.5], -1.5, 1.5))
op("round[method]", lambda x: x.round(), lambda x: x.round(), domains=_OFF_GRID)
op("cumsum[method]", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), same(min_dims=1), kind="reduce")
op("cumprod[method]", lambda x: x.cumprod(), lambda x: x.cumprod(), kind="reduce",
   domains=away_from([0.0], -1.5, 1.5, gap=0.5))

# == functional updates =======================================================================
_REPEATS = np.array([0, 2, 0])  # row 0 twice
_UPD = _ROWS3.map(lambda s: (s[0], (3,) + s[0][1:]))
_NONZERO_UPD = (NONZERO, NONZERO)
op("at.multiply[repeats]", lambda x, v: fnp.at(x)[_REPEATS].multiply(v),
   lambda x, v: _ufunc_at(np.multiply, x, _REPEATS, v), _UPD, nargs=2, kind="index")
op("at.multiply[slice, scalar]", lambda x, v: fnp.at(x)[1:].multiply(v),
   lambda x, v: _ufunc_at(np.multiply, x, slice(1, None), v),
   same(min_dims=1).map(lambda s: (s[0], ())), nargs=2, kind="index")
op("at.divide[repeats]", lambda x, v: fnp.at(x)[_REPEATS].divide(v),
   lambda x, v: _ufunc_at(np.divide, x, _REPEATS, v), _UPD, _NONZERO_UPD, nargs=2, kind="index")
op("at.power[repeats]", lambda x, v: fnp.at(x)[_REPEATS].power(v),
   lambda x, v: _ufunc_at(np.power, x, _REPEATS, v), _UPD, (POSITIVE, interval(-1.0, 1.0)),
   nargs=2, kind="index")
op("at.max[repeats]", lambda x, v: fnp.at(x)[_REPEATS].max(v),
   lambda x, v: _ufunc_at(np.maximum, x, _REPEATS, v), _UPD, nargs=2, kind="index", distinct=True)
op("at.min[repeats]", lambda x, v: fnp.at(x)[_REPEATS].min(v),
   lambda x, v: _ufunc_at(np.minimum, x, _REPEATS, v), _UPD, nargs=2, kind="index", distinct=True)
op("at.get", lambda x: fnp.at(x)[_REPEATS].get(), lambda x: x[_REPEATS], _ROWS3, kind="index")


def _ufunc_at(ufunc, x, idx, v):
    y = np.array(x, copy=True)
    ufunc.at(y, idx, v)
    return y
