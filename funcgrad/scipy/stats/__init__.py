"""``funcgrad.scipy.stats``: log-densities of common distributions, differentiable in every argument.

One module per distribution, as in ``scipy.stats`` and ``jax.scipy.stats``: ``norm``
(logpdf, pdf, cdf, logcdf, sf, logsf, ppf, isf), ``multivariate_normal`` (logpdf, pdf),
``t``, ``gamma`` and ``beta`` (logpdf, pdf), ``poisson`` and ``bernoulli`` (logpmf, pmf).
They take SciPy's ``loc``/``scale`` keywords and are compositions of
:mod:`funcgrad.scipy.special` and :mod:`funcgrad.numpy`, so they work under every
transformation.  Outside the support a log-density is ``-inf``; invalid parameters
(``scale <= 0``, a probability outside [0, 1], ...) give NaN, as in SciPy.

Examples:
    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad.scipy.stats import norm
    >>> norm.logpdf(np.array([0.0, 1.0]))
    array([-0.91893853, -1.41893853])
    >>> fg.grad(lambda mu: norm.logpdf(1.0, loc=mu))(0.0)           # (x - mu) / scale**2
    np.float64(1.0)
"""

from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy.stats import bernoulli, beta, gamma, multivariate_normal, norm, poisson, t

__all__ = ["bernoulli", "beta", "gamma", "multivariate_normal", "norm", "poisson", "t"]
__dir__ = _public_dir(globals())
