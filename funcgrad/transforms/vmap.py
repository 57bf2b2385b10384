"""``vmap``: vectorise a function over a batch axis.

A :class:`BatchTrace` carries each batched value with the position of its batch
axis.  A primitive's batching rule maps batched operands to a batched result in
one call (elementwise ops, reductions, shape ops, indexing and matmul all have
one); a primitive without a rule falls back to a loop over the batch.  Values
from enclosing traces are unbatched here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.trace import Trace, Tracer, conversion_hint, user_location
from funcgrad.errors import ArgumentError, ConcretizationError, ShapeError
from funcgrad.transforms._args import array_leaves, as_array_leaf, index


class BatchTracer(Tracer):
    """A batched value: ``_value`` holds the whole batch, ``_bdim`` is where its batch axis is."""

    __slots__ = ("_bdim",)

    def __init__(self, trace, value, bdim: int):
        Tracer.__init__(self, trace, None, value)
        _set_bdim(self, bdim)

    @property
    def shape(self) -> tuple[int, ...]:
        s, d = self._value.shape, self._bdim
        if type(d) is tuple:  # the axes of an operation's several results: one 0-d object
            return ()
        return s[:d] + s[d + 1:]

    dtype = property(lambda self: self._value.dtype)

    def concrete_value(self, what: str):
        """Never a value: a batched value has one per example (a :class:`ConcretizationError`)."""
        if not self._trace.active:
            raise self._trace.leak_error()
        loc = user_location()
        where = f" at {loc[0]}:{loc[1]}" if loc else ""
        raise ConcretizationError(
            f"{what} needs one concrete value, but under {self._trace.name} this "
            f"{self.dtype.name}{list(self.shape)} value varies over the batch{where}. "
            f"{conversion_hint(what, loc)}Use funcgrad.numpy.where to select per example "
            "instead of Python control flow, or compute the condition outside vmap.")


_set_bdim = BatchTracer._bdim.__set__


class BatchTrace(Trace):
    """Vectorising trace: operations act on whole batches through batching rules."""

    kind = "vmap"

    def __init__(self, name: str, size: int):
        super().__init__(name)
        self.size = size

    def process(self, prim, args, params):
        values, dims = self.unpack(args, BatchTracer, "_bdim")
        rule = prim.batch_rule
        if rule is None:
            out, dim = loop_rule(prim, values, dims, params, self.size)
        else:
            out, dim = rule(values, dims, **params)
        return out if dim is None else BatchTracer(self, out, dim)


def loop_rule(prim, values, dims, params, size: int):
    """The fallback: apply ``prim`` to each batch element and stack the results."""
    from funcgrad.ops.shape import stack

    outs = []
    for i in range(size):
        args = [v if d is None else v[(slice(None),) * d + (i,)] for v, d in zip(values, dims)]
        outs.append(prim.bind(*args, **params))
    return stack(outs, 0), 0


def _axes_for_leaves(in_axes, args, fname: str) -> list:
    """One axis (or None) per leaf of ``args``, from ``in_axes`` given as an int, None or a pytree prefix."""
    if in_axes is None or isinstance(in_axes, int):
        return [in_axes] * len(tree.leaves(args))
    if not isinstance(in_axes, (tuple, list)) or len(in_axes) != len(args):
        raise ArgumentError(f"{fname}: in_axes must be an int, None, or a tuple with one entry "
                            f"per positional argument ({len(args)}), got {in_axes!r}")
    axes = []
    for i, (spec, arg) in enumerate(zip(in_axes, args)):
        n = len(tree.leaves(arg))
        if spec is None or isinstance(spec, int):
            axes.extend([spec] * n)
            continue
        spec_leaves, spec_tree = tree.flatten(spec, is_leaf=lambda x: x is None)
        arg_tree = tree.structure(arg)
        if spec_tree.num_leaves != n or tree.structure(tree.unflatten(spec_tree, [0] * n)) != arg_tree:
            raise ArgumentError(f"{fname}: in_axes[{i}] has structure {spec_tree}, which does "
                                f"not match argument {i}'s structure {arg_tree}")
        axes.extend(spec_leaves)
    return axes


def vmap(f: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None,
         axis_name: Any = None) -> Callable:
    """Vectorise ``f`` over a batch axis of its arguments.

    ``in_axes``: an int (every argument batched along that axis), ``None``
    (not batched), or a tuple with one entry per argument, each an int, None or a
    pytree of them matching that argument.  ``out_axes`` likewise for the result.
    ``axis_size`` gives the batch size: required when no argument is batched (every
    output is then broadcast along the batch axis), checked against the batched
    arguments otherwise.  ``axis_name`` is accepted for code ported from JAX and
    otherwise unused: funcgrad has no collective operations (``psum``, ...) to name it.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> vmap(lambda x: fnp.sum(x ** 2))(np.arange(6.0).reshape(2, 3))
        array([ 5., 50.])
        >>> vmap(lambda x: 2 * x, in_axes=None, axis_size=3)(np.array(1.5))
        array([3., 3., 3.])
    """
    fname = f"vmap({getattr(f, '__name__', 'f')})"
    if axis_size is not None:
        try:
            axis_size = index(axis_size)
        except TypeError:
            raise ArgumentError(f"{fname}: axis_size must be an int, got {axis_size!r} "
                                f"({type(axis_size).__name__})") from None
        if axis_size < 0:
            raise ArgumentError(f"{fname}: axis_size must be non-negative, got {axis_size}")

    def vmapped(*args, **kwargs):
        # Keyword arguments are batched along axis 0, as in JAX.
        leaves, in_tree = tree.flatten((args, kwargs))
        axes = _axes_for_leaves(in_axes, args, fname) + [0] * len(tree.leaves(kwargs))
        def owner(i: int) -> str:  # error messages only
            return _owners(args, kwargs)[i]
        leaves = array_leaves(leaves, lambda i: f"{owner(i)} (leaf {i} of the arguments)", fname)
        size, first = axis_size, None
        for i, (x, ax) in enumerate(zip(leaves, axes)):
            if ax is None:
                continue
            nd = len(np.shape(x))
            if not -nd <= ax < nd:
                raise ArgumentError(f"{fname}: in_axes {ax} is out of range for {owner(i)}, "
                                    f"which has shape {np.shape(x)}")
            n = np.shape(x)[ax]
            if size is None:
                size, first = n, (i, np.shape(x), ax)
            elif n != size and first is None:
                raise ShapeError(
                    f"{fname}: inconsistent batch sizes: axis_size={axis_size}, but {owner(i)} "
                    f"(leaf {i}, shape {np.shape(x)}, axis {ax}) has {n}")
            elif n != size:
                raise ShapeError(
                    f"{fname}: inconsistent batch sizes: {owner(first[0])} (leaf {first[0]}, "
                    f"shape {first[1]}, axis {first[2]}) has {size} but {owner(i)} (leaf {i}, "
                    f"shape {np.shape(x)}, axis {ax}) has {n}")
        if size is None and not leaves:
            raise ArgumentError(f"{fname} was called without array arguments (args={args!r}, "
                                f"kwargs={kwargs!r}); give axis_size to set the batch size")
        if size is None:
            raise ArgumentError(f"{fname}: in_axes={in_axes!r} batches no argument; at least "
                                "one must have a batch axis, or axis_size must be given")
        with BatchTrace(fname, size) as trace:
            tracers = [x if ax is None else BatchTracer(trace, x, ax % len(np.shape(x)))
                       for x, ax in zip(leaves, axes)]
            call_args, call_kwargs = tree.unflatten(in_tree, tracers)
            out = f(*call_args, **call_kwargs)
            out_leaves, out_tree = tree.flatten(out)
            if out_axes is None or isinstance(out_axes, int):
                oaxes = [out_axes] * len(out_leaves)
            else:
                oaxes = tree.leaves(out_axes, is_leaf=lambda x: x is None)
                if len(oaxes) != len(out_leaves):
                    raise ArgumentError(f"{fname}: out_axes {out_axes!r} does not match the "
                                        f"output structure {out_tree}")
            results = [_finish(leaf, ax, trace, size, fname) for leaf, ax in zip(out_leaves, oaxes)]
        return tree.unflatten(out_tree, results)

    vmapped.__name__ = fname
    return vmapped


def _owners(args, kwargs) -> list[str]:
    """For each flat leaf of ``(args, kwargs)``, the argument that holds it, in words."""
    owners = []
    for i, a in enumerate(args):
        owners += [f"argument {i}"] * len(tree.leaves(a))
    for k, v in kwargs.items():
        owners += [f"keyword argument {k!r}"] * len(tree.leaves(v))
    return owners


def _finish(leaf, out_axis, trace, size, fname):
    from funcgrad.ops import shape as sh

    if isinstance(leaf, BatchTracer) and leaf._trace is trace:
        if out_axis is None:
            raise ArgumentError(f"{fname}: out_axes=None, but the output varies over the batch")
        value, dim = leaf._value, leaf._bdim
    else:
        leaf = as_array_leaf(leaf, "an output leaf", fname)
        if out_axis is None:
            return leaf
        value = sh.broadcast_to(sh.expand_dims(leaf, 0), (size,) + tuple(np.shape(leaf)))
        dim = 0
    nd = len(np.shape(value))
    if not -nd <= out_axis < nd:
        raise ArgumentError(f"{fname}: out_axes {out_axis} is out of range for an output of "
                            f"{nd - 1} dimensions")
    return sh.moveaxis(value, dim, out_axis % nd)
