"""Benchmark of data-parallel training over MPI (issue 14): weak scaling and the allreduce.

Registered as the ``distributed`` case in ``benchmarks/run.py``; the measurements run
under ``mpiexec`` in subprocesses, one job per sample::

    python benchmarks/run.py --case distributed [--quick]
    mpiexec -n 2 python benchmarks/distributed.py worker --seconds 3   # one job: a JSON line

A job times, on every rank, rounds of (a) the training step of the 784-256-256-10 ReLU
MLP at a per-rank batch of 256 (``benchmarks.run.mlp_loss``, float64, synthetic data):
``data_parallel(jit(value_and_grad(loss)))`` then a jitted Adam update; (b) the same
step without the averaging (compute alone); (c) ``allreduce`` of its gradients alone;
(d) one raw mpi4py ``Allreduce`` of the same bytes in place; and, at two ranks or more,
(e) ``allreduce`` of a pytree of 10^7 float64 in 100 leaves against one raw mpi4py
``Allreduce`` of a contiguous buffer of the same bytes (into another buffer, and in
place).  Every sample starts after a barrier and counts the slowest rank's time.  Weak
scaling keeps the per-rank batch fixed, so the efficiency at N ranks is
``step(1) / step(N)``.

Each rank gets one BLAS / Numba thread: a job of N ranks uses N cores.  The parent
alternates 1-rank and 2-rank jobs so the machine's noise falls on both alike.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `funcgrad` and `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PER_RANK_BATCH = 256
BIG_FLOATS, BIG_LEAVES = 10_000_000, 100
RANKS = (1, 2)
STEP_EFFICIENCY_TARGET, ALLREDUCE_RATIO_TARGET = 0.80, 1.10
JOB_TIMEOUT_S = 600
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                     "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


# -- the worker: runs on every rank under mpiexec -------------------------------------------


def synthetic_batch(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One rank's inputs (normal) and one-hot labels for the MLP, ``PER_RANK_BATCH`` examples."""
    from benchmarks.run import MLP_SIZES
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(PER_RANK_BATCH, MLP_SIZES[0])),
            np.eye(MLP_SIZES[-1])[rng.integers(0, MLP_SIZES[-1], size=PER_RANK_BATCH)])


def mlp_step(seed: int):
    """``(step, compute, grads_fn)``: the data-parallel Adam step, the same without averaging,
    and a function returning the current local gradients, on this rank's synthetic batch."""
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from benchmarks.run import default_backend, mlp_data, mlp_loss
    from funcgrad import distributed, optim

    params = distributed.broadcast(mlp_data()[0])
    batch = synthetic_batch(seed)
    local = fg.jit(fg.value_and_grad(lambda p, b: mlp_loss(fnp, p, *b)), backend=default_backend())
    averaged = distributed.data_parallel(local, batch_argnums=1)
    opt = optim.adam(1e-4)
    update = fg.jit(lambda p, s, g: _adam_apply(opt, optim, p, s, g), backend=default_backend())
    state = {"params": params, "opt": opt.init(params)}

    def stepper(grad_fn: Callable) -> Callable[[], float]:
        def step():
            value, grads = grad_fn(state["params"], batch)
            state["params"], state["opt"] = update(state["params"], state["opt"], grads)
            return value
        return step

    return stepper(averaged), stepper(local), lambda: local(state["params"], batch)[1]


def _adam_apply(opt, optim, params, state, grads):
    updates, state = opt.update(grads, state, params)
    return optim.apply_updates(params, updates), state


