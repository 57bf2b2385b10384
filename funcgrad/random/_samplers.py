"""Samplers: JAX's algorithms, written in funcgrad ops on the random bits of :mod:`._keys`.

Each follows ``jax.random`` step by step (the same bits, the same float tricks), so
``uniform`` is bit-identical to JAX's, ``normal`` (``sqrt(2) * erf_inv(u)`` with XLA's
``erf_inv``, :mod:`._erf_inv`) is too in float32 and within 3 ulp in float64, and the
other transcendental samplers differ only by the last-bit accuracy of the special
functions.  Floating samplers default to ``float64`` (NumPy's default; JAX's with
``jax_enable_x64``); ``randint`` defaults to ``int64``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad._core.dtypes import finfo, is_complex, is_floating
from funcgrad._core.trace import Tracer
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops import elementwise as ew
from funcgrad.ops import misc, special
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.random._erf_inv import erf_inv
from funcgrad.random._keys import (
    UINT_DTYPES,
    PRNGKey,  # noqa: F401 - the examples below use it
    canonical_shape,
    check_key,
    random_bits,
    split,
    where,
)

Array = Any
_F64, _I64 = np.dtype(np.float64), np.dtype(np.int64)


# -- argument checks -------------------------------------------------------------------
def _float_dtype(name: str, dtype, complex_ok: bool = False) -> np.dtype:
    try:
        dt = _F64 if dtype is None else np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"{name}: dtype must be a floating dtype, got {dtype!r}{where()}") from None
    if not (is_floating(dt) or (complex_ok and is_complex(dt))):
        kinds = "a floating or complex" if complex_ok else "a floating"
        raise DTypeError(f"{name}: dtype must be {kinds} dtype, got {dt}{where()}")
    return dt


def _as_array(x):
    return x if isinstance(x, (np.ndarray, Tracer)) else np.asarray(x)


def _check_shapes(name: str, shape: tuple, *param_shapes) -> None:
    """The parameters broadcast to ``shape`` exactly (JAX's ``_check_shape``)."""
    try:
        ok = np.broadcast_shapes(shape, *param_shapes) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"{name}: parameter shapes {', '.join(map(str, param_shapes))} must "
                         f"broadcast to the shape argument {shape}{where()}")


def _shape_or_params(name: str, shape, *params) -> tuple[int, ...]:
    """``shape`` checked against the parameters' shapes, or their broadcast shape when ``None``."""
    shapes = [tuple(shape_of(p)) for p in params]
    if shape is None:
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            raise ShapeError(f"{name}: parameter shapes {', '.join(map(str, shapes))} do not "
                             f"broadcast together{where()}") from None
    shape = canonical_shape(name, shape)
    _check_shapes(name, shape, *shapes)
    return shape


def _check_mode(name: str, mode, modes=("low", "high")) -> str:
    mode = "low" if mode is None else mode
    if mode not in modes:
        raise ArgumentError(f"{name}: mode must be one of {modes}, got {mode!r}{where()}")
    return mode


def _axis(name: str, axis, ndim: int) -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{name}: axis {axis} is out of bounds for an array of rank {ndim}{where()}")
    return axis % ndim


# -- uniform floats --------------------------------------------------------------------
def _uniform(key, shape: tuple, dtype: np.dtype, minval, maxval, name: str) -> Array:
    """Random mantissa bits under the exponent of 1.0, minus 1, scaled: JAX's ``_uniform``."""
    minval, maxval = misc.astype(minval, dtype), misc.astype(maxval, dtype)
    _check_shapes(name, shape, tuple(shape_of(minval)), tuple(shape_of(maxval)))
    info = finfo(dtype)
    nbits, nmant = int(info.bits), int(info.nmant)
    if nbits not in UINT_DTYPES:
        raise DTypeError(f"{name}: {nbits}-bit floats are not supported ({dtype}){where()}")
    rng_bits = 8 if nmant < 8 else nbits
    uint = UINT_DTYPES[nbits]
    bits = random_bits(key, rng_bits, shape)
    if rng_bits != nbits:
        bits = misc.astype(bits, uint)
    one = np.array(1.0, dtype).view(uint)
    mantissa = ew.bitwise_or(ew.right_shift(bits, uint.type(rng_bits - nmant)), one)
    floats = misc.bitcast_convert_type(mantissa, dtype) - np.array(1.0, dtype)
    span = maxval - minval
    # XLA's CPU backend fuses ``floats * span + minval`` into one fused multiply-add (one
    # rounding), NumPy has none: float32 computes it in float64 (the product is exact, the sum
    # rounds once more: the same float32 except in ties rarer than 2**-29), float64 emulates
    # it exactly.  float16 rounds after each op, in XLA too.  The derivative is the plain one's.
    plain = floats * span + minval
    if _one_rounding(minval, span):
        pass  # the product is exact or nothing is added: plain is the fused result already
    elif nbits == 32:
        wide = misc.astype(floats, _F64) * misc.astype(span, _F64) + misc.astype(minval, _F64)
        plain = plain + misc.stop_gradient(misc.astype(wide, dtype) - plain)
    elif nbits == 64:
        fused = _fma64(floats, misc.stop_gradient(span), misc.stop_gradient(minval))
        plain = plain + misc.stop_gradient(ew.where(ew.isfinite(fused), fused - plain, 0.0))
    return ew.maximum(minval, plain)


