"""The general (non-symmetric) eigendecomposition: ``eig`` and ``eigvals``.

``A V = V diag(w)``.  As in JAX, the outputs are always complex (``complex128`` for
float64 and integer input, ``complex64`` for float32), whatever the spectrum: NumPy
returns a real array when every eigenvalue happens to be real, a dtype that depends
on the values and so cannot be traced.  The values are NumPy's (LAPACK ``geev``):
each eigenvector has unit 2-norm, and its phase is LAPACK's choice (the largest
component real).

Two primitives, ``eig_values`` and ``eig_vectors``, share one LAPACK call through the
memo of :mod:`funcgrad.ops.decompositions`.  Their rules are JAX's (``eig_jvp_rule``),
for distinct eigenvalues, with ``M = V⁻¹ Ȧ V`` and ``F[i, j] = 1 / (w_j - w_i)`` off the
diagonal:

* ``ẇ = diag(M)``: holomorphic in ``A``, so complex inputs differentiate too;
* ``V̇ = U̇ + V diag(c)`` with ``U̇ = V (F ∘ M)``: ``U̇`` moves each eigenvector within the
  eigenspaces of the others, and ``c`` is the scalar multiple that the gauge fixes.

The gauge: an eigenvector is only defined up to a complex scalar.  LAPACK fixes it by
giving each eigenvector unit 2-norm and a real largest-magnitude component, and the
rule differentiates through exactly that choice (JAX 0.10's rule, where it is opt-in
with ``enable_eigvec_derivs=True``): ``c_j = -Re(v_jᴴ u̇_j) - i Im(u̇_kj) / v_kj`` with
``k`` the index of ``v_j``'s largest component.  So the derivative of the eigenvectors
is the derivative of NumPy's output, wherever that output is differentiable: not
where two components of one eigenvector tie for the largest magnitude (the gauge
jumps there), and not at repeated eigenvalues (the rule divides by 0 and gives inf
or NaN: no derivative exists).  Quantities that do not depend on the gauge (``w``,
``abs(v)`` of real eigenvectors, ``V diag(f(w)) V⁻¹``, projectors ``v vᴴ``) are the
safe ones to differentiate.  ``eigvals``' rule needs an invertible ``V`` (a
diagonalisable matrix).

The VJPs are the transposes of these JVPs without conjugation (JAX's convention,
``docs/complex.md``); a real input receives the real part of its cotangent.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from funcgrad._core.primitive import Primitive
from funcgrad.ops import elementwise as ew
from funcgrad.ops import reductions as red
from funcgrad.ops._family import dtype_of, shape_of
from funcgrad.ops.decompositions import (
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
from funcgrad.ops.linalg import matmul, solve
from funcgrad.ops.misc import astype


def _complex_dtype(dt) -> np.dtype:
    return np.result_type(np.dtype(dt), np.complex64)


def _eig(a):
    """``np.linalg.eig(a)`` with complex outputs whatever the spectrum."""
    w, v = np.linalg.eig(a)
    dt = _complex_dtype(a.dtype)
    return w.astype(dt, copy=False), v.astype(dt, copy=False)


def _values_aval(a):
    return _matrix_shape("eig", a, square=True)[:-1], _complex_dtype(dtype_of(a))


def _vectors_aval(a):
    return _matrix_shape("eig", a, square=True), _complex_dtype(dtype_of(a))


# Both outputs come from the one ``geev`` call (eigenvalues alone would come from a call
# without vectors, whose eigenvalue order LAPACK does not promise to be the same).
eig_values_p = Primitive("eig_values", lambda a: _decomposed(_eig, a)[0], _values_aval)
eig_vectors_p = Primitive("eig_vectors", lambda a: _decomposed(_eig, a)[1], _vectors_aval)


def _real_if(ct, a):
    """A real input's cotangent is the real part (JAX's convention)."""
    return ct if dtype_of(a).kind == "c" else ew.real(ct)


def _similar(m, v):
    """``V⁻¹ m V``."""
    return solve(v, matmul(m, v))


def _transposed_similar(m, v):
    """``V⁻ᵀ m Vᵀ``: the transpose (no conjugation) of ``X ↦ V⁻¹ X V``."""
    return solve(_mT(v), matmul(m, _mT(v)))


def _values_jvp(t, ans, a):
    """ẇ = diag(V⁻¹ Ȧ V)."""
    return _diag(_similar(t, eig_vectors_p.bind(a)))


def _values_vjp(g, ans, a):
    """Ā = V⁻ᵀ diag(w̄) Vᵀ."""
    v = eig_vectors_p.bind(a)
    return _real_if(solve(_mT(v), _col(g) * _mT(v)), a)


def _largest_mask(v):
    """1 at each column's largest-magnitude component (LAPACK makes it real), 0 elsewhere."""
    k = red.argmax(ew.abs(v), axis=-2, keepdims=True)
    rows = np.arange(shape_of(v)[-1]).reshape(-1, 1)
    return astype(ew.equal(rows, k), dtype_of(v))


