"""funcgrad benchmarks: eager gradients against hand-written NumPy and the peers.

Run from the repository root::

    python benchmarks/run.py                 # every case
    python benchmarks/run.py --case mlp      # one case (repeat --case for more)
    python benchmarks/run.py --quick         # few repeats: a smoke test, not a measurement
    python -m benchmarks --json out.json     # also write the results as JSON

Adding a case: write a function that returns a list of :class:`Problem` and
decorate it with ``@case(name, target=...)``.  A problem is a list of
:class:`Contender`; the first one is the baseline (ratio 1.00x) and the
reference gradient every other contender is checked against.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.metadata
import importlib.util
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import funcgrad as fg  # noqa: E402  (after the sys.path fix above)
import funcgrad.numpy as fnp  # noqa: E402
from benchmarks._timing import (  # noqa: E402
    Plan,
    format_table,
    format_time,
    limit_threads,
    mismatch,
    peer,
    peer_names,
    time_interleaved,
    to_numpy,
)

# ---------------------------------------------------------------- registry


@dataclass
class Contender:
    """One way of computing a problem's result.

    ``make`` does the untimed set-up (building grad functions, converting
    inputs to the library's arrays) and returns the zero-argument function
    that is timed; that function returns the gradient.  ``needs`` names the
    peer library it requires (see ``_timing.peer``); without it the contender
    is listed as "not installed".  ``skip`` is a reason not to run it at all
    (say, a peer that would take minutes at this size).
    """

    name: str
    make: Callable[[], Callable[[], Any]]
    needs: str | None = None
    skip: str | None = None


@dataclass
class Problem:
    """Contenders computing the same thing; the first is the baseline.  ``ops`` enables a per-op column.

    ``check(reference, result)`` says why a result is wrong, or returns None
    (default :func:`~benchmarks._timing.mismatch`, for float64 results);
    ``summary(rows)`` returns lines printed under the case's table (say, a
    difference of medians that a target is stated in).
    """

    label: str
    contenders: list[Contender]
    ops: int | None = None
    check: Callable[[Any, Any], str | None] | None = None
    summary: Callable[[list[Row]], str] | None = None


@dataclass
class Case:
    name: str
    summary: str
    target: str
    build: Callable[[bool], list[Problem]]


CASES: dict[str, Case] = {}


def case(name: str, target: str = "") -> Callable:
    """Register ``build(quick) -> list[Problem]`` as the benchmark case ``name``.

    The docstring's first line describes the case.  ``quick`` is true under
    ``--quick``: a case may then use smaller sizes, to keep the smoke test short.
    """
    def register(build: Callable[[bool], list[Problem]]) -> Callable[[bool], list[Problem]]:
        summary = (build.__doc__ or "").strip().split("\n")[0]
        CASES[name] = Case(name, summary, target, build)
        return build
    return register


# ---------------------------------------------------------------- the same gradient, every library


def grad_contenders(loss: Callable, params, *rest, torch_loss: Callable | None = None,
                    skip: dict[str, str] | None = None) -> list[Contender]:
    """funcgrad, autograd, JAX (no jit) and PyTorch contenders for the gradient of a loss.

    ``loss(xp, params, *rest)`` is written once against a NumPy-like namespace
    ``xp`` (``funcgrad.numpy``, ``autograd.numpy``, ``jax.numpy``, and ``torch``
    unless ``torch_loss`` gives a PyTorch spelling).  The gradient is taken
    with respect to ``params``: an array or a dict of arrays; ``rest`` are
    constant arrays.  ``skip`` maps contender names to a reason not to run them.
    """

    def funcgrad_grad():
        g = fg.grad(lambda p, *r: loss(fnp, p, *r))
        return lambda: g(params, *rest)

    def autograd_grad():
        import autograd
        import autograd.numpy as anp
        g = autograd.grad(lambda p, *r: loss(anp, p, *r))
        return lambda: g(params, *rest)

    def jax_grad():
        jax = peer("jax")
        import jax.numpy as jnp
        g = jax.grad(lambda p, *r: loss(jnp, p, *r))
        jp, jr = jax.tree_util.tree_map(jnp.asarray, (params, rest))
        return lambda: jax.block_until_ready(g(jp, *jr))  # JAX dispatches asynchronously

    def torch_grad():
        torch = peer("torch")
        def leaf(a):
            return torch.from_numpy(np.array(a)).requires_grad_()
        keys = sorted(params) if isinstance(params, dict) else None
        leaves = [leaf(params[k]) for k in keys] if keys else [leaf(params)]
        tp = dict(zip(keys, leaves)) if keys else leaves[0]
        tr = [torch.from_numpy(np.array(r)) for r in rest]
        fn = torch_loss or (lambda p, *r: loss(torch, p, *r))

        def run():
            grads = torch.autograd.grad(fn(tp, *tr), leaves)
            return dict(zip(keys, grads)) if keys else grads[0]
        return run

    skip = skip or {}
    return [Contender(name, make, needs, skip.get(name)) for name, make, needs in [
        ("funcgrad", funcgrad_grad, None),
        ("autograd", autograd_grad, "autograd"),
        ("jax (no jit)", jax_grad, "jax"),
        ("torch", torch_grad, "torch")]]


# ---------------------------------------------------------------- cases


def chain(xp, x, blocks: int = 25):
    """25 x [sin, *1.01, tanh, +0.5], then sum: 101 elementwise ops."""
    for _ in range(blocks):
        x = xp.sin(x)
        x = x * 1.01
        x = xp.tanh(x)
        x = x + 0.5
    return xp.sum(x)


def chain_numpy_grad(x, blocks: int = 25):
    """Hand-written forward and backward of :func:`chain`."""
    saved = []
    for _ in range(blocks):
        s = np.sin(x)
        t = np.tanh(s * 1.01)
        saved.append((x, t))
        x = t + 0.5
    g = np.ones_like(x)  # d sum / d x
    for x_in, t in reversed(saved):
        g = g * (1.0 - t * t)
        g = g * 1.01
        g = g * np.cos(x_in)
    return g


@case("chain100", target="funcgrad <= 4x hand NumPy (autograd ~8.5x, torch ~5x)")
def chain100(quick: bool) -> list[Problem]:
    """Eager grad of a 100-op elementwise chain on a length-10 float64 array: per-op overhead."""
    x = np.linspace(-1.0, 1.0, 10)
    numpy = Contender("numpy (hand)", lambda: lambda: chain_numpy_grad(x))
    return [Problem("chain100", [numpy, *grad_contenders(chain, x)], ops=101)]


MLP_SIZES = (784, 256, 256, 10)
MLP_BATCH = 64


def mlp_loss(xp, p, x, y_onehot):
    """Softmax cross-entropy of a 784-256-256-10 ReLU MLP, with a max-shifted logsumexp."""
    h = xp.maximum(x @ p["W1"] + p["b1"], 0.0)
    h = xp.maximum(h @ p["W2"] + p["b2"], 0.0)
    z = h @ p["W3"] + p["b3"]
    m = xp.max(z, axis=1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(z - m), axis=1, keepdims=True)) + m
    return -xp.sum(y_onehot * (z - lse)) / z.shape[0]


def mlp_loss_torch(p, x, y_onehot):
    """:func:`mlp_loss` in PyTorch's spelling."""
    import torch
    h = torch.relu(x @ p["W1"] + p["b1"])
    h = torch.relu(h @ p["W2"] + p["b2"])
    z = h @ p["W3"] + p["b3"]
    m = torch.amax(z, dim=1, keepdim=True)
    lse = torch.log(torch.sum(torch.exp(z - m), dim=1, keepdim=True)) + m
    return -torch.sum(y_onehot * (z - lse)) / z.shape[0]


