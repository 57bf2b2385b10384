"""Op-table rows for ``funcgrad.debug``'s effectful ``debug_callback`` primitive.

The callback records the shapes it sees and returns nothing; the row's value is an ordinary
function of the input, so every generated test (forward, gradients, jvp, vmap, jit, float32)
checks that a callback in the middle of a program changes no value and no derivative.
"""

import numpy as np
from op_table import REAL, op

import funcgrad.numpy as fnp
from funcgrad import debug

SEEN: list = []  # shapes the callback was called with (tests/test_debug.py reads it)


def _record(v, tag=None) -> None:
    SEEN.append(np.shape(v))


op("debug.callback[between ops]",
   lambda x: (debug.callback(_record, fnp.sin(x)), fnp.sin(x) * x)[1],
   lambda x: np.sin(x) * x, domains=REAL, kind="effect")
op("debug.callback[keyword argument]",
   lambda x, y: (debug.callback(_record, x * y, tag="xy"), fnp.tanh(x * y) + y)[1],
   lambda x, y: np.tanh(x * y) + y, domains=(REAL, REAL), kind="effect")
