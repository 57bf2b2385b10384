"""Loss functions: mean squared error and cross-entropies, stable for large logits.

Each loss takes ``reduction="mean"`` (the default), ``"sum"`` or ``"none"``
(the per-element or per-example losses).  Shapes are checked up front and a
mismatch is a :class:`~funcgrad.errors.ShapeError` naming both shapes: losses
never broadcast silently (a ``(N, 1)`` prediction against ``(N,)`` targets is
an error, not an ``(N, N)`` loss).

Examples:
    >>> import numpy as np
    >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.float64(2.0)
    >>> softmax_cross_entropy(np.zeros((2, 4)), np.array([1, 3]))       # log(4)
    np.float64(1.3862943611198906)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import DTypeError, ShapeError
from funcgrad.nn._util import check_choice, dtype_of, is_concrete, shape_of
from funcgrad.nn.activations import softplus
from funcgrad.scipy.special import log_softmax

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse",
           "softmax_cross_entropy"]

Array = Any

_REDUCTIONS = ("mean", "sum", "none")
# log(p) is clamped at -100 (as PyTorch's BCELoss does) so p == 0 gives a finite loss.
_LOG_FLOOR = -100.0
_P_FLOOR = math.exp(_LOG_FLOOR)


def _reduce(losses: Array, reduction: str, where: str) -> Array:
    check_choice(reduction, _REDUCTIONS, "reduction", where)
    if reduction == "mean":
        return fnp.mean(losses)
    if reduction == "sum":
        return fnp.sum(losses)
    return losses


def _same_shape(a: Array, b: Array, names: tuple[str, str], where: str) -> None:
    sa, sb = shape_of(a), shape_of(b)
    if sa != sb:
        raise ShapeError(f"{where}: {names[0]}.shape={sa} and {names[1]}.shape={sb} must be "
                         "equal (losses do not broadcast)")


def _check_floating(x: Array, name: str, where: str) -> None:
    dt = dtype_of(x)
    if not fnp.issubdtype(dt, np.floating):
        raise DTypeError(f"{where}: {name} must be floating point, got dtype {dt} "
                         f"(shape {shape_of(x)})")


def mse(pred: Array, target: Array, reduction: str = "mean") -> Array:
    """Mean squared error ``mean((pred - target) ** 2)``; ``pred`` and ``target`` have the same shape.

    Examples:
        >>> import numpy as np
        >>> mse(np.array([[0.0], [1.0]]), np.array([[1.0], [1.0]]), reduction="none")
        array([[1.],
               [0.]])
    """
    _same_shape(pred, target, ("pred", "target"), "mse")
    return _reduce((pred - target) ** 2, reduction, "mse")


def _clamped_log(p: Array) -> Array:
    """``max(log(p), -100)``, finite and warning-free at ``p == 0``."""
    return fnp.log(fnp.where(p > _P_FLOOR, p, _P_FLOOR))


def binary_cross_entropy(probs: Array, targets: Array, reduction: str = "mean") -> Array:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1] and targets ``t``.

    Each log is clamped at -100 (as in PyTorch), so ``p`` of exactly 0 or 1
    gives a finite loss (and zero gradient there).  Prefer
    :func:`binary_cross_entropy_with_logits` on logits: it is exact where the
    sigmoid saturates.

    Examples:
        >>> import numpy as np
        >>> binary_cross_entropy(np.array([0.5, 0.5]), np.array([0.0, 1.0]))   # log(2)
        np.float64(0.6931471805599453)
    """
    where = "binary_cross_entropy"
    _same_shape(probs, targets, ("probs", "targets"), where)
    _check_floating(probs, "probs", where)
    losses = -(targets * _clamped_log(probs) + (1.0 - targets) * _clamped_log(1.0 - probs))
    return _reduce(losses, reduction, where)


def binary_cross_entropy_with_logits(logits: Array, targets: Array, reduction: str = "mean") -> Array:
    """Binary cross-entropy of ``sigmoid(logits)``, computed as ``softplus(x) - t x`` (stable for any ``x``).

    Examples:
        >>> import numpy as np
        >>> binary_cross_entropy_with_logits(np.array([1000.0, -1000.0]), np.array([1.0, 0.0]))
        np.float64(0.0)
        >>> binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))   # log(2)
        np.float64(0.6931471805599453)
    """
    where = "binary_cross_entropy_with_logits"
    _same_shape(logits, targets, ("logits", "targets"), where)
    _check_floating(logits, "logits", where)
    return _reduce(softplus(logits) - targets * logits, reduction, where)


def softmax_cross_entropy(logits: Array, labels: Array, reduction: str = "mean") -> Array:
    """Cross-entropy of ``softmax(logits)`` over the last axis against ``labels``.

    ``logits`` has shape ``(..., C)``.  ``labels`` is either integer class
    indices of shape ``logits.shape[:-1]`` (each in ``[0, C)``), or floating
    one-hot / probability vectors of shape ``logits.shape``.  The loss per
    example is ``-sum(labels * log_softmax(logits))``; ``"mean"`` averages over
    the examples.

    Examples:
        >>> import numpy as np
        >>> logits = np.array([[0.0, 0.0], [1000.0, 0.0]])
        >>> softmax_cross_entropy(logits, np.array([0, 1]), reduction="none").tolist()
        [0.6931471805599453, 1000.0]
        >>> softmax_cross_entropy(logits, np.array([[1.0, 0.0], [0.0, 1.0]]), reduction="none").tolist()
        [0.6931471805599453, 1000.0]
    """
    where = "softmax_cross_entropy"
    _check_floating(logits, "logits", where)
    shape, label_shape = shape_of(logits), shape_of(labels)
    if len(shape) == 0:
        raise ShapeError(f"{where}: logits must have a class axis, shape (..., C); got "
                         f"logits.shape={shape}")
    logp = log_softmax(logits, axis=-1)
    kind = dtype_of(labels).kind
    if kind in "iu":
        if label_shape != shape[:-1]:
            raise ShapeError(f"{where}: integer labels must have shape logits.shape[:-1]="
                             f"{shape[:-1]}; got labels.shape={label_shape} for logits.shape="
                             f"{shape}")
        if is_concrete(labels):
            labels = np.asarray(labels)
            bad = (labels < 0) | (labels >= shape[-1])
            if bad.any():
                raise ShapeError(f"{where}: label {labels[bad].flat[0]} is out of range for "
                                 f"logits.shape={shape} (labels must be in [0, {shape[-1]}))")
        picked = fnp.take_along_axis(logp, fnp.expand_dims(labels, -1), axis=-1)
        losses = -fnp.squeeze(picked, axis=-1)
    elif fnp.issubdtype(dtype_of(labels), np.floating):
        if label_shape != shape:
            raise ShapeError(f"{where}: one-hot (floating) labels must have the shape of the "
                             f"logits; got labels.shape={label_shape} for logits.shape={shape} "
                             "(integer class labels would have shape logits.shape[:-1])")
        losses = -fnp.sum(labels * logp, axis=-1)
    else:
        raise DTypeError(f"{where}: labels must be integer class indices or floating one-hot "
                         f"vectors, got dtype {dtype_of(labels)} (shape {label_shape})")
    return _reduce(losses, reduction, where)
