"""Backends: maps from primitives to kernels.

A backend compiles a :class:`~funcgrad._core.graph.Graph` into an
:class:`~funcgrad._core.interpret.Executable`.  Any primitive a backend has no
kernel for runs its NumPy reference implementation.  Backends are looked up by
name and imported lazily (``import funcgrad`` never imports numba).
"""

from __future__ import annotations

import importlib
from typing import Callable

from funcgrad._core.graph import Graph
from funcgrad._core.interpret import Executable
from funcgrad.errors import ArgumentError


class Backend:
    """A named table of kernels: ``kernels[primitive] -> callable`` overriding ``primitive.impl``."""

    def __init__(self, name: str, kernels: dict | None = None):
        self.name = name
        self.kernels: dict = dict(kernels or {})

    def kernel_for(self, node) -> Callable:
        return self.kernels.get(node.primitive, node.primitive.impl)

    def compile(self, graph: Graph) -> Executable:
        return Executable(graph, self.kernel_for)

    def __repr__(self) -> str:
        return f"<Backend {self.name}: {len(self.kernels)} kernels>"


#: backend name -> module that defines ``BACKEND``; imported on first use.
_MODULES = {"numpy": "funcgrad.backends.numpy_ref", "numba": "funcgrad.backends.numba_cpu",
            "cuda": "funcgrad.backends.numba_cuda"}
_loaded: dict[str, Backend] = {}


def get_backend(name: str | None = None) -> Backend:
    """The backend called ``name``; ``None`` means the default (numba when it imports, else numpy).

    Examples:
        >>> get_backend("numpy").name
        'numpy'
    """
    if name is None:
        name = default_backend_name()
    if name not in _loaded:
        if name not in _MODULES:
            raise ArgumentError(f"unknown backend {name!r}; known: {sorted(_MODULES)}")
        _loaded[name] = importlib.import_module(_MODULES[name]).BACKEND
    return _loaded[name]


def default_backend_name() -> str:
    """``"numba"`` when numba and its backend import, else ``"numpy"``."""
    if "numba" in _MODULES:
        try:
            get_backend("numba")
            return "numba"
        except ImportError:
            pass
    return "numpy"
