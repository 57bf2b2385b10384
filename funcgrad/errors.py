"""Every exception funcgrad raises on bad input, in one place.

Each class says *what kind* of mistake happened; each message says what was
expected, what was received (shapes, dtypes, pytree structure) and where in the
user's code.  Classes also derive from the builtin exception a Python user
would reach for (``TypeError``, ``ValueError``), so ``except ValueError`` keeps
working.
"""

from __future__ import annotations


class FuncgradError(Exception):
    """Base class of every funcgrad error."""


class ShapeError(FuncgradError, ValueError):
    """Operand shapes do not fit the operation (broadcasting, matmul, reshape, ...)."""


class DTypeError(FuncgradError, TypeError):
    """An operand or output has a dtype the operation cannot accept."""


class TreeStructureError(FuncgradError, ValueError):
    """Two pytrees that must have the same structure do not."""


class CarryError(FuncgradError, TypeError):
    """A loop body or a branch returned values whose structure, shape or dtype differs from
    what it must return (the carry it received; the other branches' results)."""


class ArgumentError(FuncgradError, TypeError):
    """A transformation was called with arguments it cannot accept."""


class NonScalarOutputError(FuncgradError, TypeError):
    """``grad`` needs a function whose output is a real floating-point scalar."""


class TracerLeakError(FuncgradError, RuntimeError):
    """A traced value was used after the transformation that made it returned."""


class ConcretizationError(FuncgradError, TypeError):
    """Python needed a concrete value (``bool``, ``int``, ``float``, ``np.asarray``) of a traced
    value that has none: abstract under ``jit``/``make_graph``, one per example under ``vmap``."""


class TracerConversionError(FuncgradError, TypeError):
    """A traced float or complex value was converted to a Python or NumPy value (``float()``,
    ``math.exp``, ``np.asarray``, ``out[i] = x``, ...), which would drop its derivative."""


class GradientCheckError(FuncgradError, AssertionError):
    """``funcgrad.testing.check_grads`` found an analytic derivative that disagrees with finite differences."""


class ProgramCheckError(FuncgradError, AssertionError):
    """``funcgrad.testing.programs.check_program``: a transformation of a program disagrees with its reference."""


class ImmutableError(FuncgradError, AttributeError):
    """An attempt to modify a graph node, graph or tracer, which are immutable."""


class ItemAssignmentError(ImmutableError, TypeError):
    """``x[i] = v`` on a traced array, which is immutable; ``x = x.at[i].set(v)`` is the fix.
    Also a ``TypeError``, the exception Python raises for objects without item assignment."""


class AmbiguousTruthValueError(FuncgradError, ValueError):
    """``bool()`` (an ``if``, ``while``, ``and``, ``or``, ``not``) of a traced array with more than
    one element: like NumPy's "truth value ... is ambiguous", with the user's line and the fix."""


class SerializationError(FuncgradError, ValueError):
    """A parameter file cannot be written or read: an unsavable leaf or node, or a truncated/corrupt file."""


class SaveError(SerializationError, OSError):
    """``nn.save`` could not write its file (a missing or read-only directory, a full disk):
    the message names the target path; ``errno`` is the operating system's."""


class NonFiniteError(FuncgradError, FloatingPointError):
    """``debug_nans``: an operation produced a NaN or an infinity (forward pass, backward pass or jit)."""


class ConfigError(FuncgradError, AttributeError):
    """``funcgrad.config``: an unknown option name."""


class BackendUnavailableError(FuncgradError, RuntimeError):
    """A backend was asked for that cannot run here (``"cuda"`` with no CUDA device, no simulator,
    or without the ``numba-cuda`` package), or device arrays met a backend that cannot take them."""


class DistributedError(FuncgradError, RuntimeError):
    """``funcgrad.distributed``: the ranks of an MPI job disagree (tree structure, shapes, dtypes
    or arguments of a collective), or MPI was asked for and cannot be used (no ``mpi4py``)."""


class UnsupportedError(FuncgradError, NotImplementedError):
    """A valid argument combination funcgrad does not implement (``conv_general_dilated``'s
    ``batch_group_count > 1``, ``reduce_window`` with a computation other than add, max, min)."""
