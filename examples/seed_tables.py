"""Reproduce the numbers printed in the origin documents (shared/seeds/) with funcgrad.

Run ``python examples/seed_tables.py``.  Each section recomputes one printed
result with the public API only: parameters are plain lists/dicts of NumPy
arrays, gradients come from ``fg.grad`` / ``fg.value_and_grad`` / ``fg.vjp``, and
SGD is the pure update ``p - lr * g`` mapped over the parameter tree.

The origin's framework drew one ``randint(0, 100000)`` from NumPy's global
generator for every tensor it created (its node ids), so its initial weights
depend on those draws.  We replay that stream with ``np.random.RandomState(42)``,
which is exactly the legacy generator that ``np.random.seed(42)`` drives, without
touching the global state.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

DATA = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGET = np.array([[0.0], [1.0], [0.0], [1.0]])

# The table 001 printed for its first autograd network, which double-counted
# gradients.  Kept only to check that our explanation of the bug reproduces it.
DOCUMENT_BUGGY_TABLE = [1.11374267, 0.62255894, 0.3880155, 0.2383683, 0.13717701,
                        0.07307696, 0.03598853, 0.01689497, 0.00830702, 0.00459155]
# The origin's backward pass returned early from its "all children accounted for"
# check: the first weight's gradient came out 2x the true one, the second's 1.5x.
BUGGY_GRADIENT_SCALES = [2.0, 1.5]

LossFn = Callable[[Any], tuple[Any, Any]]


def _node_id_draws(rng: np.random.RandomState, n: int) -> None:
    """Consume the ``n`` node-id draws the origin made when it created ``n`` tensors."""
    for _ in range(n):
        rng.randint(0, 100000)


# ---------------------------------------------------------------------------
# Parameters, exactly as the origin drew them
# ---------------------------------------------------------------------------

def linear_sequential_params(seed: int = 42) -> list[dict[str, np.ndarray]]:
    """001's ``Sequential([Linear(2, 3), Linear(3, 1)])``: He-initialised weights, zero biases."""
    rng = np.random.RandomState(seed)
    _node_id_draws(rng, 2)  # the data and target tensors
    params = []
    for n_in, n_out in [(2, 3), (3, 1)]:
        weight = rng.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        _node_id_draws(rng, 1)  # the weight tensor
        bias = np.zeros(n_out)
        _node_id_draws(rng, 1)  # the bias tensor
        params.append({"weight": weight, "bias": bias})
    return params


def hand_network_params(seed: int = 42) -> list[np.ndarray]:
    """001's hand-written NumPy network: plain arrays, so no node-id draws."""
    rng = np.random.RandomState(seed)
    return [rng.rand(2, 3), rng.rand(3, 1)]


def first_autograd_params(seed: int = 42) -> list[np.ndarray]:
    """001's first autograd network: the same matrices as tensors, with their node-id draws."""
    rng = np.random.RandomState(seed)
    _node_id_draws(rng, 2)  # data, target
    w0 = rng.rand(2, 3)
    _node_id_draws(rng, 1)  # w0's tensor
    w1 = rng.rand(3, 1)
    return [w0, w1]


# ---------------------------------------------------------------------------
# Losses: (scalar to differentiate, per-column loss array the origin printed)
# ---------------------------------------------------------------------------

