"""Reverse mode: ``vjp``, ``grad`` and ``value_and_grad``.

``vjp`` opens a :class:`ConcreteTrace`, runs the user's function on tracers
(recording each operation with its value), and returns the output values with a
function that runs the backward pass: the recorded nodes in reverse order, each
primitive's VJP rule turning the output cotangent into input cotangents.  The
rules are written in funcgrad ops on the recorded values, so when those values
are themselves tracers of an enclosing trace, the backward pass is recorded
there too: that is all ``grad(grad(f))`` needs.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.dtypes import CARRIES_DERIVATIVE, is_floating, is_inexact
from funcgrad._core.graph import CONSTANT, LIFTED
from funcgrad._core.trace import ConcreteTrace, Tracer, gc_paused, user_location
from funcgrad.errors import (
    ArgumentError,
    DTypeError,
    NonScalarOutputError,
    ShapeError,
    TreeStructureError,
)
from funcgrad.ops._family import real_part_for
from funcgrad.transforms._args import (
    IntLeaves,
    describe,
    flatten_differentiable,
    float0,
    normalize_argnums,
    require_complex,
)


def backward_pass(tape: list, seeds: list[tuple[Any, Any]]) -> dict:
    """Cotangents of every node reached from ``seeds`` ((node, cotangent) pairs), walking ``tape`` backwards."""
    cts: dict = {}
    for node, ct in seeds:
        prev = cts.get(node)
        cts[node] = ct if prev is None else prev + ct
    for node, args, ans, params in reversed(tape):
        g = cts.pop(node, None)
        if g is None:
            continue
        prim = node.primitive
        rules = prim.vjp_rules
        nrules = len(rules) if rules is not None else 0
        i = -1
        for inp in node.inputs:
            i += 1
            kind = inp.kind
            if kind is CONSTANT or kind is LIFTED or not CARRIES_DERIVATIVE[inp.dtype]:
                continue
            if rules is not None:  # the common case, inlined
                rule = rules[i] if i < nrules else None
                if rule is None:
                    continue
                ct = rule(g, ans, *args, **params) if params else rule(g, ans, *args)
            else:
                ct = prim.vjp(i, g, ans, args, params)
            if ct is None:
                continue
            if ct.shape != inp.shape or ct.dtype is not inp.dtype:
                ct = _fit(prim, ct, inp)
            prev = cts.get(inp)
            cts[inp] = ct if prev is None else prev + ct
    return cts


#: The backward pass that ``vjp`` functions run: :func:`backward_pass`, or while ``debug_nans``
#: is on the checking pass that :mod:`funcgrad.transforms.debug_nans` swaps in (so that with
#: the option off, the backward pass tests no flag per operation).
run_backward_pass = backward_pass


def _fit(prim, ct, inp):
    """``ct`` brought to ``inp``'s shape and dtype by ``prim.fit_cotangent`` (broadcasting ops)."""
    if prim.fit_cotangent is not None:
        return prim.fit_cotangent(ct, inp)
    ct = real_part_for(ct, inp.dtype)  # a real input of a complex op: the real part (docs/complex.md)
    if ct.shape != inp.shape:  # a broken rule must fail loudly, not silently broadcast
        raise AssertionError(f"internal error: VJP rule of {prim.name!r} gave a cotangent "
                             f"of shape {np.shape(ct)} for an input of shape {inp.shape}")
    return ct


def _zeros_like(x):
    return np.zeros(np.shape(x), x.dtype)


class _VJPFunction:
    """The function ``vjp`` returns: maps an output cotangent to input cotangents."""

    def __init__(self, trace, in_nodes, in_leaves, in_tree, out_nodes, out_leaves, out_tree):
        self._trace = trace
        self._in = (in_nodes, in_leaves, in_tree)
        self._out = (out_nodes, out_leaves, out_tree)

    def __call__(self, cotangent):
        out_nodes, out_leaves, out_tree = self._out
        ct_leaves, ct_tree = tree.flatten(cotangent)
        if ct_tree != out_tree:
            raise TreeStructureError(f"vjp: the cotangent has structure {ct_tree}, but the "
                                     f"function's output has structure {out_tree}")
        seeds = []
        for i, (node, out, ct) in enumerate(zip(out_nodes, out_leaves, ct_leaves)):
            if np.shape(ct) != np.shape(out):
                raise ShapeError(f"vjp: cotangent leaf {i} has shape {np.shape(ct)}, but the "
                                 f"output leaf it pairs with has shape {np.shape(out)}")
            if node is not None and is_inexact(node.dtype):
                if not isinstance(ct, (np.ndarray, Tracer)):
                    ct = np.asarray(ct, dtype=node.dtype)
                seeds.append((node, ct))
        with gc_paused():
            cts = run_backward_pass(self._trace.tape, seeds)
        in_nodes, in_leaves, in_tree = self._in
        grads = []
        for node, x in zip(in_nodes, in_leaves):
            g = cts.get(node)
            if g is None:
                g = _zeros_like(x)
            elif g.dtype != x.dtype:
                g = real_part_for(g, x.dtype).astype(x.dtype)
            if type(g) is np.ndarray and g.ndim == 0:
                g = g[()]  # 0-d results are NumPy scalars, like NumPy's own reductions
            grads.append(g)
        return tree.unflatten(in_tree, grads)


