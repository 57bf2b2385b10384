"""Transformations: functions in, new functions out."""

from funcgrad.transforms._args import float0  # noqa: F401  (JAX's dtype of integer inputs' gradients)
from funcgrad.transforms.custom import custom_jvp, custom_vjp  # noqa: F401
from funcgrad.transforms.grad import grad, value_and_grad, vjp  # noqa: F401
from funcgrad.transforms.graph import make_graph  # noqa: F401
from funcgrad.transforms.jacobian import hessian, jacfwd, jacrev  # noqa: F401
from funcgrad.transforms.jit import jit  # noqa: F401
from funcgrad.transforms.jvp import jvp  # noqa: F401
from funcgrad.transforms.vmap import vmap  # noqa: F401