def mlp_numpy_grad(p, x, y_onehot):
    """Hand-written forward and backward of :func:`mlp_loss`."""
    z1 = x @ p["W1"] + p["b1"]
    h1 = np.maximum(z1, 0.0)
    z2 = h1 @ p["W2"] + p["b2"]
    h2 = np.maximum(z2, 0.0)
    z = h2 @ p["W3"] + p["b3"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - y_onehot) / z.shape[0]
    g = {"W3": h2.T @ dz, "b3": dz.sum(axis=0)}
    dz2 = (dz @ p["W3"].T) * (z2 > 0)
    g["W2"], g["b2"] = h1.T @ dz2, dz2.sum(axis=0)
    dz1 = (dz2 @ p["W2"].T) * (z1 > 0)
    g["W1"], g["b1"] = x.T @ dz1, dz1.sum(axis=0)
    return g


def mlp_data():
    """Seeded He-initialised parameters, inputs and one-hot labels for the MLP cases."""
    rng = np.random.default_rng(0)
    params = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(MLP_SIZES), start=1):
        params[f"W{i}"] = rng.normal(size=(n_in, n_out)) * np.sqrt(2.0 / n_in)
        params[f"b{i}"] = rng.normal(size=n_out) * 0.1
    x = rng.normal(size=(MLP_BATCH, MLP_SIZES[0]))
    y = np.eye(MLP_SIZES[-1])[rng.integers(0, MLP_SIZES[-1], size=MLP_BATCH)]
    return params, x, y


@case("mlp", target="funcgrad <= 1.5x hand NumPy")
def mlp(quick: bool) -> list[Problem]:
    """Grad step of a 784-256-256-10 ReLU MLP, softmax cross-entropy, batch 64: all six parameters."""
    params, x, y = mlp_data()
    numpy = Contender("numpy (hand)", lambda: lambda: mlp_numpy_grad(params, x, y))
    peers = grad_contenders(mlp_loss, params, x, y, torch_loss=mlp_loss_torch)
    return [Problem("mlp", [numpy, *peers])]


SCALING_NS = (1_000, 10_000, 100_000)
SCALING_NS_QUICK = (100, 1_000, 10_000)
SCALING_JAX_MAX_N = 1_000  # JAX's eager grad costs ~0.4 ms per op here: N=1e5 is a minute a call
SCALE = 1.0000001


