"""Global switches, with ``jax.config``'s names: ``debug_nans`` and ``disable_jit``.

``update(name, value)`` sets an option and ``read(name)`` reads it back;
``config.debug_nans`` reads that option too.  An option is a process-wide
setting (not per thread).  Turning one on *swaps* the checking or eager variant
into place (the jit call path, the primitives' implementations, the backward
pass) instead of adding a flag test to every operation, so an option that is off
costs nothing (see ``docs/debugging.md``).

Examples:
    >>> import funcgrad as fg
    >>> fg.config.update("debug_nans", True); fg.config.debug_nans
    True
    >>> fg.config.update("debug_nans", False); fg.config.read("disable_jit")
    False
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator
from typing import Any

from funcgrad.errors import ArgumentError, ConfigError

#: Every option and its default.
DEFAULTS: dict[str, bool] = {
    "debug_nans": False,   # raise NonFiniteError at the first NaN or infinity (docs/debugging.md)
    "disable_jit": False,  # jitted functions run eagerly, op by op
}
_values: dict[str, Any] = dict(DEFAULTS)
_local = threading.local()  # .eager: depth of op-by-op re-runs of jitted calls (debug_nans)

#: The current value of the ``debug_nans`` option (kept in step by :func:`update`).
debug_nans: bool = False


def _known() -> str:
    return ", ".join(repr(k) for k in DEFAULTS)


def _check_name(name: str) -> None:
    if name not in DEFAULTS:
        hint = " (funcgrad's names have no 'jax_' prefix)" if (
            isinstance(name, str) and name.startswith("jax_") and name[4:] in DEFAULTS) else ""
        raise ConfigError(f"funcgrad.config: unknown option {name!r}{hint}; the options are "
                          f"{_known()}")


def read(name: str) -> Any:
    """The current value of option ``name``.

    Examples:
        >>> read("disable_jit")
        False
    """
    _check_name(name)
    return _values[name]


def update(name: str, value: Any) -> None:
    """Set option ``name`` to ``value`` (``True``/``False``).

    Examples:
        >>> update("disable_jit", True); read("disable_jit")
        True
        >>> update("disable_jit", False)
    """
    global debug_nans
    _check_name(name)
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise ArgumentError(f"funcgrad.config.update({name!r}, ...): expected True or False, "
                            f"got {value!r} ({type(value).__name__})")
    value = bool(value)
    if _values[name] == value:
        return
    _values[name] = value
    if name == "debug_nans":
        debug_nans = value
        from funcgrad.transforms import debug_nans as checking

        checking.install() if value else checking.uninstall()
    _route_jit_calls()


def _route_jit_calls() -> None:
    """Jitted calls take the compiled path unless ``disable_jit`` or ``debug_nans`` is on."""
    jit = importlib.import_module("funcgrad.transforms.jit")  # (the package's `jit` is the function)
    on = _values["disable_jit"] or _values["debug_nans"]
    jit.route_calls(_intercepted_call if on else None)


def _intercepted_call(self, *args, **kwargs):
    """A jitted function's call while ``disable_jit`` or ``debug_nans`` is on."""
    if _values["disable_jit"] or getattr(_local, "eager", 0):
        return self.fun(*args, **kwargs)
    from funcgrad.transforms.debug_nans import checked_jit_call

    return checked_jit_call(self, args, kwargs)


@contextlib.contextmanager
def eager_jit() -> Iterator[None]:
    """Inside the block (this thread only), jitted functions run eagerly: for op-by-op re-runs."""
    _local.eager = getattr(_local, "eager", 0) + 1
    try:
        yield
    finally:
        _local.eager -= 1


class _Option:
    """A context manager (and decorator) that sets an option and restores it on exit."""

    def __init__(self, name: str, value: bool):
        self.name, self.value = name, value
        self._saved: list = []

    def __enter__(self) -> None:
        self._saved.append(read(self.name))
        update(self.name, self.value)

    def __exit__(self, *exc) -> None:
        update(self.name, self._saved.pop())

    def __call__(self, fn):
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        wrapped.__name__ = getattr(fn, "__name__", "f")
        wrapped.__doc__ = getattr(fn, "__doc__", None)
        return wrapped


def disable_jit(disable: bool = True) -> _Option:
    """A context manager in which jitted functions run eagerly, op by op (``print`` and Python
    control flow on values then work inside them); ``disable_jit(False)`` re-enables jit inside.

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> @fg.jit
        ... def f(x):
        ...     print("running eagerly:", type(x).__name__)
        ...     return x * 2.0
        >>> with fg.disable_jit():
        ...     f(np.ones(2))
        running eagerly: ndarray
        array([2., 2.])
    """
    return _Option("disable_jit", bool(disable))


def __getattr__(name: str):
    if name in DEFAULTS:
        return _values[name]
    _check_name(name)  # raises ConfigError (an AttributeError) listing the options


__all__ = ["DEFAULTS", "debug_nans", "disable_jit", "read", "update"]
