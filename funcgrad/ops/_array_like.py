"""array_like operands: nested lists and tuples that hold tracers become one traced array.

NumPy accepts a list wherever it accepts an array (``np.mean([a, b])``); funcgrad does
too, and differentiates through it.  A list or tuple operand that holds a tracer (at any
depth) is converted once, where a primitive receives its operands (``Primitive.bind``
and the binders call :func:`as_operand`, installed below); public functions that look
at an argument before binding it ask :func:`~funcgrad.ops._family.shape_of` and
``dtype_of``, which answer for such lists without building anything.

The conversion follows NumPy's array coercion: nested lists, tuples, arrays and scalars;
arrays inside lists count as nested sequences (``[x2, [1.0, y]]`` is ``(2, 2)``); a
ragged list is a :class:`~funcgrad.errors.ShapeError` with NumPy's message.  The dtype is
the promotion of the elements' dtypes with Python scalars *weak* (NEP 50, as in
``x32 * 2.0`` and as in JAX): ``[x32, 1.0]`` stays float32.  Lists that hold no tracer are
left alone, for NumPy to convert as it always does.

Examples:
    >>> import funcgrad as fg
    >>> import funcgrad.numpy as fnp
    >>> fg.grad(lambda x: fnp.sum([x, x * x]))(3.0)
    np.float64(7.0)
"""

from __future__ import annotations

import numpy as np

from funcgrad._core import primitive as _primitive
from funcgrad._core.trace import Tracer, user_location
from funcgrad.errors import ArgumentError, ShapeError

_SEQUENCES = (list, tuple)
_WEAK = {bool: False, int: 0, float: 0.0, complex: 0j}  # Python scalar type -> a weak stand-in


def holds_tracer(obj) -> bool:
    """Whether ``obj`` is a list or tuple with a tracer somewhere inside (at any depth).

    The element types are collected at C speed (``set(map(type, obj))``), so a long
    plain list costs little more than NumPy's own conversion of it.
    """
    if type(obj) not in _SEQUENCES:
        return False
    types = set(map(type, obj))
    for t in types:
        if issubclass(t, Tracer):
            return True
    if list in types or tuple in types:
        return any(holds_tracer(o) for o in obj if type(o) in _SEQUENCES)
    return False


class _Ragged(Exception):
    """Internal: the nested sequence is ragged after ``detected`` (its consistent leading shape)."""

    def __init__(self, detected: tuple[int, ...]):
        self.detected = detected


def _shape(obj) -> tuple[int, ...]:
    """NumPy's shape discovery for nested sequences of arrays, tracers and scalars."""
    if type(obj) in _SEQUENCES:
        shapes, ragged = [], False
        for o in obj:
            try:
                shapes.append(_shape(o))
            except _Ragged as r:
                shapes.append(r.detected)
                ragged = True
        if not shapes:
            return (0,)
        first = shapes[0]
        if not ragged and all(s == first for s in shapes):
            return (len(obj),) + first
        common = 0  # the leading axes on which every element agrees
        while all(len(s) > common and s[common] == first[common] for s in shapes):
            common += 1
        raise _Ragged((len(obj),) + first[:common])
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return tuple(shape)
    if type(obj) in _WEAK:
        return ()
    raise ArgumentError(f"expected numbers, arrays or traced arrays inside a list or tuple, "
                        f"got {type(obj).__name__}: {obj!r}")


def sequence_shape(seq) -> tuple[int, ...]:
    """The shape of the array a nested list or tuple makes, or NumPy's error if it is ragged.

    Examples:
        >>> sequence_shape([[1.0, 2.0], (3.0, 4.0), np.zeros(2)])
        (3, 2)
    """
    try:
        return _shape(seq)
    except _Ragged as r:
        loc = user_location()
        where = f" (a list or tuple holding traced values, at {loc[0]}:{loc[1]})" if loc else ""
        raise ShapeError(
            "setting an array element with a sequence. The requested array has an "
            f"inhomogeneous shape after {len(r.detected)} dimensions. The detected shape was "
            f"{r.detected} + inhomogeneous part.{where}") from None


def _leaves(obj, out: list) -> list:
    """The non-sequence elements of a nested list or tuple, in order."""
    for o in obj:
        if type(o) in _SEQUENCES:
            _leaves(o, out)
        else:
            out.append(o)
    return out


def sequence_dtype(seq) -> np.dtype:
    """The dtype of the array a nested list or tuple makes; Python scalars are weak.

    Examples:
        >>> sequence_dtype([np.float32(1.0), 2.0])
        dtype('float32')
    """
    strong, weak = set(), set()
    for leaf in _leaves(seq, []):
        t = type(leaf)
        if t in _WEAK:
            weak.add(t)
        else:
            strong.add(leaf.dtype)
    if not strong:  # no array, tracer or NumPy scalar: NumPy's own conversion
        return np.asarray(seq).dtype
    return np.result_type(*strong, *(_WEAK[t] for t in weak))


def array_from_sequence(seq, dtype=None):
    """One traced array from a nested list or tuple of tracers, arrays and scalars.

    Every element is flattened into one concatenation, reshaped to NumPy's shape of ``seq``;
    runs of constants become one NumPy block.

    Examples:
        >>> array_from_sequence([np.ones(2), [2.0, 3.0]])
        array([[1., 1.],
               [2., 3.]])
    """
    from funcgrad.ops.misc import astype
    from funcgrad.ops.shape import concatenate_p, reshape

    shape = sequence_shape(seq)
    dtype = sequence_dtype(seq) if dtype is None else np.dtype(dtype)
    parts, run = [], []
    for leaf in _leaves(seq, []):
        if isinstance(leaf, Tracer):
            if run:
                parts.append(np.concatenate(run))
                run = []
            parts.append(reshape(astype(leaf, dtype), (-1,)))
        else:
            run.append(np.asarray(leaf, dtype).reshape(-1))
    if run:
        parts.append(np.concatenate(run))
    flat = parts[0] if len(parts) == 1 else concatenate_p.bind(*parts, axis=0)
    return reshape(flat, shape)


def as_operand(a):
    """``a`` as a primitive's operand: a list or tuple holding tracers becomes one traced array."""
    return array_from_sequence(a) if holds_tracer(a) else a


def asarray(x):
    """A tracer as it is, a list or tuple holding tracers as one traced array, anything else
    as NumPy's array: for public functions that look at an argument before binding it.

    Examples:
        >>> asarray([1.0, 2.0])
        array([1., 2.])
    """
    if isinstance(x, Tracer):
        return x
    return array_from_sequence(x) if holds_tracer(x) else np.asarray(x)


_primitive.install_sequence_conversion(as_operand)
