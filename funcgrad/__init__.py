"""funcgrad: functional automatic differentiation for NumPy code.

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> fg.grad(lambda x: fnp.sum(fnp.sin(x)))(np.zeros(2))
    array([1., 1.])
"""

from funcgrad import (  # noqa: F401
    errors,
    numpy,  # noqa: F401  (installs the tracer array interface)
    tree,
)
from funcgrad._core.graph import Graph, Node  # noqa: F401
from funcgrad.ops.misc import stop_gradient  # noqa: F401
from funcgrad.transforms import (  # noqa: F401
    custom_jvp,
    custom_vjp,
    grad,
    hessian,
    jacfwd,
    jacrev,
    jit,
    jvp,
    make_graph,
    value_and_grad,
    vjp,
    vmap,
)

__version__ = "0.1.0"
__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "vmap",
           "custom_vjp", "custom_jvp", "jit", "stop_gradient", "make_graph", "Graph", "Node",
           "tree", "errors", "numpy"]


def __getattr__(name: str):
    # Submodules that `import funcgrad` does not load up front (keeping import fast):
    # `funcgrad.optim`, `funcgrad.nn`, ... are imported on first use.
    if name in ("nn", "optim", "scipy", "testing", "backends", "optimize"):
        import importlib

        return importlib.import_module(f"funcgrad.{name}")
    raise AttributeError(f"module 'funcgrad' has no attribute {name!r}")
