"""Op-table rows for shape and assembly functions, pad modes, einsum forms, and the searching,
counting and comparison helpers (``tests/op_table.py`` imports this file).

Shape rows (``kind="shape"``) must batch natively; searching rows (``kind="search"``) may
loop over the batch (their primitives have no batching rule).  Functions whose output
length depends on values take ``size=``/``length=`` here, so that the jit and vmap tests
run them; ``tests/test_assembly.py`` checks the unsized forms, keywords and errors.
Integer inputs are made from the drawn floats (``floor``), so every row is a function
of float arrays.
"""

import numpy as np
from op_table import LINALG_TOL, NONZERO, REAL, away_from, broadcasting, op, same, sides

import funcgrad.numpy as fnp


def shape_op(name, fun, ref, shapes=None, **kw):
    op(name, fun, ref, shapes=shapes, kind="shape", **kw)


def search_op(name, fun, ref, shapes=None, **kw):
    op(name, fun, ref, shapes=shapes, kind="search", **kw)


# == shape and assembly =========================================================================
shape_op("roll[axis=-1]", lambda x: fnp.roll(x, 1, axis=-1), lambda x: np.roll(x, 1, axis=-1),
         same(min_dims=1))
shape_op("roll[flat,shift=-2]", lambda x: fnp.roll(x, -2), lambda x: np.roll(x, -2))
shape_op("roll[shifts,axes]", lambda x: fnp.roll(x, (2, -1), axis=(0, 1)),
         lambda x: np.roll(x, (2, -1), axis=(0, 1)), same(min_dims=2))
shape_op("rot90", fnp.rot90, np.rot90, same(min_dims=2))
shape_op("rot90[k=3,axes=(-1,0)]", lambda x: fnp.rot90(x, 3, axes=(-1, 0)),
         lambda x: np.rot90(x, 3, axes=(-1, 0)), same(min_dims=2))
shape_op("rot90[k=2]", lambda x: fnp.rot90(x, 2), lambda x: np.rot90(x, 2), same(min_dims=2))
shape_op("fliplr", fnp.fliplr, np.fliplr, same(min_dims=2))
shape_op("flipud", fnp.flipud, np.flipud, same(min_dims=1))
shape_op("dstack", lambda x, y: fnp.dstack([x, y]), lambda x, y: np.dstack([x, y]), same(2), nargs=2)
shape_op("column_stack", lambda x, y: fnp.column_stack((x, y)), lambda x, y: np.column_stack((x, y)),
         same(2, min_dims=1, max_dims=2), nargs=2)
shape_op("array_split[3]", lambda x: fnp.array_split(x, 3), lambda x: np.array_split(x, 3), same(min_dims=1))
shape_op("array_split[indices,axis=-1]", lambda x: fnp.array_split(x, [1, 5], axis=-1),
         lambda x: np.array_split(x, [1, 5], axis=-1), same(min_dims=1))
shape_op("hsplit", lambda x: fnp.hsplit(x, [1]), lambda x: np.hsplit(x, [1]), same(min_dims=1))
shape_op("vsplit", lambda x: fnp.vsplit(x, [2]), lambda x: np.vsplit(x, [2]), same(min_dims=2))
shape_op("dsplit", lambda x: fnp.dsplit(x, 2), lambda x: np.dsplit(x, 2),
         sides(3, lambda a, b, c: ((a, b, 2 * c),)))
shape_op("unstack", fnp.unstack, np.unstack, same(min_dims=1))
shape_op("unstack[axis=-1]", lambda x: fnp.unstack(x, axis=-1), lambda x: np.unstack(x, axis=-1),
         same(min_dims=1))
shape_op("atleast_1d", fnp.atleast_1d, np.atleast_1d, same(max_dims=2))
shape_op("atleast_2d[two arrays]", lambda x, y: fnp.atleast_2d(x, y), lambda x, y: np.atleast_2d(x, y),
         broadcasting(2), nargs=2)
