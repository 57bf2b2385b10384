"""funcgrad.distributed: the single-process world in-process, and real MPI jobs launched
with ``mpiexec -n 2`` / ``-n 3`` (tests/mpi_scripts/), which run many checks per launch."""

import dataclasses
import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import distributed as dist
from funcgrad.distributed import _comm, _hooks, _pack
from funcgrad.errors import ArgumentError, DistributedError, DTypeError, ShapeError

SCRIPTS = Path(__file__).parent / "mpi_scripts"


def nested_tree():
    g = np.random.default_rng(0)
    return {"layers": [{"w": g.standard_normal((4, 3)), "b": g.standard_normal(3).astype(np.float32)},
                       {"w": g.standard_normal((3, 2)).T, "b": np.zeros((0, 2))}],   # .T: strided
            "scale": np.asarray(2.5), "temp": np.float32(0.5), "py": 1.5,
            "count": np.arange(5, dtype=np.int32)}


# ---- the world of one process ------------------------------------------------------------

def test_single_process_world():
    assert (dist.rank(), dist.size(), dist.is_distributed()) == (0, 1, False)
    hook = sys.excepthook
    dist.barrier()
    dist.install_excepthook()               # nothing to abort alone
    assert sys.excepthook is hook


@pytest.mark.parametrize("bucket_bytes", [None, 1, 8, 24, 1000])
def test_allreduce_alone_is_identity_on_a_copy(bucket_bytes):
    tree = nested_tree()
    for op in ("sum", "mean"):
        if op == "mean":
            tree = {k: v for k, v in tree.items() if k != "count"}
        out = dist.allreduce(tree, op, bucket_bytes=bucket_bytes)
        assert fg.tree.structure(out) == fg.tree.structure(tree)
        for got, want in zip(fg.tree.leaves(out), fg.tree.leaves(tree)):
            want = np.asarray(want)
            assert np.asarray(got).dtype == want.dtype and np.shape(got) == want.shape
            assert np.array_equal(got, want)
            assert not np.shares_memory(got, want)
        assert isinstance(out["temp"], np.float32) and isinstance(out["py"], np.float64)
        assert isinstance(out["scale"], np.ndarray) and out["scale"].shape == ()
    back = dist.broadcast(dict(tree, flag=np.array([True, False])), bucket_bytes=bucket_bytes)
    assert back["flag"].tolist() == [True, False] and np.array_equal(back["scale"], 2.5)


def test_buckets_split_leaves_and_start_only_when_full():
    leaves = [np.arange(5.0), np.arange(10.0, 13.0), np.zeros(0), np.arange(20.0, 26.0).reshape(2, 3).T,
              np.arange(3, dtype=np.float32)]
    seen = []

    def start(bucket):
        seen.append((bucket.dtype, bucket.copy()))   # contents at the moment the call starts
        return _comm.DONE

    out, buckets, nbytes = _pack.run_bucketed(leaves, 16, start)   # 2 float64 / 4 float32 each
    flat64 = np.concatenate([np.ravel(a) for a in leaves[:4]])
    assert [b.size for d, b in seen if d == np.float64] == [2, 2, 2, 2, 2, 2, 2]
    assert np.array_equal(np.concatenate([b for d, b in seen if d == np.float64]), flat64)
    assert [b.tolist() for d, b in seen if d == np.float32] == [[0.0, 1.0, 2.0]]
    assert (buckets, nbytes) == (8, 14 * 8 + 3 * 4)
    for got, want in zip(out, leaves):
        assert got.shape == want.shape and np.array_equal(got, want)
    seen.clear()
    _pack.run_bucketed(leaves, 1, start, copy_in=False)    # below one element: 1 per bucket
    assert len(seen) == 17
    seen.clear()
    out, _, _ = _pack.run_bucketed(leaves, 24, start, prepare=lambda b: np.multiply(b, 2, out=b),
                                   finish=lambda buf: np.add(buf, 1, out=buf))
    assert np.array_equal(np.concatenate([b for d, b in seen if d == np.float64]), 2 * flat64)
    assert all(np.array_equal(got, 2 * want + 1) for got, want in zip(out, leaves))


