"""Public namespaces: what ``dir()`` shows of ``funcgrad.numpy``, ``fnp.linalg``, ``fnp.fft``, ...

A public module binds its helpers under underscore names (``import numpy as _np``) and
declares its public names in ``__all__``.  :func:`public_dir` makes the module's
``__dir__`` (PEP 562) list exactly those names and the dunders, so ``dir(fnp)`` and tab
completion show NumPy's names and nothing of the implementation.
``tests/test_namespace.py`` checks every public module against this contract.
"""

from collections.abc import Callable

__all__ = ["public_dir"]


def public_dir(namespace: dict) -> Callable[[], list[str]]:
    """A module ``__dir__``: the names in the module's ``__all__`` and its dunders, sorted.

    ``namespace`` is the module's ``globals()``; ``__all__`` is read when ``dir`` is called,
    so a module may define it after ``__dir__``.

    Examples:
        >>> namespace = {"__all__": ["sin"], "__name__": "m", "sin": None, "_np": None}
        >>> public_dir(namespace)()
        ['__all__', '__name__', 'sin']
    """
    def __dir__() -> list[str]:
        dunders = (name for name in namespace if name.startswith("__") and name.endswith("__"))
        return sorted({*namespace["__all__"], *dunders})

    return __dir__
