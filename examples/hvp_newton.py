"""Newton's method without a Hessian: conjugate gradient on Hessian-vector products, on Rosenbrock.

Run ``python examples/hvp_newton.py``.  Each Newton step solves ``H p = -g``
by conjugate gradient, which needs only products ``H v``; funcgrad gives them
as forward-over-reverse, ``jvp(grad(f), (x,), (v,))``, at the cost of a few
gradients and without ever forming the ``n x n`` matrix ``H``.  The step is
truncated at negative curvature and followed by a backtracking line search
(a line-search Newton-CG, Nocedal & Wright, Algorithm 7.1).  The HVP is checked
once against central differences of the gradient.

The function is the extended Rosenbrock function of Moré, Garbow & Hillstrom
(1981, problem 21) with its standard start (-1.2, 1, -1.2, 1, ...); its only
minimum is 0 at (1, ..., 1).  (The chained variant, ``scipy.optimize.rosen``,
also has a local minimum near (-1, 1, ..., 1) for n >= 4, which Newton's method
from this start can reach.)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

Vector = np.ndarray


def rosenbrock(x):
    """The extended Rosenbrock function: a sum over the pairs (x[2i], x[2i+1]); n is even."""
    odd, even = x[0::2], x[1::2]
    return fnp.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)


def standard_start(n: int) -> Vector:
    """The usual starting point (-1.2, 1, -1.2, 1, ...)."""
    x = np.ones(n)
    x[::2] = -1.2
    return x


def make_hvp(f: Callable) -> Callable[[Vector, Vector], Vector]:
    """``hvp(x, v) = H(x) @ v`` by forward-over-reverse differentiation, compiled with jit."""
    return fg.jit(lambda x, v: fg.jvp(fg.grad(f), (x,), (v,))[1])


def conjugate_gradient(hvp: Callable[[Vector], Vector], g: Vector, tol: float,
                       max_iter: int) -> tuple[Vector, int]:
    """Approximately solve ``H p = -g``; stop at residual ``tol`` or on negative curvature.

    Returns the step and the number of Hessian-vector products used.  If the
    first direction already has non-positive curvature, the step is ``-g``.
    """
    p = np.zeros_like(g)
    r = g.copy()                 # residual H p + g
    d = -r
    for i in range(max_iter):
        hd = hvp(d)
        curvature = d @ hd
        if curvature <= 0.0:
            return (-g if i == 0 else p), i + 1
        alpha = (r @ r) / curvature
        p = p + alpha * d
        r_new = r + alpha * hd
        if np.linalg.norm(r_new) < tol:
            return p, i + 1
        d = -r_new + (r_new @ r_new) / (r @ r) * d
        r = r_new
    return p, max_iter


def backtracking(f: Callable[[Vector], float], x: Vector, fx: float, g: Vector, p: Vector,
                 c: float = 1e-4, shrink: float = 0.5) -> float:
    """The largest step ``t`` in 1, 1/2, 1/4, ... with sufficient decrease (Armijo)."""
    t, slope = 1.0, g @ p
    while f(x + t * p) > fx + c * t * slope and t > 1e-12:
        t *= shrink
    return t


def newton_cg(f: Callable, x0: Vector, gtol: float, max_iter: int, cg_rtol: float = 1e-6,
              verbose: bool = True) -> tuple[Vector, list[tuple[int, float, float]], int]:
    """Minimise ``f`` from ``x0``; returns ``(x, history of (iteration, f, |g|), total HVPs)``."""
    value_and_grad = fg.jit(fg.value_and_grad(f))
    value = fg.jit(f)
    hvp = make_hvp(f)
    x, history, n_hvp = x0.astype(float), [], 0
    for k in range(max_iter + 1):
        fx, g = value_and_grad(x)
        fx, gnorm = float(fx), float(np.linalg.norm(g))
        history.append((k, fx, gnorm))
        if verbose:
            print(f"{k:4d}  f = {fx:.6e}  |g| = {gnorm:.3e}")
        if gnorm < gtol or k == max_iter:
            break
        # A loose solve gives little more than a steepest-descent step, which
        # crawls along Rosenbrock's valley; so CG solves to a small relative residual.
        p, used = conjugate_gradient(partial(hvp, x), g, cg_rtol * gnorm, max_iter=10 * x.size)
        n_hvp += used
        x = x + backtracking(lambda z: float(value(z)), x, fx, g, p) * p
    return x, history, n_hvp


def check_hvp(f: Callable, x: Vector, rng: np.random.Generator, eps: float = 1e-6) -> float:
    """Largest relative difference between the HVP and central differences of ``grad(f)``."""
    v = rng.standard_normal(x.size)
    grad = fg.grad(f)
    finite_difference = (grad(x + eps * v) - grad(x - eps * v)) / (2.0 * eps)
    exact = make_hvp(f)(x, v)
    return float(np.max(np.abs(exact - finite_difference)) / np.max(np.abs(exact)))


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="dimension, even (default 100)")
    parser.add_argument("--gtol", type=float, default=1e-10, help="stop when |g| < gtol")
    parser.add_argument("--max-iter", type=int, default=100, help="Newton iterations at most")
    parser.add_argument("--cg-rtol", type=float, default=1e-6,
                        help="CG stops at |H p + g| < cg_rtol |g| (default 1e-6)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the HVP check's direction")
    args = parser.parse_args(argv)
    if args.n < 2 or args.n % 2:
        parser.error(f"--n must be even and at least 2, got {args.n}")

    x0 = standard_start(args.n)
    hvp_error = check_hvp(rosenbrock, x0, np.random.default_rng(args.seed))
    print(f"HVP vs central differences of grad at the start: max relative difference "
          f"{hvp_error:.2e}")

    print(f"Newton-CG on the {args.n}-dimensional Rosenbrock function from (-1.2, 1, ...):")
    x, history, n_hvp = newton_cg(rosenbrock, x0, args.gtol, args.max_iter, args.cg_rtol)
    iterations, f_final, g_final = history[-1]
    distance = float(np.max(np.abs(x - 1.0)))
    converged = g_final < args.gtol
    print(f"{'converged' if converged else 'NOT converged'} after {iterations} iterations "
          f"({n_hvp} Hessian-vector products); max |x - 1| = {distance:.2e}")
    return {"x": x, "iterations": iterations, "f": f_final, "grad_norm": g_final,
            "hvp_products": n_hvp, "max_abs_error": distance, "converged": converged,
            "hvp_check": hvp_error, "history": history}


if __name__ == "__main__":
    main()