def sequential_loss(params: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Squared error of the linear stack, summed over the batch (axis 0)."""
    h = DATA
    for layer in params:
        h = h @ layer["weight"] + layer["bias"]
    per_column = fnp.sum((h - TARGET) ** 2, axis=0)
    return fnp.sum(per_column), per_column


def two_matrix_loss(w: list[Any]) -> tuple[Any, Any]:
    """Squared error of ``data @ w0 @ w1``, summed over the batch (axis 0)."""
    per_column = fnp.sum((DATA @ w[0] @ w[1] - TARGET) ** 2, axis=0)
    return fnp.sum(per_column), per_column


# ---------------------------------------------------------------------------
# Training: pure SGD over a parameter tree
# ---------------------------------------------------------------------------

def sgd(params: Any, grads: Any, lr: float) -> Any:
    """One SGD step as a pure function: a new tree ``p - lr * g``."""
    return fg.tree.map(lambda p, g: p - lr * g, params, grads)


def train(loss_fn: LossFn, params: Any, lr: float, steps: int,
          grad_scales: Any = None) -> list[np.ndarray]:
    """Run ``steps`` SGD steps; return the per-column loss printed before each update.

    ``grad_scales`` (a tree like ``params`` of numbers) multiplies each gradient
    before the update; it exists only to reproduce the origin's miscounted gradients.
    """
    value_and_grad = fg.value_and_grad(loss_fn, has_aux=True)
    losses = []
    for _ in range(steps):
        (_, per_column), grads = value_and_grad(params)
        if grad_scales is not None:
            grads = fg.tree.map(lambda g, s: s * g, grads, grad_scales)
        params = sgd(params, grads, lr)
        losses.append(np.asarray(per_column))
    return losses


# ---------------------------------------------------------------------------
# The small worked examples (003, 004, 000/001)
# ---------------------------------------------------------------------------

def sphere_grads() -> tuple[float, float]:
    """003: y = x0**2 + x1**2 at (6, 3)."""
    gx0, gx1 = fg.grad(lambda x0, x1: x0 ** 2 + x1 ** 2, argnums=(0, 1))(6.0, 3.0)
    return float(gx0), float(gx1)


def add_mul_grads() -> tuple[float, float, float]:
    """003: a = x0 + x1; y = a * x at x0=6, x1=3, x=2 -> (dy/dx0, dy/dx1, dy/dx)."""
    def y(x0, x1, x):
        a = x0 + x1
        return a * x
    gx0, gx1, gx = fg.grad(y, argnums=(0, 1, 2))(6.0, 3.0, 2.0)
    return float(gx0), float(gx1), float(gx)


def power_product_grads() -> tuple[float, float]:
    """004: d = (a*b)**2 at a=10, b=5."""
    ga, gb = fg.grad(lambda a, b: (a * b) ** 2, argnums=(0, 1))(10.0, 5.0)
    return float(ga), float(gb)


def shared_tensor_grad(negate: bool) -> np.ndarray:
    """000/001: f = d + e with d = a + b, e = b + c (or -b in both); returns df/db.

    As in the origin, the backward pass is seeded with a vector of ones (a VJP).
    """
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 2.0, 2.0, 2.0, 2.0])
    c = np.array([5.0, 4.0, 3.0, 2.0, 1.0])

    def f(b):
        used = -b if negate else b
        d = a + used
        e = used + c
        return d + e

    out, f_vjp = fg.vjp(f, b)
    (grad_b,) = f_vjp(np.ones_like(out))
    return grad_b


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------

def _heading(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def _print_table(losses: Sequence[np.ndarray]) -> None:
    for step, loss in enumerate(losses, 1):
        print(f"{step:3d}  {loss}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="SGD steps per table (default 10)")
    args = parser.parse_args(argv)
    steps = args.steps

    _heading("a. 001 Linear/Sequential network (seed 42, node-id draws, SGD lr 0.05)")
    _print_table(train(sequential_loss, linear_sequential_params(), 0.05, steps))

    _heading("b. 001 hand-written two-matrix network (seed 42, SGD lr 0.05, full precision)")
    for step, loss in enumerate(train(two_matrix_loss, hand_network_params(), 0.05, steps), 1):
        print(f"{step:3d}  {float(loss[0])!r}")

    _heading("c. 001 first autograd network (seed 42, node-id draws, SGD lr 0.1)")
    correct = train(two_matrix_loss, first_autograd_params(), 0.1, steps)
    _print_table(correct)
    print("note: the document printed 1.11374267, 0.62255894, 0.3880155, ... because its "
          "backward pass double-counted gradients.")
    buggy = train(two_matrix_loss, first_autograd_params(), 0.1, steps, BUGGY_GRADIENT_SCALES)
    print("with the first gradient scaled 2x and the second 1.5x (the origin's bug):")
    _print_table(buggy)
    same = all(round(float(loss[0]), 8) == printed
               for loss, printed in zip(buggy, DOCUMENT_BUGGY_TABLE))
    print(f"scaled run equals the document's printed table to 8 digits: {same}")

    _heading("d. 003 DeZero examples")
    gx0, gx1 = sphere_grads()
    print(f"sphere y = x0**2 + x1**2 at (6, 3): x0.grad = {gx0}, x1.grad = {gx1}")
    gx0, gx1, gx = add_mul_grads()
    print(f"y = (x0 + x1) * x at x0=6, x1=3, x=2: x0.grad = {gx0}, x1.grad = {gx1}, "
          f"x.grad = {gx}")

    _heading("e. 004 Zen example")
    ga, gb = power_product_grads()
    print(f"d = (a*b)**2 at a=10, b=5: a.grad = {ga}, b.grad = {gb}")

    _heading("f. 000/001 a tensor used twice")
    print(f"d = a + b; e = b + c; f = d + e: b.grad = {shared_tensor_grad(negate=False)}")
    print(f"d = a + (-b); e = (-b) + c; f = d + e: b.grad = {shared_tensor_grad(negate=True)}")


if __name__ == "__main__":
    main()
