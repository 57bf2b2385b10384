"""Op-table rows for ``funcgrad.scipy.special`` and ``funcgrad.scipy.stats`` (imported by ``tests/op_table.py``).

The references are SciPy's functions, cast to the inputs' float dtype (SciPy computes some
of them in float64 for float16 input, and ``scipy.stats`` always does; funcgrad keeps the
input dtype, as NumPy's ufuncs and JAX do).  Domains stay away from poles and from the
edges of each support; ``tests/test_scipy_special.py`` and ``tests/test_scipy_stats.py``
check the edges, the extreme arguments and the conventions at 0.
"""

import numpy as np
import scipy.special as sc
import scipy.stats as ss
from op_table import F32, POSITIVE, REAL, UNIT, fixed, interval, op, same, sides

import funcgrad.numpy as fnp
from funcgrad.scipy import special
from funcgrad.scipy.stats import bernoulli, beta, gamma, multivariate_normal, norm, poisson, t


def _in_dtype(ref):
    """``ref`` with its float results cast to the float dtype of the array arguments."""
    def cast(*args):
        dtype = np.result_type(*[a for a in args if isinstance(a, np.ndarray)])
        out = ref(*args)
        if isinstance(out, tuple):
            return tuple(np.asarray(o).astype(dtype) for o in out)
        return np.asarray(out).astype(dtype)
    return cast


def special_op(name, domains, nargs=1, **kw):
    op(name, getattr(special, name), _in_dtype(getattr(sc, name)), domains=domains, nargs=nargs,
       **kw)


# == scipy.special: elementwise ========================================================
GAMMA_DOMAIN = interval(0.5, 3.0)  # away from the poles at 0, -1, -2, ...
special_op("expit", REAL)
special_op("logit", interval(0.1, 0.9))
special_op("erf", REAL)
special_op("erfc", REAL)
special_op("erfcx", REAL)
special_op("erfinv", UNIT)
special_op("gammaln", GAMMA_DOMAIN)
special_op("gamma", GAMMA_DOMAIN)
special_op("digamma", GAMMA_DOMAIN)
special_op("ndtr", REAL)
special_op("log_ndtr", interval(-6.0, 3.0))
special_op("ndtri", interval(0.05, 0.95))
special_op("entr", interval(0.1, 2.0))
special_op("xlogy", (REAL, POSITIVE), nargs=2)
special_op("xlog1py", (REAL, interval(-0.5, 2.0)), nargs=2)
special_op("betaln", (GAMMA_DOMAIN, GAMMA_DOMAIN), nargs=2)
op("polygamma[n=1]", lambda x: special.polygamma(1, x), _in_dtype(lambda x: sc.polygamma(1, x)),
   domains=GAMMA_DOMAIN)
op("polygamma[n=array]", lambda x: special.polygamma(np.array([0, 2, 1]), x),
   _in_dtype(lambda x: sc.polygamma(np.array([0, 2, 1]), x)),
   shapes=same(min_dims=1, max_dims=1).map(lambda s: ((3,),)), domains=GAMMA_DOMAIN)

# == scipy.special.logsumexp: weights and signs =========================================
_LAST = same(min_dims=1).map(lambda s: (s[0], s[0][-1:]))  # b weights the last axis
op("logsumexp[axis=None]", lambda a: special.logsumexp(a), _in_dtype(lambda a: sc.logsumexp(a)),
   kind="reduce")
op("logsumexp[b,axis=-1]", lambda a, b: special.logsumexp(a, axis=-1, b=b),
   _in_dtype(lambda a, b: sc.logsumexp(a, axis=-1, b=b)), _LAST, (REAL, POSITIVE), kind="reduce")
# Negative weights: the sum is negative, its log |.| is returned with sign -1.
op("logsumexp[b<0,return_sign,axis=0,keepdims]",
   lambda a, b: special.logsumexp(a, axis=0, b=b, keepdims=True, return_sign=True),
   _in_dtype(lambda a, b: sc.logsumexp(a, axis=0, b=b, keepdims=True, return_sign=True)),
   same(2, min_dims=1), (REAL, interval(-2.0, -0.5)), kind="reduce")

# One primitive each (logsumexp, log_softmax): every axis variant, and weights broadcast over
# the leading axis (b of shape (n,) against a of shape (k, n), reduced over both axes).
for _label, _kw, _ndim in [("axis=0", {"axis": 0}, 1), ("axis=-1,keepdims", {"axis": -1, "keepdims": True}, 1),
                           ("axis=(0,-1)", {"axis": (0, -1)}, 2),
                           ("axis=(-1,0),keepdims", {"axis": (-1, 0), "keepdims": True}, 2),
                           # SciPy makes a 0-d input 1-d here; NumPy and funcgrad keep it 0-d
                           ("axis=None,keepdims", {"axis": None, "keepdims": True}, 1)]:
    op(f"logsumexp[{_label}]", lambda a, kw=_kw: special.logsumexp(a, **kw),
       _in_dtype(lambda a, kw=_kw: sc.logsumexp(a, **kw)), same(min_dims=_ndim), kind="reduce")
for _label, _axis, _ndim in [("axis=-1", -1, 1), ("axis=0", 0, 1), ("axis=(0,-1)", (0, -1), 2),
                             ("axis=None", None, 0)]:
    op(f"log_softmax[{_label}]", lambda x, axis=_axis: special.log_softmax(x, axis=axis),
       _in_dtype(lambda x, axis=_axis: sc.log_softmax(x, axis=axis)), same(min_dims=_ndim),
       kind="reduce")
