"""The CUDA reductions' launch plans and host fallbacks (their values: tests/kernel_rows_reduce.py).

The kernel-table rows compare values; here: the multi-block rows really take several
blocks and a second pass under the simulator's sizes, the thread layout follows
memory, the plans are sound for any sizes (GPU and simulator), and what has no kernel
runs the NumPy reference on the host, counted (the reference's errors included).
"""

import importlib.util
import itertools

import kernel_rows_reduce
import numpy as np
import pytest

from funcgrad.backends import _cuda_reduce as red
from funcgrad.ops import reductions

HAS_CUDA = importlib.util.find_spec("numba_cuda") is not None
#: Tests that run kernels (under the simulator in CI); the others are plain Python.
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="the cuda extra is not installed "
                                "(pip install -e '.[cuda]')")


@pytest.fixture
def launches(monkeypatch):
    """The plans of the kernel launches made while the test runs, in order."""
    made, plan = [], red.plan

    def spy(*args, **kwargs):
        made.append(plan(*args, **kwargs))
        return made[-1]
    monkeypatch.setattr(red, "plan", spy)
    return made


def _run(primitive, x, axis, keepdims=False):
    from test_kernels import assert_matches, run_kernel

    params = {"axis": axis, "keepdims": keepdims}
    expected = primitive.impl(x, **params)
    assert_matches(run_kernel("cuda", primitive, [x], params), expected, {"rtol": 1e-12, "atol": 1e-12})


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", list(kernel_rows_reduce.MULTI_BLOCK), ids=str)
def test_multi_block_rows_take_several_blocks(name, launches, monkeypatch):
    monkeypatch.setattr(red, "sizes", lambda: red.SIM_SIZES)  # the rows' sizes, on a GPU too
    shape, axis, layout = kernel_rows_reduce.MULTI_BLOCK[name]
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    x = x if layout is None else layout(x)
    _run(reductions.sum_p, x, axis)
    first = launches[0]
    assert first.blocks * first.splits > 1, first
    assert (len(launches) >= 2) == ("two passes" in name), launches
    assert launches[-1].splits == 1


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("shape, axis, reduction_fast", [
    ((20, 6), (0,), False),   # the unbroadcast sum over the batch: threads along the columns
    ((6, 20), (1,), True),    # rows: threads along each row
    ((3, 20, 4), (1,), False),
    ((4, 20, 3), (0, 2), True),  # the kept axis is the outer one
], ids=str)
def test_threads_follow_memory(shape, axis, reduction_fast, launches):
    _run(reductions.sum_p, np.random.default_rng(1).uniform(-2, 2, shape), axis)
    assert launches[0].reduction_fast == reduction_fast


@pytest.mark.parametrize("cfg", [red.GPU_SIZES, red.SIM_SIZES, red.Sizes(4, 4, 9, 1)], ids=str)
def test_plans_cover_every_element_and_terminate(cfg):
    for m, n, fast in itertools.product([1, 2, 3, 31, 32, 33, 1000], [0, 1, 2, 7, 64, 1000, 10**7],
                                        [True, False]):
        p = red.plan(m, n, fast, cfg)
        cols = cfg.block // p.rows
        assert p.rows & (p.rows - 1) == 0 and p.rows * cols == cfg.block, p
        assert p.blocks * cols >= m > (p.blocks - 1) * cols, p
        assert p.splits * p.chunk >= n and (p.splits - 1) * p.chunk < max(n, 1), p
        assert p.splits == 1 or p.splits < n, p  # the next pass has fewer elements per output
        assert p.splits <= max(1, -(-cfg.target_blocks // p.blocks)), p


def test_plan_on_a_gpu_for_the_mlp_backward():
    """A (1024, 1024) sum over the batch: 32-column strips, 8 threads down the rows, 8 chunks."""
    assert red.plan(1024, 1024, False, red.GPU_SIZES) == red.Plan(False, 8, 32, 8, 128)


def _host_ops():
    from funcgrad.backends import _cuda_arrays as dev

    return dev.STATS.snapshot().host_ops


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("primitive", [reductions.max_p, reductions.min_p], ids=lambda p: p.name)
@pytest.mark.parametrize("shape, axis", [((3, 0), (1,)), ((0, 0), (1,)), ((0,), (0,))], ids=str)
def test_extremum_of_nothing_raises_the_reference_error(primitive, shape, axis):
    from funcgrad.backends import _cuda_arrays as dev

    with pytest.raises(ValueError) as expected:
        primitive.impl(np.zeros(shape), axis=axis, keepdims=False)
    before = _host_ops()
    with pytest.raises(ValueError, match=str(expected.value)):
        red.KERNELS[primitive](dev.to_device(np.zeros(shape)), axis, False)
    assert _host_ops()[primitive.name] == before[primitive.name] + 1


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("dtype", [np.float16, np.complex128], ids=lambda d: np.dtype(d).name)
def test_other_dtypes_run_on_the_host_counted(dtype):
    from funcgrad.backends import _cuda_arrays as dev

    x = np.arange(12).reshape(3, 4).astype(dtype)
    before = _host_ops()
    got = red.sum_kernel(dev.to_device(x), (0,), False)
    assert _host_ops()["sum"] == before["sum"] + 1
    np.testing.assert_array_equal(dev.to_host(got), np.add.reduce(x, axis=0))


@pytest.mark.cuda
@needs_cuda
def test_softmax_of_integers_runs_on_the_host_counted():
    from funcgrad.backends import _cuda_arrays as dev
    from funcgrad.scipy import special

    x = np.arange(6).reshape(2, 3)
    before = _host_ops()
    got = red.KERNELS[special._softmax_p](dev.to_device(x), (1,))
    assert _host_ops()["softmax"] == before["softmax"] + 1
    np.testing.assert_allclose(dev.to_host(got), special._softmax_p.impl(x, axes=(1,)), rtol=1e-15)
