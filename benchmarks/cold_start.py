"""One cold start, in this fresh process: the child that the ``cold_start`` benchmark case runs.

``python benchmarks/cold_start.py MODE`` does one thing in a new interpreter and
prints one JSON line: ``import_s`` (the imports after ``import numpy``),
``call_s`` (the first call: building the function and running it once),
``numba`` (whether numba was imported by then), ``backend`` (the backend the
timed call ran on, for the jit modes), ``calls`` (how many calls were timed)
and ``result`` (what the call computed, for the parent to check against the
hand-written NumPy gradient).

MODE is one of:

* ``import-numpy``, ``import-funcgrad``, ``import-jax``:
  ``import numpy`` and then the library with its NumPy-like namespace
  (``funcgrad.numpy``, ``jax.numpy``; nothing for ``import-numpy``); the
  result is ``[numba imported?]`` (``import funcgrad`` must not import numba);
* ``hand``: the hand-written NumPy gradient of :func:`loss` (after
  ``import numpy, funcgrad``, so its process costs as much as the others' up
  to the first call);
* ``eager``: ``funcgrad.grad(loss)`` once, no jit;
* ``jit``: ``funcgrad.jit(funcgrad.grad(loss))`` once, on the default backend.
  Tiered: this first call runs on the NumPy backend while Numba loads in the
  background;
* ``jit-ready``: the same function called in a loop (as a training loop would)
  until a call has run on the backend the default settles on (Numba); ``call_s``
  is the time from building the function to the end of that call;
* ``jit-numba``, ``jit-numpy``: ``funcgrad.jit(funcgrad.grad(loss), backend=...)``
  once: Numba loaded and its kernels compiled (or loaded from the disk cache)
  in the call, as without tiering; or the NumPy backend.  (The Numba disk cache
  is wherever ``NUMBA_CACHE_DIR`` points, which the parent sets.)
* ``jax-jit``: ``jax.jit(jax.grad(loss))`` once (float64), after ``import numpy, jax``.

The parent times each whole process from outside, interleaved; these in-process
figures are the cross-check without the interpreter's start-up.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import json
import sys

import numpy as np

T_NUMPY = time.perf_counter()

MODES = ("import-numpy", "import-funcgrad", "import-jax", "hand", "eager",
         "jit", "jit-ready", "jit-numba", "jit-numpy", "jax-jit")
#: ``jit-ready`` gives up (and fails) after this many seconds.
READY_TIMEOUT_S = 120.0


#: What each import mode imports after numpy (its NumPy-like namespace too).
IMPORTS = {"import-numpy": None, "import-funcgrad": "funcgrad.numpy", "import-jax": "jax.numpy"}


def loss(xp, w, x):
    """A small loss with a matmul, a fused elementwise chain and a sum: ``sum(tanh(x @ w + 1) ** 2)``."""
    return xp.sum(xp.tanh(x @ w + 1.0) ** 2)


def hand_grad(w, x):
    """Hand-written gradient of :func:`loss` with respect to ``w``."""
    t = np.tanh(x @ w + 1.0)
    return x.T @ (2.0 * t * (1.0 - t * t))


def inputs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 4)), rng.normal(size=(16, 8))


def run(mode: str) -> dict:
    """Do ``mode`` once; the imports and the first call are timed separately."""
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    t0 = time.perf_counter()
    if mode.startswith("import-"):
        module = IMPORTS[mode]
        if module is not None:
            __import__(module)
        t1 = time.perf_counter()
        return {"import_s": t1 - t0, "call_s": 0.0, "result": [float("numba" in sys.modules)]}
    w, x = inputs()
    extra: dict = {}
    if mode == "jax-jit":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        t1 = time.perf_counter()
        g = jax.jit(jax.grad(lambda w, x: loss(jnp, w, x)))
        result = np.asarray(jax.block_until_ready(g(jnp.asarray(w), jnp.asarray(x))))
    else:
        import funcgrad as fg
        import funcgrad.numpy as fnp
        t1 = time.perf_counter()
        if mode == "hand":
            result = hand_grad(w, x)
        elif mode == "eager":
            result = fg.grad(lambda w, x: loss(fnp, w, x))(w, x)
        else:
            backend = {"jit-numpy": "numpy", "jit-numba": "numba"}.get(mode)
            f = fg.jit(fg.grad(lambda w, x: loss(fnp, w, x)), backend=backend)
            result = f(w, x)
            if mode == "jit-ready":
                result, calls = until_settled(f, w, x, t1)
                extra["calls"] = 1 + calls
            extra["backend"] = f.backend_name(w, x)
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "call_s": t2 - t1, "result": np.asarray(result).tolist(),
            **extra}


def until_settled(f, w, x, t_start: float):
    """Call ``f(w, x)`` until a call has run on the final default backend: ``(result, calls)``."""
    from funcgrad.backends import tiering_status

    calls = 0
    while True:
        # Read the state before the call: a call that starts after the switch runs on the
        # new backend (the first one recompiles), and ``backend_name`` then says so.
        status = tiering_status()
        result = f(w, x)
        calls += 1
        if status.state in ("ready", "failed") and f.backend_name(w, x) == status.default:
            return result, calls
        if time.perf_counter() - t_start > READY_TIMEOUT_S:
            raise SystemExit(f"the default backend did not settle in {READY_TIMEOUT_S:g} s: "
                             f"{tiering_status()}")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python benchmarks/cold_start.py MODE  (MODE: {', '.join(MODES)})")
    out = run(sys.argv[1])
    out.update(numpy_import_s=T_NUMPY - T0, numba=("numba" in sys.modules))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
