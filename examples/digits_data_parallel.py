"""Data-parallel training of the digits MLP over MPI: one script, alone or under ``mpiexec``.

Run ``python examples/digits_data_parallel.py`` (one process) or
``mpiexec -n 2 python examples/digits_data_parallel.py`` (two ranks; any N).
The model, data and optimiser are those of ``digits_mlp.py`` (a 64-128-10 MLP,
softmax cross-entropy, Adam, scikit-learn's 8x8 digits).

Why every run reaches the same accuracy: every rank loads the whole data set
and draws the same permutation from the same seed, so at each step all ranks
pick the same *global* batch of ``--batch`` examples.  ``distributed.shard``
gives each rank its contiguous slice of that batch (``np.array_split``
semantics: uneven when N does not divide the batch), and
``distributed.data_parallel`` averages the loss and the gradients across ranks
weighted by the slices' sizes: the gradient of the global batch's mean loss,
for any N, to float rounding.  The Adam update then runs identically on every
rank (the averaged gradients are bit-identical everywhere), starting from
parameters broadcast from rank 0.  Test accuracy: each rank scores its shard
of the test set and the counts of correct answers are summed with
``allreduce(..., op="sum")``.

Rank 0 prints a progress bar, the per-rank throughput (training examples per
second, each rank's own slice) and the final accuracy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import distributed, nn, optim


def load_data(test_fraction: float = 0.25, split_seed: int = 0):
    """Pixels scaled to [0, 1]; a fixed, stratified train/test split (as in ``digits_mlp.py``)."""
    digits = load_digits()
    x = digits.data / 16.0
    return train_test_split(x, digits.target, test_size=test_fraction,
                            random_state=split_seed, stratify=digits.target)


def per_rank(value: float) -> np.ndarray:
    """Every rank's ``value``, in rank order, on every rank (an allreduce of one-hot vectors)."""
    slots = np.zeros(distributed.size())
    slots[distributed.rank()] = value
    return distributed.allreduce(slots, op="sum")


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units")
    parser.add_argument("--batch", type=int, default=32,
                        help="global examples per step, split across the ranks")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the shuffling")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    rank, size = distributed.rank(), distributed.size()
    if args.batch < size:
        parser.error(f"--batch {args.batch} gives some of the {size} ranks no example")

    x_train, x_test, y_train, y_test = load_data()
    rng = np.random.default_rng(args.seed)            # the same stream on every rank
    model = nn.MLP([64, args.hidden, 10], activation=nn.relu)
    params = distributed.broadcast(model.init(rng), root=0)
    opt = optim.adam(args.lr)
    state = opt.init(params)

    def loss(params, batch):
        x, labels = batch
        return nn.softmax_cross_entropy(model.apply(params, x), labels)

    # The MPI reduction cannot run inside a compiled graph: jit the local gradient and the
    # update, and let data_parallel average between them.
    value_and_grad = distributed.data_parallel(fg.jit(fg.value_and_grad(loss)), batch_argnums=1)

    @fg.jit
    def update(params, state, grads):
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    predict = fg.jit(lambda params, x: fnp.argmax(model.apply(params, x), axis=-1))

    steps = len(x_train) // args.batch       # the last partial batch is dropped: one signature
    losses, local_examples = [], 0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1:2d}/{args.epochs}", leave=False,
                   disable=args.no_progress or rank != 0)
        for step in bar:
            batch = order[step * args.batch:(step + 1) * args.batch]
            local = distributed.shard((x_train[batch], y_train[batch]))
            value, grads = value_and_grad(params, local)
            params, state = update(params, state, grads)
            local_examples += len(local[1])
            total += float(value)
            bar.set_postfix(loss=f"{total / (step + 1):.4f}", refresh=False)
        losses.append(total / steps)
    seconds = time.perf_counter() - start

    x_shard, y_shard = distributed.shard((x_test, y_test))
    correct = distributed.allreduce(np.sum(predict(params, x_shard) == y_shard), op="sum")
    accuracy = float(correct) / len(y_test)
    throughput = per_rank(local_examples / seconds)
    if rank == 0:
        for r, rate in enumerate(throughput):
            print(f"rank {r}: {rate:,.0f} training examples/s")
        print(f"{size} rank(s), global batch {args.batch}, {steps} steps per epoch: final "
              f"training loss {losses[-1]:.6f}, final test accuracy {accuracy:.4f} "
              f"({len(y_test) - int(correct)} of {len(y_test)} wrong) after {args.epochs} "
              f"epochs in {seconds:.1f} s")
    return {"test_accuracy": accuracy, "losses": losses, "throughput": throughput,
            "seconds": seconds, "size": size, "params": params}


if __name__ == "__main__":
    main()
