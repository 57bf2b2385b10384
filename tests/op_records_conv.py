"""Op-table rows for convolution and pooling (``tests/op_table.py`` imports this file).

The references are direct loops over output positions and window offsets, written here
from XLA's definition (input dilated with zeros, then padded; each output is the sum over
the window of input times kernel, or the max/min/sum of the window), not the im2col
product the library computes with.  Shapes are tiny: the table runs each row many times.
"""

import itertools

import numpy as np
from hypothesis import strategies as st
from op_table import F32, F64, REAL, op

from funcgrad import lax

CONV_TOL = {F64: (1e-12, 1e-12), F32: (1e-5, 1e-5)}


# -- references ---------------------------------------------------------------------------------
def _read(x, pos, in_sizes, dilation, pads):
    """``x[..., q]`` at padded-and-dilated position ``pos`` (a tuple), or None for a zero/hole."""
    q = []
    for p, n, d, (lo, _) in zip(pos, in_sizes, dilation, pads):
        p -= lo
        if p < 0 or p % d or p // d >= n:
            return None
        q.append(p // d)
    return x[(Ellipsis, *q)]


def loop_conv(x, w, strides, pads, lhs_dilation=None, rhs_dilation=None, groups=1):
    """XLA's convolution in the NC.../OI... layout, one output position and window offset at a time."""
    n, _, *in_sizes = x.shape
    o, cg, *window = w.shape
    k = len(in_sizes)
    ld, rd = lhs_dilation or (1,) * k, rhs_dilation or (1,) * k
    out_sizes = [max(0, ((s - 1) * a + 1 + lo + hi - ((kk - 1) * b + 1)) // st_ + 1)
                 for s, a, (lo, hi), kk, b, st_ in zip(in_sizes, ld, pads, window, rd, strides)]
    out = np.zeros((n, o, *out_sizes))
    og = o // groups
    for pos in itertools.product(*map(range, out_sizes)):
        for off in itertools.product(*map(range, window)):
            at = tuple(p * s + j * b for p, s, j, b in zip(pos, strides, off, rd))
            v = _read(x, at, in_sizes, ld, pads)  # (n, c)
            if v is None:
                continue
            for g in range(groups):
                xs = v[:, g * cg:(g + 1) * cg]
                ws = w[(slice(g * og, (g + 1) * og), slice(None), *off)]  # (og, cg)
                out[(slice(None), slice(g * og, (g + 1) * og), *pos)] += xs @ ws.T
    return out.astype(np.result_type(x, w))


def loop_reduce_window(x, kind, window, strides, pads, base_dilation=None, window_dilation=None):
    """XLA's reduce_window: each window's elements read one by one (padding is the identity)."""
    k = x.ndim
    bd, wd = base_dilation or (1,) * k, window_dilation or (1,) * k
    out_sizes = [max(0, ((s - 1) * a + 1 + lo + hi - ((kk - 1) * b + 1)) // st_ + 1)
                 for s, a, (lo, hi), kk, b, st_ in zip(x.shape, bd, pads, window, wd, strides)]
    init = {"add": 0.0, "max": -np.inf, "min": np.inf}[kind]
    reduce = {"add": lambda a, b: a + b, "max": max, "min": min}[kind]
    out = np.full(out_sizes, init)
    for pos in itertools.product(*map(range, out_sizes)):
        for off in itertools.product(*map(range, window)):
            at = tuple(p * s + j * b for p, s, j, b in zip(pos, strides, off, wd))
            v = _read(x, at, x.shape, bd, pads)
            if v is not None:
                out[pos] = reduce(out[pos], v)
    return out.astype(x.dtype)


def _same(sizes, window, strides, rd=None, lower=False):
    """'SAME' padding, from its definition: out = ceil(in / stride), the odd pad after
    ('SAME_LOWER': before)."""
    pads = []
    for n, kk, s, d in zip(sizes, window, strides, rd or (1,) * len(sizes)):
        total = max(0, (-(-n // s) - 1) * s + (kk - 1) * d + 1 - n)
        small = total // 2
        pads.append((total - small, small) if lower else (small, total - small))
    return pads


# -- convolution rows -----------------------------------------------------------------------------
def conv_op(name, shapes, strides, padding, ref_pads=None, lhs_dilation=None, rhs_dilation=None,
            groups=1, dimension_numbers=None, to_canonical=None):
    """A row for ``lax.conv_general_dilated(x, w, ...)`` against :func:`loop_conv`.

    ``ref_pads(x_shape, w_shape)`` gives the reference's explicit padding for a string
    ``padding``; ``to_canonical`` = (lhs, rhs, out) transposes for other dimension numbers.
    """
    def fun(x, w):
        return lax.conv_general_dilated(x, w, strides, padding, lhs_dilation, rhs_dilation,
                                        dimension_numbers, groups)

    def ref(x, w):
        if to_canonical:
            x, w = x.transpose(to_canonical[0]), w.transpose(to_canonical[1])
        pads = ref_pads(x.shape, w.shape) if ref_pads else padding
        out = loop_conv(x, w, strides, pads, lhs_dilation, rhs_dilation, groups)
        return out.transpose(np.argsort(to_canonical[2])) if to_canonical else out

    op(name, fun, ref, shapes, (REAL, REAL), nargs=2, kind="conv", tol=CONV_TOL)


def _sizes(lo, hi):
    return st.integers(lo, hi)


conv_op("conv_general_dilated[1d,VALID]",
        st.tuples(_sizes(1, 2), _sizes(2, 5)).map(lambda p: ((p[0], 2, p[1]), (3, 2, 2))),
        (1,), "VALID", ref_pads=lambda xs, ws: [(0, 0)])
conv_op("conv_general_dilated[1d,stride=2,SAME]",
        _sizes(3, 6).map(lambda w: ((2, 1, w), (2, 1, 3))), (2,), "SAME",
        ref_pads=lambda xs, ws: _same(xs[2:], ws[2:], (2,)))
conv_op("conv_general_dilated[1d,negative padding]",
        _sizes(4, 6).map(lambda w: ((1, 2, w), (2, 2, 2))), (1,), [(-1, 2)])
conv_op("conv_general_dilated[2d,VALID]",
        st.tuples(_sizes(2, 4), _sizes(2, 3)).map(lambda p: ((1, 2, p[0], p[1]), (2, 2, 2, 2))),
        (1, 1), "VALID", ref_pads=lambda xs, ws: [(0, 0), (0, 0)])
conv_op("conv_general_dilated[2d,strides=(2,1),explicit padding]",
        _sizes(3, 5).map(lambda h: ((2, 1, h, 3), (2, 1, 2, 2))), (2, 1), [(1, 0), (0, 2)])
conv_op("conv_general_dilated[2d,rhs_dilation=(2,1),SAME]",
        _sizes(3, 5).map(lambda h: ((1, 2, h, 3), (1, 2, 2, 2))), (1, 1), "SAME",
        rhs_dilation=(2, 1), ref_pads=lambda xs, ws: _same(xs[2:], ws[2:], (1, 1), (2, 1)))
conv_op("conv_general_dilated[2d,lhs_dilation=(2,2),strides=(1,2)]",
        _sizes(2, 3).map(lambda h: ((1, 2, h, 2), (2, 2, 2, 2))), (1, 2), [(1, 1), (0, 1)],
        lhs_dilation=(2, 2))
conv_op("conv_general_dilated[2d,feature_group_count=2]",
        _sizes(2, 3).map(lambda h: ((1, 4, h, 3), (4, 2, 2, 2))), (1, 1), "VALID", groups=2,
        ref_pads=lambda xs, ws: [(0, 0), (0, 0)])
conv_op("conv_general_dilated[2d,depthwise]",
        _sizes(2, 4).map(lambda h: ((2, 3, h, 2), (3, 1, 2, 1))), (1, 1), [(0, 1), (1, 0)],
        groups=3)
conv_op("conv_general_dilated[2d,NHWC,HWIO,SAME]",
        _sizes(2, 4).map(lambda h: ((1, h, 3, 2), (2, 2, 2, 3))), (1, 1), "SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        to_canonical=((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2)),
        ref_pads=lambda xs, ws: _same(xs[2:], ws[2:], (1, 1)))
conv_op("conv_general_dilated[3d,SAME_LOWER]",
        st.just(((1, 1, 2, 3, 2), (2, 1, 2, 2, 1))), (1, 2, 1), "SAME_LOWER",
        ref_pads=lambda xs, ws: _same(xs[2:], ws[2:], (1, 2, 1), lower=True))
op("conv[NCHW,stride 2]", lambda x, w: lax.conv(x, w, (2, 2), "VALID"),
   lambda x, w: loop_conv(x, w, (2, 2), [(0, 0), (0, 0)]),
   st.just(((1, 2, 4, 3), (2, 2, 2, 1))), (REAL, REAL), nargs=2, kind="conv", tol=CONV_TOL)
# The transposed convolution of a stride-2 'SAME' convolution: input dilated by 2, kernel
# flipped with its features swapped, in JAX's default NHWC/HWIO layout.
op("conv_transpose[1d,stride 2,SAME,transpose_kernel]",
   lambda x, w: lax.conv_transpose(x, w, (2,), "SAME", transpose_kernel=True),
   lambda x, w: loop_conv(x.transpose(0, 2, 1), w[::-1].transpose(1, 2, 0), (1,), [(2, 1)],
                          (2,)).transpose(0, 2, 1),
   st.just(((1, 3, 2), (3, 1, 2))), (REAL, REAL), nargs=2, kind="conv", tol=CONV_TOL)


# -- pooling rows -------------------------------------------------------------------------------
_REDUCERS = {"add": (lax.add, 0.0), "max": (lax.max, -np.inf), "min": (lax.min, np.inf)}


def pool_op(name, kind, shapes, window, strides, padding, ref_pads=None, base_dilation=None,
            window_dilation=None, scale=1.0):
    """A row for ``lax.reduce_window(x, identity, computation, ...) * scale`` (an average when
    ``scale`` is one over the window size); max and min draw distinct values (no ties)."""
    computation, init = _REDUCERS[kind]

    def fun(x):
        return lax.reduce_window(x, init, computation, window, strides, padding, base_dilation,
                                 window_dilation) * scale

    def ref(x):
        pads = ref_pads(x.shape) if ref_pads else padding
        out = loop_reduce_window(x, kind, window, strides, pads, base_dilation, window_dilation)
        return out * np.asarray(scale, x.dtype)

    op(name, fun, ref, shapes, REAL, kind="pool", distinct=kind != "add", tol=CONV_TOL)


pool_op("reduce_window[max,2x2,stride 2,VALID]", "max",
        st.tuples(_sizes(1, 2), _sizes(2, 5)).map(lambda p: ((p[0], 2, p[1], 4),)),
        (1, 1, 2, 2), (1, 1, 2, 2), "VALID", ref_pads=lambda s: [(0, 0)] * 4)
pool_op("reduce_window[max,3x3,stride 1,SAME]", "max",
        _sizes(2, 4).map(lambda h: ((1, h, 3),)), (1, 3, 3), (1, 1, 1), "SAME",
        ref_pads=lambda s: _same(s, (1, 3, 3), (1, 1, 1)))
pool_op("reduce_window[max,window_dilation,base_dilation]", "max",
        _sizes(3, 5).map(lambda w: ((w,),)), (2,), (1,), [(1, 1)], base_dilation=(2,),
        window_dilation=(3,))
pool_op("reduce_window[min,explicit padding]", "min",
        _sizes(3, 5).map(lambda w: ((2, w),)), (1, 2), (1, 2), [(0, 0), (1, 1)])
pool_op("reduce_window[add,stride 2,SAME]", "add",
        _sizes(3, 6).map(lambda w: ((2, w),)), (1, 3), (1, 2), "SAME",
        ref_pads=lambda s: _same(s, (1, 3), (1, 2)))
pool_op("reduce_window[add,avg 2x2]", "add",
        st.just(((1, 1, 4, 4),)), (1, 1, 2, 2), (1, 1, 2, 2), "VALID",
        ref_pads=lambda s: [(0, 0)] * 4, scale=0.25)
pool_op("reduce_window[add,base_dilation,window_dilation]", "add",
        _sizes(2, 4).map(lambda w: ((w, 2),)), (2, 2), (1, 1), [(0, 1), (1, 0)],
        base_dilation=(2, 1), window_dilation=(1, 2))