def long_chain(xp, x, n_ops: int):
    """``n_ops`` elementwise ops (x * SCALE + 0.0, repeated), then sum."""
    for _ in range(n_ops // 2):
        x = x * SCALE + 0.0
    return xp.sum(x)


def long_chain_numpy_grad(x, n_ops: int):
    """Hand-written forward and backward of :func:`long_chain` (the add's backward passes g through)."""
    for _ in range(n_ops // 2):
        x = x * SCALE + 0.0
    g = np.ones_like(x)
    for _ in range(n_ops // 2):
        g = g * SCALE
    return g


@case("chain_scaling", target="per-op time flat in N: per-op(1e5) / per-op(1e3) ~ 1")
def chain_scaling(quick: bool) -> list[Problem]:
    """Eager grad of an N-op chain (x*1.0000001 + 0.0) on a length-10 array, N = 1e3, 1e4, 1e5: time per op.

    Under ``--quick`` N = 1e2, 1e3, 1e4.
    """
    x = np.linspace(-1.0, 1.0, 10)
    problems = []
    for n in SCALING_NS_QUICK if quick else SCALING_NS:
        def loss(xp, x, n=n):
            return long_chain(xp, x, n)
        skip = {"jax (no jit)": f"above N={SCALING_JAX_MAX_N}: ~0.4 ms per op"} \
            if n > SCALING_JAX_MAX_N else None
        numpy = Contender("numpy (hand)", lambda n=n: lambda: long_chain_numpy_grad(x, n))
        problems.append(Problem(f"N={n}", [numpy, *grad_contenders(loss, x, skip=skip)], ops=n))
    return problems


HVP_N = 1_000


def rosenbrock(xp, x):
    """The Rosenbrock function: sum of 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2."""
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_numpy_hvp(x, v):
    """Hand-derived Hessian-vector product of :func:`rosenbrock` (its Hessian is tridiagonal).

    Term i couples x[i] and x[i+1]: d2/dx[i]^2 = 1200 x[i]^2 - 400 x[i+1] + 2,
    d2/dx[i]dx[i+1] = -400 x[i], d2/dx[i+1]^2 = 200.
    """
    a, b, va, vb = x[:-1], x[1:], v[:-1], v[1:]
    hv = np.zeros_like(x)
    hv[:-1] += (1200.0 * a * a - 400.0 * b + 2.0) * va - 400.0 * a * vb
    hv[1:] += 200.0 * vb - 400.0 * a * va
    return hv


@case("hvp", target="funcgrad <= 0.5x autograd's time")
def hvp(quick: bool) -> list[Problem]:
    """Hessian-vector product of the Rosenbrock function, n = 1000, float64: forward-over-reverse if possible."""
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=HVP_N), rng.normal(size=HVP_N)

    def funcgrad_hvp():
        g = fg.grad(lambda x: rosenbrock(fnp, x))
        return lambda: fg.jvp(g, (x,), (v,))[1]

    def autograd_hvp():  # autograd's hessian_tensor_product is reverse-over-reverse
        import autograd
        import autograd.numpy as anp
        h = autograd.hessian_tensor_product(lambda x: rosenbrock(anp, x))
        return lambda: h(x, v)

    def jax_hvp():
        jax = peer("jax")
        import jax.numpy as jnp
        g = jax.grad(lambda x: rosenbrock(jnp, x))
        jx, jv = jnp.asarray(x), jnp.asarray(v)
        return lambda: jax.block_until_ready(jax.jvp(g, (jx,), (jv,))[1])

    def torch_hvp():  # double backward: grad with create_graph=True, then grad of <g, v>
        torch = peer("torch")
        tx = torch.from_numpy(x.copy()).requires_grad_()
        tv = torch.from_numpy(v.copy())

        def run():
            (g,) = torch.autograd.grad(rosenbrock(torch, tx), tx, create_graph=True)
            return torch.autograd.grad(torch.dot(g, tv), tx)[0]
        return run

    return [Problem("hvp", [
        Contender("numpy (hand)", lambda: lambda: rosenbrock_numpy_hvp(x, v)),
        Contender("funcgrad", funcgrad_hvp),
        Contender("autograd", autograd_hvp, "autograd"),
        Contender("jax (no jit)", jax_hvp, "jax"),
        Contender("torch", torch_hvp, "torch")])]


PER_EXAMPLE_SIZES = (20, 64, 64, 1)
PER_EXAMPLE_BATCH = 128


def per_example_loss(xp, p, x, y):
    """Squared error of a 20-64-64-1 tanh MLP on one example (``x``: (20,), ``y``: (1,))."""
    h = xp.tanh(x @ p["W1"] + p["b1"])
    h = xp.tanh(h @ p["W2"] + p["b2"])
    z = h @ p["W3"] + p["b3"]
    return xp.mean((z - y) ** 2)


def per_example_numpy_grads(p, x, y):
    """Hand-written per-example gradients of :func:`per_example_loss` for a batch, with einsum."""
    h1 = np.tanh(x @ p["W1"] + p["b1"])
    h2 = np.tanh(h1 @ p["W2"] + p["b2"])
    z = h2 @ p["W3"] + p["b3"]
    dz = 2.0 * (z - y) / z.shape[1]                   # (batch, 1): one row per example
    g = {"W3": np.einsum("bi,bj->bij", h2, dz), "b3": dz}
    dz2 = (dz @ p["W3"].T) * (1.0 - h2 * h2)
    g["W2"], g["b2"] = np.einsum("bi,bj->bij", h1, dz2), dz2
    dz1 = (dz2 @ p["W2"].T) * (1.0 - h1 * h1)
    g["W1"], g["b1"] = np.einsum("bi,bj->bij", x, dz1), dz1
    return g


@case("per_example", target="funcgrad vmap(grad) >= 10x faster than a Python loop of grad")
def per_example(quick: bool) -> list[Problem]:
    """Per-example gradients of a 20-64-64-1 tanh MLP (squared error), batch 128: vmap(grad) vs a loop."""
    rng = np.random.default_rng(0)
    params = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(PER_EXAMPLE_SIZES), start=1):
        params[f"W{i}"] = rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)
        params[f"b{i}"] = rng.normal(size=n_out) * 0.1
    x = rng.normal(size=(PER_EXAMPLE_BATCH, PER_EXAMPLE_SIZES[0]))
    y = rng.normal(size=(PER_EXAMPLE_BATCH, PER_EXAMPLE_SIZES[-1]))

    def funcgrad_loop():
        g = fg.grad(lambda p, x, y: per_example_loss(fnp, p, x, y))

        def run():
            grads = [g(params, x[i], y[i]) for i in range(len(x))]
            return {k: np.stack([gi[k] for gi in grads]) for k in params}
        return run

    def funcgrad_vmap():
        g = fg.vmap(fg.grad(lambda p, x, y: per_example_loss(fnp, p, x, y)), in_axes=(None, 0, 0))
        return lambda: g(params, x, y)

    def jax_vmap():
        jax = peer("jax")
        import jax.numpy as jnp
        g = jax.vmap(jax.grad(lambda p, x, y: per_example_loss(jnp, p, x, y)), in_axes=(None, 0, 0))
        jp, jx, jy = jax.tree_util.tree_map(jnp.asarray, (params, x, y))
        return lambda: jax.block_until_ready(g(jp, jx, jy))

    def torch_vmap():
        torch = peer("torch")
        from torch.func import grad, vmap
        g = vmap(grad(lambda p, x, y: per_example_loss(torch, p, x, y)), in_dims=(None, 0, 0))
        tp = {k: torch.from_numpy(a.copy()) for k, a in params.items()}
        tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        return lambda: g(tp, tx, ty)

    return [Problem("per_example", [
        Contender("numpy (hand)", lambda: lambda: per_example_numpy_grads(params, x, y)),
        Contender("funcgrad loop", funcgrad_loop),
        Contender("funcgrad vmap", funcgrad_vmap),
        Contender("jax vmap (no jit)", jax_vmap, "jax"),
        Contender("torch.func vmap", torch_vmap, "torch")])]


# ---------------------------------------------------------------- jit


def default_backend() -> str:
    """The name of the backend ``funcgrad.jit`` uses by default (imports numba when it is there)."""
    from funcgrad.backends import default_backend_name
    return default_backend_name()


