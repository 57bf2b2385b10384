"""More optimisers, each optax's chain of the same name, defaults and numerics.

adagrad, adadelta, adamax, nadam, radam, lamb, lars, lion and adafactor.
Every one ends in ``scale_by_learning_rate``, so ``learning_rate`` may be a
float or a schedule.
"""

from __future__ import annotations

from typing import Any

from funcgrad.optim import _checks
from funcgrad.optim._accumulation import ema
from funcgrad.optim._factored import scale_by_factored_rms
from funcgrad.optim._masking import masked
from funcgrad.optim._scaling import (
    clip_by_block_rms,
    scale_by_adadelta,
    scale_by_adamax,
    scale_by_lion,
    scale_by_param_block_rms,
    scale_by_radam,
    scale_by_rss,
    scale_by_trust_ratio,
)
from funcgrad.optim.base import GradientTransformation, Schedule, _named_chain
from funcgrad.optim.optimizers import adam
from funcgrad.optim.transform import (
    add_decayed_weights,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    trace,
)

__all__ = ["adadelta", "adafactor", "adagrad", "adamax", "lamb", "lars", "lion", "nadam", "radam"]


def _lr(name: str, learning_rate: Any) -> Any:
    if learning_rate is None:
        return None
    return _checks.real_or_schedule(learning_rate, name, "learning_rate")


def adagrad(learning_rate: float | Schedule, initial_accumulator_value: float = 0.1,
            eps: float = 1e-7) -> GradientTransformation:
    """Adagrad: ``s += g**2``, ``p -= lr * g / sqrt(s + eps)``, with ``s0 = initial_accumulator_value``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adagrad(1.0, initial_accumulator_value=0.0, eps=0.0)
        >>> p = np.zeros(1)
        >>> opt.update(np.array([4.0]), opt.init(p), p)[0]
        array([-1.])
    """
    lr = _lr("adagrad", learning_rate)
    return _named_chain("adagrad", scale_by_rss(initial_accumulator_value, eps),
                        scale_by_learning_rate(lr))


def adadelta(learning_rate: float | Schedule | None = None, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0, weight_decay_mask: Any = None) -> GradientTransformation:
    """AdaDelta (Zeiler): :func:`scale_by_adadelta` after optional weight decay, times ``-lr``.

    ``learning_rate=None`` is AdaDelta without a learning rate (a step of ``-1``).

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adadelta(1.0, rho=0.0, eps=1.0)
        >>> p = np.zeros(1)
        >>> opt.update(np.array([3.0]), opt.init(p), p)[0]  # -sqrt(0 + 1) / sqrt(9 + 1) * 3
        array([-0.9486833])
    """
    lr = _lr("adadelta", learning_rate)
    return _named_chain("adadelta", add_decayed_weights(weight_decay, weight_decay_mask),
                        scale_by_adadelta(rho, eps),
                        scale_by_learning_rate(-1.0 if lr is None else lr))


def adamax(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8) -> GradientTransformation:
    """AdaMax (Kingma & Ba): ``p -= lr * m_hat / u`` with ``u = max(|g| + eps, b2 u)``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adamax(0.1)
        >>> p = np.zeros(2)
        >>> opt.update(np.array([2.0, -4.0]), opt.init(p), p)[0]
        array([-0.1,  0.1])
    """
    lr = _lr("adamax", learning_rate)
    return _named_chain("adamax", scale_by_adamax(b1, b2, eps), scale_by_learning_rate(lr))


def nadam(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0) -> GradientTransformation:
    """NAdam (Dozat): ``adam(..., nesterov=True)``, Adam with a Nesterov first moment.

    ``m_hat = b1 m / (1 - b1**(t+1)) + (1 - b1) g / (1 - b1**t)``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.nadam(0.1)
        >>> p = np.zeros(1)
        >>> opt.update(np.array([1.0]), opt.init(p), p)[0]  # -0.1 * (0.9*0.1/0.19 + 0.1/0.1)
        array([-0.14736842])
    """
    return adam(learning_rate, b1, b2, eps, eps_root, nesterov=True)


def radam(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          eps_root: float = 0.0, threshold: float = 5.0, *,
          nesterov: bool = False) -> GradientTransformation:
    """Rectified Adam (Liu et al.); see :func:`scale_by_radam`.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.radam(0.1)
        >>> p = np.zeros(1)
        >>> opt.update(np.array([3.0]), opt.init(p), p)[0]  # no rectification yet: -lr * m_hat
        array([-0.3])
    """
    lr = _lr("radam", learning_rate)
    return _named_chain("radam", scale_by_radam(b1, b2, eps, eps_root, threshold,
                                                nesterov=nesterov), scale_by_learning_rate(lr))


