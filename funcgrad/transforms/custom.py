"""User-defined derivatives: ``custom_vjp`` and ``custom_jvp`` with JAX's API.

A decorated function is one operation with several results (:mod:`funcgrad.ops.results`)
whose operands are the leaves of its differentiable arguments.  Each call packs what
the call needs into a :class:`_Call` (the functions on flat leaves, the pytree layouts,
the ``nondiff_argnums`` values) held in the operation's params; keyword arguments are
resolved to positions through the function's signature, as JAX does.

* ``custom_vjp``: ``f.defvjp(fwd, bwd)``; ``fwd(*args) -> (out, residuals)`` and
  ``bwd(*nondiff_args, residuals, g) -> one cotangent pytree per differentiable argument``
  (``None`` for a zero, for a whole argument or any subtree).  The operation's results are
  the output leaves **and the residual leaves**: the backward pass reads the residuals
  from the operation's value, so ``fwd`` runs once.  Forward mode is an error, as in JAX.
* ``custom_jvp``: ``f.defjvp(rule)``; ``rule(*nondiff_args, primals, tangents) -> (out,
  tangent_out)``, or ``f.defjvps(*per_argument_rules)``.  Reverse mode transposes the rule
  (reverse mode over the tangent computation, which is linear in the tangents).

Both keep the custom rule under ``vmap`` (the batching rule makes the same operation of
the vectorised functions) and under ``jit``.  The function, ``fwd`` and the rules run on
the real values when there are some (eagerly), so Python control flow on values works
there; a function that closes over a traced value is an error naming the fix, as JAX's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import INEXACT
from funcgrad._core.primitive import Primitive
from funcgrad._core.subgraph import trace_closed
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, ShapeError, TreeStructureError
from funcgrad.lax._common import as_operand, flatten_operands
from funcgrad.ops.results import Results, bind_results, define_results, result_p

# -- arguments --------------------------------------------------------------------------

def _signature(fun: Callable):
    """``(signature, n)``: ``n`` is the number of parameters when all are plain positional
    ones (then a call with ``n`` positional arguments needs no binding), else ``-1``;
    ``(None, -1)`` when the function has no signature."""
    try:
        signature = inspect.signature(fun)
    except (TypeError, ValueError):
        return None, -1
    plain = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                for p in signature.parameters.values())
    return signature, len(signature.parameters) if plain else -1


def _resolve_kwargs(fun: Callable, args: tuple, kwargs: dict, name: str,
                    cached: tuple | None = None) -> tuple:
    """Keyword arguments moved to their positions (defaults filled in), as JAX does."""
    signature, n = cached if cached is not None else _signature(fun)
    if not kwargs and len(args) == n:
        return args
    if signature is None:
        if kwargs:
            raise ArgumentError(f"{name}: keyword arguments {sorted(kwargs)} cannot be resolved "
                                "to positions (the function has no signature); pass them "
                                "positionally") from None
        return args
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as e:
        raise ArgumentError(f"{name}: the arguments do not match the signature {signature}: "
                            f"{e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise ArgumentError(f"{name}: keyword-only arguments {sorted(bound.kwargs)} are not "
                            "supported by custom_vjp/custom_jvp (as in JAX); make them "
                            "positional")
    return bound.args


def _path(treedef, i: int) -> str:
    from funcgrad.lax._common import _path as leaf_path

    where = leaf_path(treedef, i)
    return "" if where == "(the whole value)" else f" at {where}"


def _check_no_tracer(name: str, what: str, leaves) -> None:
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            raise ArgumentError(
                f"{name}: {what} is a traced value ({leaf!r}); a custom-derivative function "
                "cannot take its derivative with respect to closed-over or non-differentiable "
                "traced values (as in JAX). Pass it as a regular argument (bwd may return None "
                "for its cotangent), or compute it outside the function.")


_PY_SCALARS = (bool, int, float, complex)


class _Shape:
    """A stand-in for a leaf of a differentiable argument: its shape, which bwd's cotangent
    must have (no tracer is kept alive in a graph, and nothing is allocated)."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        self.shape = shape


