"""Convolution and pooling, forward and backward: funcgrad ``jit`` against PyTorch and JAX ``jit``.

The primitives of ``funcgrad.lax`` (``conv_general_dilated``, ``reduce_window``) on the
sizes of issue 15's Conv2d benchmark: 32 images of 28x28 in float32, a 3x3 ``'SAME'``
convolution from 1 to 32 and from 32 to 64 features, and 2x2 max and average pooling
of 32 such feature maps.  Each contender computes ``½ Σ y²`` of the layer's output and
its gradient with respect to the input and the kernel (the input only for pooling), in
the ``NCHW``/``OIHW`` layout PyTorch uses.  One thread for every library (a program, not a
test).  Times are medians of interleaved samples (``benchmarks/_timing.py``), in ms.

The second table times one training step of ``examples/digits_cnn.py`` (its
``DigitsCNN`` and ``make_train_step``, imported, with the example's defaults: width 48, a
batch of 32 of the 8x8 digits, AdamW with a cosine-decayed learning rate), against the
same network, loss and optimiser written in PyTorch (``NCHW``, ``torch.optim.AdamW`` and
``CosineAnnealingLR``) and in JAX (``NHWC``, AdamW written out, one ``jax.jit``).  All
three start from funcgrad's initial weights, and the first step's losses are compared.
The step threads its state (parameters, optimiser and BatchNorm statistics) from call to
call, as training does.

Run: ``python -m benchmarks.conv [--quick] [--only conv|cnn]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import numpy as np

from benchmarks._timing import Plan, limit_threads, peer, time_interleaved

DN = ("NCHW", "OIHW", "NCHW")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_cnn.py"
LR, WEIGHT_DECAY, DECAY_STEPS = 1e-2, 1e-4, 1000  # the example's AdamW; any horizon will do


def _problems(quick: bool):
    """``(label, layout, input shape, kernel shape or pooling kind)`` rows; shapes in NCHW/OIHW."""
    n = 8 if quick else 32
    rows = [("conv 3x3 1->32", (n, 1, 28, 28), (32, 1, 3, 3)),
            ("conv 3x3 32->64", (n, 32, 28, 28), (64, 32, 3, 3)),
            ("max pool 2x2", (n, 32, 28, 28), "max"),
            ("avg pool 2x2", (n, 32, 28, 28), "avg")]
    return [(label, layout, xs, w) for layout in ("NCHW", "NHWC") for label, xs, w in rows
            if layout == "NCHW" or label != "avg pool 2x2"]


def _loss(lax, xp, kind, layout):
    """``½ Σ y²`` of the layer, written once for ``funcgrad.lax`` and ``jax.lax`` (same names):
    ``loss(x)`` for pooling (``kind`` "max" or "avg"), ``loss(x, w)`` for the convolution;
    ``layout`` "NCHW" (kernel OIHW) or "NHWC" (kernel HWIO)."""
    pool = (1, 1, 2, 2) if layout == "NCHW" else (1, 2, 2, 1)
    if kind == "max":
        return lambda x: 0.5 * xp.sum(lax.reduce_window(x, -np.inf, lax.max, pool, pool,
                                                         "VALID") ** 2)
    if kind == "avg":
        return lambda x: 0.5 * xp.sum((lax.reduce_window(x, 0.0, lax.add, pool, pool,
                                                          "VALID") * 0.25) ** 2)
    dn = DN if layout == "NCHW" else ("NHWC", "HWIO", "NHWC")
    return lambda x, w: 0.5 * xp.sum(
        lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn) ** 2)


def _in_layout(x, w, layout):
    """``x`` and ``w`` (NCHW, OIHW) as ``layout`` wants them, in that order in memory."""
    if layout == "NCHW":
        return x, w
    return (np.ascontiguousarray(x.transpose(0, 2, 3, 1)),
            w if isinstance(w, str) else np.ascontiguousarray(w.transpose(2, 3, 1, 0)))


def _funcgrad(x, w, layout):
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from funcgrad import lax

    x, w = _in_layout(x, w, layout)
    if isinstance(w, str):
        step = fg.jit(fg.value_and_grad(_loss(lax, fnp, w, layout)))
        return lambda: step(x)
    step = fg.jit(fg.value_and_grad(_loss(lax, fnp, "conv", layout), argnums=(0, 1)))
    return lambda: step(x, w)


def _torch(x, w, layout):
    """PyTorch's NCHW tensors; for ``layout="NHWC"`` in its ``channels_last`` memory format."""
    torch = peer("torch")
    if torch is None:
        return None
    f = torch.nn.functional
    fmt = torch.contiguous_format if layout == "NCHW" else torch.channels_last
    xt = torch.tensor(x).contiguous(memory_format=fmt).requires_grad_()
    wt = None if isinstance(w, str) else torch.tensor(w).contiguous(
        memory_format=fmt).requires_grad_()

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


