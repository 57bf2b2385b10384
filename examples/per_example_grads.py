"""Per-example gradients with ``vmap(grad)``, and DP-SGD built on them.

Run ``python examples/per_example_grads.py``.  ``vmap(grad(loss), in_axes=(None,
0, 0))`` gives one gradient per example in one vectorised pass; the example
checks it against a Python loop of ``grad`` and prints a summary of the
per-example gradient norms.  Then it trains a small MLP on synthetic data with
DP-SGD (Abadi et al., 2016): each example's gradient is clipped to norm ``C``,
the clipped gradients are averaged, and Gaussian noise of standard deviation
``sigma * C / batch`` is added, drawn from a seeded ``numpy.random.Generator``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn, optim


def make_data(rng: np.random.Generator, n: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels from a random linear teacher with a little label noise."""
    x = rng.standard_normal((n, features))
    teacher = rng.standard_normal(features)
    logits = x @ teacher + 0.3 * rng.standard_normal(n)
    return x, (logits > 0).astype(np.float64)[:, None]


def per_example_norms(grads) -> np.ndarray:
    """The Euclidean norm of each example's whole gradient (all leaves together)."""
    leaves = fg.tree.leaves(grads)
    squares = [np.sum(leaf.reshape(leaf.shape[0], -1) ** 2, axis=1) for leaf in leaves]
    return np.sqrt(np.sum(squares, axis=0))


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1024, help="training examples")
    parser.add_argument("--test-examples", type=int, default=1024, help="held-out examples")
    parser.add_argument("--features", type=int, default=10, help="input features")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units of the MLP")
    parser.add_argument("--batch", type=int, default=128, help="examples per DP-SGD step")
    parser.add_argument("--steps", type=int, default=300, help="DP-SGD steps")
    parser.add_argument("--clip", type=float, default=1.0, help="per-example norm bound C")
    parser.add_argument("--noise", type=float, default=1.0, help="noise multiplier sigma")
    parser.add_argument("--lr", type=float, default=0.5, help="SGD learning rate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    x_all, y_all = make_data(rng, args.examples + args.test_examples, args.features)
    (x, x_test), (y, y_test) = np.split(x_all, [args.examples]), np.split(y_all, [args.examples])
    model = nn.MLP([args.features, args.hidden, 1], activation=nn.tanh)
    params = model.init(rng)

    def loss(params, x, y):
        """The loss of one example: x has shape (features,), y shape (1,)."""
        return nn.binary_cross_entropy_with_logits(model.apply(params, x), y)

    def mean_loss_and_accuracy(params):
        """The training loss and the held-out accuracy."""
        accuracy = float(np.mean((model.apply(params, x_test) > 0) == (y_test > 0.5)))
        return float(nn.binary_cross_entropy_with_logits(model.apply(params, x), y)), accuracy

    # 1. vmap(grad) against a loop of grad, on one batch.
    per_example_grad = fg.jit(fg.vmap(fg.grad(loss), in_axes=(None, 0, 0)))
    xb, yb = x[:args.batch], y[:args.batch]
    batched = per_example_grad(params, xb, yb)
    looped = [fg.grad(loss)(params, xb[i], yb[i]) for i in range(len(xb))]
    stacked = fg.tree.map(lambda *leaves: np.stack(leaves), *looped)
    max_diff = max(float(np.max(np.abs(a - b)))
                   for a, b in zip(fg.tree.leaves(batched), fg.tree.leaves(stacked), strict=True))
    norms = per_example_norms(batched)
    print(f"vmap(grad) vs a loop of grad over {len(xb)} examples: "
          f"max abs difference {max_diff:.1e}")
    q = np.quantile(norms, [0.0, 0.5, 0.9, 1.0])
    print(f"per-example gradient norms: min {q[0]:.4f}  median {q[1]:.4f}  90% {q[2]:.4f}  "
          f"max {q[3]:.4f}  (clipped at C = {args.clip}: {np.mean(norms > args.clip):.0%})")

    # 2. DP-SGD: clip, average, add noise; the clipping runs inside one jitted function.
    @fg.jit
    def clipped_mean_grad(params, xb, yb):
        grads = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(params, xb, yb)
        squares = [fnp.sum(fnp.reshape(g, (g.shape[0], -1)) ** 2, axis=1)
                   for g in fg.tree.leaves(grads)]
        norms = fnp.sqrt(sum(squares))
        scale = 1.0 / fnp.maximum(1.0, norms / args.clip)        # min(1, C / norm)
        return fg.tree.map(
            lambda g: fnp.mean(g * fnp.reshape(scale, (-1,) + (1,) * (g.ndim - 1)), axis=0), grads)

    opt = optim.sgd(args.lr)
    state = opt.init(params)
    start_loss, start_accuracy = mean_loss_and_accuracy(params)
    print(f"DP-SGD, C = {args.clip}, sigma = {args.noise}, batch {args.batch}, "
          f"{args.steps} steps:")
    print(f"  before: training loss {start_loss:.4f}  test accuracy {start_accuracy:.3f}")
    for _ in range(args.steps):
        batch = rng.choice(args.examples, size=args.batch, replace=False)
        grads = clipped_mean_grad(params, x[batch], y[batch])
        noisy = fg.tree.map(
            lambda g: g + rng.normal(0.0, args.noise * args.clip / args.batch, g.shape), grads)
        updates, state = opt.update(noisy, state, params)
        params = optim.apply_updates(params, updates)
    final_loss, final_accuracy = mean_loss_and_accuracy(params)
    print(f"  after:  training loss {final_loss:.4f}  test accuracy {final_accuracy:.3f}")
    return {"max_abs_diff": max_diff, "norms": norms,
            "fraction_clipped": float(np.mean(norms > args.clip)),
            "start_loss": start_loss, "final_loss": final_loss,
            "start_accuracy": start_accuracy, "final_accuracy": final_accuracy}


if __name__ == "__main__":
    main()
