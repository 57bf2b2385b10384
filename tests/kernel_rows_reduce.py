"""Rows of tests/kernel_table.py added with the CUDA reduce kernels (see that module for the format).

Under the simulator the kernels' blocks are tiny (``SIM_SIZES`` in
funcgrad/backends/_cuda_reduce.py: 16 threads, 4-column strips, 4 blocks wanted), so
these small arrays already take several blocks and the second pass over partial
results; tests/test_cuda_reduce.py checks that they do.
"""

import numpy as np
from kernel_table import Row, rand

from funcgrad.ops import reductions

EXTREMA = (reductions.max_p, reductions.min_p)
INTS = (np.int8, np.int64, np.uint32)

#: name: (shape, axis, layout or None).  Each needs several blocks or a second pass.
MULTI_BLOCK = {
    "columns, split rows (output-fast, two passes)": ((30, 5), (0,), None),
    "long rows (reduction-fast, two passes)": ((3, 40), (1,), None),
    "short rows (several outputs per block)": ((7, 3), (1,), None),
    "everything (one output, two passes)": ((12, 10), (0, 1), None),
    "middle axis (kept axes do not merge)": ((3, 20, 3), (1,), None),
    "outer axes of a transposed array": ((5, 4, 6), (0, 2), lambda x: x.transpose(2, 1, 0)),
    "sliced columns (two passes)": ((30, 8), (0,), lambda x: x[::2, 1::2]),
    "zero stride, many columns": ((5,), (0,), lambda x: np.broadcast_to(x, (20, 5))),
}


def _make(shape, axis, layout, keepdims=False, values=rand):
    def make(dtype):
        x = values(shape, dtype)
        return [x if layout is None else layout(x)], {"axis": axis, "keepdims": keepdims}
    return make


def _ints(shape, dtype):
    info = np.iinfo(dtype)
    low, high = max(info.min, -1000), min(info.max, 1000)
    return np.random.default_rng(3).integers(low, high, shape, endpoint=True).astype(dtype)


def _booleans(shape, dtype):
    return np.random.default_rng(4).uniform(size=shape) > 0.3


def _with_nans(shape, dtype):
    """NaN in every other column, in a late row (so in the second pass's partials), and
    -inf/+inf elsewhere: NaN must win wherever it is."""
    x = rand(shape, dtype)
    x[-3, ::2] = np.nan
    x[1, 1::4] = np.inf
    x[2, 3::4] = -np.inf
    return x


ROWS: list = []
for _name, (_shape, _axis, _layout) in MULTI_BLOCK.items():
    ROWS.append(Row(f"sum {_name}", reductions.sum_p, _make(_shape, _axis, _layout),
                    backends=("cuda",)))
    ROWS += [Row(f"{p.name} {_name}", p, _make(_shape, _axis, _layout), backends=("cuda",),
                 exact=("cuda",)) for p in EXTREMA]
ROWS += [
    Row("sum keepdims, two passes", reductions.sum_p, _make((30, 5), (0,), None, True),
        backends=("cuda",)),
    Row("sum of integers, two passes", reductions.sum_p, _make((30, 5), (0,), None, values=_ints),
        dtypes=INTS, backends=("cuda",), exact=("cuda",)),
    Row("sum of integers, every axis", reductions.sum_p,
        _make((5, 4, 6), (0, 1, 2), None, values=_ints), dtypes=(np.int16, np.uint16),
        backends=("cuda",), exact=("cuda",)),
    Row("sum of booleans, rows", reductions.sum_p, _make((3, 40), (1,), None, values=_booleans),
        dtypes=(np.bool_,), backends=("cuda",), exact=("cuda",)),
    Row("sum over an empty axis, several blocks", reductions.sum_p, _make((0, 9), (0,), None),
        dtypes=(np.float32, np.int32), backends=("cuda",), exact=("cuda",)),
    Row("sum with NaN and infinities", reductions.sum_p, _make((30, 5), (0,), None, values=_with_nans),
        backends=("cuda",), exact=("cuda",)),
]
for _p in EXTREMA:
    ROWS += [
        Row(f"{_p.name} NaN propagates, columns", _p, _make((30, 5), (0,), None, values=_with_nans),
            backends=("cuda",), exact=("cuda",)),
        Row(f"{_p.name} NaN propagates, rows", _p,
            _make((30, 5), (1,), lambda x: x.T.copy(), values=_with_nans),
            backends=("cuda",), exact=("cuda",)),
        Row(f"{_p.name} NaN propagates, everything", _p,
            _make((30, 5), (0, 1), None, values=_with_nans), backends=("cuda",), exact=("cuda",)),
        Row(f"{_p.name} of integers", _p, _make((30, 5), (0,), None, values=_ints), dtypes=INTS,
            backends=("cuda",), exact=("cuda",)),
        Row(f"{_p.name} of booleans", _p, _make((7, 3), (1,), None, keepdims=True, values=_booleans),
            dtypes=(np.bool_,), backends=("cuda",), exact=("cuda",)),
    ]
