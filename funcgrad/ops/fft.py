"""Discrete Fourier transforms: one primitive, ``fft``, for the six transform kinds.

``fft_p`` transforms ``x`` over ``axes`` (distinct, non-negative) with ``norm`` in
``{"backward", "ortho", "forward"}`` (NumPy's meaning).  ``kind`` says which transform:

=========  ==============  ===========================================================
kind       types           NumPy equivalent (n-D over ``axes``)
=========  ==============  ===========================================================
fft        complex→complex ``fftn``
ifft       complex→complex ``ifftn``
rfft       real→complex    ``rfftn`` (the last axis keeps ``n // 2 + 1`` frequencies)
irfft      complex→real    ``irfftn(x, s=lengths)``
hfft       complex→real    ``irfftn(conj(x), s=lengths)`` with the norm's direction swapped
ihfft      real→complex    ``conj(rfftn(x))`` with the norm's direction swapped
=========  ==============  ===========================================================

``lengths`` are the sizes of the real-space signal along ``axes`` (the output's for
``irfft``/``hfft``, the input's otherwise).  Cropping and zero-padding to ``n``/``s``
happen in the binders (:mod:`funcgrad.numpy.fft`), with the pad and slicing ops.

Derivative rules follow JAX's complex convention: the JVP is the transform of the
tangent (it is linear); the VJP is its linear transpose *without* conjugation.  The
DFT matrix is symmetric, so ``fft`` and ``ifft`` are their own transposes.  The four
half-spectrum kinds transpose into each other, with the weights ``w`` (1 at the zero
and Nyquist frequencies, 2 in between) that count how often a stored frequency occurs
in the full Hermitian spectrum: ``rfftᵀ(c) = hfft(c / w)``, ``hfftᵀ(t) = w · rfft(t)``,
``ihfftᵀ(c) = irfft(c / w)``, ``irfftᵀ(t) = w · ihfft(t)`` (same ``norm`` each time).
So every rule is one more ``fft`` node and differentiates again.  The transposes of
``rfft`` and ``irfft`` (every real-FFT convolution's gradient runs them) are two more
kinds, ``rfft_t`` (complex→real, ``hfft(c / w)``) and ``irfft_t`` (real→complex,
``w · ihfft(t)``), whose references conjugate and weigh the spectrum in one pass
(rather than three around the transform); they transpose back to ``rfft`` and ``irfft``.

Examples:
    >>> fft_p.bind(np.array([1.0, 0.0, 0.0, 0.0]), kind="rfft", axes=(0,), lengths=(4,),
    ...            norm="backward")
    array([1.+0.j, 1.+0.j, 1.+0.j])
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops._family import dtype_of, shape_of

NORMS = ("backward", "ortho", "forward")
_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _numpy(one_axis, many_axes):
    """The reference ``f(x, s, axes, norm)``: NumPy's 1-D function for one axis (less overhead)."""
    def f(x, s, axes, norm):
        if len(axes) == 1:
            return one_axis(x, s[0], axes[0], norm)
        return many_axes(x, s, axes, norm)
    return f


def _hfftn(x, s, axes, norm):
    return np.fft.irfftn(np.conj(x), s=s, axes=axes, norm=_SWAP[norm])


def _ihfftn(x, s, axes, norm):
    return np.conj(np.fft.rfftn(x, axes=axes, norm=_SWAP[norm]))


def _conj_scaled(c, scale):
    """``conj(c) * scale`` in one pass over ``c`` (``scale``: from :func:`_conj_weights`).

    A complex array is viewed as (real, imaginary) pairs, so conjugating and scaling is
    one product with ``[scale, -scale]``; ``out=c`` scales in place.
    """
    if not c.flags.c_contiguous:
        return np.conj(c) * scale[..., 0]
    pairs = c.view(np.finfo(c.dtype).dtype).reshape(c.shape + (2,))
    return np.multiply(pairs, scale).view(c.dtype)[..., 0]


def _adjoint_of_rfft(c, s, axes, norm):
    # rfftᵀ(c) = hfft(c / w) = irfft(conj(c) / w) with the norm's direction swapped.
    scale = _conj_weights(s[-1], axes[-1], c.ndim, np.dtype(c.dtype), True)
    z = _conj_scaled(c, scale)
    if len(axes) == 1:
        return np.fft.irfft(z, s[0], axis=axes[0], norm=_SWAP[norm])
    return np.fft.irfftn(z, s=s, axes=axes, norm=_SWAP[norm])


def _adjoint_of_irfft(t, s, axes, norm):
    # irfftᵀ(t) = w · ihfft(t) = w · conj(rfft(t)) with the norm's direction swapped.
    if len(axes) == 1:
        y = np.fft.rfft(t, axis=axes[0], norm=_SWAP[norm])
    else:
        y = np.fft.rfftn(t, axes=axes, norm=_SWAP[norm])
    scale = _conj_weights(s[-1], axes[-1], y.ndim, np.dtype(y.dtype), False)
    if not y.flags.c_contiguous:
        return np.conj(y) * scale[..., 0]
    pairs = y.view(np.finfo(y.dtype).dtype).reshape(y.shape + (2,))
    np.multiply(pairs, scale, out=pairs)
    return y


