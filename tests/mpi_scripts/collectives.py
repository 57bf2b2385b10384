"""Run under ``mpiexec -n N`` by tests/test_distributed.py: many checks in one launch.

Each check prints ``rank R ok [NAME]``; a failed assertion is an uncaught exception, which
funcgrad's excepthook turns into an aborted job with a non-zero exit.  Expected values are
computed independently with NumPy (every rank regenerates every rank's inputs from their
seeds) and cross-rank bit-identity is checked with raw mpi4py, not with funcgrad.
"""

import sys
import warnings

import numpy as np
from mpi4py import MPI

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import distributed as dist
from funcgrad.distributed import _comm
from funcgrad.errors import DistributedError, DTypeError

COMM = MPI.COMM_WORLD
RANK, SIZE = dist.rank(), dist.size()


def ok(name):
    sys.stdout.write(f"rank {RANK} ok [{name}]\n")   # one write per line: ranks share stdout
    sys.stdout.flush()


def leaves_bytes(tree):
    return [np.ascontiguousarray(x).tobytes() for x in fg.tree.leaves(tree)]


def assert_same_on_every_rank(tree):
    """Raw mpi4py: every rank's result bytes equal rank 0's."""
    mine = leaves_bytes(tree)
    assert COMM.allgather(mine) == [mine] * SIZE, "results differ across ranks"


def rank_tree(r):
    """Rank r's input: nested, float32 and float64, empty and 0-d leaves, numbers."""
    g = np.random.default_rng(100 + r)
    return {
        "layers": [
            {"w": g.standard_normal((7, 5)), "b": g.standard_normal(5).astype(np.float32)},
            {"w": g.standard_normal((5, 3)).astype(np.float32), "b": np.zeros((0, 4))},
        ],
        "scale": np.asarray(g.standard_normal()),                  # 0-d float64 array
        "temp": np.float32(g.standard_normal()),                   # NumPy scalar
        "empty32": np.zeros(0, np.float32),
        "py": float(r) + 0.5,                                      # Python number
        "pair": (g.standard_normal(11), g.standard_normal((2, 2, 2)).astype(np.float32)),
    }


def check_reduction(result, op):
    inputs = [fg.tree.leaves(rank_tree(r)) for r in range(SIZE)]
    for i, got in enumerate(fg.tree.leaves(result)):
        stack = np.stack([np.asarray(leaves[i]) for leaves in inputs])
        want = stack.sum(axis=0, dtype=stack.dtype)
        bound = 4 * np.finfo(stack.dtype).eps * np.abs(stack).sum(axis=0)
        if op == "mean":
            want, bound = want / SIZE, bound / SIZE
        got = np.asarray(got)
        assert got.dtype == stack.dtype and got.shape == stack.shape[1:], (i, got.dtype, got.shape)
        if SIZE == 2:   # one addition: a + b rounds the same whichever rank computes it
            assert np.array_equal(got, want), (i, got, want)
        else:           # three operands: MPI's grouping may differ from NumPy's by rounding
            assert (np.abs(got - want) <= bound).all(), (i, got, want)


def check_allreduce():
    tree = rank_tree(RANK)
    structure = fg.tree.structure(tree)
    # 8 bytes: every bucket holds 1-2 elements, so leaves are split across many buckets.
    for bucket_bytes in (None, 8, 24, 100):
        for op in ("sum", "mean"):
            out = dist.allreduce(tree, op, bucket_bytes=bucket_bytes)
            assert fg.tree.structure(out) == structure
            assert isinstance(out["temp"], np.float32) and isinstance(out["scale"], np.ndarray)
            check_reduction(out, op)
            assert_same_on_every_rank(out)
    ok("allreduce")
    saved = _comm.NONBLOCKING_BYTES
    _comm.NONBLOCKING_BYTES = 0             # every bucket through Iallreduce
    try:
        for bucket_bytes in (8, 40, None):
            out = dist.allreduce(tree, "mean", bucket_bytes=bucket_bytes)
            check_reduction(out, "mean")
            assert_same_on_every_rank(out)
    finally:
        _comm.NONBLOCKING_BYTES = saved
    ok("iallreduce")
    ints = dist.allreduce({"n": np.arange(4, dtype=np.int32) * (RANK + 1), "k": RANK}, "sum")
    total = sum(range(1, SIZE + 1))
    assert ints["n"].dtype == np.int32 and (ints["n"] == np.arange(4) * total).all()
    assert ints["k"] == sum(range(SIZE))
    try:
        dist.allreduce({"n": np.arange(3)}, "mean")
        raise AssertionError("mean of integers did not raise")
    except DTypeError as e:
        assert "['n']" in str(e) and "int64" in str(e), e
    ok("allreduce_ints")