shape_op("atleast_3d", fnp.atleast_3d, np.atleast_3d)
shape_op("broadcast_arrays", lambda x, y: fnp.broadcast_arrays(x, y), lambda x, y: np.broadcast_arrays(x, y),
         broadcasting(2), nargs=2)
shape_op("block", lambda x, y, z, w: fnp.block([[x, y], [z, w]]), lambda x, y, z, w: np.block([[x, y], [z, w]]),
         sides(4, lambda a, b, c, d: ((a, c), (a, d), (b, c), (b, d))), nargs=4)
shape_op("block[1-D and 2-D]", lambda x, y: fnp.block([[x], [y]]), lambda x, y: np.block([[x], [y]]),
         sides(2, lambda a, b: ((b,), (a, b))), nargs=2)
shape_op("diagflat[k=1]", lambda x: fnp.diagflat(x, 1), lambda x: np.diagflat(x, 1), same(max_dims=2))
shape_op("take_along_axis[axis=None]", lambda x: fnp.take_along_axis(x, np.array([0, 0, 2, 1]) % x.size, axis=None),
         lambda x: np.take_along_axis(x, np.array([0, 0, 2, 1]) % x.size, axis=None), same(min_dims=1))


def _rows_permutation(shape):
    """Distinct indices along the last axis, one column: ``(i * 2 + 1) % n`` for row ``i``."""
    n = shape[-1]
    return (np.arange(int(np.prod(shape[:-1], dtype=np.int64))).reshape(shape[:-1] + (1,)) * 2 + 1) % n


def _np_put(x, idx, v, axis):
    y = np.array(x, copy=True)
    np.put_along_axis(y, idx, v, axis)
    return y


shape_op("put_along_axis", lambda x, v: fnp.put_along_axis(x, _rows_permutation(x.shape), v, axis=-1),
         lambda x, v: _np_put(x, _rows_permutation(x.shape), v, -1),
         same(min_dims=1).map(lambda s: (s[0], s[0][:-1] + (1,))), nargs=2)
shape_op("put_along_axis[scalar value,axis=0]",
         lambda x, v: fnp.put_along_axis(x, np.zeros((1,) + x.shape[1:], np.intp), v, axis=0),
         lambda x, v: _np_put(x, np.zeros((1,) + x.shape[1:], np.intp), v, 0),
         same(min_dims=1).map(lambda s: (s[0], ())), nargs=2)
shape_op("select", lambda x, y: fnp.select([x < -1, x > 0], [x ** 2, y], default=0.5),
         lambda x, y: np.select([x < -1, x > 0], [x ** 2, y], default=0.5),
         domains=(away_from([-1.0, 0.0], -2.0, 2.0), REAL), nargs=2)
shape_op("piecewise", lambda x: fnp.piecewise(x, [x < 0, x > 1], [lambda v: v ** 2, lambda v: 3 * v, lambda v: -v]),
         lambda x: np.piecewise(x, [x < 0, x > 1], [lambda v: v ** 2, lambda v: 3 * v, lambda v: -v]),
         domains=away_from([0.0, 1.0], -2.0, 2.0))
shape_op("piecewise[constant]", lambda x: fnp.piecewise(x, [x > 0], [lambda v: fnp.sin(v), 0.5]),
         lambda x: np.piecewise(x, [x > 0], [np.sin, 0.5]), domains=NONZERO)
shape_op("apply_along_axis", lambda x: fnp.apply_along_axis(lambda r: fnp.sum(r ** 2) * r[0], -1, x),
         lambda x: np.apply_along_axis(lambda r: np.sum(r ** 2) * r[0], -1, x), same(min_dims=1))
shape_op("apply_along_axis[vector result,axis=0]",
         lambda x: fnp.apply_along_axis(lambda r: fnp.stack([r[0], fnp.sum(r)]), 0, x),
         lambda x: np.apply_along_axis(lambda r: np.stack([r[0], np.sum(r)]), 0, x), same(min_dims=2))
