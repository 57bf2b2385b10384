"""Structured control flow with ``jax.lax``'s names: ``cond``, ``switch``, ``while_loop``,
``fori_loop``, ``scan``, ``map``, ``select``, ``stop_gradient``; convolutions
(``conv_general_dilated``, ``conv``, ``conv_transpose``, ...: :mod:`funcgrad.ops.conv`) and
pooling (``reduce_window`` with ``add``, ``max``, ``min``: :mod:`funcgrad.ops.pooling`).

Bodies and branches are traced once into sub-graphs held by one operation; the
operation has derivative, batching and jit rules of its own (docs/control_flow.md).
"""

from funcgrad.lax._cond import cond, select, switch, while_loop
from funcgrad.lax._loops import fori_loop, map, scan
from funcgrad.ops.conv import (
    ConvDimensionNumbers,
    conv,
    conv_dimension_numbers,
    conv_general_dilated,
    conv_transpose,
    conv_with_general_padding,
    padtype_to_pads,
)
from funcgrad.ops.elementwise import add
from funcgrad.ops.elementwise import maximum as max  # jax.lax.max: elementwise
from funcgrad.ops.elementwise import minimum as min
from funcgrad.ops.misc import stop_gradient
from funcgrad.ops.pooling import reduce_window

__all__ = ["ConvDimensionNumbers", "add", "cond", "conv", "conv_dimension_numbers",
           "conv_general_dilated", "conv_transpose", "conv_with_general_padding", "fori_loop", "map",
           "max", "min", "padtype_to_pads", "reduce_window", "scan", "select", "stop_gradient",
           "switch", "while_loop"]