def jit_contenders(loss: Callable, params, *rest, torch_loss: Callable | None = None,
                   skip: dict[str, str] | None = None) -> list[Contender]:
    """funcgrad ``jit(grad)`` (default and NumPy backends), funcgrad's eager grad, JAX ``jit(grad)``, PyTorch.

    ``loss(xp, params, *rest)`` as for :func:`grad_contenders`.  Compiling is
    set-up: ``make`` calls each jitted function once, so the timed calls run the
    cached executable (JAX: the compiled XLA program).  PyTorch runs eagerly
    (``torch.autograd.grad``, no ``torch.compile``).
    """

    def funcgrad_jit(backend):
        def make():
            g = fg.jit(fg.grad(lambda p, *r: loss(fnp, p, *r)), backend=backend)
            g(params, *rest)  # trace, optimise, compile
            return lambda: g(params, *rest)
        return make

    def jax_jit():
        jax = peer("jax")
        import jax.numpy as jnp
        g = jax.jit(jax.grad(lambda p, *r: loss(jnp, p, *r)))
        jp, jr = jax.tree_util.tree_map(jnp.asarray, (params, rest))
        jax.block_until_ready(g(jp, *jr))  # compile
        return lambda: jax.block_until_ready(g(jp, *jr))

    eager = {c.name: c for c in grad_contenders(loss, params, *rest, torch_loss=torch_loss)}
    skip = skip or {}
    return [Contender(name, make, needs, skip.get(name)) for name, make, needs in [
        (f"funcgrad jit ({default_backend()})", funcgrad_jit(None), None),
        ("funcgrad jit (numpy)", funcgrad_jit("numpy"), None),
        ("funcgrad eager", eager["funcgrad"].make, None),
        ("jax jit", jax_jit, "jax"),
        ("torch (eager)", eager["torch"].make, "torch")]]


def numba_missing() -> str | None:
    """Why a hand-written Numba contender cannot run (None: numba is installed)."""
    return None if importlib.util.find_spec("numba") else "numba not installed"


def chain_numba_grad(blocks: int = 25) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`chain`'s gradient as one hand-fused ``@numba.njit`` loop: forward and backward per element.

    Each element's 25 saved (input, tanh) pairs live in two small arrays; no
    temporaries over the whole input, one compiled call.
    """
    import numba

    @numba.njit(error_model="numpy")
    def grad(x):
        out = np.empty_like(x)
        xs, ts = np.empty(blocks), np.empty(blocks)
        for i in range(x.shape[0]):
            v = x[i]
            for b in range(blocks):
                xs[b] = v
                t = np.tanh(np.sin(v) * 1.01)
                ts[b] = t
                v = t + 0.5
            g = 1.0
            for b in range(blocks - 1, -1, -1):
                g = g * (1.0 - ts[b] * ts[b])
                g = g * 1.01
                g = g * np.cos(xs[b])
            out[i] = g
        return out

    return grad


@case("jit_chain100", target="funcgrad jit <= JAX jit (JAX ~0.18x hand NumPy, hand-fused Numba ~0.10x)")
def jit_chain100(quick: bool) -> list[Problem]:
    """jit(grad) of chain100's 100-op elementwise chain on a length-10 float64 array: per-call overhead."""
    x = np.linspace(-1.0, 1.0, 10)

    def numba_hand():
        g = chain_numba_grad()
        g(x)  # compile
        return lambda: g(x)

    return [Problem("jit_chain100", [
        Contender("numpy (hand)", lambda: lambda: chain_numpy_grad(x)),
        *jit_contenders(chain, x),
        Contender("numba (hand-fused)", numba_hand, skip=numba_missing())], ops=101)]


@case("jit_mlp", target="funcgrad jit <= 1.0x hand NumPy (JAX jit ~1.7x)")
def jit_mlp(quick: bool) -> list[Problem]:
    """jit(grad) of mlp's step: 784-256-256-10 ReLU MLP, softmax cross-entropy, batch 64, six parameters."""
    params, x, y = mlp_data()
    numpy = Contender("numpy (hand)", lambda: lambda: mlp_numpy_grad(params, x, y))
    return [Problem("jit_mlp", [numpy, *jit_contenders(mlp_loss, params, x, y,
                                                       torch_loss=mlp_loss_torch)])]


@case("gp_nll", target="funcgrad jit <= 1.2x hand NumPy/SciPy, eager <= 1.5x")
def gp_nll_case(quick: bool) -> list[Problem]:
    """Gradient of a Gaussian-process negative log likelihood (cholesky + solves), n = 500, float64."""
    from benchmarks.gp_nll import GP_N, GP_N_QUICK, gp_data, gp_nll, gp_numpy_grad

    params, x, y = gp_data(GP_N_QUICK if quick else GP_N)
    numpy = Contender("numpy/scipy (hand)", lambda: lambda: gp_numpy_grad(params, x, y))
    return [Problem("gp_nll", [numpy, *jit_contenders(
        gp_nll, params, x, y, skip={"torch (eager)": "the loss is not written for torch"})])]


@case("fft_conv", target="funcgrad <= 1.3x hand NumPy")
def fft_conv_case(quick: bool) -> list[Problem]:
    """Gradient of an FFT convolution loss: 2**16 samples, a 1024-tap filter, float64 (both grads)."""
    from benchmarks.fft_conv import FFT_N, FFT_N_QUICK, fft_conv_loss, fft_conv_numpy_grad, fft_data

    params, y = fft_data(FFT_N_QUICK if quick else FFT_N)
    numpy = Contender("numpy (hand)", lambda: lambda: fft_conv_numpy_grad(params, y))
    return [Problem("fft_conv", [numpy, *jit_contenders(
        fft_conv_loss, params, y, skip={"torch (eager)": "the loss is not written for torch"})])]


MATMUL_N = 2048
MATMUL_N_QUICK = 512


def matmul_loss(xp, p, c):
    """``sum((A @ B) * C)``: its gradient is two matmuls, ``C @ B.T`` and ``A.T @ C``."""
    return xp.sum((p["A"] @ p["B"]) * c)


def matmul_numpy_grad(p, c):
    """Hand-written gradient of :func:`matmul_loss` (no forward product needed)."""
    return {"A": c @ p["B"].T, "B": p["A"].T @ c}


