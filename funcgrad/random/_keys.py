"""Keys: making them from seeds, splitting, folding data in, and raw random bits.

A key is a ``uint32[2]`` array (JAX's raw ``key_data``).  Every function here is
written in funcgrad ops on top of the :func:`~funcgrad.ops.random_bits.threefry2x32`
primitive, following JAX's default ``threefry2x32`` implementation with
``jax_threefry_partitionable=True`` (the default since JAX 0.5 and in 0.10.2), so the
numbers are JAX's bit for bit, and the same eagerly, under ``jit`` and under ``vmap``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad._core.trace import Tracer, user_location
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.random_bits import threefry2x32
from funcgrad.ops.shape import stack

Array = Any  # a NumPy array or a traced value
_U32, _U64 = np.dtype(np.uint32), np.dtype(np.uint64)
UINT_DTYPES = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: _U32, 64: _U64}


def where() -> str:
    """`` at file:line`` of the user's call (for error messages), or ``""``."""
    loc = user_location()
    return f" at {loc[0]}:{loc[1]}" if loc else ""


def check_key(name: str, key) -> Array:
    """``key`` as an array (or tracer) if it is one ``uint32[2]`` key; a clear error otherwise."""
    if not isinstance(key, (np.ndarray, Tracer)):
        if isinstance(key, (np.generic, list, tuple)):
            key = np.asarray(key)
        else:
            raise ArgumentError(f"{name}: expected a key (a uint32[2] array from funcgrad.random.key "
                                f"or PRNGKey), got {type(key).__name__}{where()}")
    dtype, shape = np.dtype(dtype_of(key)), tuple(shape_of(key))
    if dtype != _U32:
        raise DTypeError(f"{name}: a key is a uint32[2] array (from funcgrad.random.key or PRNGKey), "
                         f"got {dtype}{list(shape)}{where()}")
    if shape != (2,):
        hint = (" (a stack of keys: use funcgrad.vmap over them, or index one)"
                if len(shape) > 1 and shape[-1] == 2 else "")
        raise ShapeError(f"{name}: accepts a single key of shape (2,), got a uint32 array of "
                         f"shape {shape}{hint}{where()}")
    return key


def canonical_shape(name: str, shape, what: str = "shape") -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints (an int ``n`` means ``(n,)``)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, Sequence) or isinstance(shape, str):
        raise ArgumentError(f"{name}: {what} must be a tuple of non-negative ints, got "
                            f"{shape!r} ({type(shape).__name__}){where()}")
    try:
        out = tuple(operator.index(n) for n in shape)
    except TypeError:
        raise ArgumentError(f"{name}: {what} must be a tuple of non-negative ints, got "
                            f"{shape!r}{where()}") from None
    if any(n < 0 for n in out):
        raise ShapeError(f"{name}: {what} must be non-negative, got {out}{where()}")
    return out


# -- seeds ---------------------------------------------------------------------------
def _seed_array(name: str, seed) -> Array:
    """The seed as an integer scalar (a Python int is int64)."""
    if isinstance(seed, bool):
        raise DTypeError(f"{name}: the seed must be an integer, got a bool{where()}")
    if isinstance(seed, int):
        if not -2**63 <= seed < 2**63:  # as JAX (pass np.uint64 for the upper half)
            raise ArgumentError(f"{name}: the seed {seed} does not fit in int64{where()}")
        return np.int64(seed)
    if not isinstance(seed, Tracer):
        seed = np.asarray(seed)
    return _integer_scalar(name, "the seed", seed, "for a batch of keys")


def _integer_scalar(name: str, what: str, x, batch: str) -> Array:
    """``x`` (an array or tracer) if it is an integer scalar, else a clear error."""
    dtype, shape = np.dtype(dtype_of(x)), tuple(shape_of(x))
    if shape != ():
        raise ShapeError(f"{name}: {what} must be a scalar, got an array of shape {shape} "
                         f"(use funcgrad.vmap {batch}){where()}")
    if dtype.kind not in "iu":
        raise DTypeError(f"{name}: {what} must be an integer, got {dtype}{where()}")
    return x


def _seed_to_key(name: str, seed) -> Array:
    """JAX's ``threefry_seed``: the high and low 32 bits of the seed (high 0 for a narrow seed)."""
    seed = _seed_array(name, seed)
    if np.dtype(dtype_of(seed)).itemsize == 8:
        bits = misc.bitcast_convert_type(seed, _U64) if np.dtype(dtype_of(seed)).kind == "i" else seed
        hi = misc.astype(ew.right_shift(bits, np.uint64(32)), _U32)
        lo = misc.astype(ew.bitwise_and(bits, np.uint64(0xFFFFFFFF)), _U32)
    else:  # a 32-bit (or narrower) seed: JAX shifts it right by 32, which gives 0
        hi = np.zeros((), _U32)
        lo = misc.astype(seed, _U32)  # two's complement: -1 is 0xFFFFFFFF, as JAX's mask gives
    return stack([hi, lo])


