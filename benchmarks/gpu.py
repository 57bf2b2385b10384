"""The cuda backend on a GPU (issue 13): matmul GFLOP/s, the fused elementwise case against
memory bandwidth, and an MLP grad step against the Numba CPU backend.

The problems are built here and registered as the ``cuda`` case in ``benchmarks/run.py``.
They run only where ``numba.cuda`` finds a real GPU: under Numba's CUDA simulator
(``NUMBA_ENABLE_CUDASIM=1``), without the ``numba-cuda`` package, or with no device, the case
prints why it was skipped and times nothing.  Run it with every CPU thread for the Numba
baseline (``--threads 0``)::

    python benchmarks/run.py --case cuda --threads 0 [--quick]
    python benchmarks/gpu.py           # says whether the GPU section would run here, and why

(The file is not called ``cuda.py``: run as a script, ``benchmarks/`` comes first on
``sys.path``, and a ``cuda.py`` there would hide the ``cuda`` package that ``numba.cuda``
imports.)

Every timed call waits for the GPU (``cuda.synchronize()``), and its result is checked
once before timing (against NumPy on a slice, or against the baseline).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `funcgrad` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MATMUL_SIZES, MATMUL_SIZES_QUICK = (1024, 2048, 4096), (1024,)
FUSED_SIZE = 10_000_000
MLP_SIZES, MLP_BATCH = (784, 1024, 1024, 10), 1024
#: The issue's targets (also in the case's ``target`` in run.py).
TARGETS = {"matmul": 0.70, "bandwidth": 0.70, "mlp": 10.0}


@dataclass(frozen=True)
class GpuSpec:
    """A GPU's peak arithmetic (non-tensor-core FP32 and FP64, TFLOP/s) and memory bandwidth (GB/s).

    cuBLAS's DGEMM uses the FP64 tensor cores on A100/H100/H200 (twice the FP64 figure
    here); a CUDA-core kernel's ceiling is the figure here.
    """

    name: str
    fp32_tflops: float
    fp64_tflops: float
    bandwidth_gbs: float
    source: str


#: Matched in order against the device's name (``cuda.get_current_device().name``).
KNOWN_GPUS = (
    GpuSpec("H200 NVL", 60.0, 30.0, 4800, "NVIDIA H200 Tensor Core GPU datasheet (H200 NVL)"),
    GpuSpec("H200", 67.0, 34.0, 4800, "NVIDIA H200 Tensor Core GPU datasheet (H200 SXM)"),
    GpuSpec("H100 NVL", 60.0, 30.0, 3900, "NVIDIA H100 Tensor Core GPU datasheet (H100 NVL)"),
    GpuSpec("H100 PCIe", 51.0, 26.0, 2000, "NVIDIA H100 Tensor Core GPU datasheet (H100 PCIe)"),
    GpuSpec("H100", 67.0, 34.0, 3350, "NVIDIA H100 Tensor Core GPU datasheet (H100 SXM)"),
    GpuSpec("A100-SXM4-80GB", 19.5, 9.7, 2039, "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM)"),
    GpuSpec("A100 80GB PCIe", 19.5, 9.7, 1935, "NVIDIA A100 Tensor Core GPU datasheet (80GB PCIe)"),
    GpuSpec("A100", 19.5, 9.7, 1555, "NVIDIA A100 Tensor Core GPU datasheet (40GB)"),
    GpuSpec("V100", 15.7, 7.8, 900, "NVIDIA Tesla V100 datasheet (SXM2)"),
    GpuSpec("L4", 30.3, 0.49, 300, "NVIDIA L4 Tensor Core GPU datasheet"),
    GpuSpec("T4", 8.1, 0.25, 320, "NVIDIA T4 Tensor Core GPU datasheet"),
)


def gpu_missing() -> str | None:
    """Why the GPU section cannot run here, or ``None`` when ``numba.cuda`` sees a real GPU."""
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install -e '.[cuda]')"
    from numba import cuda

    from funcgrad.backends import _cuda_arrays

    if _cuda_arrays.simulated():
        return "NUMBA_ENABLE_CUDASIM=1: Numba's CUDA simulator runs on the CPU, it is not a GPU"
    if not cuda.is_available():
        return "no GPU: numba.cuda.is_available() is False"
    return None


def gpu_spec(name: str) -> GpuSpec | None:
    """The first entry of :data:`KNOWN_GPUS` whose name is in ``name``."""
    return next((s for s in KNOWN_GPUS if s.name in name), None)


def synced(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` followed by waiting for the GPU: what a timed call must include."""
    from numba import cuda

    def run():
        out = fn()
        cuda.synchronize()
        return out
    return run


def to_host(x) -> np.ndarray:
    """A CuPy array, a numba device array or a pytree leaf as a NumPy array."""
    if hasattr(x, "get"):
        return x.get()
    if hasattr(x, "copy_to_host"):
        return x.copy_to_host()
    return np.asarray(x)