@case("matmul_grad", target="funcgrad jit <= 1.05x hand NumPy (the BLAS limit)")
def matmul_grad(quick: bool) -> list[Problem]:
    """Gradient of sum((A @ B) * C) w.r.t. A and B, 2048 x 2048 float64 (512 under --quick): two BLAS calls."""
    n = MATMUL_N_QUICK if quick else MATMUL_N
    rng = np.random.default_rng(0)
    params = {"A": rng.normal(size=(n, n)), "B": rng.normal(size=(n, n))}
    c = rng.normal(size=(n, n))
    numpy = Contender("numpy (hand)", lambda: lambda: matmul_numpy_grad(params, c))
    same = "runs as the numba backend does here: 2-D matmul is BLAS on both"
    return [Problem(f"n={n}", [numpy, *jit_contenders(matmul_loss, params, c,
                                                      skip={"funcgrad jit (numpy)": same})])]


FUSED_SIZE = 1_000_000
FUSED_A, FUSED_B, FUSED_C = 0.5, 0.25, 1.5  # exact in float32

#: Eigen's (and XLA's) float32 tanh: a [13/6] rational approximation on [-7.9, 7.9],
#: a few ulps from the true value; pure arithmetic, so a loop over it vectorises.
TANH32_CLAMP = 7.90531110763549805
TANH32_NUM = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
              5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
              -2.76076847742355e-16)
TANH32_DEN = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
              1.19825839466702e-06)


def tanh_affine(xp, x):
    """``tanh(a * x + b) * c`` with Python-scalar ``a, b, c``: four elementwise ops."""
    return xp.tanh(FUSED_A * x + FUSED_B) * FUSED_C


def tanh_affine_numpy_inplace(x):
    """:func:`tanh_affine` in NumPy with one temporary, updated in place."""
    t = np.multiply(x, np.float32(FUSED_A))
    t += np.float32(FUSED_B)
    np.tanh(t, out=t)
    t *= np.float32(FUSED_C)
    return t


def tanh_affine_numba(rational: bool) -> Callable[[np.ndarray], np.ndarray]:
    """:func:`tanh_affine` on float32 as one hand-written ``@numba.njit`` loop (serial).

    ``rational=False`` calls ``np.tanh`` (libm's ``tanhf``, what a generated loop
    calls today); ``True`` uses the rational approximation above (what XLA does).
    """
    import numba

    f32 = np.float32
    a, b, c, clamp = f32(FUSED_A), f32(FUSED_B), f32(FUSED_C), f32(TANH32_CLAMP)
    n1, n3, n5, n7, n9, n11, n13 = (f32(v) for v in TANH32_NUM)
    d0, d2, d4, d6 = (f32(v) for v in TANH32_DEN)

    @numba.njit(inline="always", error_model="numpy")
    def tanh32(y):
        x = min(max(y, -clamp), clamp)
        x2 = x * x
        p = ((((((x2 * n13 + n11) * x2 + n9) * x2 + n7) * x2 + n5) * x2 + n3) * x2 + n1) * x
        q = ((x2 * d6 + d4) * x2 + d2) * x2 + d0
        return p / q

    if rational:
        @numba.njit(error_model="numpy")
        def kernel(x, out):
            for i in range(x.shape[0]):
                out[i] = tanh32(a * x[i] + b) * c
    else:
        @numba.njit(error_model="numpy")
        def kernel(x, out):
            for i in range(x.shape[0]):
                out[i] = np.tanh(a * x[i] + b) * c

    def run(x):
        out = np.empty_like(x)
        kernel(x, out)
        return out
    return run


def float32_mismatch(reference, got) -> str | None:
    """:func:`~benchmarks._timing.mismatch` at float32 tolerances: relative 1e-5, absolute 1e-6 x the magnitude.

    Libraries compute float32 ``tanh`` differently (NumPy's SIMD code, libm,
    XLA's rational approximation): a few ulps apart, more in relative terms
    where ``a * x + b`` cancels to near zero.
    """
    want, have = np.asarray(reference), to_numpy(got)
    if have.shape != want.shape or have.dtype != want.dtype:
        return f"{have.dtype}{list(have.shape)}, expected {want.dtype}{list(want.shape)}"
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    if not np.allclose(have, want, rtol=1e-5, atol=1e-6 * scale):
        return (f"max abs difference {float(np.max(np.abs(have - want))):.3g} "
                f"(reference magnitude {scale:.3g})")
    return None


@case("fused_elementwise", target="funcgrad jit <= JAX jit (~5x faster than NumPy)")
def fused_elementwise(quick: bool) -> list[Problem]:
    """Forward tanh(a*x+b)*c over 1e6 float32 elements: one fused loop against NumPy's four passes."""
    x = np.random.default_rng(0).normal(size=FUSED_SIZE).astype(np.float32) * 2.0

    def funcgrad_jit(backend):
        def make():
            f = fg.jit(lambda x: tanh_affine(fnp, x), backend=backend)
            f(x)
            return lambda: f(x)
        return make

    def jax_jit():
        jax = peer("jax")
        import jax.numpy as jnp
        f = jax.jit(lambda x: tanh_affine(jnp, x))
        jx = jnp.asarray(x)  # float32 stays float32 with x64 enabled; the scalars are weak
        jax.block_until_ready(f(jx))
        return lambda: jax.block_until_ready(f(jx))

    def torch_eager():
        torch = peer("torch")
        tx = torch.from_numpy(x.copy())
        return lambda: tanh_affine(torch, tx)

    def numba_hand(rational):
        def make():
            f = tanh_affine_numba(rational)
            f(x)
            return lambda: f(x)
        return make

    return [Problem("fused_elementwise", [
        Contender("numpy", lambda: lambda: tanh_affine(np, x)),
        Contender("numpy (in place)", lambda: lambda: tanh_affine_numpy_inplace(x)),
        Contender(f"funcgrad jit ({default_backend()})", funcgrad_jit(None)),
        Contender("funcgrad jit (numpy)", funcgrad_jit("numpy")),
        Contender("funcgrad eager", lambda: lambda: tanh_affine(fnp, x)),
        Contender("jax jit", jax_jit, "jax"),
        Contender("torch (eager)", torch_eager, "torch"),
        Contender("numba (hand, np.tanh)", numba_hand(False), skip=numba_missing()),
        Contender("numba (hand, rational tanh)", numba_hand(True), skip=numba_missing()),
    ], check=float32_mismatch)]


COLD_START_SCRIPT = Path(__file__).resolve().parent / "cold_start.py"
COLD_START_IMPORT_TARGET_S = 0.150
COLD_START_FIRST_CALL_TARGET_S = 0.5