class _ArgLeaves:
    """The leaves of a call's differentiable arguments: which are operands, which are
    Python scalars kept as constants (``fixed``: position -> value), and their shapes."""

    __slots__ = ("fixed", "in_tree", "shapes")

    def __init__(self, in_tree, fixed: dict, shapes: list):
        self.in_tree, self.fixed, self.shapes = in_tree, fixed, shapes

    def stand_ins(self) -> tuple:
        """The differentiable arguments with :class:`_Shape` leaves."""
        return tree.unflatten(self.in_tree, [_Shape(s) for s in self.shapes])

    def operands(self, leaves) -> list:
        return [x for k, x in enumerate(leaves) if k not in self.fixed]

    def tree(self, operands, zero: bool = False):
        """The arguments' pytree from the operands (Python scalars, or their zero tangents)."""
        it = iter(operands)
        fixed = self.fixed
        leaves = [(type(fixed[k])(0) if zero else fixed[k]) if k in fixed else next(it)
                  for k in range(self.in_tree.num_leaves)]
        return tree.unflatten(self.in_tree, leaves)


class _Layout:
    """The output (and residual) pytree layouts of one call, fixed by its first run."""

    __slots__ = ("avals", "n_out", "out_tree", "res_tree")

    def __init__(self):
        self.out_tree = self.res_tree = self.avals = None
        self.n_out = 0

    def record(self, name: str, out_tree, res_tree, leaves) -> None:
        avals = [(np.shape(x), np.dtype(x.dtype)) for x in leaves]
        if self.out_tree is None:
            self.out_tree, self.res_tree, self.avals = out_tree, res_tree, avals
            self.n_out = out_tree.num_leaves
        elif (out_tree, res_tree) != (self.out_tree, self.res_tree) or avals != self.avals:
            raise TreeStructureError(
                f"{name}: the rule's primal output has structure {out_tree} and types "
                f"{avals}, but the function's has {self.out_tree} and {self.avals}; they must "
                "be the same")


def _flat_out(name: str, what: str, value) -> tuple[list, Any]:
    return flatten_operands(value, what, name)


class _Call:
    """One call of a custom-derivative function: flat functions of the operand leaves.

    ``primal(*leaves) -> (out leaves, residual leaves)`` and the rule on flat leaves; the
    layout of the results is recorded by the first run (or by tracing ``primal``
    abstractly under ``jit``).  Compared and hashed by identity.
    """

    __slots__ = ("layout", "name", "primal", "rule")

    def __init__(self, name: str, primal: Callable, rule: Callable, layout: _Layout | None = None):
        self.name, self.primal, self.rule = name, primal, rule
        self.layout = _Layout() if layout is None else layout

    def __repr__(self) -> str:
        return "<call>"

    def run(self, leaves) -> Results:
        outs, res = self.primal(*leaves)
        _check_no_tracer(self.name, "an output or residual", outs + res)
        return Results(outs + res)

    def avals(self, avals) -> list:
        if self.layout.avals is None:  # under jit: trace the function once, abstractly
            def flat(*tracers):
                outs, res = self.primal(*tracers)
                return outs + res
            _, consts = trace_closed(flat, [(a.shape, a.dtype) for a in avals], name=self.name)
            _check_no_tracer(self.name, "a value the function closes over", consts)
        return self.layout.avals


def _results_op(name: str, vjp, jvp, batch) -> Primitive:
    prim = define_results(Primitive(name, lambda *leaves, call: call.run(leaves)),
                          lambda *avals, call: call.avals(avals))
    prim.defvjp_argnum(vjp)
    prim.defjvp_full(jvp)
    prim.defbatch(batch)
    return prim


def _zeros(aval) -> np.ndarray:
    shape, dtype = aval
    return np.zeros(shape, dtype)


def _residuals(ans, start: int, count: int) -> list:
    """Results ``start:count`` of an operation's value (projections when it is traced)."""
    if isinstance(ans, Results):
        return list(ans[start:count])
    return [result_p.bind(ans, index=k, count=count) for k in range(start, count)]


