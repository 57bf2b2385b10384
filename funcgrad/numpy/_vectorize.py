"""Functions applied over arrays: ``vectorize`` and ``apply_along_axis``, through ``vmap``.

``vectorize`` always runs its function through ``vmap`` (as JAX's does), and
``apply_along_axis`` does on traced arrays (on plain arrays it is NumPy's), so the
function must be written in funcgrad ops, without Python control flow on values.
The result differentiates, runs under ``jit`` and batches again.

Examples:
    >>> import funcgrad.numpy as fnp
    >>> vectorize(lambda a: fnp.maximum(a, 0.0))(np.array([-1.0, 2.0]))
    array([0., 2.])
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np

from funcgrad.errors import ShapeError
from funcgrad.numpy._assembly import _arr, _axis, _ndim, _traced
from funcgrad.ops import misc
from funcgrad.ops import shape as sh
from funcgrad.ops._family import shape_of

__all__ = ["apply_along_axis", "vectorize"]


def apply_along_axis(func1d: Callable, axis: int, arr, *args, **kwargs):
    """``numpy.apply_along_axis``: ``func1d`` on every 1-D slice along ``axis``.

    On plain arrays this is NumPy's; on traced arrays ``func1d`` is vectorised with ``vmap``
    (so it must be written in funcgrad ops).  The result's axes replace ``axis``.

    Examples:
        >>> apply_along_axis(lambda r: r[0] + r[-1], 1, np.arange(6.0).reshape(2, 3))
        array([2., 8.])
    """
    if not _traced(arr) and not _traced(args) and not _traced(list(kwargs.values())):
        return np.apply_along_axis(func1d, axis, np.asarray(arr), *args, **kwargs)
    from funcgrad.transforms.vmap import vmap  # a transformation: imported when used

    arr = _arr(arr)
    nd = _ndim(arr)
    axis = _axis(axis, nd)
    moved = sh.moveaxis(arr, axis, -1)
    outer = shape_of(moved)[:-1]
    rows = sh.reshape(moved, (-1, shape_of(moved)[-1]))
    out = vmap(lambda row: _arr(func1d(row, *args, **kwargs)))(rows)
    core = shape_of(out)[1:]
    out = sh.reshape(out, outer + core)
    # NumPy puts the result's axes where ``axis`` was.
    return sh.moveaxis(out, tuple(range(len(outer), len(outer) + len(core))),
                       tuple(range(axis, axis + len(core))))


# -- vectorize ------------------------------------------------------------------------------
_DIMS = re.compile(r"\(([\w,\s]*)\)")


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    try:
        ins, outs = signature.replace(" ", "").split("->")
        parse = lambda side: [tuple(d for d in m.split(",") if d) for m in _DIMS.findall(side)]  # noqa: E731
        parsed_in, parsed_out = parse(ins), parse(outs)
    except ValueError:
        raise ValueError(f"not a valid gufunc signature: {signature}") from None
    if not parsed_out or ",".join(f"({','.join(d)})" for d in parsed_in) != ins:
        raise ValueError(f"not a valid gufunc signature: {signature}")
    return parsed_in, parsed_out


class vectorize:
    """``numpy.vectorize`` through ``vmap``: ``pyfunc`` applied elementwise (or over the core
    dimensions of a gufunc ``signature`` such as ``"(n),(n)->()"``), broadcasting the rest.

    ``pyfunc`` sees traced values, so it must be written in funcgrad ops; ``excluded``
    (positions or keyword names) are passed through unchanged.  ``otypes`` casts the outputs.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> vectorize(lambda a, b: fnp.where(a > b, a - b, a + b))(np.array([1.0, 5.0]), 2.0)
        array([3., 3.])
        >>> vectorize(lambda u, v: fnp.sum(u * v), signature="(n),(n)->()")(np.ones((2, 3)), np.ones(3))
        array([3., 3.])
    """

    def __init__(self, pyfunc: Callable, otypes=None, doc: str | None = None, excluded=None,
                 cache: bool = False, signature: str | None = None):
        self.pyfunc = pyfunc
        self.otypes = otypes
        self.excluded = frozenset(excluded or ())
        self.signature = signature
        self._sig = None if signature is None else _parse_signature(signature)
        self.__doc__ = doc if doc is not None else getattr(pyfunc, "__doc__", None)
        functools.update_wrapper(self, pyfunc, assigned=("__name__", "__qualname__", "__module__"),
                                 updated=())

    def __call__(self, *args, **kwargs):
        from funcgrad.transforms.vmap import vmap  # a transformation: imported when used

        keep_pos = [i for i in range(len(args)) if i not in self.excluded]
        keep_kw = [k for k in kwargs if k not in self.excluded]
        arrays = [_arr(args[i]) for i in keep_pos] + [_arr(kwargs[k]) for k in keep_kw]
        core_in = self._sig[0] if self._sig else [()] * len(arrays)
        if len(core_in) != len(arrays):
            raise TypeError(f"wrong number of positional arguments: expected {len(core_in)}, "
                            f"got {len(arrays)}")
        sizes: dict[str, int] = {}
        loops = []
        for a, dims in zip(arrays, core_in):
            s = shape_of(a)
            if len(s) < len(dims):
                raise ValueError(f"input with shape {s} does not have enough dimensions for all "
                                 f"core dimensions {dims!r} of signature {self.signature}")
            for d, n in zip(dims, s[len(s) - len(dims):]):
                if sizes.setdefault(d, n) != n:
                    raise ValueError(f"inconsistent size for core dimension {d!r}: {n} vs {sizes[d]}")
            loops.append(s[:len(s) - len(dims)])
        try:
            loop = np.broadcast_shapes(*loops)
        except ValueError:
            raise ShapeError("vectorize: loop dimensions " + ", ".join(map(str, loops))
                             + " cannot be broadcast together") from None
        flat = [sh.reshape(sh.broadcast_to(a, loop + shape_of(a)[len(l):]),
                           (-1,) + shape_of(a)[len(l):]) for a, l in zip(arrays, loops)]

        def call(*xs):
            it = iter(xs)
            pos = [next(it) if i in keep_pos else args[i] for i in range(len(args))]
            kw = {k: next(it) if k in keep_kw else v for k, v in kwargs.items()}
            return self.pyfunc(*pos, **kw)

        n = int(np.prod(loop, dtype=np.int64))
        out = call(*[f[0] for f in flat]) if n == 1 and not loop else vmap(call)(*flat)
        single = not isinstance(out, tuple)
        outs = [out] if single else list(out)
        if self._sig is not None and len(outs) != len(self._sig[1]):
            raise ValueError(f"wrong number of outputs from pyfunc: expected {len(self._sig[1])}, "
                             f"got {len(outs)}")
        results = []
        for i, o in enumerate(outs):
            o = _arr(o)
            if loop or n != 1:
                o = sh.reshape(o, loop + shape_of(o)[1:])
            if self.otypes:
                o = misc.astype(o, np.dtype(self.otypes[i]))
            results.append(o)
        return results[0] if single else tuple(results)
