"""Tiered start-up of the default backend (``funcgrad.backends``): NumPy first, Numba once loaded.

Most tests run in this process against a stand-in preferred backend ("fake") whose
import blocks until the test releases it, so every phase of the switch is
deterministic.  A few run fresh interpreters against the real Numba backend: the
switch itself, ``FUNCGRAD_TIERED=0``, a failing ``import numba``, and exiting or
being killed while the backend loads.
"""

import importlib.abc
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import backends
from funcgrad.backends import _warmup
from funcgrad.ops.linalg import matmul_p


def loss(w, x):
    return fnp.sum(fnp.tanh(x @ w + 1.0) ** 2)


def loss_grad(w, x):
    """The gradient of :func:`loss` with respect to ``w``, by hand."""
    t = np.tanh(x @ w + 1.0)
    return x.T @ (2.0 * t * (1.0 - t * t))


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(8, 4)), rng.normal(size=(16, 8))


# -- a stand-in preferred backend whose import the test controls -----------------------------
class _FakeBackendImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``name``; importing it waits for ``release``, then raises ``error`` or defines BACKEND."""

    def __init__(self, name, kernels, error=None):
        self.name, self.kernels, self.error = name, kernels, error
        self.release = threading.Event()
        self.imports = 0

    def find_spec(self, fullname, path, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname == self.name else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        self.imports += 1
        if not self.release.wait(30):
            raise TimeoutError("the test never released the fake backend's import")
        if self.error is not None:
            raise self.error
        module.BACKEND = backends.Backend("fake", self.kernels)


class Sandbox:
    """Fresh default-backend state whose preferred backend is "fake" (a counting ``matmul``).

    ``runs`` counts the calls of :func:`loss_grad`'s graph on "fake" (two matmuls each).
    """

    def __init__(self, monkeypatch, error=None):
        self.matmuls = 0

        def counting_matmul(a, b):
            self.matmuls += 1
            return matmul_p.impl(a, b)

        module = f"funcgrad_test_fake_backend_{id(self)}"
        self.finder = _FakeBackendImport(module, {matmul_p: counting_matmul}, error)
        monkeypatch.delenv(backends.TIERED_ENV, raising=False)
        self.default = backends._Default()
        monkeypatch.setattr(backends, "_default", self.default)
        monkeypatch.setattr(backends, "PREFERRED", "fake")
        monkeypatch.setitem(backends._MODULES, "fake", module)
        monkeypatch.setitem(backends._import_locks, "fake", threading.Lock())
        monkeypatch.setattr(sys, "meta_path", [self.finder, *sys.meta_path])
        self.module = module

    @property
    def runs(self):
        return self.matmuls / 2

    def settle(self):
        """Let the import finish and wait until the default is final."""
        self.finder.release.set()
        assert self.default.settled.wait(30)

    def settle_and_join(self):
        self.settle()
        join_loaders()

    def close(self):
        self.finder.release.set()
        join_loaders()
        backends._loaded.pop("fake", None)
        sys.modules.pop(self.module, None)


def join_loaders():
    for thread in threading.enumerate():
        if thread.name == "funcgrad-backend-loader":
            thread.join(30)


@pytest.fixture
def sandbox(monkeypatch):
    box = Sandbox(monkeypatch)
    yield box
    box.close()


def is_provisional(jitted, *args):
    entry = jitted._cache[jitted._signature(*_leaves_and_tree(jitted, args))]
    return type(entry.executable).__name__ == "_Provisional"


def _leaves_and_tree(jitted, args):
    dynamic, dyn_kwargs, static = jitted._split(args, {})
    leaves, treedef = fg.tree.flatten((dynamic, dyn_kwargs))
    return leaves, treedef, static


# -- in this process, with the stand-in backend --------------------------------------------------
def test_first_calls_run_on_numpy_then_switch_without_retracing(sandbox):
    w, x = inputs()
    f = fg.jit(fg.grad(loss))
    assert backends.tiering_status().state == "idle"
    first = f(w, x)
    assert f.backend_name(w, x) == "numpy"
    assert backends.tiering_status().state == "loading"
    assert backends.get_backend().name == "numpy"
    assert f(w, x) is not None and f.backend_name(w, x) == "numpy"  # still loading
    np.testing.assert_allclose(first, loss_grad(w, x), rtol=1e-12)
    generation = backends.default_generation()

    sandbox.settle()
    status = backends.tiering_status()
    assert (status.state, status.default, status.error) == ("ready", "fake", None)
    assert backends.default_generation() != generation
    assert status.warmed == 1 and sandbox.runs == 1  # f's graph ran on "fake" before the switch
    assert f.backend_name(w, x) == "numpy"  # switches on its next call
    second = f(w, x)
    assert f.backend_name(w, x) == "fake"
    assert sandbox.runs == 2  # that call ran on the fake backend
    assert not is_provisional(f, w, x)  # a final executable: the hot path is not wrapped
    np.testing.assert_allclose(second, loss_grad(w, x), rtol=1e-12)
    assert f.cache_info().misses == 1  # no retrace
    for _ in range(3):
        f(w, x)
    assert sandbox.runs == 5


def test_an_explicit_backend_never_tiers(sandbox):
    w, x = inputs()
    g = fg.jit(fg.grad(loss), backend="numpy")
    g(w, x)
    assert backends.tiering_status().state == "idle"  # an explicit backend starts no loader
    f = fg.jit(fg.grad(loss))
    f(w, x)
    assert backends.tiering_status().state == "loading"
    h = fg.jit(fg.grad(loss), backend="numba")  # loads now, whatever the default is doing
    np.testing.assert_allclose(h(w, x), loss_grad(w, x), rtol=1e-12)
    assert h.backend_name(w, x) == "numba" and not is_provisional(h, w, x)
    assert not is_provisional(g, w, x) and is_provisional(f, w, x)
    sandbox.settle()
    g(w, x)
    h(w, x)
    assert (g.backend_name(w, x), h.backend_name(w, x)) == ("numpy", "numba")


def test_a_failed_import_leaves_numpy_as_the_default_quietly(monkeypatch):
    box = Sandbox(monkeypatch, error=ImportError("No module named 'numba'"))
    try:
        w, x = inputs()
        f = fg.jit(fg.grad(loss))
        f(w, x)
        box.settle()
        status = backends.tiering_status()
        assert (status.state, status.default) == ("failed", "numpy")
        assert isinstance(status.error, ImportError)
        np.testing.assert_allclose(f(w, x), loss_grad(w, x), rtol=1e-12)
        assert f.backend_name(w, x) == "numpy" and not is_provisional(f, w, x)
        assert backends.wait_for_default().name == "numpy"
        assert backends.default_backend_name() == "numpy"
    finally:
        box.close()


def test_a_broken_backend_is_reported_with_a_warning_not_an_exception(monkeypatch):
    box = Sandbox(monkeypatch, error=RuntimeError("numba is broken"))
    try:
        w, x = inputs()
        f = fg.jit(fg.grad(loss))
        f(w, x)
        with pytest.warns(RuntimeWarning, match="numba is broken.*default backend is numpy"):
            box.settle_and_join()
        assert isinstance(backends.tiering_status().error, RuntimeError)
        np.testing.assert_allclose(f(w, x), loss_grad(w, x), rtol=1e-12)
    finally:
        box.close()


def test_set_tiering_off_makes_provisional_executables_wait_for_the_default(sandbox):
    w, x = inputs()
    f = fg.jit(fg.grad(loss))
    f(w, x)
    assert f.backend_name(w, x) == "numpy"
    backends.set_tiering(False)
    threading.Timer(0.2, sandbox.finder.release.set).start()
    np.testing.assert_allclose(f(w, x), loss_grad(w, x), rtol=1e-12)  # waits for the load
    assert f.backend_name(w, x) == "fake"
    g = fg.jit(lambda x: fnp.sum(x))
    g(x)
    assert g.backend_name(x) == "fake"


def test_with_tiering_off_the_first_call_loads_the_default_in_the_calling_thread(sandbox):
    backends.set_tiering(False)
    sandbox.finder.release.set()
    w, x = inputs()
    f = fg.jit(fg.grad(loss))
    f(w, x)
    assert f.backend_name(w, x) == "fake" and sandbox.runs == 1
    assert sandbox.default.loader is None and backends.tiering_status().warmed == 0


@pytest.mark.parametrize("value, enabled", [("0", False), ("off", False), ("False", False),
                                            ("1", True), ("", True)])
def test_the_environment_variable_sets_tiering(monkeypatch, value, enabled):
    monkeypatch.setenv(backends.TIERED_ENV, value)
    assert backends._Default().enabled is enabled


def test_concurrent_first_calls_start_one_loader_and_all_switch(sandbox):
    w, x = inputs()
    f = fg.jit(fg.grad(loss))
    expected = loss_grad(w, x)
    n_threads, start = 6, threading.Barrier(6)
    results, errors, backends_seen = [], [], set()
    stop = threading.Event()

    def worker():
        try:
            start.wait()
            while not stop.is_set():
                results.append(f(w, x))
                backends_seen.add(f.backend_name(w, x))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    while not results:
        time.sleep(0.001)
    sandbox.settle()
    deadline = time.monotonic() + 10
    while f.backend_name(w, x) != "fake" and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors
    assert sandbox.finder.imports == 1
    assert f.cache_info().misses == 1
    assert backends_seen == {"numpy", "fake"}
    for r in results:
        np.testing.assert_allclose(r, expected, rtol=1e-12)


def test_warm_up_runs_small_graphs_and_skips_large_ones():
    runs = []

    class Recording(backends.Backend):
        def compile(self, graph):
            runs.append(graph)
            return super().compile(graph)

    backend = Recording("recording")
    small = fg.make_graph(lambda x: fnp.sum(fnp.log(x) / x), optimize=True)(np.zeros((3, 4)))
    assert _warmup.warm_up(backend, small) is True
    n = int(_warmup.WARMUP_MAX_ELEMENTS ** 0.5) + 1
    large = fg.make_graph(lambda x: fnp.sum(x * 2.0), optimize=True)(np.zeros((n, n)))
    assert _warmup.warm_up(backend, large) is False
    assert runs == [small]
    assert _warmup.graph_elements(small) == sum(int(np.prod(node.shape)) for node in small.nodes)
    np.testing.assert_array_equal(_warmup.placeholder((2,), np.int64), [0, 0])
    np.testing.assert_array_equal(_warmup.placeholder((2,), np.float32), [0.5, 0.5])


# -- fresh interpreters, with the real Numba backend ------------------------------------------
def _script(*parts):
    return "".join(textwrap.dedent(part) for part in parts)


def _run(code, env_update=None, timeout=120):
    env = {k: v for k, v in os.environ.items() if k != backends.TIERED_ENV}
    env.update(env_update or {})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, env=env, timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


_PRELUDE = """
    import sys
    import numpy as np
    import funcgrad as fg, funcgrad.numpy as fnp
    from funcgrad.backends import tiering_status, wait_for_default

    def loss(w, x):
        return fnp.sum(fnp.tanh(x @ w + 1.0) ** 2)

    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(8, 4)), rng.normal(size=(16, 8))
    t = np.tanh(x @ w + 1.0)
    expected = x.T @ (2.0 * t * (1.0 - t * t))
