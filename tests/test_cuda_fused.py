"""The CUDA fused elementwise kernels beyond the kernel table (tests/kernel_rows_fused.py):
the float32 tanh bit for bit, host fallbacks counted, kernel reuse, layouts, the copy kernel,
and the names the generated GPU source binds.

Runs under Numba's CUDA simulator unless ``NUMBA_ENABLE_CUDASIM=0`` (tests/conftest.py).
"""

import importlib.util
import math

import numpy as np
import pytest

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("the cuda extra is not installed (pip install -e '.[cuda]')", allow_module_level=True)

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.backends import _cuda_arrays as dev
from funcgrad.backends import _cuda_fused as cf
from funcgrad.backends import _elementwise_table as table
from funcgrad.ops import elementwise as ew
from funcgrad.optimize.fusion import Program, fused_p

pytestmark = pytest.mark.cuda

SIN_PLUS = Program(((ew.sin_p, (("in", 0),)), (ew.add_p, (("tmp", 0), ("in", 1)))), 1, 2)


def strided_device(x):
    """``x`` (non-negative strides) on the device with its strides kept."""
    span = 1 + sum((n - 1) * s for n, s in zip(x.shape, x.strides)) // x.itemsize
    flat = np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,)).copy()
    return dev.view(dev.to_device(flat), x.shape, x.strides)


def test_float32_tanh_is_the_rational_approximation_bit_for_bit():
    # Under the simulator the arithmetic is rounded per operation (no FMA): the CPU loops'
    # tanh_float32 compiled without FMA; on a GPU, NVVM contracts to FMAs: the FMA variant.
    import numba

    fma = not dev.simulated()
    namespace = {"np": np, "numba": numba}
    exec(table.tanh_float32_source(fma), namespace)  # noqa: S102 - our own source
    reference = numba.vectorize(["float32(float32)"])(namespace["tanh_float32"].py_func)
    x = np.concatenate([np.linspace(-9, 9, 301), [8.5, 1e-5, -3e-4, np.inf, -np.inf]])
    x = x.astype(np.float32)
    got = dev.to_host(cf.single_kernel(ew.tanh_p)(dev.to_device(x)))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.view(np.int32), reference(x).view(np.int32))
    assert got[-2] == 1.0 and got[-1] == -1.0 and np.all(np.abs(got) <= 1)


@pytest.mark.parametrize("case", ["complex", "float16", "round with decimals", "int too large"])
def test_what_the_table_does_not_compute_runs_on_the_host_counted(case):
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    if case == "complex":
        args, kernel, params = [x + 1j, x], cf.fused_kernel, {"program": SIN_PLUS}
    elif case == "float16":
        args, kernel, params = [x.astype(np.float16), x], cf.fused_kernel, {"program": SIN_PLUS}
    elif case == "round with decimals":
        args, kernel, params = [x], cf.KERNELS[ew.round_p], {"decimals": 1}
    else:  # NumPy refuses a Python int that does not fit int8; so does the host run
        args, kernel, params = [np.arange(3, dtype=np.int8), 1000], cf.KERNELS[ew.add_p], {}
    moved = [dev.to_device(a) if isinstance(a, np.ndarray) else a for a in args]
    before = dev.STATS.snapshot()
    if case == "int too large":
        with pytest.raises(OverflowError):
            kernel(*moved, **params)
    else:
        got = dev.to_host(kernel(*moved, **params))
        prim = fused_p if kernel is cf.fused_kernel else ew.round_p
        expected = prim.impl(*args, **params)
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-3 if case == "float16" else 1e-12)
    name = {"complex": "fused", "float16": "fused", "round with decimals": "round"}.get(case, "add")
    assert dev.STATS.host_ops[name] == before.host_ops[name] + 1


def test_one_kernel_per_program_dtypes_and_pattern():
    a, b = np.ones((4, 3)), np.ones(3)
    cf.fused_kernel(dev.to_device(a), dev.to_device(b), program=SIN_PLUS)
    kernels = len(cf._kernels)
    for n in (2, 5):  # other sizes and values, the same layout: the same kernel
        got = cf.fused_kernel(dev.to_device(np.full((n, 3), 0.5)), dev.to_device(b + n),
                              program=SIN_PLUS)
        np.testing.assert_allclose(dev.to_host(got), np.full((n, 3), np.sin(0.5) + 1 + n), rtol=1e-14)
    assert len(cf._kernels) == kernels
    cf.fused_kernel(dev.to_device(a.astype(np.float32)), dev.to_device(b), program=SIN_PLUS)
    assert len(cf._kernels) == kernels + 1  # new dtypes: a new kernel