def test_reused_buffers_never_overwrite_a_result_still_held():
    first = dist.allreduce({"a": np.full(4, 1.0), "b": np.full(3, 2.0)}, "sum")
    for k in range(3, 9):
        later = dist.allreduce({"a": np.full(4, float(k)), "b": np.full(3, float(k))}, "sum")
        assert first["a"].tolist() == [1.0] * 4 and first["b"].tolist() == [2.0] * 3
        assert later["a"].tolist() == [float(k)] * 4
    kept = first["b"]                       # one view keeps the whole buffer taken
    del first
    for k in range(3):
        assert not np.shares_memory(dist.allreduce({"a": np.ones(4), "b": np.ones(3)})["b"], kept)
    assert kept.tolist() == [2.0] * 3
    pooled = _pack.take_buffer(np.dtype(np.float64), 7)
    buf_id = id(pooled)
    del pooled                              # no result refers to it: taken again
    assert id(_pack.take_buffer(np.dtype(np.float64), 7)) == buf_id
    for n in range(1, 50):                  # many sizes: the pool stays bounded
        _pack.take_buffer(np.dtype(np.float32), n)
    assert len(_pack._pool) <= _pack._POOL_KEYS


def test_allreduce_and_broadcast_reject_bad_input():
    tree = {"w": np.ones(2)}
    with pytest.raises(ArgumentError, match="op must be 'mean' or 'sum', got 'max'"):
        dist.allreduce(tree, "max")
    for bad in (0, -8, 1.5, True):
        with pytest.raises(ArgumentError, match="bucket_bytes must be a positive int"):
            dist.allreduce(tree, bucket_bytes=bad)
    with pytest.raises(DTypeError, match=r"leaf \['n'\] has dtype int64.*op='sum' for integers"):
        dist.allreduce({"n": np.arange(3)}, "mean")
    with pytest.raises(DTypeError, match=r"leaf \['b'\] has dtype bool"):
        dist.allreduce({"b": np.array([True])}, "sum")
    with pytest.raises(DTypeError, match=r"leaf \['s'\] is a str"):
        dist.allreduce({"s": "text"})
    with pytest.raises(DTypeError, match="traced value"):
        fg.grad(lambda x: fnp.sum(dist.allreduce({"x": x})["x"]))(np.ones(2))
    with pytest.raises(ArgumentError, match=r"root must be a rank in \[0, 1\), got 1"):
        dist.broadcast(tree, root=1)


def test_stats_count_calls_buckets_and_bytes():
    dist.stats.reset()
    dist.allreduce({"a": np.ones(5), "b": np.ones(3, np.float32)}, bucket_bytes=16)
    s = dist.stats
    assert (s.allreduce_calls, s.allreduce_buckets, s.allreduce_bytes) == (1, 4, 52)
    assert s.allreduce_seconds > 0
    dist.stats.reset()
    assert dist.stats.allreduce_calls == 0 and dist.stats.allreduce_seconds == 0.0


# ---- cross-rank checks, with a fake second rank ------------------------------------------

def sig_of(tree, args="allreduce(op='mean', bucket_bytes=8)"):
    arrays, paths, treedef, _ = _pack.as_arrays("t", tree)
    return _pack.signature(args, treedef, arrays, paths)


class TwoRanks(_comm.SingleWorld):
    """Rank 0 of a pretend 2-rank job whose rank 1 passed ``other``."""

    size = 2

    def __init__(self, other):
        self.other = other

    def allgather_int64(self, values):
        return np.array([values, [_pack._digest(self.other)]], dtype=np.int64).reshape(2, -1)

    def allgather_object(self, obj):
        return [obj, self.other]