"""


def test_a_fresh_process_switches_from_numpy_to_numba_with_kernels_ready():
    out = _run(_script(_PRELUDE, """
        import os
        f = fg.jit(fg.grad(loss))
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        print(f.backend_name(w, x), flush=True)
        if os.fork() == 0:  # a child forked mid-load keeps NumPy (half-imported modules)
            np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
            print(f.backend_name(w, x), tiering_status().state, flush=True)
            os._exit(0)
        os.wait()
        wait_for_default()
        from funcgrad.backends import _numba_fused
        kernels = len(_numba_fused._kernels)
        print(tiering_status().state, tiering_status().warmed, kernels >= 1)
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        print(f.backend_name(w, x), len(_numba_fused._kernels) == kernels)
    """))
    assert out.stdout.split() == ["numpy", "numpy", "failed", "ready", "1", "True", "numba",
                                  "True"]
    assert out.stderr == ""


def test_funcgrad_tiered_0_loads_numba_in_the_first_call():
    out = _run(_script(_PRELUDE, """
        f = fg.jit(fg.grad(loss))
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        print(f.backend_name(w, x), tiering_status().enabled, tiering_status().warmed)
    """), {backends.TIERED_ENV: "0"})
    assert out.stdout.split() == ["numba", "False", "0"]


def test_without_numba_the_background_load_fails_quietly():
    out = _run(_script("""
        import sys
        sys.modules["numba"] = None  # `import numba` raises ImportError
    """, _PRELUDE, """
        f = fg.jit(fg.grad(loss))
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        status = wait_for_default(), tiering_status()
        print(status[0].name, status[1].state, isinstance(status[1].error, ImportError))
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        print(f.backend_name(w, x))
    """))
    assert out.stdout.split() == ["numpy", "failed", "True", "numpy"]
    assert out.stderr == ""


def test_exiting_or_being_killed_while_loading_leaves_a_working_cache(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}  # empty: the loader compiles and writes
    # Exit right after the first call, while the loader imports and compiles.
    out = _run(_script(_PRELUDE, """
        f = fg.jit(fg.grad(loss))
        f(w, x)
        print(tiering_status().state)
    """), env)
    assert (out.stdout.split(), out.stderr) == (["loading"], "")
    # SIGKILL partway through the load: while importing, once the generated kernel's source
    # is written (compiling), and once Numba writes its cache index (writing).
    script = _script(_PRELUDE, """
        f = fg.jit(fg.grad(loss))
        f(w, x)
        print("called", flush=True)
        wait_for_default()
    """)
    cache = tmp_path / "cache"
    for pattern in (None, "funcgrad_kernels/fused_*.py", "*/*.nbi"):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                env={**os.environ, **env}, text=True)
        assert proc.stdout.readline().strip() == "called"
        deadline = time.monotonic() + 60
        while pattern and not any(cache.glob(pattern)) and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
    # What a write killed halfway leaves behind: Numba and funcgrad write each cache file
    # to a temporary name and rename it, so a kill leaves a partial temporary file.
    written = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert any(p.suffix == ".nbi" for p in written)  # the killed runs got as far as writing
    for path in written:
        data = path.read_bytes()
        suffix = ".tmp.0123456789abcdef" if path.suffix in (".nbi", ".nbc") else ".999.1.tmp"
        path.with_name(path.name + suffix).write_bytes(data[:len(data) // 2])
    out = _run(_script(_PRELUDE, """
        f = fg.jit(fg.grad(loss))
        f(w, x)
        wait_for_default()
        np.testing.assert_allclose(f(w, x), expected, rtol=1e-12)
        print(f.backend_name(w, x))
    """), env)
    assert (out.stdout.split(), out.stderr) == (["numba"], "")
