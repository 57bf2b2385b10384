"""Benchmarks of structured loops (issue 12): an LSTM trained with ``scan``, the Euler
rollout's first call, and the peak memory of a long scan's gradient with ``checkpoint``.

The problems are built here and registered as cases in ``benchmarks/run.py``
(``lstm_scan``, ``loop_first_call``, ``scan_memory``).  Run one directly::

    python benchmarks/run.py --case lstm_scan [--quick]
    python benchmarks/control_flow.py first-call fori 1000 numba   # one fresh-process sample
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `funcgrad` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LSTM_HIDDEN, LSTM_BATCH, LSTM_INPUT = 32, 16, 8
LSTM_LENGTHS = (20, 1000)
LSTM_LENGTHS_QUICK = (20, 100)
LSTM_LR = 0.05


# -- the LSTM, written once against a NumPy-like namespace -------------------------------
def lstm_params(seed: int = 0) -> dict:
    """Weights of one LSTM layer and a linear read-out (a dict of float64 arrays)."""
    rng = np.random.default_rng(seed)
    h, d = LSTM_HIDDEN, LSTM_INPUT
    return {"wx": rng.normal(size=(d, 4 * h)) / np.sqrt(d),
            "wh": rng.normal(size=(h, 4 * h)) / np.sqrt(h),
            "b": np.zeros(4 * h), "wo": rng.normal(size=(h, 1)) / np.sqrt(h)}


def lstm_data(length: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``xs`` (length, batch, input) and targets (batch, 1)."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(length, LSTM_BATCH, LSTM_INPUT)),
            rng.normal(size=(LSTM_BATCH, 1)))


def lstm_cell(xp, p, carry, x):
    """One step: gates from ``x @ wx + h @ wh + b``, then the new (h, c)."""
    h, c = carry
    z = x @ p["wx"] + h @ p["wh"] + p["b"]
    n = LSTM_HIDDEN
    i, f, o, g = z[:, :n], z[:, n:2 * n], z[:, 2 * n:3 * n], z[:, 3 * n:]
    c = (1 / (1 + xp.exp(-f))) * c + (1 / (1 + xp.exp(-i))) * xp.tanh(g)
    h = (1 / (1 + xp.exp(-o))) * xp.tanh(c)
    return h, c


def lstm_readout(xp, p, h, y):
    return xp.mean((h @ p["wo"] - y) ** 2)


def lstm_loss_scan(lax, xp, p, xs, y):
    """The loss with the recurrence as ``lax.scan`` (funcgrad.lax or jax.lax)."""
    zero = xp.zeros((xs.shape[1], LSTM_HIDDEN))
    (h, _), _ = lax.scan(lambda carry, x: (lstm_cell(xp, p, carry, x), None), (zero, zero), xs)
    return lstm_readout(xp, p, h, y)


def lstm_loss_loop(xp, p, xs, y):
    """The loss with the recurrence as a Python loop (unrolled under jit)."""
    h = c = xp.zeros((xs.shape[1], LSTM_HIDDEN))
    for t in range(xs.shape[0]):
        h, c = lstm_cell(xp, p, (h, c), xs[t])
    return lstm_readout(xp, p, h, y)


def sgd_step(value_and_grad, loss, tree_map):
    """``step(p, xs, y) -> (loss, p - lr * grad)``: one training step."""
    vg = value_and_grad(loss)

    def step(p, xs, y):
        value, g = vg(p, xs, y)
        return value, tree_map(lambda a, b: a - LSTM_LR * b, p, g)
    return step


def lstm_contenders(length: int) -> list[tuple[str, object, str | None]]:
    """``(name, make, needs)``: ``make()`` returns the timed zero-argument function."""
    import funcgrad as fg
    import funcgrad.numpy as fnp

    p = lstm_params()
    xs, y = lstm_data(length)

    def fg_step(loss):
        return sgd_step(fg.value_and_grad, loss, fg.tree.map)

    def funcgrad_eager():
        step = fg_step(lambda p, xs, y: lstm_loss_loop(fnp, p, xs, y))
        return lambda: step(p, xs, y)

    def funcgrad_jit(loss, backend):
        def make():
            step = fg.jit(fg_step(loss), backend=backend)
            step(p, xs, y)  # trace, optimise, compile
            return lambda: step(p, xs, y)
        return make

    scan_loss = lambda p, xs, y: lstm_loss_scan(fg.lax, fnp, p, xs, y)
    loop_loss = lambda p, xs, y: lstm_loss_loop(fnp, p, xs, y)

    def jax_jit(unrolled):
        def make():
            import jax
            import jax.numpy as jnp
            loss = ((lambda p, xs, y: lstm_loss_loop(jnp, p, xs, y)) if unrolled
                    else (lambda p, xs, y: lstm_loss_scan(jax.lax, jnp, p, xs, y)))
            step = jax.jit(sgd_step(jax.value_and_grad, loss, jax.tree_util.tree_map))
            jp, jxs, jy = jax.tree_util.tree_map(jnp.asarray, (p, xs, y))
            jax.block_until_ready(step(jp, jxs, jy))  # compile
            return lambda: jax.block_until_ready(step(jp, jxs, jy))
        return make

    out = [("funcgrad eager (Python loop)", funcgrad_eager, None),
           ("funcgrad jit scan (numba)", funcgrad_jit(scan_loss, "numba"), None),
           ("funcgrad jit scan (numpy)", funcgrad_jit(scan_loss, "numpy"), None),
           ("jax jit lax.scan", jax_jit(False), "jax")]
    if length <= 20:
        out += [("funcgrad jit unrolled (numba)", funcgrad_jit(loop_loss, "numba"), None),
                ("jax jit unrolled", jax_jit(True), "jax")]
    return out


def lstm_problems(quick: bool, problem, contender) -> list:
    """The ``lstm_scan`` case: one problem per length (``problem``/``contender``: run.py's classes).

    The baseline is funcgrad's eager Python loop; the summary line gives funcgrad's jitted
    scan over JAX's (the target) from the same interleaved run.
    """
    def summary(rows) -> str:
        med = {r.contender: r.stats.median for r in rows if r.stats is not None}
        jax_t = med.get("jax jit lax.scan")
        lines = []
        for name in ("funcgrad jit scan (numba)", "funcgrad jit unrolled (numba)"):
            if jax_t and name in med:
                lines.append(f"   {name} / jax jit lax.scan: {med[name] / jax_t:.2f}x "
                             "(target <= 1.0x for the scan)")
        return "\n".join(lines)

    out = []
    for length in (LSTM_LENGTHS_QUICK if quick else LSTM_LENGTHS):
        contenders = [contender(name, make, needs) for name, make, needs in lstm_contenders(length)]
        out.append(problem(f"{length} steps", contenders, summary=summary))
    return out


# -- item 6: the Euler rollout's first call, in fresh processes -------------------------------
ROLLOUT_STEPS = 1000
ROLLOUT_X0 = np.linspace(0.1, 1.5, 16)


def rollout_loss(fnp, lax, x0, steps: int, unrolled: bool):
    """``sum`` of the Euler rollout ``x = x + 0.01 * (sin(x) - 0.1 * x * x)`` after ``steps`` steps."""
    def step(i, x):
        return x + 0.01 * (fnp.sin(x) - 0.1 * x * x)
    if unrolled:
        x = x0
        for i in range(steps):
            x = step(i, x)
    else:
        x = lax.fori_loop(0, steps, step, x0)
    return fnp.sum(x)


def first_call_child(kind: str, steps: int, backend: str) -> dict:
    """In a fresh process: import, build ``jit(grad)`` of the rollout, call it once; the times."""
    t0 = time.perf_counter()
    import funcgrad as fg
    import funcgrad.numpy as fnp
    t1 = time.perf_counter()
    g = fg.grad(lambda x: rollout_loss(fnp, fg.lax, x, steps, kind == "unrolled"))
    if backend != "eager":
        g = fg.jit(g, backend=None if backend == "default" else backend)
    result = g(ROLLOUT_X0)
    t2 = time.perf_counter()
    ran_on = "eager" if backend == "eager" else g.backend_name(ROLLOUT_X0)
    return {"import_s": t1 - t0, "call_s": t2 - t1, "backend": ran_on,
            "result": np.asarray(result).tolist()}


class FreshRuns:
    """Contenders that each run :func:`first_call_child` in a fresh process, as ``cold_start`` does.

    Every run of an ``empty`` contender gets a new, empty ``NUMBA_CACHE_DIR``; ``warm`` ones
    share one directory that their untimed first (checked) run fills.  The in-process figures
    of each run are kept in ``records`` for the summary.
    """

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="funcgrad-loops-")
        atexit.register(shutil.rmtree, self.tmp, ignore_errors=True)
        self.records: dict[str, list[dict]] = {}

    def contender(self, contender, name: str, kind: str, steps: int, backend: str,
                  cache: str = "empty", skip: str | None = None):
        def make():
            cmd = [sys.executable, str(Path(__file__).resolve()), "first-call", kind,
                   str(steps), backend]
            warm_dir = os.path.join(self.tmp, f"warm-{len(self.records)}-{kind}-{steps}")

            def run():
                env = dict(os.environ, NUMBA_CACHE_DIR=warm_dir if cache == "warm"
                           else tempfile.mkdtemp(dir=self.tmp, prefix="empty-"))
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                      timeout=600, check=False)
                if proc.returncode:
                    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                    raise RuntimeError(f"first-call {kind} exited {proc.returncode}: {tail}")
                record = json.loads(proc.stdout.strip().splitlines()[-1])
                self.records.setdefault(name, []).append(record)
                return np.asarray(record["result"])
            return run
        return contender(name, make, None, skip)

    def median(self, name: str, key: str) -> tuple[float, int] | None:
        values = [r[key] for r in self.records.get(name, [])[1:]]  # the first run is the check
        return (float(np.median(values)), len(values)) if values else None


def first_call_problems(quick: bool, problem, contender) -> list:
    """The ``loop_first_call`` case (issue 12, item 6): fresh processes, first ``jit(grad)`` call."""
    runs = FreshRuns()
    n = ROLLOUT_STEPS
    rows = [
        ("eager grad, fori_loop", "fori", n, "eager", "empty", None),
        ("jit (default, tiered), fori_loop", "fori", n, "default", "empty", None),
        ("jit (numba), fori_loop, empty cache", "fori", n, "numba", "empty", None),
        ("jit (numba), fori_loop, warm cache", "fori", n, "numba", "warm", None),
        ("jit (default, tiered), unrolled", "unrolled", n, "default", "empty", None),
        ("jit (numba), unrolled, empty cache", "unrolled", n, "numba", "empty",
         "compiles for more than 10 minutes (killed at 600 s); 100 steps took 67 s"),
    ]
    contenders = [runs.contender(contender, name, kind, steps, backend, cache, skip)
                  for name, kind, steps, backend, cache, skip in rows]

    def summary(rows_) -> str:
        lines = ["   in-process: first call (build jit(grad), call once), medians:"]
        for name, *_ in rows:
            m = runs.median(name, "call_s")
            if m is not None:
                on = sorted({str(r.get("backend")) for r in runs.records[name]})
                lines.append(f"     {name:<40} {m[0] * 1e3:9.1f} ms  ({m[1]} runs; ran on "
                             f"{', '.join(on)}; target <= 1 s)")
        return "\n".join(lines)
    return [problem(f"{n} steps", contenders, summary=summary)]


def steady_problems(quick: bool, problem, contender) -> list:
    """The ``rollout_steady`` case: per-call time of ``jit(grad)`` of the rollout on Numba."""
    import funcgrad as fg
    import funcgrad.numpy as fnp

    def jitted(kind: str, steps: int):
        def make():
            g = fg.jit(fg.grad(lambda x: rollout_loss(fnp, fg.lax, x, steps, kind == "unrolled")),
                       backend="numba")
            g(ROLLOUT_X0)
            return lambda: g(ROLLOUT_X0)
        return make

    def eager(steps: int):
        g = fg.grad(lambda x: rollout_loss(fnp, fg.lax, x, steps, False))
        return lambda: lambda: g(ROLLOUT_X0)

    slow = "--quick: the unrolled graph takes about a minute to compile" if quick else None
    return [problem("100 steps", [
        contender("eager grad, fori_loop", eager(100)),
        contender("jit (numba), fori_loop", jitted("fori", 100)),
        contender("jit (numba), unrolled", jitted("unrolled", 100), None, slow)]),
        problem(f"{ROLLOUT_STEPS} steps", [
            contender("eager grad, fori_loop", eager(ROLLOUT_STEPS)),
            contender("jit (numba), fori_loop", jitted("fori", ROLLOUT_STEPS)),
            contender("jit (numba), unrolled", jitted("unrolled", ROLLOUT_STEPS), None,
                      "compiles for more than 10 minutes")])]


# -- peak memory of a long scan's gradient, with and without checkpoint -------------------------
MEMORY_STEPS, MEMORY_WIDTH, MEMORY_SEGMENT = 1000, 256, 40


def memory_variants():
    """The scan of the memory case and its variants: ``(x0, ((label, fn), ...))``."""
    import funcgrad as fg
    import funcgrad.numpy as fnp

    rng = np.random.default_rng(0)
    w = rng.normal(size=(MEMORY_WIDTH, MEMORY_WIDTH)) / np.sqrt(MEMORY_WIDTH)
    x0 = rng.normal(size=(8, MEMORY_WIDTH))

    def cell(h, _):
        a = fnp.tanh(h @ w)
        b = fnp.sin(a) * a + fnp.cos(a @ w)
        return 0.5 * h + 0.1 * fnp.tanh(b @ w), None

    def plain(x0):
        return fg.lax.scan(cell, x0, None, length=MEMORY_STEPS)[0]

    def remat_body(x0):
        return fg.lax.scan(fg.checkpoint(cell), x0, None, length=MEMORY_STEPS)[0]

    def segments(x0, size=MEMORY_SEGMENT):
        # sqrt(n) checkpointing: an outer scan over checkpointed inner scans of `size` steps
        # saves one carry per segment; each segment's carries exist only while it is recomputed.
        inner = fg.checkpoint(lambda h: fg.lax.scan(cell, h, None, length=size)[0])
        return fg.lax.scan(lambda h, _: (inner(h), None), x0, None,
                           length=MEMORY_STEPS // size)[0]

    variants = (("plain scan", plain), ("checkpoint(body)", remat_body),
                (f"checkpointed segments of {MEMORY_SEGMENT}", segments))
    return x0, variants


def memory_table() -> str:
    """Peak traced memory (tracemalloc) of ``grad`` of a 1,000-step scan (8 x 256 carry, three
    256 x 256 matmuls a step), eagerly and under ``jit`` (NumPy backend), with and without
    ``checkpoint``."""
    import funcgrad as fg
    import funcgrad.numpy as fnp

    x0, variants = memory_variants()
    lines, grads = [], {}
    for label, wrap in (("eager grad", lambda f: f),
                        ("jit(grad), numpy", lambda f: fg.jit(f, backend="numpy"))):
        for name, fn in variants:
            g = wrap(fg.grad(lambda x, fn=fn: fnp.sum(fn(x) ** 2)))
            g(x0)  # compile (jit), and warm NumPy's allocator
            tracemalloc.start()
            grads[(label, name)] = g(x0)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            lines.append(f"{label:<18} {name:<30} peak {peak / 2**20:8.2f} MiB")
    ref = grads[("eager grad", "plain scan")]
    same = all(np.array_equal(v, ref) for v in grads.values())
    close = all(np.allclose(v, ref, rtol=1e-12, atol=0) for v in grads.values())
    lines.append(f"(all gradients bit-identical: {same}; equal to 1e-12: {close}; one carry is "
                 f"{x0.nbytes / 2**10:.0f} KiB)")
    return "\n".join(lines)


def memory_problems(quick: bool, problem, contender) -> list:
    """The ``scan_memory`` case: the time of each variant's ``jit(grad)``; the summary prints the
    peak-memory table (:func:`memory_table`)."""
    import funcgrad as fg
    import funcgrad.numpy as fnp

    x0, variants = memory_variants()

    def make(fn):
        def build():
            g = fg.jit(fg.grad(lambda x: fnp.sum(fn(x) ** 2)), backend="numpy")
            g(x0)
            return lambda: g(x0)
        return build

    return [problem(f"{MEMORY_STEPS} steps", [contender(f"jit(grad) numpy, {label}", make(fn))
                                              for label, fn in variants],
                    summary=lambda rows: "\n".join("   " + line
                                                    for line in memory_table().splitlines()))]


if __name__ == "__main__":
    if sys.argv[1:2] == ["first-call"]:
        print(json.dumps(first_call_child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    elif sys.argv[1:2] == ["memory"]:
        print(memory_table())
    else:
        print(__doc__)
