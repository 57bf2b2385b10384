"""Loss functions: regression losses, cross-entropies, KL divergence and focal loss, stable for large logits.

Each loss takes ``reduction="mean"`` (the default), ``"sum"`` or ``"none"``.
``"none"`` gives the per-element or per-example losses, which is exactly what
the optax function of the same name returns (optax never reduces): per element
for ``mse``, ``l2_loss``, ``huber``, the binary cross-entropies and
``sigmoid_focal_loss``; per example (the last axis summed) for
``softmax_cross_entropy``, ``kl_divergence`` and ``cosine_similarity``.
``"mean"`` and ``"sum"`` reduce those over every remaining axis.  Shapes are
checked up front and a mismatch is a :class:`~funcgrad.errors.ShapeError` naming
both shapes: losses never broadcast silently (a ``(N, 1)`` prediction against
``(N,)`` targets is an error, not an ``(N, N)`` loss).

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
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.nn._util import check_choice, dtype_of, is_concrete, shape_of
from funcgrad.nn.activations import log_sigmoid, softplus
from funcgrad.scipy.special import log_softmax

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_similarity",
           "huber", "huber_loss", "kl_divergence", "l2_loss", "mse", "sigmoid_focal_loss",
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


def softmax_cross_entropy(logits: Array, labels: Array, reduction: str = "mean",
                          label_smoothing: float = 0.0) -> Array:
    """Cross-entropy of ``softmax(logits)`` over the last axis against ``labels``.

    ``logits`` has shape ``(..., C)``.  ``labels`` is either integer class
    indices of shape ``logits.shape[:-1]`` (each in ``[0, C)``), or floating
    one-hot / probability vectors of shape ``logits.shape``.  The loss per
    example is ``-sum(labels * log_softmax(logits))`` (optax's
    ``softmax_cross_entropy``, or ``..._with_integer_labels``, is
    ``reduction="none"``); ``"mean"`` averages over the examples.

    ``label_smoothing=a`` (in ``[0, 1]``) trains against ``(1 - a) * labels + a / C``
    (optax's ``smooth_labels``, PyTorch's ``label_smoothing``): the loss becomes
    ``(1 - a) * loss + a * mean(-log_softmax(logits))``.

    Examples:
        >>> import numpy as np
        >>> logits = np.array([[0.0, 0.0], [1000.0, 0.0]])
        >>> softmax_cross_entropy(logits, np.array([0, 1]), reduction="none").tolist()
        [0.6931471805599453, 1000.0]
        >>> softmax_cross_entropy(logits, np.array([[1.0, 0.0], [0.0, 1.0]]), reduction="none").tolist()
        [0.6931471805599453, 1000.0]
        >>> softmax_cross_entropy(logits, np.array([0, 1]), reduction="none", label_smoothing=0.2).tolist()
        [0.6931471805599453, 900.0]
    """
    where = "softmax_cross_entropy"
    _check_floating(logits, "logits", where)
    _check_fraction(label_smoothing, "label_smoothing", where)
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
    if label_smoothing:
        losses = (1.0 - label_smoothing) * losses - label_smoothing * fnp.mean(logp, axis=-1)
    return _reduce(losses, reduction, where)


def _check_fraction(value: Any, name: str, where: str) -> None:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool) \
            or not 0.0 <= value <= 1.0:
        raise ArgumentError(f"{where}: {name} must be a number in [0, 1], got {value!r}")


def _errors(predictions: Array, targets: Array | None, where: str) -> Array:
    """``predictions - targets`` (``predictions`` alone without targets), after the checks."""
    _check_floating(predictions, "predictions", where)
    if targets is None:
        return predictions
    _same_shape(predictions, targets, ("predictions", "targets"), where)
    return predictions - targets


def l2_loss(predictions: Array, targets: Array | None = None, reduction: str = "mean") -> Array:
    """``0.5 * (predictions - targets) ** 2`` (optax's ``l2_loss``); no targets means zeros.

    Examples:
        >>> import numpy as np
        >>> l2_loss(np.array([1.0, 3.0]), np.array([0.0, 1.0]), reduction="none")
        array([0.5, 2. ])
    """
    err = _errors(predictions, targets, "l2_loss")
    return _reduce(0.5 * err * err, reduction, "l2_loss")


def huber(predictions: Array, targets: Array | None = None, delta: float = 1.0,
          reduction: str = "mean") -> Array:
    """Huber loss of ``e = predictions - targets``: ``e**2 / 2`` for ``|e| <= delta``, else ``delta (|e| - delta/2)``.

    optax's ``huber_loss`` (also exported under that name): quadratic near 0,
    linear in the tails, so its gradient is ``e`` clipped to ``[-delta, delta]``.
    No targets means zeros; ``delta`` must be positive.

    Examples:
        >>> import numpy as np
        >>> huber(np.array([0.5, -3.0]), np.zeros(2), reduction="none")
        array([0.125, 2.5  ])
    """
    where = "huber"
    if is_concrete(delta) and not np.all(np.asarray(delta) > 0):
        raise ArgumentError(f"{where}: delta must be positive, got {delta!r}")
    err = _errors(predictions, targets, where)
    abs_err = fnp.abs(err)
    losses = fnp.where(abs_err <= delta, 0.5 * err * err, delta * (abs_err - 0.5 * delta))
    return _reduce(losses, reduction, where)


huber_loss = huber


def _check_vectors(a: Array, b: Array, names: tuple[str, str], where: str) -> None:
    """Floating ``a`` and ``b`` of one shape ``(..., D)``: the losses over the last axis."""
    for x, name in zip((a, b), names):
        _check_floating(x, name, where)
    _same_shape(a, b, names, where)
    if len(shape_of(a)) == 0:
        raise ShapeError(f"{where}: {names[0]} and {names[1]} must have a last axis to reduce, "
                         "shape (..., D); got shape ()")


def cosine_similarity(predictions: Array, targets: Array, epsilon: float = 0.0,
                      reduction: str = "mean") -> Array:
    """Cosine of the angle between ``predictions`` and ``targets`` along the last axis (optax's).

    Each vector is divided by ``sqrt(max(|v|**2, epsilon))``: as optax (since 0.2.4), the
    *squared* norms are clipped at ``epsilon``.  With ``epsilon=0`` a zero vector has no
    direction and gives NaN; pass a small ``epsilon`` to make it 0.  The per-example
    values have shape ``predictions.shape[:-1]``.

    Examples:
        >>> import numpy as np
        >>> a = np.array([[1.0, 0.0], [1.0, 1.0]])
        >>> cosine_similarity(a, np.array([[2.0, 0.0], [-1.0, 0.0]]), reduction="none")
        array([ 1.        , -0.70710678])
    """
    where = "cosine_similarity"
    _check_vectors(predictions, targets, ("predictions", "targets"), where)

    def unit(v):
        sq = fnp.sum(v * v, axis=-1, keepdims=True)
        return v / fnp.sqrt(fnp.where(sq > epsilon, sq, epsilon))

    return _reduce(fnp.sum(unit(predictions) * unit(targets), axis=-1), reduction, where)


def kl_divergence(log_predictions: Array, targets: Array, reduction: str = "mean") -> Array:
    """``KL(targets || predictions) = sum(t * (log t - log_predictions))`` over the last axis (optax's).

    ``log_predictions`` are log-probabilities (e.g. ``log_softmax(logits)``), ``targets``
    probabilities of the same shape; a target of 0 contributes 0 (``0 log 0 = 0``) and no
    gradient to ``log_predictions``.  The per-example values have shape ``targets.shape[:-1]``.

    Examples:
        >>> import numpy as np
        >>> t = np.array([[0.5, 0.5, 0.0]])
        >>> kl_divergence(np.log(np.array([[0.25, 0.25, 0.5]])), t, reduction="none")   # log 2
        array([0.69314718])
    """
    where = "kl_divergence"
    _check_vectors(log_predictions, targets, ("log_predictions", "targets"), where)
    zero = targets == 0
    log_t = fnp.where(zero, 0.0, fnp.log(fnp.where(zero, 1.0, targets)))
    return _reduce(fnp.sum(targets * (log_t - log_predictions), axis=-1), reduction, where)


def _log_mix(log_p: Array, log_q: Array, y: Array) -> Array:
    """``log((1 - y) p + y q)`` from ``log p`` and ``log q``, for ``y`` in [0, 1].

    Shifted by the larger log of the terms that count (a term with weight 0 is left out,
    so a hard label gives exactly ``log q`` or ``log p``): never overflows, never takes the
    log of an underflowed 0, and has finite derivatives everywhere."""
    m = fnp.where(y == 1, log_q, fnp.where(y == 0, log_p, fnp.maximum(log_p, log_q)))
    e_p = fnp.exp(fnp.where(y == 1, m, log_p) - m)
    e_q = fnp.exp(fnp.where(y == 0, m, log_q) - m)
    return m + fnp.log((1.0 - y) * e_p + y * e_q)


def sigmoid_focal_loss(logits: Array, labels: Array, alpha: float | None = None,
                       gamma: float = 2.0, reduction: str = "mean") -> Array:
    """Focal loss (Lin et al. 2017): the binary cross-entropy of ``sigmoid(logits)`` times ``(1 - p_t) ** gamma``.

    optax's ``sigmoid_focal_loss``: ``p_t`` is the probability given to the label
    (``p`` for label 1, ``1 - p`` for label 0; soft labels in ``[0, 1]`` interpolate),
    and ``alpha`` (optional, in ``[0, 1]``) weights the positives by ``alpha`` and the
    negatives by ``1 - alpha``.  ``log(1 - p_t)`` is computed from ``log_sigmoid``, so any
    logit and any ``gamma >= 0`` give a finite loss and gradient.  ``gamma=0`` is
    :func:`binary_cross_entropy_with_logits`.

    Examples:
        >>> import numpy as np
        >>> sigmoid_focal_loss(np.array([0.0, 1000.0]), np.array([1.0, 1.0]), reduction="none")
        array([0.1732868, 0.       ])
    """
    where = "sigmoid_focal_loss"
    _check_floating(logits, "logits", where)
    _same_shape(logits, labels, ("logits", "labels"), where)
    if alpha is not None:
        _check_fraction(alpha, "alpha", where)
    if is_concrete(labels) and not np.all((np.asarray(labels) >= 0) & (np.asarray(labels) <= 1)):
        raise ArgumentError(f"{where}: labels must be in [0, 1], got values from "
                            f"{np.min(labels)} to {np.max(labels)}")
    labels = fnp.astype(labels, dtype_of(logits))
    log_p, log_q = log_sigmoid(logits), log_sigmoid(-logits)
    cross_entropy = -labels * log_p - (1.0 - labels) * log_q
    losses = cross_entropy * fnp.exp(gamma * _log_mix(log_p, log_q, labels))
    if alpha is not None:
        losses = (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * losses
    return _reduce(losses, reduction, where)