class _CustomFunction:
    """What ``custom_vjp`` and ``custom_jvp`` share: the call protocol and argument handling."""

    kind = "custom"

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(set(nondiff_argnums)))
        self.name = f"{self.kind}[{getattr(fun, '__name__', 'f')}]"
        self._memo: tuple | None = None
        self._signature: tuple | None = None  # (inspect.Signature, plain arity), made once

    def _split(self, args, kwargs):
        """``(all args, nondiff args, diff args)`` of one call, checked."""
        if self._signature is None:
            self._signature = _signature(self.fun)
        args = tuple(_resolve_kwargs(self.fun, args, kwargs, self.name, self._signature))
        for n in self.nondiff_argnums:
            if n >= len(args):
                raise ArgumentError(f"{self.name}: nondiff_argnums has {n}, but the call has "
                                    f"only {len(args)} arguments")
            _check_no_tracer(self.name, f"nondiff_argnums argument {n}", tree.leaves(args[n]))
        nondiff = tuple(args[n] for n in self.nondiff_argnums)
        diff = tuple(a for k, a in enumerate(args) if k not in self.nondiff_argnums)
        return args, nondiff, diff

    def _full(self, args, diff):
        """``args`` with the differentiable ones replaced by ``diff``."""
        it = iter(diff)
        return tuple(a if k in self.nondiff_argnums else next(it) for k, a in enumerate(args))

    def __call__(self, *args, **kwargs):
        self._check_rules()
        args, nondiff, diff = self._split(args, kwargs)
        leaves, in_tree = tree.flatten(diff)
        if not any(isinstance(x, Tracer) for x in leaves):
            # Nothing to differentiate or batch: the function itself, as JAX runs it.
            out = self.fun(*args)
            _check_no_tracer(self.name, "a value the function closes over", tree.leaves(out))
            return out
        # Python scalars stay weakly typed constants (as in JAX): not operands, no derivative.
        fixed, operands, shapes = {}, [], []
        for k, x in enumerate(leaves):
            if type(x) in _PY_SCALARS:
                fixed[k] = x
                shapes.append(())
                continue
            if isinstance(x, (str, bytes)) or callable(x):
                raise ArgumentError(f"{self.name}: an argument leaf{_path(in_tree, k)} is "
                                    f"{type(x).__name__}, not an array or a number")
            x = as_operand(x)
            operands.append(x)
            shapes.append(tuple(x.shape))
        call = self._make_call(args, nondiff, _ArgLeaves(in_tree, fixed, shapes))
        r = self.prim.bind(*operands, call=call)
        layout = call.layout
        if isinstance(r, Results):
            outs = r[:layout.n_out]
        else:  # traced: project the outputs (the residuals are read from r by the rules)
            count = len(self.prim.results_eval(*operands, call=call))
            outs = [result_p.bind(r, index=i, count=count) for i in range(layout.n_out)]
        return tree.unflatten(layout.out_tree, list(outs))

    def _memoised(self, i: int, g, ans, compute):
        # The backward pass asks once per operand: compute all of them once per (g, ans),
        # and let go of them when the last operand has been asked.
        memo = self._memo
        if memo is None or memo[0] is not g or memo[1] is not ans:
            memo = self._memo = (g, ans, compute())
        if i == len(memo[2]) - 1:
            self._memo = None
        return memo[2][i]


_ARRAY_LEAVES = (np.ndarray, np.generic, Tracer, *_PY_SCALARS)


def _match_cotangent(name: str, k: int, ct, arg) -> list:
    """Argument ``k``'s cotangent leaves (``None`` for zero) from bwd's pytree ``ct``."""
    if type(arg) is _Shape and isinstance(ct, _ARRAY_LEAVES):  # one array for one array
        if np.shape(ct) != arg.shape:
            raise ShapeError(f"{name}: bwd's cotangent {k} has shape {np.shape(ct)}, but it "
                             f"must have the shape of the argument, {arg.shape}")
        return [ct]
    leaves, treedef = tree.flatten(arg)
    if ct is None:
        return [None] * len(leaves)
    none_leaf = lambda v: v is None
    ct_leaves, ct_tree = tree.flatten(ct, is_leaf=none_leaf)
    if ct_tree != tree.structure(arg, is_leaf=none_leaf):
        raise TreeStructureError(f"{name}: bwd's cotangent for argument {k} has structure "
                                 f"{ct_tree}, but the argument has structure {treedef}; it "
                                 "must match (None stands for a zero subtree)")
    out = []
    for j, (c, x) in enumerate(zip(ct_leaves, leaves)):
        if c is not None and np.shape(c) != np.shape(x):
            raise ShapeError(f"{name}: bwd's cotangent {k}{_path(treedef, j)} has shape "
                             f"{np.shape(c)}, but it must have the shape of the argument, "
                             f"{np.shape(x)}")
        out.append(c)
    return out