def _jax(x, w, layout):
    jax = peer("jax")
    if jax is None:
        return None
    x, w = _in_layout(x, w, layout)
    xj = jax.numpy.asarray(x)
    if isinstance(w, str):
        step = jax.jit(jax.value_and_grad(_loss(jax.lax, jax.numpy, w, layout)))
        return lambda: jax.block_until_ready(step(xj))
    wj = jax.numpy.asarray(w)
    step = jax.jit(jax.value_and_grad(_loss(jax.lax, jax.numpy, "conv", layout),
                                      argnums=(0, 1)))
    return lambda: jax.block_until_ready(step(xj, wj))


# -- the digits CNN training step -------------------------------------------------------------
def _example():
    """``examples/digits_cnn.py`` as a module (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("digits_cnn_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cnn_setup(dtype, quick: bool):
    """``(example module, model, initial params, BatchNorm state, images, labels)``: the
    example's model at its default width (8 when quick) and its first training batch."""
    example = _example()
    x_train, _, y_train, _ = example.load_images()
    model = example.DigitsCNN(8 if quick else 48)
    params, bn_state = model.init(np.random.default_rng(0))
    from funcgrad import tree

    def cast(values):
        return tree.map(lambda a: a.astype(dtype), values)
    return (example, model, cast(params), cast(bn_state), x_train[:32].astype(dtype),
            y_train[:32])


def _funcgrad_cnn(setup):
    example, model, params, bn_state, x, y = setup
    from funcgrad import optim

    opt = optim.adamw(optim.cosine_decay_schedule(LR, decay_steps=DECAY_STEPS),
                      weight_decay=WEIGHT_DECAY)
    step = example.make_train_step(model, opt)
    state = [params, opt.init(params), bn_state]

    def run():
        *state[:], loss = step(*state, x, y)
        return loss
    return run


def _torch_cnn(setup):
    torch = peer("torch")
    if torch is None:
        return None
    _, model, params, _, x, y = setup
    nn, f = torch.nn, torch.nn.functional
    width = model.convs[0].out_channels
    net = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(width, 2 * width, 3, padding=1),
                        nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(2 * 2 * 2 * width, 10)).to(torch.from_numpy(x).dtype)
    with torch.no_grad():  # funcgrad's weights: HWIO -> OIHW, readout rows (h, w, c) -> (c, h, w)
        for conv, p in zip((net[0], net[4]), params["convs"]):
            conv.weight.copy_(torch.from_numpy(p["w"].transpose(3, 2, 0, 1).copy()))
        w = params["readout"]["w"].reshape(2, 2, 2 * width, 10).transpose(2, 0, 1, 3)
        net[9].weight.copy_(torch.from_numpy(w.reshape(-1, 10).T.copy()))
        for layer in (net[0], net[4], net[9]):
            layer.bias.zero_()
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=DECAY_STEPS)
    xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    yt = torch.from_numpy(y.astype(np.int64))

    def run():
        opt.zero_grad(set_to_none=True)
        loss = f.cross_entropy(net(xt), yt)
        loss.backward()
        opt.step()
        schedule.step()
        return loss.detach()
    return run


