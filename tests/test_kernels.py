"""Every row of tests/kernel_table.py, on every backend it names, against the NumPy reference.

The CUDA rows run under Numba's CUDA simulator unless ``NUMBA_ENABLE_CUDASIM=0``
(tests/conftest.py); they are skipped only when the ``cuda`` extra (numba-cuda) is not
installed.
"""

import importlib.util

import numpy as np
import pytest
from kernel_table import rows

HAS_CUDA = importlib.util.find_spec("numba_cuda") is not None
NO_CUDA = "the cuda extra is not installed (pip install -e '.[cuda]')"
TOL = {np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
       np.dtype(np.float32): {"rtol": 2e-6, "atol": 1e-6}}
EXACT = {"rtol": 0, "atol": 0}


def _cases():
    for row in rows():
        for dtype in row.dtypes:
            for backend in row.backends:
                marks = ()
                if backend == "cuda":
                    marks = (pytest.mark.cuda, pytest.mark.skipif(not HAS_CUDA, reason=NO_CUDA))
                yield pytest.param(row, dtype, backend, marks=marks,
                                   id=f"{backend}-{np.dtype(dtype).name}-{row.name}")


def device_like(x):
    """``x`` on the device with its layout (strides, zero strides) kept; scalars stay scalars."""
    from funcgrad.backends import _cuda_arrays as dev

    if not isinstance(x, np.ndarray):
        return x
    if x.size == 0 or x.flags.c_contiguous:
        return dev.to_device(x)
    assert all(s >= 0 and s % x.itemsize == 0 for s in x.strides), x.strides
    span = 1 + sum((n - 1) * s for n, s in zip(x.shape, x.strides)) // x.itemsize
    flat = np.lib.stride_tricks.as_strided(x, (span,), (x.itemsize,)).copy()
    return dev.view(dev.to_device(flat), x.shape, x.strides)


def run_kernel(backend, primitive, args, params):
    """The backend's kernel for ``primitive`` on ``args``, as a host value."""
    from funcgrad.backends import get_backend

    kernel = get_backend(backend).kernels.get(primitive)
    assert kernel is not None, f"the {backend} backend has no kernel for {primitive.name}"
    if backend != "cuda":
        return kernel(*args, **params)
    from funcgrad.backends import _cuda_arrays as dev

    moved = [device_like(a) for a in args]
    for a, m in zip(args, moved):
        if isinstance(a, np.ndarray):
            assert m.shape == a.shape and tuple(m.strides) == a.strides or a.size == 0
    before = dev.STATS.snapshot()
    out = kernel(*moved, **params)
    after = dev.STATS.snapshot()
    assert dev.is_device_array(out), type(out)
    assert after.host_ops == before.host_ops and after.to_host == before.to_host, (
        f"{primitive.name} ran on the host: {after.host_ops - before.host_ops}")
    return out.copy_to_host()


def assert_matches(got, expected, tol):
    got_array, expected_array = np.asarray(got), np.asarray(expected)
    assert got_array.shape == expected_array.shape and got_array.dtype == expected_array.dtype, (
        got_array.shape, got_array.dtype, expected_array.shape, expected_array.dtype)
    np.testing.assert_allclose(got_array, expected_array, equal_nan=True, **tol)


@pytest.mark.parametrize("row, dtype, backend", list(_cases()))
def test_kernel_matches_the_reference(row, dtype, backend):
    args, params = row.make(dtype)
    with np.errstate(all="ignore"):
        expected = row.primitive.impl(*args, **params)
        got = run_kernel(backend, row.primitive, args, params)
    if backend != "cuda":  # NumPy scalar or array, as the reference returns
        assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray)
    tol = EXACT if backend in row.exact else TOL.get(np.asarray(expected).dtype, EXACT)
    assert_matches(got, expected, tol)