class ColdRuns:
    """Contenders that each run ``benchmarks/cold_start.py MODE`` in a fresh process.

    The timed call is the whole process (interpreter start-up included); each
    run's in-process figures (``import_s``, ``call_s``) are kept in
    ``records[name]`` for the summaries.  The Numba disk cache of every run is
    ``NUMBA_CACHE_DIR`` = one temporary directory made for this benchmark (the
    first run fills it, later runs find it warm), except for the contenders
    made with ``fresh_cache``, whose every run gets a new, empty directory.
    """

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="funcgrad-cold-start-")
        atexit.register(shutil.rmtree, self.tmp, ignore_errors=True)
        self.warm_cache = os.path.join(self.tmp, "warm")
        self.records: dict[str, list[dict]] = {}

    def contender(self, name: str, mode: str, needs: str | None = None,
                  fresh_cache: bool = False, skip: str | None = None) -> Contender:
        def make():
            env = dict(os.environ, NUMBA_CACHE_DIR=self.warm_cache)

            def run():
                if fresh_cache:
                    env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir=self.tmp, prefix="empty-")
                proc = subprocess.run([sys.executable, str(COLD_START_SCRIPT), mode], env=env,
                                      capture_output=True, text=True, timeout=600, check=False)
                if proc.returncode:
                    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                    raise RuntimeError(f"cold_start.py {mode} exited {proc.returncode}: {tail}")
                record = json.loads(proc.stdout.strip().splitlines()[-1])
                self.records.setdefault(name, []).append(record)
                return np.asarray(record["result"])
            return run
        return Contender(name, make, needs, skip)

    def median(self, name: str, key: str) -> tuple[float, int] | None:
        """The median of ``key`` over ``name``'s runs after the first (the checked call), and how many."""
        values = [r[key] for r in self.records.get(name, [])[1:]]
        return (float(np.median(values)), len(values)) if values else None


