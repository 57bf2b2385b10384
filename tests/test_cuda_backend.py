"""The cuda backend end to end: jitted gradients and optimiser steps against the CPU backends,
device arrays, counted transfers, the default backend, and the errors without a device.

Runs under Numba's CUDA simulator (tests/conftest.py sets ``NUMBA_ENABLE_CUDASIM=1`` unless
the environment says otherwise; ``NUMBA_ENABLE_CUDASIM=0`` runs it on a GPU).  The simulator
runs each CUDA thread as a Python thread, so every shape here is tiny.  The kernels
themselves are tested row by row in tests/test_kernels.py.
"""

import importlib.util
import itertools
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("the cuda extra is not installed (pip install -e '.[cuda]')", allow_module_level=True)

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn, optim
from funcgrad.backends import _cuda_arrays as dev
from funcgrad.backends import get_backend, set_default_backend
from funcgrad.errors import ArgumentError, BackendUnavailableError
from funcgrad.scipy.special import logsumexp

pytestmark = pytest.mark.cuda

ROOT = Path(__file__).resolve().parent.parent
TOL = {np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-13},
       np.dtype(np.float32): {"rtol": 2e-5, "atol": 2e-6}}


# -- a small MLP ---------------------------------------------------------------------------
def mlp_params(dtype, sizes=(5, 7, 6, 3), seed=0) -> dict:
    rng = np.random.default_rng(seed)
    p = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        p[f"w{i}"] = (rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
        p[f"b{i}"] = (0.1 * rng.normal(size=n_out)).astype(dtype)
    return p


def mlp_batch(dtype, n=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype(dtype), rng.integers(0, 3, size=n)


def logits(p, x):
    h = fnp.tanh(x @ p["w1"] + p["b1"])
    h = nn.relu(h @ p["w2"] + p["b2"])
    return h @ p["w3"] + p["b3"]


def loss_nn(p, x, y):
    """Softmax cross-entropy through funcgrad.nn."""
    return nn.softmax_cross_entropy(logits(p, x), y)


def loss_lse(p, x, y):
    """The same loss written with logsumexp and a one-hot mask."""
    z = logits(p, x)
    onehot = (y[:, None] == np.arange(3)).astype(z.dtype)
    return fnp.mean(logsumexp(z, axis=1) - fnp.sum(z * onehot, axis=1))


def assert_tree_close(got, expected, dtype, same_types=True):
    """Same structure, shapes, dtypes and (``same_types``) leaf types; values within ``TOL``."""
    got_leaves, got_tree = fg.tree.flatten(got)
    exp_leaves, exp_tree = fg.tree.flatten(expected)
    assert got_tree == exp_tree
    for a, b in zip(got_leaves, exp_leaves):
        assert type(a) is type(b) or not same_types, (type(a), type(b))
        assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype
        np.testing.assert_allclose(a, b, **TOL[np.dtype(dtype)])


@pytest.mark.parametrize("loss, dtype", [(loss_nn, np.float64), (loss_nn, np.float32),
                                         (loss_lse, np.float64)])
def test_jit_grad_of_an_mlp_loss_equals_the_cpu_backends(loss, dtype):
    p, (x, y) = mlp_params(dtype), mlp_batch(dtype)
    on_gpu = fg.jit(fg.grad(loss), backend="cuda")(p, x, y)
    for cpu in ("numba", "numpy"):
        assert_tree_close(on_gpu, fg.jit(fg.grad(loss), backend=cpu)(p, x, y), dtype)
    # and the value, a 0-d result, comes back as a NumPy scalar as on the CPU
    value = fg.jit(loss, backend="cuda")(p, x, y)
    assert type(value) is np.dtype(dtype).type
    np.testing.assert_allclose(value, fg.jit(loss, backend="numba")(p, x, y), **TOL[np.dtype(dtype)])


def train_step(opt):
    def step(p, state, x, y):
        value, g = fg.value_and_grad(loss_nn)(p, x, y)
        updates, state = opt.update(g, state, p)
        return optim.apply_updates(p, updates), state, value
    return step


@pytest.mark.parametrize("opt, dtype", [(optim.adam(0.05), np.float32),
                                        (optim.sgd(0.1, momentum=0.9), np.float64)],
                         ids=["adam-float32", "sgd-float64"])
def test_an_optimiser_step_on_device_arrays_equals_the_cpu_step(opt, dtype):
    p, (x, y) = mlp_params(dtype), mlp_batch(dtype)
    state = opt.init(p)
    gpu, cpu = fg.jit(train_step(opt), backend="cuda"), fg.jit(train_step(opt), backend="numba")

    d_p, d_state = fg.device_put((p, state))
    assert all(dev.is_device_array(leaf) for leaf in fg.tree.leaves((d_p, d_state)))
    expected = cpu(p, state, x, y)
    got = gpu(d_p, d_state, x, y)  # the batch comes from the host
    # an argument on the device: every result stays there
    assert all(dev.is_device_array(leaf) for leaf in fg.tree.leaves(got))
    # device_get gives NumPy arrays (the 0-d loss too, where the CPU step gives a NumPy scalar)
    assert_tree_close(fg.device_get(got), expected, dtype, same_types=False)

    # the results feed the next step as they are, on the device
    expected = cpu(*expected[:2], x, y)
    got = gpu(*got[:2], x, y)
    host = fg.device_get(got)
    assert all(type(leaf) is np.ndarray for leaf in fg.tree.leaves(host))
    assert_tree_close(host, expected, dtype, same_types=False)


def test_host_arguments_give_host_results():
    opt = optim.adam(0.05)
    p, (x, y) = mlp_params(np.float64), mlp_batch(np.float64)
    state = opt.init(p)
    got = fg.jit(train_step(opt), backend="cuda")(p, state, x, y)
    expected = fg.jit(train_step(opt), backend="numba")(p, state, x, y)
    assert not any(dev.is_device_array(leaf) for leaf in fg.tree.leaves(got))
    assert type(got[2]) is np.float64 and type(got[1][0].count) is np.int64  # 0-d: NumPy scalars
    assert_tree_close(got, expected, np.float64)


def test_device_put_and_device_get():
    tree = {"a": np.arange(6.0).reshape(2, 3), "b": [np.float32(2.5), 3]}
    on_device = fg.device_put(tree)
    assert all(dev.is_device_array(leaf) for leaf in fg.tree.leaves(on_device))
    assert fg.device_put(on_device)["a"] is on_device["a"]  # already there: not copied again
    back = fg.device_get(on_device)
    np.testing.assert_array_equal(back["a"], tree["a"])
    assert back["b"][0].shape == () and back["b"][0].dtype == np.float32 and back["b"][0] == 2.5
    assert back["b"][1].shape == () and back["b"][1] == 3
    with pytest.raises(BackendUnavailableError, match="device must be None or 'cuda'"):
        fg.device_put(tree, device="tpu:0")


# -- what runs on the host, and what crosses the bus --------------------------------------
def test_a_primitive_without_a_kernel_runs_on_the_host_counted():
    jitted = fg.jit(lambda x: fnp.sum(fnp.sort(x) * 2.0 + 1.0), backend="cuda")
    x = np.array([3.0, -1.0, 2.0, 0.5])
    executable = get_backend("cuda").compile(jitted.lower(x))
    assert "sort" in executable.host_primitives
    jitted(x)  # compiled: constants, if any, are on the device now
    stats = get_backend("cuda").stats
    stats.reset()
    assert jitted(x) == np.sum(np.sort(x) * 2.0 + 1.0)
    once = stats.snapshot()
    assert once.host_ops["sort"] == 1
    # the primitives that ran on the host are exactly the executable's host_primitives
    assert set(once.host_ops) == set(executable.host_primitives)
    # in: x, and sort's result; out: sort's operand, and the sum
    assert once.to_device >= 2 and once.to_host >= 2
    assert once.bytes_to_device >= 2 * x.nbytes and once.bytes_to_host >= x.nbytes + 8
    jitted(x)
    twice = stats.snapshot()  # every call is counted again
    assert (twice.to_device, twice.to_host, twice.host_ops) == (
        2 * once.to_device, 2 * once.to_host, once.host_ops + once.host_ops)


def test_a_graph_with_kernels_only_copies_its_inputs_in_and_outputs_out():
    # matmul, a fused elementwise chain and a sum: all have kernels, so values stay on the device
    jitted = fg.jit(lambda x, w: fnp.sum(fnp.tanh(x @ w) * 2.0 + 1.0, axis=1), backend="cuda")
    x, w = np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0, 1, 8).reshape(4, 2)
    assert get_backend("cuda").compile(jitted.lower(x, w)).host_primitives == ()
    jitted(x, w)
    stats = get_backend("cuda").stats
    stats.reset()
    got = jitted(x, w)
    np.testing.assert_allclose(got, np.sum(np.tanh(x @ w) * 2.0 + 1.0, axis=1), rtol=1e-13)
    assert (stats.to_device, stats.to_host, dict(stats.host_ops)) == (2, 1, {})
    assert (stats.bytes_to_device, stats.bytes_to_host) == (x.nbytes + w.nbytes, got.nbytes)
    stats.reset()
    d_x, d_w = fg.device_put((x, w))
    out = jitted(d_x, d_w)  # on the device already: nothing crosses the bus
    assert dev.is_device_array(out)
    assert (stats.to_device, stats.to_host, dict(stats.host_ops)) == (2, 0, {})


# -- the default backend -------------------------------------------------------------------
@pytest.fixture
def restore_default():
    yield
    set_default_backend(None)


def test_set_default_backend_moves_default_functions_to_cuda_and_back(restore_default):
    traces = []

    def f(x):
        traces.append(1)
        return fnp.tanh(x) * 3.0

    jitted, x = fg.jit(f), np.linspace(-1, 1, 5)
    expected = np.tanh(x) * 3.0
    np.testing.assert_allclose(jitted(x), expected, rtol=1e-14)
    cpu = jitted.backend_name(x)
    assert cpu in ("numba", "numpy")
    explicit = fg.jit(f, backend="numpy")
    explicit(x)

    set_default_backend("cuda")
    assert get_backend().name == "cuda"
    np.testing.assert_allclose(jitted(x), expected, rtol=1e-14)
    assert jitted.backend_name(x) == "cuda"
    assert len(traces) == 2 and jitted.cache_info().misses == 1  # recompiled, not retraced
    new = fg.jit(lambda x: fnp.sum(x * x))
    assert new(x) == pytest.approx(np.sum(x * x), rel=1e-14)
    assert new.backend_name(x) == "cuda"
    explicit(x)
    assert explicit.backend_name(x) == "numpy"  # a backend named at jit is not the default's
    d_x = fg.device_put(x)
    assert dev.is_device_array(jitted(d_x))

    set_default_backend(None)
    np.testing.assert_allclose(jitted(x), expected, rtol=1e-14)
    assert jitted.backend_name(x) == cpu and len(traces) == 2
    with pytest.raises(BackendUnavailableError, match="device array"):
        jitted(d_x)


def test_set_default_backend_refuses_an_unknown_name(restore_default):
    with pytest.raises(ArgumentError, match="unknown backend 'tpu'.*'cuda'"):
        set_default_backend("tpu")
    assert get_backend().name in ("numba", "numpy")


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_device_arrays_passed_to_a_host_backend_are_refused_by_name(backend):
    def f(x, w):
        return x @ w
    x, w = np.ones((2, 3)), np.ones((3, 2))
    compiled, fresh = fg.jit(f, backend=backend), fg.jit(f, backend=backend)
    compiled(x, w)
    for jitted in (compiled, fresh):  # a cached signature, and a first call
        with pytest.raises(BackendUnavailableError, match=rf"argument 1 \('w'\) is a CUDA device "
                                                          rf"array.*{backend} backend"):
            jitted(x, fg.device_put(w))


# -- no device ---------------------------------------------------------------------------------
#: Each subprocess prints one line per attempt: the BackendUnavailableError, or that there was none.
TRY_EACH = textwrap.dedent("""
    import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    from funcgrad.errors import BackendUnavailableError

    def try_each(*attempts):
        for attempt in attempts:
            try:
                result = attempt()
            except BackendUnavailableError as e:
                print("ERROR:", e)
            else:
                print("NO ERROR:", result)
""")

NO_DEVICE = TRY_EACH + textwrap.dedent("""
    from numba import cuda
    f = lambda x: fnp.sum(x * 2.0)
    if cuda.is_available():  # a real GPU: it must work
        assert fg.jit(f, backend="cuda")(np.ones(3)) == 6.0
        print("GPU")
        raise SystemExit(0)
    try_each(lambda: fg.jit(f, backend="cuda")(np.ones(3)), lambda: fg.set_default_backend("cuda"),
             lambda: fg.device_put(np.ones(3)))
    jitted = fg.jit(f)  # the failed set_default_backend left the default alone
    jitted(np.ones(3))
    print("DEFAULT:", jitted.backend_name(np.ones(3)))
""")

NO_PACKAGE = textwrap.dedent("""
    import importlib.util
    real = importlib.util.find_spec
    importlib.util.find_spec = lambda name, *a: None if name == "numba_cuda" else real(name, *a)
""") + TRY_EACH + textwrap.dedent("""
    try_each(lambda: fg.jit(lambda x: x * 2.0, backend="cuda")(np.ones(3)),
             lambda: fg.set_default_backend("cuda"))
""")


def run_python(source: str, simulator: str) -> list[str]:
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": simulator, "FUNCGRAD_TIERED": "0"}
    proc = subprocess.run([sys.executable, "-c", source], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.splitlines()


def test_without_a_device_or_the_simulator_the_cuda_backend_raises():
    lines = run_python(NO_DEVICE, simulator="0")
    if lines == ["GPU"]:
        return  # a GPU here: the subprocess checked that it runs
    assert len(lines) == 4, lines
    for line in lines[:3]:
        assert line.startswith("ERROR: no CUDA device was found"), line
        assert "NUMBA_ENABLE_CUDASIM=1" in line and "does not fall back to the CPU" in line
    assert lines[3] in ("DEFAULT: numba", "DEFAULT: numpy")


def test_without_numba_cuda_the_cuda_backend_names_the_package():
    lines = run_python(NO_PACKAGE, simulator="1")
    assert len(lines) == 2, lines
    for line in lines:
        assert line.startswith("ERROR: the cuda backend needs the numba-cuda package"), line
        assert "pip install" in line


# -- the GPU benchmark (benchmarks/gpu.py) ---------------------------------------------------
def test_the_gpu_benchmark_is_skipped_with_a_message_under_the_simulator(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import gpu, run

    assert "simulator" in gpu.gpu_missing()
    assert run.CASES["cuda"].build(False) == []
    assert "skipped: NUMBA_ENABLE_CUDASIM=1" in capsys.readouterr().out


@pytest.mark.parametrize("device, expected", [
    ("NVIDIA H100 80GB HBM3", "H100"), ("NVIDIA H100 PCIe", "H100 PCIe"),
    ("NVIDIA H200", "H200"), ("NVIDIA H200 NVL", "H200 NVL"),
    ("NVIDIA A100-SXM4-40GB", "A100"), ("NVIDIA A100-SXM4-80GB", "A100-SXM4-80GB"),
    ("NVIDIA GeForce GTX 1080", None)])
def test_the_gpu_benchmark_finds_the_peak_figures_of_known_gpus(monkeypatch, device, expected):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import gpu

    spec = gpu.gpu_spec(device)
    assert (spec.name if spec else None) == expected
