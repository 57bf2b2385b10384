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
    float0,
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


#: Public names loaded on first use (keeping ``import funcgrad`` fast): name -> (module, attribute);
#: attribute ``None`` means the module itself.
_LAZY = {
    **{name: (f"funcgrad.{name}", None) for name in (
        "nn", "optim", "scipy", "testing", "backends", "optimize", "lax", "random", "debug",
        "tree_util", "config", "distributed")},
    "checkpoint": ("funcgrad.transforms.checkpoint", "checkpoint"),
    "remat": ("funcgrad.transforms.checkpoint", "remat"),
    "checkpoint_policies": ("funcgrad.transforms.checkpoint", "checkpoint_policies"),
    "checkpoint_name": ("funcgrad.transforms.checkpoint", "checkpoint_name"),
    "debug_nans": ("funcgrad.transforms.debug_nans", "debug_nans"),
    "disable_jit": ("funcgrad.config", "disable_jit"),
    "eval_shape": ("funcgrad.transforms.eval_shape", "eval_shape"),
    "ShapeDtypeStruct": ("funcgrad.transforms.eval_shape", "ShapeDtypeStruct"),
    "linearize": ("funcgrad.transforms.linearize", "linearize"),
    "linear_transpose": ("funcgrad.transforms.linearize", "linear_transpose"),
    "device_put": ("funcgrad.backends._cuda_arrays", "device_put"),
    "device_get": ("funcgrad.backends._cuda_arrays", "device_get"),
    "set_default_backend": ("funcgrad.backends", "set_default_backend"),
}


def __getattr__(name: str):
    entry = _LAZY.get(name)
    if entry is None:
        raise AttributeError(f"module 'funcgrad' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(entry[0])
    value = module if entry[1] is None else getattr(module, entry[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