shape_op("vectorize", lambda x, y: fnp.vectorize(lambda a, b: fnp.where(a > b, a * b, a - b))(x, y),
         lambda x, y: np.vectorize(lambda a, b: a * b if a > b else a - b)(x, y), nargs=2, distinct=True)
shape_op("vectorize[signature]",
         lambda x, y: fnp.vectorize(lambda u, v: fnp.sum(u * v), signature="(n),(n)->()")(x, y),
         lambda x, y: np.vectorize(lambda u, v: np.sum(u * v), signature="(n),(n)->()")(x, y),
         sides(3, lambda b, n, k: ((b, n), (n,))), nargs=2)
shape_op("r_", lambda x, y: fnp.r_[x, y, 0:2], lambda x, y: np.r_[x, y, 0:2],
         sides(2, lambda m, n: ((m,), (n,))), nargs=2)
shape_op("c_", lambda x, y: fnp.c_[x, y], lambda x, y: np.c_[x, y], same(2, min_dims=1, max_dims=1), nargs=2)
shape_op("copy", fnp.copy, np.copy)

# == pad modes ====================================================================================
_PAD = {  # label: (pad_width, kwargs)
    "edge": (((1, 3),), {"mode": "edge"}),
    "wrap": (((4, 2),), {"mode": "wrap"}),
    "reflect": ((2,), {"mode": "reflect"}),
    "reflect,odd,wide": (((5, 1),), {"mode": "reflect", "reflect_type": "odd"}),
    "symmetric": (((0, 4),), {"mode": "symmetric"}),
    "symmetric,odd": ((3,), {"mode": "symmetric", "reflect_type": "odd"}),
    "linear_ramp": (((2, 3),), {"mode": "linear_ramp", "end_values": (1.5, -0.5)}),
    "mean,stat_length=2": ((2,), {"mode": "mean", "stat_length": 2}),
    "constant,pairs": (((1, 2),), {"constant_values": (0.5, -1.0)}),
}
for _label, (_width, _kw) in _PAD.items():
    shape_op(f"pad[{_label}]", lambda x, w=_width, kw=_kw: fnp.pad(x, w * x.ndim, **kw),
             lambda x, w=_width, kw=_kw: np.pad(x, w * x.ndim, **kw), same(min_dims=1, max_dims=2))
for _mode in ("maximum", "minimum"):
    shape_op(f"pad[{_mode}]", lambda x, m=_mode: fnp.pad(x, ((1, 2),) * x.ndim, mode=m),
             lambda x, m=_mode: np.pad(x, ((1, 2),) * x.ndim, mode=m), same(min_dims=1, max_dims=2),
             distinct=True)

# == einsum forms ================================================================================
_EINSUM_FORMS = {  # label: (funcgrad call, NumPy call, shapes)
    "ii->": ("ii->", sides(1, lambda n: ((n, n),))),
    "ii->i": ("ii->i", sides(1, lambda n: ((n, n),))),
    "iij->j": ("iij->j", sides(2, lambda n, k: ((n, n, k),))),
    "ii,ij->j": ("ii,ij->j", sides(2, lambda n, k: ((n, n), (n, k)))),
    "...ij,...jk->...ik": ("...ij,...jk->...ik", sides(3, lambda m, n, k: ((2, m, n), (1, n, k)))),
    "i...,i->...": ("i...,i->...", sides(2, lambda n, k: ((n, k, 2), (n,)))),
    "ij,jk,kl->il": ("ij,jk,kl->il", sides(3, lambda m, n, k: ((m, n), (n, k), (k, m)))),
}
for _label, (_spec, _shapes) in _EINSUM_FORMS.items():
    _n = _spec.split("->")[0].count(",") + 1
    op(f"einsum[{_label}]", lambda *xs, s=_spec: fnp.einsum(s, *xs), lambda *xs, s=_spec: np.einsum(s, *xs),
       _shapes, nargs=_n, kind="linalg", tol=LINALG_TOL)