# -- custom_vjp -----------------------------------------------------------------------------

class custom_vjp(_CustomFunction):
    """Give ``fun`` a hand-written reverse-mode derivative (JAX's ``jax.custom_vjp``).

    ``nondiff_argnums``: positions of static arguments (not differentiated, not traced),
    passed first to ``bwd``.

    Examples:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> @custom_vjp
        ... def clip_grad_square(x):
        ...     return x * x
        >>> clip_grad_square.defvjp(lambda x: (x * x, x), lambda x, g: (fnp.clip(2 * x * g, -1, 1),))
        >>> float(fg.grad(clip_grad_square)(3.0))
        1.0
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        super().__init__(fun, nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None
        self.prim = _results_op(self.name, self._vjp, self._no_jvp, self._batch)

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set the rules: ``fwd(*args) -> (out, residuals)``, ``bwd(*nondiff, residuals, g) -> cotangents``."""
        self.fwd, self.bwd = fwd, bwd

    def _check_rules(self) -> None:
        if self.fwd is None:
            raise ArgumentError(f"{self.name}: call defvjp(fwd, bwd) before using it")

    def _make_call(self, args, nondiff, args_in: _ArgLeaves) -> _Call:
        name, layout = self.name, _Layout()

        def primal(*leaves):
            result = self.fwd(*self._full(args, args_in.tree(leaves)))
            if not (isinstance(result, tuple) and len(result) == 2):
                raise ArgumentError(f"{name}: fwd must return a pair (output, residuals), got "
                                    f"{type(result).__name__}")
            outs, out_tree = _flat_out(name, "fwd's output", result[0])
            res, res_tree = _flat_out(name, "a residual", result[1])
            layout.record(name, out_tree, res_tree, outs + res)
            return outs, res

        def rule(residuals, cts):
            res = tree.unflatten(layout.res_tree, list(residuals))
            g = tree.unflatten(layout.out_tree, list(cts))
            got = self.bwd(*nondiff, res, g)
            diff_args = args_in.stand_ins()  # bwd's cotangents must match their shapes
            n = len(diff_args)
            if not isinstance(got, (tuple, list)) or len(got) != n:
                what = (f"a {type(got).__name__} of {len(got)}" if isinstance(got, (tuple, list))
                        else f"a {type(got).__name__}")
                raise ArgumentError(f"{name}: bwd must return a tuple of {n} cotangents, one per "
                                    f"differentiable argument; got {what}")
            leaves = []
            for k, (ct, arg) in enumerate(zip(got, diff_args)):
                leaves += _match_cotangent(name, k, ct, arg)
            return args_in.operands(leaves)

        return _Call(name, primal, rule, layout)

    def _vjp(self, i, g, ans, *leaves, call: _Call):
        def compute():
            layout = call.layout
            n_out, count = layout.n_out, len(layout.avals)
            cts = [None] * len(leaves)
            out_g, res_g = g[:n_out], g[n_out:]
            if any(c is not None for c in out_g):
                full = [_zeros(a) if c is None else c for c, a in zip(out_g, layout.avals)]
                cts = call.rule(_residuals(ans, n_out, count), full)
            if any(c is not None for c in res_g):
                # A residual's cotangent (from differentiating bwd again): the derivative of
                # fwd's own operations, as in JAX, where the outer level differentiates fwd.
                from funcgrad.transforms.grad import vjp

                active = [j for j, x in enumerate(leaves) if INEXACT[np.dtype(x.dtype)]]

                def flat_fwd(*xs):
                    full = list(leaves)
                    for j, x in zip(active, xs):
                        full[j] = x
                    outs, res = call.primal(*full)
                    return outs + res
                _, pullback = vjp(flat_fwd, *[leaves[j] for j in active])
                full = [_zeros(a) if k < n_out or c is None else c
                        for k, (c, a) in enumerate(zip(g, layout.avals))]
                cts = list(cts)
                for j, m in zip(active, pullback(full)):
                    cts[j] = m if cts[j] is None else cts[j] + m
            return cts
        return self._memoised(i, g, ans, compute)

    def _no_jvp(self, primals, tangents, call):
        raise ArgumentError(f"{self.name} has a custom VJP but no JVP rule, so it cannot be used "
                            "in forward mode (jvp, jacfwd, hessian). Define it with custom_jvp "
                            "instead if you need forward mode.")

    def _batch(self, values, dims, call: _Call):
        from funcgrad.ops.reductions import sum as reduce_sum
        from funcgrad.transforms.vmap import vmap

        dims = tuple(dims)
        layout = _Layout()
        batched_primal = vmap(lambda *xs: call.primal(*xs), in_axes=dims)
        batched_rule = vmap(call.rule, in_axes=(0, 0))

        def primal(*leaves):
            outs, res = batched_primal(*leaves)
            layout.record(call.name, call.layout.out_tree, call.layout.res_tree, outs + res)
            return outs, res

        def rule(residuals, cts):
            # An unbatched operand's cotangent is the sum of its per-example cotangents.
            got = batched_rule(list(residuals), list(cts))
            return [None if c is None else c if d is not None else reduce_sum(c, axis=0)
                    for c, d in zip(got, dims)]

        batched = _Call(call.name, primal, rule, layout)
        results = bind_results(self.prim, *values, call=batched)
        return Results(results), (0,) * len(results)


