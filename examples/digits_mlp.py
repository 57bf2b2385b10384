"""A digit recogniser: an MLP trained with Adam under ``jit`` on scikit-learn's 8x8 digits.

Run ``python examples/digits_mlp.py``.  This is the MNIST example of the Zen
document (seed 004) on the digits bundled with scikit-learn (1,797 images of
8x8 pixels, no download).  The whole training step (forward pass, softmax
cross-entropy, ``value_and_grad``, Adam's update) is one ``funcgrad.jit``
function, traced once and then reused for every batch.  It writes two PNGs into
``--out``: the loss and accuracy curves, and the misclassified test digits.

The default 20 epochs reach 98 % test accuracy (97.5 % or more with the other
seeds we tried) in a few seconds; ``--epochs 3`` reaches about 94 %.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn, optim


def load_data(test_fraction: float = 0.25, split_seed: int = 0):
    """Pixels scaled to [0, 1]; a fixed, stratified train/test split."""
    digits = load_digits()
    x = digits.data / 16.0
    return train_test_split(x, digits.target, test_size=test_fraction,
                            random_state=split_seed, stratify=digits.target)


def save_curves(path: Path, losses: list[float], accuracies: list[float]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(losses) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, losses, marker="o")
    ax_loss.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log")
    ax_acc.plot(epochs, accuracies, marker="o", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(min(accuracies) - 0.02, 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_mistakes(path: Path, images: np.ndarray, labels: np.ndarray, predicted: np.ndarray,
                  limit: int = 24) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(predicted != labels)[:limit]
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong, strict=False):   # fewer mistakes than panels
        ax.imshow(images[i].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{labels[i]} -> {predicted[i]}", fontsize=9)
    count = int(np.sum(predicted != labels))
    fig.suptitle(f"misclassified test digits (true -> predicted): {count}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units")
    parser.add_argument("--batch", type=int, default=32, help="examples per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    parser.add_argument("--out", type=Path, default=Path("examples/out"), help="where the PNGs go")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    x_train, x_test, y_train, y_test = load_data()
    rng = np.random.default_rng(args.seed)
    model = nn.MLP([64, args.hidden, 10], activation=nn.relu)
    params = model.init(rng)
    opt = optim.adam(args.lr)
    state = opt.init(params)

    def loss(params, x, labels):
        return nn.softmax_cross_entropy(model.apply(params, x), labels)

    @fg.jit
    def train_step(params, state, x, labels):
        value, grads = fg.value_and_grad(loss)(params, x, labels)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, value

    predict = fg.jit(lambda params, x: fnp.argmax(model.apply(params, x), axis=-1))

    steps = len(x_train) // args.batch          # the last partial batch is dropped: one signature
    losses, accuracies = [], []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1:2d}/{args.epochs}", leave=False,
                   disable=args.no_progress)
        for step in bar:
            batch = order[step * args.batch:(step + 1) * args.batch]
            params, state, value = train_step(params, state, x_train[batch], y_train[batch])
            total += float(value)
            bar.set_postfix(loss=f"{total / (step + 1):.4f}", refresh=False)
        losses.append(total / steps)
        accuracies.append(float(np.mean(predict(params, x_test) == y_test)))
        if not args.no_progress:
            tqdm.write(f"epoch {epoch + 1:2d}: loss {losses[-1]:.4f}  test accuracy "
                       f"{accuracies[-1]:.4f}")
    seconds = time.perf_counter() - start

    predicted = np.asarray(predict(params, x_test))
    args.out.mkdir(parents=True, exist_ok=True)
    curves, mistakes = args.out / "digits_curves.png", args.out / "digits_mistakes.png"
    save_curves(curves, losses, accuracies)
    save_mistakes(mistakes, x_test, y_test, predicted)
    print(f"final test accuracy {accuracies[-1]:.4f} ({int(np.sum(predicted != y_test))} of "
          f"{len(y_test)} wrong) after {args.epochs} epochs in {seconds:.1f} s; "
          f"train_step traced {train_step.cache_info().misses} time(s)")
    print(f"wrote {curves} and {mistakes}")
    return {"test_accuracy": accuracies[-1], "accuracies": accuracies, "losses": losses,
            "seconds": seconds, "traces": train_step.cache_info().misses,
            "curves_png": curves, "mistakes_png": mistakes}


if __name__ == "__main__":
    main()
