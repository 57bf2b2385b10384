"""Op-table rows for the complex parts ``real``, ``imag``, ``conj`` and ``angle`` (and complex ``abs``).

``tests/op_table.py`` imports this file.  The generated tests feed real arrays, so each op
has a row on a real input (where ``real(x) = conj(x) = x``, ``imag(x) = 0`` and
``angle(x)`` is 0 or pi: the primitives' real branch) and a row on the complex input
``x + 1j * y`` built from two real arguments, with a complex result returned as the pair
``(real, imag)``: the gradient tests then differentiate along the real and the imaginary
direction of the input separately.  ``tests/test_complex.py`` covers the rest.
"""

import numpy as np
from op_table import NONZERO, REAL, op

import funcgrad.numpy as fnp


def _parts(z):
    return fnp.real(z), fnp.imag(z)


def _np_parts(z):
    return np.real(z), np.imag(z)


op("real", fnp.real, np.real)
op("imag", fnp.imag, np.imag)
op("conj", fnp.conj, np.conj)
op("angle", fnp.angle, np.angle, domains=NONZERO)  # jumps from pi to 0 at 0
op("real[x + iy]", lambda x, y: fnp.real(x + 1j * y), lambda x, y: np.real(x + 1j * y), nargs=2)
op("imag[x + iy]", lambda x, y: fnp.imag(x + 1j * y), lambda x, y: np.imag(x + 1j * y), nargs=2)
op("conj[x + iy]", lambda x, y: _parts(fnp.conj(x + 1j * y)),
   lambda x, y: _np_parts(np.conj(x + 1j * y)), nargs=2)
op("conjugate[method, x + iy]", lambda x, y: _parts((x + 1j * y).conjugate()),
   lambda x, y: _np_parts((x + 1j * y).conjugate()), nargs=2)
# Off the branch cut (the negative real axis, where the angle jumps by 2 pi): y != 0.
op("angle[x + iy]", lambda x, y: fnp.angle(x + 1j * y), lambda x, y: np.angle(x + 1j * y),
   domains=(REAL, NONZERO))
op("angle[deg, x + iy]", lambda x, y: fnp.angle(x + 1j * y, deg=True),
   lambda x, y: np.angle(x + 1j * y, deg=True), domains=(REAL, NONZERO))
op("abs[x + iy]", lambda x, y: fnp.abs(x + 1j * y), lambda x, y: np.abs(x + 1j * y),
   domains=(NONZERO, REAL))  # away from the origin, where |z| has a kink