def _one_rounding(minval, span) -> bool:
    """Whether ``floats * span + minval`` rounds once: concrete bounds with ``minval == 0`` or a
    power-of-two ``span`` (the defaults, and ``normal``'s ``(-1 + 2**-53, 1)`` whose span is 2)."""
    concrete = (np.ndarray, np.generic)
    if not (isinstance(minval, concrete) and isinstance(span, concrete)):
        return False
    return not np.any(minval) or bool(np.all((np.frexp(span)[0] == 0.5) | (span == 0)))


# -- an exact fused multiply-add for float64 (Boldo & Melquiond 2008, "Emulation of FMA and
# correctly rounded sums: proved algorithms using rounding to odd", Algorithm 5) --------------
def _two_sum(a, b):
    """``s + e == a + b`` exactly, ``s = fl(a + b)`` (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    """``p + e == a * b`` exactly, ``p = fl(a * b)`` (Dekker, with Veltkamp's splitting)."""
    def halves(x):
        t = 134217729.0 * x  # 2**27 + 1
        hi = t - (t - x)
        return hi, x - hi

    p = a * b
    (ah, al), (bh, bl) = halves(a), halves(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma64(a, b, c):
    """``a * b + c`` with one rounding (non-finite where the splitting overflows)."""
    uh, ul = _two_prod(a, b)
    th, tl = _two_sum(c, uh)
    v, w = _two_sum(tl, ul)  # v rounded to odd: the odd neighbour of v + w when inexact
    even = ew.equal(ew.bitwise_and(misc.bitcast_convert_type(v, np.uint64), np.uint64(1)), 0)
    toward = ew.nextafter(v, ew.where(ew.greater(w, 0), np.inf, -np.inf))
    return th + ew.where(ew.logical_and(ew.not_equal(w, 0), even), toward, v)


def uniform(key, shape: int | Sequence[int] = (), dtype=None, minval=0.0, maxval=1.0) -> Array:
    """Uniform floats in ``[minval, maxval)``; bit-identical to ``jax.random.uniform``.

    ``dtype`` defaults to ``float64``.  ``minval`` and ``maxval`` broadcast to ``shape``
    and may be traced (the result is differentiable in them).

    Examples:
        >>> uniform(PRNGKey(0), (2,))
        array([0.41845711, 0.21629545])
    """
    key = check_key("uniform", key)
    shape = canonical_shape("uniform", shape)
    return _uniform(key, shape, _float_dtype("uniform", dtype), minval, maxval, "uniform")


# -- normal and its relatives ----------------------------------------------------------
def _normal_real(key, shape: tuple, dtype: np.dtype) -> Array:
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = _uniform(key, shape, dtype, lo, 1.0, "normal")
    return np.array(np.sqrt(2), dtype) * erf_inv(u)


def normal(key, shape: int | Sequence[int] = (), dtype=None) -> Array:
    """Standard normal samples: ``sqrt(2) * erf_inv(u)`` with ``u`` uniform in ``(-1, 1)``, as JAX.

    ``erf_inv`` is XLA's approximation: float32 (and float16, bfloat16) samples are
    ``jax.random.normal``'s bit for bit, float64 ones within 3 ulp.

    A complex ``dtype`` gives ``(re + 1j * im) / sqrt(2)`` from two split keys.

    Examples:
        >>> normal(PRNGKey(0), (2,)).shape
        (2,)
    """
    key = check_key("normal", key)
    shape = canonical_shape("normal", shape)
    dtype = _float_dtype("normal", dtype, complex_ok=True)
    if not is_complex(dtype):
        return _normal_real(key, shape, dtype)
    real = np.zeros((), dtype).real.dtype
    keys = split(key)
    re = misc.astype(_normal_real(keys[0], shape, real), dtype)
    im = misc.astype(_normal_real(keys[1], shape, real), dtype)
    return (re + 1j * im) / np.array(np.sqrt(2), dtype)


def truncated_normal(key, lower, upper, shape: int | Sequence[int] | None = None,
                     dtype=None) -> Array:
    """Normal samples conditioned on ``lower < x < upper`` (inverse-CDF, as JAX; differentiable in the bounds).

    Examples:
        >>> x = truncated_normal(PRNGKey(0), -1.0, 1.0, (1000,))
        >>> bool((x > -1).all() and (x < 1).all())
        True
    """
    key = check_key("truncated_normal", key)
    dtype = _float_dtype("truncated_normal", dtype)
    shape = _shape_or_params("truncated_normal", shape, lower, upper)
    sqrt2 = np.array(np.sqrt(2), dtype)
    lower, upper = misc.astype(lower, dtype), misc.astype(upper, dtype)
    a, b = special.erf(lower / sqrt2), special.erf(upper / sqrt2)
    out = sqrt2 * erf_inv(_uniform(key, shape, dtype, a, b, "truncated_normal"))
    # Rounding may land on a bound: clamp into the open interval (as JAX).
    lo = ew.nextafter(misc.stop_gradient(lower), np.array(np.inf, dtype))
    hi = ew.nextafter(misc.stop_gradient(upper), np.array(-np.inf, dtype))
    return ew.minimum(hi, ew.maximum(lo, out))


def multivariate_normal(key, mean, cov, shape: int | Sequence[int] | None = None, dtype=None,
                        method: str = "cholesky") -> Array:
    """Samples of ``N(mean, cov)``: ``mean + factor @ normal(...)`` with ``factor factorᵀ = cov``.

    ``method`` is ``"cholesky"`` (default), ``"eigh"`` or ``"svd"`` (the last two take a
    singular ``cov``).  The result has shape ``shape + mean.shape[-1:]``.

    Examples:
        >>> multivariate_normal(PRNGKey(0), np.zeros(2), np.eye(2), (3,)).shape
        (3, 2)
    """
    from funcgrad.numpy import linalg

    key = check_key("multivariate_normal", key)
    if method not in ("svd", "eigh", "cholesky"):
        raise ArgumentError("multivariate_normal: method must be 'svd', 'eigh' or 'cholesky', "
                            f"got {method!r}{where()}")
    mean, cov = _as_array(mean), _as_array(cov)
    common = np.result_type(dtype_of(mean), dtype_of(cov))
    common = common if is_floating(common) else _F64
    mean, cov = misc.astype(mean, common), misc.astype(cov, common)
    dtype = common if dtype is None else _float_dtype("multivariate_normal", dtype)
    ms, cs = tuple(shape_of(mean)), tuple(shape_of(cov))
    if len(ms) < 1 or len(cs) < 2 or cs[-2:] != (ms[-1], ms[-1]):
        raise ShapeError(f"multivariate_normal: needs mean of shape (..., n) and cov of shape "
                         f"(..., n, n), got mean {ms} and cov {cs}{where()}")
    if shape is None:
        try:
            shape = np.broadcast_shapes(ms[:-1], cs[:-2])
        except ValueError:
            raise ShapeError(f"multivariate_normal: batch shapes of mean {ms} and cov {cs} do "
                             f"not broadcast{where()}") from None
    else:
        shape = canonical_shape("multivariate_normal", shape)
        _check_shapes("multivariate_normal", shape, ms[:-1], cs[:-2])
    if method == "svd":
        u, s, _ = linalg.svd(cov)
        factor = u * ew.sqrt(s[..., None, :])
    elif method == "eigh":
        w, v = linalg.eigh(cov)
        factor = v * ew.sqrt(w[..., None, :])
    else:
        factor = linalg.cholesky(cov)
    samples = normal(key, shape + ms[-1:], dtype)
    from funcgrad.ops.linalg import einsum

    return mean + einsum("...ij,...j->...i", factor, samples)


# -- samplers built on uniform ---------------------------------------------------------
def exponential(key, shape: int | Sequence[int] = (), dtype=None) -> Array:
    """Exponential(1) samples: ``-log1p(-u)``, as JAX.

    Examples:
        >>> bool((exponential(PRNGKey(0), (100,)) >= 0).all())
        True
    """
    key = check_key("exponential", key)
    shape = canonical_shape("exponential", shape)
    u = _uniform(key, shape, _float_dtype("exponential", dtype), 0.0, 1.0, "exponential")
    return -ew.log1p(-u)


def _gumbel(key, shape: tuple, dtype: np.dtype, mode: str) -> Array:
    info = finfo(dtype)
    if mode == "high":  # two uniforms make the low end of u finer (JAX's mode="high")
        u = _uniform(key, (2,) + shape, dtype, 0.0, 1.0, "gumbel")
        high, low = u[0], u[1]
        x = ew.where(high >= 0.5, high, high + 2.0 ** -int(info.nmant) * low + info.tiny)
        return -ew.log(-ew.log1p(-x))
    return -ew.log(-ew.log(_uniform(key, shape, dtype, info.tiny, 1.0, "gumbel")))


def gumbel(key, shape: int | Sequence[int] = (), dtype=None, mode: str | None = None) -> Array:
    """Standard Gumbel samples ``-log(-log(u))``; ``mode="high"`` uses two uniforms per sample (as JAX).

    Examples:
        >>> gumbel(PRNGKey(0), (3,)).shape
        (3,)
    """
    key = check_key("gumbel", key)
    shape = canonical_shape("gumbel", shape)
    return _gumbel(key, shape, _float_dtype("gumbel", dtype), _check_mode("gumbel", mode))


def bernoulli(key, p=0.5, shape: int | Sequence[int] | None = None, mode: str = "low") -> Array:
    """Booleans that are True with probability ``p`` (``uniform < p``, as JAX); shape defaults to ``p``'s.

    Examples:
        >>> bernoulli(PRNGKey(0), 0.5, (4,)).dtype
        dtype('bool')
    """
    key = check_key("bernoulli", key)
    mode = _check_mode("bernoulli", mode)
    p = _as_array(p) if isinstance(p, (np.ndarray, Tracer, list, tuple)) else p
    dtype = np.dtype(dtype_of(p))
    if not is_floating(dtype):
        raise DTypeError(f"bernoulli: the probability p must be floating, got {dtype}{where()}")
    shape = _shape_or_params("bernoulli", shape, p)
    if mode == "high":
        u = _uniform(key, (2,) + shape, dtype, 0.0, 1.0, "bernoulli")
        return u[1] * 2.0 ** -int(finfo(dtype).nmant) < p - u[0]
    return _uniform(key, shape, dtype, 0.0, 1.0, "bernoulli") < p


def categorical(key, logits, axis: int = -1, shape: int | Sequence[int] | None = None,
                replace: bool = True, mode: str | None = None) -> Array:
    """Indices drawn with probabilities ``softmax(logits, axis)`` (Gumbel max; top-k without replacement).

    Examples:
        >>> int(categorical(PRNGKey(0), np.log(np.array([0.0, 1.0, 0.0]) + 1e-30)))
        1
    """
    from funcgrad.ops import reductions
    from funcgrad.ops import shape as shape_ops

    key = check_key("categorical", key)
    mode = _check_mode("categorical", mode)
    logits = _as_array(logits)
    dtype, ls = np.dtype(dtype_of(logits)), tuple(shape_of(logits))
    if not is_floating(dtype):
        raise DTypeError(f"categorical: logits must be floating, got {dtype}{where()}")
    if not ls:
        raise ShapeError(f"categorical: logits must have at least one axis, got shape (){where()}")
    ax = _axis("categorical", axis, len(ls))
    batch = ls[:ax] + ls[ax + 1:]
    shape = batch if shape is None else canonical_shape("categorical", shape)
    _check_shapes("categorical", shape, batch)
    prefix = shape[:len(shape) - len(batch)]
    if replace:
        gshape = shape[len(prefix):len(prefix) + ax] + ls[ax:ax + 1] + shape[len(prefix) + ax:]
        g = _gumbel(key, prefix + gshape, dtype, mode)
        lifted = shape_ops.reshape(logits, (1,) * len(prefix) + ls)
        return reductions.argmax(g + lifted, axis=ax - len(ls))
    k = math.prod(prefix)
    if k > ls[ax]:
        raise ShapeError(f"categorical: {k} samples without replacement exceed the {ls[ax]} "
                         f"categories{where()}")
    perturbed = shape_ops.moveaxis(logits + _gumbel(key, ls, dtype, mode), ax, -1)
    top = _top_k_indices(perturbed, k)  # batch + (k,)
    return shape_ops.reshape(shape_ops.moveaxis(top, -1, 0), shape)


def _top_k_indices(x, k: int) -> Array:
    """Indices of the ``k`` largest along the last axis, largest first, ties by index (``lax.top_k``)."""
    from funcgrad.ops.sorting import argsort

    return argsort(-x, axis=-1)[..., :k]  # argsort is stable


# -- integers and permutations ---------------------------------------------------------
def _clip_convert(val, dtype: np.dtype) -> Array:
    """``val`` (integer) in ``dtype``, clipped to its range instead of wrapping (JAX's helper)."""
    have = np.dtype(dtype_of(val))
    lo = max(np.iinfo(dtype).min, np.iinfo(have).min)
    hi = min(np.iinfo(dtype).max, np.iinfo(have).max)
    return misc.astype(ew.minimum(ew.maximum(val, have.type(lo)), have.type(hi)), dtype)


def _rem(x, span):
    """``x % span`` for unsigned integers, ``x`` where ``span == 0`` (XLA's ``rem``)."""
    zero = ew.equal(span, 0)
    return ew.where(zero, x, ew.mod(x, ew.where(zero, span.dtype.type(1), span)))


def _randint(key, shape: tuple, minval, maxval, dtype: np.dtype) -> Array:
    """JAX's ``_randint``: two words of bits per value, reduced modulo the span."""
    minval, maxval = _as_array(minval), _as_array(maxval)
    _check_shapes("randint", shape, tuple(shape_of(minval)), tuple(shape_of(maxval)))
    if np.dtype(dtype_of(minval)).kind not in "iu":
        minval = misc.astype(minval, _I64)
    if np.dtype(dtype_of(maxval)).kind not in "iu":
        maxval = misc.astype(maxval, _I64)
    top = _clip_convert(np.array(np.iinfo(dtype).max, dtype), np.dtype(dtype_of(maxval)))
    out_of_range = ew.greater(maxval, top)
    minval, maxval = _clip_convert(minval, dtype), _clip_convert(maxval, dtype)
    nbits = np.iinfo(dtype).bits
    unsigned = UINT_DTYPES[nbits]
    keys = split(key)
    higher, lower = random_bits(keys[0], nbits, shape), random_bits(keys[1], nbits, shape)
    with np.errstate(over="ignore"):  # integer arithmetic wraps, as in XLA
        span = misc.astype(maxval - minval, unsigned)
        one = unsigned.type(1)
        span = ew.where(ew.less_equal(maxval, minval), one, span)
        span = ew.where(ew.logical_and(out_of_range, ew.greater(maxval, minval)), span + one, span)
        multiplier = _rem(unsigned.type(2 ** (nbits // 2)), span)
        multiplier = _rem(multiplier * multiplier, span)
        offset = _rem(_rem(higher, span) * multiplier + _rem(lower, span), span)
        return minval + misc.astype(offset, dtype)


def randint(key, shape: int | Sequence[int], minval, maxval, dtype=None) -> Array:
    """Integers in ``[minval, maxval)`` (JAX's algorithm: modulo of two random words, slightly biased).

    ``dtype`` defaults to ``int64``; 8- and 16-bit dtypes are sampled in 32 bits.

    Examples:
        >>> randint(PRNGKey(0), (3,), 0, 10).dtype
        dtype('int64')
    """
    key = check_key("randint", key)
    shape = canonical_shape("randint", shape)
    try:
        dtype = _I64 if dtype is None else np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"randint: dtype must be an integer dtype, got {dtype!r}{where()}") from None
    if dtype.kind not in "iu" or dtype.itemsize * 8 not in UINT_DTYPES:
        raise DTypeError(f"randint: dtype must be an integer dtype, got {dtype}{where()}")
    info = np.iinfo(dtype)
    if info.bits >= 32:
        return _randint(key, shape, minval, maxval, dtype)
    i32 = np.dtype(np.int32)
    minval = ew.clip(misc.astype(_as_array(minval), i32), i32.type(info.min), i32.type(info.max))
    maxval = ew.clip(misc.astype(_as_array(maxval), i32), i32.type(info.min), i32.type(info.max + 1))
    return misc.astype(_randint(key, shape, minval, maxval, i32), dtype)


def _shuffle(key, x, axis: int) -> Array:
    """Sort by fresh random 32-bit keys, enough rounds that ties are unlikely (JAX's ``_shuffle``)."""
    from funcgrad.numpy import take_along_axis
    from funcgrad.ops.sorting import argsort

    xs = tuple(shape_of(x))
    rounds = int(np.ceil(3 * np.log(max(1, math.prod(xs))) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keys = split(key)
        key, subkey = keys[0], keys[1]
        order = argsort(random_bits(subkey, 32, xs), axis=axis)  # stable, as lax.sort_key_val
        x = take_along_axis(x, order, axis)
    return x


def permutation(key, x, axis: int = 0, independent: bool = False) -> Array:
    """A random permutation of ``arange(x)`` (int ``x``) or of ``x`` along ``axis`` (rows together,
    or each slice on its own with ``independent=True``).

    Examples:
        >>> sorted(permutation(PRNGKey(0), 5).tolist())
        [0, 1, 2, 3, 4]
    """
    from funcgrad.ops.indexing import take

    key = check_key("permutation", key)
    x = _as_array(x)
    xs = tuple(shape_of(x))
    if not xs:
        if np.dtype(dtype_of(x)).kind not in "iu":
            raise ArgumentError(f"permutation: x must be an integer or an array of at least one "
                                f"axis, got a 0-d {dtype_of(x)}{where()}")
        return _shuffle(key, np.arange(int(x), dtype=_I64), 0)
    axis = _axis("permutation", axis, len(xs))
    if independent or len(xs) == 1:
        return _shuffle(key, x, axis)
    return take(x, _shuffle(key, np.arange(xs[axis], dtype=_I64), 0), axis=axis)


def choice(key, a, shape: int | Sequence[int] = (), replace: bool = True, p=None, axis: int = 0,
           mode: str | None = None) -> Array:
    """Samples from ``a`` (an array, or ``arange(a)`` for an int), with or without replacement,
    uniformly or with probabilities ``p`` (JAX's algorithms).

    Examples:
        >>> choice(PRNGKey(0), 5, (3,), replace=False).shape
        (3,)
    """
    from funcgrad.ops import reductions
    from funcgrad.ops import shape as shape_ops
    from funcgrad.ops.indexing import take
    from funcgrad.ops.sorting import searchsorted

    key = check_key("choice", key)
    shape = canonical_shape("choice", shape)
    arr = _as_array(a)
    ashape = tuple(shape_of(arr))
    if not ashape:
        n_inputs = operator.index(a if isinstance(a, int) else np.asarray(arr).item())
    else:
        axis = _axis("choice", axis, len(ashape))
        n_inputs = ashape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return np.zeros(shape, dtype=dtype_of(arr))
    if n_inputs <= 0:
        raise ShapeError(f"choice: a must be greater than 0 unless no samples are taken{where()}")
    if not replace and n_draws > n_inputs:
        raise ShapeError(f"choice: cannot take a larger sample (size {n_draws}) than the "
                         f"population (size {n_inputs}) when replace=False{where()}")
    if p is None:
        if replace:
            ind = randint(key, shape, 0, n_inputs)
            result = ind if not ashape else take(arr, ind, axis=axis)
        else:
            perm = permutation(key, n_inputs if not ashape else arr, axis if ashape else 0)
            result = perm[(slice(None),) * (axis if ashape else 0) + (slice(n_draws),)]
    else:
        p = _as_array(p)
        pdt = np.dtype(dtype_of(p))
        p = p if is_floating(pdt) else misc.astype(p, _F64)
        if tuple(shape_of(p)) != (n_inputs,):
            raise ShapeError(f"choice: p must be None or a 1-D vector of the population size "
                             f"{n_inputs}, got shape {tuple(shape_of(p))}{where()}")
        pdt = np.dtype(dtype_of(p))
        if replace:
            cumulative = reductions.cumsum(p)
            r = cumulative[-1] * (1 - _uniform(key, shape, pdt, 0.0, 1.0, "choice"))
            ind = misc.astype(searchsorted(cumulative, r), _I64)
        else:
            g = _gumbel(key, (n_inputs,), pdt, _check_mode("choice", mode)) + ew.log(p)
            ind = misc.astype(_top_k_indices(g, n_draws), _I64)
        result = ind if not ashape else take(arr, ind, axis=axis)
    out_shape = shape if not ashape else ashape[:axis] + shape + ashape[axis + 1:]
    return shape_ops.reshape(result, out_shape)