def _met(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


@case("cold_start", target=f"import funcgrad adds <= {COLD_START_IMPORT_TARGET_S * 1e3:.0f} ms; "
                           f"first jit call (warm Numba cache) <= {COLD_START_FIRST_CALL_TARGET_S:g} s")
def cold_start(quick: bool) -> list[Problem]:
    """Fresh processes: the cost of `import funcgrad`, and of the first jit call with a warm or an empty Numba cache.

    Each run is a new interpreter (``benchmarks/cold_start.py``); under
    ``--quick`` the JAX first call (~2 s a run) is skipped.  The default backend
    is tiered: its first call runs on NumPy while Numba loads in the background,
    so the case reports both that first call and the time until Numba serves
    the calls (a loop of calls, as a training loop would make), and the
    first call with ``backend="numba"`` (no tiering) for comparison.
    """
    runs = ColdRuns()
    fg_import = "import numpy, funcgrad"

    def import_summary(rows: list[Row]) -> str:
        med = {r.contender: r.stats.median for r in rows if r.stats is not None}
        lines = []
        if "import numpy" in med and fg_import in med:
            lines.append(f"   whole processes: `import funcgrad` adds "
                         f"{format_time(med[fg_import] - med['import numpy'])} (difference of medians)")
        inproc = runs.median(fg_import, "import_s")
        if inproc:
            lines.append(f"   in-process: `import funcgrad, funcgrad.numpy` after numpy takes "
                         f"{format_time(inproc[0])} (median of {inproc[1]} runs); target <= "
                         f"{format_time(COLD_START_IMPORT_TARGET_S)}: "
                         f"{_met(inproc[0], COLD_START_IMPORT_TARGET_S)}; numba imported: "
                         f"{'YES' if any(r['numba'] for r in runs.records[fg_import]) else 'no'}")
        return "\n".join(lines)

    backend = default_backend()
    tiered = "jit (default, tiered)"
    ready, ready_empty = (f"jit until {backend} serves, warm cache",
                          f"jit until {backend} serves, empty cache")
    warm, empty = "jit (numba), warm cache", "jit (numba), empty cache"
    first_call = [("numpy (hand)", "hand", None, False, None),
                  ("funcgrad eager grad", "eager", None, False, None),
                  (tiered, "jit", None, False, None),
                  (ready, "jit-ready", None, False, None),
                  (ready_empty, "jit-ready", None, True, None),
                  (warm, "jit-numba", None, False, numba_missing()),
                  (empty, "jit-numba", None, True, numba_missing()),
                  ("jit (numpy backend)", "jit-numpy", None, False, None),
                  ("jax jit", "jax-jit", "jax", False, None)]

    def first_call_summary(rows: list[Row]) -> str:
        lines = ["   whole processes include the exit, which waits for a background load in progress",
                 "   the first call (build the function, run it once), in-process medians:"]
        for name, *_ in first_call:
            m = runs.median(name, "call_s")
            if m is None:
                continue
            note = ""
            if name == tiered:
                on = sorted({r.get("backend") for r in runs.records[name]})
                note = (f"   target <= {format_time(COLD_START_FIRST_CALL_TARGET_S)}: "
                        f"{_met(m[0], COLD_START_FIRST_CALL_TARGET_S)}; ran on {', '.join(on)}")
            elif name in (ready, ready_empty):
                calls = runs.median(name, "calls")
                note = (f"   until a call ran on {backend}, calling in a loop"
                        f" ({calls[0]:.0f} calls, median)" if calls else "")
            elif name == warm:
                note = f"   its first run: {format_time(runs.records[name][0]['call_s'])}"
            elif name == "jax jit":
                note = "   (after `import jax`: " + format_time(runs.median(name, "import_s")[0]) + ")"
            lines.append(f"     {name:<36} {format_time(m[0]):>10}  ({m[1]} runs){note}")
        return "\n".join(lines)

    return [
        Problem("import", [
            runs.contender("import numpy", "import-numpy"),
            runs.contender(fg_import, "import-funcgrad"),
            runs.contender("import numpy, jax", "import-jax", "jax"),
        ], summary=import_summary),
        Problem("first call", [runs.contender(name, mode, needs, fresh,
                                              skip or ("--quick" if quick and needs else None))
                               for name, mode, needs, fresh, skip in first_call],
                summary=first_call_summary),
    ]


# ---------------------------------------------------------------- structured loops (issue 12)


@case("lstm_scan", target="funcgrad jit scan <= 1.0x JAX jit lax.scan at 20 and 1000 steps")
def lstm_scan(quick: bool) -> list[Problem]:
    """LSTM (hidden 32, batch 16) SGD step: value_and_grad through lax.scan under jit, JAX's, eager loop."""
    from benchmarks.control_flow import lstm_problems
    return lstm_problems(quick, Problem, Contender)


@case("loop_first_call", target="first call of jit(grad) of the 1,000-step fori_loop rollout "
                                "<= 1 s with an empty kernel cache")
def loop_first_call(quick: bool) -> list[Problem]:
    """Fresh processes: the first jit(grad) call of the Euler rollout, fori_loop against unrolled."""
    from benchmarks.control_flow import first_call_problems
    return first_call_problems(quick, Problem, Contender)


@case("rollout_steady", target="jit(grad) of the fori_loop rollout at least as fast as the "
                               "unrolled jit")
def rollout_steady(quick: bool) -> list[Problem]:
    """jit(grad) of the Euler rollout per call on Numba: fori_loop against the unrolled loop."""
    from benchmarks.control_flow import steady_problems
    return steady_problems(quick, Problem, Contender)


@case("scan_memory", target="checkpointed segments bound the peak memory of a long scan's grad")
def scan_memory(quick: bool) -> list[Problem]:
    """grad of a 1,000-step scan with and without checkpoint: time, and tracemalloc peak memory."""
    from benchmarks.control_flow import memory_problems
    return memory_problems(quick, Problem, Contender)


@case("cuda", target="on a GPU: matmul >= 70% of cuBLAS at 4096^2 float32; fused elementwise >= 70% "
                     "of memory bandwidth; MLP grad step >= 10x faster than the Numba CPU backend")
def cuda_gpu(quick: bool) -> list[Problem]:
    """GPU only (skipped elsewhere): the cuda backend's matmul GFLOP/s, fused elementwise GB/s, MLP step vs Numba CPU."""
    from benchmarks.gpu import gpu_problems
    return gpu_problems(quick, Problem, Contender, mlp_loss)


# ---------------------------------------------------------------- data parallel over MPI (issue 14)


@case("distributed", target="2-rank weak-scaling efficiency >= 80 % (784-256-256-10 MLP, per-rank "
                            "batch 256); allreduce of 1e7 float64 in 100 leaves <= 1.1x raw mpi4py")
def distributed(quick: bool) -> list[Problem]:
    """The MLP step with data_parallel in one process; mpiexec jobs at 1 and 2 ranks: scaling, allreduce."""
    from benchmarks.distributed import problems
    return problems(quick, Problem, Contender)


# ---------------------------------------------------------------- running


@dataclass
class Row:
    case: str
    problem: str
    contender: str
    status: str  # "ok", "wrong gradient", "not installed", "skipped", "too slow", "error"
    note: str = ""
    ops: int | None = None
    stats: Any = None
    ratio: float | None = None

    def as_json(self) -> dict:
        d = {"case": self.case, "problem": self.problem, "contender": self.contender,
             "status": self.status, "note": self.note, "ops": self.ops, "ratio": self.ratio}
        s = self.stats
        if s is not None:
            d.update(median_s=s.median, q1_s=s.q1, q3_s=s.q3, min_s=s.min, max_s=s.max,
                     samples=len(s.samples), calls=s.calls,
                     per_op_s=s.median / self.ops if self.ops else None)
        return d


@dataclass
class Settings:
    plan: Plan
    max_call_s: float  # a contender whose checked call takes longer is not timed
    warnings: list[str] = field(default_factory=list)


def run_problem(case_name: str, problem: Problem, settings: Settings) -> list[Row]:
    """Check every contender against the baseline, then time the ones that run, interleaved."""
    rows, fns, reference = [], {}, None
    for c in problem.contenders:
        row = Row(case_name, problem.label, c.name, "ok", ops=problem.ops)
        rows.append(row)
        if c.needs and peer(c.needs) is None:
            row.status, row.note = "not installed", f"pip install {c.needs}"
            continue
        if c.skip:
            row.status, row.note = "skipped", c.skip
            continue
        try:
            fn = c.make()
            t0 = time.perf_counter()
            result = fn()
            first_call = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001 - any peer failure goes in the table, not a crash
            row.status, row.note = "error", f"{type(exc).__name__}: {exc}"[:120]
            settings.warnings.append(f"WARNING {case_name} {problem.label}: {c.name} failed: "
                                     f"{row.note}")
            continue
        if c is problem.contenders[0]:
            reference = result
        elif reference is not None:
            why = (problem.check or mismatch)(reference, result)
            if why is not None:
                row.status, row.note = "wrong gradient", why
                settings.warnings.append(f"WARNING {case_name} {problem.label}: {c.name} does not "
                                         f"match {problem.contenders[0].name}: {why}")
        if first_call > settings.max_call_s and c is not problem.contenders[0]:
            again = first_call
            if first_call < 4 * settings.max_call_s:  # the first call may have paid for compiling (JAX)
                t0 = time.perf_counter()
                fn()
                again = time.perf_counter() - t0
            if again > settings.max_call_s:
                row.status, row.note = "too slow", f"one call took {again:.1f} s; not timed"
                continue
        fns[c.name] = fn
    if reference is None:
        settings.warnings.append(f"WARNING {case_name} {problem.label}: the baseline failed; "
                                     "nothing timed")
        return rows
    stats = time_interleaved(fns, settings.plan)
    base = stats.get(problem.contenders[0].name)
    for row in rows:
        if row.contender in stats:
            row.stats = stats[row.contender]
            row.ratio = row.stats.median / base.median if base else None
    return rows


def render(case_: Case, rows: list[Row]) -> str:
    with_ops = any(r.ops for r in rows)
    header = ["case", "contender", "median", "ratio", "IQR (q25 - q75)", "min", "max"]
    header += ["per op"] if with_ops else []
    header += ["note"]
    lines = []
    for r in rows:
        label = case_.name if r.problem == case_.name else f"{case_.name} {r.problem}"
        s = r.stats
        if s is None:
            cells = [label, r.contender, "-", "-", "-", "-", "-"] + (["-"] if with_ops else [])
            lines.append(cells + [r.status + (f" ({r.note})" if r.note else "")])
            continue
        cells = [label, r.contender, format_time(s.median), f"{r.ratio:.2f}x",
                 f"{format_time(s.q1)} - {format_time(s.q3)}", format_time(s.min), format_time(s.max)]
        cells += [format_time(s.median / r.ops)] if with_ops else []
        note = f"{len(s.samples)} samples, {s.calls} calls"
        if r.status != "ok":
            note = f"{r.status.upper()}: {r.note}; {note}"
        lines.append(cells + [note])
    text = format_table(header, lines, right={2, 3, 5, 6, 7} if with_ops else {2, 3, 5, 6})
    return text + _growth_summary(rows)


def _growth_summary(rows: list[Row]) -> str:
    """For a case with several problem sizes: each contender's per-op time at the largest N over the smallest."""
    sized = [r for r in rows if r.ops and r.stats is not None]
    if len({r.ops for r in sized}) < 2:
        return ""
    out = ["", "per-op time, largest N over smallest N (1.00 = linear growth):"]
    for name in dict.fromkeys(r.contender for r in sized):
        mine = sorted((r for r in sized if r.contender == name), key=lambda r: r.ops)
        if len(mine) < 2:
            continue
        lo, hi = mine[0], mine[-1]
        ratio = (hi.stats.median / hi.ops) / (lo.stats.median / lo.ops)
        out.append(f"  {name:<14} N={hi.ops} vs N={lo.ops}: {ratio:.2f}x")
    return "\n".join(out)


def machine_info() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "funcgrad": fg.__version__, "numba": _version("numba")}
    try:
        info["blas"] = np.__config__.CONFIG["Build Dependencies"]["blas"]["name"]
    except (AttributeError, KeyError, TypeError):
        pass
    peers = {}
    for name in peer_names():
        mod = peer(name)
        peers[name] = importlib.metadata.version(name) if mod is not None else None
    info["peers"] = peers
    return info