def test_layouts_collapse_to_flat_or_fewer_axes():
    itemsize = 8
    # C-contiguous operands of the output's shape: one flat axis, read as 1-D arrays.
    shape, strides = cf._collapse((2, 3, 4), [[96, 32, 8], [96, 32, 8]])
    assert shape == [24] and strides == [[8], [8]]
    # a row-broadcast operand keeps two axes; size-1 axes are dropped
    shape, strides = cf._collapse((4, 1, 3), [[24, 0, 8], [0, 0, 8]])
    assert shape == [4, 3] and strides == [[24, 8], [0, 8]]
    # a transposed operand: no axes merge
    shape, strides = cf._collapse((3, 4), [[itemsize, 3 * itemsize]])
    assert shape == [3, 4]
    program = Program(((ew.multiply_p, (("in", 0), ("in", 1))),), 0, 2)
    x = np.arange(24.0).reshape(2, 3, 4)
    plan = cf._make_plan(program, cf._program_typer(program),
                         (cf._signature(dev.to_device(x)), cf._signature(dev.to_device(x))))
    assert plan.views == (((24,), (8,)), ((24,), (8,)))
    flat = np.arange(5.0)  # already flat: passed as is
    plan = cf._make_plan(program, cf._program_typer(program), (cf._signature(dev.to_device(flat)),) * 2)
    assert plan.views == (None, None)
    assert cf._kernels[next(k for k in cf._kernels if k[0] is program)]  # compiled, cached


@pytest.mark.parametrize("layout", ["transposed", "zero stride", "sliced", "complex", "0-d"])
def test_contiguous_copies_any_layout_on_the_device(layout):
    base = np.arange(24.0).reshape(4, 6)
    x = {"transposed": base.T, "zero stride": np.broadcast_to(base[1], (3, 6)),
         "sliced": base[::2, 1::2], "complex": (base + 1j * base).T, "0-d": np.float64(3.0)}[layout]
    x = np.asarray(x)
    d = dev.to_device(x) if x.ndim == 0 else strided_device(x)
    before = dev.STATS.snapshot()
    out = cf.contiguous(d)
    assert dev.STATS.to_host == before.to_host and dev.STATS.host_ops == before.host_ops
    assert dev.is_c_contiguous(out) and out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(dev.to_host(out), x)


def test_python_ints_become_constants_once():
    program = Program(((ew.multiply_p, (("in", 0), ("in", 1))),
                       (ew.add_p, (("tmp", 0), ("in", 2)))), 1, 3)
    x = np.arange(5, dtype=np.int32)
    got = cf.fused_kernel(dev.to_device(x), 3, 2.5, program=program)  # int weak, float weak
    expected = fused_p.impl(x, 3, 2.5, program=program)
    assert dev.to_host(got).dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(dev.to_host(got), expected)
    bound, args = cf._with_constants(program, (x, 3, 2.5))
    assert cf._with_constants(program, (x, 3, 2.5))[0] is bound and len(args) == 2
    assert bound.num_inputs == 2 and ("const", 3) in bound.instructions[0][1]


def test_gpu_source_binds_functions_numba_cuda_compiles():
    # Every table function the CUDA templates call has a GPU spelling that exists.
    import numba.cuda

    for name, spelling in cf.GPU_FUNCTIONS.items():
        module, attr = spelling.split(".")
        if module == "math":
            assert callable(getattr(math, attr)), name
        else:
            assert module in ("cuda", "libdevice") and attr, name
    program = Program(((ew.cbrt_p, (("in", 0),)), (ew.round_p, (("tmp", 0),)),
                       (ew.logaddexp_p, (("tmp", 1), ("in", 0))),
                       (ew.tanh_p, (("tmp", 2),))), 3, 1)
    typed = table.type_program(program, (np.dtype(np.float32),), cf.CUDA_TABLE)
    gpu = cf.kernel_source(typed, 3, cf.Patterns(("a",), 2), simulated=False)
    assert "return cuda.cbrt(x)" in gpu and "rintf = libdevice.rintf" in gpu
    assert "log1p = math.log1p" in gpu and "exp = math.exp" in gpu
    assert "def tanh_float32" in gpu and "np.float32(7.998811" in gpu  # the FMA clamp
    sim = cf.kernel_source(typed, 3, cf.Patterns(("a",), 2), simulated=True)
    assert "rintf = np.rint" in sim and "cbrt = np.cbrt" in sim and "np.float32(7.905311" in sim
    assert numba.cuda is not None


def test_jitted_elementwise_graph_runs_only_cuda_kernels():
    def f(x, y):
        z = fnp.where(x > 0, fnp.tanh(x * 2.0 + y), fnp.exp(x) - 1)
        return fnp.sqrt(fnp.abs(z)) + (x != 0)

    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    y = np.linspace(0, 1, 4, dtype=np.float32)
    before = dev.STATS.snapshot()
    got = fg.jit(f, backend="cuda")(x, y)
    assert dev.STATS.host_ops == before.host_ops
    expected = fg.jit(f, backend="numba")(x, y)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6)
