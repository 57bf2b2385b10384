"""``funcgrad.numpy.linalg``: NumPy 2's ``linalg`` namespace, differentiable.

Everything is batched over leading (stack) axes like NumPy's.  The primitives live in
:mod:`funcgrad.ops` by family: ``inv``, ``det``, ``slogdet``, ``solve`` in
:mod:`~funcgrad.ops.linalg`; the decompositions in :mod:`~funcgrad.ops.decompositions`
and :mod:`~funcgrad.ops.eig`; ``lstsq`` in :mod:`~funcgrad.ops.lstsq`; ``pinv`` in
:mod:`~funcgrad.ops.pinv`.  The norms (:mod:`funcgrad.numpy._norms`), ``matrix_rank`` and
``cond`` (:mod:`funcgrad.numpy._conditioning`) and the products and tensor helpers
(:mod:`funcgrad.numpy._linalg_products`) are compositions of primitives.

Examples:
    >>> import numpy as np
    >>> import funcgrad.numpy as fnp
    >>> float(fnp.linalg.det(np.eye(2)))
    1.0
"""

from numpy.linalg import LinAlgError  # raised for singular matrices, as in NumPy

from funcgrad._core.namespace import public_dir as _public_dir
from funcgrad.numpy._linalg_products import (
    cross,
    diagonal,
    matmul,
    matrix_power,
    matrix_transpose,
    multi_dot,
    outer,
    tensordot,
    tensorinv,
    tensorsolve,
    trace,
    vecdot,
)
from funcgrad.numpy._conditioning import cond, matrix_rank
from funcgrad.numpy._norms import matrix_norm, norm, vector_norm
from funcgrad.ops.decompositions import (
    EighResult,
    QRResult,
    SVDResult,
    cholesky,
    eigh,
    eigvalsh,
    qr,
    svd,
    svdvals,
)
from funcgrad.ops.eig import EigResult, eig, eigvals
from funcgrad.ops.linalg import SlogdetResult, det, inv, slogdet, solve
from funcgrad.ops.lstsq import LstsqResult, lstsq
from funcgrad.ops.pinv import pinv

__all__ = ["EigResult", "EighResult", "LinAlgError", "LstsqResult", "QRResult", "SVDResult",
           "SlogdetResult", "cholesky", "cond", "cross", "det", "diagonal", "eig", "eigh",
           "eigvals", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm", "matrix_power",
           "matrix_rank", "matrix_transpose", "multi_dot", "norm", "outer", "pinv", "qr",
           "slogdet", "solve", "svd", "svdvals", "tensordot", "tensorinv", "tensorsolve", "trace",
           "vecdot", "vector_norm"]
__dir__ = _public_dir(globals())
