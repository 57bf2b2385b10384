"""A tiny causal transformer that learns to sort: 2 layers, trained with AdamW, warm-up-cosine and clipping.

Run ``python examples/tiny_transformer.py``.  Each example is a random sequence
of ``--length`` digits (0 to ``--vocab`` - 1), a separator token, then the same
digits sorted::

    3 1 4 1 5 9 2 6 | 1 1 2 3 4 5 6 9

A decoder-only transformer reads the sequence left to right and is trained to
predict every next token after the separator (the sorted half), with the usual
causal mask so position ``t`` sees only positions ``<= t``.  The model, from
``funcgrad.nn``:

    Embedding(tokens) + Embedding(positions)
    2 x [ x + MultiheadAttention(LayerNorm(x), causal=True)      (pre-norm blocks)
          x + Linear(gelu(Linear(LayerNorm(x)))) ]
    LayerNorm - Linear(-> vocab)

trained on fresh random sequences every step with ``optim.chain(
clip_by_global_norm(1.0), adamw(warmup_cosine_decay_schedule(...)))``, the whole
step under ``funcgrad.jit``.  It prints the held-out token accuracy of the sorted
half (teacher-forced, every position at once) and the fraction of held-out
sequences sorted entirely right when the model writes its own output one token
at a time (greedy decoding), and writes a PNG of the curves and of one layer's
attention weights to ``--png``.

Measured on a shared 2-core machine: the default 500 steps take 24 to 38 s of
training, depending on the other jobs on the cores, and reach 99.99 % held-out
token accuracy, with 99.9 % of the 1,000 held-out sequences sorted entirely
right by greedy decoding (seeds 1 to 3: 99.92 % to 99.98 % of the tokens,
99.5 % to 99.8 % of the sequences).  ``--steps 80 --dim 32 --length 4
--warmup 10`` takes about 4 s and reaches about 95 %.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn, optim


def make_batch(rng: np.random.Generator, count: int, length: int, vocab: int) -> np.ndarray:
    """``count`` rows of ``length`` random digits, the separator ``vocab``, the sorted digits."""
    digits = rng.integers(0, vocab, size=(count, length))
    separator = np.full((count, 1), vocab)
    return np.concatenate([digits, separator, np.sort(digits, axis=1)], axis=1)


class Transformer:
    """A decoder-only, pre-norm transformer over ``vocab + 1`` tokens (the digits, the separator)."""

    def __init__(self, vocab: int, context: int, dim: int = 64, heads: int = 4, layers: int = 2):
        self.tokens = nn.Embedding(vocab + 1, dim)
        self.positions = nn.Embedding(context, dim)
        self.attention = nn.MultiheadAttention(dim, heads)
        self.norm = nn.LayerNorm(dim)
        self.up, self.down = nn.Linear(dim, 4 * dim, init="glorot"), nn.Linear(4 * dim, dim)
        self.head = nn.Linear(dim, vocab, init="glorot")
        self.layers = layers

    def init(self, rng: np.random.Generator):
        block = {"norm1": self.norm, "attention": self.attention, "norm2": self.norm,
                 "up": self.up, "down": self.down}
        return {"tokens": self.tokens.init(rng), "positions": self.positions.init(rng),
                "blocks": [{name: layer.init(rng) for name, layer in block.items()}
                           for _ in range(self.layers)],
                "norm": self.norm.init(rng), "head": self.head.init(rng)}

    def apply(self, params, ids, return_attention: bool = False):
        """Next-token logits ``(N, T, vocab)`` for token ids ``(N, T)`` (and, if asked, the
        last block's attention weights ``(N, heads, T, T)``)."""
        x = self.tokens.apply(params["tokens"], ids) + self.positions.apply(
            params["positions"], np.arange(ids.shape[-1]))
        weights = None
        for p in params["blocks"]:
            h = self.norm.apply(p["norm1"], x)
            if return_attention:                     # the last block's weights are kept
                weights = self.attention_weights(p["attention"], h)
            x = x + self.attention.apply(p["attention"], h, causal=True)
            h = self.norm.apply(p["norm2"], x)
            x = x + self.down.apply(p["down"], nn.gelu(self.up.apply(p["up"], h)))
        logits = self.head.apply(params["head"], self.norm.apply(params["norm"], x))
        return (logits, weights) if return_attention else logits

    def attention_weights(self, params, h):
        """The causal attention weights of one ``MultiheadAttention`` on ``h``: ``(N, H, T, T)``."""
        heads = self.attention.num_heads
        q, k = (fnp.reshape(self.attention.projections[name].apply(params[name], h),
                            h.shape[:-1] + (heads, -1)) for name in ("query", "key"))
        return nn.dot_product_attention_weights(q, k, causal=True)


def save_figure(fig, path: Path) -> None:
    """Write ``fig`` as a PNG to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    fig.savefig(partial, format="png", dpi=100)
    os.replace(partial, path)


def plot(path: Path, history: list[tuple[int, float, float]], weights: np.ndarray,
         sequence: np.ndarray, separator: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, losses, accuracies = (np.array(column) for column in zip(*history, strict=True))
    heads = weights.shape[0]
    fig, axes = plt.subplots(1, 2 + heads, figsize=(8 + 2.6 * heads, 3.4), layout="constrained",
                             gridspec_kw={"width_ratios": [1.4, 1.4] + [1] * heads})
    axes[0].plot(steps, losses)
    axes[0].set(xlabel="step", ylabel="training loss", yscale="log")
    axes[1].plot(steps, accuracies, color="tab:green")
    axes[1].set(xlabel="step", ylabel="held-out token accuracy", ylim=(0, 1.01))
    for ax in axes[:2]:
        ax.grid(alpha=0.3)
    labels = ["|" if t == separator else str(t) for t in sequence]
    for h, ax in enumerate(axes[2:]):
        ax.imshow(weights[h], cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_title(f"last layer, head {h + 1}", fontsize=9)
        ax.set_xticks(range(len(sequence)), labels, fontsize=6)
        ax.set_yticks(range(len(sequence)), labels, fontsize=6)
    save_figure(fig, path)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="training steps")
    parser.add_argument("--length", type=int, default=8, help="digits per sequence")
    parser.add_argument("--vocab", type=int, default=10, help="distinct digits")
    parser.add_argument("--dim", type=int, default=64, help="model width")
    parser.add_argument("--heads", type=int, default=4, help="attention heads")
    parser.add_argument("--batch", type=int, default=64, help="sequences per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up steps")
    parser.add_argument("--weight-decay", type=float, default=1e-2, help="AdamW's weight decay")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the data")
    parser.add_argument("--png", type=Path, default=Path("examples/out/tiny_transformer.png"),
                        help="where the PNG goes")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)

    n = args.length
    rng = np.random.default_rng(args.seed)
    model = Transformer(args.vocab, 2 * n + 1, args.dim, args.heads)
    params = model.init(rng)
    schedule = optim.warmup_cosine_decay_schedule(0.0, args.lr, args.warmup, args.steps)
    opt = optim.chain(optim.clip_by_global_norm(1.0),
                      optim.adamw(schedule, weight_decay=args.weight_decay))
    opt_state = opt.init(params)

    def sorted_half_logits(params, sequences):
        """The logits that predict the sorted half: those at the separator and after it,
        but the last."""
        return model.apply(params, sequences[:, :-1])[:, n:]

    def loss(params, sequences):
        return nn.softmax_cross_entropy(sorted_half_logits(params, sequences), sequences[:, n + 1:])

    @fg.jit
    def train_step(params, opt_state, sequences):
        value, grads = fg.value_and_grad(loss)(params, sequences)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optim.apply_updates(params, updates), opt_state, value

    predict = fg.jit(lambda params, sequences: fnp.argmax(sorted_half_logits(params, sequences),
                                                          axis=-1))
    held_out = make_batch(np.random.default_rng(args.seed + 1), 1000, n, args.vocab)

    def token_accuracy() -> float:
        return float(np.mean(np.asarray(predict(params, held_out)) == held_out[:, n + 1:]))

    history = []
    start = time.perf_counter()
    bar = tqdm(range(1, args.steps + 1), desc="training", disable=args.no_progress)
    for step in bar:
        params, opt_state, value = train_step(params, opt_state,
                                              make_batch(rng, args.batch, n, args.vocab))
        bar.set_postfix(loss=f"{float(value):.4f}", refresh=False)
        if step % max(1, args.steps // 10) == 0 or step == args.steps:
            history.append((step, float(value), token_accuracy()))
            tqdm.write(f"step {step:5d}: loss {history[-1][1]:.4f}  held-out token accuracy "
                       f"{history[-1][2]:.4f}")
    seconds = time.perf_counter() - start

    # Greedy decoding: the model writes the sorted half itself, one token per call.
    generated = held_out.copy()
    generated[:, n + 1:] = 0
    for t in range(n):
        generated[:, n + 1 + t] = np.asarray(predict(params, generated))[:, t]
    sorted_right = float(np.mean(np.all(generated == held_out, axis=1)))

    _, weights = model.apply(params, held_out[:1, :-1], return_attention=True)
    plot(args.png, history, np.asarray(weights)[0], held_out[0, :-1], args.vocab)
    accuracy = history[-1][2]
    print(f"held-out token accuracy {accuracy:.4f}, sequences sorted right by greedy decoding "
          f"{sorted_right:.4f} after {args.steps} steps in {seconds:.1f} s; "
          f"train_step traced {train_step.cache_info().misses} time(s)")
    print(f"wrote {args.png}")
    return {"token_accuracy": accuracy, "sorted_right": sorted_right, "history": history,
            "seconds": seconds, "traces": train_step.cache_info().misses, "png": args.png,
            "generated": generated, "held_out": held_out}


if __name__ == "__main__":
    main()
