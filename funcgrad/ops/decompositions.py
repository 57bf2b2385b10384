"""Matrix decompositions: ``cholesky``, ``qr``, ``svd``, ``svdvals``, ``eigh``, ``eigvalsh``.

One file per family: :mod:`~funcgrad.ops.cholesky`, :mod:`~funcgrad.ops.eigh`,
:mod:`~funcgrad.ops.svd`, :mod:`~funcgrad.ops.qr`, on the shared low-level module
:mod:`~funcgrad.ops._decomposition`; this module gathers their public names.

A primitive has one output, and a decomposition has several, so each output is its own
primitive (``eigh_values`` and ``eigh_vectors``; ``svd_values``, ``svd_u`` and ``svd_vh``;
``qr_q`` and ``qr_r``; ``cholesky``), and the sibling primitives share one LAPACK call
through :func:`~funcgrad.ops._decomposition._decomposed`, a one-entry memo per thread
keyed by the input's *values*: binding ``eigh_vectors`` right after ``eigh_values`` on the
same matrix costs no second decomposition, and a mutated input is never served a stale
result.  Each output's VJP and JVP rule is that output's share of the decomposition's
derivative (the shares add up to the whole); a rule needing a sibling output binds the
sibling primitive, which the memo answers, and everything is written in funcgrad ops,
so it differentiates again.

``eigh``, ``eigvalsh`` and ``cholesky`` read one triangle of their input, as NumPy does:
the gradient with respect to the other triangle is 0 (what finite differences of NumPy's
function give).  ``eigh`` and ``eigvalsh`` build the symmetric matrix from that triangle with
differentiable shape ops, so their primitives see symmetric input only; the ``cholesky``
primitive reads the lower triangle itself, as LAPACK does, and its VJP (one primitive,
:mod:`funcgrad.ops.cholesky_grad`) is the cotangent of that triangle.

Derivatives follow JAX's rules (``jax/_src/lax/linalg.py``), real and complex: the JVP
is the R-linear derivative and the VJP its transpose without conjugation
(``docs/complex.md``).  Complex eigenvectors and singular vectors carry a free phase
each; their rules use JAX's gauge, not LAPACK's, so only phase-invariant functions of
them (``|U|``, ``U diag(s) Vh``, projectors) have derivatives that match NumPy's output.
At degenerate points: eigenvalue and singular-value functions have finite derivatives
(their rules never divide by a gap); the rules of eigenvectors and singular vectors
divide by eigenvalue (squared singular value) gaps, masked on the diagonal only, so at
an exact tie their derivatives are NaN or inf, as in JAX: they do not exist there.
"""

from funcgrad.ops._decomposition import (  # noqa: F401 - shared helpers, imported from here
    _batched,
    _col,
    _column_sums,
    _decomposed,
    _diag,
    _gaps_inverse,
    _input,
    _matrix_shape,
    _mT,
    _row,
)
from funcgrad.ops.cholesky import cholesky, cholesky_p
from funcgrad.ops.eigh import EighResult, eigh, eigh_values_p, eigh_vectors_p, eigvalsh
from funcgrad.ops.qr import QRResult, qr, qr_q_p, qr_r_p
from funcgrad.ops.svd import SVDResult, svd, svd_u_p, svd_values_p, svd_vh_p, svdvals

__all__ = ["EighResult", "QRResult", "SVDResult", "cholesky", "cholesky_p", "eigh",
           "eigh_values_p", "eigh_vectors_p", "eigvalsh", "qr", "qr_q_p", "qr_r_p", "svd",
           "svd_u_p", "svd_values_p", "svd_vh_p", "svdvals"]
