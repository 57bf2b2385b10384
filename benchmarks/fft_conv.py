"""The FFT-convolution case: its loss, data and hand-written gradient.

``loss = ½ Σ (x ∗ h − y)²`` over the first ``n`` samples, with the linear convolution
``x ∗ h`` computed by real FFTs zero-padded to ``N ≥ n + k − 1`` (a power of two), and
differentiated with respect to the signal ``x`` (``n = 2¹⁶`` samples) and the filter
``h`` (``k = 1024`` taps).  The hand-written gradient is the textbook one: the adjoint of
a convolution is a correlation, ``∂/∂x = irfft(R · conj(H))[:n]`` and
``∂/∂h = irfft(R · conj(X))[:k]`` with ``R = rfft(residual)``: six FFTs in all, as many
as funcgrad's graph has.  ``benchmarks/run.py`` registers the case (``--case fft_conv``).
"""

from __future__ import annotations

import numpy as np

FFT_N = 2**16
FFT_N_QUICK = 2**12
FFT_TAPS = 1024


def fft_size(n: int, k: int) -> int:
    """The smallest power of two that holds the linear convolution of lengths ``n`` and ``k``."""
    return 1 << (n + k - 2).bit_length()


def fft_data(n: int, k: int = FFT_TAPS, seed: int = 0):
    """``(params, y)``: a noisy signal and a smoothing filter to fit, and the target."""
    rng = np.random.default_rng(seed)
    params = {"x": rng.standard_normal(n), "h": np.hanning(k) / k + 1e-3 * rng.standard_normal(k)}
    y = rng.standard_normal(n)
    return params, y


def fft_conv_loss(xp, p, y):
    """Half the squared error of the FFT convolution ``x ∗ h`` (its first ``n`` samples) against ``y``."""
    n, k = p["x"].shape[0], p["h"].shape[0]
    size = fft_size(n, k)
    conv = xp.fft.irfft(xp.fft.rfft(p["x"], n=size) * xp.fft.rfft(p["h"], n=size), n=size)
    r = conv[:n] - y
    return 0.5 * xp.sum(r * r)


def fft_conv_numpy_grad(p, y):
    """The textbook gradient: correlations with the residual, by FFT."""
    x, h = p["x"], p["h"]
    n, k = x.shape[0], h.shape[0]
    size = fft_size(n, k)
    xf, hf = np.fft.rfft(x, n=size), np.fft.rfft(h, n=size)
    r = np.fft.irfft(xf * hf, n=size)[:n] - y
    rf = np.fft.rfft(r, n=size)
    return {"x": np.fft.irfft(rf * hf.conj(), n=size)[:n], "h": np.fft.irfft(rf * xf.conj(), n=size)[:k]}