def _strip(trace, leaf):
    """An output leaf's node in ``trace`` (or None) and its value with the tracer removed."""
    if isinstance(leaf, Tracer) and leaf._trace is trace:
        return leaf._node, leaf._value
    return None, leaf


def vjp(f: Callable, *primals, has_aux: bool = False):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(ct)`` gives the cotangents of the primals.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> out, f_vjp = vjp(fnp.sin, np.array([0.0, 1.0]))
        >>> f_vjp(np.ones(2))
        (array([1.        , 0.54030231]),)
    """
    return _vjp(f, primals, has_aux, "vjp")


def _vjp(f, primals, has_aux, fname):
    leaves, in_tree = flatten_differentiable(primals, fname)
    with ConcreteTrace(fname) as trace:
        tracers = [trace.new_input(x) for x in leaves]
        result = f(*tree.unflatten(in_tree, tracers))
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise ArgumentError(f"{fname}(has_aux=True): the function must return a pair "
                                    f"(output, aux), got {type(result).__name__}")
            result, aux = result
        out_leaves, out_tree = tree.flatten(result)
        stripped = [_strip(trace, leaf) for leaf in out_leaves]
        if has_aux:
            aux = tree.map(lambda leaf: _strip(trace, leaf)[1], aux)
    out_nodes = [n for n, _ in stripped]
    out_values = [v for _, v in stripped]
    fn = _VJPFunction(trace, [t._node for t in tracers], leaves, in_tree,
                      out_nodes, out_values, out_tree)
    out = tree.unflatten(out_tree, out_values)
    return (out, fn, aux) if has_aux else (out, fn)


def _defined_at(f: Callable) -> str:
    """`` (defined at file:line, called at file:line)``: where the user's function and call are."""
    code = getattr(inspect.unwrap(f), "__code__", None)
    called = user_location()
    parts = ([f"defined at {code.co_filename}:{code.co_firstlineno}"] if code is not None else []
             ) + ([f"called at {called[0]}:{called[1]}"] if called else [])
    return f" ({', '.join(parts)})" if parts else ""


def _check_not_a_container(out, f: Callable, fname: str) -> None:
    """A ``NonScalarOutputError`` for ``None`` or a pytree of several values (a forgotten
    ``return``, an ``(loss, aux)`` pair without ``has_aux=True``), with the user's lines."""
    leaves = tree.leaves(out)
    if len(leaves) == 1 and leaves[0] is out:
        if hasattr(out, "dtype") or isinstance(out, numbers.Number):
            return
        raise NonScalarOutputError(
            f"{fname}: the function must return a real floating-point scalar, but returned a "
            f"{type(out).__module__}.{type(out).__qualname__} ({out!r:.60}){_defined_at(f)}.")
    if out is None:
        raise NonScalarOutputError(
            f"{fname}: the function returned None{_defined_at(f)}, but it must return a real "
            "floating-point scalar. Is a return statement missing (return loss, not just "
            "loss)?")
    pair = isinstance(out, tuple) and len(out) == 2
    hint = ("If the second element is auxiliary data (metrics, a state), pass has_aux=True: "
            "grad(f, has_aux=True)(...) then returns (grads, aux) and value_and_grad(f, "
            "has_aux=True)(...) returns ((value, aux), grads)." if pair else
            "Return one scalar (e.g. the sum of the terms), or return (scalar, aux) and pass "
            "has_aux=True to carry other values out.")
    raise NonScalarOutputError(
        f"{fname}: the function must return a scalar, but returned a {type(out).__name__} "
        f"{tree.structure(out)!r}{_defined_at(f)}. {hint}")


