"""The Threefry-2x32 hash (Salmon et al. 2011, 20 rounds), one primitive: the core of ``funcgrad.random``.

``threefry2x32(k1, k2, x1, x2)`` hashes the 64-bit counter ``(x1, x2)`` under the
64-bit key ``(k1, k2)``; all four are ``uint32`` arrays that broadcast together, and
the two output words come back stacked on a new last axis (``uint32[..., 2]``).  It
is the same function as JAX's ``threefry2x32_p``, so keys and bits built on it in
funcgrad ops (:mod:`funcgrad.random`) match JAX's bit for bit.  The reference is
vectorised NumPy with ``uint32`` wraparound; it is elementwise over the broadcast
shape, so the batching rule is the elementwise one, and it has no derivative (keys
are integer leaves).

Examples:
    >>> threefry2x32(np.uint32(0), np.uint32(42), np.uint32(0), np.uint32(0))
    array([1832780943,  270669613], dtype=uint32)
"""

from __future__ import annotations

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.errors import DTypeError, ShapeError
from funcgrad.ops._family import batch_elementwise, dtype_of, shape_of

_U32 = np.dtype(np.uint32)
#: The rotation distances of the eight rounds of one key injection cycle (Threefry-2x32).
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
#: The key-schedule parity constant of Threefish.
_PARITY = np.uint32(0x1BD11BDA)


def _rounds(x0: np.ndarray, x1: np.ndarray, rotations, tmp: np.ndarray) -> None:
    """Four mix rounds in place: ``x0 += x1; x1 = rotl(x1, r) ^ x0`` (no temporaries but ``tmp``)."""
    for r in rotations:
        np.add(x0, x1, out=x0)
        np.left_shift(x1, np.uint32(r), out=tmp)
        np.right_shift(x1, np.uint32(32 - r), out=x1)
        np.bitwise_or(x1, tmp, out=x1)
        np.bitwise_xor(x1, x0, out=x1)


def _threefry2x32_impl(k1, k2, x1, x2) -> np.ndarray:
    k1, k2, c1, c2 = (np.asarray(a) for a in (k1, k2, x1, x2))
    shape = _threefry2x32_aval(k1, k2, c1, c2)[0][:-1]
    out = np.empty(shape + (2,), _U32)
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps (NumPy warns only on scalars)
        ks = (k1, k2, k1 ^ k2 ^ _PARITY)  # unbroadcast: a single key stays a scalar
        x0 = np.broadcast_to(np.add(c1, ks[0], dtype=_U32), shape).copy()
        x1 = np.broadcast_to(np.add(c2, ks[1], dtype=_U32), shape).copy()
        tmp = np.empty(shape, _U32)
        for i in range(5):  # five cycles of four rounds, a key injection after each
            _rounds(x0, x1, _ROTATIONS[i % 2], tmp)
            np.add(x0, ks[(i + 1) % 3], out=x0)
            np.add(x1, ks[(i + 2) % 3] + np.uint32(i + 1), out=x1)
    out[..., 0], out[..., 1] = x0, x1
    return out


def _threefry2x32_aval(k1, k2, x1, x2):
    dtypes = [np.dtype(dtype_of(a)) for a in (k1, k2, x1, x2)]
    if any(d != _U32 for d in dtypes):
        raise DTypeError("threefry2x32: every operand must be uint32, got "
                         f"{', '.join(map(str, dtypes))} (keys are uint32[2] arrays)")
    shapes = [tuple(shape_of(a)) for a in (k1, k2, x1, x2)]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"threefry2x32: operand shapes {', '.join(map(str, shapes))} "
                         "cannot be broadcast together") from None
    return shape + (2,), _U32


threefry2x32_p = Primitive("threefry2x32", _threefry2x32_impl, _threefry2x32_aval,
                           differentiable=False)
# Elementwise over the broadcast operand shape; the output's extra last axis stays last.
batch_elementwise(threefry2x32_p)


def threefry2x32(k1, k2, x1, x2):
    """The Threefry-2x32 hash of counters ``(x1, x2)`` under key ``(k1, k2)``: ``uint32[..., 2]``.

    All four operands are ``uint32`` (arrays, NumPy scalars or traced values) and
    broadcast together; ``out[..., 0]`` and ``out[..., 1]`` are the two output words.

    Examples:
        >>> threefry2x32(np.uint32(0), np.uint32(0), np.arange(2, dtype=np.uint32), np.uint32(0)).shape
        (2, 2)
    """
    return threefry2x32_p.bind(k1, k2, x1, x2)
