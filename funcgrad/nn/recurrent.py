"""Recurrent cells: one time step of an Elman RNN (tanh), an LSTM and a GRU.

A cell maps ``(params, x, state)`` to the new state; unroll it over time with
a Python loop (under ``jit`` the loop is traced once and unrolled).  Inputs
have shape ``(..., input_size)``, states ``(..., hidden_size)``: the leading
dimensions (a batch) are free.  Weights start as ``U(-k, k)`` with
``k = 1 / sqrt(hidden_size)``, as in PyTorch.

Examples:
    >>> import numpy as np
    >>> cell = RNNCell(3, 4)
    >>> params = cell.init(np.random.default_rng(0))
    >>> h = cell.initial_state((2,))
    >>> for x in np.ones((5, 2, 3)):          # 5 time steps, batch of 2
    ...     h = cell.apply(params, x, h)
    >>> h.shape
    (2, 4)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import funcgrad.numpy as fnp
from funcgrad.errors import TreeStructureError
from funcgrad.nn import _initializers
from funcgrad.nn._util import check_float_dtype, check_positive_int, check_rng
from funcgrad.nn.activations import sigmoid
from funcgrad.nn.layers import Module, _check_last_dim, _check_param_shape

__all__ = ["GRUCell", "LSTMCell", "RNNCell"]

Array = Any
DTypeLike = Any


@dataclass(frozen=True)
class _Cell(Module):
    """The sizes every cell has, checked once; the state is one hidden vector unless overridden."""

    input_size: int
    hidden_size: int

    def __post_init__(self) -> None:
        check_positive_int(self.input_size, "input_size", type(self).__name__)
        check_positive_int(self.hidden_size, "hidden_size", type(self).__name__)

    def initial_state(self, batch_shape: tuple[int, ...] = (),
                      dtype: DTypeLike = np.float64) -> np.ndarray:
        """Zeros of shape ``batch_shape + (hidden_size,)``."""
        return np.zeros(tuple(batch_shape) + (self.hidden_size,), dtype)


def _init_cell(cell: _Cell, rng: np.random.Generator, dtype: DTypeLike,
               gates: int) -> dict[str, np.ndarray]:
    rng = check_rng(rng, f"{cell!r}.init")
    dt = check_float_dtype(dtype, f"{cell!r}.init")
    n, h = cell.input_size, cell.hidden_size
    k = 1.0 / math.sqrt(h)
    return {"w_ih": _initializers.uniform(rng, (n, gates * h), k, dt),
            "w_hh": _initializers.uniform(rng, (h, gates * h), k, dt),
            "b": _initializers.uniform(rng, (gates * h,), k, dt)}


def _preactivation(cell: _Cell, params: dict[str, Array], x: Array, h: Array,
                   gates: int) -> Array:
    """``x @ w_ih + h @ w_hh + b``, after checking every shape."""
    n, hid = cell.input_size, cell.hidden_size
    w_ih = _check_param_shape(params, "w_ih", (n, gates * hid), cell)
    w_hh = _check_param_shape(params, "w_hh", (hid, gates * hid), cell)
    b = _check_param_shape(params, "b", (gates * hid,), cell)
    _check_last_dim(x, n, "x", cell)
    _check_last_dim(h, hid, "h", cell)
    return fnp.matmul(x, w_ih) + fnp.matmul(h, w_hh) + b


@dataclass(frozen=True)
class RNNCell(_Cell):
    """``h' = tanh(x @ w_ih + h @ w_hh + b)``.

    Parameters: ``{"w_ih": (input_size, hidden_size), "w_hh": (hidden_size,
    hidden_size), "b": (hidden_size,)}``.

    Examples:
        >>> import numpy as np
        >>> cell = RNNCell(2, 3)
        >>> params = cell.init(np.random.default_rng(0))
        >>> cell.apply(params, np.zeros(2), cell.initial_state()).shape
        (3,)
    """

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """Weights and bias drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        return _init_cell(self, rng, dtype, 1)

    def apply(self, params: dict[str, Array], x: Array, h: Array) -> Array:  # type: ignore[override]
        """The next hidden state from input ``x`` and hidden state ``h``."""
        return fnp.tanh(_preactivation(self, params, x, h, 1))


