"""``jit``: trace once per input signature, optimise the graph, run the compiled executable.

The signature of a call is the pytree structure of its dynamic arguments, each
leaf's shape and dtype, and the values of the static arguments.  A new
signature traces the function abstractly (:class:`AbstractTrace`), optimises
the graph and compiles it with the chosen backend; calls with a known
signature run the cached executable.  Each retrace records *why* it happened
(which argument's shape, dtype, structure or static value changed), and a
function that keeps retracing gets a warning naming the argument.

When an argument is a tracer of an enclosing transformation (``grad(jit(f))``,
``vmap(jit(f))``), the cached graph is inlined into that trace instead.

With the default backend, the first calls may run on a provisional backend
while the preferred one loads in the background (tiered start-up, see
:mod:`funcgrad.backends`).  Such an executable is wrapped in
:class:`_Provisional`, which compares one number per call and, once the
default has changed, has the entry recompiled from its optimised graph (no
retrace).  Executables for a final backend are not wrapped: the hot path does
not pay for tiering.
"""

from __future__ import annotations

import re
import threading
import types
import warnings
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import Graph
from funcgrad._core.interpret import eval_graph
from funcgrad._core.trace import AbstractTrace, Tracer, user_location
from funcgrad.errors import ArgumentError, BackendUnavailableError
from funcgrad.transforms._args import (
    array_leaves,
    resolve_argnums_argnames,
    signature_parameters,
)
from funcgrad.transforms.graph import close_graph

#: Warn when one jitted function has been traced more than this many times.
RETRACE_WARNING_THRESHOLD = 10


class RetraceWarning(UserWarning):
    """A jitted function keeps being retraced because an argument's signature keeps changing."""


class CacheInfo(NamedTuple):
    """What :meth:`Jitted.cache_info` reports."""

    hits: int
    misses: int
    size: int
    retraces: tuple[str, ...]  # one reason per miss after the first


class _Signature(NamedTuple):
    tree: Any
    avals: tuple
    static: tuple


class _Entry(NamedTuple):
    graph: Graph            # as traced (inlined into enclosing traces)
    executable: Any         # None when the graph closes over tracers of an enclosing trace
    lifted: list
    optimized: Graph | None
    backend: str | None     # the name of the backend the executable runs on


def _no_generation() -> int:
    return -1  # never a stale _Provisional's generation (None): it always recompiles


class _Provisional:
    """An executable compiled for a provisional default backend: recompiled once the default changes."""

    __slots__ = ("current", "executable", "generation", "jitted", "optimized", "sig")

    def __init__(self, jitted, sig, optimized, executable, generation, current):
        self.jitted, self.sig, self.optimized = jitted, sig, optimized
        self.executable, self.generation, self.current = executable, generation, current

    def __call__(self, args):
        if self.generation == self.current():
            return self.executable(args)
        return self.jitted._upgrade(self)(args)


def _fast_key(args) -> tuple[tuple, list] | None:
    """``(key, leaves)`` when every argument is an ndarray or a dict of ndarrays, else ``None``.

    The key holds each leaf's shape and dtype and each dict's keys; the leaves are in
    :func:`funcgrad.tree.flatten`'s order (a dict's values by sorted key).  Building it
    costs a fraction of flattening the arguments and hashing their tree structure.
    """
    key: list = []
    leaves: list = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            key.append((a.shape, a.dtype))
            leaves.append(a)
        elif t is dict:
            try:
                names = sorted(a)
            except TypeError:  # unorderable keys: the general path knows their order
                return None
            key.append(("dict", tuple(names)))
            for name in names:
                v = a[name]
                if type(v) is not np.ndarray:
                    return None
                key.append((v.shape, v.dtype))
                leaves.append(v)
        else:
            return None
    return tuple(key), leaves


