"""Op-table rows for ``fnp.fft``: one record per function (``tests/op_table.py`` imports this file).

The generated tests feed real arrays and compare real outputs, so a complex result is
returned as the pair ``(real, imag)`` and a complex input is built from two real
arguments, ``x + 1j * y``: the gradient tests then differentiate along the real and the
imaginary directions of the input separately.  Each record uses a different ``n``/``s``,
``axis``/``axes`` or ``norm``, so that cropping, zero-padding, axis orders and the three
norms all meet every generated test; ``tests/test_fft.py`` covers the rest.
"""

import numpy as np
from op_table import F32, F64, POSITIVE, fixed, op, same

import funcgrad.numpy as fnp

FFT_TOL = {F64: (1e-12, 1e-12), F32: (1e-4, 1e-5)}


def _parts(z):
    return fnp.real(z), fnp.imag(z)


def _np_parts(z):
    return np.real(z), np.imag(z)


def fft_op(name, fun, ref, shapes, *, complex_in=False, complex_out=True, **kw):
    """A row for ``fun(x)`` (real input) or ``fun(x + 1j * y)`` (``complex_in``)."""
    out, np_out = (_parts, _np_parts) if complex_out else (lambda z: z, lambda z: z)
    if complex_in:
        op(name, lambda x, y: out(fun(x + 1j * y)), lambda x, y: np_out(ref(x + 1j * y)),
           shapes.map(lambda s: (s[0], s[0])), nargs=2, kind="fft", tol=FFT_TOL, **kw)
    else:
        op(name, lambda x: out(fun(x)), lambda x: np_out(ref(x)), shapes, kind="fft", tol=FFT_TOL,
           **kw)


def _both(fn: str, **kw):
    """``fnp.fft.<fn>`` and ``numpy.fft.<fn>`` with the same keyword arguments."""
    return (lambda z: getattr(fnp.fft, fn)(z, **kw)), (lambda z: getattr(np.fft, fn)(z, **kw))


_1D, _2D = same(min_dims=1), same(min_dims=2)
_HALF = same(min_dims=1, min_side=2)  # a half spectrum of at least two frequencies (n >= 2)

fft_op("fft.fft", *_both("fft"), _1D, complex_in=True)
fft_op("fft.ifft[n=2,axis=0,ortho]", *_both("ifft", n=2, axis=0, norm="ortho"), _1D, complex_in=True)
fft_op("fft.rfft[forward]", *_both("rfft", norm="forward"), _1D)
fft_op("fft.irfft", *_both("irfft"), _HALF, complex_in=True, complex_out=False)
fft_op("fft.hfft[n=5,ortho]", *_both("hfft", n=5, norm="ortho"), _1D, complex_in=True,
       complex_out=False)
fft_op("fft.ihfft[n=4,axis=0]", *_both("ihfft", n=4, axis=0), _1D)
fft_op("fft.fft2[s=(2,3)]", *_both("fft2", s=(2, 3)), _2D, complex_in=True)
fft_op("fft.ifft2[forward]", *_both("ifft2", norm="forward"), _2D, complex_in=True)
fft_op("fft.rfft2", *_both("rfft2"), _2D)
fft_op("fft.irfft2[s=(3,4)]", *_both("irfft2", s=(3, 4)), _2D, complex_in=True, complex_out=False)
fft_op("fft.fftn", *_both("fftn"), _1D, complex_in=True)
fft_op("fft.ifftn[axes=(-1,0),ortho]", *_both("ifftn", axes=(-1, 0), norm="ortho"), _2D,
       complex_in=True)
fft_op("fft.rfftn[s=(3,2),axes=(-1,0)]", *_both("rfftn", s=(3, 2), axes=(-1, 0)), _2D)
fft_op("fft.irfftn[s=(2,4),axes=(0,1),ortho]", *_both("irfftn", s=(2, 4), axes=(0, 1), norm="ortho"),
       _2D, complex_in=True, complex_out=False)
fft_op("fft.fftshift", *_both("fftshift"), _1D, complex_out=False)
fft_op("fft.ifftshift[axes=0]", *_both("ifftshift", axes=0), _1D, complex_out=False)
# The sample frequencies are constants divided by the sample spacing d: differentiable in d.
op("fft.fftfreq[n=5]", lambda d: fnp.fft.fftfreq(5, d), lambda d: np.fft.fftfreq(5, d), fixed(()),
   POSITIVE, kind="fft")
op("fft.rfftfreq[n=6]", lambda d: fnp.fft.rfftfreq(6, d), lambda d: np.fft.rfftfreq(6, d), fixed(()),
   POSITIVE, kind="fft")