@dataclass(frozen=True)
class LSTMCell(_Cell):
    """One LSTM step: ``(h, c) -> (h', c')`` with input, forget, cell and output gates.

    ``z = x @ w_ih + h @ w_hh + b`` is split into four blocks ``i, f, g, o``
    (PyTorch's order); ``c' = sigmoid(f) * c + sigmoid(i) * tanh(g)`` and
    ``h' = sigmoid(o) * tanh(c')``.  Parameters: ``{"w_ih": (input_size,
    4 * hidden_size), "w_hh": (hidden_size, 4 * hidden_size), "b": (4 *
    hidden_size,)}``.

    Examples:
        >>> import numpy as np
        >>> cell = LSTMCell(2, 3)
        >>> params = cell.init(np.random.default_rng(0))
        >>> h, c = cell.apply(params, np.ones((5, 2)), cell.initial_state((5,)))
        >>> h.shape, c.shape
        ((5, 3), (5, 3))
    """

    def init(self, rng: np.random.Generator, dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """Weights and bias drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        return _init_cell(self, rng, dtype, 4)

    def initial_state(self, batch_shape: tuple[int, ...] = (),
                      dtype: DTypeLike = np.float64) -> tuple[np.ndarray, np.ndarray]:
        """``(h, c)``, both zeros of shape ``batch_shape + (hidden_size,)``."""
        zeros = np.zeros(tuple(batch_shape) + (self.hidden_size,), dtype)
        return zeros, zeros.copy()

    def apply(self, params: dict[str, Array], x: Array,  # type: ignore[override]
              state: tuple[Array, Array]) -> tuple[Array, Array]:
        """The next ``(h, c)`` from input ``x`` and state ``(h, c)``."""
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TreeStructureError(f"{self!r}.apply: state must be a pair (h, c), got "
                                     f"{type(state).__name__}")
        h, c = state
        _check_last_dim(c, self.hidden_size, "c", self)
        z = _preactivation(self, params, x, h, 4)
        i, f, g, o = fnp.split(z, 4, axis=-1)
        c_new = sigmoid(f) * c + sigmoid(i) * fnp.tanh(g)
        return sigmoid(o) * fnp.tanh(c_new), c_new


@dataclass(frozen=True)
class GRUCell(_Cell):
    """One GRU step ``h -> h'`` with PyTorch's equations (``torch.nn.GRUCell``).

    With ``a = x @ w_ih + b_ih`` and ``b = h @ w_hh + b_hh`` split into blocks
    ``r, z, n`` (PyTorch's order): ``r = sigmoid(a_r + b_r)``, ``z = sigmoid(a_z +
    b_z)``, ``n = tanh(a_n + r * b_n)`` and ``h' = (1 - z) * n + z * h``.  The reset
    gate multiplies ``h @ w_hh_n + b_hh_n`` (Cho et al. 2014 v3, cuDNN, PyTorch;
    flax's ``GRUCell`` is the same function with its biases arranged differently).
    Parameters: ``{"w_ih": (input_size, 3 * hidden_size), "w_hh": (hidden_size,
    3 * hidden_size), "b_ih": (3 * hidden_size,), "b_hh": (3 * hidden_size,)}``;
    all drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))`` as in PyTorch.

    Examples:
        >>> import numpy as np
        >>> cell = GRUCell(2, 3)
        >>> params = cell.init(np.random.default_rng(0))
        >>> h = cell.apply(params, np.ones((5, 2)), cell.initial_state((5,)))
        >>> h.shape
        (5, 3)
    """

    def init(self, rng: np.random.Generator,
             dtype: DTypeLike = np.float64) -> dict[str, np.ndarray]:
        """Weights and both biases drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        rng = check_rng(rng, f"{self!r}.init")    # one stream of draws (a key is split once)
        params = _init_cell(self, rng, dtype, 3)
        params["b_ih"] = params.pop("b")
        k = 1.0 / math.sqrt(self.hidden_size)
        params["b_hh"] = _initializers.uniform(rng, (3 * self.hidden_size,), k,
                                               params["b_ih"].dtype)
        return params

    def apply(self, params: dict[str, Array], x: Array, h: Array) -> Array:  # type: ignore[override]
        """The next hidden state from input ``x`` and hidden state ``h``."""
        n, hid = self.input_size, self.hidden_size
        w_ih = _check_param_shape(params, "w_ih", (n, 3 * hid), self)
        w_hh = _check_param_shape(params, "w_hh", (hid, 3 * hid), self)
        b_ih = _check_param_shape(params, "b_ih", (3 * hid,), self)
        b_hh = _check_param_shape(params, "b_hh", (3 * hid,), self)
        _check_last_dim(x, n, "x", self)
        _check_last_dim(h, hid, "h", self)
        a_r, a_z, a_n = fnp.split(fnp.matmul(x, w_ih) + b_ih, 3, axis=-1)
        b_r, b_z, b_n = fnp.split(fnp.matmul(h, w_hh) + b_hh, 3, axis=-1)
        r, z = sigmoid(a_r + b_r), sigmoid(a_z + b_z)
        return (1.0 - z) * fnp.tanh(a_n + r * b_n) + z * h
