"""Op-table rows for the primitives under ``funcgrad.random``: Threefry-2x32 and the bit operations.

``tests/op_table.py`` imports this file.  The table draws floats; the integer ops
take them to ``uint32`` first (``(x + 2) * 1e9``: every value of ``(-2, 2)`` lands in
``[0, 2**32)``), in the funcgrad function and in the reference alike.  Their kind is
``bits``, not ``elementwise``: the float16 run of the elementwise rows would overflow
that map.  The Threefry reference is an independent scalar implementation (Python
integers, one element at a time) of the published algorithm (Salmon et al. 2011).
"""

import numpy as np
from op_table import REAL, broadcasting, interval, op, same

import funcgrad.numpy as fnp
from funcgrad.ops import misc
from funcgrad.ops.random_bits import threefry2x32

U32 = np.uint32
_MASK = 0xFFFFFFFF


def _u32(x):
    return fnp.astype((x + 2.0) * 1e9, U32)


def _u32_ref(x):
    return ((x + 2.0) * 1e9).astype(U32)


def _threefry_scalar(k0: int, k1: int, x0: int, x1: int) -> tuple[int, int]:
    """Threefry-2x32 with 20 rounds on Python ints (the Random123 reference's steps)."""
    rotations = [13, 15, 26, 6, 17, 29, 16, 24]
    ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]
    x0, x1 = (x0 + ks[0]) & _MASK, (x1 + ks[1]) & _MASK
    for r in range(20):
        x0 = (x0 + x1) & _MASK
        rot = rotations[r % 8]
        x1 = ((x1 << rot) | (x1 >> (32 - rot))) & _MASK
        x1 ^= x0
        if r % 4 == 3:  # a key injection after every four rounds
            s = r // 4 + 1
            x0 = (x0 + ks[s % 3]) & _MASK
            x1 = (x1 + ks[(s + 1) % 3] + s) & _MASK
    return x0, x1


def _threefry_ref(*xs):
    return _threefry_ints(*[_u32_ref(x) for x in xs])


def _threefry_ints(*words):
    ints = np.broadcast_arrays(*words)
    out = np.zeros(ints[0].shape + (2,), U32)
    for idx in np.ndindex(ints[0].shape):
        out[idx] = _threefry_scalar(*(int(a[idx]) for a in ints))
    return out


op("threefry2x32", lambda *xs: threefry2x32(*[_u32(x) for x in xs]), _threefry_ref,
   broadcasting(4), REAL, nargs=4, kind="bits", diff=False)
op("threefry2x32[one key, counter pairs]",
   lambda c0, c1: threefry2x32(U32(7), U32(123456789), _u32(c0), _u32(c1)),
   lambda c0, c1: _threefry_ints(U32(7), U32(123456789), _u32_ref(c0), _u32_ref(c1)),
   broadcasting(2), REAL, nargs=2, kind="bits", diff=False)

for _name, _fn, _ref in [("bitwise_and", fnp.bitwise_and, np.bitwise_and),
                         ("bitwise_or", fnp.bitwise_or, np.bitwise_or),
                         ("bitwise_xor", fnp.bitwise_xor, np.bitwise_xor)]:
    op(_name, lambda x, y, f=_fn: f(_u32(x), _u32(y)), lambda x, y, f=_ref: f(_u32_ref(x), _u32_ref(y)),
       broadcasting(2), REAL, nargs=2, kind="bits", diff=False)
op("right_shift[uint32, logical]", lambda x: fnp.right_shift(_u32(x), U32(9)),
   lambda x: np.right_shift(_u32_ref(x), U32(9)), kind="bits", diff=False)
op("left_shift[uint32, wraps]", lambda x, y: fnp.left_shift(_u32(x), fnp.astype(y * 4 + 8, U32)),
   lambda x, y: np.left_shift(_u32_ref(x), (y * 4 + 8).astype(U32)),
   broadcasting(2), REAL, nargs=2, kind="bits", diff=False)
op("invert[uint32]", lambda x: fnp.invert(_u32(x)), lambda x: np.invert(_u32_ref(x)), kind="bits", diff=False)
op("invert[bool]", lambda x: fnp.invert(x > 0), lambda x: np.invert(x > 0), kind="bits", diff=False)
op("bitcast_convert_type[float -> uint, same size]",
   lambda x: misc.bitcast_convert_type(x, np.dtype(f"u{x.dtype.itemsize}")),
   lambda x: x.view(np.dtype(f"u{x.dtype.itemsize}")), same(), REAL, kind="bits", diff=False)
op("bitcast_convert_type[uint32 -> float32]",
   lambda x: misc.bitcast_convert_type(fnp.bitwise_or(fnp.right_shift(_u32(x), U32(9)), U32(0x3F800000)),
                                       np.float32),
   lambda x: ((_u32_ref(x) >> U32(9)) | U32(0x3F800000)).view(np.float32), kind="bits", diff=False)
# nextafter: slope 1 in x, none in y (distinct values: x never meets y between the FD points).
op("nextafter", fnp.nextafter, np.nextafter, broadcasting(2), (REAL, interval(-2.0, 2.0)), nargs=2,
   diff=(0,), distinct=True)