op("logsumexp[b broadcast,axis=None]", lambda a, b: special.logsumexp(a, b=b),
   _in_dtype(lambda a, b: sc.logsumexp(a, b=b)),
   sides(2, lambda k, n: ((k, n), (n,))), (REAL, POSITIVE), kind="reduce")

# == scipy.stats ========================================================================
STATS_TOL = {F32: (1e-4, 1e-5)}  # float32 arithmetic against SciPy's float64, rounded
SHAPE = interval(0.5, 3.0)


def stats_op(name, fun, ref, domains, diff=True, **kw):
    op(name, fun, _in_dtype(ref), domains=domains, kind="stats", diff=diff, tol=STATS_TOL, **kw)


stats_op("norm.logpdf", norm.logpdf, ss.norm.logpdf, (REAL, REAL, POSITIVE))
stats_op("norm.pdf", norm.pdf, ss.norm.pdf, (REAL, REAL, POSITIVE))
stats_op("norm.cdf", norm.cdf, ss.norm.cdf, (REAL, REAL, POSITIVE))
stats_op("norm.logcdf", norm.logcdf, ss.norm.logcdf, (REAL, REAL, POSITIVE))
stats_op("norm.sf", lambda x: norm.sf(x), ss.norm.sf, REAL)
stats_op("norm.logsf", lambda x, s: norm.logsf(x, scale=s), lambda x, s: ss.norm.logsf(x, scale=s),
         (REAL, POSITIVE))
stats_op("norm.ppf", norm.ppf, ss.norm.ppf, (interval(0.05, 0.95), REAL, POSITIVE))
stats_op("norm.isf", lambda q: norm.isf(q), ss.norm.isf, interval(0.05, 0.95))
stats_op("t.logpdf", t.logpdf, ss.t.logpdf, (REAL, SHAPE, REAL, POSITIVE))
stats_op("t.pdf", lambda x, df: t.pdf(x, df), ss.t.pdf, (REAL, SHAPE))
stats_op("gamma.logpdf", gamma.logpdf, ss.gamma.logpdf, (POSITIVE, SHAPE, interval(-0.4, 0.4),
                                                          POSITIVE))
stats_op("gamma.pdf", lambda x, a: gamma.pdf(x, a), ss.gamma.pdf, (POSITIVE, SHAPE))
stats_op("beta.logpdf", beta.logpdf, ss.beta.logpdf,
         (interval(0.1, 0.9), SHAPE, SHAPE, interval(-0.05, 0.05), interval(1.0, 1.2)))
stats_op("beta.pdf", lambda x, a, b: beta.pdf(x, a, b), ss.beta.pdf,
         (interval(0.1, 0.9), SHAPE, SHAPE))
# Counts: k is drawn as a float and rounded; the gradient is the one in the rate/probability.
stats_op("poisson.logpmf", lambda k, mu: poisson.logpmf(fnp.round(k), mu),
         lambda k, mu: ss.poisson.logpmf(np.round(k), mu), (interval(0.0, 6.0), POSITIVE),
         diff=(1,))
stats_op("poisson.pmf", lambda k, mu: poisson.pmf(fnp.round(k), mu),
         lambda k, mu: ss.poisson.pmf(np.round(k), mu), (interval(0.0, 6.0), POSITIVE), diff=(1,))
stats_op("bernoulli.logpmf", lambda k, p: bernoulli.logpmf(fnp.round(k), p),
         lambda k, p: ss.bernoulli.logpmf(np.round(k), p), (interval(-0.4, 1.4), interval(0.1, 0.9)),
         diff=(1,))
stats_op("bernoulli.pmf", lambda k, p: bernoulli.pmf(fnp.round(k), p),
         lambda k, p: ss.bernoulli.pmf(np.round(k), p), (interval(-0.4, 1.4), interval(0.1, 0.9)),
         diff=(1,))


# multivariate_normal: the covariance a @ a.T + I/2 is positive definite for any a, so the
# gradient tests perturb every entry of a; x holds samples on its leading axes.
def _spd(a, xp):
    return a @ a.T + 0.5 * xp.eye(a.shape[-1], dtype=a.dtype)


def _mvn_ref(x, mean, cov):
    out = ss.multivariate_normal.logpdf(x, mean, cov)
    return np.reshape(out, x.shape[:-1])  # SciPy squeezes axes of size 1; funcgrad keeps them


_MVN = sides(2, lambda k, n: ((k, n), (n,), (n, n))) | sides(1, lambda n: ((n,), (n,), (n, n)))
stats_op("multivariate_normal.logpdf", lambda x, m, a: multivariate_normal.logpdf(x, m, _spd(a, fnp)),
         lambda x, m, a: _mvn_ref(x, m, _spd(a, np)), (REAL, REAL, REAL), shapes=_MVN)
stats_op("multivariate_normal.logpdf[diagonal cov]", multivariate_normal.logpdf, _mvn_ref,
         (REAL, REAL, POSITIVE), shapes=sides(2, lambda k, n: ((k, n), (n,), (n,))))
stats_op("multivariate_normal.pdf[scalar cov]",
         lambda x, c: multivariate_normal.pdf(x, np.zeros(x.shape[-1], x.dtype), c),
         lambda x, c: np.reshape(ss.multivariate_normal.pdf(x, np.zeros(x.shape[-1]), c),
                                 x.shape[:-1]),
         (REAL, POSITIVE), shapes=sides(2, lambda k, n: ((k, n), ())))
stats_op("multivariate_normal.logpdf[n=1]", lambda x, m, v: multivariate_normal.logpdf(x, m, v),
         lambda x, m, v: np.reshape(ss.multivariate_normal.logpdf(x, m, v), x.shape),
         (REAL, REAL, POSITIVE), shapes=sides(1, lambda k: ((k,), (), ())) | fixed((), (), ()))
