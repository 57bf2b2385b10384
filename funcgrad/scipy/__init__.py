"""``funcgrad.scipy``: differentiable versions of SciPy functions (``funcgrad.scipy.special``,
``funcgrad.scipy.linalg``, ``funcgrad.scipy.stats``); SciPy itself is imported only when a function needs it.

Examples:
    >>> import numpy as np
    >>> from funcgrad.scipy.special import logsumexp
    >>> logsumexp(np.array([1000.0, 1000.0]))   # 1000 + log(2), no overflow
    np.float64(1000.6931471805599)
"""

from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.scipy import linalg, special, stats

__all__ = ["linalg", "special", "stats"]
__dir__ = _public_dir(globals())
