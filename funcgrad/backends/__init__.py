"""Backends: maps from primitives to kernels, and which one is the default.

A backend compiles a :class:`~funcgrad._core.graph.Graph` into an
:class:`~funcgrad._core.interpret.Executable`.  Any primitive a backend has no
kernel for runs its NumPy reference implementation.  Backends are looked up by
name and imported lazily (``import funcgrad`` never imports numba).

The default backend is Numba when it imports, else NumPy.  Importing numba and
starting its compiler takes about a second, so the default is **tiered**: the
first time it is asked for, it is the NumPy reference, and a background thread
(:mod:`funcgrad.backends._warmup`) imports the Numba backend and loads the
kernels of the graphs compiled so far.  When that is done the default becomes
Numba: :func:`default_generation` changes, and ``jit`` recompiles (without
retracing) the executables it compiled for the provisional default.  If numba
fails to import, NumPy stays the default and the error is kept in
:func:`tiering_status`.  ``FUNCGRAD_TIERED=0`` in the environment, or
:func:`set_tiering`, turns tiering off: the default is then loaded in the
calling thread when first asked for.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

from funcgrad._core.graph import Graph
from funcgrad._core.interpret import Executable, InputLayout
from funcgrad.errors import ArgumentError


class Backend:
    """A named table of kernels: ``kernels[primitive] -> callable`` overriding ``primitive.impl``."""

    def __init__(self, name: str, kernels: dict | None = None):
        self.name = name
        self.kernels: dict = dict(kernels or {})

    def kernel_for(self, node, layout: InputLayout | None = None) -> Callable:
        """The kernel of ``node``: specialised for it when the kernel has a ``for_node`` hook.

        ``kernel.for_node(node, layout)`` returns a callable with the kernel's signature
        that may keep per-node state, such as a plan memoised for the executable's
        current :class:`~funcgrad._core.interpret.InputLayout`.
        """
        kernel = self.kernels.get(node.primitive, node.primitive.impl)
        for_node = getattr(kernel, "for_node", None)
        if for_node is None or layout is None:
            return kernel
        return for_node(node, layout)

    def compile(self, graph: Graph) -> Executable:
        layout = InputLayout()
        return Executable(graph, lambda node: self.kernel_for(node, layout), layout)

    def __repr__(self) -> str:
        return f"<Backend {self.name}: {len(self.kernels)} kernels>"


#: backend name -> module that defines ``BACKEND``; imported on first use.
_MODULES = {"numpy": "funcgrad.backends.numpy_ref", "numba": "funcgrad.backends.numba_cpu",
            "cuda": "funcgrad.backends.numba_cuda"}
#: The default when it loads, and the backend that stands in while it loads (or if it fails).
PREFERRED, FALLBACK = "numba", "numpy"
#: Set to ``0`` (or ``false``, ``no``, ``off``) to turn tiering off.
TIERED_ENV = "FUNCGRAD_TIERED"

_loaded: dict[str, Backend] = {}
_import_locks = {name: threading.Lock() for name in _MODULES}


def get_backend(name: str | None = None) -> Backend:
    """The backend called ``name``; ``None`` means the default *now* (see :func:`resolve_backend`).

    Examples:
        >>> get_backend("numpy").name
        'numpy'
    """
    if name is None:
        return resolve_backend(None)[0]
    backend = _loaded.get(name)
    return backend if backend is not None else _import(name)


def _import(name: str) -> Backend:
    """Import backend ``name`` once, even when two threads ask at the same time."""
    if name not in _MODULES:
        raise ArgumentError(f"unknown backend {name!r}; known: {sorted(_MODULES)}")
    with _import_locks[name]:
        if name not in _loaded:
            _loaded[name] = importlib.import_module(_MODULES[name]).BACKEND
    return _loaded[name]


# -- the default backend, tiered ----------------------------------------------------------------
class TieringStatus(NamedTuple):
    """What :func:`tiering_status` reports."""

    enabled: bool
    state: str          # "idle" (not asked for yet), "loading", "ready" (Numba), "failed" (NumPy)
    default: str        # the backend the default is now ("numpy" until the switch)
    generation: int     # changes each time the default may have changed
    error: BaseException | None  # why the preferred backend did not load
    warmed: int         # graphs whose kernels were loaded before the switch


class _Default:
    """Which backend is the default now, and whether that can still change (one per process)."""

    def __init__(self):
        value = os.environ.get(TIERED_ENV, "1").strip().lower()
        self.enabled = value not in ("0", "false", "no", "off")
        self.lock = threading.Lock()
        self.state = "idle"
        self.generation = 0
        self.error: BaseException | None = None
        self.loader = None          # the background loader, while it runs
        self.warmed = 0
        self.last_yield = 0.0
        self.settled = threading.Event()


_default = _Default()


def resolve_backend(name: str | None = None,
                    graph: Graph | None = None) -> tuple[Backend, int | None]:
    """The backend ``name`` names and, while it is a provisional default, its generation.

    An explicit ``name`` is final (``None`` generation).  For the default, the
    generation is an int while the NumPy reference stands in for a backend that
    is still loading; once :func:`default_generation` differs from it, ask again.
    ``graph``, a graph about to run on the provisional default, is handed to the
    background loader so its kernels are ready when the default switches.

    Examples:
        >>> resolve_backend("numpy")
        (<Backend numpy: 0 kernels>, None)
    """
    if name is not None:
        return get_backend(name), None
    if _chosen is not None:
        return get_backend(_chosen), None
    d = _default
    while True:
        with d.lock:
            state, generation, loader = d.state, d.generation, d.loader
            if state == "idle" and PREFERRED in _loaded:  # someone loaded it already
                d.state, state = "ready", "ready"
                d.settled.set()
            if state == "ready":
                return _loaded[PREFERRED], None
            if state == "failed":
                return get_backend(FALLBACK), None
            if d.enabled:
                fallback = get_backend(FALLBACK)
                if state == "idle":
                    loader = _start_loader(d)
                if graph is not None and loader is not None:
                    loader.request(graph)
                return fallback, generation
        # Tiering is off: load in this thread, or wait for whoever is loading.
        _settle(wait=True)


def _start_loader(d: _Default):
    from funcgrad.backends import _warmup

    d.state = "loading"
    d.loader = _warmup.Loader(lambda: _import(PREFERRED), functools.partial(_publish, d))
    d.loader.start()
    return d.loader


def _publish(d: _Default, backend: Backend | None, error: BaseException | None,
             warmed: int = 0) -> None:
    """The preferred backend loaded (``backend``) or failed (``error``): the default is final."""
    with d.lock:
        d.state = "ready" if backend is not None else "failed"
        d.error, d.warmed, d.loader = error, warmed, None
        d.generation += 1
        d.settled.set()
    if error is not None and not isinstance(error, ImportError):
        # numba is installed but broken: say so once (an absent numba is not news).
        warnings.warn(f"the {PREFERRED} backend failed to load ({type(error).__name__}: {error}); "
                      f"the default backend is {FALLBACK}", RuntimeWarning, stacklevel=2)


def _settle(wait: bool, timeout: float | None = None) -> None:
    """Load the preferred backend in this thread if nobody has started; with ``wait``, wait for it."""
    d = _default
    with d.lock:
        start = d.state == "idle"
        if start:
            d.state = "loading"
    if start:
        try:
            backend = _import(PREFERRED)
        except Exception as e:  # noqa: BLE001 - any failure leaves the fallback as the default
            _publish(d, None, e)
        else:
            _publish(d, backend, None)
    elif wait:
        d.settled.wait(timeout)


#: While the preferred backend loads, provisional executables let the loader thread run
#: (``time.sleep(0)``) about this often (seconds).  Without it, a busy main thread starves
#: the loader: each time the loader releases the GIL (each file it reads, each call into
#: the compiler) it waits a whole switch interval (5 ms) to get it back.  A loop of small
#: jitted calls on 2 busy cores (seconds until Numba serves / calls made by then):
#: no yielding 5.0-7.7 s / 17-31k; every 1 ms 3.0-3.2 s / 5-7k; every 0.2 ms 1.6-2.7 s /
#: 3-4k; every call 1.9-2.0 s / 1.5-1.9k (the load alone: 1.1-1.5 s).
YIELD_EVERY_S = 2e-4


def poll_default() -> int:
    """:func:`default_generation`, for an executable running on a provisional default, once a call.

    While the preferred backend is loading, it also lets the loader thread run
    (``time.sleep(0)``) at most every :data:`YIELD_EVERY_S` seconds.
    """
    d = _default
    if d.state == "loading":
        now = time.perf_counter()
        if now - d.last_yield > YIELD_EVERY_S:
            time.sleep(0)
            d.last_yield = time.perf_counter()
    return d.generation


#: The default chosen with :func:`set_default_backend` (``None``: the automatic one).
_chosen: str | None = None
#: Called with the new choice (a name, or ``None``) after :func:`set_default_backend` (``jit``
#: marks the executables it compiled for the default to recompile on their next call).
_listeners: list[Callable[[str | None], None]] = []


def set_default_backend(name: str | None) -> None:
    """Make backend ``name`` the default of every ``jit`` that names none; ``None`` restores the
    automatic default (Numba when it imports, else NumPy).

    Functions already compiled for the default recompile (without retracing) on their next
    call.  The backend is loaded now, so an unavailable one (``"cuda"`` with no device) raises
    here, not at the first call.

    Examples:
        >>> set_default_backend("numpy"); get_backend().name
        'numpy'
        >>> set_default_backend(None)
    """
    global _chosen
    if name is not None:
        get_backend(name)  # unknown or unavailable: the error, now
    with _default.lock:
        _chosen = name
        _default.generation += 1
    for listener in _listeners:
        listener(name)


def default_generation() -> int:
    """A number that changes whenever the default backend may have changed (cheap to compare).

    Examples:
        >>> isinstance(default_generation(), int)
        True
    """
    return _default.generation


def wait_for_default(timeout: float | None = None) -> Backend:
    """Wait until the default backend is final (loading it now if needed), and return it.

    After ``timeout`` seconds, return the provisional default instead.

    Examples:
        >>> wait_for_default().name in ("numba", "numpy")
        True
    """
    d = _default
    if d.enabled:
        resolve_backend(None)  # starts the background loader if nobody has
        d.settled.wait(timeout)
    else:
        _settle(wait=True, timeout=timeout)
    return resolve_backend(None)[0] if d.settled.is_set() else get_backend(FALLBACK)


def default_backend_name() -> str:
    """The name of the backend the default settles on: ``"numba"`` when it imports, else ``"numpy"``.

    Waits for the default to be final (:func:`wait_for_default`).
    """
    return wait_for_default().name


def set_tiering(enabled: bool) -> None:
    """Turn tiered start-up on or off for this process (``FUNCGRAD_TIERED`` sets the initial value).

    Off, the default backend is loaded in the calling thread the first time it
    is asked for, and executables compiled for a provisional default switch (on
    their next call, after waiting for the load) as they would have anyway.

    Examples:
        >>> set_tiering(False)  # from now on, the first jit call loads Numba itself
        >>> tiering_status().enabled
        False
    """
    d = _default
    with d.lock:
        if d.enabled and not enabled and d.state == "loading":
            d.generation += 1  # provisional executables ask again, and wait
        d.enabled = bool(enabled)


def tiering_status() -> TieringStatus:
    """Whether tiering is on, how far the default backend is, and why it failed if it did.

    Examples:
        >>> tiering_status().state in ("idle", "loading", "ready", "failed")
        True
    """
    d = _default
    with d.lock:
        default = PREFERRED if d.state == "ready" else FALLBACK
        return TieringStatus(d.enabled, d.state, default, d.generation, d.error, d.warmed)


def _after_fork_in_child() -> None:
    # The loader thread does not exist in the child, and any lock it held stays held: new
    # locks.  A load that was still running cannot be finished here (its modules are half
    # imported; waiting for it in a ``before`` hook would let it register other modules'
    # fork hooks in the middle of the fork), so the child keeps the fallback.
    global _import_locks
    _import_locks = {name: threading.Lock() for name in _MODULES}
    d = _default
    d.lock = threading.Lock()
    if d.state == "loading":
        d.state, d.loader = "failed", None
        d.error = RuntimeError(f"the process forked while the {PREFERRED} backend was loading; "
                               "call funcgrad.backends.wait_for_default() before forking")
        d.generation += 1
        d.settled.set()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