class Jitted:
    """A function compiled by :func:`jit`; call it like the original."""

    def __init__(self, fun, static_argnums, static_argnames, backend, warn_after,
                 donate_argnums=(), donate_argnames=()):
        self.fun = fun
        self.__name__ = getattr(fun, "__name__", "f")
        params = signature_parameters(fun)
        fname = f"jit({self.__name__})"
        self.static_argnums, self.static_argnames = resolve_argnums_argnames(
            params, static_argnums, static_argnames, "static", fname)
        # Donation is validated and then ignored: NumPy arrays are not device buffers
        # (docs/transformations.md, "Porting from JAX").
        self.donate_argnums, self.donate_argnames = resolve_argnums_argnames(
            params, donate_argnums, donate_argnames, "donate", fname)
        both = (set(self.static_argnums) & set(self.donate_argnums),
                set(self.static_argnames) & set(self.donate_argnames))
        if any(both):
            raise ArgumentError(f"{fname}: an argument cannot be both static and donated: "
                                f"{sorted(both[0]) or sorted(both[1])} appear in both")
        self.backend = backend
        self.warn_after = warn_after
        self._cache: dict = {}
        self._fast: dict = {}  # _fast_key(args)[0] -> (output builder, executable)
        self._plain_args = not self.static_argnums and not self.static_argnames
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._reasons: list[str] = []
        self._last: _Signature | None = None
        self._warned = False
        params = params or {}
        self._names = list(params)
        # How many parameters can be passed by position (None: any number, through *args).
        self._n_named = None if not params or any(p.kind is p.VAR_POSITIONAL for p in params.values()) \
            else sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params.values())
        # A static keyword left out is its default: part of the signature all the same.
        self._static_defaults = {k: params[k].default for k in self.static_argnames
                                 if k in params and params[k].default is not params[k].empty}
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__wrapped__ = fun
        if backend is None:
            _ON_DEFAULT.add(self)  # recompiled when set_default_backend changes the default

    def __get__(self, obj, objtype=None):
        """As a method, bind ``obj`` as the first argument (like a function): ``self`` is then an
        ordinary argument, a pytree of arrays or static (``static_argnums=0``), as in JAX."""
        return self if obj is None else types.MethodType(self, obj)

    # -- signatures ------------------------------------------------------------
    def _positions(self, argnums, nargs: int, option: str) -> tuple[int, ...]:
        """``argnums`` that this call passes positionally (negative ones count from the end)."""
        out = []
        for n in argnums:
            i = n + nargs if n < 0 else n
            if 0 <= i < nargs:
                out.append(i)
            elif self._n_named is None or i >= self._n_named:  # no parameter of that position
                raise ArgumentError(f"jit({self.__name__}): {option}_argnums contains {n}, but "
                                    f"the function was called with {nargs} positional "
                                    "arguments")
        return tuple(sorted(set(out)))

    def _split(self, args, kwargs):
        positions = self._positions(self.static_argnums, len(args), "static")
        if self.donate_argnums:
            self._positions(self.donate_argnums, len(args), "donate")  # validated, then ignored
        dynamic = tuple(a for i, a in enumerate(args) if i not in positions)
        static = tuple((f"#{i}", args[i]) for i in positions)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        for k in self.static_argnames:
            if k in kwargs:
                static += ((k, kwargs[k]),)
            elif k in self._static_defaults and not (k in self._names
                                                     and self._names.index(k) < len(args)):
                static += ((k, self._static_defaults[k]),)
        for name, value in static:
            try:
                hash(value)
            except TypeError:
                raise ArgumentError(f"jit({self.__name__}): static argument {self._arg_name(name)} "
                                    f"must be hashable, got {type(value).__name__}") from None
        return dynamic, dyn_kwargs, static

    def _arg_name(self, key) -> str:
        if isinstance(key, str) and key.startswith("#"):
            i = int(key[1:])
            return f"{i} ({self._names[i]!r})" if i < len(self._names) else str(i)
        return repr(key)

    def _leaves(self, dynamic, dyn_kwargs, static) -> tuple[list, Any]:
        """The dynamic arguments' leaves as arrays; a leaf that is not one names its argument."""
        leaves, treedef = tree.flatten((dynamic, dyn_kwargs))

        owners: list[str] = []

        def where(i: int) -> str:
            owners.append(self._leaf_owner(treedef, i, static))
            return f"leaf {i} of the arguments {treedef}, in {owners[-1]}"
        try:
            return array_leaves(leaves, where, f"jit({self.__name__})"), treedef
        except ArgumentError as e:
            # owners[-1] reads "argument 1 ('mode')", "argument 'mode'" or "argument 1".
            named = re.search(r"'(\w+)'", owners[-1]) if owners else None
            mark = (f"static_argnames=({named.group(1)!r},)" if named else
                    f"static_argnums=({owners[-1].split()[-1]},)" if owners
                    and owners[-1].startswith("argument ") else "static_argnums")
            loc = user_location()
            raise ArgumentError(f"{e}{f' (called at {loc[0]}:{loc[1]})' if loc else ''}. A "
                                "value that is not an array (a string, a configuration object, "
                                "a method's self) must be marked static: jit("
                                f"{self.__name__ if self.__name__.isidentifier() else 'f'}, "
                                f"{mark}) (it must then be hashable; each new value compiles "
                                "anew), or its class registered as a pytree.") from None

    def _signature(self, leaves, treedef, static) -> _Signature:
        avals = tuple((tuple(np.shape(x)), np.dtype(x.dtype)) for x in leaves)
        return _Signature(treedef, avals, static)

    def _why(self, new: _Signature) -> str:
        """Which argument changed since the previous signature, in words."""
        old = self._last
        if old is None:
            return "first call"
        if old.static != new.static:
            for (k, a), (k2, b) in zip(old.static, new.static):
                if a != b or k != k2:
                    return f"static argument {self._arg_name(k)} changed from {a!r} to {b!r}"
            return f"static arguments changed from {old.static!r} to {new.static!r}"
        if old.tree != new.tree:
            return f"argument structure changed from {old.tree} to {new.tree}"
        for i, ((s1, d1), (s2, d2)) in enumerate(zip(old.avals, new.avals)):
            what = self._leaf_owner(new.tree, i, new.static)
            if s1 != s2:
                return f"{what} changed shape from {s1} to {s2}"
            if d1 != d2:
                return f"{what} changed dtype from {d1} to {d2}"
        return "signature changed"

    def _leaf_owner(self, treedef, i, static) -> str:
        """Name the dynamic argument that holds flat leaf ``i`` (``static``: the call's static pairs)."""
        args_tree = tree.unflatten(treedef, list(range(treedef.num_leaves)))
        dyn_args, dyn_kwargs = args_tree
        fixed = {int(k[1:]) for k, _ in static if k.startswith("#")}
        positions = [n for n in range(len(dyn_args) + len(fixed)) if n not in fixed]
        for pos, sub in zip(positions, dyn_args):
            if i in tree.leaves(sub):
                name = self._names[pos] if pos < len(self._names) else None
                return f"argument {pos}" + (f" ({name!r})" if name else "")
        for k, sub in dyn_kwargs.items():
            if i in tree.leaves(sub):
                return f"argument {k!r}"
        return f"leaf {i}"

    # -- tracing -------------------------------------------------------------------
    def _trace(self, dynamic, dyn_kwargs, static, leaves, treedef):
        static_pos = {int(k[1:]): v for k, v in static if k.startswith("#")}
        static_kw = {k: v for k, v in static if not k.startswith("#")}
        with AbstractTrace(f"jit({self.__name__})") as trace:
            tracers = [trace.new_input(np.shape(x), x.dtype) for x in leaves]
            dyn_args, kw = tree.unflatten(treedef, tracers)
            it = iter(dyn_args)
            n = len(dyn_args) + len(static_pos)
            full = [static_pos[i] if i in static_pos else next(it) for i in range(n)]
            out = self.fun(*full, **kw, **static_kw)
            out_leaves, out_tree = tree.flatten(out)
        lifted = [t for t, _ in trace.lifted.values()]
        return close_graph(trace, tracers, out_leaves, treedef, out_tree, "jit"), lifted

    def _compile(self, sig, optimized):
        """``(executable, backend name)`` for the optimised graph, on this function's backend."""
        from funcgrad.backends import poll_default, resolve_backend

        backend, generation = resolve_backend(self.backend, optimized)
        executable = backend.compile(optimized)
        if generation is not None:  # a provisional default: switch when it changes
            executable = _Provisional(self, sig, optimized, executable, generation, poll_default)
        return executable, backend.name

    def _upgrade(self, old: _Provisional):
        """The executable that replaces ``old`` now that the default backend has changed."""
        with self._lock:
            entry = self._cache.get(old.sig)
            if entry is not None and entry.executable is not old:
                executable = entry.executable  # another call switched it already
            else:
                executable, name = self._compile(old.sig, old.optimized)
                if entry is not None:
                    self._cache[old.sig] = entry._replace(executable=executable, backend=name)
            self._fast.clear()  # refilled by the next calls, with the new executables
        return executable

    def backend_name(self, *args, **kwargs) -> str | None:
        """The backend the executable cached for these arguments runs on (``None``: not compiled).

        With the default backend this can be ``"numpy"`` for the first calls and
        ``"numba"`` once the Numba backend has loaded (tiered start-up).

        Examples:
            >>> import funcgrad.numpy as fnp
            >>> f = jit(lambda x: fnp.sum(x), backend="numpy")
            >>> f.backend_name(np.ones(2)) is None
            True
            >>> _ = f(np.ones(2)); f.backend_name(np.ones(2))
            'numpy'
        """
        dynamic, dyn_kwargs, static = self._split(args, kwargs)
        leaves, treedef = self._leaves(dynamic, dyn_kwargs, static)
        entry = self._cache.get(self._signature(leaves, treedef, static))
        return None if entry is None else entry.backend

    def lower(self, *args, **kwargs) -> Graph:
        """The optimised graph this function runs for these arguments (traces if needed)."""
        from funcgrad.optimize import optimize

        dynamic, dyn_kwargs, static = self._split(args, kwargs)
        leaves, treedef = self._leaves(dynamic, dyn_kwargs, static)
        graph, _ = self._trace(dynamic, dyn_kwargs, static, leaves, treedef)
        return optimize(graph)

    # -- calling --------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not kwargs and self._plain_args:
            # The hot path: positional arrays (or flat dicts of them) with a signature seen before.
            fast = _fast_key(args)
            entry = self._fast.get(fast[0]) if fast is not None else None
            if entry is not None:
                with self._lock:
                    self._hits += 1
                build, executable = entry
                return build(executable(fast[1]))
        dynamic, dyn_kwargs, static = self._split(args, kwargs)
        leaves, treedef = self._leaves(dynamic, dyn_kwargs, static)
        sig = self._signature(leaves, treedef, static)
        entry = self._cache.get(sig)
        if entry is None:
            with self._lock:
                entry = self._cache.get(sig)
                if entry is None:
                    entry = self._miss(sig, dynamic, dyn_kwargs, static, leaves, treedef)
                else:
                    self._hits += 1
        else:
            with self._lock:
                self._hits += 1
        graph, executable, lifted = entry.graph, entry.executable, entry.lifted
        if executable is not None and not kwargs and self._plain_args:
            fast = _fast_key(args)
            if fast is not None:
                self._fast[fast[0]] = (tree.builder(graph.out_tree), executable)
        if lifted or any(isinstance(x, Tracer) for x in leaves):
            # Inside another transformation (or closing over its tracers): inline the graph.
            outs = eval_graph(graph, list(leaves) + lifted)
        else:
            if entry.backend != "cuda":
                self._check_host_leaves(leaves, treedef, static, entry.backend)
            outs = executable(leaves)
        return tree.unflatten(graph.out_tree, outs)

    def _check_host_leaves(self, leaves, treedef, static, backend) -> None:
        """Device arrays (``device_put``) only go to a function on the cuda backend."""
        for i, x in enumerate(leaves):
            if type(x) is not np.ndarray and getattr(type(x), "__cuda_ndarray__", False):
                raise BackendUnavailableError(
                    f"jit({self.__name__}): {self._leaf_owner(treedef, i, static)} is a CUDA "
                    f"device array (from funcgrad.device_put), but the function runs on the "
                    f"{backend} backend, on the host. Jit it with backend='cuda', or copy the "
                    "argument back with funcgrad.device_get first.")

    def _miss(self, sig, dynamic, dyn_kwargs, static, leaves, treedef):
        from funcgrad.optimize import optimize

        reason = self._why(sig)
        self._misses += 1
        if self._last is not None:
            self._reasons.append(reason)
        self._last = sig
        graph, lifted = self._trace(dynamic, dyn_kwargs, static, leaves, treedef)
        if lifted:  # closes over tracers of an enclosing trace: valid for this call only
            return _Entry(graph, None, lifted, None, None)
        optimized = optimize(graph)
        executable, backend = self._compile(sig, optimized)
        entry = _Entry(graph, executable, [], optimized, backend)
        self._cache[sig] = entry
        limit = self.warn_after if self.warn_after is not None else RETRACE_WARNING_THRESHOLD
        if self._misses > limit and not self._warned:
            self._warned = True
            warnings.warn(f"jit({self.__name__}) has been traced {self._misses} times; the "
                          f"latest retrace: {reason}. Pass arguments with a fixed shape and "
                          "dtype, or mark arguments that change static (static_argnums).",
                          RetraceWarning, stacklevel=4)
        return entry

    def cache_info(self) -> CacheInfo:
        """Hits, misses, cache size, and the reason for each retrace.

        Examples:
            >>> import funcgrad.numpy as fnp
            >>> f = jit(lambda x: fnp.sum(x))
            >>> _ = f(np.ones(2)); _ = f(np.ones(2)); _ = f(np.ones(3))
            >>> f.cache_info()
            CacheInfo(hits=1, misses=2, size=2, retraces=("argument 0 ('x') changed shape from (2,) to (3,)",))
        """
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), tuple(self._reasons))

    def _default_changed(self, name: str | None) -> None:
        """``set_default_backend(name)`` was called: each executable recompiles, without
        retracing, on its next call (``name`` is the backend it will run on; ``None``: the
        automatic default, named once compiled)."""
        with self._lock:
            for sig, entry in self._cache.items():
                if entry.executable is not None:
                    stale = _Provisional(self, sig, entry.optimized, entry.executable, None,
                                         _no_generation)
                    self._cache[sig] = entry._replace(executable=stale, backend=name)
            self._fast.clear()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._fast.clear()

    def __repr__(self) -> str:
        return f"<jit {self.__name__} backend={self.backend or 'default'}>"


