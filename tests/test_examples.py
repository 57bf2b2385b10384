"""Every script in examples/ runs, on small settings, and prints the numbers it promises.

The examples are loaded by file path (examples/ is not a package); each one's
``main(argv)`` returns its key numbers, which are checked here against closed
forms, independent NumPy computations or the thresholds the example states.
PNGs go to pytest's ``tmp_path``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC


# ---------------------------------------------------------------------------
# dezero_steps.py: exact numbers from the DeZero document (seed 003)
# ---------------------------------------------------------------------------

def test_dezero_steps(capsys):
    results = load("dezero_steps").main([])
    out = capsys.readouterr().out

    assert results["add"] == (9.0, (1.0, 1.0))
    assert results["mul"] == (18.0, (3.0, 6.0))
    assert results["add_mul"] == (18.0, (2.0, 2.0, 9.0))
    assert results["sphere"] == (45.0, (12.0, 6.0))
    assert "grads = 12.0, 6.0" in out and "grads = 2.0, 2.0, 9.0" in out

    x = 2.0
    expected = {"3.0 * x + 1.0": (7.0, 3.0), "2.0 - x": (0.0, -1.0), "x - 2.0": (0.0, 1.0),
                "-x": (-2.0, -1.0), "1.0 / x": (0.5, -1.0 / x ** 2), "x / 4.0": (0.5, 0.25),
                "x ** 3": (8.0, 3 * x ** 2)}
    assert results["scalar_operands"] == expected
    assert results["used_twice"] == (9.0, 3.0)
    assert results["generations"] == (32.0, 64.0)     # y = 2 x**4, dy/dx = 8 x**3

    # y = x**4 - 2 x**2: y' = 4x^3 - 4x, y'' = 12x^2 - 4, y''' = 24x at x = 2.
    assert results["quartic_derivatives"] == (24.0, 44.0, 48.0)
    newton = [2.0]
    for _ in range(7):
        x = newton[-1]
        newton.append(x - (4 * x ** 3 - 4 * x) / (12 * x ** 2 - 4))
    assert results["newton"] == pytest.approx(newton, rel=1e-15, abs=0)
    assert results["newton"][-1] == 1.0


# ---------------------------------------------------------------------------
# hvp_newton.py: Newton-CG with Hessian-vector products
# ---------------------------------------------------------------------------

def extended_rosenbrock_hessian(x: np.ndarray) -> np.ndarray:
    """The closed-form Hessian: one 2x2 block per pair (a, b) = (x[2i], x[2i+1])."""
    h = np.zeros((x.size, x.size))
    for i in range(0, x.size, 2):
        a, b = x[i], x[i + 1]
        h[i:i + 2, i:i + 2] = [[1200 * a ** 2 - 400 * b + 2, -400 * a], [-400 * a, 200]]
    return h


def test_hvp_matches_closed_form_hessian():
    example = load("hvp_newton")
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal(10), rng.standard_normal(10)
    hv = example.make_hvp(example.rosenbrock)(x, v)
    np.testing.assert_allclose(hv, extended_rosenbrock_hessian(x) @ v, rtol=1e-12, atol=1e-10)


def test_hvp_newton_converges_to_ones(capsys):
    results = load("hvp_newton").main(["--n", "100"])
    out = capsys.readouterr().out
    assert results["converged"]
    assert results["grad_norm"] < 1e-10
    np.testing.assert_allclose(results["x"], np.ones(100), rtol=0, atol=1e-6)
    assert results["iterations"] <= 30
    assert results["hvp_check"] < 1e-6
    assert results["history"][0][0] == 0 and len(results["history"]) == results["iterations"] + 1
    assert f"converged after {results['iterations']} iterations" in out


def test_hvp_newton_rejects_odd_dimension():
    with pytest.raises(SystemExit):
        load("hvp_newton").main(["--n", "7"])


# ---------------------------------------------------------------------------
# per_example_grads.py: vmap(grad) against a loop, then DP-SGD
# ---------------------------------------------------------------------------

def test_per_example_grads(capsys):
    results = load("per_example_grads").main(
        ["--examples", "256", "--test-examples", "256", "--batch", "32", "--steps", "60"])
    out = capsys.readouterr().out
    assert results["max_abs_diff"] <= 1e-12
    assert results["norms"].shape == (32,) and np.all(results["norms"] > 0)
    assert 0.0 <= results["fraction_clipped"] <= 1.0
    assert results["final_loss"] < 0.5 * results["start_loss"]
    assert results["final_accuracy"] >= 0.85
    assert "max abs difference" in out and "per-example gradient norms" in out


# ---------------------------------------------------------------------------
# digits_mlp.py: the digit recogniser, jitted training step
# ---------------------------------------------------------------------------

def test_digits_mlp_reaches_97_percent(tmp_path, capsys):
    results = load("digits_mlp").main(["--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert results["test_accuracy"] >= 0.97
    assert results["traces"] == 1                      # one jit trace for every batch
    assert results["losses"][-1] < results["losses"][0]
    assert f"final test accuracy {results['test_accuracy']:.4f}" in out
    assert_png(results["curves_png"])
    assert_png(results["mistakes_png"])
    assert results["curves_png"].parent == tmp_path


# ---------------------------------------------------------------------------
# digits_data_parallel.py: the same training through funcgrad.distributed, one process
# (the mpiexec runs are in tests/test_distributed_example.py)
# ---------------------------------------------------------------------------

def test_digits_data_parallel_alone_matches_digits_mlp(tmp_path, capsys):
    args = ["--epochs", "3", "--no-progress"]
    results = load("digits_data_parallel").main(args)
    out = capsys.readouterr().out
    plain = load("digits_mlp").main([*args, "--out", str(tmp_path)])
    assert results["size"] == 1 and len(results["throughput"]) == 1
    assert results["throughput"][0] > 0
    # size 1: broadcast, shard and the averaging are identities, so the training is digits_mlp's
    assert results["test_accuracy"] == plain["test_accuracy"] >= 0.9
    np.testing.assert_allclose(results["losses"], plain["losses"], rtol=1e-12, atol=0)
    assert f"final test accuracy {results['test_accuracy']:.4f}" in out
    assert "rank 0: " in out and "rank 1: " not in out


# ---------------------------------------------------------------------------
# rnn_sin_cos.py: an RNN continuing sin(x) cos(x)
# ---------------------------------------------------------------------------

def test_rnn_sin_cos(tmp_path, capsys):
    example = load("rnn_sin_cos")
    results = example.main(["--steps", "150", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert results["mse"] < example.MSE_BOUND
    assert results["mse"] < results["baseline_mse"] / 100
    assert results["traces"] == 1
    assert f"held-out MSE {results['mse']:.3e}" in out
    assert_png(results["plot_png"])
