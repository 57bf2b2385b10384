"""Op-table rows for ``softmax`` (``funcgrad.scipy.special`` and ``funcgrad.nn``), one primitive
with its own forward and reverse rules (imported by ``tests/op_table.py``).

The reference is SciPy's ``softmax``, cast to the input's float dtype.  The op table's jvp
tests check the forward rule against finite differences and against the reverse rule.
"""

import scipy.special as sc
from op_table import op, same

from funcgrad import nn
from funcgrad.scipy import special

for _label, _axis, _min_dims in [("axis=-1", -1, 1), ("axis=0", 0, 1), ("axis=None", None, 0),
                                 ("axis=(0,-1)", (0, -1), 2)]:
    op(f"softmax[{_label}]", lambda x, axis=_axis: special.softmax(x, axis=axis),
       lambda x, axis=_axis: sc.softmax(x, axis=axis).astype(x.dtype),
       shapes=same(min_dims=_min_dims), kind="reduce")
op("nn.softmax[default axis]", nn.softmax, lambda x: sc.softmax(x, axis=-1).astype(x.dtype),
   shapes=same(min_dims=1), kind="reduce")