op("einsum[sublist]", lambda a, b: fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]),
   lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]), sides(3, lambda m, n, k: ((m, n), (n, k))),
   nargs=2, kind="linalg", tol=LINALG_TOL)
op("einsum[optimize=False,3 operands]", lambda a, b, c: fnp.einsum("i,ij,j->", a, b, c, optimize=False),
   lambda a, b, c: np.einsum("i,ij,j->", a, b, c), sides(2, lambda m, n: ((m,), (m, n), (n,))),
   nargs=3, kind="linalg", tol=LINALG_TOL)


# == searching, counting, comparing =============================================================
def _ints(x, k):
    """Integers in [0, k) from values in (-2, 2): ``floor((x + 2) * k / 4)``."""
    return fnp.astype(fnp.floor((x + 2) * (k / 4)), np.intp)


def _np_ints(x, k):
    return np.floor((x + 2) * (k / 4)).astype(np.intp)


def _np_padded(rows, size, fill):
    out = np.full((size,) + rows.shape[1:], fill, dtype=rows.dtype)
    out[:min(size, len(rows))] = rows[:size]
    return out


def _np_unique_sized(x, size):
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    return (_np_padded(values, size, values[0]), _np_padded(index, size, 0), inverse.reshape(x.shape),
            _np_padded(counts, size, 0))


search_op("nonzero[size=4]", lambda x: fnp.nonzero(x > 0, size=4, fill_value=-1),
          lambda x: tuple(_np_padded(i, 4, -1) for i in np.nonzero(x > 0)), same(min_dims=1), domains=NONZERO,
          diff=False)
search_op("argwhere[size=3]", lambda x: fnp.argwhere(x > 0, size=3),
          lambda x: _np_padded(np.argwhere(x > 0), 3, 0), domains=NONZERO, diff=False)
search_op("flatnonzero[size=5]", lambda x: fnp.flatnonzero(x > 0, size=5, fill_value=7),
          lambda x: _np_padded(np.flatnonzero(x > 0), 5, 7), domains=NONZERO, diff=False)
# Continuous values are distinct: the unique values are the sorted input, gathered (differentiable).
search_op("unique[size=4]", lambda x: fnp.unique(x, size=4), lambda x: _np_unique_sized(x, 4)[0])
search_op("unique[size=5,return_*]", lambda x: fnp.unique(fnp.round(x), True, True, True, size=5),
          lambda x: _np_unique_sized(np.round(x), 5), diff=False)
search_op("isin", lambda x, y: fnp.isin(fnp.round(x), fnp.round(y)), lambda x, y: np.isin(np.round(x), np.round(y)),
          broadcasting(2), nargs=2, diff=False)
search_op("isin[invert]", lambda x: fnp.isin(fnp.round(x), [0.0, 2.0], invert=True),
          lambda x: np.isin(np.round(x), [0.0, 2.0], invert=True), diff=False)
search_op("digitize", lambda x: fnp.digitize(x, np.array([-1.0, 0.0, 1.0])),
          lambda x: np.digitize(x, np.array([-1.0, 0.0, 1.0])), diff=False)
search_op("digitize[decreasing,right]", lambda x: fnp.digitize(x, np.array([1.0, 0.5, -1.0]), right=True),
          lambda x: np.digitize(x, np.array([1.0, 0.5, -1.0]), right=True), diff=False)
search_op("bincount[length=5]", lambda x: fnp.bincount(_ints(x, 4), length=5),
          lambda x: np.bincount(_np_ints(x, 4), minlength=5), same(min_dims=1, max_dims=1), diff=False)
search_op("bincount[weights]", lambda x, w: fnp.bincount(_ints(x, 3), w, length=3),
          lambda x, w: np.bincount(_np_ints(x, 3), w, minlength=3), same(2, min_dims=1, max_dims=1),
          nargs=2, diff=(1,))
