"""``funcgrad.random``: functional, splittable random keys, bit for bit the same as ``jax.random``.

A key is a ``uint32[2]`` array; every function is a pure function of its key,
shape and dtype, so eager calls, ``jit`` and ``vmap`` give the same numbers.  See
``docs/random.md``.

Examples:
    >>> import funcgrad as fg
    >>> k1, k2 = fg.random.split(fg.random.key(0))
    >>> fg.random.uniform(k1, (2,)).shape
    (2,)
"""

from funcgrad.random._keys import (
    PRNGKey,
    bits,
    fold_in,
    key,
    key_data,
    split,
    wrap_key_data,
)
from funcgrad.random._samplers import (
    bernoulli,
    categorical,
    choice,
    exponential,
    gumbel,
    multivariate_normal,
    normal,
    permutation,
    randint,
    truncated_normal,
    uniform,
)

__all__ = [
    "PRNGKey",
    "bernoulli",
    "bits",
    "categorical",
    "choice",
    "exponential",
    "fold_in",
    "gumbel",
    "key",
    "key_data",
    "multivariate_normal",
    "normal",
    "permutation",
    "randint",
    "split",
    "truncated_normal",
    "uniform",
    "wrap_key_data",
]