def _vectors_jvp(t, ans, a):
    """V̇ = U̇ + V diag(c), U̇ = V (F ∘ V⁻¹ Ȧ V), c_j = -Re(v_jᴴ u̇_j) - i Im(u̇_kj) / v_kj
    (k: v_j's largest component): the norm stays 1 and that component stays real."""
    v = ans
    du = matmul(v, _gaps_inverse(eig_values_p.bind(a)) * _similar(t, v))
    mask = _largest_mask(v)
    c = ew.real(_column_sums(ew.conj(v) * du)) + \
        1j * (ew.imag(_column_sums(mask * du)) / ew.real(_column_sums(mask * v)))
    return du - v * _row(c)


def _vectors_vjp(g, ans, a):
    """The transpose of the JVP: Ā = V⁻ᵀ (F ∘ Vᵀ Ḡ') Vᵀ, with h = colsum(Ḡ ∘ V) and
    Ḡ' = Ḡ - conj(V) diag(Re h) - i mask diag(Im h / v_k)."""
    v = ans
    h = _column_sums(g * v)
    mask = _largest_mask(v)
    g = g - ew.conj(v) * _row(ew.real(h)) - \
        1j * (mask * _row(ew.imag(h) / ew.real(_column_sums(mask * v))))
    mbar = _gaps_inverse(eig_values_p.bind(a)) * matmul(_mT(v), g)
    return _real_if(_transposed_similar(mbar, v), a)


eig_values_p.defjvp(_values_jvp)
eig_values_p.defvjp(_values_vjp)
eig_vectors_p.defjvp(_vectors_jvp)
eig_vectors_p.defvjp(_vectors_vjp)
_batched(eig_values_p)
_batched(eig_vectors_p)


class EigResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, like NumPy 2's ``EigResult``."""

    eigenvalues: Any
    eigenvectors: Any


def eig(a) -> EigResult:
    """``numpy.linalg.eig``: ``a @ V = V * w`` for a square matrix (or a stack of them).

    The outputs are always complex (NumPy's are real when every eigenvalue is); each
    eigenvector has unit norm.  Derivatives exist for distinct eigenvalues; the
    eigenvectors' derivative follows JAX's gauge (see :mod:`funcgrad.ops.eig`), so
    differentiate phase-invariant functions of them.

    Examples:
        >>> w, v = eig(np.array([[0.0, -1.0], [1.0, 0.0]]))
        >>> w
        array([0.+1.j, 0.-1.j])
    """
    a = _input("eig", a, square=True)
    return EigResult(eig_values_p.bind(a), eig_vectors_p.bind(a))


def eigvals(a):
    """``numpy.linalg.eigvals``: the eigenvalues of a square matrix, always complex.

    Examples:
        >>> eigvals(np.array([[2.0, 1.0], [0.0, 3.0]]))
        array([2.+0.j, 3.+0.j])
    """
    return eig_values_p.bind(_input("eigvals", a, square=True))
