"""The Gaussian-process negative log likelihood case: its loss, data and hand-written gradient.

``nll = ½ yᵀ K⁻¹ y + Σ log diag L + (n/2) log 2π`` with ``K = L Lᵀ`` the squared-exponential
kernel plus noise, differentiated with respect to three log hyperparameters.  The loss is
written once against a NumPy-like namespace; the hand-written gradient is the textbook
``½ tr((K⁻¹ - α αᵀ) ∂K/∂θ)`` with SciPy's ``cho_solve``.  ``benchmarks/run.py`` registers
the case (``--case gp_nll``).
"""

from __future__ import annotations

import importlib

import numpy as np

GP_N = 500
GP_N_QUICK = 100


def gp_data(n: int, seed: int = 0):
    """``(params, x, y)``: log lengthscale, log signal and noise scales; 3-D inputs; targets."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, (n, 3))
    y = np.sin(x @ np.array([1.0, -0.5, 0.25])) + 0.1 * rng.standard_normal(n)
    params = {"log_ell": np.array(0.3), "log_sf": np.array(0.1), "log_sn": np.array(-1.5)}
    return params, x, y


def _sq_dists(xp, x):
    sq = xp.sum(x * x, axis=1)
    return xp.maximum(sq[:, None] + sq[None, :] - 2.0 * (x @ x.T), 0.0)


def _scipy_linalg(xp):
    """The ``scipy.linalg`` that goes with a NumPy-like namespace: ``funcgrad.numpy`` ->
    ``funcgrad.scipy.linalg``, ``jax.numpy`` -> ``jax.scipy.linalg``."""
    return importlib.import_module(xp.__name__.replace("numpy", "scipy") + ".linalg")


def gp_nll(xp, p, x, y):
    """The negative log likelihood through ``cholesky`` and ``cho_solve`` with the factor."""
    n = x.shape[0]
    k = xp.exp(2 * p["log_sf"] - 0.5 * _sq_dists(xp, x) * xp.exp(-2 * p["log_ell"]))
    k = k + xp.exp(2 * p["log_sn"]) * xp.eye(n)
    low = xp.linalg.cholesky(k)
    alpha = _scipy_linalg(xp).cho_solve((low, True), y)
    return 0.5 * xp.sum(y * alpha) + xp.sum(xp.log(xp.diagonal(low))) + 0.5 * n * np.log(2 * np.pi)


def gp_numpy_grad(p, x, y):
    """The textbook gradient: ``½ tr(W ∂K/∂θ)``, ``W = K⁻¹ - α αᵀ``, with Cholesky solves."""
    from scipy.linalg import cho_factor, cho_solve

    n = x.shape[0]
    d2 = _sq_dists(np, x)
    ell2, sf2, sn2 = np.exp(2 * p["log_ell"]), np.exp(2 * p["log_sf"]), np.exp(2 * p["log_sn"])
    kf = sf2 * np.exp(-0.5 * d2 / ell2)
    factor = cho_factor(kf + sn2 * np.eye(n), lower=True)
    alpha = cho_solve(factor, y)
    w = cho_solve(factor, np.eye(n)) - np.outer(alpha, alpha)
    return {"log_ell": np.array(0.5 * np.sum(w * kf * d2) / ell2),
            "log_sf": np.array(np.sum(w * kf)),
            "log_sn": np.array(sn2 * np.trace(w))}
