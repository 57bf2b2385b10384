"""Op-table rows for ``checkpoint`` (one operation holding a sub-graph, with its policies),
``checkpoint_name`` and a pytree ``custom_jvp`` (imported by ``tests/op_table.py``).

Each row's reference is the same function in NumPy: a checkpoint changes what is stored,
never a value, so every generated test (gradients to order 2 against finite differences,
jvp against vjp, vmap against a loop, jit against eager) must hold unchanged.
"""

import numpy as np
from op_table import POSITIVE, REAL, op, sides

import funcgrad.numpy as fnp
from funcgrad import custom_jvp
from funcgrad.transforms.checkpoint import (
    checkpoint,
    checkpoint_name,
    checkpoint_policies,
)

_cp = checkpoint_policies

op("checkpoint[sin(x) * cos(y) + x * y]",
   checkpoint(lambda x, y: fnp.sin(x) * fnp.cos(y) + x * y),
   lambda x, y: np.sin(x) * np.cos(y) + x * y, nargs=2)
op("checkpoint[nested, everything_saveable]",
   checkpoint(lambda x: fnp.exp(checkpoint(lambda u: fnp.tanh(u) * u)(x) * 0.5),
              policy=_cp.everything_saveable),
   lambda x: np.exp(np.tanh(x) * x * 0.5))
op("checkpoint[log(x) * named, save_only_these_names]",
   checkpoint(lambda x: fnp.log(x) * checkpoint_name(fnp.sqrt(x), "root"),
              policy=_cp.save_only_these_names("root")),
   lambda x: np.log(x) * np.sqrt(x), domains=POSITIVE)
op("checkpoint_name", lambda x: checkpoint_name(x * x, "square") + x,
   lambda x: x * x + x)

for _label, _policy in [("nothing_saveable", None), ("dots_saveable", _cp.dots_saveable),
                        ("dots_with_no_batch_dims_saveable",
                         _cp.dots_with_no_batch_dims_saveable)]:
    op(f"checkpoint[tanh(a @ b) * a @ b, {_label}]",
       checkpoint(lambda a, b: fnp.tanh(a @ b) * (a @ b), policy=_policy),
       lambda a, b: np.tanh(a @ b) * (a @ b),
       sides(3, lambda m, n, k: ((m, n), (n, k))), (REAL, REAL), kind="linalg")


@custom_jvp
def _hypot_pair(p, scale=1.0):
    """``{"r": hypot(x, y) * scale, "sq": x * y}`` with its true derivative as the rule."""
    return {"r": fnp.hypot(p[0], p[1]) * scale, "sq": p[0] * p[1]}


@_hypot_pair.defjvp
def _hypot_pair_jvp(primals, tangents):
    # fnp functions, not operators: a leaf may be a list of rows (tests/test_array_like.py)
    (p, scale), (t, ts) = primals, tangents
    (x, y), (tx, ty) = p, t
    r = fnp.hypot(x, y)
    dr = fnp.divide(fnp.add(fnp.multiply(x, tx), fnp.multiply(y, ty)), r)
    return (_hypot_pair(p, scale),
            {"r": dr * scale + r * ts, "sq": fnp.add(fnp.multiply(tx, y), fnp.multiply(x, ty))})


op("custom_jvp[pytree in and out]",
   lambda x, y: _hypot_pair((x, y), scale=2.0)["r"] + _hypot_pair((x, y))["sq"],
   lambda x, y: np.hypot(x, y) * 2.0 + x * y, nargs=2, domains=(POSITIVE, POSITIVE))