def quiet_barrier(comm) -> None:
    """A barrier that sleeps while it waits: MPICH's ``Barrier`` spins, and a spinning rank
    would take a core from the rank that is timed alone."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(1e-4)


def timed_rounds(fns: dict[str, Callable[[], object]], seconds: float, comm) -> dict[str, list]:
    """Per-call times of each function, round-robin; a sample is the slowest rank's.

    Every rank must call the collectives the same number of times, so the calls per
    sample are rank 0's choice (from one warm-up call), broadcast to the others.  Samples
    start after a sleeping barrier and are compared across ranks only at the end, so a
    rank with nothing to do (see ``alone``) does not spin.
    """
    from mpi4py import MPI
    calls, local = {}, {name: [] for name in fns}
    for name, fn in fns.items():
        fn()                                                     # warm up (and compile)
        quiet_barrier(comm)
        t0 = time.perf_counter()
        fn()
        calls[name] = comm.bcast(max(1, int(0.05 / max(time.perf_counter() - t0, 1e-9))))
    rounds = comm.bcast(max(5, int(seconds / (len(fns) * 0.06))))
    for r in range(rounds):
        names = list(fns)[r % len(fns):] + list(fns)[:r % len(fns)]
        for name in names:
            quiet_barrier(comm)
            t0 = time.perf_counter()
            for _ in range(calls[name]):
                fns[name]()
            local[name].append((time.perf_counter() - t0) / calls[name])
    slowest = {}
    for name, times in local.items():
        slowest[name] = np.empty(len(times))
        comm.Allreduce(np.array(times), slowest[name], op=MPI.MAX)
    return {name: list(v) for name, v in slowest.items()}


def big_tree_fns(comm) -> dict[str, Callable[[], object]]:
    """funcgrad's allreduce of 10^7 float64 in 100 leaves, and one raw mpi4py Allreduce of a
    contiguous buffer of the same bytes, into another buffer and in place (``MPI.IN_PLACE``,
    as funcgrad reduces its packed buffers; MPICH is faster in place)."""
    from mpi4py import MPI

    from funcgrad import distributed

    rng = np.random.default_rng(comm.Get_rank())
    flat = rng.normal(size=BIG_FLOATS)
    tree = {f"leaf{i:03d}": part.copy() for i, part in enumerate(np.split(flat, BIG_LEAVES))}
    out = np.empty_like(flat)
    return {"funcgrad allreduce (sum)": lambda: distributed.allreduce(tree, op="sum"),
            "funcgrad allreduce (mean)": lambda: distributed.allreduce(tree, op="mean"),
            "mpi4py Allreduce (raw)": lambda: comm.Allreduce(flat, out, op=MPI.SUM),
            "mpi4py Allreduce (raw, in place)": lambda: comm.Allreduce(MPI.IN_PLACE, out,
                                                                       op=MPI.SUM)}


def worker(seconds: float) -> dict | None:
    """One job's measurements; the dict on rank 0, None on the others."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    from funcgrad import distributed
    step, compute, grads_fn = mlp_step(seed=comm.Get_rank())
    grads = grads_fn()
    flat = np.concatenate([g.ravel() for g in _leaves(grads)])
    out = np.empty_like(flat)
    spent: list[float] = []

    def counted_step():                        # the step, and its time inside allreduce (stats)
        before = distributed.stats.allreduce_seconds
        step()
        spent.append(distributed.stats.allreduce_seconds - before)

    fns = {"step": counted_step, "compute": compute,
           "allreduce": lambda: distributed.allreduce(grads),
           "allreduce (raw)": lambda: comm.Allreduce(MPI.IN_PLACE, out, op=MPI.SUM)}
    if comm.Get_size() > 1:   # the 1-rank step, interleaved with the N-rank one: rank 0 alone
        fns["alone"] = compute if comm.Get_rank() == 0 else lambda: None
    counted_step()                             # compile, and wait out the slowest rank's compile
    comm.Barrier()
    spent.clear()
    samples = timed_rounds(fns, seconds, comm)
    in_step = comm.allgather(float(np.median(spent)))
    if comm.Get_size() > 1:
        samples.update(timed_rounds(big_tree_fns(comm), seconds, comm))
    if comm.Get_rank() != 0:
        return None
    return {"size": comm.Get_size(), "grad_bytes": int(flat.nbytes),
            "median_s": {name: float(np.median(s)) for name, s in samples.items()},
            "min_s": {name: float(np.min(s)) for name, s in samples.items()},
            "allreduce_in_step_s": [min(in_step), max(in_step)],
            "samples": {name: len(s) for name, s in samples.items()}}


