"""Operations with several results: one node whose value is a :class:`Results` tuple.

A graph node has one value.  An operation with several results (``scan``'s carry and
outputs, a checkpointed function's outputs, a ``custom_vjp`` function's output and
residuals) is one node whose value is a :class:`Results` tuple, followed by one
``result`` node per result that picks it out.  To the tracing machinery a
``Results`` looks like a 0-d array of dtype ``object``; the projections have the real
shapes and dtypes, so everything downstream sees ordinary arrays.

* The primitive declares ``results_eval(*avals, **params) -> [(shape, dtype), ...]``,
  which gives the projections their abstract values under ``jit``.
* Derivatives: the ``result`` projection's VJP hands its cotangent to the operation
  as a ``Results`` with ``None`` (a symbolic zero) everywhere else; the backward pass
  adds those up entry by entry, so the operation's rule receives one ``Results`` of
  cotangents, one per result (``None`` where no cotangent reached it).  Its JVP rule
  returns ``(Results of values, Results of tangents)``, again ``None`` for zeros.
* Batching: its batching rule returns ``(Results of values, tuple of batch axes)``.

:func:`bind_results` applies such an operation and returns the list of its results;
on plain arrays no projection node is made.

Examples:
    >>> import numpy as np
    >>> from funcgrad._core.primitive import Primitive
    >>> divmod_p = Primitive("divmod", lambda a, b: Results(np.divmod(a, b)))
    >>> _ = define_results(divmod_p, lambda a, b: [(a.shape, a.dtype)] * 2)
    >>> bind_results(divmod_p, np.array([7.0]), np.array([2.0]))
    [array([3.]), array([1.])]
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive

OBJECT = np.dtype(object)


class Results(tuple):
    """The value of an operation with several results (a tuple of arrays or tracers).

    It answers ``shape`` ``()`` and ``dtype`` ``object``, so tracing records it as one
    node.  ``a + b`` adds two Results entry by entry (``None`` is zero): that is how
    the backward pass sums the cotangents of the results.

    Examples:
        >>> Results([1.0, None]) + Results([None, 2.0])
        Results(1.0, 2.0)
    """

    __slots__ = ()
    shape: tuple = ()
    ndim = 0
    size = 1
    dtype = OBJECT

    def __add__(self, other):
        if not isinstance(other, Results):
            return NotImplemented
        return Results([b if a is None else a if b is None else a + b
                        for a, b in zip(self, other, strict=True)])

    __radd__ = __add__

    def astype(self, dtype, copy=False):
        return self

    def __repr__(self) -> str:
        return f"Results({', '.join(map(repr, self))})"


def _result_impl(results, index, count):
    return results[index]


def _result_aval(node, index, count):
    prim = node.primitive
    if prim is None or prim.results_eval is None:  # pragma: no cover - an internal error
        raise TypeError(f"result: {node!r} is not an operation with several results")
    avals = [i.value if i.kind == "constant" else i for i in node.inputs]
    shape, dtype = prim.results_eval(*avals, **node.params)[index]
    return tuple(shape), np.dtype(dtype)


#: ``result(r, index, count)``: result ``index`` of an operation with ``count`` results.
result_p = Primitive("result", _result_impl, _result_aval)


def _result_vjp(g, ans, results, index, count):
    cts = [None] * count
    cts[index] = g
    return Results(cts)


def _result_jvp(primals, tangents, index, count):
    (r,), (t,) = primals, tangents
    ans = result_p.bind(r, index=index, count=count)
    if t is None:
        return ans, None
    return ans, t[index] if isinstance(t, Results) else result_p.bind(t, index=index, count=count)


def _result_batch(values, dims, index, count):
    (r,), (d,) = values, dims
    return result_p.bind(r, index=index, count=count), d[index]


result_p.defvjp(_result_vjp)
result_p.defjvp_full(_result_jvp)
result_p.defbatch(_result_batch)


def define_results(prim: Primitive, results_eval) -> Primitive:
    """Make ``prim`` an operation with several results, whose abstract values ``results_eval`` gives."""
    prim.results_eval = results_eval
    prim.abstract_eval = lambda *avals, **params: ((), OBJECT)
    return prim


def bind_results(prim: Primitive, *args, **params) -> list:
    """Apply an operation with several results; the list of its results.

    On plain arrays that is the operation's own ``Results``; on tracers, one ``result``
    projection per result of the traced ``Results`` node.
    """
    r = prim.bind(*args, **params)
    if isinstance(r, Results):
        return list(r)
    count = len(prim.results_eval(*args, **params))
    return [result_p.bind(r, index=i, count=count) for i in range(count)]
