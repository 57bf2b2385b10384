"""Timing helpers for the benchmark suite: peers, interleaved timing, statistics, checks.

Contenders of one problem are timed *round-robin*: each round runs one sample of
every contender (in a rotated order), so the machine's noise -- other
processes, frequency changes, a cache-cold moment -- falls on all of them
alike.  Each sample runs a contender ``number`` times in a row, with ``number``
chosen per contender so that every sample lasts about as long; the reported
time is per call.  A contender whose single call outlasts a sample takes part
in every k-th round only (still at least ``min_rounds`` samples), so one slow
peer does not cut the samples of the others.
"""

from __future__ import annotations

import gc
import importlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ---------------------------------------------------------------- peers


def _import_jax():
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)  # every case runs in float64
    return jax


_PEER_LOADERS: dict[str, Callable[[], Any]] = {
    "autograd": lambda: importlib.import_module("autograd"),
    "jax": _import_jax,
    "torch": lambda: importlib.import_module("torch"),
}
_peers: dict[str, Any] = {}


def peer(name: str):
    """The peer library ``name`` (``"autograd"``, ``"jax"``, ``"torch"``), or None if it is not installed."""
    if name not in _peers:
        try:
            _peers[name] = _PEER_LOADERS[name]()
        except ImportError:
            _peers[name] = None
    return _peers[name]


def peer_names() -> list[str]:
    return list(_PEER_LOADERS)


def limit_threads(n: int) -> str:
    """Cap the math libraries' thread pools at ``n`` (0: leave them alone); say what was capped.

    On a small shared machine a multi-threaded BLAS that competes with other
    processes for the cores can run a matmul 10-50x slower than one thread
    does, which drowns every ratio in noise.  Call this before the peers are
    imported: PyTorch and XLA read their settings when they load.
    """
    if n <= 0:
        return "library defaults"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if n == 1:  # XLA's CPU client reads these when jax first runs something
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    try:  # numpy is already loaded, so its BLAS no longer reads the environment
        import threadpoolctl
        threadpoolctl.threadpool_limits(n)
        capped = ["NumPy BLAS"]
    except ImportError:
        capped = ["NumPy BLAS NOT capped: pip install threadpoolctl"]
    torch = peer("torch")
    if torch is not None:
        torch.set_num_threads(n)
        capped.append("torch")
    capped.append("XLA" if n == 1 else "XLA not capped")
    return f"{n} ({', '.join(capped)})"


# ---------------------------------------------------------------- timing


@dataclass
class Plan:
    """How long to time: about ``target_s`` seconds per contender, in ``max_rounds`` rounds.

    A contender slower than ``target_s / max_rounds`` a call still gets
    ``min_rounds`` samples, so it takes ``min_rounds`` calls' time or more.

    ``gc`` leaves the garbage collector on while timing (unlike ``timeit``): an
    autodiff library that makes many objects pays for collecting them in real
    use too.
    """

    target_s: float
    min_rounds: int
    max_rounds: int
    warmup_s: float
    gc: bool = True

    @classmethod
    def full(cls) -> Plan:
        return cls(target_s=0.75, min_rounds=5, max_rounds=50, warmup_s=0.1)

    @classmethod
    def quick(cls) -> Plan:
        return cls(target_s=0.05, min_rounds=3, max_rounds=10, warmup_s=0.0)


@dataclass
class Stats:
    """Per-call times (seconds) of one contender, one value per sample."""

    samples: list[float] = field(default_factory=list)
    calls: int = 0

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.samples, q))

    @property
    def median(self) -> float:
        return self.quantile(0.5)

    @property
    def q1(self) -> float:
        return self.quantile(0.25)

    @property
    def q3(self) -> float:
        return self.quantile(0.75)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)


def _per_call(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def _warm_up(fn: Callable[[], Any], seconds: float) -> float:
    """Run ``fn`` at least once more (and for about ``seconds``); return its fastest call time."""
    best = math.inf
    start = time.perf_counter()
    runs = 0
    while runs < 1 or time.perf_counter() - start < seconds:
        best = min(best, _per_call(fn, 1))
        runs += 1
    return best


def time_interleaved(fns: dict[str, Callable[[], Any]], plan: Plan) -> dict[str, Stats]:
    """Time every function in ``fns`` round-robin; return per-call statistics for each."""
    names = list(fns)
    if not names:
        return {}
    gc.collect()
    gc_was_on = gc.isenabled()
    if not plan.gc:
        gc.disable()
    try:
        return _rounds(fns, names, plan)
    finally:
        if gc_was_on:
            gc.enable()


def _rounds(fns: dict[str, Callable[[], Any]], names: list[str], plan: Plan) -> dict[str, Stats]:
    estimate = {n: max(_warm_up(fns[n], plan.warmup_s), 1e-9) for n in names}
    rounds = plan.max_rounds
    sample_s = plan.target_s / rounds
    number, every = {}, {}
    for n in names:
        if estimate[n] <= sample_s:
            number[n], every[n] = max(1, round(sample_s / estimate[n])), 1
        else:  # one call outlasts a sample: sit out rounds, but keep at least min_rounds samples
            number[n] = 1
            every[n] = min(math.ceil(estimate[n] / sample_s), max(1, rounds // plan.min_rounds))
    stats = {n: Stats() for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:  # rotate who goes first
            if (r + names.index(n)) % every[n]:
                continue
            stats[n].samples.append(_per_call(fns[n], number[n]))
            stats[n].calls += number[n]
    return stats


# ---------------------------------------------------------------- checks


def to_numpy(value):
    """``value`` (a pytree of NumPy / JAX / torch arrays) with every leaf a NumPy array."""
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(v) for v in value)
    if hasattr(value, "detach"):  # torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _leaves(value, path="") -> list[tuple[str, np.ndarray]]:
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in _leaves(value[k], f"{path}[{k!r}]")]
    if isinstance(value, (list, tuple)):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path or "value", np.asarray(value))]


def mismatch(reference, got, rtol: float = 1e-6) -> str | None:
    """Why ``got`` is not the ``reference`` gradient, or None when they agree.

    Leaves are compared with ``np.allclose`` at relative tolerance ``rtol`` and an
    absolute tolerance scaled to the reference leaf's magnitude, so that a
    gradient whose entries are all tiny (a long chain of contractions) is still
    checked digit by digit rather than passing as "close to zero".
    """
    ref_leaves, got_leaves = _leaves(to_numpy(reference)), _leaves(to_numpy(got))
    if [p for p, _ in ref_leaves] != [p for p, _ in got_leaves]:
        return (f"structure differs: expected leaves {[p for p, _ in ref_leaves]}, "
                f"got {[p for p, _ in got_leaves]}")
    for (path, want), (_, have) in zip(ref_leaves, got_leaves):
        if want.shape != have.shape:
            return f"{path}: shape {have.shape}, expected {want.shape}"
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        if not np.allclose(have, want, rtol=rtol, atol=1e-9 * scale):
            err = float(np.max(np.abs(have - want)))
            return f"{path}: max abs difference {err:.3g} (reference magnitude {scale:.3g})"
    return None


# ---------------------------------------------------------------- formatting


def format_time(seconds: float) -> str:
    """A time with a unit that keeps 3-4 significant digits: ns, µs, ms or s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.4g} {unit}"
    return f"{seconds / 1e-9:.4g} ns"


def format_table(header: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """A plain-text table; columns whose index is in ``right`` are right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join((str(c).rjust(w) if i in right else str(c).ljust(w))
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