def device_mismatch(reference, got, rtol: float) -> str | None:
    """Why the pytrees ``got`` and ``reference`` (device or host leaves) differ, or None."""
    import funcgrad as fg

    for want, have in zip(fg.tree.leaves(reference), fg.tree.leaves(got), strict=True):
        want, have = to_host(want), to_host(have)
        scale = float(np.max(np.abs(want))) if want.size else 0.0
        if have.shape != want.shape or not np.allclose(have, want, rtol=rtol, atol=rtol * scale):
            return f"max abs difference {float(np.max(np.abs(have - want))):.3g} (magnitude {scale:.3g})"
    return None


def host_ops_note(jitted, *args) -> str:
    """Which primitives of ``jitted``'s graph run on the host (no kernel yet), in words."""
    from funcgrad.backends import get_backend

    host = get_backend("cuda").compile(jitted.lower(*args)).host_primitives
    return f"\n   on the host (no kernel yet): {', '.join(host)}" if host else ""


def _medians(rows) -> dict[str, float]:
    return {r.contender: r.stats.median for r in rows if r.stats is not None}


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- matmul -----------------------------------------------------------------------------------
def matmul_problem(n: int, dtype, spec: GpuSpec | None, problem, contender):
    import funcgrad as fg

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    rtol = 1e-4 if dtype == np.float32 else 1e-11
    notes: list[str] = []

    def funcgrad_cuda():
        f = fg.jit(lambda a, b: a @ b, backend="cuda")
        notes.append(host_ops_note(f, a, b))
        da, db = fg.device_put((a, b))
        run = synced(lambda: f(da, db))
        why = device_mismatch(a[:16] @ b, to_host(run())[:16], rtol)
        if why is not None:
            raise AssertionError(f"rows 0-15 differ from NumPy: {why}")
        return run

    def cublas():
        import cupy

        ca, cb = cupy.asarray(a), cupy.asarray(b)
        return synced(lambda: ca @ cb)

    def summary(rows) -> str:
        med, flops = _medians(rows), 2.0 * n ** 3
        lines = []
        for name, t in med.items():
            line = f"   {name}: {flops / t / 1e9:,.0f} GFLOP/s"
            if spec is not None:
                peak = spec.fp32_tflops if dtype == np.float32 else spec.fp64_tflops
                line += f", {flops / t / (peak * 1e12):.0%} of the {spec.name}'s peak ({peak} TFLOP/s)"
            lines.append(line)
        ours, blas = med.get("funcgrad cuda"), med.get("cuBLAS (CuPy)")
        if ours and blas:
            share = blas / ours
            target = (f" (target >= {TARGETS['matmul']:.0%} at 4096^2 float32: "
                      f"{_met(share >= TARGETS['matmul'])})") if (n, dtype) == (4096, np.float32) else ""
            lines.append(f"   funcgrad cuda reaches {share:.0%} of cuBLAS{target}")
        elif ours and not blas:
            lines.append("   (CuPy not installed: no cuBLAS figure; pip install cupy-cuda12x)")
        return "\n".join(lines) + "".join(notes[:1])

    cuda_c = contender("funcgrad cuda", funcgrad_cuda)
    blas_c = contender("cuBLAS (CuPy)", cublas, "cupy")
    have_cupy = importlib.util.find_spec("cupy") is not None
    contenders = [blas_c, cuda_c] if have_cupy else [cuda_c]
    return problem(f"matmul {n}^2 {np.dtype(dtype).name}", contenders,
                   check=lambda ref, got: device_mismatch(ref, got, rtol), summary=summary)


# -- fused elementwise against memory bandwidth ------------------------------------------------
def copy_bandwidth(nbytes: int, repeats: int = 20) -> float:
    """Measured device-to-device copy bandwidth (GB/s, bytes read + written) for ``nbytes`` arrays."""
    from numba import cuda

    src = cuda.device_array(nbytes, np.uint8)
    dst = cuda.device_array(nbytes, np.uint8)
    dst.copy_to_device(src)
    cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        dst.copy_to_device(src)
    cuda.synchronize()
    return 2 * nbytes * repeats / (time.perf_counter() - t0) / 1e9


def fused_problem(dtype, spec: GpuSpec | None, problem, contender):
    import funcgrad as fg
    import funcgrad.numpy as fnp

    x = (np.random.default_rng(0).standard_normal(FUSED_SIZE) * 2.0).astype(dtype)
    f = fg.jit(lambda x: fnp.tanh(0.5 * x + 0.25) * 1.5, backend="cuda")
    nbytes = 2 * x.nbytes  # x read once, the result written once
    notes: list[str] = []

    def funcgrad_cuda():
        notes.append(host_ops_note(f, x))
        dx = fg.device_put(x)
        run = synced(lambda: f(dx))
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        why = device_mismatch(np.tanh(0.5 * x + 0.25) * 1.5, run(), rtol)
        if why is not None:
            raise AssertionError(f"differs from NumPy: {why}")
        return run

    def summary(rows) -> str:
        t = _medians(rows).get("funcgrad cuda")
        if t is None:
            return ""
        gbs, copy = nbytes / t / 1e9, copy_bandwidth(x.nbytes)
        lines = [(f"   funcgrad cuda: {gbs:,.0f} GB/s ({nbytes / 1e6:.0f} MB moved per call); a "
                  f"device-to-device copy of the same bytes: {copy:,.0f} GB/s ({gbs / copy:.0%})")]
        if spec is not None:
            share = gbs / spec.bandwidth_gbs
            lines.append(f"   {share:.0%} of the {spec.name}'s {spec.bandwidth_gbs:,} GB/s "
                         f"(target >= {TARGETS['bandwidth']:.0%}: {_met(share >= TARGETS['bandwidth'])})")
        return "\n".join(lines) + "".join(notes[:1])

    return problem(f"fused tanh(a*x+b)*c {FUSED_SIZE:,} {np.dtype(dtype).name}",
                   [contender("funcgrad cuda", funcgrad_cuda)], summary=summary)