def check_broadcast():
    root = SIZE - 1
    mine = dict(rank_tree(RANK), flags=np.array([RANK % 2 == 0, True]), step=np.int64(RANK))
    out = dist.broadcast(mine, root=root, bucket_bytes=16)
    want = dict(rank_tree(root), flags=np.array([root % 2 == 0, True]), step=np.int64(root))
    assert fg.tree.structure(out) == fg.tree.structure(want)
    for got, exp in zip(fg.tree.leaves(out), fg.tree.leaves(want)):
        assert np.asarray(got).dtype == np.asarray(exp).dtype
        assert np.array_equal(got, exp)
    assert_same_on_every_rank(out)
    ok("broadcast")


def expect_mismatch(call, *needles):
    try:
        call()
    except DistributedError as e:
        text = str(e)
        assert all(n in text for n in needles), (text, needles)
        # every rank raises the same message
        assert COMM.allgather(text) == [text] * SIZE
        return
    raise AssertionError(f"no DistributedError; expected one mentioning {needles}")


def check_mismatches():
    last = SIZE - 1
    base = {"a": np.ones(3), "b": [np.ones((2, 2), np.float32), np.zeros(4)]}

    def changed(**kw):
        return dict(base, **kw) if RANK == last else base

    expect_mismatch(lambda: dist.allreduce(changed(a=np.ones(4))),
                    "leaf ['a']", "shape (3,)", "shape (4,)", f"rank {last}")
    expect_mismatch(lambda: dist.allreduce(changed(a=np.ones(3, np.float32))),
                    "leaf ['a']", "float64", "float32")
    expect_mismatch(lambda: dist.allreduce(changed(c=np.ones(1))),
                    "3 leaves", "4 leaves", "['c']")
    expect_mismatch(lambda: dist.allreduce(base, "sum" if RANK == last else "mean"),
                    "op='mean'", "op='sum'")
    expect_mismatch(lambda: dist.allreduce(base, bucket_bytes=64 if RANK == last else 128),
                    "bucket_bytes=128", "bucket_bytes=64")
    expect_mismatch(lambda: dist.broadcast(changed(b=(np.ones((2, 2), np.float32), np.zeros(4)))),
                    "structures")
    # the job is still usable afterwards
    assert dist.allreduce({"x": np.ones(2)}, "sum")["x"].tolist() == [SIZE, SIZE]
    ok("mismatch")


def check_shard():
    for n in (10, 2, SIZE):
        x = np.arange(n * 3).reshape(n, 3)
        piece = dist.shard({"x": x, "y": [np.arange(n)]})
        assert np.array_equal(piece["x"], np.array_split(x, SIZE)[RANK])
        assert np.array_equal(piece["y"][0], np.array_split(np.arange(n), SIZE)[RANK])
        assert np.shares_memory(piece["x"], x) or piece["x"].size == 0
    z = np.arange(2 * 7).reshape(2, 7)
    assert np.array_equal(dist.shard(z, axis=1), np.array_split(z, SIZE, axis=1)[RANK])
    ok("shard")


# ---- data_parallel: a step on this rank's shard equals the single-process step ----------

def linear_loss(w, batch):
    x, y = batch
    return fnp.mean((x @ w - y) ** 2)


def mlp_loss(params, batch):
    x, y = batch
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    err = h @ params["w2"] + params["b2"] - y
    return fnp.mean(err ** 2), {"mae": fnp.mean(fnp.abs(err))}


