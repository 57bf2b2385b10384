"""User-defined derivatives: ``custom_vjp`` and ``custom_jvp`` (JAX's decorator API).

A decorated function becomes one primitive: its implementation is the user's
function, and its derivative rules call the user's rules.  Both decorators give
the primitive a batching rule that applies the same decorator to the
vectorised functions, so ``vmap`` keeps the custom rule.

* ``custom_vjp``: ``f.defvjp(fwd, bwd)``; ``fwd(*args) -> (out, residuals)``,
  ``bwd(residuals, g) -> tuple of cotangents, one per argument``.  The forward
  pass is re-run in the backward pass to get the residuals.  There is no
  forward mode: ``jvp`` of a ``custom_vjp`` function is an error, as in JAX.
* ``custom_jvp``: ``f.defjvp(rule)``; ``rule(primals, tangents) -> (out, tangent_out)``.
  Reverse mode transposes the rule (reverse mode over the tangent computation,
  which is linear in the tangents), so the custom rule serves ``grad`` too.

Arguments are arrays; the output is one array.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError, ShapeError


def _check_output(name, out):
    if type(out) in (bool, int, float, complex):  # a Python number (not a NumPy scalar)
        return np.asarray(out)
    if not hasattr(out, "shape") or isinstance(out, (tuple, list, dict)):
        raise ArgumentError(f"{name}: a custom-derivative function must return one array, "
                            f"got {type(out).__name__}")
    return out


def _check_shape(name, what, got, like):
    if np.shape(got) != np.shape(like):
        raise ShapeError(f"{name}: {what} has shape {np.shape(got)}, but it must have the "
                         f"shape of {np.shape(like)}")
    return got


class custom_vjp:
    """Give ``f`` a hand-written reverse-mode derivative.

    Examples:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> @custom_vjp
        ... def clip_grad_square(x):
        ...     return x * x
        >>> clip_grad_square.defvjp(lambda x: (x * x, x), lambda x, g: (fnp.clip(2 * x * g, -1, 1),))
        >>> float(fg.grad(clip_grad_square)(3.0))
        1.0
    """

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self._memo: tuple | None = None
        self.prim = Primitive(f"custom_vjp[{getattr(fun, '__name__', 'f')}]",
                              lambda *xs: _check_output(self.prim.name, fun(*xs)))
        self.prim.defvjp_argnum(self._vjp)
        self.prim.defjvp_full(self._no_jvp)
        self.prim.defbatch(self._batch)

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set the rules: ``fwd(*args) -> (out, residuals)``, ``bwd(residuals, g) -> cotangents``."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise ArgumentError(f"{self.prim.name}: call defvjp(fwd, bwd) before using it")
        return self.prim.bind(*args)

    def _vjp(self, i, g, ans, *args):
        # The backward pass asks once per input; run fwd and bwd once per (g, args).
        memo = self._memo
        if memo is None or memo[0] is not g or any(a is not b for a, b in zip(memo[1], args)):
            _, residuals = self.fwd(*args)
            cts = self.bwd(residuals, g)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
                got = (f"a {type(cts).__name__} of {len(cts)}" if isinstance(cts, (tuple, list))
                       else f"a {type(cts).__name__}")
                raise ArgumentError(f"{self.prim.name}: bwd must return a tuple of {len(args)} "
                                    f"cotangents, one per argument; got {got}")
            cts = tuple(None if ct is None else
                        _check_shape(self.prim.name, f"bwd's cotangent {k}", ct, a)
                        for k, (ct, a) in enumerate(zip(cts, args)))
            memo = self._memo = (g, args, cts)
        return memo[2][i]

    def _no_jvp(self, primals, tangents):
        raise ArgumentError(f"{self.prim.name} has a custom VJP but no JVP rule, so it cannot "
                            "be used in forward mode (jvp, jacfwd, hessian). Define it with "
                            "custom_jvp instead if you need forward mode.")

    def _batch(self, values, dims):
        from funcgrad.ops.reductions import sum as reduce_sum
        from funcgrad.transforms.vmap import vmap

        dims = tuple(dims)
        batched_bwd = vmap(self.bwd, in_axes=(0, 0))

        def bwd(residuals, g):
            # An unbatched input's cotangent is the sum of its per-example cotangents.
            cts = batched_bwd(residuals, g)
            return tuple(ct if d is not None else reduce_sum(ct, axis=0) for ct, d in zip(cts, dims))

        batched = custom_vjp(vmap(self.fun, in_axes=dims))
        batched.defvjp(vmap(self.fwd, in_axes=dims), bwd)
        return batched(*values), 0


class custom_jvp:
    """Give ``f`` a hand-written forward-mode derivative (used by reverse mode too).

    Examples:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> @custom_jvp
        ... def f(x):
        ...     return fnp.sin(x)
        >>> _ = f.defjvp(lambda primals, tangents: (fnp.sin(primals[0]), fnp.cos(primals[0]) * tangents[0]))
        >>> float(fg.grad(f)(0.0))
        1.0
    """

    def __init__(self, fun: Callable):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.rule: Callable | None = None
        self.prim = Primitive(f"custom_jvp[{getattr(fun, '__name__', 'f')}]",
                              lambda *xs: _check_output(self.prim.name, fun(*xs)))
        self.prim.defjvp_full(self._jvp)
        self.prim.defvjp_argnum(self._vjp)
        self.prim.defbatch(self._batch)

    def defjvp(self, rule: Callable) -> Callable:
        """Set the rule ``rule(primals, tangents) -> (out, tangent_out)``; usable as a decorator."""
        self.rule = rule
        return rule

    def __call__(self, *args):
        if self.rule is None:
            raise ArgumentError(f"{self.prim.name}: call defjvp(rule) before using it")
        return self.prim.bind(*args)

    def _jvp(self, primals, tangents):
        tangents = tuple(np.zeros(np.shape(p), getattr(p, "dtype", np.float64)) if t is None else t
                         for p, t in zip(primals, tangents))
        out, tangent = self.rule(tuple(primals), tangents)
        return out, _check_shape(self.prim.name, "the JVP rule's output tangent", tangent, out)

    def _vjp(self, i, g, ans, *args):
        # The tangent map t -> rule(args, t)[1] is linear; its transpose is its VJP in t.
        from funcgrad.transforms.grad import vjp

        zeros = [np.zeros(np.shape(a), getattr(a, "dtype", np.float64)) for a in args]
        _, pullback = vjp(lambda *ts: self.rule(tuple(args), ts)[1], *zeros)
        return pullback(g)[i]

    def _batch(self, values, dims):
        from funcgrad.transforms.vmap import vmap

        dims = tuple(dims)
        batched = custom_jvp(vmap(self.fun, in_axes=dims))
        batched.defjvp(lambda ps, ts: vmap(lambda p, t: self.rule(p, t), in_axes=(dims, dims))(ps, ts))
        return batched(*values), 0