def _leaves(tree) -> list[np.ndarray]:
    from funcgrad import tree_util
    return [np.asarray(leaf) for leaf in tree_util.tree_leaves(tree)]


# -- the parent: launches the jobs, summarises -----------------------------------------------


def mpi_missing() -> str | None:
    """Why the MPI jobs cannot run here, or None."""
    try:
        import mpi4py  # noqa: F401  (only whether it is installed)
    except ImportError:
        return "mpi4py not installed (pip install -e '.[mpi]')"
    if shutil.which("mpiexec") is None:
        return "no mpiexec on PATH (pip install mpich)"
    return None


class Jobs:
    """Runs ``mpiexec -n N python benchmarks/distributed.py worker`` and keeps each job's record.

    The jobs share one Numba cache directory (the first job fills it), one thread per rank.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.tmp = tempfile.mkdtemp(prefix="funcgrad-distributed-")
        atexit.register(shutil.rmtree, self.tmp, ignore_errors=True)
        self.records: dict[int, list[dict]] = {}

    def run(self, ranks: int) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_"))}
        env.update(ONE_THREAD, NUMBA_CACHE_DIR=self.tmp)
        cmd = [shutil.which("mpiexec"), "-n", str(ranks), sys.executable, str(Path(__file__).resolve()),
               "worker", "--seconds", str(self.seconds)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=JOB_TIMEOUT_S,
                              check=False)
        if proc.returncode:
            tail = "\n".join((proc.stderr.strip() or "(no output)").splitlines()[-5:])
            raise RuntimeError(f"mpiexec -n {ranks} worker exited {proc.returncode}: {tail}")
        record = json.loads(proc.stdout.strip().splitlines()[-1])
        self.records.setdefault(ranks, []).append(record)
        return record

    def median(self, ranks: int, name: str) -> float:
        """The median over jobs of each job's median."""
        return float(np.median([r["median_s"][name] for r in self.records[ranks]]))

    def best(self, ranks: int, name: str) -> float:
        """The fastest sample of all jobs."""
        return float(np.min([r["min_s"][name] for r in self.records[ranks]]))


