"""Convolution and pooling, forward and backward: funcgrad ``jit`` against PyTorch and JAX ``jit``.

The primitives of ``funcgrad.lax`` (``conv_general_dilated``, ``reduce_window``) on the
sizes of issue 15's Conv2d benchmark: 32 images of 28x28 in float32, a 3x3 ``'SAME'``
convolution from 1 to 32 and from 32 to 64 features, and 2x2 max and average pooling
of 32 such feature maps.  Each contender computes ``½ Σ y²`` of the layer's output and
its gradient with respect to the input and the kernel (the input only for pooling), in
the ``NCHW``/``OIHW`` layout PyTorch uses.  One thread for every library (a program, not a
test).  Times are medians of interleaved samples (``benchmarks/_timing.py``), in ms.

Run: ``python -m benchmarks.conv [--quick]``.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks._timing import Plan, limit_threads, peer, time_interleaved

DN = ("NCHW", "OIHW", "NCHW")


def _problems(quick: bool):
    """``(label, input shape, kernel shape or pooling kind)`` rows."""
    n = 8 if quick else 32
    return [("conv 3x3 1->32", (n, 1, 28, 28), (32, 1, 3, 3)),
            ("conv 3x3 32->64", (n, 32, 28, 28), (64, 32, 3, 3)),
            ("max pool 2x2", (n, 32, 28, 28), "max"),
            ("avg pool 2x2", (n, 32, 28, 28), "avg")]


def _loss(lax, xp, kind):
    """``½ Σ y²`` of the layer, written once for ``funcgrad.lax`` and ``jax.lax`` (same names):
    ``loss(x)`` for pooling (``kind`` "max" or "avg"), ``loss(x, w)`` for the convolution."""
    if kind == "max":
        return lambda x: 0.5 * xp.sum(lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2),
                                                         (1, 1, 2, 2), "VALID") ** 2)
    if kind == "avg":
        return lambda x: 0.5 * xp.sum((lax.reduce_window(x, 0.0, lax.add, (1, 1, 2, 2),
                                                          (1, 1, 2, 2), "VALID") * 0.25) ** 2)
    return lambda x, w: 0.5 * xp.sum(
        lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=DN) ** 2)


def _funcgrad(x, w):
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from funcgrad import lax

    if isinstance(w, str):
        step = fg.jit(fg.value_and_grad(_loss(lax, fnp, w)))
        return lambda: step(x)
    step = fg.jit(fg.value_and_grad(_loss(lax, fnp, "conv"), argnums=(0, 1)))
    return lambda: step(x, w)


def _torch(x, w):
    torch = peer("torch")
    if torch is None:
        return None
    f = torch.nn.functional
    xt = torch.tensor(x, requires_grad=True)
    wt = None if isinstance(w, str) else torch.tensor(w, requires_grad=True)

    def step():
        xt.grad = None
        if wt is None:
            y = f.max_pool2d(xt, 2) if w == "max" else f.avg_pool2d(xt, 2)
        else:
            wt.grad = None
            y = f.conv2d(xt, wt, padding=1)
        loss = 0.5 * (y ** 2).sum()
        loss.backward()
        return loss
    return step


def _jax(x, w):
    jax = peer("jax")
    if jax is None:
        return None
    xj = jax.numpy.asarray(x)
    if isinstance(w, str):
        step = jax.jit(jax.value_and_grad(_loss(jax.lax, jax.numpy, w)))
        return lambda: jax.block_until_ready(step(xj))
    wj = jax.numpy.asarray(w)
    step = jax.jit(jax.value_and_grad(_loss(jax.lax, jax.numpy, "conv"), argnums=(0, 1)))
    return lambda: jax.block_until_ready(step(xj, wj))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 8, short timing (smoke test)")
    args = parser.parse_args(argv)
    # Before funcgrad loads Numba: idle parallel-loop workers would compete with the peers.
    os.environ["NUMBA_NUM_THREADS"] = "1"
    threads = limit_threads(1)
    from benchmarks.run import cap_xla_pool  # pins XLA's pool, which ignores XLA_FLAGS

    if not cap_xla_pool(1):
        threads += "; XLA's thread pool NOT capped"
    print(f"threads: {threads}")
    plan = Plan.quick() if args.quick else Plan.full()
    rng = np.random.default_rng(0)
    print(f"{'case':<18}{'funcgrad jit':>14}{'torch':>10}{'jax jit':>10}{'/ torch':>9}{'/ jax':>8}")
    for label, xs, w in _problems(args.quick):
        x = rng.standard_normal(xs).astype(np.float32)
        if not isinstance(w, str):
            w = (rng.standard_normal(w) / np.sqrt(np.prod(w[1:]))).astype(np.float32)
        fns = {name: make(x, w) for name, make in
               (("funcgrad", _funcgrad), ("torch", _torch), ("jax", _jax))}
        fns = {k: v for k, v in fns.items() if v is not None}
        stats = time_interleaved(fns, plan)
        ms = {k: s.median * 1e3 for k, s in stats.items()}
        cells = [f"{ms[k]:.2f}" if k in ms else "-" for k in ("funcgrad", "torch", "jax")]
        ratios = [f"{ms['funcgrad'] / ms[k]:.2f}x" if k in ms else "-" for k in ("torch", "jax")]
        print(f"{label:<18}{cells[0]:>14}{cells[1]:>10}{cells[2]:>10}{ratios[0]:>9}{ratios[1]:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