def _check_scalar_output(out, fname: str, holomorphic: bool = False) -> None:
    shape = np.shape(out)
    dtype = out.dtype if hasattr(out, "dtype") else np.asarray(out).dtype
    if shape != ():
        raise NonScalarOutputError(
            f"{fname}: the function must return a scalar (shape ()), but returned {describe(out)}. "
            "Reduce it (e.g. fnp.sum or fnp.mean), or use vjp / jacrev for non-scalar outputs.")
    complex_out = np.dtype(dtype).kind == "c"
    if holomorphic and not complex_out:
        raise NonScalarOutputError(
            f"{fname} with holomorphic=True requires a complex output, but the function returned "
            f"dtype {np.dtype(dtype).name}. Leave holomorphic=False for a real output.")
    if complex_out and not holomorphic:
        raise NonScalarOutputError(
            f"{fname}: the function must return a real floating-point scalar, but returned dtype "
            f"{np.dtype(dtype).name}. For a holomorphic function pass holomorphic=True (the result "
            "is then f'(z)); for a non-holomorphic one use vjp directly, or differentiate a real "
            "quantity such as fnp.abs(out) ** 2 (see docs/complex.md).")
    if complex_out:
        return
    if not is_floating(dtype):
        raise NonScalarOutputError(
            f"{fname}: the function must return a real floating-point scalar, but returned "
            f"dtype {np.dtype(dtype).name}.")


def value_and_grad(f: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
                   holomorphic: bool = False, allow_int: bool = False) -> Callable:
    """A function returning ``(f(*args), gradient of f w.r.t. args[argnums])``.

    With ``has_aux=True``, ``f`` returns ``(value, aux)`` and the result is ``((value, aux), grads)``.
    For a real output of complex inputs ``z = x + iy`` the gradient is ``dL/dx - i dL/dy``
    (JAX's convention); ``holomorphic=True`` takes complex inputs and a complex output and
    gives ``f'(z)`` (see ``docs/complex.md``).  With ``allow_int=True``, integer and boolean
    leaves at ``argnums`` are held fixed and their gradients are zero-size-element arrays of
    dtype :data:`float0` (JAX's); without it they are a :class:`DTypeError`.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> value_and_grad(lambda x: fnp.sum(x ** 2))(np.array([1.0, 2.0]))
        (np.float64(5.0), array([2., 4.]))
    """
    fname = f"grad of {getattr(f, '__name__', 'function')}"

    def value_and_grad_f(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), fname, kwargs)
        if holomorphic:
            require_complex(tree.leaves(tuple(args[n] for n in nums)), fname, "inputs")

        split = IntLeaves(tuple(args[n] for n in nums), fname) if allow_int else None

        def partial(*diff):
            full = list(args)
            for n, d in zip(nums, split.rebuild(diff) if split else diff):
                full[n] = d
            return f(*full, **kwargs)

        diff_args = split.float_leaves if split else tuple(args[n] for n in nums)
        outs = _vjp(partial, tuple(diff_args), has_aux, fname)
        out, fn = outs[0], outs[1]
        _check_not_a_container(out, f, fname)
        _check_scalar_output(out, fname, holomorphic)
        grads = fn(np.ones((), out.dtype) if hasattr(out, "dtype") else 1.0)
        grads = split.gradients(grads) if split else grads
        grads = grads[0] if single else grads
        return ((out, outs[2]), grads) if has_aux else (out, grads)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    value_and_grad_f.__doc__ = f.__doc__
    return value_and_grad_f


def grad(f: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
         holomorphic: bool = False, allow_int: bool = False) -> Callable:
    """The gradient of a scalar function: a new function with the same arguments.

    The result has the structure of ``args[argnums]`` (a tuple of them when ``argnums``
    is a tuple); with ``has_aux=True`` it is ``(grads, aux)``.  Complex inputs follow
    JAX's convention, and ``holomorphic=True`` differentiates a complex function of
    complex inputs (``docs/complex.md``).  ``allow_int=True`` accepts integer and boolean
    inputs at ``argnums``: their gradients are zeros of dtype :data:`float0`, as in JAX.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> grad(lambda x: fnp.sum(x ** 2))(np.array([1.0, 2.0]))
        array([2., 4.])
        >>> grad(lambda z: z ** 2, holomorphic=True)(np.array(1 + 2j))
        np.complex128(2+4j)
        >>> grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)[1].dtype == float0
        True
    """
    vg = value_and_grad(f, argnums, has_aux, holomorphic, allow_int)

    def grad_f(*args, **kwargs):
        value, grads = vg(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    grad_f.__doc__ = f.__doc__
    return grad_f


__all__ = ["DTypeError", "backward_pass", "float0", "grad", "value_and_grad", "vjp"]
