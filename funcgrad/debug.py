"""``funcgrad.debug``: ``print`` and ``callback``, which see real values under every transformation.

Both bind one primitive, ``debug_callback``, that runs a Python function on the values of
its operands.  Eagerly and under ``grad``/``vjp``/``jvp`` it runs at once, on the forward
values.  Under ``jit`` it is a node of the graph that no output reads: the trace keeps it
in :attr:`Graph.effects`, so dead-code elimination keeps it, common-subexpression
elimination and constant folding leave it alone (the primitive is ``effectful``), and it
runs at run time, on every call, in program order.  Under ``vmap`` it runs once per
batch member, in order (as JAX's ``jax.debug.print`` does).

Examples:
    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> f = fg.jit(lambda x: (fg.debug.print("x = {}", x), x * 2.0)[1])
    >>> _ = f(np.array(1.0)); _ = f(np.array(2.0))
    x = 1.0
    x = 2.0
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core import trace as _trace
from funcgrad._core.primitive import Primitive
from funcgrad._core.trace import Tracer


class _EffectPrimitive(Primitive):
    """A primitive run for its side effect: its node is recorded among its trace's effects."""

    #: Read by the optimiser: never fold, merge or drop such a node.
    effectful = True

    def bind(self, *args, **params):
        out = Primitive.bind(self, *args, **params)
        if isinstance(out, Tracer) and out._node is not None:
            effects = out._trace.effects
            if not effects or effects[-1] is not out._node:
                effects.append(out._node)
        return out


def _token() -> np.ndarray:
    return np.zeros((), bool)


def _run(*operands, callback, in_tree, static):
    """The reference implementation: rebuild the arguments and call ``callback``; returns a token."""
    leaves = list(static)
    it = iter(operands)
    for i, leaf in enumerate(leaves):
        if leaf is _OPERAND:
            leaves[i] = next(it)
    args, kwargs = tree.unflatten(in_tree, leaves)
    callback(*args, **kwargs)
    return _token()


def _batch(args, dims, **params):
    """Once per batch member, in order (JAX unrolls ``debug_callback`` the same way)."""
    size = next((np.shape(a)[d] for a, d in zip(args, dims) if d is not None), None)
    if size is None:
        return callback_p.bind(*args, **params), None
    out = _token()
    for i in range(size):
        member = [a if d is None else a[(slice(None),) * d + (i,)] for a, d in zip(args, dims)]
        out = callback_p.bind(*member, **params)
    return out, None


class _Operand:
    def __repr__(self) -> str:
        return "<operand>"


_OPERAND = _Operand()  # marks where an operand goes among the static leaves

callback_p = _EffectPrimitive("debug_callback", _run, lambda *avals, **params: ((), np.dtype(bool)),
                              differentiable=False)
callback_p.defbatch(_batch)


def callback(fn: Callable[..., Any], *args, ordered: bool = False, **kwargs) -> None:
    """Call ``fn(*args, **kwargs)`` with the arguments' real values (NumPy arrays), under any
    transformation: at once eagerly, at run time under ``jit``, once per member under ``vmap``.
    Its result is ignored.  Calls always run in program order (``ordered`` is accepted for JAX
    compatibility).

    Examples:
        >>> import numpy as np
        >>> seen = []
        >>> callback(seen.append, np.ones(3)); seen
        [array([1., 1., 1.])]
    """
    leaves, in_tree = tree.flatten((args, kwargs))
    operands, static = [], []
    for leaf in leaves:
        if isinstance(leaf, (Tracer, np.ndarray, np.generic)):
            operands.append(leaf)
            static.append(_OPERAND)
        else:
            static.append(leaf)  # strings, Python numbers, None...: passed as they are
    params = {"callback": fn, "in_tree": in_tree, "static": tuple(static)}
    if not any(isinstance(a, Tracer) for a in operands):
        # Nothing traced to print, but under jit it must still run when the graph runs.
        staging = next((t for t in reversed(_trace._stack()) if t.kind == "abstract"), None)
        if staging is not None:
            staging.process(callback_p, tuple(operands), params)  # recorded among its effects
            return
    callback_p.bind(*operands, **params)


class _Format:
    """``print(fmt.format(*args, **kwargs))``; shows as ``print 'fmt'`` in a graph's printout."""

    __slots__ = ("fmt",)

    def __init__(self, fmt: str):
        self.fmt = fmt

    def __call__(self, *args, **kwargs) -> None:
        builtins.print(self.fmt.format(*args, **kwargs))

    def __repr__(self) -> str:
        return f"print {self.fmt!r}"


def print(fmt: str, *args, ordered: bool = False, **kwargs) -> None:  # (shadows the builtin in this module: JAX's name)
    """Print ``fmt.format(*args, **kwargs)`` with the arguments' real values (NumPy arrays), under
    any transformation: at once eagerly and under ``grad`` (the forward values), at run time on
    every call under ``jit``, once per batch member under ``vmap``.

    Examples:
        >>> import numpy as np, funcgrad as fg
        >>> fg.vmap(lambda x: print("member {x}", x=x))(np.arange(2.0))
        member 0.0
        member 1.0
    """
    if not isinstance(fmt, str):
        from funcgrad.errors import ArgumentError

        raise ArgumentError(f"funcgrad.debug.print: the format must be a str, got "
                            f"{type(fmt).__name__}")
    callback(_Format(fmt), *args, **kwargs)


__all__ = ["callback", "callback_p", "print"]
