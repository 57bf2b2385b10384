"""The background loader of tiered start-up: import the preferred backend, then warm its kernels.

:class:`Loader` is a daemon thread started (once) by
:func:`funcgrad.backends.resolve_backend`.  It imports the backend, then runs
each graph that was compiled for the provisional default so far on the new
backend, with placeholder inputs of the graph's shapes and dtypes: that
compiles the graph's kernels, or loads them from the disk cache, exactly as the
real call will need them (same Programs, shapes, strides and dtypes).  Graphs
too large to run twice cheaply are skipped; if no graph was run, a tiny
canary graph still starts the backend's compiler.  Then it publishes the
backend as the default.  Every failure is caught: an import failure leaves the
fallback as the default, a warm-up failure only means that graph's kernels load
on its first real call.

At interpreter exit, an ``atexit`` hook asks the loader to stop at its next
step and waits for it, so the process never exits while the thread is inside
the compiler (Numba's cache files are written atomically, so even a killed
process leaves a usable cache).
"""

from __future__ import annotations

import atexit
import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import Graph

#: A graph is warmed up only if all its values together have at most this many
#: elements: running it once more in the background then costs at most a few
#: milliseconds, and never needs a multi-threaded kernel.
WARMUP_MAX_ELEMENTS = 1 << 18
#: Warm up at most this many graphs before switching (the rest load on first use).
WARMUP_MAX_GRAPHS = 16
#: At exit, wait at most this long (seconds) for the loader to leave the compiler.
EXIT_WAIT_S = 30.0


def graph_elements(graph: Graph) -> int:
    """The number of elements of all the values of ``graph`` (inputs, constants, results)."""
    total = 0
    for node in graph.nodes:
        n = 1
        for d in node.shape:
            n *= d
        total += n
    return total


def placeholder(shape: tuple, dtype) -> np.ndarray:
    """A C-contiguous input of ``shape`` and ``dtype``: 0.5 for inexact dtypes (not a pole of log,
    1/x, arctanh), zero otherwise (a valid index)."""
    dtype = np.dtype(dtype)
    return np.full(shape, 0.5 if is_inexact(dtype) else 0, dtype)


def may_not_stop(graph: Graph) -> bool:
    """Whether ``graph`` holds, at any depth, a loop whose trip count depends on values.

    A ``while_loop`` node holds a ``cond`` sub-graph (the agreed ``while_p`` layout); run
    on placeholder inputs, its condition may never turn false.
    """
    stack = [graph]
    while stack:
        for node in stack.pop().nodes:
            for name, value in node.params.items():
                graphs = value if isinstance(value, tuple) else (value,)
                for g in graphs:
                    if isinstance(g, Graph):
                        if name == "cond":
                            return True
                        stack.append(g)
    return False


def warm_up(backend, graph: Graph) -> bool:
    """Run ``graph`` once on ``backend`` with placeholder inputs; ``False`` if it is too large,
    has effects (``debug.print`` must print the user's values, never placeholders) or holds a
    ``while_loop`` (:func:`may_not_stop`)."""
    if graph.effects or graph_elements(graph) > WARMUP_MAX_ELEMENTS or may_not_stop(graph):
        return False
    args = [placeholder(n.shape, n.dtype) for n in graph.inputs]
    with np.errstate(all="ignore"):  # placeholders may divide by zero (errstate is per thread)
        backend.compile(graph)(args)
    return True


def canary_graph() -> Graph:
    """A tiny optimised graph with a fused chain and a sum: what a first jit call typically runs."""
    import funcgrad.numpy as fnp
    from funcgrad.transforms.graph import make_graph

    def f(x, y):
        return fnp.sum(fnp.tanh(x * 2.0 + y) * y, axis=0)

    return make_graph(f, optimize=True)(np.zeros((4, 3)), np.zeros(3))


class Loader(threading.Thread):
    """Imports a backend with ``load()``, warms the requested graphs, then calls ``publish``.

    ``publish(backend, None, warmed)`` on success, ``publish(None, error)`` when
    ``load`` raised.  :meth:`request` queues a graph to warm up before publishing.
    """

    def __init__(self, load: Callable, publish: Callable):
        super().__init__(name="funcgrad-backend-loader", daemon=True)
        self._load = load
        self._publish = publish
        self._lock = threading.Lock()
        self._queue: deque = deque()
        self._requests = 0
        self._closed = False
        self._stop_requested = threading.Event()
        self.warm_errors: list[BaseException] = []

    def start(self) -> None:
        atexit.register(self._stop_at_exit)  # registered by the starting thread: before any exit
        super().start()

    def request(self, graph: Graph) -> None:
        """Warm ``graph``'s kernels before the switch (ignored once the loader is finishing)."""
        with self._lock:
            if not self._closed and self._requests < WARMUP_MAX_GRAPHS:
                self._requests += 1
                self._queue.append(graph)

    def _next(self) -> Graph | None:
        with self._lock:
            if self._queue and not self._stop_requested.is_set():
                return self._queue.popleft()
            self._closed = True
            return None

    def run(self) -> None:
        backend, error, warmed = None, None, 0
        try:
            backend = self._load()
            while (graph := self._next()) is not None:
                try:
                    warmed += warm_up(backend, graph)
                except Exception as e:  # noqa: BLE001 - the graph's kernels load on first use
                    self.warm_errors.append(e)
            if not warmed and not self._stop_requested.is_set():
                warm_up(backend, canary_graph())
        except BaseException as e:  # noqa: BLE001 - recorded, never raised in user code
            if backend is None:
                error = e
            else:
                self.warm_errors.append(e)
        finally:
            self._closed = True
            try:
                self._publish(backend, error, warmed)
            except BaseException as e:  # noqa: BLE001 - e.g. its warning turned into an error
                self.warm_errors.append(e)

    def _stop_at_exit(self) -> None:
        self._stop_requested.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(EXIT_WAIT_S)
