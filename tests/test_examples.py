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


# ---------------------------------------------------------------------------
# digits_cnn.py: Conv2d, BatchNorm (state through the jitted step), MaxPool2d
# ---------------------------------------------------------------------------

def test_digits_cnn_shift_moves_each_image_by_at_most_one_pixel():
    example = load("digits_cnn")
    images = np.random.default_rng(0).uniform(size=(50, 8, 8, 1))
    shifted = example.shift(images, np.random.default_rng(1))
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
    moves = set()
    for image, moved, source in zip(images, shifted, padded, strict=True):
        found = [(dy, dx) for dy in range(3) for dx in range(3)
                 if np.array_equal(moved, source[dy:dy + 8, dx:dx + 8])]
        assert len(found) == 1, "not a one-pixel shift of the image (zeros coming in)"
        moves.add(found[0])
    assert len(moves) == 9                             # all nine shifts occur among 50 images
    np.testing.assert_array_equal(example.shift(images, np.random.default_rng(1), 0), images)


def test_digits_cnn(tmp_path, capsys):
    png = tmp_path / "cnn.png"
    results = load("digits_cnn").main(
        ["--epochs", "3", "--width", "8", "--no-progress", "--png", str(png)])
    out = capsys.readouterr().out
    assert results["test_accuracy"] >= 0.8             # about 0.90; 0.9956 with the defaults
    assert results["losses"][-1] < 0.7 * results["losses"][0]
    assert results["traces"] == 1                      # one jit trace for every batch
    assert results["wrong"] == round((1 - results["test_accuracy"]) * 450)
    assert f"final test accuracy {results['test_accuracy']:.4f} ({results['wrong']} of 450 " \
           "wrong) after 3 epochs" in out
    assert out.count("test accuracy") == 4             # three epoch lines and the final one
    assert_png(png)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.png"]    # no partial file left


# ---------------------------------------------------------------------------
# digits_vae.py: the reparameterisation trick with funcgrad.random keys
# ---------------------------------------------------------------------------

def test_digits_vae_kl_matches_quadrature():
    from scipy import integrate, stats

    example = load("digits_vae")
    mu, log_var = np.array([[0.3, -1.2, 2.0]]), np.array([[-0.5, 0.7, 0.0]])

    def kl_1d(m, lv):
        q = stats.norm(m, np.exp(lv / 2))
        return integrate.quad(lambda z: q.pdf(z) * (q.logpdf(z) - stats.norm.logpdf(z)),
                              -30, 30, points=[m], limit=200)[0]

    expected = sum(kl_1d(m, lv) for m, lv in zip(mu[0], log_var[0], strict=True))
    np.testing.assert_allclose(example.kl_to_standard_normal(mu, log_var), [expected],
                               rtol=1e-8)


def test_digits_vae(tmp_path, capsys):
    png = tmp_path / "vae.png"
    results = load("digits_vae").main(["--epochs", "8", "--no-progress", "--png", str(png)])
    out = capsys.readouterr().out
    elbos = results["elbos"]
    assert len(elbos) == 8 and elbos[-1] > elbos[0] + 5          # about -40 to -26.5 nats
    # A lower bound on log p(x) above the best independent-pixel model's exact log p(x).
    assert results["test_elbo"] > results["baseline"]
    assert results["test_kl"] > 0
    np.testing.assert_allclose(results["test_elbo"],
                               results["test_log_likelihood"] - results["test_kl"], rtol=1e-10)
    assert results["traces"] == 1
    assert f"epoch  8: training ELBO {elbos[-1]:8.3f} nats per image" in out
    assert f"held-out ELBO {results['test_elbo']:.3f} nats per image" in out
    assert_png(png)


# ---------------------------------------------------------------------------
# tiny_transformer.py: a 2-layer causal transformer learning to sort
# ---------------------------------------------------------------------------

def test_tiny_transformer_batches_are_sorting_examples():
    batch = load("tiny_transformer").make_batch(np.random.default_rng(0), 5, 6, 10)
    assert batch.shape == (5, 13)
    np.testing.assert_array_equal(batch[:, 6], 10)
    np.testing.assert_array_equal(batch[:, 7:], np.sort(batch[:, :6], axis=1))


def test_tiny_transformer(tmp_path, capsys):
    png = tmp_path / "transformer.png"
    results = load("tiny_transformer").main(
        ["--steps", "80", "--dim", "32", "--length", "4", "--warmup", "10", "--no-progress",
         "--png", str(png)])
    out = capsys.readouterr().out
    history = results["history"]
    assert [step for step, _, _ in history] == list(range(8, 81, 8))
    assert history[-1][1] < 0.5 * history[0][1]                 # the loss fell
    assert results["token_accuracy"] >= 0.85                    # 0.9999 with the defaults
    generated, held_out = results["generated"], results["held_out"]
    assert results["sorted_right"] == np.mean(np.all(generated == held_out, axis=1))
    np.testing.assert_array_equal(generated[:, :5], held_out[:, :5])   # the prompts kept
    assert results["traces"] == 1
    assert (f"held-out token accuracy {results['token_accuracy']:.4f}, sequences sorted right "
            f"by greedy decoding {results['sorted_right']:.4f} after 80 steps") in out
    assert_png(png)
