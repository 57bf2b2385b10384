"""Hypothesis profiles shared by the whole test suite.

`ci` is deterministic and is also the default, so a local run tests the same
examples as CI. Set HYPOTHESIS_PROFILE=dev for a larger random search, and
HYPOTHESIS_PROFILE=nightly for a long one (meant for tests/test_random_programs.py).
"""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

# The cuda backend's tests run its kernels under Numba's CUDA simulator unless the
# environment says otherwise (NUMBA_ENABLE_CUDASIM=0 on a machine with a GPU runs them
# on the GPU).  Numba reads the variable when it is first imported: set it before.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

import funcgrad.backends

# Tests that jit with the default backend mean the default it settles on (Numba when it
# imports), not whichever backend a background load had reached by then: no tiered
# start-up in this process.  tests/test_backend_tiering.py tests tiering on its own.
funcgrad.backends.set_tiering(False)

_SLOW_DATA_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,  # no replay of earlier local failures: same examples every run
    max_examples=25,
    deadline=None,
    suppress_health_check=_SLOW_DATA_OK,
)
settings.register_profile(
    "dev",
    max_examples=100,
    deadline=None,
    suppress_health_check=_SLOW_DATA_OK,
)
# A long random search, for scheduled runs of tests/test_random_programs.py (each example
# is a whole program checked under every transformation); see docs/testing.md.
settings.register_profile(
    "nightly",
    max_examples=1000,
    deadline=None,
    suppress_health_check=_SLOW_DATA_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _fast_cuda_simulator(request):
    """Tests marked ``cuda`` run with a short thread switch interval.

    Numba's CUDA simulator runs each CUDA thread as a Python thread, and its main thread
    polls while holding the interpreter lock, so each ``syncthreads`` waits out whole 5 ms
    switch intervals: 0.1 ms makes the CUDA tests ~2.5x faster (26 s -> 10 s for the
    reduction rows).  Other tests keep Python's default.
    """
    if request.node.get_closest_marker("cuda") is None:
        yield
        return
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        yield
    finally:
        sys.setswitchinterval(saved)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item):
    """Undo the settings layer Hypothesis's pytest plugin adds to a parametrized test per run.

    For every run of a parametrized ``@given`` test the plugin sets the test function's
    settings to ``settings(parent=<its settings>, ...)``, so the chain grows by one per
    case, and a test parametrized over the op table's ~1,400 (record, dtype) cases hits a
    RecursionError near its 1,000th case.  Restoring the function's own settings after
    each run keeps the chain one layer deep; each run still gets the plugin's layer.
    """
    fn = getattr(item.obj, "__func__", item.obj)
    saved = getattr(fn, "_hypothesis_internal_use_settings", None)
    yield
    if saved is not None:
        fn._hypothesis_internal_use_settings = saved