@pytest.mark.parametrize("tree1, needles", [
    ({"a": np.ones(3), "b": np.ones(4)}, ["leaf ['b']", "shape (2,)", "shape (4,)", "rank 1"]),
    ({"a": np.ones(3), "b": np.ones(2, np.float32)}, ["leaf ['b']", "float64", "float32"]),
    ({"a": np.ones(3)}, ["rank 0 has 2 leaves, rank 1 has 1 leaves", "['b']"]),
    ({"a": np.ones(3), "c": np.ones(2)}, ["leaf 1 is ['b'] on rank 0 but ['c'] on rank 1"]),
    ([np.ones(3), np.ones(2)], ["leaf 0 is ['a'] on rank 0 but [0] on rank 1"]),
])
def test_mismatched_trees_name_the_first_difference(tree1, needles):
    mine = sig_of({"a": np.ones(3), "b": np.ones(2)})
    with pytest.raises(DistributedError) as info:
        _pack.check_same_everywhere("allreduce", TwoRanks(sig_of(tree1)), mine)
    assert all(n in str(info.value) for n in needles), str(info.value)
    _pack.check_same_everywhere("allreduce", TwoRanks(mine), mine)     # equal: no error


def test_memory_addresses_in_static_fields_are_not_a_mismatch():
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        act: object = dataclasses.field(default=None, metadata={"static": True})

    mine = sig_of(Layer(np.ones(2), act=lambda x: x))
    _pack.check_same_everywhere("allreduce", TwoRanks(sig_of(Layer(np.ones(2), lambda x: x))), mine)


def test_mismatched_arguments_and_containers():
    a = sig_of([np.ones(2)])
    b = sig_of([np.ones(2)], "allreduce(op='sum', bucket_bytes=8)")
    assert "called it with allreduce(op='mean'" in _pack.first_difference(a, b, 1)
    c = sig_of((np.ones(2),))     # same key paths, tuple instead of list
    assert _pack.first_difference(a, c, 1).startswith("the structures differ")


# ---- environment: when MPI is used ------------------------------------------------------

def test_launcher_environment_selects_mpi(monkeypatch):
    assert not _comm.wants_mpi({})
    assert _comm.wants_mpi({"PMI_RANK": "0", "PMI_SIZE": "2"})
    assert _comm.wants_mpi({"OMPI_COMM_WORLD_SIZE": "4"})
    assert not _comm.wants_mpi({"PMI_SIZE": "2", "FUNCGRAD_MPI": "0"})
    assert _comm.wants_mpi({"FUNCGRAD_MPI": "1"})
    with pytest.raises(DistributedError, match="FUNCGRAD_MPI must be '0'.*got 'yes'"):
        _comm.wants_mpi({"FUNCGRAD_MPI": "yes"})
    assert isinstance(_comm.make_world({"PMI_SIZE": "2", "FUNCGRAD_MPI": "0"}), _comm.SingleWorld)
    monkeypatch.setitem(sys.modules, "mpi4py", None)      # as if the extra were not installed
    with pytest.raises(DistributedError, match=r"PMI_SIZE=2.*funcgrad\[mpi\].*FUNCGRAD_MPI=0"):
        _comm.make_world({"PMI_SIZE": "2"})