# -- an MLP training step against the Numba CPU backend -----------------------------------------
def mlp_problem(problem, contender, mlp_loss):
    """An SGD step (learning rate 0.1) of ``mlp_loss(fnp, p, x, y_onehot)``: the new parameters and the loss.

    The loss is run.py's (``W1, b1, ...``; a max-shifted logsumexp cross-entropy), written
    with matmul, max, sum and elementwise ops, which all have CUDA kernels.
    """
    import funcgrad as fg
    import funcgrad.numpy as fnp

    def mlp_step(p, x, y):
        value, g = fg.value_and_grad(lambda p: mlp_loss(fnp, p, x, y))(p)
        return fg.tree.map(lambda w, d: w - 0.1 * d, p, g), value

    rng = np.random.default_rng(0)
    p = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(MLP_SIZES), start=1):
        p[f"W{i}"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        p[f"b{i}"] = np.zeros(n_out, np.float32)
    x = rng.standard_normal((MLP_BATCH, MLP_SIZES[0])).astype(np.float32)
    y = np.eye(MLP_SIZES[-1], dtype=np.float32)[rng.integers(0, MLP_SIZES[-1], size=MLP_BATCH)]
    notes: list[str] = []

    def numba_cpu():
        step = fg.jit(mlp_step, backend="numba")
        step(p, x, y)
        return lambda: step(p, x, y)

    def funcgrad_cuda(batch_on_device: bool):
        def make():
            step = fg.jit(mlp_step, backend="cuda")
            if not notes:
                notes.append(host_ops_note(step, p, x, y))
            dp = fg.device_put(p)
            batch = fg.device_put((x, y)) if batch_on_device else (x, y)
            run = synced(lambda: step(dp, *batch))
            run()
            return run
        return make

    def summary(rows) -> str:
        import numba

        med, cpu = _medians(rows), _medians(rows).get("funcgrad numba (CPU)")
        lines = [(f"   (the Numba CPU backend ran on {numba.get_num_threads()} thread(s); "
                  "--threads 0 gives it every core)")]
        for name, t in med.items():
            if cpu and name != "funcgrad numba (CPU)":
                lines.append(f"   {name}: {cpu / t:.1f}x faster than the Numba CPU backend (target "
                             f">= {TARGETS['mlp']:g}x: {_met(cpu / t >= TARGETS['mlp'])})")
        return "\n".join(lines) + "".join(notes[:1])

    sizes = "-".join(map(str, MLP_SIZES))
    return problem(f"mlp step {sizes} batch {MLP_BATCH} float32", [
        contender("funcgrad numba (CPU)", numba_cpu),
        contender("funcgrad cuda (batch on device)", funcgrad_cuda(True)),
        contender("funcgrad cuda (batch from host)", funcgrad_cuda(False)),
    ], check=lambda ref, got: device_mismatch(ref, got, 1e-3), summary=summary)


def gpu_problems(quick: bool, problem, contender, mlp_loss) -> list:
    """The ``cuda`` case (``problem``/``contender``: run.py's classes, ``mlp_loss`` its MLP loss);
    ``[]`` with a message without a GPU."""
    why = gpu_missing()
    if why is not None:
        print(f"   skipped: {why}")
        return []
    from numba import cuda

    name = getattr(cuda.get_current_device(), "name", "unknown device")
    name = name.decode() if isinstance(name, bytes) else str(name)
    spec = gpu_spec(name)
    print(f"   device: {name}; " + (f"peak figures from the {spec.source}" if spec else
                                    "not in benchmarks/gpu.py's KNOWN_GPUS: no peak figures"))
    out = [matmul_problem(n, dtype, spec, problem, contender)
           for n in (MATMUL_SIZES_QUICK if quick else MATMUL_SIZES) for dtype in (np.float32, np.float64)]
    out += [fused_problem(dtype, spec, problem, contender) for dtype in (np.float32, np.float64)]
    out.append(mlp_problem(problem, contender, mlp_loss))
    return out


if __name__ == "__main__":
    reason = gpu_missing()
    print("the GPU section runs here: python benchmarks/run.py --case cuda --threads 0"
          if reason is None else f"skipped: {reason}")