#: kind -> (NumPy reference ``f(x, s, axes, norm)``, input is real, output is real).
_KINDS = {
    "fft": (_numpy(lambda x, n, ax, norm: np.fft.fft(x, axis=ax, norm=norm),
                   lambda x, s, axes, norm: np.fft.fftn(x, axes=axes, norm=norm)), False, False),
    "ifft": (_numpy(lambda x, n, ax, norm: np.fft.ifft(x, axis=ax, norm=norm),
                    lambda x, s, axes, norm: np.fft.ifftn(x, axes=axes, norm=norm)), False, False),
    "rfft": (_numpy(lambda x, n, ax, norm: np.fft.rfft(x, axis=ax, norm=norm),
                    lambda x, s, axes, norm: np.fft.rfftn(x, axes=axes, norm=norm)), True, False),
    "ihfft": (_numpy(lambda x, n, ax, norm: np.fft.ihfft(x, axis=ax, norm=norm), _ihfftn), True, False),
    "irfft": (_numpy(lambda x, n, ax, norm: np.fft.irfft(x, n, axis=ax, norm=norm),
                     lambda x, s, axes, norm: np.fft.irfftn(x, s=s, axes=axes, norm=norm)), False, True),
    "hfft": (_numpy(lambda x, n, ax, norm: np.fft.hfft(x, n, axis=ax, norm=norm), _hfftn), False, True),
    # The transposes of rfft and irfft with the weights folded into one pass (the
    # gradient of every real-FFT convolution runs them): see the module docstring.
    "rfft_t": (_adjoint_of_rfft, False, True),
    "irfft_t": (_adjoint_of_irfft, True, False),
}

#: kind -> (kind of its linear transpose, where the weights ``w`` go: "divide" the
#: cotangent before, "multiply" the result after, or None).
_TRANSPOSE = {
    "fft": ("fft", None),
    "ifft": ("ifft", None),
    "rfft": ("rfft_t", None),
    "ihfft": ("irfft", "divide"),
    "irfft": ("irfft_t", None),
    "hfft": ("rfft", "multiply"),
    "rfft_t": ("rfft", None),
    "irfft_t": ("irfft", None),
}


def _impl(x, kind, axes, lengths, norm):
    return _KINDS[kind][0](x, lengths, axes, norm)


def _out_dtype(dtype, kind) -> np.dtype:
    # The transform's precision is the input's (NumPy 2: float32 in, complex64 out).
    real_out = _KINDS[kind][2]
    complex_dtype = np.result_type(dtype, np.complex64)
    return np.finfo(complex_dtype).dtype if real_out else complex_dtype


def _aval(x, kind, axes, lengths, norm):
    shape = list(shape_of(x))
    real_in, real_out = _KINDS[kind][1:]
    if real_in and not real_out:
        shape[axes[-1]] = lengths[-1] // 2 + 1
    elif real_out and not real_in:
        shape[axes[-1]] = lengths[-1]
    return tuple(shape), _out_dtype(dtype_of(x), kind)


@lru_cache(maxsize=64)
def _half_spectrum_weights(n: int, axis: int, ndim: int, dtype: np.dtype) -> np.ndarray:
    """How often each stored frequency of a length-``n`` real signal occurs in its full spectrum.

    Cached (gradient steps ask for the same weights every time), hence read-only.
    """
    w = np.full(n // 2 + 1, 2.0, dtype=np.finfo(dtype).dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    w.flags.writeable = False
    return w.reshape((-1,) + (1,) * (ndim - 1 - axis))


@lru_cache(maxsize=64)
def _conj_weights(n: int, axis: int, ndim: int, dtype: np.dtype, divide: bool) -> np.ndarray:
    """``[v, -v]`` pairs with ``v = 1 / w`` (``divide``) or ``w``, shaped for :func:`_conj_scaled`.

    Multiplying the (real, imaginary) view of a spectrum by them conjugates it and
    scales it by ``v`` along ``axis`` in one pass.  Cached, hence read-only.
    """
    w = _half_spectrum_weights(n, axis, 1, dtype)
    v = 1.0 / w if divide else w
    pairs = np.stack([v, -v], axis=-1)
    pairs.flags.writeable = False
    return pairs.reshape((-1,) + (1,) * (ndim - 1 - axis) + (2,))


def _vjp(g, ans, x, kind, axes, lengths, norm):
    tkind, weighted = _TRANSPOSE[kind]
    if weighted is None:
        return fft_p.bind(g, kind=tkind, axes=axes, lengths=lengths, norm=norm)
    w = _half_spectrum_weights(lengths[-1], axes[-1], len(shape_of(g)), np.dtype(dtype_of(g)))
    if weighted == "divide":
        return fft_p.bind(g / w, kind=tkind, axes=axes, lengths=lengths, norm=norm)
    return fft_p.bind(g, kind=tkind, axes=axes, lengths=lengths, norm=norm) * w


def _batch(values, dims, kind, axes, lengths, norm):
    # The batch axis is not transformed: shift the transformed axes past it.
    (x,), (d,) = values, dims
    return fft_p.bind(x, kind=kind, axes=tuple(a + (a >= d) for a in axes), lengths=lengths,
                      norm=norm), d


fft_p = Primitive("fft", _impl, _aval)
fft_p.defvjp(_vjp)
fft_p.defjvp(lambda t, ans, x, **params: fft_p.bind(t, **params))
fft_p.defbatch(_batch)


def fft_transform(x, kind: str, axes: tuple[int, ...], lengths: tuple[int, ...], norm: str):
    """Bind :data:`fft_p` (arguments already checked by the binder; see the module docstring).

    Examples:
        >>> fft_transform(np.array([1.0, 1.0]), "fft", (0,), (2,), "backward")
        array([2.+0.j, 0.+0.j])
    """
    return fft_p.bind(x, kind=kind, axes=tuple(axes), lengths=tuple(lengths), norm=norm)
