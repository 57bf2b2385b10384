"""A scan and the scan that reads its stacked ys joined into one ``scan_pair`` node.

The optimiser pass (funcgrad.optimize.scan_pair) is checked on graphs against the unpaired
graph (NumPy reference, bit for bit); the Numba kernel (funcgrad.backends._numba_pair)
against eager grad, which runs the same libm calls in the same order: bit for bit too.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad._core.interpret import eval_graph
from funcgrad.optimize import DEFAULT_PASSES, optimize, pair_scans

X0 = np.linspace(0.1, 1.5, 16)
UNPAIRED = tuple(p for p in DEFAULT_PASSES if p is not pair_scans)


def rollout_loss(x, n=9):
    return fnp.sum(lax.fori_loop(0, n, lambda i, x: x + 0.01 * (fnp.sin(x) - 0.1 * x * x), x))


def scan_with_ys(x, n=9, power=1):
    """The loss reads the forward scan's ys and final carry: the pair must keep them."""
    carry, ys = lax.scan(lambda c, _: (fnp.sin(c) * c, fnp.cos(c)), x, None, length=n)
    return fnp.sum(carry) + fnp.sum(ys ** power)


def matmul_loss(x, n=20):
    w = np.linspace(-0.5, 0.5, 16).reshape(4, 4)
    return fnp.sum(lax.fori_loop(0, n, lambda i, h: fnp.tanh(h @ w), x.reshape(4, 4)))


def names(graph):
    return [n.name for n in graph.nodes if n.primitive is not None]


def paired(f, *args):
    """``f``'s optimised graph, checked against the one without the pairing (bit for bit)."""
    g = optimize(fg.make_graph(f)(*args))
    unpaired = optimize(fg.make_graph(f)(*args), passes=UNPAIRED)
    for got, want in zip(eval_graph(g, list(args)), eval_graph(unpaired, list(args)),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    return g


# -- the pass ---------------------------------------------------------------------------------
def test_a_loops_gradient_becomes_one_pair_without_its_unread_results():
    g = paired(fg.grad(rollout_loss), X0)
    (pair,) = [n for n in g.nodes if n.name == "scan_pair"]
    assert "scan" not in names(g)
    # Nothing reads the forward's final carries (the counter, x) or its stacked counter:
    # the pair keeps none of them, and its forward body has no counter any more.
    assert pair.params["keep"] == ()
    assert pair.params["num_carry"] == 1 and len(pair.params["body"].inputs) == 1
    assert [n.dtype for n in pair.params["body"].outputs] == [np.float64] * 4


def test_results_that_others_read_are_kept():
    g = paired(fg.value_and_grad(scan_with_ys), X0)
    (pair,) = [n for n in g.nodes if n.name == "scan_pair"]
    # The final carry and the ys (the loss reads both) come out of the pair.
    assert pair.params["keep"] == (0, 1)
    g = paired(fg.value_and_grad(rollout_loss), X0)
    (pair,) = [n for n in g.nodes if n.name == "scan_pair"]
    assert pair.params["keep"] == (0,)  # x's final value; the counter is gone
    assert pair.params["num_carry"] == 1


def test_a_scan_reading_the_first_other_than_through_its_ys_is_not_joined():
    def chained(x):
        c1, ys = lax.scan(lambda c, _: (fnp.sin(c), c * c), x, None, length=5)
        # The second scan starts from the first's final carry and reads a value made from
        # its ys: neither is a stacked y read as an x.
        c2, _ = lax.scan(lambda c, y: (c + y * fnp.sum(ys[0]), c), c1, ys)
        return c2
    g = paired(chained, X0)
    assert names(g).count("scan") == 2 and "scan_pair" not in names(g)
    # The gradient's scan reads 2 * ys, computed between the two scans.
    g = paired(fg.value_and_grad(lambda x: scan_with_ys(x, power=2)), X0)
    assert names(g).count("scan") == 2 and "scan_pair" not in names(g)


def test_a_scan_that_prints_is_not_joined(capsys):
    def loss(x):
        def step(i, x):
            fg.debug.print("x0={v}", v=x[0])
            return fnp.sin(x)
        return fnp.sum(lax.fori_loop(0, 3, step, x))
    g = optimize(fg.make_graph(fg.grad(loss))(X0))
    assert "scan_pair" not in names(g)
    fg.jit(fg.grad(loss), backend="numba")(X0)
    assert len(capsys.readouterr().out.split()) == 3


# -- the Numba kernel --------------------------------------------------------------------------
numba_loops = pytest.importorskip("funcgrad.backends._numba_loops")


def numba_runs(f, *args):
    before = dict(numba_loops.STATS)
    out = fg.jit(f, backend="numba")(*args)
    return out, {k: numba_loops.STATS[k] - before[k] for k in before}


@pytest.mark.parametrize("n", [1, 8, 9, 100])  # odd and even: the carry's last buffer differs
@pytest.mark.parametrize("transform, loss", [(fg.grad, rollout_loss),
                                             (fg.value_and_grad, rollout_loss),
                                             (fg.value_and_grad, scan_with_ys)],
                         ids=["grad", "value_and_grad", "kept-ys"])
def test_one_kernel_runs_both_loops_with_the_eager_numbers(transform, loss, n):
    f = transform(lambda x: loss(x, n))
    got, stats = numba_runs(f, X0)
    assert stats["kernel_runs"] == 1 and stats["step_runs"] == 0
    for a, b in zip(fg.tree.leaves(got), fg.tree.leaves(f(X0)), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bodies_that_are_not_elementwise_run_as_two_scans():
    x = np.linspace(-1.0, 1.0, 16)
    f = fg.grad(matmul_loss)
    got, stats = numba_runs(f, x)
    assert stats["kernel_runs"] == 0  # the whole-body loops (or steps) of each scan
    np.testing.assert_allclose(got, f(x), rtol=1e-13)
    g = optimize(fg.make_graph(f)(x))
    assert "scan_pair" in names(g)


def test_the_executable_calls_the_pair_with_its_operands_alone():
    f = fg.jit(fg.grad(rollout_loss), backend="numba")
    f(X0)
    (entry,) = f._cache.values()
    (line,) = [ln for ln in entry.executable.source.splitlines() if "# scan_pair" in ln]
    assert "=" not in line.split("(", 1)[1]  # params bound to the kernel, no keywords
    np.testing.assert_array_equal(f(X0), fg.grad(rollout_loss)(X0))