search_op("histogram[range,weights]", lambda a, w: fnp.histogram(a, 4, range=(-1.5, 1.5), weights=w),
          lambda a, w: np.histogram(a, 4, range=(-1.5, 1.5), weights=w), same(2), nargs=2, diff=(1,))
# With range=None the edges follow the extremes of a: differentiable in a (distinct extremes).
search_op("histogram[bins=3]", lambda a: fnp.histogram(a, 3), lambda a: np.histogram(a, 3),
          same(min_dims=1), distinct=True)
search_op("histogram[edges]", lambda a: fnp.histogram(a, np.array([-2.0, -0.5, 0.0, 1.0]))[0],
          lambda a: np.histogram(a, np.array([-2.0, -0.5, 0.0, 1.0]))[0], diff=False)


def _infs(m, x):
    return m.where(x > 1, np.inf, m.where(x < -1, -np.inf, x))


for _name in ("isinf", "isposinf", "isneginf"):
    search_op(_name, lambda x, n=_name: getattr(fnp, n)(_infs(fnp, x)),
              lambda x, n=_name: getattr(np, n)(_infs(np, x)), diff=False)
search_op("isclose", lambda x, y: fnp.isclose(x, y, atol=0.5), lambda x, y: np.isclose(x, y, atol=0.5),
          broadcasting(2), nargs=2, diff=False)
search_op("isclose[equal_nan]", lambda x: fnp.isclose(fnp.where(x > 0, np.nan, x), 0.0, 0.1, 0.5, equal_nan=True),
          lambda x: np.isclose(np.where(x > 0, np.nan, x), 0.0, 0.1, 0.5, equal_nan=True), diff=False)
search_op("allclose", lambda x, y: fnp.allclose(x, x + y * 1e-10), lambda x, y: np.allclose(x, x + y * 1e-10),
          broadcasting(2), nargs=2, diff=False)
search_op("array_equal", lambda x, y: fnp.array_equal(fnp.round(x), fnp.round(y)),
          lambda x, y: np.array_equal(np.round(x), np.round(y)), same(2, max_side=1), nargs=2, diff=False)
search_op("array_equiv", lambda x, y: fnp.array_equiv(fnp.round(x / 4), fnp.round(y / 4)),
          lambda x, y: np.array_equiv(np.round(x / 4), np.round(y / 4)), broadcasting(2), nargs=2, diff=False)
shape_op("meshgrid", lambda x, y: fnp.meshgrid(x, y), lambda x, y: np.meshgrid(x, y),
         sides(2, lambda m, n: ((m,), (n,))), nargs=2)
shape_op("meshgrid[ij,sparse,3]", lambda x, y, z: fnp.meshgrid(x, y, z, indexing="ij", sparse=True),
         lambda x, y, z: np.meshgrid(x, y, z, indexing="ij", sparse=True),
         sides(3, lambda m, n, k: ((m,), (n,), (k,))), nargs=3)
search_op("ix_", lambda x, y: fnp.ix_(_ints(x, 3), _ints(y, 3)), lambda x, y: np.ix_(_np_ints(x, 3), _np_ints(y, 3)),
          sides(2, lambda m, n: ((m,), (n,))), nargs=2, diff=False)
search_op("unravel_index", lambda x: fnp.unravel_index(_ints(x, 24), (2, 3, 4)),
          lambda x: np.unravel_index(_np_ints(x, 24), (2, 3, 4)), diff=False)
search_op("ravel_multi_index[clip,F]", lambda x, y: fnp.ravel_multi_index((_ints(x, 5), _ints(y, 3)), (4, 3),
                                                                         mode="clip", order="F"),
          lambda x, y: np.ravel_multi_index((_np_ints(x, 5), _np_ints(y, 3)), (4, 3), mode="clip", order="F"),
          broadcasting(2), nargs=2, diff=False)
