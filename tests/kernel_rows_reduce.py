"""Rows of tests/kernel_table.py added with the CUDA reduce kernels (see that module for the format).

Under the simulator the kernels' blocks are tiny (``SIM_SIZES`` in
funcgrad/backends/_cuda_reduce.py: 16 threads, 4-column strips, 4 blocks wanted), so
these small arrays already take several blocks and the second pass over partial
results; tests/test_cuda_reduce.py checks that they do.
"""

import numpy as np
from kernel_table import FLOATS, Row, rand

from funcgrad.ops import reductions
from funcgrad.scipy import special

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


def _operand(shape, layout=None, values=rand):
    """dtype -> ``values(shape, dtype)`` laid out by ``layout``."""
    def build(dtype):
        x = values(shape, dtype)
        return x if layout is None else layout(x)
    return build


def _with(operand, **params):
    return lambda dtype: ([operand(dtype)], params)


def _make(shape, axis, layout, keepdims=False, values=rand):
    return _with(_operand(shape, layout, values), axis=axis, keepdims=keepdims)


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


# The simulator is slow: float32 where partial sums combine over two passes, float64 elsewhere;
# max/min (the same code path) where partials combine.
ROWS: list = []
for _name, (_shape, _axis, _layout) in MULTI_BLOCK.items():
    _two = "two passes" in _name
    ROWS.append(Row(f"sum {_name}", reductions.sum_p, _make(_shape, _axis, _layout),
                    dtypes=FLOATS if _two else (np.float64,), backends=("cuda",)))
    if _two:
        ROWS += [Row(f"{p.name} {_name}", p, _make(_shape, _axis, _layout), dtypes=(np.float64,),
                     backends=("cuda",), exact=("cuda",)) for p in EXTREMA]
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


# -- softmax, log_softmax, logsumexp (row kernels) ---------------------------------------------
def _edges(shape, dtype):
    """Large logits (the shift matters), an all -inf row, rows with inf and NaN."""
    x = rand(shape, dtype) * 300
    x[1] = -np.inf
    x[2, 1] = np.inf
    x[3, 0] = np.nan
    x[4, 2] = -np.inf
    return x


#: name: (shape, axes, layout or None, values)
ROW_CASES = {
    "short rows (several per block)": ((7, 10), (1,), None, rand),
    "columns (output-fast)": ((12, 5), (0,), None, rand),
    "long rows": ((3, 20), (1,), None, rand),
    "outer axes of a transposed array": ((5, 4, 6), (0, 2), lambda x: x.transpose(2, 1, 0), rand),
    "zero stride": ((6,), (1,), lambda x: np.broadcast_to(x[:, None], (6, 4)), rand),
    "every axis": ((4, 5), (0, 1), None, rand),
    "large, infinite and NaN logits": ((6, 5), (1,), None, _edges),
    "0-d": ((), (), None, rand),
}
SOFTMAXES = (special._softmax_p, special._log_softmax_p)
BOTH_FLOATS = ("short rows (several per block)", "columns (output-fast)",
               "large, infinite and NaN logits")  # float64 only for the others (slow simulator)
for _name, (_shape, _axes, _layout, _values) in ROW_CASES.items():
    _x, _dtypes = _operand(_shape, _layout, _values), FLOATS if _name in BOTH_FLOATS else (np.float64,)
    ROWS += [Row(f"{p.name} {_name}", p, _with(_x, axes=_axes), dtypes=_dtypes, backends=("cuda",))
             for p in SOFTMAXES]
    ROWS += [Row(f"logsumexp {_name} keepdims={k}", special._logsumexp_p,
                 _with(_x, axes=_axes, keepdims=k), dtypes=_dtypes, backends=("cuda",))
             for k in ((False, True) if _name in BOTH_FLOATS else (False,))]
ROWS += [
    Row("logsumexp of empty rows", special._logsumexp_p,
        lambda dtype: ([np.zeros((3, 0), dtype)], {"axes": (1,), "keepdims": False}),
        backends=("cuda",), exact=("cuda",)),
    Row("softmax of an empty array", special._softmax_p,
        lambda dtype: ([np.zeros((0, 4), dtype)], {"axes": (1,)}), backends=("cuda",),
        exact=("cuda",)),
]
