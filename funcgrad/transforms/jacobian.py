"""Whole Jacobians and Hessians: ``jacfwd``, ``jacrev``, ``hessian``.

Both Jacobians use JAX's layout: for an output leaf of shape ``O`` and an input
leaf of shape ``I`` the block has shape ``O + I``; with pytree outputs and
inputs the result nests the input structure inside the output structure.
``jacrev`` maps ``vjp`` over the rows of an identity basis with ``vmap``,
``jacfwd`` maps ``jvp`` over its columns, and ``hessian`` is ``jacfwd(jacrev(f))``.
Complex values follow JAX: ``jacrev`` refuses complex outputs and ``jacfwd`` complex
inputs unless ``holomorphic=True``, which requires complex inputs and outputs and
gives the complex Jacobian ``df/dz`` (``docs/complex.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from funcgrad import tree
from funcgrad.ops import shape as sh
from funcgrad.transforms._args import (
    IntLeaves,
    normalize_argnums,
    refuse_complex,
    require_complex,
)
from funcgrad.transforms.grad import vjp
from funcgrad.transforms.jvp import jvp
from funcgrad.transforms.vmap import vmap


def _basis(leaves) -> list:
    """One batched pytree leaf per input leaf: together, the rows of an identity matrix."""
    sizes = [math.prod(np.shape(x)) for x in leaves]
    total = sum(sizes)
    # An output leaf may be a Python number (a constant output such as 1.0): no .dtype.
    dtypes = [x.dtype if hasattr(x, "dtype") else np.asarray(x).dtype for x in leaves]
    dtype = np.result_type(*dtypes) if leaves else np.float64
    eye = np.eye(total, dtype=dtype)
    out, start = [], 0
    for x, n, d in zip(leaves, sizes, dtypes):
        out.append(eye[:, start:start + n].reshape((total,) + tuple(np.shape(x))).astype(d))
        start += n
    return out


def _partial(f, args, nums, kwargs):
    def g(*diff):
        full = list(args)
        for n, d in zip(nums, diff):
            full[n] = d
        return f(*full, **kwargs)
    return g


def _split_rows(batched_leaves, row_leaves):
    """Split a leading axis that enumerates ``row_leaves``' elements back into their shapes."""
    out = []
    for b in batched_leaves:
        pieces, start_j = [], 0
        for r in row_leaves:
            n = math.prod(np.shape(r))
            block = b[start_j:start_j + n]
            pieces.append(sh.reshape(block, tuple(np.shape(r)) + tuple(np.shape(b))[1:]))
            start_j += n
        out.append(pieces)
    return out


def jacrev(f: Callable, argnums: int | tuple[int, ...] = 0, holomorphic: bool = False,
           allow_int: bool = False) -> Callable:
    """The Jacobian of ``f`` by reverse mode (one ``vjp`` per output element, vectorised).

    Outputs must be real unless ``holomorphic=True`` (then inputs and outputs are complex).
    ``allow_int=True`` accepts integer and boolean inputs at ``argnums``; their blocks are
    zeros of the input's dtype (what JAX returns), of shape ``out_shape + in_shape``.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> jacrev(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    def jac(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), "jacrev", kwargs)
        if holomorphic:
            require_complex(tree.leaves(tuple(args[n] for n in nums)), "jacrev", "inputs")
        g = _partial(f, args, nums, kwargs)
        if allow_int:  # differentiate the floating leaves only; the others are held fixed
            split = IntLeaves(tuple(args[n] for n in nums), "jacrev")
            out, pullback = vjp(lambda *leaves: g(*split.rebuild(leaves)), *split.float_leaves)
        else:
            out, pullback = vjp(g, *(args[n] for n in nums))
        out_leaves, out_tree = tree.flatten(out)
        if holomorphic:
            require_complex(out_leaves, "jacrev", "outputs")
        else:
            refuse_complex(out_leaves, "jacrev", "outputs", "vjp")
        basis = tree.unflatten(out_tree, _basis(out_leaves))
        rows = vmap(pullback)(basis)          # tuple over argnums, leading axis = output elements
        in_leaves, in_tree = tree.flatten(rows)
        # rows[j] has shape (M,) + in_shape; cut M into the output leaves' shapes.
        blocks = _split_rows(in_leaves, out_leaves)   # [input leaf][output leaf]
        if allow_int:
            per_out = [_with_int_blocks(split, [blocks[j][i] for j in range(len(in_leaves))], o)
                       for i, o in enumerate(out_leaves)]
        else:
            per_out = [tree.unflatten(in_tree, [blocks[j][i] for j in range(len(in_leaves))])
                       for i in range(len(out_leaves))]
        per_out = [p[0] if single else p for p in per_out]
        return tree.unflatten(out_tree, per_out)
    return jac


def _with_int_blocks(split: IntLeaves, float_blocks: list, out) -> tuple:
    """The Jacobian blocks of one output leaf for every argument leaf: ``float_blocks`` for the
    floating leaves, zeros of the leaf's own dtype for the integer ones (JAX's ``jacrev``)."""
    it = iter(float_blocks)
    return tree.unflatten(split.treedef, [
        next(it) if fl else np.zeros(tuple(np.shape(out)) + tuple(np.shape(x)), x.dtype)
        for x, fl in zip(split.leaves, split.is_float)])


def jacfwd(f: Callable, argnums: int | tuple[int, ...] = 0, holomorphic: bool = False) -> Callable:
    """The Jacobian of ``f`` by forward mode (one ``jvp`` per input element, vectorised).

    Inputs must be real unless ``holomorphic=True`` (then inputs and outputs are complex).

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    def jac(*args, **kwargs):
        nums, single = normalize_argnums(argnums, len(args), "jacfwd", kwargs)
        g = _partial(f, args, nums, kwargs)
        primals = tuple(args[n] for n in nums)
        in_leaves, in_tree = tree.flatten(primals)
        if holomorphic:
            require_complex(in_leaves, "jacfwd", "inputs")
        else:
            refuse_complex(in_leaves, "jacfwd", "inputs", "jvp")
        basis = tree.unflatten(in_tree, _basis([np.asarray(x) if not hasattr(x, "dtype") else x
                                                for x in in_leaves]))
        cols = vmap(lambda t: jvp(g, primals, t)[1])(basis)   # output tree, leading axis = N
        out_leaves, out_tree = tree.flatten(cols)
        if holomorphic:
            require_complex(out_leaves, "jacfwd", "outputs")
        result = []
        for c in out_leaves:
            c = sh.moveaxis(c, 0, -1)                  # out_shape + (N,)
            out_shape = tuple(np.shape(c))[:-1]
            pieces, start = [], 0
            for x in in_leaves:
                n = math.prod(np.shape(x))
                pieces.append(sh.reshape(c[..., start:start + n], out_shape + tuple(np.shape(x))))
                start += n
            per = tree.unflatten(in_tree, pieces)
            result.append(per[0] if single else per)
        return tree.unflatten(out_tree, result)
    return jac


def hessian(f: Callable, argnums: int | tuple[int, ...] = 0, holomorphic: bool = False) -> Callable:
    """The Hessian of a scalar function: forward-over-reverse, ``jacfwd(jacrev(f))``.

    ``holomorphic=True`` passes through to both (complex inputs and output: ``d2f/dz2``).

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    return jacfwd(jacrev(f, argnums, holomorphic), argnums, holomorphic)