def sgd(params, grads, lr):
    return fg.tree.map(lambda p, g: p - lr * g, params, grads)


def run_steps(step, params, batch, lr, steps):
    history = []
    for _ in range(steps):
        out, grads = step(params, batch)
        params = sgd(params, grads, lr)
        history.append((out, grads, params))
    return history


def check_data_parallel_exact():
    """4 examples on 3 ranks (2, 1, 1): weights 1/2, 1/4, 1/4 and 1/4 for the full batch are
    exact, and integer data keep every product and sum exact: no rounding anywhere, so the
    distributed steps equal the single-process steps bit for bit."""
    g = np.random.default_rng(7)
    x = g.integers(-3, 4, (4, 3)).astype(np.float64)
    y = g.integers(-3, 4, (4,)).astype(np.float64)
    w0 = g.integers(-2, 3, 3).astype(np.float64)
    full = fg.value_and_grad(linear_loss)
    want = run_steps(full, w0, (x, y), 0.125, 3)
    got = run_steps(dist.data_parallel(full), w0, dist.shard((x, y)), 0.125, 3)
    for a, b in zip(want, got):
        assert leaves_bytes(a) == leaves_bytes(b), (a, b)
    assert_same_on_every_rank(got)
    ok("data_parallel_exact")


def check_data_parallel_rounding():
    """10 examples (4, 3, 3 on 3 ranks): each rank's mean over its examples times n_r / 10,
    summed, equals the mean over all 10 up to rounding only (the batch sums are grouped
    differently and 1/n_r * n_r/10 rounds differently from 1/10): a few ulps."""
    g = np.random.default_rng(8)
    x, y = g.standard_normal((10, 4)), g.standard_normal((10, 1))
    params = {"w1": g.standard_normal((4, 6)), "b1": g.standard_normal(6),
              "w2": g.standard_normal((6, 1)), "b2": g.standard_normal(1)}
    params = dist.broadcast(params if RANK == 0 else fg.tree.map(np.zeros_like, params))
    full = fg.value_and_grad(mlp_loss, has_aux=True)
    want = run_steps(full, params, (x, y), 0.1, 3)
    got = run_steps(dist.data_parallel(full), params, dist.shard((x, y)), 0.1, 3)
    worst = 0.0
    for a, b in zip(fg.tree.leaves(want), fg.tree.leaves(got)):
        a, b = np.asarray(a), np.asarray(b)
        np.testing.assert_allclose(b, a, rtol=5e-13, atol=1e-15)
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300))))
    assert_same_on_every_rank(got)
    sys.stdout.write(f"rank {RANK} data_parallel max relative difference {worst:.2e}\n")
    ok("data_parallel_rounding")


def check_data_parallel_edges():
    # fewer examples than ranks: the last rank's batch is empty (its mean is NaN); it
    # contributes zeros and the result is still the full batch's.
    x, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 2.0])
    w = np.array([0.5, -0.25])
    full = fg.value_and_grad(linear_loss)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = dist.data_parallel(full)(w, dist.shard((x, y)))
    want = full(w, (x, y))
    for a, b in zip(fg.tree.leaves(want), fg.tree.leaves(got)):
        np.testing.assert_allclose(b, a, rtol=1e-15)
    # integer output leaves cannot be averaged: the same DTypeError on every rank
    try:
        dist.data_parallel(lambda w, b: (np.float64(1.0), {"n": np.int64(len(b))}))(w, x)
        raise AssertionError("integer output did not raise")
    except DTypeError as e:
        assert "['n']" in str(e), e
    ok("data_parallel_edges")


def main():
    assert SIZE == int(sys.argv[1]) and dist.is_distributed(), (SIZE, sys.argv)
    dist.barrier()
    dist.stats.reset()
    check_allreduce()
    assert dist.stats.allreduce_calls > 0 and dist.stats.allreduce_buckets > dist.stats.allreduce_calls
    check_broadcast()
    check_mismatches()
    check_shard()
    check_data_parallel_exact()
    check_data_parallel_rounding()
    check_data_parallel_edges()
    dist.barrier()
    ok("all")


if __name__ == "__main__":
    main()