def scaling_table(jobs: Jobs, repeats: int) -> str:
    """Run ``repeats`` jobs at each of ``RANKS``, alternating, and format the results.

    ``compute`` is the step without the averaging: ``compute(1) / compute(N)`` is the
    efficiency the machine allows before any communication (cores shared with other work,
    memory bandwidth), against which ``step(1) / step(N)`` is judged.  "in step" is the
    median time a step spends in the reduction (``distributed.stats``: from the cross-rank
    check to completion, so it includes waiting for the slower rank), on the rank that
    waited least and the rank that waited most.  "interleaved" compares, within the
    2-rank jobs, the step against rank 0 running the 1-rank step alone while the other
    rank sleeps: both under the same load at the same moments.  "best" uses each rank count's fastest sample, the least disturbed by other work.
    """
    for _ in range(repeats):
        for ranks in RANKS:
            jobs.run(ranks)
    ms = 1e3
    grad_mib = jobs.records[1][0]["grad_bytes"] / 2**20
    columns = (f"{'ranks':>5} {'step':>9} {'compute':>9} {'in step (min-max rank)':>23} "
               f"{'allreduce':>10} {'raw, in place':>14} {'examples/s/rank':>16} "
               f"{'efficiency':>11} {'compute eff.':>12} {'best step':>10} {'best eff.':>9}")
    lines = [(f"   mpiexec jobs: {repeats} per rank count, alternating; one thread per rank; "
              f"per-rank batch {PER_RANK_BATCH}; gradients {grad_mib:.2f} MiB float64"),
             "   times: median over jobs of each job's median (a sample = the slowest rank's time)",
             "     " + columns]
    base = {key: jobs.median(1, key) for key in ("step", "compute")}
    best1 = jobs.best(1, "step")
    for ranks in RANKS:
        step, compute, best = (jobs.median(ranks, "step"), jobs.median(ranks, "compute"),
                               jobs.best(ranks, "step"))
        low, high = (float(np.median([r["allreduce_in_step_s"][i] for r in jobs.records[ranks]]))
                     for i in (0, 1))
        lines.append(f"     {ranks:>5} {step * ms:>7.2f}ms {compute * ms:>7.2f}ms "
                     f"{f'{low * ms:.2f}-{high * ms:.2f}ms':>23} "
                     f"{jobs.median(ranks, 'allreduce') * ms:>8.3f}ms "
                     f"{jobs.median(ranks, 'allreduce (raw)') * ms:>12.3f}ms "
                     f"{PER_RANK_BATCH / step:>16,.0f} {base['step'] / step:>11.0%} "
                     f"{base['compute'] / compute:>12.0%} {best * ms:>8.2f}ms {best1 / best:>9.0%}")
    two = base["step"] / jobs.median(2, "step")
    lines.append(f"   weak-scaling efficiency at 2 ranks step(1)/step(2) = {two:.0%}; target >= "
                 f"{STEP_EFFICIENCY_TARGET:.0%}: {'met' if two >= STEP_EFFICIENCY_TARGET else 'MISSED'}"
                 f" (compute alone: {base['compute'] / jobs.median(2, 'compute'):.0%}; best samples: "
                 f"{best1 / jobs.best(2, 'step'):.0%})")
    alone = jobs.median(2, "alone")
    ratios = [r["median_s"]["alone"] / r["median_s"]["step"] for r in jobs.records[2]]
    lines.append(f"   interleaved in the 2-rank jobs: 1-rank step (rank 0 alone) {alone * ms:.2f} ms, "
                 f"2-rank step {jobs.median(2, 'step') * ms:.2f} ms: efficiency "
                 f"{float(np.median(ratios)):.0%} (median of the jobs' "
                 f"{', '.join(f'{x:.0%}' for x in ratios)})")
    out_of_place, in_place = (jobs.median(2, "mpi4py Allreduce (raw)"),
                              jobs.median(2, "mpi4py Allreduce (raw, in place)"))
    raw = min(out_of_place, in_place)
    lines.append(f"   allreduce of {BIG_FLOATS:.0e} float64 in {BIG_LEAVES} leaves, 2 ranks: raw "
                 f"mpi4py Allreduce of one buffer {out_of_place * ms:.1f} ms, in place "
                 f"{in_place * ms:.1f} ms; ratios against the faster")
    for op in ("sum", "mean"):
        t = jobs.median(2, f"funcgrad allreduce ({op})")
        verdict = "met" if t / raw <= ALLREDUCE_RATIO_TARGET else "MISSED"
        lines.append(f"     funcgrad allreduce(op={op!r}) {t * ms:.1f} ms = {t / raw:.2f}x raw; "
                     f"target <= {ALLREDUCE_RATIO_TARGET:.1f}x: {verdict}")
    return "\n".join(lines)


def problems(quick: bool, problem, contender) -> list:
    """The ``distributed`` case: in this process (size 1) the step with and without
    ``data_parallel``; the summary runs the mpiexec jobs and prints :func:`scaling_table`."""
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from benchmarks.run import default_backend, mlp_data, mlp_loss
    from funcgrad import distributed

    params, batch = mlp_data()[0], synthetic_batch(0)

    def make(wrap):
        def build():
            fn = wrap(fg.jit(fg.value_and_grad(lambda p, b: mlp_loss(fnp, p, *b)),
                             backend=default_backend()))
            fn(params, batch)
            return lambda: fn(params, batch)
        return build

    missing = mpi_missing()

    def summary(rows) -> str:
        if missing:
            return f"   mpiexec jobs not run: {missing}"
        return scaling_table(Jobs(seconds=0.5 if quick else 3.0), repeats=1 if quick else 3)

    return [problem(f"784-256-256-10 batch {PER_RANK_BATCH}, 1 process", [
        contender("jit(value_and_grad)", make(lambda f: f)),
        contender("data_parallel(jit(value_and_grad))", make(distributed.data_parallel)),
    ], summary=summary)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["worker"])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per function")
    args = parser.parse_args()
    result = worker(args.seconds)
    if result is not None:
        print(json.dumps(result), flush=True)
