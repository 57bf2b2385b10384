"""Structured control flow with ``jax.lax``'s names: ``cond``, ``switch``, ``while_loop``,
``fori_loop``, ``scan``, ``map``, ``select``, ``stop_gradient``; convolutions
(``conv_general_dilated``, ``conv``, ``conv_transpose``, ...: :mod:`funcgrad.ops.conv`).

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
from funcgrad.ops.misc import stop_gradient

__all__ = ["ConvDimensionNumbers", "cond", "conv", "conv_dimension_numbers", "conv_general_dilated",
           "conv_transpose", "conv_with_general_padding", "fori_loop", "map", "padtype_to_pads",
           "scan", "select", "stop_gradient", "switch", "while_loop"]
