"""Transformations: functions in, new functions out."""

from funcgrad.transforms.grad import grad, value_and_grad, vjp  # noqa: F401
from funcgrad.transforms.graph import make_graph  # noqa: F401
