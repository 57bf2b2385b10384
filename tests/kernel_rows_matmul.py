"""Rows of tests/kernel_table.py added with the CUDA matmul kernels (see that module for the format).

Under the simulator the register-blocked tiles are 16 x 8 (k step 6, 4 x 4 per
thread) and take products of at least 8 rows, 4 columns and 128 outputs
(``_cuda_matmul.SIM_TILES``); the rows named "register-blocked" are past that, with
sizes that are not multiples of any tile.  Rows with small-integer entries have
exact sums in float32 and float64, so every backend must match NumPy to the bit:
a wrong index cannot hide in a tolerance.
"""

import numpy as np
from kernel_table import ALL, Row, rand

from funcgrad.ops.linalg import matmul_p


def ints(shape, dtype, seed=0):
    """Entries in -3..3: products and sums of fewer than 10**5 terms are exact in float32."""
    return np.random.default_rng(seed).integers(-3, 4, shape).astype(dtype)


def _exact(name, make):
    return Row(f"matmul {name}", matmul_p, make, exact=ALL)


def _pair(sa, sb, layout=lambda a, b: (a, b)):
    return lambda dtype: (list(layout(ints(sa, dtype, 1), ints(sb, dtype, 2))), {})


ROWS: list = [
    _exact("register-blocked, rectangular, not multiples of the tile",
           _pair((21, 13), (13, 11))),
    _exact("register-blocked, both operands transposed",
           _pair((7, 17), (9, 7), lambda a, b: (a.T, b.T))),
    _exact("register-blocked, sliced rows and columns",
           _pair((34, 17), (9, 12), lambda a, b: (a[1::2, ::2], b[:, 3:]))),
    _exact("register-blocked, zero-stride batch of a",
           _pair((9, 7), (3, 7, 5), lambda a, b: (np.broadcast_to(a, (3, 9, 7)), b))),
    _exact("register-blocked, zero-stride batch of b, 5 batches (grid-stride loop)",
           _pair((5, 8, 5), (5, 5), lambda a, b: (a, np.broadcast_to(b, (5, 5, 5))))),
    _exact("batch axes that merge in part", _pair((2, 3, 2, 3, 2), (2, 2, 4))),
    _exact("broadcast batch axes that do not merge, 3 of them",
           _pair((2, 1, 3, 2, 3), (1, 2, 1, 3, 2))),
    _exact("zero strides inside the matrices",
           _pair((1, 5), (5, 1), lambda a, b: (np.broadcast_to(a, (6, 5)),
                                                np.broadcast_to(b, (5, 7))))),
    _exact("matrix @ vector", _pair((9, 7), (7,))),
    _exact("matrix @ strided vector", _pair((9, 7), (14,), lambda a, b: (a, b[::2]))),
    _exact("vector @ vector, several k steps", _pair((20,), (20,))),
    _exact("vector @ zero-stride batch", _pair((5,), (5, 4), lambda a, b: (
        a, np.broadcast_to(b, (3, 5, 4))))),
    _exact("2-D empty contraction (zeros)", _pair((3, 0), (0, 4))),
    _exact("vector @ vector, empty (a 0-d zero)", _pair((0,), (0,))),
    _exact("empty broadcast batch", _pair((0, 2, 3), (3, 4))),
    _exact("empty columns", _pair((3, 2), (2, 0))),
    Row("matmul register-blocked, random entries", matmul_p,
        lambda dtype: ([rand((2, 11, 9), dtype, 1), rand((2, 9, 6), dtype, 2)], {})),
]