# -- custom_jvp -----------------------------------------------------------------------------

class custom_jvp(_CustomFunction):
    """Give ``fun`` a hand-written forward-mode derivative, used by reverse mode too (``jax.custom_jvp``).

    ``nondiff_argnums``: positions of static arguments, passed first to the rule.

    Examples:
        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> @custom_jvp
        ... def f(x):
        ...     return fnp.sin(x)
        >>> _ = f.defjvp(lambda primals, tangents: (fnp.sin(primals[0]), fnp.cos(primals[0]) * tangents[0]))
        >>> float(fg.grad(f)(0.0))
        1.0
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable, nondiff_argnums: tuple[int, ...] = ()):
        super().__init__(fun, nondiff_argnums)
        self.jvp: Callable | None = None
        self.prim = _results_op(self.name, self._vjp, self._jvp, self._batch)

    @property
    def rule(self) -> Callable | None:
        """The JVP rule (``None`` until :meth:`defjvp`)."""
        return self.jvp

    def defjvp(self, rule: Callable) -> Callable:
        """Set ``rule(*nondiff, primals, tangents) -> (out, tangent_out)``; usable as a decorator."""
        self.jvp = rule
        return rule

    def defjvps(self, *jvps: Callable | None) -> None:
        """One rule per differentiable argument: ``jvp_k(t_k, out, *primals)`` is that argument's
        share of the output tangent (``None``: no dependence), as ``jax.custom_jvp.defjvps``.

        Examples:
            >>> import funcgrad as fg, funcgrad.numpy as fnp
            >>> f = custom_jvp(lambda x, y: x * y)
            >>> f.defjvps(lambda tx, out, x, y: tx * y, lambda ty, out, x, y: x * ty)
            >>> float(fg.grad(f, argnums=1)(2.0, 3.0))
            2.0
        """
        def rule(*nondiff_primals_tangents):
            *nondiff, primals, tangents = nondiff_primals_tangents
            out = self.fun(*self._positions(nondiff, primals))
            total = None
            for k, (jvp, t) in enumerate(zip(jvps, tangents)):
                if jvp is None:
                    continue
                part = jvp(t, out, *primals)
                total = part if total is None else tree.map(lambda a, b: a + b, total, part)
            return out, tree.map(lambda o: o * 0, out) if total is None else total

        self.jvp = rule

    def _positions(self, nondiff, primals) -> tuple:
        """All arguments in order from the nondiff ones and the primals."""
        it_n, it_p = iter(nondiff), iter(primals)
        count = len(nondiff) + len(primals)
        return tuple(next(it_n) if k in self.nondiff_argnums else next(it_p) for k in range(count))

    def _check_rules(self) -> None:
        if self.jvp is None:
            raise ArgumentError(f"{self.name}: call defjvp(rule) before using it")

    def _make_call(self, args, nondiff, args_in: _ArgLeaves) -> _Call:
        name, layout = self.name, _Layout()

        def primal(*leaves):
            out = self.fun(*self._full(args, args_in.tree(leaves)))
            outs, out_tree = _flat_out(name, "the output", out)
            layout.record(name, out_tree, tree.structure(()), outs)
            return outs, []

        def rule(primals, tangents):
            ps = args_in.tree(primals)
            ts = args_in.tree([np.zeros(np.shape(p), p.dtype) if t is None else t
                               for p, t in zip(primals, tangents)], zero=True)
            got = self.jvp(*nondiff, ps, ts)
            if not (isinstance(got, tuple) and len(got) == 2):
                raise ArgumentError(f"{name}: the JVP rule must return a pair (output, "
                                    f"tangent), got {type(got).__name__}")
            outs, out_tree = _flat_out(name, "the rule's output", got[0])
            tans, tan_tree = tree.flatten(got[1])
            if tan_tree != out_tree:
                raise TreeStructureError(f"{name}: the JVP rule's output tangent has structure "
                                         f"{tan_tree}, but its output has structure {out_tree}")
            for j, (t, o) in enumerate(zip(tans, outs)):
                if np.shape(t) != np.shape(o):
                    raise ShapeError(f"{name}: the JVP rule's output tangent{_path(out_tree, j)} "
                                     f"has shape {np.shape(t)}, but it must have the shape of "
                                     f"the output, {np.shape(o)}")
            layout.record(name, out_tree, tree.structure(()), outs)
            return outs, [as_operand(t) for t in tans]

        return _Call(name, primal, rule, layout)

    def _jvp(self, primals, tangents, call: _Call):
        outs, tans = call.rule(primals, tangents)
        tans = [t if INEXACT[np.dtype(o.dtype)] else None for t, o in zip(tans, outs)]
        return Results(outs), Results(tans)

    def _vjp(self, i, g, ans, *leaves, call: _Call):
        # The tangent map t -> rule(primals, t) is linear; its transpose is its VJP in t.
        def compute():
            from funcgrad.transforms.grad import vjp

            avals = call.layout.avals
            keep = [k for k, c in enumerate(g) if c is not None]
            active = [j for j, x in enumerate(leaves) if INEXACT[np.dtype(x.dtype)]]

            def tangent_out(*ts):
                full = [None] * len(leaves)
                for j, t in zip(active, ts):
                    full[j] = t
                tans = call.rule(leaves, full)[1]
                return [tans[k] for k in keep]
            zeros = [np.zeros(np.shape(leaves[j]), leaves[j].dtype) for j in active]
            _, pullback = vjp(tangent_out, *zeros)
            got = pullback([g[k] if np.dtype(g[k].dtype) == avals[k][1] else
                            g[k].astype(avals[k][1]) for k in keep])
            cts = [None] * len(leaves)
            for j, ct in zip(active, got):
                cts[j] = ct
            return cts
        return self._memoised(i, g, ans, compute)

    def _batch(self, values, dims, call: _Call):
        from funcgrad.transforms.vmap import vmap

        dims = tuple(dims)
        layout = _Layout()
        batched_primal = vmap(lambda *xs: call.primal(*xs)[0], in_axes=dims)
        batched_rule = vmap(lambda ps, ts: call.rule(ps, ts), in_axes=(list(dims), list(dims)))

        def primal(*leaves):
            outs = batched_primal(*leaves)
            layout.record(call.name, call.layout.out_tree, tree.structure(()), outs)
            return outs, []

        def rule(primals, tangents):
            tangents = [np.zeros(np.shape(p), p.dtype) if t is None else t
                        for p, t in zip(primals, tangents)]
            outs, tans = batched_rule(list(primals), tangents)
            layout.record(call.name, call.layout.out_tree, tree.structure(()), outs)
            return outs, tans

        batched = _Call(call.name, primal, rule, layout)
        results = bind_results(self.prim, *values, call=batched)
        return Results(results), (0,) * len(results)


__all__ = ["custom_jvp", "custom_vjp"]
