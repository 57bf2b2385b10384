"""Tools for testing derivatives: ``check_grads``, ``numerical_grad`` and hypothesis strategies.

``check_grads(f, args)`` compares funcgrad's first and second derivatives of
``f``, in reverse and forward mode, with central finite differences (element by
element, or along ``projections=k`` random directions; real or complex inputs)
and raises a :class:`~funcgrad.errors.GradientCheckError` naming the mode and
the first element (or direction) that disagrees.  ``funcgrad.testing.strategies`` holds hypothesis strategies for
shapes, arrays and pytrees, and ``funcgrad.testing.programs`` random programs composed
from a table of ops, checked under every transformation; both are imported on first
use, so this package does not need hypothesis installed.

Examples:
    >>> import numpy as np
    >>> import funcgrad.numpy as fnp
    >>> from funcgrad.testing import check_grads
    >>> check_grads(lambda x: fnp.tanh(x) ** 2, (np.array([0.1, -0.7]),))
"""

from __future__ import annotations

import importlib
from typing import Any

from funcgrad.testing._check import check_grads, numerical_grad

__all__ = ["check_grads", "numerical_grad", "programs", "strategies"]


def __getattr__(name: str) -> Any:
    # These need hypothesis, a test-time dependency: import them on first use.
    if name in ("strategies", "programs"):
        return importlib.import_module(f"funcgrad.testing.{name}")
    raise AttributeError(f"module 'funcgrad.testing' has no attribute {name!r}")