def cap_xla_pool(n: int) -> bool:
    """Start JAX's CPU client with an intra-op thread pool of ``n`` threads; False if that is not possible.

    XLA sizes its pool from the process's CPU affinity when the client starts,
    whatever ``XLA_FLAGS`` say (with jax 0.10 and the flags ``limit_threads``
    sets, a jitted 2048 x 2048 matmul and a 1e6-element elementwise loop both
    ran on two threads). So the process is pinned to ``n`` CPUs while the
    client starts, then every thread gets the full CPU set back: the pool
    keeps ``n`` threads, which the scheduler may move like any other.
    """
    jax = peer("jax")
    if jax is None:
        return True  # nothing to cap
    if not hasattr(os, "sched_setaffinity") or not os.path.isdir("/proc/self/task"):
        return False
    cpus = os.sched_getaffinity(0)
    if len(cpus) <= n:
        return True
    try:
        os.sched_setaffinity(0, set(sorted(cpus)[:n]))
        jax.block_until_ready(jax.numpy.zeros(1) + 1)  # starts the client and its pool
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:  # the thread has exited
                pass
    return True


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def header(info: dict, plan_name: str) -> str:
    peers = ", ".join(f"{k} {v}" if v else f"{k} (not installed)" for k, v in info["peers"].items())
    return "\n".join([
        "funcgrad benchmarks: gradients and jit, hand-written NumPy = 1.00x",
        f"machine : {info['platform']} ({info['machine']}, {info['cpus']} CPUs), Python {info['python']}",
        f"versions: numpy {info['numpy']}" + (f" ({info['blas']})" if "blas" in info else "")
        + f", funcgrad {info['funcgrad']}" + (f", numba {info['numba']}" if info.get("numba") else ""),
        f"peers   : {peers}",
        f"threads : {info['threads']}",
        f"timing  : {plan_name}; contenders interleaved round-robin, times are per call",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test, not a measurement")
    parser.add_argument("--case", action="append", choices=sorted(CASES), metavar="NAME",
                        help=f"run only this case (repeatable); one of: {', '.join(CASES)}")
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="cap BLAS / PyTorch / XLA / Numba threads at N (default 1, steadier on a "
                             "shared machine; 0 leaves the libraries' defaults)")
    parser.add_argument("--no-gc", action="store_true",
                        help="disable the garbage collector while timing (as timeit does); "
                             "by default it stays on, as in real use")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)

    if args.list:
        width = max(map(len, CASES)) + 1
        for c in CASES.values():
            print(f"{c.name:<{width}} {c.summary}\n{'':<{width}} target: {c.target}")
        return 0
    plan = Plan.quick() if args.quick else Plan.full()
    plan_name = (f"{'--quick' if args.quick else 'full'} (~{plan.target_s:g} s per contender, "
                 f"{plan.max_rounds} rounds, >= {plan.min_rounds} samples each), garbage collector "
                 f"{'off' if args.no_gc else 'on'}")
    plan.gc = not args.no_gc
    settings = Settings(plan, max_call_s=5.0 if args.quick else 10.0)
    threads = limit_threads(args.threads)
    if args.threads > 0:
        threads = threads[:-1] + ", Numba)" if threads.endswith(")") else threads
        if "numba" not in sys.modules:  # numba reads it when it is imported
            os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
        if not cap_xla_pool(args.threads):
            threads += "; XLA's thread pool NOT capped (no CPU affinity control here)"
    info = machine_info()
    info["threads"] = threads
    print(header(info, plan_name), flush=True)

    all_rows: list[Row] = []
    all_notes: list[str] = []
    for name in args.case or list(CASES):
        c = CASES[name]
        print(f"\n== {c.name}: {c.summary}\n   target: {c.target}", flush=True)
        start, n_warn = time.perf_counter(), len(settings.warnings)
        rows, notes = [], []
        for problem in c.build(args.quick):
            problem_rows = run_problem(name, problem, settings)
            rows += problem_rows
            if problem.summary is not None:
                notes.append(problem.summary(problem_rows))
        print(render(c, rows))
        for note in notes:
            print(note)
            all_notes.append(f"{name}: {note}")
        for w in settings.warnings[n_warn:]:
            print(w)
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
        all_rows += rows

    if args.json:
        out = {"machine": info, "plan": vars(plan), "quick": args.quick,
               "results": [r.as_json() for r in all_rows], "notes": all_notes,
               "warnings": settings.warnings}
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