def jit(f: Callable | None = None, static_argnums: int | tuple[int, ...] = (),
        static_argnames: str | tuple[str, ...] = (), backend: str | None = None,
        warn_after: int | None = None, donate_argnums: int | tuple[int, ...] = (),
        donate_argnames: str | tuple[str, ...] = ()):
    """Compile ``f``: trace once per input signature, optimise, and cache the executable.

    ``static_argnums``/``static_argnames`` name arguments whose *values* (hashable)
    are part of the signature, so Python control flow may depend on them; as in JAX,
    given one of the two, the other is inferred from ``f``'s signature, so a static
    argument may be passed by position or by keyword.  ``donate_argnums``/
    ``donate_argnames`` are accepted and checked like JAX's, and otherwise ignored
    (NumPy arrays are never invalidated).  ``backend`` is ``"numba"`` (the default when
    numba imports), ``"numpy"`` or ``"cuda"`` (docs/cuda.md); ``None`` follows
    :func:`funcgrad.set_default_backend`.  Usable as ``@jit``, ``@jit(static_argnums=1)``, and
    on methods (``self`` is the first argument: a pytree, or static with ``static_argnums=0``).

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> f = jit(lambda x: fnp.tanh(2.0 * x + 1.0))
        >>> f(np.zeros(2))
        array([0.76159416, 0.76159416])
    """
    def wrap(fun):
        return Jitted(fun, static_argnums, static_argnames, backend, warn_after, donate_argnums,
                      donate_argnames)

    return wrap if f is None else wrap(f)


#: Jitted functions that run on the default backend (see ``set_default_backend``).
_ON_DEFAULT: weakref.WeakSet = weakref.WeakSet()


def _default_changed(name: str | None) -> None:
    for jitted in list(_ON_DEFAULT):
        jitted._default_changed(name)


def _listen_for_default() -> None:
    from funcgrad.backends import _listeners

    if _default_changed not in _listeners:
        _listeners.append(_default_changed)


_listen_for_default()

#: ``Jitted.__call__`` as defined above: the compiled path, which reads no option.
compiled_call = Jitted.__call__


def route_calls(call: Callable | None) -> None:
    """Send every jitted function's calls to ``call(self, *args, **kwargs)``; ``None`` restores
    the compiled path.  :mod:`funcgrad.config` does this while ``disable_jit`` or ``debug_nans``
    is on, so that with both off a call pays nothing for them (not even a flag test)."""
    Jitted.__call__ = compiled_call if call is None else call