def lamb(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-6,
         eps_root: float = 0.0, weight_decay: float = 0.0,
         mask: Any = None) -> GradientTransformation:
    """LAMB (You et al.): Adam's direction plus weight decay, scaled per leaf by the trust ratio.

    ``d = m_hat / (sqrt(v_hat + eps_root) + eps) + weight_decay * p``;
    ``p -= lr * |p| / |d| * d`` (ratio 1 where a norm is 0).

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.lamb(0.1)
        >>> p = np.array([3.0, 4.0])
        >>> opt.update(np.array([1.0, 0.0]), opt.init(p), p)[0]  # |p| = 5, d = (1, 0)
        array([-0.5, -0. ])
    """
    lr = _lr("lamb", learning_rate)
    return _named_chain("lamb", scale_by_adam(b1, b2, eps, eps_root),
                        add_decayed_weights(weight_decay, mask), scale_by_trust_ratio(),
                        scale_by_learning_rate(lr))


def lars(learning_rate: float | Schedule, weight_decay: float = 0.0, weight_decay_mask: Any = True,
         trust_coefficient: float = 0.001, eps: float = 0.0, trust_ratio_mask: Any = True,
         momentum: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """LARS (You et al.): weight decay, a per-leaf trust ratio, the learning rate, then momentum.

    ``d = g + weight_decay * p``; ``d *= trust_coefficient |p| / (|d| + eps)``
    (ratio 1 where a norm is 0); ``v = -lr d + momentum v``; ``p += v``.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.lars(1.0, trust_coefficient=1.0)
        >>> p = np.array([3.0, 4.0])
        >>> opt.update(np.array([0.0, 2.0]), opt.init(p), p)[0]  # |p| / |g| = 2.5
        array([ 0., -5.])
    """
    lr = _lr("lars", learning_rate)
    return _named_chain("lars", add_decayed_weights(weight_decay, weight_decay_mask),
                        masked(scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps),
                               trust_ratio_mask),
                        scale_by_learning_rate(lr), trace(momentum, nesterov))


def lion(learning_rate: float | Schedule, b1: float = 0.9, b2: float = 0.99,
         weight_decay: float = 1e-3, mask: Any = None) -> GradientTransformation:
    """Lion (Chen et al.): ``p -= lr * (sign((1 - b1) g + b1 m) + weight_decay * p)``.

    The momentum ``m = b2 m + (1 - b2) g`` is updated after the step.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.lion(0.1, weight_decay=0.0)
        >>> p = np.zeros(2)
        >>> opt.update(np.array([0.5, -3.0]), opt.init(p), p)[0]
        array([-0.1,  0.1])
    """
    lr = _lr("lion", learning_rate)
    return _named_chain("lion", scale_by_lion(b1, b2), add_decayed_weights(weight_decay, mask),
                        scale_by_learning_rate(lr))


def adafactor(learning_rate: float | Schedule | None = None, min_dim_size_to_factor: int = 128,
              decay_rate: float = 0.8, decay_offset: int = 0,
              multiply_by_parameter_scale: bool = True, clipping_threshold: float | None = 1.0,
              momentum: float | None = None, weight_decay_rate: float | None = None,
              eps: float = 1e-30, factored: bool = True,
              weight_decay_mask: Any = None) -> GradientTransformation:
    """Adafactor (Shazeer & Stern), as optax chains it.

    :func:`scale_by_factored_rms` (factored second moments for matrices with
    two dimensions of at least ``min_dim_size_to_factor``), then
    ``clip_by_block_rms(clipping_threshold)``, times ``learning_rate``, times
    the parameter's RMS (at least 1e-3) when ``multiply_by_parameter_scale``,
    an undebiased ``ema(momentum)``, plus ``weight_decay_rate * p``, negated.
    ``None`` switches a step off.

    Examples:
        >>> import numpy as np
        >>> from funcgrad import optim
        >>> opt = optim.adafactor(0.1, multiply_by_parameter_scale=False)
        >>> p = np.zeros(2)
        >>> opt.update(np.array([2.0, -0.5]), opt.init(p), p)[0]  # -lr * sign(g)
        array([-0.1,  0.1])
    """
    where = "adafactor"
    lr = _lr(where, learning_rate)
    chain = [scale_by_factored_rms(factored, decay_rate, decay_offset, min_dim_size_to_factor,
                                   eps)]
    if clipping_threshold is not None:
        chain.append(clip_by_block_rms(clipping_threshold))
    if lr is not None:
        chain.append(scale_by_learning_rate(lr, flip_sign=False))
    if _checks.boolean(multiply_by_parameter_scale, where, "multiply_by_parameter_scale"):
        chain.append(scale_by_param_block_rms())
    if momentum is not None:
        chain.append(ema(momentum, debias=False))
    if weight_decay_rate is not None:
        chain.append(add_decayed_weights(weight_decay_rate, weight_decay_mask))
    chain.append(scale(-1.0))
    return _named_chain(where, *chain)