def key(seed) -> Array:
    """A key from an integer seed: a ``uint32[2]`` array, equal to ``jax.random.key_data(jax.random.key(seed))``.

    funcgrad has one key type: ``key`` and :func:`PRNGKey` return the same array.
    A Python int seed is taken as int64, as JAX with ``jax_enable_x64`` does (seeds in
    ``[0, 2**31)`` give the same key in both of JAX's modes).  The seed may be traced.

    Examples:
        >>> key(42)
        array([ 0, 42], dtype=uint32)
    """
    return _seed_to_key("key", seed)


def PRNGKey(seed) -> Array:
    """A key from an integer seed: the same ``uint32[2]`` array as :func:`key` (JAX's legacy name).

    Examples:
        >>> PRNGKey(0)
        array([0, 0], dtype=uint32)
    """
    return _seed_to_key("PRNGKey", seed)


def key_data(keys) -> Array:
    """The ``uint32`` data of keys: funcgrad keys are that data already, so this is the identity.

    Examples:
        >>> key_data(key(1))
        array([0, 1], dtype=uint32)
    """
    return keys


def wrap_key_data(key_bits_array) -> Array:
    """Keys from their ``uint32[..., 2]`` data: the identity (checked), for code ported from JAX.

    Examples:
        >>> wrap_key_data(np.array([0, 1], np.uint32))
        array([0, 1], dtype=uint32)
    """
    data = key_bits_array if isinstance(key_bits_array, Tracer) else np.asarray(key_bits_array)
    dtype, shape = np.dtype(dtype_of(data)), tuple(shape_of(data))
    if dtype != _U32 or not shape or shape[-1] != 2:
        raise DTypeError(f"wrap_key_data: key data must be uint32[..., 2], got {dtype}{list(shape)}"
                         f"{where()}")
    return data


# -- split, fold_in, bits ------------------------------------------------------------
def iota_2x32(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The row-major index of each element of ``shape`` as 64 bits: ``(high words, low words)``."""
    counts = np.arange(math.prod(shape), dtype=np.uint64).reshape(shape)
    return (counts >> np.uint64(32)).astype(_U32), counts.astype(_U32)


def _hash_counts(key, shape: tuple[int, ...]) -> Array:
    """``threefry2x32`` of every element's 64-bit index under ``key``: ``uint32[*shape, 2]``."""
    if math.prod(shape) >= 2**64:
        raise ShapeError(f"random bits: {shape} has more than 2**64 elements{where()}")
    hi, lo = iota_2x32(shape)
    return threefry2x32(key[0], key[1], hi, lo)


def split(key, num: int | Sequence[int] = 2) -> Array:
    """``num`` new keys from ``key`` (a shape ``num + (2,)`` array; ``num`` may be a tuple).

    Examples:
        >>> split(key(42))
        array([[1832780943,  270669613],
               [  64467757, 2916123636]], dtype=uint32)
    """
    key = check_key("split", key)
    return _hash_counts(key, canonical_shape("split", num, "num"))


def fold_in(key, data) -> Array:
    """A new key from ``key`` and a 32-bit integer ``data`` (e.g. a step number; may be traced).

    Examples:
        >>> fold_in(key(0), 1)
        array([ 928981903, 3453687069], dtype=uint32)
    """
    key = check_key("fold_in", key)
    if isinstance(data, bool) or not isinstance(data, (int, np.integer, np.ndarray, Tracer)):
        raise DTypeError(f"fold_in: data must be an integer, got {type(data).__name__}{where()}")
    if isinstance(data, int):
        if not 0 <= data < 2**32:  # as JAX; an integer array is taken modulo 2**32
            raise ArgumentError(f"fold_in: data {data} is not in [0, 2**32){where()}")
        data = np.uint32(data)
    data = _integer_scalar("fold_in", "data", data, "to fold in a batch")
    return threefry2x32(key[0], key[1], np.uint32(0), misc.astype(data, _U32))


def random_bits(key, bit_width: int, shape: tuple[int, ...]) -> Array:
    """``bit_width``-bit unsigned random integers of ``shape`` (JAX's partitionable threefry bits)."""
    words = _hash_counts(key, shape)
    hi, lo = words[..., 0], words[..., 1]
    if bit_width == 64:
        return ew.bitwise_or(ew.left_shift(misc.astype(hi, _U64), np.uint64(32)), misc.astype(lo, _U64))
    bits = ew.bitwise_xor(hi, lo)
    return bits if bit_width == 32 else misc.astype(bits, UINT_DTYPES[bit_width])


def bits(key, shape: int | Sequence[int] = (), dtype=np.uint32) -> Array:
    """Uniformly random unsigned integers of ``shape`` and ``dtype`` (uint8, 16, 32 or 64).

    The default dtype is ``uint32`` (JAX's without ``jax_enable_x64``); pass
    ``np.uint64`` for JAX's default with it.

    Examples:
        >>> bits(key(0), (2,))
        array([4070199207, 4202968722], dtype=uint32)
    """
    key = check_key("bits", key)
    shape = canonical_shape("bits", shape)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"bits: dtype must be an unsigned integer dtype, got {dtype!r}{where()}") from None
    if dtype.kind != "u" or dtype.itemsize * 8 not in UINT_DTYPES:
        raise DTypeError(f"bits: dtype must be uint8, uint16, uint32 or uint64, got {dtype}{where()}")
    return random_bits(key, dtype.itemsize * 8, shape)