def test_imports_without_mpi4py():
    code = ("import sys\n"
            "import funcgrad, funcgrad.distributed as d\n"
            "assert 'mpi4py' not in sys.modules and d.size() == 1\n"
            "for name in [n for n in sys.modules if n.startswith('funcgrad')]:\n"
            "    del sys.modules[name]\n"
            "sys.modules['mpi4py'] = None\n"
            "import funcgrad.distributed as d\n"
            "assert d.allreduce({'x': 1.0}) == {'x': 1.0}\n")
    env = {k: v for k, v in os.environ.items()
           if k not in _comm.LAUNCHER_VARS and k != "FUNCGRAD_MPI"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_excepthook_prints_rank_traceback_and_aborts(capsys):
    class Rank3(_comm.SingleWorld):
        rank, size, aborted = 3, 4, None

        def abort(self, code):
            self.aborted = code

    world = Rank3()
    hook = _hooks.make_hook(world)
    try:
        raise ValueError("bad batch")
    except ValueError as e:
        hook(type(e), e, e.__traceback__)
    err = capsys.readouterr().err
    assert world.aborted == 1
    assert "[rank 3] Traceback (most recent call last):" in err
    assert "[rank 3] ValueError: bad batch" in err and "aborting all 4 ranks" in err


# ---- shard and data_parallel alone -------------------------------------------------------

def test_shard_bounds_follow_array_split():
    for n in range(13):
        for parts in range(1, 6):
            pieces = np.array_split(np.arange(n), parts)
            for i in range(parts):
                start, stop = dist._shard_bounds(n, parts, i)
                assert np.array_equal(np.arange(n)[start:stop], pieces[i])


def test_shard_alone_returns_the_whole_batch():
    batch = {"x": np.arange(12.0).reshape(4, 3), "y": np.arange(4)}
    piece = dist.shard(batch)
    assert np.array_equal(piece["x"], batch["x"]) and np.shares_memory(piece["x"], batch["x"])
    assert np.array_equal(dist.shard(batch["x"], axis=-1), batch["x"])
    with pytest.raises(ShapeError, match=r"\['x'\] has 4, \['y'\] has 3"):
        dist.shard({"x": np.ones((4, 2)), "y": np.ones(3)})
    with pytest.raises(ShapeError, match="shape \\(\\), which has no axis 0"):
        dist.shard({"x": np.float64(1.0)})
    with pytest.raises(ArgumentError, match="no array leaves"):
        dist.shard({})


def test_data_parallel_alone_returns_fn_output():
    def loss(w, batch):
        x, y = batch
        return fnp.mean((x @ w - y) ** 2), {"n": fnp.sum(x[:, 0] * 0 + 1)}

    step = fg.value_and_grad(loss, has_aux=True)
    w, batch = np.array([1.0, -2.0]), (np.arange(6.0).reshape(3, 2), np.ones(3))
    (value, aux), grads = dist.data_parallel(step)(w, batch)
    (value2, aux2), grads2 = step(w, batch)
    assert value == value2 and aux == aux2 and np.array_equal(grads, grads2)
    with pytest.raises(DTypeError, match=r"leaf \[1\]\['n'\] has dtype int64"):
        dist.data_parallel(lambda w, b: (np.float64(1.0), {"n": np.int64(3)}))(w, batch)
    with pytest.raises(ArgumentError, match="batch_argnums=2 but the step got 2"):
        dist.data_parallel(step, batch_argnums=2)(w, batch)


# ---- real MPI jobs -----------------------------------------------------------------------

def _mpiexec():
    if find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (the mpi extra: pip install -e '.[mpi]')")
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec on PATH (the mpi extra installs MPICH's: pip install -e '.[mpi]')")
    return found


def launch(n, script, *args, timeout):
    env = {k: v for k, v in os.environ.items() if k != "FUNCGRAD_MPI"}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(n), sys.executable, str(SCRIPTS / script), *args]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                                check=False)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout} s:\n{e.stdout}\n{e.stderr}")
    return result, result.stdout + result.stderr


CHECKS = ["allreduce", "iallreduce", "allreduce_ints", "broadcast", "mismatch", "shard",
          "data_parallel_exact", "data_parallel_rounding", "data_parallel_edges", "all"]


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_and_data_parallel_under_mpiexec(n):
    result, output = launch(n, "collectives.py", str(n), timeout=120)
    assert result.returncode == 0, output
    for r in range(n):
        for check in CHECKS:
            assert f"rank {r} ok [{check}]" in result.stdout, (r, check, output)


def test_a_failing_rank_aborts_the_whole_job():
    result, output = launch(3, "raise_on_rank.py", timeout=60)
    assert result.returncode != 0, output
    assert "[rank 1] Traceback (most recent call last):" in output, output
    assert "[rank 1] ValueError: deliberate failure on rank 1" in output, output
    assert "unreachable" not in output
