"""The optimisers: ``sgd`` (with momentum and Nesterov), ``adam``, ``adamw``, ``rmsprop``.

Each is a ``chain`` of the transformations in :mod:`funcgrad.optim.transform`
ending in ``scale_by_learning_rate``, so ``learning_rate`` may be a float or a
schedule of the step count.
"""

from __future__ import annotations

from typing import Any

from funcgrad.errors import ArgumentError
from funcgrad.optim import _checks
from funcgrad.optim.base import GradientTransformation, Schedule, _named_chain
from funcgrad.optim.transform import (
    add_decayed_weights,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    scale_by_stddev,
    trace,
)

__all__ = ["adam", "adamw", "rmsprop", "sgd"]


def _momentum(name: str, momentum: float | None, nesterov: bool) -> list[GradientTransformation]:
    if not isinstance(nesterov, bool):
        raise ArgumentError(f"{name}: nesterov must be a bool, got {nesterov!r}")
    if momentum is None:
        if nesterov:
            raise ArgumentError(f"{name}: nesterov=True needs a momentum (e.g. momentum=0.9)")
        return []
    return [trace(_checks.real(momentum, name, "momentum", low=0.0), nesterov)]


def sgd(learning_rate: float | Schedule, momentum: float | None = None,
        nesterov: bool = False) -> GradientTransformation:
    """Stochastic gradient descent, ``p -= lr * g``, optionally with momentum.

    With ``momentum``: ``v = g + momentum * v`` and ``p -= lr * v``;
    ``nesterov=True`` steps by ``g + momentum * v`` instead (PyTorch's convention).

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.sgd(0.1, momentum=0.9)
        >>> params = np.array([1.0])
        >>> state = opt.init(params)
        >>> for _ in range(2):
        ...     updates, state = opt.update(np.array([1.0]), state, params)
        ...     params = optim.apply_updates(params, updates)
        >>> params  # 1 - 0.1 * 1 - 0.1 * (1 + 0.9)
        array([0.71])
    """
    lr = _checks.real_or_schedule(learning_rate, "sgd", "learning_rate")
    return _named_chain("sgd", *_momentum("sgd", momentum, nesterov), scale_by_learning_rate(lr))


def adam(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8, eps_root: float = 0.0, *,
         nesterov: bool = False) -> GradientTransformation:
    """Adam (Kingma & Ba): ``p -= lr * m_hat / (sqrt(v_hat + eps_root) + eps)``.

    See :func:`scale_by_adam`; ``nesterov=True`` is NAdam (:func:`~funcgrad.optim.nadam`).

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adam(0.1)
        >>> params = {"w": np.array([1.0, -1.0])}
        >>> updates, state = opt.update({"w": np.array([0.5, -2.0])}, opt.init(params), params)
        >>> updates  # the first Adam step is -lr * sign(g)
        {'w': array([-0.1,  0.1])}
    """
    lr = _checks.real_or_schedule(learning_rate, "adam", "learning_rate")
    return _named_chain("adam", scale_by_adam(b1, b2, eps, eps_root, nesterov=nesterov),
                        scale_by_learning_rate(lr))


def adamw(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, weight_decay: float = 1e-2, mask: Any = None, *,
          eps_root: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    """Adam with decoupled weight decay.

    ``p -= lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)``.

    The decay is not part of the gradient, so it is not rescaled by Adam's
    moments (Loshchilov & Hutter); ``update`` needs ``params``.  ``mask`` (a
    tree of bools like the params, a prefix of it, or a function of the
    params) decays only the leaves marked ``True``, e.g. not biases or norms.
    (optax's default ``weight_decay`` is 1e-4; funcgrad's is PyTorch's 1e-2.)

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adamw(0.1, weight_decay=0.5)
        >>> params = np.array([2.0])
        >>> opt.update(np.array([3.0]), opt.init(params), params)[0]  # -0.1 * (1 + 0.5 * 2)
        array([-0.2])
    """
    lr = _checks.real_or_schedule(learning_rate, "adamw", "learning_rate")
    return _named_chain("adamw", scale_by_adam(b1, b2, eps, eps_root, nesterov=nesterov),
                        add_decayed_weights(weight_decay, mask), scale_by_learning_rate(lr))


def rmsprop(learning_rate: float | Schedule, decay: float = 0.9, eps: float = 1e-8,
            momentum: float | None = None, nesterov: bool = False, *,
            initial_scale: float = 0.0, eps_in_sqrt: bool = False,
            centered: bool = False) -> GradientTransformation:
    """RMSProp: ``v = decay v + (1 - decay) g**2``, ``p -= lr * g / (sqrt(v) + eps)``.

    With ``momentum``, the scaled gradients go through :func:`trace` before the
    learning rate (PyTorch's convention): ``b = momentum b + g / (sqrt(v) + eps)``, ``p -= lr b``.
    ``eps_in_sqrt=True`` divides by ``sqrt(v + eps)`` (optax's default; funcgrad
    keeps PyTorch's ``False``); ``centered=True`` divides by the standard
    deviation ``sqrt(v - m**2)``, with ``m`` the running mean of ``g``
    (:func:`scale_by_stddev`); ``v`` starts at ``initial_scale``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.rmsprop(0.01, decay=0.75, eps=0.0)
        >>> params = np.array([1.0])
        >>> opt.update(np.array([-4.0]), opt.init(params), params)[0]  # 0.01 * 4 / sqrt(0.25 * 16)
        array([0.02])
    """
    lr = _checks.real_or_schedule(learning_rate, "rmsprop", "learning_rate")
    by = scale_by_stddev if _checks.boolean(centered, "rmsprop", "centered") else scale_by_rms
    return _named_chain("rmsprop", by(decay, eps, initial_scale, eps_in_sqrt),
                        *_momentum("rmsprop", momentum, nesterov), scale_by_learning_rate(lr))
