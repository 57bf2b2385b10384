"""Op-table rows for what the random-program suite (``tests/test_random_programs.py``) found.

``tests/op_table.py`` imports this file.  Each row is the shrunk failing program (or
the smallest op that shows the bug), so every generated op test -- gradients at orders
1 and 2, jvp against finite differences and against vjp, vmap, float32 -- keeps
checking it.  The comment above a row says what was wrong and which commit fixed it.
"""

import numpy as np
from op_table import NONZERO, POSITIVE, REAL, fixed, op

import funcgrad.numpy as fnp

# heaviside's tangent in x was NaN (the JVP wrapper of binary ops broadcast the VJP
# rule's ``None``, a symbolic zero, to the output's shape), and with a 0-d x and both
# arguments traced the JVP raised TypeError.  Reverse mode gave 0, the true derivative.
# Found as (shrunk):
#     v0 = OPS['heaviside[at 0]'](x0, C0)
#     v1 = fnp.reshape(fnp.ravel(v0)[:3], (3,)) + C1
#     v2 = 1.0 + 0.45 * fnp.tanh(v1)
#     v3 = OPS['cumprod[axis=None]'](v2)
# Fixed in funcgrad/ops/_family.py (binary ops' JVP: ``None`` stays a symbolic zero).
op("regression[heaviside(x * 0, h), tanh, cumprod]",
   lambda x, h: fnp.cumprod(1.0 + 0.45 * fnp.tanh(fnp.heaviside(x * 0.0, h))),
   lambda x, h: np.cumprod(1.0 + 0.45 * np.tanh(np.heaviside(x * 0.0, h))),
   domains=(REAL, REAL), kind="regression")
op("regression[heaviside, both traced]", lambda x, h: fnp.heaviside(x, h) * h,
   lambda x, h: np.heaviside(x, h) * h, domains=(NONZERO, REAL), kind="regression")
# The same wrapper, copysign's (zero) derivative in its sign argument y.
op("regression[copysign(x, y), y traced]", lambda x, y: fnp.copysign(x, y) + x * y,
   lambda x, y: np.copysign(x, y) + x * y, domains=(NONZERO, NONZERO), kind="regression")

# Traced logspace with an array base put the sample axis last: jit(logspace(0.5, a, 3,
# base=b)) gave shape (1, 3) where NumPy gives (3, 1) for a 0-d ``a`` and b of shape
# (1,) (NumPy raises start, stop and base to one rank before adding the axis); and
# linspace/logspace of a Python-float endpoint and a float32 one were float64 when traced
# (NumPy: float32, the Python float is weak).  Found as (shrunk):
#     v0 = OPS['logspace[base]'](x0, x1)      # x0: 0-d, x1: shape (1,); jit vs eager
# Fixed in funcgrad/numpy/_creation.py.
op("regression[logspace, array base of higher rank]",
   lambda a, b: fnp.logspace(0.5, a, 3, base=b), lambda a, b: np.logspace(0.5, a, 3, base=b),
   fixed((), (1,)) | fixed((2, 1), (1, 2)) | fixed((3,), (2, 1)), (REAL, POSITIVE), kind="regression")
op("regression[linspace, Python float start]", lambda a: fnp.linspace(0.5, a, 4),
   lambda a: np.linspace(0.5, a, 4), kind="regression")

# round with decimals != 0 under grad/jvp raised TypeError: its (zero) derivative rule did
# not take the ``decimals`` parameter.  Found as a TypeError from OPS['around'] in a program.
# Fixed in funcgrad/ops/elementwise.py (commit 0459909, found there independently at the same
# time).  (x * 0 + 0.26 keeps the value off the rounding steps.)
op("regression[round(x * 0 + 0.26, decimals=1) * x]", lambda x: fnp.round(x * 0.0 + 0.26, 1) * x,
   lambda x: np.round(x * 0.0 + 0.26, 1) * x, kind="regression")