def _jax_cnn(setup):
    jax = peer("jax")
    if jax is None:
        return None
    _, _, params, bn_state, x, y = setup
    jnp, lax = jax.numpy, jax.lax

    def block(p, bn, s, x):
        x = lax.conv_general_dilated(x, p["w"], (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC")) + p["b"]
        mean = x.mean(axis=(0, 1, 2))
        var = ((x - mean) ** 2).mean(axis=(0, 1, 2))
        x = (x - mean) / jnp.sqrt(var + 1e-5) * bn["scale"] + bn["bias"]
        n = x.size // x.shape[-1]
        s = {"mean": 0.9 * s["mean"] + 0.1 * lax.stop_gradient(mean),
             "var": 0.9 * s["var"] + 0.1 * lax.stop_gradient(var) * n / (n - 1)}
        x = lax.reduce_window(jax.nn.relu(x), -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                              "VALID")
        return x, s

    def loss(params, bn_state, x, y):
        new_state = []
        for p, bn, s in zip(params["convs"], params["norms"], bn_state):
            x, s = block(p, bn, s, x)
            new_state.append(s)
        logits = x.reshape(x.shape[0], -1) @ params["readout"]["w"] + params["readout"]["b"]
        logp = jax.nn.log_softmax(logits)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean(), new_state

    def adamw(params, grads, m, v, count):
        count = count + 1
        decay = 0.5 * (1 + jnp.cos(jnp.pi * jnp.minimum(count - 1, DECAY_STEPS) / DECAY_STEPS))
        lr = (LR * decay).astype(x.dtype)
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        fix1, fix2 = (1 - 0.9 ** count).astype(x.dtype), (1 - 0.999 ** count).astype(x.dtype)
        def update(p, m, v):
            return p - lr * ((m / fix1) / (jnp.sqrt(v / fix2) + 1e-8) + WEIGHT_DECAY * p)
        return jax.tree.map(update, params, m, v), m, v, count

    @jax.jit
    def step(params, m, v, count, bn_state, x, y):
        (value, bn_state), grads = jax.value_and_grad(loss, has_aux=True)(params, bn_state, x, y)
        return *adamw(params, grads, m, v, count), bn_state, value

    zeros = jax.tree.map(jnp.zeros_like, params)
    state = [jax.tree.map(jnp.asarray, params), zeros, zeros, jnp.asarray(0, jnp.int32),
             jax.tree.map(jnp.asarray, bn_state)]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def run():
        *state[:], loss = step(*state, xj, yj)
        return jax.block_until_ready(loss)
    return run


def _cnn_table(plan: Plan, quick: bool) -> None:
    print(f"\ndigits CNN training step (width {8 if quick else 48}, batch 32, 8x8x1 images)")
    print(f"{'dtype':<24}{'funcgrad jit':>14}{'torch':>10}{'jax jit':>10}{'/ torch':>9}{'/ jax':>8}"
          f"   first-step losses")
    for dtype in (np.float32, np.float64):
        setup = _cnn_setup(dtype, quick)
        fns = {name: make(setup) for name, make in
               (("funcgrad", _funcgrad_cnn), ("torch", _torch_cnn), ("jax", _jax_cnn))}
        fns = {k: v for k, v in fns.items() if v is not None}
        losses = {k: float(fn()) for k, fn in fns.items()}  # the first step, from the same weights
        _row(np.dtype(dtype).name, time_interleaved(fns, plan),
             "  " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()))


def _row(label: str, stats, extra: str = "") -> None:
    ms = {k: s.median * 1e3 for k, s in stats.items()}
    cells = [f"{ms[k]:.2f}" if k in ms else "-" for k in ("funcgrad", "torch", "jax")]
    ratios = [f"{ms['funcgrad'] / ms[k]:.2f}x" if k in ms else "-" for k in ("torch", "jax")]
    print(f"{label:<24}{cells[0]:>14}{cells[1]:>10}{cells[2]:>10}{ratios[0]:>9}{ratios[1]:>8}"
          f"{extra}", flush=True)


def _layer_table(plan: Plan, quick: bool) -> None:
    rng = np.random.default_rng(0)
    print(f"{'case':<24}{'funcgrad jit':>14}{'torch':>10}{'jax jit':>10}{'/ torch':>9}{'/ jax':>8}")
    for label, layout, xs, w in _problems(quick):
        x = rng.standard_normal(xs).astype(np.float32)
        if not isinstance(w, str):
            w = (rng.standard_normal(w) / np.sqrt(np.prod(w[1:]))).astype(np.float32)
        fns = {name: make(x, w, layout) for name, make in
               (("funcgrad", _funcgrad), ("torch", _torch), ("jax", _jax))}
        _row(f"{label} {layout}", time_interleaved({k: v for k, v in fns.items()
                                                    if v is not None}, plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 8, short timing (smoke test)")
    parser.add_argument("--only", choices=("conv", "cnn"), help="one table: the layers or the CNN")
    args = parser.parse_args(argv)
    # Before funcgrad loads Numba: idle parallel-loop workers would compete with the peers.
    os.environ["NUMBA_NUM_THREADS"] = "1"
    threads = limit_threads(1)
    from benchmarks.run import cap_xla_pool  # pins XLA's pool, which ignores XLA_FLAGS

    if not cap_xla_pool(1):
        threads += "; XLA's thread pool NOT capped"
    print(f"threads: {threads}")
    plan = Plan.quick() if args.quick else Plan.full()
    if args.only != "cnn":
        _layer_table(plan, args.quick)
    if args.only != "conv":
        _cnn_table(plan, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
