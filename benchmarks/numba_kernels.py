"""Measurements behind the Numba backend's choices (a program, not a test).

Prints, for float64 and float32:

* matmul: ``np.matmul`` (BLAS) against the backend's loop kernel, for 2-D and
  batched shapes; the backend's crossover (``MATMUL_LOOP_MAX_WORK``) comes from
  this table;
* sum over the leading axis: ``np.sum`` against the row-accumulation kernel;
* a fused elementwise program: NumPy (one temporary per op) against the serial
  and the ``prange`` loops, for the ``PARALLEL_MIN_SIZE`` choice;
* with ``--ops``: every elementwise primitive alone, NumPy against the loop
  (where NumPy's SIMD functions win: ``LOOP_PENALTY_NS``).

Times are the best of several repeats (the least disturbed by other load), in
microseconds.  Run: ``python benchmarks/numba_kernels.py [--quick] [--ops]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_time(fn, *args, budget: float = 0.05, repeats: int = 7) -> float:
    """The best per-call time of ``fn(*args)`` in microseconds."""
    fn(*args)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < budget:
        fn(*args)
        n += 1
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def row(label: str, numpy_us: float, *others: float) -> str:
    cells = "".join(f"{t:12.2f}" for t in others)
    return f"  {label:34s}{numpy_us:12.2f}{cells}{numpy_us / min(others):10.2f}x"


def matmul_table(dtype, quick: bool) -> None:
    from funcgrad.backends import _numba_kernels, numba_cpu

    kernel = _numba_kernels.matmul_loops_c()

    def loops_2d(a, b):  # what a 2-D loop path would cost: allocate, dispatch, unwrap
        out = np.empty((1, a.shape[0], b.shape[1]), a.dtype)
        kernel(a[None], b[None], out)
        return out[0]

    rng = np.random.default_rng(0)
    print(f"\nmatmul, {np.dtype(dtype).name}: np.matmul vs the loop kernel (us); "
          "ratio > 1: loops win")
    print(f"  {'shape':34s}{'np.matmul':>12s}{'loops':>12s}{'ratio':>11s}")
    cases = [((), s) for s in (2, 4, 8, 12, 16, 32, 64)]
    cases += [((256,), 2), ((256,), 3), ((256,), 4), ((64,), 5), ((64,), 6), ((64,), 8),
              ((64,), 12), ((16,), 32)]
    if quick:
        cases = cases[::2]
    saved = numba_cpu.MATMUL_LOOP_MAX_WORK
    numba_cpu.MATMUL_LOOP_MAX_WORK = 10**18
    try:
        for batch, s in cases:
            a = rng.standard_normal(batch + (s, s)).astype(dtype)
            b = rng.standard_normal(batch + (s, s)).astype(dtype)
            label = f"{batch[0]} x " if batch else ""
            loops = numba_cpu.matmul_kernel if batch else loops_2d
            print(row(f"{label}{s}x{s} @ {s}x{s}  (m*k*n={s ** 3})", best_time(np.matmul, a, b),
                      best_time(loops, a, b)))
    finally:
        numba_cpu.MATMUL_LOOP_MAX_WORK = saved


def sum_table(dtype, quick: bool) -> None:
    from funcgrad.backends import numba_cpu

    rng = np.random.default_rng(0)
    print(f"\nsum over axis 0, {np.dtype(dtype).name}: np.sum vs row kernel (us)")
    print(f"  {'shape':34s}{'np.sum':>12s}{'kernel':>12s}{'ratio':>11s}")
    shapes = [(4, 3), (32, 10), (256, 128), (1000, 10), (10, 1000), (1000, 1000), (100000, 3)]
    for shape in shapes[::2] if quick else shapes:
        x = rng.standard_normal(shape).astype(dtype)
        print(row(str(shape), best_time(lambda x: np.sum(x, axis=(0,)), x),
                  best_time(numba_cpu.sum_kernel, x, (0,), False)))


def _loop(program, args, parallel=False):
    """The compiled flat loop of ``program`` for these same-shape arrays, as ``f() -> out``."""
    from funcgrad.backends import _numba_fused as F

    dtypes = tuple(a.dtype for a in args)
    typed = F.type_program(program, dtypes)
    kernel = F.compiled_kernel(program, typed, dtypes, tuple(a.ndim for a in args), 1, parallel)
    return lambda: kernel(np.empty(args[0].shape, typed.out_dtype), *args)


def fused_table(dtype, quick: bool) -> None:
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from funcgrad.optimize import optimize
    from funcgrad.optimize.fusion import fused_p

    def program_of(f, *args):
        graph = optimize(fg.make_graph(f)(*args))
        return next(n for n in graph.nodes if n.primitive is fused_p).params["program"]

    programs = {"(x*2+y)*x - y/3": lambda x, y: (x * 2.0 + y) * x - y / 3.0,
                "tanh(x*2+y)": lambda x, y: fnp.tanh(x * 2.0 + y)}
    print(f"\nfused elementwise, {np.dtype(dtype).name}: NumPy vs serial vs prange loop (us)")
    print(f"  {'program, size':34s}{'numpy':>12s}{'serial':>12s}{'parallel':>12s}{'best':>11s}")
    for size in ((10**4, 10**6) if quick else (10**4, 10**5, 10**6, 4 * 10**6)):
        x = np.random.default_rng(0).random(size).astype(dtype)
        y = np.random.default_rng(1).random(size).astype(dtype)
        budget = 0.2 if size >= 10**6 else 0.05
        for name, f in programs.items():
            p = program_of(f, x[:2], y[:2])
            ref = best_time(lambda x=x, y=y, p=p: fused_p.impl(x, y, program=p), budget=budget)
            print(row(f"{name}, {size:.0e}", ref, best_time(_loop(p, (x, y)), budget=budget),
                      best_time(_loop(p, (x, y), parallel=True), budget=budget)))


def ops_table(dtype) -> None:
    """Nanoseconds per element of each primitive alone: NumPy's ufunc vs the scalar loop."""
    from funcgrad.backends import _numba_fused as F
    from funcgrad.optimize.fusion import Program, fused_p

    n = 100_000
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 0.9, n).astype(dtype)  # inside every function's domain
    y = rng.uniform(0.1, 0.6, n).astype(dtype)
    print(f"\nelementwise primitives alone, {np.dtype(dtype).name}, {n} elements (ns/element)")
    print(f"  {'primitive':34s}{'numpy':>12s}{'loop':>12s}{'ratio':>11s}")
    for prim, entry in F.SCALAR_TABLE.items():
        arity = 3 if prim.name == "where" else 2 if "{1}" in entry.template and not entry.prefix else 1
        args = ((x > 0.7, x, y) if arity == 3 else (x, y)[:arity])
        program = Program(((prim, tuple(("in", k) for k in range(arity))),), 0, arity)
        try:
            loop = _loop(program, args)
        except F.Unsupported:
            continue
        ref = best_time(lambda args=args, program=program: fused_p.impl(*args, program=program),
                        budget=0.02, repeats=3)
        print(row(prim.name, ref * 1e3 / n, best_time(loop, budget=0.02, repeats=3) * 1e3 / n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer shapes")
    parser.add_argument("--ops", action="store_true",
                        help="also time every elementwise primitive alone (LOOP_PENALTY_NS)")
    options = parser.parse_args()
    quick = options.quick
    import numba

    from funcgrad.backends import numba_cpu
    from funcgrad.backends._numba_fused import PARALLEL_MIN_SIZE, PARALLEL_MIN_THREADS
    print(f"numba {numba.__version__}, numpy {np.__version__}, "
          f"{numba.config.NUMBA_NUM_THREADS} threads; backend thresholds: "
          f"MATMUL_LOOP_MAX_WORK={numba_cpu.MATMUL_LOOP_MAX_WORK} (batched only), "
          f"PARALLEL_MIN_SIZE={PARALLEL_MIN_SIZE} (with >= {PARALLEL_MIN_THREADS} threads)")
    for dtype in (np.float64, np.float32):
        matmul_table(dtype, quick)
    for dtype in (np.float64, np.float32):
        sum_table(dtype, quick)
    for dtype in (np.float64, np.float32):
        fused_table(dtype, quick)
    if options.ops:
        for dtype in (np.float64, np.float32):
            ops_table(dtype)


if __name__ == "__main__":
    main()
